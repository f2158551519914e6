package badger

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

// TestCreateBatchSplitsTooBig checks that a batch too big for one badger
// transaction is written in several, each item still stored or refused on
// its own, and that the store stays consistent.
func TestCreateBatchSplitsTooBig(t *testing.T) {
	ctx := context.Background()
	s, err := Open("", Options{InMemory: true, Tune: func(o badgerdb.Options) badgerdb.Options {
		// A 1 MiB memtable caps a transaction at about a thousand keys.
		return o.WithMemTableSize(1 << 20).WithValueThreshold(1 << 10)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	const n = 3000
	if _, err := s.Create(ctx, "t", tkind, "stored", &tdoc{ID: "stored", Name: "name-1500"}); err != nil {
		t.Fatal(err)
	}
	items := make([]backend.BatchItem, n)
	for i := range items {
		id := fmt.Sprintf("d%05d", i)
		name := fmt.Sprintf("name-%d", i)
		if i == n-1 {
			name = "NAME-7" // taken by an earlier item, in another transaction
		}
		items[i] = backend.BatchItem{ID: id, Doc: &tdoc{ID: id, Name: name, Emails: []string{id + "@example.com"},
			Score: int64(i), Created: time.Unix(int64(i), 0).UTC(), Code: "c", Active: true}}
	}
	errs, err := s.CreateBatch(ctx, "t", tkind, items)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != n {
		t.Fatalf("%d errors for %d items", len(errs), n)
	}
	for i, err := range errs {
		var be *backend.Error
		switch i {
		case 1500, n - 1:
			if !errors.Is(err, backend.ErrAlreadyExists) || !errors.As(err, &be) || be.Index != "name" || be.ID != items[i].ID {
				t.Errorf("item %d: got %v, want ErrAlreadyExists on index name", i, err)
			}
		default:
			if err != nil {
				t.Errorf("item %d: %v", i, err)
			}
		}
	}
	got, err := s.Count(ctx, "t", backend.Query{Kind: tkind})
	if err != nil {
		t.Fatal(err)
	}
	if want := n - 2 + 1; got != want {
		t.Errorf("%d records, want %d", got, want)
	}
	mustVerify(t, s)
}
