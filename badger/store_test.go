package badger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func wantErr(t *testing.T, err, sentinel error, index string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("got %v, want %v", err, sentinel)
	}
	var be *backend.Error
	if !errors.As(err, &be) {
		t.Fatalf("%v is not a *backend.Error", err)
	}
	if be.Index != index {
		t.Fatalf("%v: index %q, want %q", err, be.Index, index)
	}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	d := &tdoc{ID: "a", Name: "Ann", Emails: []string{"ann@x.io", "Ann@Y.io"}, Score: 3, Created: t0, Code: "c1"}
	r, err := s.Create(ctx, "t1", tkind, "a", d)
	if err != nil || r.Version != 1 || r.ID != "a" {
		t.Fatalf("create: %+v, %v", r, err)
	}
	got, err := s.Get(ctx, "t1", tkind, "a")
	if err != nil || got.Version != 1 {
		t.Fatalf("get: %+v, %v", got, err)
	}
	gd := got.Doc.(*tdoc)
	if gd.Name != "Ann" || len(gd.Emails) != 2 || !gd.Created.Equal(t0) || gd.Created.Nanosecond() != t0.Nanosecond() {
		t.Fatalf("get returned %+v", gd)
	}

	_, err = s.Get(ctx, "t2", tkind, "a")
	wantErr(t, err, backend.ErrNotFound, "")
	_, err = s.Create(ctx, "t1", tkind, "a", &tdoc{ID: "a", Name: "Other", Created: t0})
	wantErr(t, err, backend.ErrAlreadyExists, "")

	d2 := *d
	d2.Name, d2.Emails = "Anna", []string{"ann@x.io"}
	r, err = s.Replace(ctx, "t1", tkind, "a", &d2, 1)
	if err != nil || r.Version != 2 {
		t.Fatalf("replace: %+v, %v", r, err)
	}
	_, err = s.Replace(ctx, "t1", tkind, "a", &d2, 1)
	wantErr(t, err, backend.ErrConflict, "")
	r, err = s.Replace(ctx, "t1", tkind, "a", &d2, 0)
	if err != nil || r.Version != 3 {
		t.Fatalf("unconditional replace: %+v, %v", r, err)
	}
	_, err = s.Replace(ctx, "t1", tkind, "missing", &d2, 0)
	wantErr(t, err, backend.ErrNotFound, "")

	// The old name and the dropped email are free again.
	if _, err := s.Create(ctx, "t1", tkind, "b", &tdoc{ID: "b", Name: "ANN", Emails: []string{"ann@y.io"}, Created: t0}); err != nil {
		t.Fatalf("reusing freed values: %v", err)
	}
	err = s.Delete(ctx, "t1", tkind, "a", 2)
	wantErr(t, err, backend.ErrConflict, "")
	if err := s.Delete(ctx, "t1", tkind, "a", 3); err != nil {
		t.Fatal(err)
	}
	err = s.Delete(ctx, "t1", tkind, "a", 0)
	wantErr(t, err, backend.ErrNotFound, "")
	if _, err := s.Create(ctx, "t1", tkind, "c", &tdoc{ID: "c", Name: "anna", Emails: []string{"ANN@X.IO"}, Created: t0}); err != nil {
		t.Fatalf("values of a deleted record: %v", err)
	}
	// A recreated id starts again at version 1.
	r, err = s.Create(ctx, "t1", tkind, "a", &tdoc{ID: "a", Name: "new", Created: t0})
	if err != nil || r.Version != 1 {
		t.Fatalf("recreate: %+v, %v", r, err)
	}

	_, err = s.Get(ctx, "t1", "nokind", "a")
	wantErr(t, err, backend.ErrUnsupported, "")
	mustVerify(t, s)
}

func TestUniqueViolations(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	mk := func(id, name string, emails ...string) *tdoc {
		return &tdoc{ID: id, Name: name, Emails: emails, Created: t0}
	}
	if _, err := s.Create(ctx, "t", tkind, "1", mk("1", "Straße", "a@x.io")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		doc   *tdoc
		index string
	}{
		{mk("2", "STRASSE"), "name"},
		{mk("2", "strasse"), "name"},
		{mk("2", "Stra\u00dfe"), "name"},
		{mk("2", "other", "A@X.IO"), "emails"},
		{mk("2", "other", "b@x.io", "a@x.io"), "emails"},
	} {
		_, err := s.Create(ctx, "t", tkind, "2", c.doc)
		wantErr(t, err, backend.ErrAlreadyExists, c.index)
		if _, err := s.Get(ctx, "t", tkind, "2"); !errors.Is(err, backend.ErrNotFound) {
			t.Fatalf("a failed create left a record: %v", err)
		}
	}
	// Another tenant is another namespace.
	if _, err := s.Create(ctx, "u", tkind, "2", mk("2", "strasse", "a@x.io")); err != nil {
		t.Fatal(err)
	}
	// A record may repeat a value of its own (one entry), and a replace
	// that takes another's value fails and changes nothing.
	if _, err := s.Create(ctx, "t", tkind, "2", mk("2", "bob", "b@x.io", "B@x.io")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Replace(ctx, "t", tkind, "2", mk("2", "bob", "b@x.io", "a@X.io"), 1)
	wantErr(t, err, backend.ErrAlreadyExists, "emails")
	r, _ := s.Get(ctx, "t", tkind, "2")
	if r.Version != 1 || len(r.Doc.(*tdoc).Emails) != 2 {
		t.Fatalf("failed replace changed the record: %+v", r)
	}
	mustVerify(t, s)
}

func TestRacingCreates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const n = 64
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			name := "racer"
			if i%2 == 1 {
				name = "RACER"
			}
			_, err := s.Create(ctx, "t", tkind, fmt.Sprint("id", i), &tdoc{Name: name, Emails: []string{fmt.Sprint("e", i, "@x.io")}, Created: t0})
			if err == nil {
				wins.Add(1)
				return
			}
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	if wins.Load() != 1 {
		t.Fatalf("%d creates won, want 1", wins.Load())
	}
	for err := range errs {
		wantErr(t, err, backend.ErrAlreadyExists, "name")
	}
	n2, err := s.Count(ctx, "t", backend.Query{Kind: tkind})
	if err != nil || n2 != 1 {
		t.Fatalf("count %d, %v", n2, err)
	}
	mustVerify(t, s)
}

func TestNoLostUpdates(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Create(ctx, "t", tkind, "ctr", &tdoc{ID: "ctr", Name: "ctr", Created: t0}); err != nil {
		t.Fatal(err)
	}
	const workers, each = 100, 100
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				r, err := s.Get(ctx, "t", tkind, "ctr")
				if err != nil {
					errs <- err
					return
				}
				d := *r.Doc.(*tdoc)
				d.N++
				_, err = s.Replace(ctx, "t", tkind, "ctr", &d, r.Version)
				switch {
				case err == nil:
					done++
				case errors.Is(err, backend.ErrConflict):
					conflicts.Add(1)
				default:
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "t", tkind, "ctr")
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Doc.(*tdoc).N; n != workers*each || r.Version != workers*each+1 {
		t.Fatalf("counter %d at version %d, want %d at %d", n, r.Version, workers*each, workers*each+1)
	}
	t.Logf("%d increments, %d version conflicts retried by the callers", workers*each, conflicts.Load())
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Create(ctx, "t", tkind, fmt.Sprint(i), &tdoc{Name: fmt.Sprint("n", i), Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	// A consumer that closes the store in its loop body: the next step
	// reports ErrClosed instead of touching a closed database.
	var seen int
	var last error
	for _, err := range s.Query(ctx, "t", backend.Query{Kind: tkind}) {
		if err != nil {
			last = err
			break
		}
		seen++
		if seen == 2 {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if seen != 2 || !errors.Is(last, backend.ErrClosed) {
		t.Fatalf("saw %d records, then %v", seen, last)
	}
	err = s.Close()
	wantErr(t, err, backend.ErrClosed, "")
	_, err = s.Get(ctx, "t", tkind, "1")
	wantErr(t, err, backend.ErrClosed, "")
	_, err = s.Create(ctx, "t", tkind, "9", &tdoc{Name: "x", Created: t0})
	wantErr(t, err, backend.ErrClosed, "")
	_, err = s.Count(ctx, "t", backend.Query{Kind: tkind})
	wantErr(t, err, backend.ErrClosed, "")
	for _, err := range s.Query(ctx, "t", backend.Query{Kind: tkind}) {
		wantErr(t, err, backend.ErrClosed, "")
	}
	if _, err := s.Verify(ctx); !errors.Is(err, backend.ErrClosed) {
		t.Fatalf("verify after close: %v", err)
	}
}

// TestCloseDuringQueries closes the store while other goroutines are in
// the middle of queries and writes; run with -race.
func TestCloseDuringQueries(t *testing.T) {
	ctx := context.Background()
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if _, err := s.Create(ctx, "t", tkind, fmt.Sprint(i), &tdoc{Name: fmt.Sprint("n", i), Score: int64(i % 7), Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	filter, sort := bind(t, "score gt 2"), mustSort(t, "-score")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				q := backend.Query{Kind: tkind, Filter: filter}
				if g%2 == 0 {
					q.Sort = sort
				}
				for _, err := range s.Query(ctx, "t", q) {
					if err != nil {
						if !errors.Is(err, backend.ErrClosed) {
							t.Error(err)
						}
						return
					}
					time.Sleep(10 * time.Microsecond)
				}
				_, err := s.Create(ctx, "t", tkind, fmt.Sprint("w", g, time.Now().UnixNano()), &tdoc{Name: fmt.Sprint("w", g, time.Now().UnixNano()), Created: t0})
				if err != nil {
					if !errors.Is(err, backend.ErrClosed) {
						t.Error(err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestOpenOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Capabilities().Durable {
		t.Error("on-disk store not durable")
	}
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, "t", tkind, "a", &tdoc{Name: "a", Emails: []string{"a@x.io"}, Created: t0}); err != nil {
		t.Fatal(err)
	}
	// The directory is locked while open.
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("second open of a locked directory succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{GCInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(ctx, "t", tkind, "a"); err != nil || r.Doc.(*tdoc).Name != "a" {
		t.Fatalf("after reopen: %+v, %v", r, err)
	}
	if err := s.CollectGarbage(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond) // let the scheduled GC run
	mustVerify(t, s)

	if _, err := Open("x", Options{InMemory: true}); err == nil {
		t.Error("in-memory store with a path accepted")
	}
}

func TestOpenRefusesForeignData(t *testing.T) {
	dir := t.TempDir()
	db, err := badgerdb.Open(badgerdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badgerdb.Txn) error { return txn.Set([]byte("hello"), []byte("world")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(dir, Options{}); err == nil {
		s.Close()
		t.Fatal("opened a badger database that is not a store")
	}
}

func TestContextCanceled(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Create(ctx, "t", tkind, "a", &tdoc{Name: "a", Created: t0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("create: %v", err)
	}
	for _, err := range s.Query(ctx, "t", backend.Query{Kind: tkind}) {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("query: %v", err)
		}
	}
}
