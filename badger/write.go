package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

// Get returns the record, or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, kind, id string) (backend.Record, error) {
	const op = "get"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	defer s.leave()
	var (
		ver     int64
		doc     backend.Document
		decoded error
	)
	err = s.db.View(func(txn *badgerdb.Txn) error {
		item, err := txn.Get(recordKey(tenant, kind, id))
		if err != nil {
			return err
		}
		return item.Value(func(raw []byte) error {
			ver, doc, decoded = decodeRecord(kd, raw)
			return nil
		})
	})
	if err != nil {
		return backend.Record{}, mapErr(op, kind, id, err)
	}
	if decoded != nil {
		return backend.Record{}, fmt.Errorf("badger: %s %s %q: %w", op, kind, id, decoded)
	}
	return backend.Record{ID: id, Version: ver, Doc: doc, Owned: true}, nil
}

// decodeRecord decodes a record's stored value, which the codec does not
// keep (see backend.Codec).
func decodeRecord(kd *kindDef, raw []byte) (int64, backend.Document, error) {
	ver, data, err := splitRecordValue(raw)
	if err != nil {
		return 0, nil, err
	}
	doc, err := kd.kind.Codec.Unmarshal(data)
	if err != nil {
		return 0, nil, fmt.Errorf("decode: %w", err)
	}
	return ver, doc, nil
}

// decodeItem decodes the record an iterator or a point read found.
// It decodes the value in place, inside the item's transaction.
func decodeItem(kd *kindDef, item *badgerdb.Item) (int64, backend.Document, error) {
	var (
		ver int64
		doc backend.Document
	)
	err := item.Value(func(raw []byte) error {
		var err error
		ver, doc, err = decodeRecord(kd, raw)
		return err
	})
	return ver, doc, err
}

// Create stores a new record with version 1, or fails with ErrAlreadyExists
// when the id or a unique index key is taken. The record, its index
// entries and the checks that found the id and the unique keys free (a
// read, or a key held; see known) are one transaction, so of racing
// creators of one id or one unique value exactly one commits; the others
// conflict, run again and find it taken.
func (s *Store) Create(ctx context.Context, tenant, kind, id string, doc backend.Document) (backend.Record, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	defer s.leave()
	r, err := kd.newRecord(op, tenant, id, doc)
	if err != nil {
		return backend.Record{}, err
	}
	err = s.update(ctx, op, kind, id, func(w *wtx) error { return kd.put(w, op, &r) })
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{ID: id, Version: 1, Doc: doc}, nil
}

// newRecord is a document ready to be written: its record key, its stored
// value at version 1 and its index keys (see rowKeys). Encoding and key
// folding depend only on the document, so they are done once, outside the
// transaction that may be retried.
type newRecord struct {
	id   string
	key  []byte
	val  []byte
	keys [][][]byte
}

// newRecord encodes doc and computes its keys for a write of id.
func (kd *kindDef) newRecord(op, tenant, id string, doc backend.Document) (newRecord, error) {
	kind := kd.kind.Name
	if doc == nil {
		return newRecord{}, fmt.Errorf("badger: %s %s %q: nil document", op, kind, id)
	}
	data, err := kd.kind.Codec.Marshal(doc)
	if err != nil {
		return newRecord{}, fmt.Errorf("badger: %s %s %q: encode: %w", op, kind, id, err)
	}
	keys, err := kd.rowKeys(tenant, id, doc)
	if err != nil {
		return newRecord{}, fmt.Errorf("badger: %s %s %q: %w", op, kind, id, err)
	}
	return newRecord{
		id:   id,
		key:  recordKey(tenant, kind, id),
		val:  appendRecordValue(make([]byte, 0, versionLen+len(data)), 1, data),
		keys: keys,
	}, nil
}

// put writes r and its index entries in w, or fails with
// ErrAlreadyExists when its id or one of its unique keys is taken, by a
// committed record or by an earlier write of w. It checks every key before
// it writes any, so a refused record leaves nothing in w and a batch can go
// on with its other records. Each key is read, which puts it in w's
// conflict set, or held (see wtx.free).
func (kd *kindDef) put(w *wtx, op string, r *newRecord) error {
	switch _, err := w.free(r.key); {
	case err == nil:
		return &backend.Error{Op: op, Kind: kd.kind.Name, ID: r.id, Err: backend.ErrAlreadyExists}
	case !errors.Is(err, badgerdb.ErrKeyNotFound):
		return err
	}
	for i, ks := range r.keys {
		if !kd.indexes[i].Unique {
			continue
		}
		for _, k := range ks {
			if err := kd.claim(w, op, i, k, r.id); err != nil {
				return err
			}
		}
	}
	owner := []byte(r.id)
	for i, ks := range r.keys {
		var v []byte
		if kd.indexes[i].Unique {
			v = owner
		}
		for _, k := range ks {
			if err := w.Set(k, v); err != nil {
				return err
			}
		}
	}
	return w.Set(r.key, r.val)
}

// Replace overwrites the record's document when its version is ifVersion
// (any version when 0) and returns the record with its new version. It
// removes the index entries the old document had and the new one lacks,
// and adds the new ones, checking unique values, in the transaction that
// read the old version.
func (s *Store) Replace(ctx context.Context, tenant, kind, id string, doc backend.Document, ifVersion int64) (backend.Record, error) {
	const op = "replace"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	defer s.leave()
	r, err := kd.newRecord(op, tenant, id, doc)
	if err != nil {
		return backend.Record{}, err
	}
	keys, data := r.keys, r.val[versionLen:]
	var version int64
	err = s.update(ctx, op, kind, id, func(w *wtx) error {
		old, oldKeys, err := s.current(w.Txn, kd, op, tenant, id, ifVersion)
		if err != nil {
			return err
		}
		for i := range keys {
			gone, added := diff(oldKeys[i], keys[i])
			for _, k := range gone {
				if err := w.Delete(k); err != nil {
					return err
				}
			}
			for _, k := range added {
				if err := kd.add(w, op, i, k, id); err != nil {
					return err
				}
			}
		}
		version = old + 1
		return w.Set(r.key, appendRecordValue(make([]byte, 0, len(r.val)), version, data))
	})
	if err != nil {
		return backend.Record{}, err
	}
	return backend.Record{ID: id, Version: version, Doc: doc}, nil
}

// Delete removes the record and its index entries when its version is
// ifVersion (any version when 0).
func (s *Store) Delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error {
	const op = "delete"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return err
	}
	defer s.leave()
	return s.update(ctx, op, kind, id, func(w *wtx) error {
		_, oldKeys, err := s.current(w.Txn, kd, op, tenant, id, ifVersion)
		if err != nil {
			return err
		}
		for _, ks := range oldKeys {
			for _, k := range ks {
				if err := w.Delete(k); err != nil {
					return err
				}
			}
		}
		return w.Delete(recordKey(tenant, kd.kind.Name, id))
	})
}

// current reads a record in a write transaction, checks its version and
// returns the version and the index keys of its document, which are the
// entries a write must remove. The read puts the record in the
// transaction's conflict set.
func (s *Store) current(txn *badgerdb.Txn, kd *kindDef, op, tenant, id string, ifVersion int64) (int64, [][][]byte, error) {
	kind := kd.kind.Name
	item, err := txn.Get(recordKey(tenant, kind, id))
	if err != nil {
		return 0, nil, err
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return 0, nil, err
	}
	ver, _, err := splitRecordValue(raw)
	if err != nil {
		return 0, nil, fmt.Errorf("badger: %s %s %q: stored record: %w", op, kind, id, err)
	}
	if ifVersion != 0 && ifVersion != ver {
		return 0, nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict,
			Cause: fmt.Errorf("stored version is %d, not %d", ver, ifVersion)}
	}
	// The old entries are recomputed from the old document rather than
	// stored beside it, so a record's value is its document alone.
	_, doc, err := decodeRecord(kd, raw)
	if err != nil {
		return 0, nil, fmt.Errorf("badger: %s %s %q: stored record: %w", op, kind, id, err)
	}
	keys, err := kd.rowKeys(tenant, id, doc)
	if err != nil {
		return 0, nil, fmt.Errorf("badger: %s %s %q: stored record: %w", op, kind, id, err)
	}
	return ver, keys, nil
}

// rowKeys returns, per index of the kind, the sorted keys of doc's index
// entries: unique keys for unique indexes, entry keys for the others.
func (kd *kindDef) rowKeys(tenant, id string, doc backend.Document) ([][][]byte, error) {
	// Every key is built in one buffer of the exact size, and cut from it:
	// out first holds each index's value keys, then its keys.
	out := make([][][]byte, len(kd.indexes))
	size, n := 0, 0
	for i, ix := range kd.indexes {
		vks := ix.Keys(doc)
		out[i] = vks
		if len(vks) == 0 {
			continue
		}
		each := 2 + escapedLen(tenant) + escapedLen(kd.kind.Name) + escapedLen(ix.Name)
		if !ix.Unique {
			each += escapedLen(id) + idTrailerLen
		}
		for _, vk := range vks {
			size += each + len(vk)
		}
		n += len(vks)
	}
	if n == 0 {
		return out, nil
	}
	buf := make([]byte, 0, size)
	keys := make([][]byte, 0, n)
	for i, ix := range kd.indexes {
		vks := out[i]
		if len(vks) == 0 {
			continue
		}
		from := len(keys)
		for _, vk := range vks {
			lo := len(buf)
			buf = appendIndexPrefix(buf, kd.spaces[i], tenant, kd.kind.Name, ix.Name)
			buf = append(buf, vk...)
			if !ix.Unique {
				var err error
				if buf, err = appendEntryTrailer(buf, id); err != nil {
					return nil, fmt.Errorf("index %s: %w", ix.Name, err)
				}
			}
			keys = append(keys, buf[lo:len(buf):len(buf)])
		}
		// Value keys are sorted and share the prefix, so the keys are
		// sorted too.
		out[i] = keys[from:len(keys):len(keys)]
	}
	return out, nil
}

// add writes the entry k of index i for the record id, checking first
// that no other record holds it when the index is unique (see claim).
func (kd *kindDef) add(w *wtx, op string, i int, k []byte, id string) error {
	if !kd.indexes[i].Unique {
		return w.Set(k, nil)
	}
	if err := kd.claim(w, op, i, k, id); err != nil {
		return err
	}
	return w.Set(k, []byte(id))
}

// claim checks the key k of the unique index i (see wtx.free), and fails
// with ErrAlreadyExists when a record other than id holds it.
func (kd *kindDef) claim(w *wtx, op string, i int, k []byte, id string) error {
	item, err := w.free(k)
	switch {
	case errors.Is(err, badgerdb.ErrKeyNotFound):
		return nil
	case err != nil:
		return err
	}
	owner, err := item.ValueCopy(nil)
	if err != nil {
		return err
	}
	if string(owner) != id {
		return &backend.Error{Op: op, Kind: kd.kind.Name, ID: id, Index: kd.indexes[i].Name, Err: backend.ErrAlreadyExists}
	}
	return nil
}

// diff returns the keys of the sorted lists a (old) and b (new) that only
// a has and those only b has.
func diff(a, b [][]byte) (gone, added [][]byte) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		c := 0
		switch {
		case j == len(b):
			c = -1
		case i == len(a):
			c = 1
		default:
			c = bytes.Compare(a[i], b[j])
		}
		switch {
		case c < 0:
			gone = append(gone, a[i])
			i++
		case c > 0:
			added = append(added, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return gone, added
}

// update runs fn in a write transaction, running it again when badger
// reports a conflict with a transaction that committed after this one
// read: each run rereads what it checks, so it decides on current data.
// It gives up with ErrConflict after Options.MaxAttempts runs, and stops
// when ctx is done.
func (s *Store) update(ctx context.Context, op, kind, id string, fn func(*wtx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.updateOnce(fn)
		if err == nil {
			return nil
		}
		if !errors.Is(err, badgerdb.ErrConflict) {
			return mapErr(op, kind, id, err)
		}
		if attempt >= s.maxAttempts {
			return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict,
				Cause: fmt.Errorf("still conflicting after %d attempts: %w", attempt, err)}
		}
		if err := pause(ctx, attempt, err); err != nil {
			return fmt.Errorf("badger: %s %s %q: %w", op, kind, id, err)
		}
	}
}

// updateOnce runs fn in a write transaction and commits it, as
// badgerdb.DB.Update does, once.
func (s *Store) updateOnce(fn func(*wtx) error) error {
	w := s.write()
	defer w.end()
	if err := fn(w); err != nil {
		return err
	}
	return w.Commit()
}

// pause waits before the next attempt of a transaction that failed with
// the conflict why. After a conflict with a transaction that holds a key
// (heldError) it waits for that one to end. Otherwise the first retries go
// at once, since a conflict usually means one other writer got there
// first; under heavier contention a growing random delay keeps the writers
// from colliding in lockstep.
func pause(ctx context.Context, attempt int, why error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var held *heldError
	if errors.As(why, &held) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-held.done:
			return nil
		}
	}
	if attempt < 3 {
		runtime.Gosched()
		return nil
	}
	limit := min(time.Duration(attempt)*100*time.Microsecond, 5*time.Millisecond)
	t := time.NewTimer(rand.N(limit) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
