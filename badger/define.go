package badger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// kindMeta is what the store remembers of a kind's indexes, so that a
// later Define with other indexes rebuilds the entries that no longer
// match.
type kindMeta struct {
	Indexes []indexMeta `json:"indexes"`
	// Complete is false while a rebuild is under way: a rebuild
	// interrupted by a crash is redone in full by the next Define.
	Complete bool `json:"complete"`
}

// indexMeta is an index as far as its entries depend on it.
type indexMeta struct {
	Name      string `json:"name"`
	Attr      string `json:"attr"` // canonical attribute name
	Type      string `json:"type"`
	Unique    bool   `json:"unique"`
	CaseExact bool   `json:"caseExact"`
}

func metaOf(ix backend.CompiledIndex) indexMeta {
	return indexMeta{Name: ix.Name, Attr: ix.Attr.Name, Type: ix.Attr.Type.String(), Unique: ix.Unique, CaseExact: ix.Attr.CaseExact}
}

// Define declares kinds. A kind's index definitions are stored with the
// data; when a later Define (say, after an upgrade, or with the
// directory's email uniqueness turned on or off) declares different
// indexes, the entries of the indexes that changed are rebuilt from the
// records before Define returns. Turning an index unique fails with
// ErrAlreadyExists, changing nothing, when stored records already share a
// value. Define is meant to run before other calls, as backend.Backend
// says: a rebuild does not exclude concurrent writers.
func (s *Store) Define(ctx context.Context, kinds ...backend.Kind) error {
	const op = "define"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger: define: %w", err)
	}
	if err := s.enter(op, "", ""); err != nil {
		return err
	}
	defer s.leave()
	s.defMu.Lock()
	defer s.defMu.Unlock()

	cur := *s.kinds.Load()
	next := make(map[string]*kindDef, len(cur)+len(kinds))
	for name, kd := range cur {
		next[name] = kd
	}
	seen := map[string]bool{}
	for _, k := range kinds {
		kd, err := compileKind(k)
		if err != nil {
			return fmt.Errorf("badger: define: %w", err)
		}
		if seen[k.Name] {
			return fmt.Errorf("badger: define: kind %s given twice", k.Name)
		}
		seen[k.Name] = true
		if err := s.migrate(ctx, kd); err != nil {
			return err
		}
		next[k.Name] = kd
	}
	s.kinds.Store(&next)
	return nil
}

// compileKind checks a kind's declaration and compiles its indexes.
func compileKind(k backend.Kind) (*kindDef, error) {
	switch {
	case k.Name == "":
		return nil, errors.New("kind with an empty name")
	case k.Schema == nil:
		return nil, fmt.Errorf("kind %s has no schema", k.Name)
	case k.Codec == nil:
		return nil, fmt.Errorf("kind %s has no codec: a durable store keeps documents as bytes", k.Name)
	}
	compiled, err := backend.CompileIndexes(k)
	if err != nil {
		return nil, err
	}
	kd := &kindDef{kind: k, indexes: compiled, spaces: make([]byte, len(compiled)), pushdown: backend.IndexPushdown(compiled)}
	names := map[string]bool{}
	for i, ix := range compiled {
		switch {
		case ix.Name == "":
			return nil, fmt.Errorf("kind %s: index on %s has no name", k.Name, ix.Attr.Name)
		case names[ix.Name]:
			return nil, fmt.Errorf("kind %s: index %s declared twice", k.Name, ix.Name)
		case ix.Attr.Type == query.TypeComplex:
			return nil, fmt.Errorf("kind %s: index %s: attribute %s is complex, not a scalar", k.Name, ix.Name, ix.Attr.Name)
		}
		names[ix.Name] = true
		kd.spaces[i] = spaceEntry
		if ix.Unique {
			kd.spaces[i] = spaceUnique
		}
	}
	return kd, nil
}

// migrate brings the stored index entries of kd's kind in line with its
// declaration.
func (s *Store) migrate(ctx context.Context, kd *kindDef) error {
	name := kd.kind.Name
	want := kindMeta{Complete: true}
	for _, ix := range kd.indexes {
		want.Indexes = append(want.Indexes, metaOf(ix))
	}
	var have kindMeta
	found := false
	err := s.db.View(func(txn *badgerdb.Txn) error {
		item, err := txn.Get(metaKey(metaKind, name))
		if errors.Is(err, badgerdb.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &have) })
	})
	if err != nil {
		return fmt.Errorf("badger: define %s: read index definitions: %w", name, err)
	}

	// The indexes whose entries must be dropped and built again.
	stale := map[string]bool{}
	haveByName := map[string]indexMeta{}
	for _, m := range have.Indexes {
		haveByName[m.Name] = m
		if !have.Complete {
			stale[m.Name] = true
		}
	}
	for _, m := range want.Indexes {
		if old, ok := haveByName[m.Name]; !ok || old != m || !have.Complete {
			stale[m.Name] = true
		}
		delete(haveByName, m.Name)
	}
	for n := range haveByName {
		stale[n] = true // dropped from the declaration
	}
	if found && len(stale) == 0 {
		return nil
	}
	if len(stale) > 0 {
		if err := s.rebuild(ctx, kd, stale); err != nil {
			return err
		}
	}
	return s.putKindMeta(name, want)
}

func (s *Store) putKindMeta(kind string, m kindMeta) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("badger: define %s: %w", kind, err)
	}
	if err := s.db.Update(func(txn *badgerdb.Txn) error { return txn.Set(metaKey(metaKind, kind), v) }); err != nil {
		return fmt.Errorf("badger: define %s: write index definitions: %w", kind, err)
	}
	return nil
}

// rebuild drops every entry of the named indexes of kd's kind in every
// tenant and adds the entries that the records call for. It first checks
// the unique indexes, so that a clash fails before anything changes; then
// it marks the definition incomplete, so that a crash part way makes the
// next Define start again.
func (s *Store) rebuild(ctx context.Context, kd *kindDef, stale map[string]bool) error {
	const op = "define"
	name := kd.kind.Name
	var build []int // positions of the declared indexes to build
	for i, ix := range kd.indexes {
		if stale[ix.Name] {
			build = append(build, i)
		}
	}

	// Check uniqueness over every record before writing anything.
	owners := map[string]string{} // unique key -> id
	err := s.eachRecord(ctx, kd, func(tenant, id string, doc backend.Document) error {
		for _, i := range build {
			ix := kd.indexes[i]
			if !ix.Unique {
				continue
			}
			prefix := indexPrefix(spaceUnique, tenant, name, ix.Name)
			for _, vk := range ix.Keys(doc) {
				k := string(uniqueKey(prefix, vk))
				if other, ok := owners[k]; ok && other != id {
					return &backend.Error{Op: op, Kind: name, ID: id, Index: ix.Name, Err: backend.ErrAlreadyExists,
						Cause: fmt.Errorf("records %q and %q share a value of the now unique index %s", other, id, ix.Name)}
				}
				owners[k] = id
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	owners = nil

	// The incomplete definition names every stale index, so that a rerun
	// also drops the entries of indexes no longer declared.
	pending := kindMeta{Complete: false}
	for n := range stale {
		pending.Indexes = append(pending.Indexes, indexMeta{Name: n})
	}
	if err := s.putKindMeta(name, pending); err != nil {
		return err
	}

	// Drop the stale entries, in every tenant, from both index keyspaces.
	err = s.batch(func(wb *badgerdb.WriteBatch) error {
		for _, space := range []byte{spaceEntry, spaceUnique} {
			err := s.db.View(func(txn *badgerdb.Txn) error {
				prefix := []byte{space, formatVersion}
				it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
				defer it.Close()
				for it.Seek(prefix); it.Valid(); it.Next() {
					k := it.Item().Key()
					p, err := parseKey(k)
					if err != nil || p.kind != name || !stale[p.index] {
						continue
					}
					if err := wb.Delete(slices.Clone(k)); err != nil {
						return err
					}
				}
				return ctx.Err()
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("badger: define %s: drop index entries: %w", name, err)
	}

	// Add the entries the records call for.
	err = s.batch(func(wb *badgerdb.WriteBatch) error {
		return s.eachRecord(ctx, kd, func(tenant, id string, doc backend.Document) error {
			for _, i := range build {
				ix := kd.indexes[i]
				prefix := indexPrefix(kd.spaces[i], tenant, name, ix.Name)
				for _, vk := range ix.Keys(doc) {
					if ix.Unique {
						k := uniqueKey(prefix, vk)
						s.keys.note(k)
						if err := wb.Set(k, []byte(id)); err != nil {
							return err
						}
						continue
					}
					k, err := entryKey(prefix, vk, id)
					if err != nil {
						return err
					}
					if err := wb.Set(k, nil); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("badger: define %s: build index entries: %w", name, err)
	}
	return nil
}

// batch runs fn with a write batch and flushes it, or cancels it when fn
// fails. A batch commits in as many transactions as its size needs, so it
// is not atomic: rebuild makes up for that with kindMeta.Complete.
func (s *Store) batch(fn func(*badgerdb.WriteBatch) error) error {
	wb := s.db.NewWriteBatch()
	if err := fn(wb); err != nil {
		wb.Cancel()
		return err
	}
	return wb.Flush()
}

// eachRecord calls fn with every decodable record of kd's kind in every
// tenant, from one snapshot. Records that do not decode are skipped here;
// Verify reports them.
func (s *Store) eachRecord(ctx context.Context, kd *kindDef, fn func(tenant, id string, doc backend.Document) error) error {
	kind := kd.kind.Name
	return s.db.View(func(txn *badgerdb.Txn) error {
		prefix := []byte{spaceRecord, formatVersion}
		it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		n := 0
		for it.Seek(prefix); it.Valid(); it.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			item := it.Item()
			p, err := parseKey(item.Key())
			if err != nil || p.space != spaceRecord || p.kind != kind {
				continue
			}
			_, doc, err := decodeItem(kd, item)
			if err != nil {
				continue
			}
			if err := fn(p.tenant, p.id, doc); err != nil {
				return err
			}
		}
		return nil
	})
}
