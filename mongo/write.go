package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
)

// recordID is the _id of a record: the tenant and the id as two fields of
// a sub-document, which no choice of either can make ambiguous.
func recordID(tenant, id string) bson.D {
	return bson.D{{Key: fieldTenant, Value: tenant}, {Key: fieldRecID, Value: id}}
}

// recordFilter selects one record. Like every filter the store sends, it
// starts with the tenant.
func recordFilter(tenant, id string) bson.D {
	return bson.D{{Key: fieldTenant, Value: tenant}, {Key: fieldID, Value: recordID(tenant, id)}}
}

// versionFilter selects one record at one version: the guard of every
// conditional write, atomic because it is a single document's filter.
func versionFilter(tenant, id string, version int64) bson.D {
	return append(recordFilter(tenant, id), bson.E{Key: fieldVersion, Value: version})
}

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

func (kd *kindDef) load(ctx context.Context, op, tenant, id string) (stored, error) {
	raw, err := kd.coll.findOne(ctx, recordFilter(tenant, id))
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
	// trip share the record.
	return s.reads.do(ctx, recordKey{kind, tenant, id}, func(ctx context.Context) (backend.Record, error) {
		raw, err := kd.coll.findOne(ctx, recordFilter(tenant, id), options.FindOne().SetProjection(dataProjection()))
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
	d, keys, err := kd.recordDoc(tenant, id, bson.NewObjectID().Hex(), 1, doc)
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
		kd.undo(ctx, tenant, id, 1, nil)
		return backend.Record{}, err
	}
	return backend.Record{ID: id, Version: 1, Doc: doc}, nil
}

// undo takes back a record write whose reservations were lost: it deletes
// the record written at version, or puts back prev, if the record is still
// as written.
func (kd *kindDef) undo(ctx context.Context, tenant, id string, version int64, prev bson.Raw) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if prev == nil {
		_, _ = kd.coll.deleteOne(ctx, versionFilter(tenant, id, version))
		return
	}
	_, _ = kd.coll.replaceOne(ctx, versionFilter(tenant, id, version), prev)
}

// Replace overwrites the record's document when its version is ifVersion
// (any version when 0) and returns the record with its new version. The
// write is guarded by the version read ({_id, v}), on FerretDB through a
// write ticket (see ticket.go); with ifVersion 0 a write that loses a race
// starts again.
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
		res, err := kd.coll.replaceOne(ctx, versionFilter(tenant, id, prev.version), d)
		if err != nil || res.MatchedCount == 0 {
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
			kd.undo(ctx, tenant, id, next, prev.raw)
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
		n, err := kd.coll.deleteOne(ctx, versionFilter(tenant, id, prev.version))
		if err != nil || n == 0 {
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
