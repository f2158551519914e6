package directory

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Users is the handle for the users of one tenant. Every call is scoped to
// that tenant: no call reads or writes another tenant's users.
type Users struct {
	d      *Directory
	tenant string
}

// Tenant returns the tenant this handle is scoped to.
func (h *Users) Tenant() string { return h.tenant }

// ReadOption adjusts a read.
type ReadOption func(*readConfig)

type readConfig struct {
	attributes, excluded string
}

// Project limits the attributes a read returns: attributes lists those to
// return, excluded those to leave out (comma-separated SCIM paths; at most
// one of the two may be non-empty). id and schemas are always returned.
func Project(attributes, excluded string) ReadOption {
	return func(c *readConfig) { c.attributes, c.excluded = attributes, excluded }
}

// WriteOption adjusts a write.
type WriteOption func(*writeConfig)

type writeConfig struct {
	ifVersion int64
}

// IfVersion makes a write conditional: it fails with ErrConflict unless the
// stored user's meta.version is v, and it is then not retried.
func IfVersion(v int64) WriteOption {
	return func(c *writeConfig) { c.ifVersion = v }
}

// Create validates u and stores it as a new user of the tenant, with a new
// id, meta and status (DESIGN §2: status wins; if only active is given,
// false means disabled; with neither the user is active). Every role it
// names must exist. Read-only fields (id, schemas, groups, meta) are
// ignored. It returns the stored user.
func (h *Users) Create(ctx context.Context, u User) (User, error) {
	return observe(ctx, h.d, OpUserCreate, h.tenant, "", func() (User, error) {
		if err := validTenant(h.tenant); err != nil {
			return User{}, err
		}
		nu := u.Clone()
		if err := validate(&nu); err != nil {
			return User{}, err
		}
		nu.Status = inputStatus(&nu)
		if !initialStatuses[nu.Status] {
			return User{}, fieldErr("status", "a new user cannot be %s", nu.Status)
		}
		if err := h.d.checkRoles(ctx, h.tenant, nu.Roles, nil); err != nil {
			return User{}, err
		}
		now := h.d.now().UTC()
		nu.ID = h.d.newID()
		nu.Groups = nil
		nu.Meta = Meta{Created: now, LastModified: now, Version: 1}
		return h.create(ctx, &userDoc{User: nu}, OpUserCreate)
	})
}

// create stores a prepared document and returns the user as callers see
// it. The subject's membership record (TenantsOf) is written before the
// user, so that every user with a subject has one; when the user cannot
// be stored, the record is taken back.
func (h *Users) create(ctx context.Context, doc *userDoc, op Op) (User, error) {
	seal(doc)
	if doc.Subject != "" {
		if err := h.d.addMembership(ctx, h.tenant, doc.ID, doc.Subject); err != nil {
			return User{}, err
		}
	}
	rec, err := h.d.create(ctx, h.tenant, usersKindName, doc.ID, doc)
	if err != nil {
		if doc.Subject != "" {
			h.d.dropStaleMembership(ctx, h.tenant, doc.ID, doc.Subject)
		}
		return User{}, err
	}
	return toUser(rec), h.d.audit(ctx, h.tenant, h.created(doc, op))
}

// seal puts a user's document in its stored form: normalized, without
// the computed fields. It is the last change before the document is
// stored.
func seal(doc *userDoc) {
	normalize(&doc.User)
	doc.Active, doc.Schemas = nil, nil
	doc.scalarClaims = hasScalarClaims(doc.Claims)
}

// created is the audit entry of the creation of a user by op.
func (h *Users) created(doc *userDoc, op Op) AuditEntry {
	return AuditEntry{Action: op, Kind: usersKindName, Target: doc.ID, User: doc.ID, Changes: h.d.changes(nil, &doc.User)}
}

// toUser copies a stored record into a User a caller may own and modify.
func toUser(rec backend.Record) User {
	var u User
	toUserInto(&u, rec)
	return u
}

// toUserInto sets *u to toUser(rec).
func toUserInto(u *User, rec backend.Record) {
	doc := rec.Doc.(*userDoc)
	doc.User.cloneInto(u, doc.scalarClaims)
	u.Meta.Version = rec.Version
	finish(u)
}

// Get returns the user with the given id, including a deleted user.
func (h *Users) Get(ctx context.Context, id string, opts ...ReadOption) (u User, err error) {
	if len(h.d.observers) > 0 {
		return observe(ctx, h.d, OpUserGet, h.tenant, id, func() (User, error) {
			var got User
			err := h.getInto(ctx, id, opts, &got)
			return got, err
		})
	}
	err = h.getInto(ctx, id, opts, &u) // in place: see getInto
	return u, err
}

// getInto sets *u to the user with the given id, as Get returns it. The
// User is filled in place: it is large, and Get is the hottest call.
func (h *Users) getInto(ctx context.Context, id string, opts []ReadOption, u *User) error {
	if err := validTenant(h.tenant); err != nil {
		return err
	}
	proj, err := readProjection(opts)
	if err != nil {
		return err
	}
	rec, err := h.get(ctx, id)
	if err != nil {
		return err
	}
	projectInto(u, rec, proj)
	return nil
}

// readProjection returns the projection read options ask for.
func readProjection(opts []ReadOption) (query.Projection, error) {
	if len(opts) == 0 {
		return query.Projection{}, nil
	}
	var rc readConfig
	for _, o := range opts {
		o(&rc)
	}
	if rc.attributes == "" && rc.excluded == "" {
		return query.Projection{}, nil
	}
	return query.ParseProjection(rc.attributes, rc.excluded, userSchema)
}

// projected is the user of rec with the projection applied, for a caller
// to own: rec's document is handed on as it is when the backend made it
// for this read alone (Record.Owned), and copied otherwise. The directory
// must not use rec again.
func projected(rec backend.Record, proj query.Projection) User {
	var u User
	projectInto(&u, rec, proj)
	return u
}

// projectInto sets *u to projected(rec, proj).
func projectInto(u *User, rec backend.Record, proj query.Projection) {
	if rec.Owned {
		*u = rec.Doc.(*userDoc).User
		u.Meta.Version = rec.Version
		finish(u)
	} else {
		toUserInto(u, rec)
	}
	if !proj.IsZero() {
		project(u, proj)
	}
}

func (h *Users) get(ctx context.Context, id string) (backend.Record, error) {
	rec, _, err := getRecord[*userDoc](ctx, h.d, h.tenant, h.d.k.users, id)
	return rec, err
}

// Update reads the user, calls fn with a copy, validates the result and
// writes it back conditionally on the version read. When another write
// intervenes it starts again (fn may run several times), unless IfVersion
// is given: then a stored version other than v is ErrConflict. fn may
// change any caller-writable field; status changes follow the lifecycle
// (DESIGN §2) and deleted users change status only through Restore. Roles
// it adds must exist. Setting Active flips the status between active and
// disabled. An anonymized user cannot be changed. It returns the stored
// user.
func (h *Users) Update(ctx context.Context, id string, fn func(*User) error, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserUpdate, h.tenant, id, func() (User, error) {
		return h.update(ctx, id, fn, opts, OpUserUpdate)
	})
}

func (h *Users) update(ctx context.Context, id string, fn func(*User) error, opts []WriteOption, op Op) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	return h.modify(ctx, id, writeOptions(opts).ifVersion, op, func(doc *userDoc) error {
		old := doc.User
		if doc.Anonymized {
			return &TransitionError{From: StatusAnonymized, To: "changed"}
		}
		u := old.Clone()
		finish(&u)
		if err := fn(&u); err != nil {
			return err
		}
		if err := validate(&u); err != nil {
			return err
		}
		if u.Status == old.Status && u.Active != nil && *u.Active != (old.Status == StatusActive) {
			u.Status = StatusDisabled
			if *u.Active {
				u.Status = StatusActive
			}
		}
		if u.Status == "" {
			u.Status = old.Status
		}
		if u.Status != old.Status {
			if old.Status == StatusDeleted {
				return &TransitionError{From: old.Status, To: u.Status}
			}
			if err := checkTransition(old.Status, u.Status); err != nil {
				return err
			}
			if u.Status == StatusDeleted {
				doc.RestoreTo = old.Status
			}
		}
		if err := h.d.checkRoles(ctx, h.tenant, u.Roles, old.Roles); err != nil {
			return err
		}
		// Read-only fields keep their stored values whatever fn did.
		u.ID, u.Groups, u.Meta = old.ID, old.Groups, old.Meta
		// fn may keep u and change it after Update returns: the stored
		// document shares none of its slices or pointers.
		u.cloneInto(&doc.User, false)
		return nil
	})
}

// maxRetryDelay caps the backoff between optimistic retries.
const maxRetryDelay = 5 * time.Millisecond

// modify is the read-modify-write behind every change of a stored user:
// fn edits a private copy of the document (or returns errNoChange); the
// write is conditional on the version read, and retried on ErrConflict
// unless ifVersion pinned it. The write is audited as op; with op "" it
// is not (it mirrors a change audited elsewhere: a group's membership or
// name).
//
// A new subject's membership record (TenantsOf) is written before the
// user and the old subject's after it, so every user with a subject has
// one; a record left behind by a failure names a user that no longer has
// that subject, which TenantsOf checks and skips.
func (h *Users) modify(ctx context.Context, id string, ifVersion int64, op Op, fn func(*userDoc) error) (User, error) {
	var subjects []string // subjects whose membership records an attempt wrote
	cur, out, err := h.d.update(ctx, h.tenant, h.d.k.users, id, ifVersion, func(rec backend.Record) (backend.Document, error) {
		c, ok := rec.Doc.(*userDoc)
		if !ok {
			return nil, fmt.Errorf("directory: backend returned a %T for a user", rec.Doc)
		}
		doc := &userDoc{User: c.User.Clone(), RestoreTo: c.RestoreTo, Anonymized: c.Anonymized}
		if err := fn(doc); err != nil {
			return nil, err
		}
		doc.Meta.Version = rec.Version + 1
		doc.Meta.LastModified = h.d.now().UTC()
		seal(doc)
		if doc.Subject != "" && doc.Subject != c.Subject {
			if err := h.d.addMembership(ctx, h.tenant, id, doc.Subject); err != nil {
				return nil, err
			}
			subjects = append(subjects, doc.Subject)
		}
		return doc, nil
	})
	if err != nil {
		for _, s := range subjects {
			h.d.dropStaleMembership(ctx, h.tenant, id, s)
		}
		return User{}, err
	}
	old, nu := cur.Doc.(*userDoc), out.Doc.(*userDoc)
	for _, s := range append(subjects, old.Subject) {
		if s != "" && s != nu.Subject {
			h.d.dropStaleMembership(ctx, h.tenant, id, s)
		}
	}
	u := toUser(out)
	if op == "" || cur.Version == out.Version {
		return u, nil
	}
	return u, h.d.audit(ctx, h.tenant, AuditEntry{Action: op, Kind: usersKindName, Target: id, User: id, Changes: h.d.changes(&old.User, &nu.User)})
}

// backoff waits a little before an optimistic retry, so that many writers
// of one record make progress instead of colliding in lock step.
func backoff(ctx context.Context, attempt int) error {
	if attempt < 2 {
		return ctx.Err()
	}
	d := time.Duration(rand.Int64N(int64(min(time.Duration(attempt)*50*time.Microsecond, maxRetryDelay))))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// setStatus moves a user to another status, checking the lifecycle.
func (h *Users) setStatus(ctx context.Context, id string, to Status, opts []WriteOption, op Op) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	return h.modify(ctx, id, writeOptions(opts).ifVersion, op, func(doc *userDoc) error {
		from := doc.Status
		switch {
		case doc.Anonymized:
			return &TransitionError{From: StatusAnonymized, To: to}
		case from == StatusDeleted:
			return &TransitionError{From: from, To: to}
		case from == to:
			return nil
		}
		if err := checkTransition(from, to); err != nil {
			return err
		}
		if to == StatusDeleted {
			doc.RestoreTo = from
		}
		doc.Status = to
		return nil
	})
}

// Disable moves an active or provisioned user to disabled.
func (h *Users) Disable(ctx context.Context, id string, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserDisable, h.tenant, id, func() (User, error) {
		return h.setStatus(ctx, id, StatusDisabled, opts, OpUserDisable)
	})
}

// Enable moves a disabled, invited or provisioned user to active.
func (h *Users) Enable(ctx context.Context, id string, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserEnable, h.tenant, id, func() (User, error) {
		return h.setStatus(ctx, id, StatusActive, opts, OpUserEnable)
	})
}

// Delete soft-deletes a user: its status becomes deleted, it leaves lists
// (unless they ask for deleted users), and Restore brings it back with the
// status it had. Its userName and emails stay reserved until Purge; its
// groups, credentials and invitations stay too.
func (h *Users) Delete(ctx context.Context, id string, opts ...WriteOption) error {
	return observeErr(ctx, h.d, OpUserDelete, h.tenant, id, func() error {
		_, err := h.setStatus(ctx, id, StatusDeleted, opts, OpUserDelete)
		return err
	})
}

// Restore brings a deleted user back with the status it had before Delete.
// An anonymized user cannot be restored.
func (h *Users) Restore(ctx context.Context, id string, opts ...WriteOption) (User, error) {
	return observe(ctx, h.d, OpUserRestore, h.tenant, id, func() (User, error) {
		if err := validTenant(h.tenant); err != nil {
			return User{}, err
		}
		return h.modify(ctx, id, writeOptions(opts).ifVersion, OpUserRestore, func(doc *userDoc) error {
			if doc.Anonymized {
				return &TransitionError{From: StatusAnonymized, To: "restored"}
			}
			if doc.Status != StatusDeleted {
				return &TransitionError{From: doc.Status, To: "restored"}
			}
			to := doc.RestoreTo
			if to == "" {
				to = StatusActive
			}
			doc.Status, doc.RestoreTo = to, ""
			return nil
		})
	})
}

// Purge removes a deleted user for good, freeing its userName and emails,
// with everything that is only about it: its credentials, invitations,
// group memberships and TenantsOf entry. Only a deleted user can be
// purged. Those go first and the user last, so a Purge cut short leaves a
// deleted user that calling Purge again removes. The audit trail keeps
// its entries about the user (Anonymize scrubs them).
func (h *Users) Purge(ctx context.Context, id string, opts ...WriteOption) error {
	return observeErr(ctx, h.d, OpUserPurge, h.tenant, id, func() error {
		if err := validTenant(h.tenant); err != nil {
			return err
		}
		rec, err := h.get(ctx, id)
		if err != nil {
			return err
		}
		if v := writeOptions(opts).ifVersion; v != 0 && rec.Version != v {
			return &backend.Error{Op: "purge", Kind: usersKindName, ID: id, Err: ErrConflict}
		}
		doc := rec.Doc.(*userDoc)
		if doc.Status != StatusDeleted {
			return &TransitionError{From: doc.Status, To: "purged"}
		}
		if err := h.dropDependents(ctx, id, doc.Subject); err != nil {
			return err
		}
		if err := h.d.delete(ctx, h.tenant, usersKindName, id, rec.Version); err != nil {
			return err
		}
		return h.d.audit(ctx, h.tenant, AuditEntry{Action: OpUserPurge, Kind: usersKindName, Target: id, User: id})
	})
}

// dropDependents deletes the records that exist only for a user: its
// credentials, invitations, group memberships and its subject's
// membership record. It leaves the user's own groups[] entries alone: the
// caller deletes or rewrites the user next.
func (h *Users) dropDependents(ctx context.Context, id, subject string) error {
	for _, dep := range []struct {
		ki   *kindInfo
		attr string
	}{
		{h.d.k.credentials, "userId"},
		{h.d.k.invitations, "userId"},
		{h.d.k.members, "user"},
	} {
		recs, err := h.d.find(ctx, h.tenant, dep.ki, eq(dep.attr, id))
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := h.d.deleteIfThere(ctx, h.tenant, dep.ki.kind.Name, r.ID); err != nil {
				return err
			}
		}
	}
	if subject != "" {
		return h.d.dropMembership(ctx, h.tenant, id, subject)
	}
	return nil
}

// Count returns how many users that are not deleted match filter ("" for
// all).
func (h *Users) Count(ctx context.Context, filter string) (int, error) {
	return observe(ctx, h.d, OpUserCount, h.tenant, "", func() (int, error) {
		if err := validTenant(h.tenant); err != nil {
			return 0, err
		}
		p, err := h.prepare(ListOptions{Filter: filter})
		if err != nil {
			return 0, err
		}
		return h.d.countCached(ctx, h.tenant, p)
	})
}

// setGroupRef makes the user show its membership of group with display,
// without auditing it (the membership change is audited).
func (h *Users) setGroupRef(ctx context.Context, uid, group, display string) error {
	_, err := h.modify(ctx, uid, 0, "", func(doc *userDoc) error {
		i := slices.IndexFunc(doc.Groups, func(g GroupRef) bool { return g.Value == group })
		switch {
		case i < 0:
			doc.Groups = append(doc.Groups, GroupRef{Value: group, Display: display})
		case doc.Groups[i].Display == display:
			return errNoChange
		default:
			doc.Groups[i].Display = display
		}
		return nil
	})
	return err
}

// dropGroupRef removes the user's entry for group and reports whether it
// had one.
func (h *Users) dropGroupRef(ctx context.Context, uid, group string) (bool, error) {
	had := false
	_, err := h.modify(ctx, uid, 0, "", func(doc *userDoc) error {
		n := len(doc.Groups)
		doc.Groups = slices.DeleteFunc(doc.Groups, func(g GroupRef) bool { return g.Value == group })
		if had = len(doc.Groups) < n; !had {
			return errNoChange
		}
		return nil
	})
	return had, err
}

// All returns every user matching opts, page after page (opts.Limit is the
// page size; Cursor, StartIndex and Total are ignored). It stops at the
// first error, which it yields.
func (h *Users) All(ctx context.Context, opts ListOptions) iter.Seq2[User, error] {
	return func(yield func(User, error) bool) {
		opts.Cursor, opts.StartIndex, opts.Total = "", 0, false
		for {
			page, err := h.List(ctx, opts)
			if err != nil {
				yield(User{}, err)
				return
			}
			for _, u := range page.Users {
				if !yield(u, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			opts.Cursor = page.Next
		}
	}
}
