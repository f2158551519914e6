package badger

import (
	"context"
	"errors"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

var _ backend.Batcher = (*Store)(nil)

// txnRecords is the most records CreateBatch writes in one transaction.
// A bigger batch is written as a pipeline of such transactions (see
// createRows).
const txnRecords = 128

// batchAttempts is how many times a transaction of several records is run
// when it conflicts with concurrent writers before it is split: one
// conflicting record spoils the whole transaction, and halves that keep
// conflicting are split again, down to single records, which retry as
// Create does.
const batchAttempts = 2

// CreateBatch creates the items in transactions of up to txnRecords
// records, one after the other. Each record is written as Create writes
// it (see put), checking its id and unique keys in the transaction (a
// read, or a key held; see known), so uniqueness holds under concurrency
// as it does for Create, and a record refused in a transaction leaves
// nothing in it. A transaction that badger finds too big
// (badger.ErrTxnTooBig) or that keeps conflicting with concurrent writers
// is split in halves, the second written after the first has committed.
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

// stage is one transaction of a pipelined batch: the rows [lo, hi) put
// in txn, those refused, and the failure that stopped the putting.
type stage struct {
	txn     *wtx
	lo, hi  int
	refused []error
	err     error
}

// createRows writes rows and sets errs[at[j]] to the outcome of rows[j].
//
// Transactions are pipelined: the next one reads and puts its records
// while badger writes the one before. Its snapshot is then older than
// that write, so a record of it that clashes with one just committed is
// not seen as taken; but it either read the clashing key, so that badger
// finds the conflict when it commits, or found it held by the one before
// (see known), and the rows are run again, now seeing the winner. Commits
// go in row order, so of two rows of one batch that clash the earlier is
// stored. Once a transaction fails (a conflict with another writer, too
// big, or worse), the rest of the rows go one transaction at a time
// (createTxn).
func (s *Store) createRows(ctx context.Context, kd *kindDef, rows []newRecord, at []int, errs []error) {
	const op = "create"
	// fill puts the stage's records in its transaction.
	fill := func(st *stage) {
		st.hi = min(st.lo+txnRecords, len(rows))
		st.refused = make([]error, st.hi-st.lo)
		st.err = kd.putAll(st.txn, op, rows[st.lo:st.hi], st.refused)
	}
	done := make(chan error, 1)
	var cur, next *stage
	// Whatever way out, panics included, no transaction is left holding
	// keys; ending one twice does nothing.
	defer func() {
		for _, st := range []*stage{cur, next} {
			if st != nil {
				st.txn.end()
			}
		}
	}()
	cur = &stage{txn: s.write()}
	fill(cur)
	for {
		if cur.err != nil || ctx.Err() != nil {
			cur.txn.end()
			s.createSeq(ctx, kd, rows[cur.lo:], at[cur.lo:], errs)
			return
		}
		next = nil
		if cur.hi < len(rows) {
			// Begun before cur commits, so that it need not wait for
			// cur's write to be applied.
			next = &stage{txn: s.write(), lo: cur.hi}
		}
		cur.txn.CommitWith(func(err error) { done <- err })
		if next != nil {
			fill(next)
		}
		err := <-done
		cur.txn.end() // after the commit, whose writes are now visible
		if err != nil {
			if next != nil {
				next.txn.end()
			}
			s.createSeq(ctx, kd, rows[cur.lo:], at[cur.lo:], errs)
			return
		}
		for j, err := range cur.refused {
			errs[at[cur.lo+j]] = err
		}
		if next == nil {
			return
		}
		cur = next
	}
}

// createSeq writes rows in transactions of up to txnRecords records, one
// after the other.
func (s *Store) createSeq(ctx context.Context, kd *kindDef, rows []newRecord, at []int, errs []error) {
	for lo := 0; lo < len(rows); lo += txnRecords {
		hi := min(lo+txnRecords, len(rows))
		s.createTxn(ctx, kd, rows[lo:hi], at[lo:hi], errs)
	}
}

// createTxn writes rows in one transaction if it can, split as
// CreateBatch says if not, and sets errs[at[j]] to the outcome of
// rows[j].
func (s *Store) createTxn(ctx context.Context, kd *kindDef, rows []newRecord, at []int, errs []error) {
	const op = "create"
	kind := kd.kind.Name
	switch len(rows) {
	case 0:
		return
	case 1:
		r := &rows[0]
		errs[at[0]] = s.update(ctx, op, kind, r.id, func(w *wtx) error { return kd.put(w, op, r) })
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
		err := s.updateOnce(func(w *wtx) error { return kd.putAll(w, op, rows, refused) })
		switch {
		case err == nil:
			for j, err := range refused {
				errs[at[j]] = err
			}
			return
		case errors.Is(err, badgerdb.ErrTxnTooBig),
			errors.Is(err, badgerdb.ErrConflict) && attempt >= batchAttempts:
			h := len(rows) / 2
			s.createTxn(ctx, kd, rows[:h], at[:h], errs)
			s.createTxn(ctx, kd, rows[h:], at[h:], errs)
			return
		case errors.Is(err, badgerdb.ErrConflict):
			if err := pause(ctx, attempt, err); err != nil {
				fail(err)
				return
			}
		default:
			fail(err)
			return
		}
	}
}

// putAll puts rows in txn, setting refused[j] to the ErrAlreadyExists of
// each row refused. Any other failure stops it and is returned.
func (kd *kindDef) putAll(w *wtx, op string, rows []newRecord, refused []error) error {
	clear(refused)
	for j := range rows {
		err := kd.put(w, op, &rows[j])
		if errors.Is(err, backend.ErrAlreadyExists) {
			refused[j] = err
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
