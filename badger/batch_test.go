package badger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

// TestCreateBatchTransactions checks batches that take more than one
// transaction: pipelined transactions whose records clash with those of
// the transaction just before (which the later one's snapshot does not
// see), and transactions too big for badger, which are split. Each item
// is still stored or refused as Create would, and the store stays
// consistent.
func TestCreateBatchTransactions(t *testing.T) {
	const n = 3 * txnRecords
	cases := []struct {
		name string
		// code pads the records' non-unique index key, to make
		// transactions big.
		code string
		// clash maps an item to the earlier item whose name (or, when
		// id is set, whose id) it repeats.
		clash map[int]int
		id    map[int]bool
	}{
		{"Pipelined", "c", map[int]int{txnRecords + 5: txnRecords + 1, n - 1: 0}, nil},
		{"PipelinedConflict", "c", map[int]int{txnRecords + 2: 5, 2*txnRecords + 1: txnRecords + 7, n - 1: 0}, nil},
		{"PipelinedSameID", "c", map[int]int{txnRecords: txnRecords - 1, n - 2: 3}, map[int]bool{txnRecords: true, n - 2: true}},
		{"TooBig", strings.Repeat("c", 1500), map[int]int{txnRecords + 2: 5, n - 1: 7}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, err := Open("", Options{InMemory: true, Tune: func(o badgerdb.Options) badgerdb.Options {
				// A 1 MiB memtable caps a transaction at about 150 kB.
				return o.WithMemTableSize(1 << 20).WithValueThreshold(4 << 10)
			}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Define(ctx, testKind()); err != nil {
				t.Fatal(err)
			}
			items := make([]backend.BatchItem, n)
			for i := range items {
				id, name := fmt.Sprintf("d%05d", i), fmt.Sprintf("name-%d", i)
				if j, ok := tc.clash[i]; ok && tc.id[i] {
					id = fmt.Sprintf("d%05d", j)
				} else if ok {
					name = fmt.Sprintf("NAME-%d", j)
				}
				items[i] = backend.BatchItem{ID: id, Doc: &tdoc{ID: id, Name: name, Emails: []string{fmt.Sprintf("e%d@example.com", i)},
					Score: int64(i), Created: time.Unix(int64(i), 0).UTC(), Code: tc.code + id, Active: true}}
			}
			errs, err := s.CreateBatch(ctx, "t", tkind, items)
			if err != nil {
				t.Fatal(err)
			}
			if len(errs) != n {
				t.Fatalf("%d errors for %d items", len(errs), n)
			}
			for i, err := range errs {
				_, clashes := tc.clash[i]
				if !clashes {
					if err != nil {
						t.Errorf("item %d: %v", i, err)
					}
					continue
				}
				want := "name"
				if tc.id[i] {
					want = ""
				}
				var be *backend.Error
				if !errors.Is(err, backend.ErrAlreadyExists) || !errors.As(err, &be) || be.Index != want || be.ID != items[i].ID {
					t.Errorf("item %d: got %v, want ErrAlreadyExists on index %q", i, err, want)
				}
			}
			got, err := s.Count(ctx, "t", backend.Query{Kind: tkind})
			if err != nil {
				t.Fatal(err)
			}
			if want := n - len(tc.clash); got != want {
				t.Errorf("%d records, want %d", got, want)
			}
			mustVerify(t, s)
		})
	}
}
