package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// The kinds the directory stores. Each is declared to the backend in New
// with its schema, indexes and codec; the backend knows nothing else of
// them.
const (
	usersKindName       = "users"
	rolesKindName       = "roles"
	groupsKindName      = "groups"
	membersKindName     = "members"
	invitationsKindName = "invitations"
	credentialsKindName = "credentials"
	auditKindName       = "audit"
	membershipsKindName = "memberships"
)

// GlobalTenant is the reserved tenant under which the directory keeps its
// cross-tenant records (the index of the tenants each subject belongs to,
// see TenantsOf). It is not a valid tenant for any handle.
const GlobalTenant = "_global"

// kindInfo is what the directory knows of one stored kind.
type kindInfo struct {
	kind   backend.Kind
	schema *query.Schema
	// projectable kinds accept ListOptions.Attributes (users).
	projectable bool
	// computed attributes are derived on read from the stored document
	// and the clock; a filter or sort on them is never pushed down.
	computed map[string]bool
	// view derives a record's computed attributes; nil when it has none.
	view func(now time.Time, r backend.Record) backend.Record
}

// see returns r as readers see it: with its computed attributes.
func (k *kindInfo) see(d *Directory, r backend.Record) backend.Record {
	if k.view == nil {
		return r
	}
	return k.view(d.now().UTC(), r)
}

// kinds is every kind a Directory stores.
type kinds struct {
	users, roles, groups, members, invitations, credentials, audit, memberships *kindInfo
}

func newKinds(uniqueEmails bool) kinds {
	return kinds{
		users:       &kindInfo{kind: usersKind(uniqueEmails), schema: userSchema, projectable: true},
		roles:       &kindInfo{kind: rolesKind, schema: roleSchema},
		groups:      &kindInfo{kind: groupsKind, schema: groupSchema},
		members:     &kindInfo{kind: membersKind, schema: memberSchema},
		invitations: &kindInfo{kind: invitationsKind, schema: invitationSchema, computed: map[string]bool{"status": true}, view: invitationView},
		credentials: &kindInfo{kind: credentialsKind, schema: credentialSchema},
		audit:       &kindInfo{kind: auditKind, schema: auditSchema},
		memberships: &kindInfo{kind: membershipsKind, schema: membershipSchema},
	}
}

func (k kinds) all() []backend.Kind {
	return []backend.Kind{
		k.users.kind, k.roles.kind, k.groups.kind, k.members.kind,
		k.invitations.kind, k.credentials.kind, k.audit.kind, k.memberships.kind,
	}
}

// jsonCodec stores documents of type *T as JSON, so a store's bytes are
// readable and numbers in free-form values keep their exact text.
type jsonCodec[T any, P interface {
	*T
	backend.Document
}] struct{ name string }

func (c jsonCodec[T, P]) Marshal(doc backend.Document) ([]byte, error) {
	d, ok := doc.(P)
	if !ok {
		return nil, fmt.Errorf("%s codec: unexpected document type %T", c.name, doc)
	}
	return json.Marshal(d)
}

func (c jsonCodec[T, P]) Unmarshal(b []byte) (backend.Document, error) {
	d := P(new(T))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(d); err != nil {
		return nil, fmt.Errorf("%s codec: %w", c.name, err)
	}
	return d, nil
}

// metaSchema is the meta attribute every versioned kind shares.
var metaSchema = query.AttrDef{Name: "meta", Type: query.TypeComplex, Required: true, Sub: []query.AttrDef{
	{Name: "created", Type: query.TypeDateTime, Required: true},
	{Name: "lastModified", Type: query.TypeDateTime, Required: true},
	{Name: "version", Type: query.TypeNumber, CaseExact: true, Required: true},
}}

// Attribute declarations shared by the kinds' schemas.
func strAttr(name string) query.AttrDef { return query.AttrDef{Name: name, Type: query.TypeString} }
func exactAttr(name string, required bool) query.AttrDef {
	return query.AttrDef{Name: name, Type: query.TypeString, CaseExact: true, Required: required}
}
func idAttr() query.AttrDef { return exactAttr("id", true) }
func timeAttr(name string, required bool) query.AttrDef {
	return query.AttrDef{Name: name, Type: query.TypeDateTime, Required: required}
}

// Writes. Every write of a tenant's record goes through these, so the
// tenant's cache generation is bumped after each commit, whatever the
// operation.

func (d *Directory) create(ctx context.Context, tenant, kind, id string, doc backend.Document) (backend.Record, error) {
	rec, err := d.b.Create(ctx, tenant, kind, id, doc)
	if err != nil {
		return backend.Record{}, translate(err)
	}
	d.cache.bump(tenant)
	return rec, nil
}

// createBatch stores items of one kind as create would store each, in
// one backend call when the backend is a backend.Batcher (one create each
// otherwise), and returns each item's error: nil for a stored item, whose
// record is then {item.ID, 1, item.Doc}.
func (d *Directory) createBatch(ctx context.Context, tenant, kind string, items []backend.BatchItem) []error {
	errs := make([]error, len(items))
	b, ok := d.b.(backend.Batcher)
	if !ok {
		for i, it := range items {
			_, errs[i] = d.create(ctx, tenant, kind, it.ID, it.Doc)
		}
		return errs
	}
	got, err := b.CreateBatch(ctx, tenant, kind, items)
	if err == nil && len(got) != len(items) {
		// Whatever of the batch was stored, the cache must not keep
		// what it had.
		d.cache.bump(tenant)
		err = fmt.Errorf("directory: backend reported %d outcomes for a batch of %d %s", len(got), len(items), kind)
	}
	stored := false
	for i := range errs {
		switch {
		case err != nil:
			errs[i] = err
		case got[i] != nil:
			errs[i] = translate(got[i])
		default:
			stored = true
		}
	}
	if stored {
		d.cache.bump(tenant)
	}
	return errs
}

func (d *Directory) replace(ctx context.Context, tenant, kind, id string, doc backend.Document, ifVersion int64) (backend.Record, error) {
	rec, err := d.b.Replace(ctx, tenant, kind, id, doc, ifVersion)
	if err != nil {
		return backend.Record{}, translate(err)
	}
	d.cache.bump(tenant)
	return rec, nil
}

func (d *Directory) delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error {
	if err := d.b.Delete(ctx, tenant, kind, id, ifVersion); err != nil {
		return err
	}
	d.cache.bump(tenant)
	return nil
}

// deleteIfThere deletes a record that may already be gone.
func (d *Directory) deleteIfThere(ctx context.Context, tenant, kind, id string) error {
	if err := d.delete(ctx, tenant, kind, id, 0); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// getRecord reads a record of ki by an id a caller gave, as readers see
// it, checking that the backend returned a document of the kind's type.
func getRecord[P backend.Document](ctx context.Context, d *Directory, tenant string, ki *kindInfo, id string) (backend.Record, P, error) {
	var zero P
	if err := validID("id", id); err != nil {
		return backend.Record{}, zero, err
	}
	rec, err := d.b.Get(ctx, tenant, ki.kind.Name, id)
	if err != nil {
		return backend.Record{}, zero, err
	}
	if ki.view != nil {
		rec = ki.see(d, rec)
	}
	doc, ok := rec.Doc.(P)
	if !ok {
		return backend.Record{}, zero, fmt.Errorf("directory: backend returned a %T for %s", rec.Doc, ki.kind.Name)
	}
	return rec, doc, nil
}

// getOne is the Get of a kind: one record by id, converted for the
// caller, reported to observers as op.
func getOne[T any, P backend.Document](ctx context.Context, d *Directory, tenant string, ki *kindInfo, op Op, id string, conv func(backend.Record) T) (T, error) {
	return observe(ctx, d, op, tenant, id, func() (T, error) {
		var zero T
		if err := validTenant(tenant); err != nil {
			return zero, err
		}
		rec, _, err := getRecord[P](ctx, d, tenant, ki, id)
		if err != nil {
			return zero, err
		}
		return conv(rec), nil
	})
}

// errNoChange from an update function means the stored record is already
// as wanted: nothing is written.
var errNoChange = errors.New("no change")

// update is the optimistic read-modify-write of one record: fn gets the
// current record (as readers see it) and returns the document to store;
// the write is conditional on the version read and is retried on a
// concurrent write unless ifVersion pinned the version (a stored version
// other than ifVersion is ErrConflict). It returns the record read and the
// record written; when fn returns errNoChange both are the record read.
func (d *Directory) update(ctx context.Context, tenant string, ki *kindInfo, id string, ifVersion int64, fn func(cur backend.Record) (backend.Document, error)) (cur, out backend.Record, err error) {
	if err := validID("id", id); err != nil {
		return backend.Record{}, backend.Record{}, err
	}
	kind := ki.kind.Name
	for attempt := 0; ; attempt++ {
		rec, err := d.b.Get(ctx, tenant, kind, id)
		if err != nil {
			return backend.Record{}, backend.Record{}, err
		}
		rec = ki.see(d, rec)
		if ifVersion != 0 && rec.Version != ifVersion {
			return backend.Record{}, backend.Record{}, &backend.Error{Op: "update", Kind: kind, ID: id, Err: ErrConflict}
		}
		doc, err := fn(rec)
		if errors.Is(err, errNoChange) {
			return rec, rec, nil
		}
		if err != nil {
			return backend.Record{}, backend.Record{}, err
		}
		written, err := d.replace(ctx, tenant, kind, id, doc, rec.Version)
		if err == nil {
			return rec, ki.see(d, written), nil
		}
		if !errors.Is(err, ErrConflict) || ifVersion != 0 {
			return backend.Record{}, backend.Record{}, err
		}
		if err := backoff(ctx, attempt); err != nil {
			return backend.Record{}, backend.Record{}, err
		}
	}
}

// newMeta is the meta of a record created now.
func newMeta(now time.Time) Meta { return Meta{Created: now, LastModified: now, Version: 1} }

// isNotFound reports whether err means the record is not there.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// listKind returns one page of the records of a kind other than users
// that match opts and the mandatory conditions extra.
func listKind[T any](ctx context.Context, d *Directory, tenant string, ki *kindInfo, opts ListOptions, conv func(backend.Record) T, clone func(T) T, extra ...query.Expr) (PageOf[T], error) {
	if err := validTenant(tenant); err != nil {
		return PageOf[T]{}, err
	}
	if _, err := checkPaging(opts); err != nil {
		return PageOf[T]{}, err
	}
	if err := usersOnly(ki, opts); err != nil {
		return PageOf[T]{}, err
	}
	p, err := d.prepare(ki, opts, extra...)
	if err != nil {
		return PageOf[T]{}, err
	}
	return listPage(ctx, d, tenant, p, opts, func(t *T, r backend.Record) { *t = conv(r) }, clone)
}

// countKind counts the records of a kind other than users that match
// filter and the mandatory conditions extra.
func countKind(ctx context.Context, d *Directory, tenant string, ki *kindInfo, filter string, extra ...query.Expr) (int, error) {
	if err := validTenant(tenant); err != nil {
		return 0, err
	}
	p, err := d.prepare(ki, ListOptions{Filter: filter}, extra...)
	if err != nil {
		return 0, err
	}
	return d.countCached(ctx, tenant, p)
}

// usersOnly refuses the list options that only users have.
func usersOnly(ki *kindInfo, opts ListOptions) error {
	switch {
	case opts.Deleted != ExcludeDeleted:
		return fieldErr("deleted", "only users are soft-deleted, not %s", ki.kind.Name)
	case opts.IncludeRoles:
		return fieldErr("includeRoles", "only users name roles to include, not %s", ki.kind.Name)
	}
	return nil
}

// writeOptions collects write options.
func writeOptions(opts []WriteOption) writeConfig {
	var wc writeConfig
	for _, o := range opts {
		o(&wc)
	}
	return wc
}
