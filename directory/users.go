package directory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
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
// false means disabled; with neither the user is active). Read-only fields
// (id, schemas, groups, meta) are ignored. It returns the stored user.
func (h *Users) Create(ctx context.Context, u User) (User, error) {
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
	now := h.d.now().UTC()
	nu.ID = h.d.newID()
	nu.Groups = nil
	nu.Meta = Meta{Created: now, LastModified: now, Version: 1}
	return h.create(ctx, &userDoc{User: nu})
}

// create stores a prepared document and returns the user as callers see it.
func (h *Users) create(ctx context.Context, doc *userDoc) (User, error) {
	normalize(&doc.User)
	doc.Active, doc.Schemas = nil, nil
	rec, err := h.d.b.Create(ctx, h.tenant, usersKindName, doc.ID, doc)
	if err != nil {
		return User{}, translate(err)
	}
	h.d.cache.bump(h.tenant)
	return toUser(rec), nil
}

// toUser copies a stored record into a User a caller may own and modify.
func toUser(rec backend.Record) User {
	d := rec.Doc.(*userDoc)
	u := d.User.Clone()
	u.Meta.Version = rec.Version
	finish(&u)
	return u
}

// Get returns the user with the given id, including a deleted user.
func (h *Users) Get(ctx context.Context, id string, opts ...ReadOption) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	var rc readConfig
	for _, o := range opts {
		o(&rc)
	}
	var proj query.Projection
	if rc.attributes != "" || rc.excluded != "" {
		p, err := query.ParseProjection(rc.attributes, rc.excluded, userSchema)
		if err != nil {
			return User{}, err
		}
		proj = p
	}
	rec, err := h.get(ctx, id)
	if err != nil {
		return User{}, err
	}
	u := toUser(rec)
	if !proj.IsZero() {
		project(&u, proj)
	}
	return u, nil
}

func (h *Users) get(ctx context.Context, id string) (backend.Record, error) {
	if err := validID("id", id); err != nil {
		return backend.Record{}, err
	}
	rec, err := h.d.b.Get(ctx, h.tenant, usersKindName, id)
	if err != nil {
		return backend.Record{}, err
	}
	if _, ok := rec.Doc.(*userDoc); !ok {
		return backend.Record{}, fmt.Errorf("directory: backend returned a %T for a user", rec.Doc)
	}
	return rec, nil
}

// Update reads the user, calls fn with a copy, validates the result and
// writes it back conditionally on the version read. When another write
// intervenes it starts again (fn may run several times), unless IfVersion
// is given: then a stored version other than v is ErrConflict. fn may
// change any caller-writable field; status changes follow the lifecycle
// (DESIGN §2) and deleted users change status only through Restore.
// Setting Active flips the status between active and disabled. It returns
// the stored user.
func (h *Users) Update(ctx context.Context, id string, fn func(*User) error, opts ...WriteOption) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	return h.modify(ctx, id, wc.ifVersion, func(doc *userDoc) error {
		old := doc.User
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
		// Read-only fields keep their stored values whatever fn did.
		u.ID, u.Groups, u.Meta = old.ID, old.Groups, old.Meta
		doc.User = u
		return nil
	})
}

// maxRetryDelay caps the backoff between optimistic retries.
const maxRetryDelay = 5 * time.Millisecond

// modify is the read-modify-write loop behind every change of a stored
// user: fn edits a private copy of the document; the write is conditional
// on the version read, and retried on ErrConflict unless ifVersion pinned
// it.
func (h *Users) modify(ctx context.Context, id string, ifVersion int64, fn func(*userDoc) error) (User, error) {
	for attempt := 0; ; attempt++ {
		rec, err := h.get(ctx, id)
		if err != nil {
			return User{}, err
		}
		if ifVersion != 0 && rec.Version != ifVersion {
			return User{}, &backend.Error{Op: "update", Kind: usersKindName, ID: id, Err: ErrConflict}
		}
		cur := rec.Doc.(*userDoc)
		doc := &userDoc{User: cur.User.Clone(), RestoreTo: cur.RestoreTo}
		if err := fn(doc); err != nil {
			return User{}, err
		}
		normalize(&doc.User)
		doc.Active, doc.Schemas = nil, nil
		doc.Meta.Version = rec.Version + 1
		doc.Meta.LastModified = h.d.now().UTC()
		out, err := h.d.b.Replace(ctx, h.tenant, usersKindName, id, doc, rec.Version)
		if err == nil {
			h.d.cache.bump(h.tenant)
			return toUser(out), nil
		}
		if !errors.Is(err, ErrConflict) || ifVersion != 0 {
			return User{}, translate(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return User{}, err
		}
	}
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
func (h *Users) setStatus(ctx context.Context, id string, to Status, opts []WriteOption) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	return h.modify(ctx, id, wc.ifVersion, func(doc *userDoc) error {
		from := doc.Status
		switch {
		case to == StatusDeleted && from == StatusDeleted:
			return &TransitionError{From: from, To: to}
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
	return h.setStatus(ctx, id, StatusDisabled, opts)
}

// Enable moves a disabled, invited or provisioned user to active.
func (h *Users) Enable(ctx context.Context, id string, opts ...WriteOption) (User, error) {
	return h.setStatus(ctx, id, StatusActive, opts)
}

// Delete soft-deletes a user: its status becomes deleted, it leaves lists
// (unless they ask for deleted users), and Restore brings it back with the
// status it had. Its userName and emails stay reserved until Purge.
func (h *Users) Delete(ctx context.Context, id string, opts ...WriteOption) error {
	_, err := h.setStatus(ctx, id, StatusDeleted, opts)
	return err
}

// Restore brings a deleted user back with the status it had before Delete.
func (h *Users) Restore(ctx context.Context, id string, opts ...WriteOption) (User, error) {
	if err := validTenant(h.tenant); err != nil {
		return User{}, err
	}
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	return h.modify(ctx, id, wc.ifVersion, func(doc *userDoc) error {
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
}

// Purge removes a deleted user for good, freeing its userName and emails.
// Only a deleted user can be purged.
func (h *Users) Purge(ctx context.Context, id string, opts ...WriteOption) error {
	if err := validTenant(h.tenant); err != nil {
		return err
	}
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	rec, err := h.get(ctx, id)
	if err != nil {
		return err
	}
	if wc.ifVersion != 0 && rec.Version != wc.ifVersion {
		return &backend.Error{Op: "purge", Kind: usersKindName, ID: id, Err: ErrConflict}
	}
	if s := rec.Doc.(*userDoc).Status; s != StatusDeleted {
		return &TransitionError{From: s, To: "purged"}
	}
	if err := h.d.b.Delete(ctx, h.tenant, usersKindName, id, rec.Version); err != nil {
		return err
	}
	h.d.cache.bump(h.tenant)
	return nil
}

// Count returns how many users that are not deleted match filter ("" for
// all).
func (h *Users) Count(ctx context.Context, filter string) (int, error) {
	if err := validTenant(h.tenant); err != nil {
		return 0, err
	}
	p, err := h.prepare(ListOptions{Filter: filter})
	if err != nil {
		return 0, err
	}
	key := h.d.cache.key(h.tenant, "count", p.canon)
	if v, ok := h.d.cache.get(key); ok {
		return v.(int), nil
	}
	n, err := h.count(ctx, p)
	if err != nil {
		return 0, err
	}
	h.d.cache.put(key, n)
	return n, nil
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
