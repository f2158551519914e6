package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
)

// dataProjection fetches what a Record is made of.
func dataProjection() bson.D {
	return bson.D{{Key: fieldRecID, Value: 1}, {Key: fieldVersion, Value: 1}, {Key: fieldData, Value: 1}}
}

// recordDoc builds the stored document of a record of generation gen and
// returns it with its reservation keys.
func (kd *kindDef) recordDoc(tenant, id, gen string, version int64, doc backend.Document) (bson.D, []string, error) {
	data, err := kd.kind.Codec.Marshal(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("mongo: encode %s %q: %w", kd.kind.Name, id, err)
	}
	sh := kd.shadowOf(doc)
	d := bson.D{
		{Key: fieldID, Value: recordID(tenant, id)},
		{Key: fieldTenant, Value: tenant},
		{Key: fieldRecID, Value: id},
		{Key: fieldVersion, Value: version},
		{Key: fieldGen, Value: gen},
		{Key: fieldData, Value: bson.Binary{Data: data}},
		{Key: fieldShadow, Value: sh.x},
	}
	if len(sh.claims) > 0 {
		d = append(d, bson.E{Key: fieldClaims, Value: sh.claims})
	}
	if len(sh.unique) > 0 {
		d = append(d, bson.E{Key: fieldUnique, Value: sh.unique})
	}
	return d, sh.unique, nil
}

// decode turns a fetched document into a Record.
func (kd *kindDef) decode(raw bson.Raw) (backend.Record, error) {
	id, ok := raw.Lookup(fieldRecID).StringValueOK()
	if !ok {
		return backend.Record{}, fmt.Errorf("mongo: %s record without an id", kd.kind.Name)
	}
	v, ok := raw.Lookup(fieldVersion).AsInt64OK()
	if !ok {
		return backend.Record{}, fmt.Errorf("mongo: %s %q: record without a version", kd.kind.Name, id)
	}
	_, data, ok := raw.Lookup(fieldData).BinaryOK()
	if !ok {
		return backend.Record{}, fmt.Errorf("mongo: %s %q: record without data", kd.kind.Name, id)
	}
	doc, err := kd.kind.Codec.Unmarshal(data)
	if err != nil {
		return backend.Record{}, fmt.Errorf("mongo: decode %s %q: %w", kd.kind.Name, id, err)
	}
	return backend.Record{ID: id, Version: v, Doc: doc, Owned: true}, nil
}

// uniqueKeys returns the reservation keys a stored record lists.
func uniqueKeys(raw bson.Raw) []string {
	arr, ok := raw.Lookup(fieldUnique).ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil {
		return nil
	}
	keys := make([]string, 0, len(vals))
	for _, v := range vals {
		if s, ok := v.StringValueOK(); ok {
			keys = append(keys, s)
		}
	}
	return keys
}

// stored is what a replace or delete reads of the record it changes.
type stored struct {
	raw     bson.Raw
	version int64
	gen     string
	keys    []string
}

// load reads the whole stored record.
func (kd *kindDef) load(ctx context.Context, op, tenant, id string) (stored, error) {
	raw, err := kd.coll.findOne(ctx, kd.recordFilter(tenant, id))
	if err != nil {
		return stored{}, mapError(op, kd.kind.Name, id, err)
	}
	v, ok := raw.Lookup(fieldVersion).AsInt64OK()
	if !ok {
		return stored{}, fmt.Errorf("mongo: %s %s %q: stored record has no version", op, kd.kind.Name, id)
	}
	gen, _ := raw.Lookup(fieldGen).StringValueOK()
	return stored{raw: raw, version: v, gen: gen, keys: uniqueKeys(raw)}, nil
}

// Get returns the record, or ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, kind, id string) (backend.Record, error) {
	const op = "get"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	// Records are immutable once decoded, so callers that share a round
	// trip share the record; only a caller that had the round trip to
	// itself owns its document (see reads.do).
	return s.reads.do(ctx, recordKey{kind, tenant, id}, func(ctx context.Context) (backend.Record, error) {
		raw, err := kd.coll.findOne(ctx, kd.recordFilter(tenant, id), options.FindOne().SetProjection(dataProjection()))
		if err != nil {
			return backend.Record{}, mapError(op, kind, id, err)
		}
		return kd.decode(raw)
	})
}

// Create stores a new record with version 1, or fails with ErrAlreadyExists
// when the id or a unique index key is taken. The record's _id makes the
// id check atomic; the keys are reserved first (see reserve.go).
func (s *Store) Create(ctx context.Context, tenant, kind, id string, doc backend.Document) (backend.Record, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	if doc == nil {
		return backend.Record{}, fmt.Errorf("mongo: %s %s %q: nil document", op, kind, id)
	}
	gen := bson.NewObjectID().Hex()
	d, keys, err := kd.recordDoc(tenant, id, gen, 1, doc)
	if err != nil {
		return backend.Record{}, err
	}
	w := s.newWriter(kd, op, tenant, id)
	if err := w.claim(ctx, keys, true); err != nil {
		return backend.Record{}, err
	}
	if err := kd.coll.insertOne(ctx, d); err != nil {
		w.abandon(ctx)
		return backend.Record{}, mapError(op, kind, id, err)
	}
	if err := w.confirm(ctx); err != nil {
		s.undo(ctx, kd, tenant, id, gen, 1, nil)
		return backend.Record{}, err
	}
	return backend.Record{ID: id, Version: 1, Doc: doc}, nil
}

// undo takes back a record write whose reservations were lost: it deletes
// the record written at (gen, version) (a create's), or puts back prev, if
// the record is still as written. It runs even when ctx is done.
//
// Like any write out of (gen, version), it is guarded by that state, and on
// FerretDB it first takes the ticket of the transition to version+1. If
// another write holds that transition, that write read this one and builds
// on it: the write then stays, as it does on MongoDB when the guard finds
// the record moved. Either way it stays only if the writer stalled past its
// reservations' lease, and Verify reports what it leaves.
func (s *Store) undo(ctx context.Context, kd *kindDef, tenant, id, gen string, version int64, prev bson.Raw) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	tk, err := s.ticket(ctx, kd, tenant, id, gen, version+1)
	if err != nil {
		return
	}
	var next any // nil: delete
	if prev != nil {
		next = prev
	}
	ok, err := kd.writeAt(ctx, tk, tenant, id, gen, version, next)
	if err == nil && ok && prev == nil {
		// The incarnation is gone: so are its tickets.
		tk.done(ctx, true)
		return
	}
	// The record is back at an earlier version (or was never changed
	// here): its transition to version+1 is for a later write to take.
	tk.release(ctx)
}

// writeAt replaces the record with d, or deletes it when d is nil, if it is
// in generation gen at version; it reports whether it did. This is the
// compare-and-swap every Replace, Delete and undo ends with.
//
// With no ticket (on MongoDB) the state is part of the filter,
// {t, _id, v, g}, and MongoDB applies a single document's filter and write
// atomically.
//
// With a ticket (on FerretDB) the filter is {_id} alone, which FerretDB
// finds by its index, and the state is checked in Go: the record is read
// by _id, compared with (gen, version), and then written by _id. That is
// the check-then-write FerretDB itself runs for a filter with more fields
// (it selects, evaluates the filter in Go and writes by _id, outside any
// lock), and it is as safe, because the caller holds tk, the ticket of the
// transition out of (gen, version): every write that moves a record out of
// a state first takes the ticket of that transition (Replace, Delete and
// undo all do; Create only inserts, which fails on an existing record;
// Verify writes no records), and the ticket's insert admits one writer per
// transition. So once the record is read at (gen, version), nothing else
// changes it before this write lands, unless this writer stalls past the
// ticket's lease (see ticket.go). The check is not redundant with the read
// that chose gen and version: a ticket is also won by a writer whose record
// has moved on meanwhile (an expired or collected ticket of a transition
// already made), and the check is what turns such a writer away. The
// generation is part of the state because tickets are per generation: a
// record deleted and created again must not be written by a writer that
// read its predecessor (its tickets do not exclude the new incarnation's
// writers), and MongoDB's filter checks it too, so the two behave alike.
func (kd *kindDef) writeAt(ctx context.Context, tk *ticket, tenant, id, gen string, version int64, d any) (bool, error) {
	state := bson.D{{Key: fieldVersion, Value: version}, {Key: fieldGen, Value: gen}}
	var write func(bson.D) (*mongodrv.UpdateResult, error)
	if d != nil {
		write = func(f bson.D) (*mongodrv.UpdateResult, error) { return kd.coll.replaceOne(ctx, f, d) }
	}
	return kd.coll.swapOne(ctx, kd.recordFilter(tenant, id), state, tk == nil, write)
}

// Replace overwrites the record's document when its version is ifVersion
// (any version when 0) and returns the record with its new version. The
// write is guarded by the generation and version read (see writeAt), on
// FerretDB under a write ticket (see ticket.go); with ifVersion 0 a write
// that loses a race starts again.
func (s *Store) Replace(ctx context.Context, tenant, kind, id string, doc backend.Document, ifVersion int64) (backend.Record, error) {
	const op = "replace"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return backend.Record{}, err
	}
	if doc == nil {
		return backend.Record{}, fmt.Errorf("mongo: %s %s %q: nil document", op, kind, id)
	}
	conflict := &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict}
	rk := recordKey{kind, tenant, id}
	if s.locks.stale(rk, ifVersion) {
		return backend.Record{}, conflict
	}
	rl, err := s.locks.acquire(ctx, rk)
	if err != nil {
		return backend.Record{}, err
	}
	defer s.locks.release(rk, rl)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, retryDelay(attempt)); err != nil {
				return backend.Record{}, err
			}
		}
		if ifVersion != 0 && rl.version.Load() > ifVersion {
			return backend.Record{}, conflict
		}
		// The whole stored document is read: its version guards the
		// write, its keys say what to claim and release, and it is what
		// an undo puts back.
		prev, err := kd.load(ctx, op, tenant, id)
		if err != nil {
			return backend.Record{}, err
		}
		rl.saw(prev.version)
		if ifVersion != 0 && prev.version != ifVersion {
			return backend.Record{}, conflict
		}
		next := prev.version + 1
		d, keys, err := kd.recordDoc(tenant, id, prev.gen, next, doc)
		if err != nil {
			return backend.Record{}, err
		}
		tk, err := s.ticket(ctx, kd, tenant, id, prev.gen, next)
		if errors.Is(err, errBusyTicket) {
			if ifVersion != 0 {
				conflict.Cause = err
				return backend.Record{}, conflict
			}
			continue
		}
		if err != nil {
			return backend.Record{}, mapError(op, kind, id, err)
		}
		w := s.newWriter(kd, op, tenant, id)
		err = w.claim(ctx, without(keys, prev.keys), false)
		if errors.Is(err, errMoved) {
			tk.release(ctx)
			if ifVersion != 0 {
				return backend.Record{}, conflict
			}
			continue
		}
		if err != nil {
			tk.release(ctx)
			return backend.Record{}, err
		}
		ok, err := kd.writeAt(ctx, tk, tenant, id, prev.gen, prev.version, d)
		if err != nil || !ok {
			w.abandon(ctx)
			tk.release(ctx)
			if err != nil {
				return backend.Record{}, mapError(op, kind, id, err)
			}
			// Deleted or written meanwhile.
			if _, err := kd.load(ctx, op, tenant, id); err != nil {
				return backend.Record{}, err
			}
			if ifVersion != 0 {
				return backend.Record{}, conflict
			}
			continue
		}
		if err := w.confirm(ctx); err != nil {
			s.undo(ctx, kd, tenant, id, prev.gen, next, prev.raw)
			tk.release(ctx)
			return backend.Record{}, err
		}
		rl.saw(next)
		w.release(ctx, without(prev.keys, keys))
		tk.done(ctx, false)
		return backend.Record{ID: id, Version: next, Doc: doc}, nil
	}
}

// Delete removes the record and releases its unique keys when its version
// is ifVersion (any version when 0). Like Replace it is guarded by the
// version read.
func (s *Store) Delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error {
	const op = "delete"
	kd, err := s.begin(ctx, op, kind, id)
	if err != nil {
		return err
	}
	conflict := &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict}
	rk := recordKey{kind, tenant, id}
	if s.locks.stale(rk, ifVersion) {
		return conflict
	}
	rl, err := s.locks.acquire(ctx, rk)
	if err != nil {
		return err
	}
	defer s.locks.release(rk, rl)
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, retryDelay(attempt)); err != nil {
				return err
			}
		}
		prev, err := kd.load(ctx, op, tenant, id)
		if err != nil {
			return err
		}
		rl.saw(prev.version)
		if ifVersion != 0 && prev.version != ifVersion {
			return conflict
		}
		tk, err := s.ticket(ctx, kd, tenant, id, prev.gen, prev.version+1)
		if errors.Is(err, errBusyTicket) {
			if ifVersion != 0 {
				conflict.Cause = err
				return conflict
			}
			continue
		}
		if err != nil {
			return mapError(op, kind, id, err)
		}
		ok, err := kd.writeAt(ctx, tk, tenant, id, prev.gen, prev.version, nil)
		if err != nil || !ok {
			tk.release(ctx)
			if err != nil {
				return mapError(op, kind, id, err)
			}
			if _, err := kd.load(ctx, op, tenant, id); err != nil {
				return err
			}
			if ifVersion != 0 {
				return conflict
			}
			continue
		}
		w := s.newWriter(kd, op, tenant, id)
		w.release(ctx, prev.keys)
		tk.done(ctx, true)
		return nil
	}
}

// ticket takes the write ticket of a record's transition to version v where
// the server needs one (FerretDB); elsewhere it returns a nil ticket, whose
// methods do nothing.
func (s *Store) ticket(ctx context.Context, kd *kindDef, tenant, id, gen string, v int64) (*ticket, error) {
	if !s.tickets {
		return nil, nil
	}
	return kd.takeTicket(ctx, s.lease, tenant, id, gen, v)
}

// without returns the keys of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, k := range a {
		if !slices.Contains(b, k) {
			out = append(out, k)
		}
	}
	return out
}

// retryDelay is the pause before the attempt-th retry of a write whose
// record moved: none for the first, then growing up to a few milliseconds,
// so that writers of one record do not collide in lock step.
func retryDelay(attempt int) time.Duration {
	return min(time.Duration(attempt-1)*time.Millisecond, 5*time.Millisecond)
}
