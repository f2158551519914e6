package badger

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

// waitKnown waits until the store has learnt the keys its database had
// when it was opened.
func waitKnown(t testing.TB, s *Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !s.keys.ready.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the store did not learn its keys in 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFilter(t *testing.T) {
	for _, n := range []int{1, 1000, 100_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(n)))
			f := newFilter(int64(n))
			in := make([]uint64, n)
			for i := range in {
				in[i] = r.Uint64()
				f.set(in[i])
			}
			for _, h := range in {
				require.True(t, f.test(h), "a hash added is not found")
			}
			// At capacity, the false positive rate is about 0.5%.
			fp := 0
			const probes = 100_000
			for range probes {
				if f.test(r.Uint64()) {
					fp++
				}
			}
			assert.Less(t, float64(fp)/probes, 0.02, "false positive rate at capacity")
		})
	}
}

func TestKnownGrows(t *testing.T) {
	k := newKnown()
	k.publish(nil)
	r := rand.New(rand.NewPCG(2, 2))
	in := make([]uint64, 5*minFilterKeys)
	for i := range in {
		in[i] = r.Uint64()
		k.add(in[i])
	}
	assert.Greater(t, len(*k.filters.Load()), 1, "the set did not grow")
	for _, h := range in {
		require.False(t, k.add(h), "a hash added is not found after growing")
	}
	fp := 0
	const probes = 100_000
	for range probes {
		if !k.add(r.Uint64()) {
			fp++
		}
	}
	assert.Less(t, float64(fp)/probes, 0.03, "false positive rate after growing")
}

func TestKnownClaim(t *testing.T) {
	key := []byte("some key")
	t.Run("NotReady", func(t *testing.T) {
		k := newKnown()
		var a *holder
		skip, err := k.claim(&a, key)
		require.NoError(t, err)
		assert.False(t, skip, "a key was skipped before the set was ready")
		assert.Nil(t, a)
		k.publish(nil)
		skip, err = k.claim(&a, key)
		require.NoError(t, err)
		assert.False(t, skip, "a key written before the set was ready is not in it")
	})
	t.Run("Held", func(t *testing.T) {
		k := newKnown()
		k.publish(nil)
		var a, b *holder
		skip, err := k.claim(&a, key)
		require.NoError(t, err)
		assert.True(t, skip, "a new key was not skipped")
		require.NotNil(t, a)

		skip, err = k.claim(&a, key)
		require.NoError(t, err)
		assert.False(t, skip, "the holder's second claim must read its own write")

		_, err = k.claim(&b, key)
		var held *heldError
		require.ErrorAs(t, err, &held)
		assert.ErrorIs(t, err, badgerdb.ErrConflict)
		assert.Contains(t, err.Error(), "holds the key")
		assert.Nil(t, b, "a refused claim holds nothing")

		k.release(a)
		select {
		case <-held.done:
		default:
			t.Fatal("release did not signal the waiting writer")
		}
		skip, err = k.claim(&b, key)
		require.NoError(t, err)
		assert.False(t, skip, "a key once held must be read")
		assert.Nil(t, b)
	})
	t.Run("Noted", func(t *testing.T) {
		k := newKnown()
		k.publish(nil)
		k.note(key)
		var a *holder
		skip, err := k.claim(&a, key)
		require.NoError(t, err)
		assert.False(t, skip, "a noted key was skipped")
	})
}

// TestLearnKeys reopens a store on disk and checks that the keys it had
// are refused once it has learnt them, without reads to find them.
func TestLearnKeys(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	open := func() *Store {
		s, err := Open(dir, Options{})
		require.NoError(t, err)
		require.NoError(t, s.Define(ctx, testKind()))
		return s
	}
	doc := func(i int) *tdoc {
		return &tdoc{ID: fmt.Sprint("id", i), Name: fmt.Sprint("n", i), Emails: []string{fmt.Sprintf("e%d@x.io", i)}, Created: t0}
	}
	s := open()
	const n = 300
	for i := range n {
		_, err := s.Create(ctx, "t", tkind, fmt.Sprint("id", i), doc(i))
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	s = open()
	t.Cleanup(func() { _ = s.Close() })
	waitKnown(t, s)
	// Every key the database has is in the set: a claim of it is a read.
	kd := (*s.kinds.Load())[tkind]
	var own *holder
	for i := range n {
		id := fmt.Sprint("id", i)
		r, err := kd.newRecord("create", "t", id, doc(i))
		require.NoError(t, err)
		keys := [][]byte{r.key}
		for j, ks := range r.keys {
			if kd.indexes[j].Unique {
				keys = append(keys, ks...)
			}
		}
		require.Len(t, keys, 3)
		for _, k := range keys {
			skip, err := s.keys.claim(&own, k)
			require.NoError(t, err)
			require.False(t, skip, "key %q of the reopened store is not known", k)
		}
	}
	require.Nil(t, own)

	cases := []struct {
		name, id string
		doc      *tdoc
		index    string
	}{
		{"Id", "id7", &tdoc{ID: "id7", Name: "fresh", Created: t0}, ""},
		{"Name", "new1", &tdoc{ID: "new1", Name: "n8", Created: t0}, "name"},
		{"Email", "new2", &tdoc{ID: "new2", Name: "fresh2", Emails: []string{"E9@X.io"}, Created: t0}, "emails"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Create(ctx, "t", tkind, c.id, c.doc)
			wantErr(t, err, backend.ErrAlreadyExists, c.index)
			errs, err := s.CreateBatch(ctx, "t", tkind, []backend.BatchItem{{ID: c.id, Doc: c.doc}})
			require.NoError(t, err)
			wantErr(t, errs[0], backend.ErrAlreadyExists, c.index)
		})
	}
	_, err := s.Create(ctx, "t", tkind, "new3", &tdoc{ID: "new3", Name: "fresh3", Emails: []string{"e@fresh.io"}, Created: t0})
	assert.NoError(t, err)
}

// TestHeldKeys races batches that skip reading their keys against writers
// of the same keys: of each key, exactly one record is stored, and a
// writer that meets a held key waits and then finds it taken. Writers 0
// and 1 also race for the same ids; 2 and 3 use ids of their own.
func TestHeldKeys(t *testing.T) {
	ctx := context.Background()
	const writers, keys = 4, 200
	conflicts := int64(0)
	for round := range 5 {
		s := openTest(t)
		waitKnown(t, s)
		var wg sync.WaitGroup
		created := make([][]bool, writers)
		for w := range writers {
			created[w] = make([]bool, keys)
			wg.Add(1)
			go func() {
				defer wg.Done()
				items := make([]backend.BatchItem, keys)
				for i := range items {
					// Writer w starts at a different key, so that
					// holders and waiters interleave.
					j := (i + w*keys/writers) % keys
					id := fmt.Sprintf("w%d-%d", w, j)
					if w < 2 {
						id = fmt.Sprint("k", j)
					}
					items[i] = backend.BatchItem{ID: id,
						Doc: &tdoc{ID: id, Name: fmt.Sprint("name", j), Emails: []string{fmt.Sprintf("e%d@x.io", j)}, Created: t0}}
				}
				if w%2 == 1 {
					// One record per call: Create's own retry path.
					for i, it := range items {
						_, err := s.Create(ctx, "t", tkind, it.ID, it.Doc)
						if err == nil {
							created[w][(i+w*keys/writers)%keys] = true
						} else if !errors.Is(err, backend.ErrAlreadyExists) {
							t.Errorf("round %d: create %s: %v", round, it.ID, err)
						}
					}
					return
				}
				errs, err := s.CreateBatch(ctx, "t", tkind, items)
				if err != nil {
					t.Errorf("round %d: batch: %v", round, err)
					return
				}
				for i, err := range errs {
					if err == nil {
						created[w][(i+w*keys/writers)%keys] = true
					} else if !errors.Is(err, backend.ErrAlreadyExists) {
						t.Errorf("round %d: batch item %d: %v", round, i, err)
					}
				}
			}()
		}
		wg.Wait()
		for j := range keys {
			winners := 0
			for w := range writers {
				if created[w][j] {
					winners++
				}
			}
			assert.Equal(t, 1, winners, "round %d: key %d stored by %d writers", round, j, winners)
		}
		got := collect(t, s, "t", backend.Query{Kind: tkind})
		assert.Len(t, got, keys, "round %d: records stored", round)
		for i := range s.keys.shards {
			assert.Empty(t, s.keys.shards[i].held, "round %d: a key is still held after every write ended", round)
		}
		conflicts += s.keys.conflicts.Load()
	}
	// Not a property of any one run, but over five rounds of four writers
	// some must have met a held key, or the test did not test holding.
	assert.Positive(t, conflicts, "no writer ever met a held key")
}

// TestCloseWhileLearning closes a store while it is still learning the
// keys of its database: Close stops the scan and returns, and the store
// refuses calls as any closed store does.
func TestCloseWhileLearning(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "db")
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	require.NoError(t, s.Define(ctx, testKind()))
	const n = 20_000
	items := make([]backend.BatchItem, n)
	for i := range items {
		id := fmt.Sprint("id", i)
		items[i] = backend.BatchItem{ID: id, Doc: &tdoc{ID: id, Name: fmt.Sprint("n", i), Emails: []string{fmt.Sprintf("e%d@x.io", i)}, Created: t0}}
	}
	errs, err := s.CreateBatch(ctx, "t", tkind, items)
	require.NoError(t, err)
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())

	for range 3 {
		s, err = Open(dir, Options{})
		require.NoError(t, err)
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		select {
		case err := <-closed:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Close did not return while the store was learning its keys")
		}
		_, err = s.Get(ctx, "t", tkind, "id1")
		assert.ErrorIs(t, err, backend.ErrClosed)
	}
}

// TestReplaceMeetsHeldKey has a Replace add a unique value that a create
// holds without having read it: the Replace waits for the create's
// transaction to end, then finds the value taken if the create committed
// and free if it gave up.
func TestReplaceMeetsHeldKey(t *testing.T) {
	ctx := context.Background()
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprint("commit=", commit), func(t *testing.T) {
			s := openTest(t)
			waitKnown(t, s)
			_, err := s.Create(ctx, "t", tkind, "x", &tdoc{ID: "x", Name: "x", Created: t0})
			require.NoError(t, err)
			kd := (*s.kinds.Load())[tkind]
			r, err := kd.newRecord("create", "t", "y", &tdoc{ID: "y", Name: "y", Emails: []string{"held@x.io"}, Created: t0})
			require.NoError(t, err)
			w := s.write()
			require.NoError(t, kd.put(w, "create", &r))
			require.NotNil(t, w.own, "the create read its keys instead of holding them")

			replaced := make(chan error, 1)
			go func() {
				_, err := s.Replace(ctx, "t", tkind, "x", &tdoc{ID: "x", Name: "x", Emails: []string{"HELD@x.io"}, Created: t0}, 0)
				replaced <- err
			}()
			select {
			case err := <-replaced:
				t.Fatalf("Replace returned while the key was held: %v", err)
			case <-time.After(50 * time.Millisecond):
			}
			if commit {
				require.NoError(t, w.Commit())
			}
			w.end()
			err = <-replaced
			if commit {
				wantErr(t, err, backend.ErrAlreadyExists, "emails")
			} else {
				assert.NoError(t, err)
			}
			assert.Positive(t, s.keys.conflicts.Load())
		})
	}
}
