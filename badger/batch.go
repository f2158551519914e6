package badger

import (
	"context"
	"errors"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

var _ backend.Batcher = (*Store)(nil)

// batchAttempts is how many times a transaction of several records is run
// when it conflicts with concurrent writers before it is split: one
// conflicting record spoils the whole transaction, and halves that keep
// conflicting are split again, down to single records, which retry as
// Create does.
const batchAttempts = 2

// CreateBatch creates the items in as few transactions as it can: one,
// unless badger finds it too big (badger.ErrTxnTooBig) or it keeps
// conflicting with concurrent writers, when each half is written in turn,
// the second after the first has committed. Each record is written as
// Create writes it (see put), reading its id and unique keys in the
// transaction, so uniqueness holds under concurrency as it does for
// Create; a record refused in a transaction leaves nothing in it.
func (s *Store) CreateBatch(ctx context.Context, tenant, kind string, items []backend.BatchItem) ([]error, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, "")
	if err != nil {
		return nil, err
	}
	defer s.leave()
	errs := make([]error, len(items))
	rows := make([]newRecord, 0, len(items))
	at := make([]int, 0, len(items))
	for i, it := range items {
		r, err := kd.newRecord(op, tenant, it.ID, it.Doc)
		if err != nil {
			errs[i] = err
			continue
		}
		rows = append(rows, r)
		at = append(at, i)
	}
	s.createRows(ctx, kd, rows, at, errs)
	return errs, nil
}

// createRows writes rows, in one transaction if it can, and sets
// errs[at[j]] to the outcome of rows[j].
func (s *Store) createRows(ctx context.Context, kd *kindDef, rows []newRecord, at []int, errs []error) {
	const op = "create"
	kind := kd.kind.Name
	switch len(rows) {
	case 0:
		return
	case 1:
		r := &rows[0]
		errs[at[0]] = s.update(ctx, op, kind, r.id, func(txn *badgerdb.Txn) error { return kd.put(txn, op, r) })
		return
	}
	// A failure of the transaction is every record's failure.
	fail := func(err error) {
		for j, r := range rows {
			errs[at[j]] = mapErr(op, kind, r.id, err)
		}
	}
	refused := make([]error, len(rows))
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			fail(err)
			return
		}
		err := s.db.Update(func(txn *badgerdb.Txn) error {
			clear(refused)
			for j := range rows {
				err := kd.put(txn, op, &rows[j])
				if errors.Is(err, backend.ErrAlreadyExists) {
					refused[j] = err
					continue
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		switch {
		case err == nil:
			for j := range rows {
				errs[at[j]] = refused[j]
			}
			return
		case errors.Is(err, badgerdb.ErrTxnTooBig),
			errors.Is(err, badgerdb.ErrConflict) && attempt >= batchAttempts:
			h := len(rows) / 2
			s.createRows(ctx, kd, rows[:h], at[:h], errs)
			s.createRows(ctx, kd, rows[h:], at[h:], errs)
			return
		case errors.Is(err, badgerdb.ErrConflict):
			if err := pause(ctx, attempt); err != nil {
				fail(err)
				return
			}
		default:
			fail(err)
			return
		}
	}
}
