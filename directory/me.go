package directory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// membershipDoc is one entry of the cross-tenant index of subjects: the
// user userID of tenant has the subject. Entries live under GlobalTenant,
// one per (subject, tenant, user), so that TenantsOf reads one index
// instead of every tenant.
type membershipDoc struct {
	ID      string `json:"id"`
	Subject string `json:"subject"`
	Tenant  string `json:"tenant"`
	UserID  string `json:"userId"`
}

// Attr exposes the entry's attributes to the query package.
func (m *membershipDoc) Attr(name string) any {
	switch name {
	case "id":
		return str(&m.ID)
	case "subject":
		return str(&m.Subject)
	case "tenant":
		return str(&m.Tenant)
	case "userId":
		return str(&m.UserID)
	}
	return nil
}

const membershipURN = "urn:userdir:schemas:Membership"

var membershipSchema = query.NewSchema(membershipURN, []query.AttrDef{
	idAttr(), exactAttr("subject", true), exactAttr("tenant", true), exactAttr("userId", true),
})

var membershipsKind = backend.Kind{
	Name:    membershipsKindName,
	Schema:  membershipSchema,
	Codec:   jsonCodec[membershipDoc, *membershipDoc]{name: "membership"},
	Indexes: []backend.Index{{Name: "subject", Attr: "subject"}},
}

// membershipID names the entry for (subject, tenant, user). The subject is
// hashed: it may be long and hold any character, and the id only has to
// be distinct.
func membershipID(subject, tenant, uid string) string {
	h := sha256.Sum256([]byte(subject))
	return hex.EncodeToString(h[:16]) + "~" + tenant + "~" + uid
}

// addMembership records that user uid of tenant has subject.
func (d *Directory) addMembership(ctx context.Context, tenant, uid, subject string) error {
	m := &membershipDoc{ID: membershipID(subject, tenant, uid), Subject: subject, Tenant: tenant, UserID: uid}
	if _, err := d.b.Create(ctx, GlobalTenant, membershipsKindName, m.ID, m); err != nil && !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	return nil
}

// dropMembership removes the entry for (subject, tenant, uid).
func (d *Directory) dropMembership(ctx context.Context, tenant, uid, subject string) error {
	err := d.b.Delete(ctx, GlobalTenant, membershipsKindName, membershipID(subject, tenant, uid), 0)
	if err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// dropStaleMembership removes the entry for (subject, tenant, uid) unless
// the user has that subject. It runs after a write has committed or
// failed, so it has no caller to report to: an entry it fails to remove
// is one TenantsOf checks against the user and skips.
func (d *Directory) dropStaleMembership(ctx context.Context, tenant, uid, subject string) {
	ctx = context.WithoutCancel(ctx)
	rec, err := d.b.Get(ctx, tenant, usersKindName, uid)
	if err == nil {
		if u, ok := rec.Doc.(*userDoc); ok && u.Subject == subject {
			return
		}
	} else if !isNotFound(err) {
		return
	}
	_ = d.dropMembership(ctx, tenant, uid, subject)
}

// Membership is a user a subject has in one tenant.
type Membership struct {
	Tenant string
	UserID string
	Status Status
}

// TenantsOf returns every tenant in which subject (an identity provider's
// `sub`) has a user that is not deleted, with that user, ordered by tenant
// and user id. It reads the cross-tenant index kept under GlobalTenant,
// then each user it names, so its cost grows with the subject's tenants,
// not with all tenants; an entry whose user no longer has the subject (a
// write cut short) is skipped.
func (d *Directory) TenantsOf(ctx context.Context, subject string) ([]Membership, error) {
	return observe(ctx, d, OpTenantsOf, "", "", func() ([]Membership, error) {
		if subject == "" {
			return nil, fieldErr("subject", "required")
		}
		if err := checkString("subject", subject, MaxStringLen); err != nil {
			return nil, err
		}
		entries, err := d.find(ctx, GlobalTenant, d.k.memberships, eq("subject", subject))
		if err != nil {
			return nil, err
		}
		var out []Membership
		for _, e := range entries {
			m := e.Doc.(*membershipDoc)
			rec, err := d.b.Get(ctx, m.Tenant, usersKindName, m.UserID)
			if isNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			u, ok := rec.Doc.(*userDoc)
			if !ok || u.Subject != subject || u.Status == StatusDeleted {
				continue
			}
			out = append(out, Membership{Tenant: m.Tenant, UserID: m.UserID, Status: u.Status})
		}
		slices.SortFunc(out, func(a, b Membership) int {
			if c := strings.Compare(a.Tenant, b.Tenant); c != 0 {
				return c
			}
			return strings.Compare(a.UserID, b.UserID)
		})
		return out, nil
	})
}

// Claims are the claims of a verified identity token that identify its
// user: the subject (`sub`) and the email address with whether the
// identity provider verified it.
type Claims struct {
	Subject       string
	Email         string
	EmailVerified bool
}

// ClaimsFromMap reads Claims from decoded JWT claims: "sub", "email" and
// "email_verified" (a JSON boolean, or the string "true" some providers
// send).
func ClaimsFromMap(m map[string]any) Claims {
	var c Claims
	c.Subject, _ = m["sub"].(string)
	c.Email, _ = m["email"].(string)
	switch v := m["email_verified"].(type) {
	case bool:
		c.EmailVerified = v
	case string:
		c.EmailVerified = strings.EqualFold(v, "true")
	}
	return c
}

// Me returns the user a verified token's claims name in this tenant: the
// user whose subject is the token's subject, else (when the token has no
// subject or no user has it, and the email is verified) the user with the
// token's email address. Deleted users are not found. ErrNotFound when no
// user matches; an ErrInvalid naming the field when several do.
func (h *Users) Me(ctx context.Context, c Claims, opts ...ReadOption) (User, error) {
	return observe(ctx, h.d, OpUserMe, h.tenant, "", func() (User, error) {
		proj, err := readProjection(opts)
		if err != nil {
			return User{}, err
		}
		rec, err := h.me(ctx, c)
		if err != nil {
			return User{}, err
		}
		return projected(rec, proj), nil
	})
}

func (h *Users) me(ctx context.Context, c Claims) (backend.Record, error) {
	if err := validTenant(h.tenant); err != nil {
		return backend.Record{}, err
	}
	type lookup struct {
		field, attr, value string
	}
	var tries []lookup
	if c.Subject != "" {
		tries = append(tries, lookup{"subject", "subject", c.Subject})
	}
	if c.Email != "" && c.EmailVerified {
		tries = append(tries, lookup{"email", "emails.value", c.Email})
	}
	for _, l := range tries {
		recs, err := h.d.find(ctx, h.tenant, h.d.k.users, allOf(eq(l.attr, l.value), ne("status", string(StatusDeleted))))
		if err != nil {
			return backend.Record{}, err
		}
		switch len(recs) {
		case 0:
			continue
		case 1:
			return recs[0], nil
		}
		return backend.Record{}, fieldErr(l.field, "the token's %s matches %d users", l.field, len(recs))
	}
	return backend.Record{}, &backend.Error{Op: "me", Kind: usersKindName, Err: ErrNotFound}
}

// UpdateMe updates the user Me finds for the claims, like Update. fn
// cannot change which user it is: the id is read-only. Email changes are
// audited like any other.
func (h *Users) UpdateMe(ctx context.Context, c Claims, fn func(*User) error, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserUpdate, h.tenant, "", func() (User, error) {
		rec, err := h.me(ctx, c)
		if err != nil {
			return User{}, err
		}
		return h.update(ctx, rec.ID, fn, opts, OpUserUpdate)
	})
}

// Permissions returns the user's effective permissions, sorted and
// without repeats: the union of the permissions of the roles it names and
// of the roles of the groups it is a member of. Roles and groups that no
// longer exist are skipped. It reads the user, its memberships, its
// groups and their roles: four reads, whatever their number.
func (h *Users) Permissions(ctx context.Context, id string) ([]string, error) {
	return observe(ctx, h.d, OpUserPermissions, h.tenant, id, func() ([]string, error) {
		if err := validTenant(h.tenant); err != nil {
			return nil, err
		}
		rec, err := h.get(ctx, id)
		if err != nil {
			return nil, err
		}
		var roleIDs []string
		for _, r := range rec.Doc.(*userDoc).Roles {
			roleIDs = append(roleIDs, r.Value)
		}
		groupIDs, err := h.d.groupsOf(ctx, h.tenant, id)
		if err != nil {
			return nil, err
		}
		if len(groupIDs) > 0 {
			groups, err := h.d.find(ctx, h.tenant, h.d.k.groups, in("id", groupIDs))
			if err != nil {
				return nil, err
			}
			for _, g := range groups {
				roleIDs = append(roleIDs, g.Doc.(*Group).Roles...)
			}
		}
		slices.Sort(roleIDs)
		roles, err := h.d.rolesByID(ctx, h.tenant, slices.Compact(roleIDs))
		if err != nil {
			return nil, err
		}
		perms := []string{}
		for _, r := range roles {
			perms = append(perms, r.Permissions...)
		}
		slices.Sort(perms)
		return slices.Compact(perms), nil
	})
}
