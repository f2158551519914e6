package memory

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/google/btree"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

var _ backend.Backend = (*Store)(nil)

// Store is an in-memory backend. The zero value is not usable; call New.
type Store struct {
	// defMu serializes Define; kinds is replaced wholesale so that every
	// other method reads the definitions without a lock.
	defMu sync.Mutex
	kinds atomic.Pointer[map[string]*kindDef]

	// tenantMu serializes adding a tenant to the tenants tree, which is
	// published copy-on-write like the tenants' own data.
	tenantMu sync.Mutex
	tenants  atomic.Pointer[btree.BTreeG[tenantItem]]

	// seed is the hash seed of every table's tries, chosen at random.
	seed maphash.Seed

	closed atomic.Bool
}

// New returns an empty store.
func New() *Store {
	s := &Store{seed: maphash.MakeSeed()}
	kinds := map[string]*kindDef{}
	s.kinds.Store(&kinds)
	s.tenants.Store(btree.NewG(degree, lessTenant))
	return s
}

// kindDef is a defined kind with its indexes compiled. It is immutable.
type kindDef struct {
	ord     int          // position of the kind's table in a snapshot
	seed    maphash.Seed // the store's hash seed, for the tables' tries
	kind    backend.Kind
	indexes []backend.CompiledIndex
	// ranges is what the indexes answer (backend.IndexPushdown), and
	// pushdown what Pushdown reports: made once, since both depend only
	// on the indexes.
	ranges, pushdown query.Pushdown
}

// tenant holds one tenant's current snapshot. Writers hold mu while they
// build and publish the next snapshot; readers only load snap.
type tenant struct {
	mu   sync.Mutex
	snap atomic.Pointer[snapshot]
}

type tenantItem struct {
	name string
	t    *tenant
}

func lessTenant(a, b tenantItem) bool { return a.name < b.name }

// Define declares kinds. Defining a kind again is allowed when its indexes
// are unchanged (it takes the new schema and codec); changing the indexes
// of a defined kind is an error, since the stored entries would not match.
func (s *Store) Define(ctx context.Context, kinds ...backend.Kind) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return &backend.Error{Op: "define", Err: backend.ErrClosed}
	}
	s.defMu.Lock()
	defer s.defMu.Unlock()

	cur := *s.kinds.Load()
	next := make(map[string]*kindDef, len(cur)+len(kinds))
	for name, kd := range cur {
		next[name] = kd
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		if k.Name == "" {
			return errors.New("memory: define: kind with empty name")
		}
		if seen[k.Name] {
			return fmt.Errorf("memory: define: kind %s given twice", k.Name)
		}
		seen[k.Name] = true
		if k.Schema == nil {
			return fmt.Errorf("memory: define: kind %s has no schema", k.Name)
		}
		compiled, err := backend.CompileIndexes(k)
		if err != nil {
			return fmt.Errorf("memory: define: %w", err)
		}
		names := map[string]bool{}
		for _, ix := range compiled {
			if ix.Name == "" {
				return fmt.Errorf("memory: define: kind %s: index on %s has no name", k.Name, ix.Attr.Name)
			}
			if names[ix.Name] {
				return fmt.Errorf("memory: define: kind %s: index %s declared twice", k.Name, ix.Name)
			}
			names[ix.Name] = true
			if ix.Attr.Type == query.TypeComplex {
				return fmt.Errorf("memory: define: kind %s: index %s: attribute %s is complex, not a scalar", k.Name, ix.Name, ix.Attr.Name)
			}
		}
		kd := &kindDef{ord: len(next), seed: s.seed, kind: k, indexes: compiled, ranges: backend.IndexPushdown(compiled)}
		kd.pushdown = everyFilter{kd.ranges}
		if old, ok := cur[k.Name]; ok {
			if !sameIndexes(old.indexes, compiled) {
				return fmt.Errorf("memory: define: kind %s: indexes differ from its earlier definition", k.Name)
			}
			kd.ord = old.ord
		}
		next[k.Name] = kd
	}
	s.kinds.Store(&next)
	return nil
}

// sameIndexes reports whether two compilations of a kind's indexes produce
// the same entries for every document.
func sameIndexes(a, b []backend.CompiledIndex) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || x.Unique != y.Unique || x.Attr.Name != y.Attr.Name ||
			x.Attr.CaseExact != y.Attr.CaseExact || x.Attr.Type != y.Attr.Type {
			return false
		}
	}
	return true
}

// Get returns the record, or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, kind, id string) (backend.Record, error) {
	const op = "get"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	if tb := s.table(tenant, kd); tb != nil {
		if r := tb.get(id); r != nil {
			return r.rec, nil
		}
	}
	return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound}
}

// Create stores a new record with version 1, or fails with ErrAlreadyExists
// when the id or a unique index key is taken.
func (s *Store) Create(ctx context.Context, tenant, kind, id string, doc backend.Document) (backend.Record, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	if doc == nil {
		return backend.Record{}, fmt.Errorf("memory: %s %s %q: nil document", op, kind, id)
	}
	// Keys are computed before taking the lock: folding is the costly part
	// of a write and depends only on the document.
	keys := kd.keysOf(doc)

	t := s.tenantFor(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed.Load() {
		return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	cur := t.snap.Load()
	tb := cur.table(kd)
	r := &row{rec: backend.Record{ID: id, Version: 1, Doc: doc}, keys: keys}
	if err := tb.refuse(kd, op, r); err != nil {
		return backend.Record{}, err
	}
	w := tb.write(kd)
	w.insert(r)
	t.snap.Store(cur.with(kd, w.t))
	return r.rec, nil
}

// Replace overwrites the record's document when its version is ifVersion
// (any version when 0) and returns the record with its new version.
func (s *Store) Replace(ctx context.Context, tenant, kind, id string, doc backend.Document, ifVersion int64) (backend.Record, error) {
	const op = "replace"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	if doc == nil {
		return backend.Record{}, fmt.Errorf("memory: %s %s %q: nil document", op, kind, id)
	}
	keys := kd.keysOf(doc)

	t := s.existingTenant(tenant)
	if t == nil {
		return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed.Load() {
		return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	cur := t.snap.Load()
	tb := cur.table(kd)
	old := tb.get(id)
	if old == nil {
		return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound}
	}
	if ifVersion != 0 && ifVersion != old.rec.Version {
		return backend.Record{}, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict}
	}
	r := &row{rec: backend.Record{ID: id, Version: old.rec.Version + 1, Doc: doc}, keys: keys}
	if ix := tb.clash(kd, id, r); ix >= 0 {
		return backend.Record{}, clashError(kd, op, id, ix)
	}
	w := tb.write(kd)
	w.replace(old, r)
	t.snap.Store(cur.with(kd, w.t))
	return r.rec, nil
}

// Delete removes the record and its index entries when its version is
// ifVersion (any version when 0).
func (s *Store) Delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error {
	const op = "delete"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return err
	}
	t := s.existingTenant(tenant)
	if t == nil {
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed.Load() {
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	cur := t.snap.Load()
	tb := cur.table(kd)
	old := tb.get(id)
	if old == nil {
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound}
	}
	if ifVersion != 0 && ifVersion != old.rec.Version {
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict}
	}
	w := tb.write(kd)
	w.remove(old)
	t.snap.Store(cur.with(kd, w.t))
	return nil
}

// Capabilities reports that the data is neither shared with other
// processes nor durable.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{Shared: false, Durable: false}
}

// Close drops every record. Later calls fail with ErrClosed; a Query
// already iterating keeps its snapshot.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return &backend.Error{Op: "close", Err: backend.ErrClosed}
	}
	s.tenantMu.Lock()
	s.tenants.Store(btree.NewG(degree, lessTenant))
	s.tenantMu.Unlock()
	return nil
}

// begin checks what every call checks first: the context, Close, and that
// the kind is defined.
func (s *Store) begin(ctx context.Context, op, kind, id string) (*kindDef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	kd := (*s.kinds.Load())[kind]
	if kd == nil {
		return nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrUnsupported, Cause: errUndefinedKind}
	}
	return kd, nil
}

// errUndefinedKind is the cause reported for a kind that Define never
// declared: a programming error, kept apart from ErrNotFound so that it
// does not read as a missing record.
var errUndefinedKind = errors.New("memory: kind not defined")

// existingTenant returns the tenant, or nil when it has never been written.
func (s *Store) existingTenant(name string) *tenant {
	it, ok := s.tenants.Load().Get(tenantItem{name: name})
	if !ok {
		return nil
	}
	return it.t
}

// tenantFor returns the tenant, adding it when it is new.
func (s *Store) tenantFor(name string) *tenant {
	if t := s.existingTenant(name); t != nil {
		return t
	}
	s.tenantMu.Lock()
	defer s.tenantMu.Unlock()
	cur := s.tenants.Load()
	if it, ok := cur.Get(tenantItem{name: name}); ok {
		return it.t
	}
	t := &tenant{}
	t.snap.Store(&snapshot{})
	next := cur.Clone()
	next.ReplaceOrInsert(tenantItem{name: name, t: t})
	s.tenants.Store(next)
	return t
}

// table returns the tenant's current table of a kind, or nil when the
// tenant has no record of it.
func (s *Store) table(tenant string, kd *kindDef) *table {
	t := s.existingTenant(tenant)
	if t == nil {
		return nil
	}
	return t.snap.Load().table(kd)
}
