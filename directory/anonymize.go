package directory

import (
	"context"
	"errors"
	"time"

	"github.com/userdir/userdir/backend"
)

// Anonymize erases a user's personal data, irreversibly, from every place
// the directory keeps it, and keeps the user's id and statistics
// (meta.created, lastLoginAt, roles) so that counts and references still
// hold. It is allowed from any status:
//
//   - the user record: userName becomes "anonymized-<id>" (so it stays
//     unique), every other personal field (externalId, subject, name,
//     displayName, nickName, title, userType, locale, timezone, emails,
//     phoneNumbers, claims, the enterprise extension) is removed, and the
//     user is deleted for good: Restore, Update, Patch and the status
//     calls refuse it with an ErrInvalidTransition from
//     StatusAnonymized;
//   - the records about the user: its credentials metadata, invitations,
//     group memberships and TenantsOf entry are deleted;
//   - the audit trail: every old and new value in the entries about the
//     user becomes Tombstone, and so does the actor of every entry whose
//     actor was the user's userName, an email, externalId or subject;
//   - the query cache: the tenant's cached results are dropped, and so
//     are the prepared list requests of every tenant, whose filter texts
//     may name the user.
//
// Stores keep the bytes of overwritten records in their files until they
// compact them; call Directory.Compact afterwards to have them removed.
//
// The records about the user go first and the user record last, so an
// Anonymize cut short leaves the user's data in the user record only; and
// calling Anonymize on an anonymized user runs the scrubbing again (it
// never brings anything back), which also catches an audit entry of a
// write that raced with the first call.
func (h *Users) Anonymize(ctx context.Context, id string) (User, error) {
	return observe(ctx, h.d, OpUserAnonymize, h.tenant, id, func() (User, error) {
		if err := validTenant(h.tenant); err != nil {
			return User{}, err
		}
		defer h.d.cache.dropTenant(h.tenant)
		for attempt := 0; ; attempt++ {
			rec, err := h.get(ctx, id)
			if err != nil {
				return User{}, err
			}
			doc := rec.Doc.(*userDoc)
			pii := identifiers(&doc.User)
			if err := h.dropDependents(ctx, id, doc.Subject); err != nil {
				return User{}, err
			}
			if err := h.d.scrubAudit(ctx, h.tenant, id, pii); err != nil {
				return User{}, err
			}
			if doc.Anonymized {
				return toUser(rec), nil
			}
			tomb := anonymized(doc, h.d.now().UTC(), rec.Version+1)
			out, err := h.d.replace(ctx, h.tenant, usersKindName, id, tomb, rec.Version)
			if errors.Is(err, ErrConflict) {
				// A write slipped in, perhaps with new personal data:
				// start again from what it wrote.
				if err := backoff(ctx, attempt); err != nil {
					return User{}, err
				}
				continue
			}
			if err != nil {
				return User{}, err
			}
			changes := h.d.changes(&doc.User, &tomb.User)
			for i := range changes {
				if changes[i].Old != nil {
					changes[i].Old = tombstoneJSON
				}
				if changes[i].New != nil {
					changes[i].New = tombstoneJSON
				}
			}
			u := toUser(out)
			if err := h.d.audit(ctx, h.tenant, AuditEntry{Action: OpUserAnonymize, Kind: usersKindName, Target: id, User: id, Changes: changes}); err != nil {
				return u, err
			}
			// Entries of writes that committed before ours but were
			// audited after the first scrub.
			return u, h.d.scrubAudit(ctx, h.tenant, id, nil)
		}
	})
}

// identifiers are the values of u that may appear as an audit actor.
func identifiers(u *User) []string {
	var out []string
	for _, s := range []string{u.UserName, u.ExternalID, u.Subject} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, e := range u.Emails {
		out = append(out, e.Value)
	}
	return out
}

// anonymized is the record of doc's user after Anonymize: the id, a
// tombstone userName, the statistics, deleted for good.
func anonymized(doc *userDoc, now time.Time, version int64) *userDoc {
	u := User{
		ID:          doc.ID,
		UserName:    Tombstone + "-" + doc.ID,
		Status:      StatusDeleted,
		Roles:       doc.Roles,
		LastLoginAt: doc.LastLoginAt,
		Meta:        Meta{Created: doc.Meta.Created, LastModified: now, Version: version},
	}
	return &userDoc{User: u.Clone(), Anonymized: true}
}

// Compact asks the backend to remove from its files the bytes of records
// that were overwritten or deleted, such as a user's data before
// Anonymize, when it keeps them (backend.Compactor); with any other
// backend it does nothing. It may take long and slow other calls down.
func (d *Directory) Compact(ctx context.Context) error {
	return observeErr(ctx, d, OpCompact, "", "", func() error {
		c, ok := d.b.(backend.Compactor)
		if !ok {
			return nil
		}
		return c.Compact(ctx)
	})
}
