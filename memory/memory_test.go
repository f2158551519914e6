package memory_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// requireErr checks that err is a *backend.Error with the sentinel, op and
// index given.
func requireErr(t *testing.T, err error, sentinel error, op, index string) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var be *backend.Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, op, be.Op)
	assert.Equal(t, index, be.Index)
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	d1 := user("Ann", "ann@example.com")
	rec, err := s.Create(ctx, "acme", kindName, "u1", d1)
	require.NoError(t, err)
	assert.Equal(t, backend.Record{ID: "u1", Version: 1, Doc: d1}, rec)

	got, err := s.Get(ctx, "acme", kindName, "u1")
	require.NoError(t, err)
	assert.Equal(t, rec, got)
	assert.Same(t, d1, got.Doc, "documents are stored as given")

	d2 := d1.with(func(d *doc) { d.title = "Engineer" })
	rec, err = s.Replace(ctx, "acme", kindName, "u1", d2, 1)
	require.NoError(t, err)
	assert.Equal(t, int64(2), rec.Version)
	rec, err = s.Replace(ctx, "acme", kindName, "u1", d1, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(3), rec.Version, "ifVersion 0 is unconditional")

	require.NoError(t, s.Delete(ctx, "acme", kindName, "u1", 3))
	_, err = s.Get(ctx, "acme", kindName, "u1")
	requireErr(t, err, backend.ErrNotFound, "get", "")

	// A deleted id can be created again, from version 1.
	rec, err = s.Create(ctx, "acme", kindName, "u1", d1)
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Version)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.Create(ctx, "acme", kindName, "u1", user("ann"))
	require.NoError(t, err)

	tests := []struct {
		name     string
		call     func() error
		sentinel error
		op       string
	}{
		{"create existing id", func() error {
			_, err := s.Create(ctx, "acme", kindName, "u1", user("other"))
			return err
		}, backend.ErrAlreadyExists, "create"},
		{"replace missing", func() error {
			_, err := s.Replace(ctx, "acme", kindName, "nope", user("x"), 0)
			return err
		}, backend.ErrNotFound, "replace"},
		{"replace in unknown tenant", func() error {
			_, err := s.Replace(ctx, "other", kindName, "u1", user("x"), 0)
			return err
		}, backend.ErrNotFound, "replace"},
		{"replace stale version", func() error {
			_, err := s.Replace(ctx, "acme", kindName, "u1", user("x"), 2)
			return err
		}, backend.ErrConflict, "replace"},
		{"delete missing", func() error { return s.Delete(ctx, "acme", kindName, "nope", 0) }, backend.ErrNotFound, "delete"},
		{"delete stale version", func() error { return s.Delete(ctx, "acme", kindName, "u1", 7) }, backend.ErrConflict, "delete"},
		{"get from another tenant", func() error {
			_, err := s.Get(ctx, "other", kindName, "u1")
			return err
		}, backend.ErrNotFound, "get"},
		{"undefined kind", func() error {
			_, err := s.Get(ctx, "acme", "widgets", "u1")
			return err
		}, backend.ErrUnsupported, "get"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			requireErr(t, tt.call(), tt.sentinel, tt.op, "")
		})
	}

	// Failed writes changed nothing.
	rec, err := s.Get(ctx, "acme", kindName, "u1")
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Version)
	assert.Equal(t, "ann", rec.Doc.(*doc).userName)
}

func TestUnique(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	schema := testSchema()
	_, err := s.Create(ctx, "acme", kindName, "u1", user("Straße", "Ann@Example.com", "ann@work.example"))
	require.NoError(t, err)
	_, err = s.Create(ctx, "acme", kindName, "u2", user("bob", "bob@example.com"))
	require.NoError(t, err)
	_, err = s.Create(ctx, "acme", kindName, "u6", user("Jos\u00e9"))
	require.NoError(t, err)

	tests := []struct {
		name  string
		id    string
		doc   *doc
		index string
	}{
		{"userName folded", "u3", user("STRASSE"), "userName"},
		{"userName decomposed", "u3", user("JOSE\u0301"), "userName"},
		{"email case variant", "u3", user("carl", "ANN@example.COM"), "email"},
		{"second email", "u3", user("carl", "c@example.com", "ANN@WORK.example"), "email"},
	}
	for _, tt := range tests {
		t.Run("create "+tt.name, func(t *testing.T) {
			_, err := s.Create(ctx, "acme", kindName, tt.id, tt.doc)
			requireErr(t, err, backend.ErrAlreadyExists, "create", tt.index)
		})
		t.Run("replace "+tt.name, func(t *testing.T) {
			_, err := s.Replace(ctx, "acme", kindName, "u2", tt.doc, 0)
			requireErr(t, err, backend.ErrAlreadyExists, "replace", tt.index)
		})
	}

	// The failed writes left no record and no index entry behind.
	_, err = s.Get(ctx, "acme", kindName, "u3")
	require.ErrorIs(t, err, backend.ErrNotFound)
	got := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: bind(t, schema, `emails.value eq "c@example.com"`)}))
	assert.Empty(t, got)
	rec, err := s.Get(ctx, "acme", kindName, "u2")
	require.NoError(t, err)
	assert.Equal(t, int64(1), rec.Version)

	// A record may keep its own keys, in any case, and repeat a value.
	_, err = s.Replace(ctx, "acme", kindName, "u1", user("STRASSE", "ann@example.com", "ANN@EXAMPLE.COM"), 0)
	require.NoError(t, err)
	// Keys released by a replace or a delete are free again.
	_, err = s.Create(ctx, "acme", kindName, "u4", user("carl", "ann@work.example"))
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "acme", kindName, "u2", 0))
	_, err = s.Create(ctx, "acme", kindName, "u5", user("BOB", "Bob@Example.com"))
	require.NoError(t, err)
	// Uniqueness is per tenant.
	_, err = s.Create(ctx, "other", kindName, "u1", user("straße", "ann@example.com"))
	require.NoError(t, err)
}

func TestRacingCreates(t *testing.T) {
	const n = 64
	ctx := context.Background()

	t.Run("case variants of one unique key", func(t *testing.T) {
		s := newStore(t)
		var (
			wg      sync.WaitGroup
			wins    atomic.Int32
			clashes atomic.Int32
			start   = make(chan struct{})
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// "racers" has six letters: 64 distinct case variants.
				name := []byte("racers")
				for b := range name {
					if i&(1<<b) != 0 {
						name[b] -= 'a' - 'A'
					}
				}
				_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%02d", i), user(string(name)))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, backend.ErrAlreadyExists):
					var be *backend.Error
					if errors.As(err, &be) && be.Index == "userName" {
						clashes.Add(1)
					}
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load())
		assert.Equal(t, int32(n-1), clashes.Load())
		c, err := s.Count(ctx, "acme", backend.Query{Kind: kindName})
		require.NoError(t, err)
		assert.Equal(t, 1, c)
	})

	t.Run("one id", func(t *testing.T) {
		s := newStore(t)
		var (
			wg    sync.WaitGroup
			wins  atomic.Int32
			start = make(chan struct{})
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := s.Create(ctx, "acme", kindName, "same", user(fmt.Sprintf("user%d", i))); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, backend.ErrAlreadyExists) {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		assert.Equal(t, int32(1), wins.Load())
	})
}

func TestConcurrentIncrements(t *testing.T) {
	const workers, each = 100, 100
	ctx := context.Background()
	s := newStore(t)
	_, err := s.Create(ctx, "acme", kindName, "counter", user("counter").with(func(d *doc) { d.age = int64(0) }))
	require.NoError(t, err)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				rec, err := s.Get(ctx, "acme", kindName, "counter")
				if err != nil {
					t.Error(err)
					return
				}
				old := rec.Doc.(*doc)
				next := old.with(func(d *doc) { d.age = old.age.(int64) + 1 })
				_, err = s.Replace(ctx, "acme", kindName, "counter", next, rec.Version)
				switch {
				case err == nil:
					done++
				case !errors.Is(err, backend.ErrConflict):
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	rec, err := s.Get(ctx, "acme", kindName, "counter")
	require.NoError(t, err)
	assert.Equal(t, int64(workers*each), rec.Doc.(*doc).age)
	assert.Equal(t, int64(workers*each+1), rec.Version)

	// The age index holds exactly the final value.
	schema := testSchema()
	got := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: bind(t, schema, "age ge 0")}))
	require.Len(t, got, 1)
	assert.Equal(t, rec, got[0])
}

func TestSnapshotIsolation(t *testing.T) {
	ctx := context.Background()
	schema := testSchema()

	t.Run("an iteration sees the snapshot of its call", func(t *testing.T) {
		s := newStore(t)
		const n = 500
		for i := range n {
			_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%04d", i), user(fmt.Sprintf("user%04d", i)))
			require.NoError(t, err)
		}
		queries := []backend.Query{
			{Kind: kindName},
			{Kind: kindName, Filter: bind(t, schema, `userName sw "user"`)},
			{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "userName"), Desc: true}}},
		}
		for _, q := range queries {
			next, stop := iter.Pull2(s.Query(ctx, "acme", q))
			first, err, ok := next()
			require.True(t, ok)
			require.NoError(t, err)

			// Rewrite everything while the iteration is paused.
			for i := range n {
				id := fmt.Sprintf("u%04d", i)
				if i%2 == 0 {
					require.NoError(t, s.Delete(ctx, "acme", kindName, id, 0))
				} else {
					_, err := s.Replace(ctx, "acme", kindName, id, user(fmt.Sprintf("zed%04d", i)), 0)
					require.NoError(t, err)
				}
				_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("v%04d", i), user(fmt.Sprintf("user%04da", i)))
				require.NoError(t, err)
			}

			seen := map[string]bool{first.ID: true}
			for {
				r, err, ok := next()
				if !ok {
					break
				}
				require.NoError(t, err)
				assert.Equal(t, int64(1), r.Version)
				assert.True(t, strings.HasPrefix(r.ID, "u"), r.ID)
				seen[r.ID] = true
			}
			stop()
			assert.Len(t, seen, n)

			// Restore the original contents for the next query.
			for i := range n {
				id := fmt.Sprintf("u%04d", i)
				_ = s.Delete(ctx, "acme", kindName, id, 0)
				require.NoError(t, s.Delete(ctx, "acme", kindName, fmt.Sprintf("v%04d", i), 0))
				_, err := s.Create(ctx, "acme", kindName, id, user(fmt.Sprintf("user%04d", i)))
				require.NoError(t, err)
			}
		}
	})

	t.Run("readers racing a writer see prefixes", func(t *testing.T) {
		s := newStore(t)
		const n = 2000
		var (
			wg   sync.WaitGroup
			done atomic.Bool
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done.Store(true)
			for i := range n {
				// Ids and creation times both rise, so every snapshot is
				// a prefix in either order.
				d := user(fmt.Sprintf("user%05d", i)).with(func(d *doc) { d.created = t0.Add(time.Duration(i) * time.Second) })
				if _, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%05d", i), d); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		byCreated := query.Sort{{Attr: mustResolve(t, schema, "created"), Desc: true}}
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !done.Load() {
					var got []string
					for r, err := range s.Query(ctx, "acme", backend.Query{Kind: kindName, Sort: byCreated}) {
						if err != nil {
							t.Error(err)
							return
						}
						got = append(got, r.ID)
					}
					for i, id := range got {
						if want := fmt.Sprintf("u%05d", len(got)-1-i); id != want {
							t.Errorf("position %d of %d: got %s, want %s", i, len(got), id, want)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		c, err := s.Count(ctx, "acme", backend.Query{Kind: kindName})
		require.NoError(t, err)
		assert.Equal(t, n, c)
	})
}

func mustResolve(tb testing.TB, s *query.Schema, path string) *query.Attribute {
	tb.Helper()
	a, err := s.Resolve(path)
	require.NoError(tb, err)
	return a
}

func TestQueryStopsWhenConsumerBreaks(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	schema := testSchema()
	for i := range 50 {
		_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%02d", i), user(fmt.Sprintf("user%02d", i)))
		require.NoError(t, err)
	}
	queries := []backend.Query{
		{Kind: kindName},
		{Kind: kindName, Filter: bind(t, schema, `userName sw "user"`)},
		{Kind: kindName, Filter: bind(t, schema, `title pr or userName sw "user"`)},
		{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "userName")}}},
		{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "title")}}},
	}
	for _, q := range queries {
		n := 0
		for _, err := range s.Query(ctx, "acme", q) {
			require.NoError(t, err)
			if n++; n == 3 {
				break
			}
		}
		assert.Equal(t, 3, n)
	}
}

func TestContextCancellation(t *testing.T) {
	s := newStore(t)
	bg := context.Background()
	for i := range 3000 {
		_, err := s.Create(bg, "acme", kindName, fmt.Sprintf("u%05d", i), user(fmt.Sprintf("user%05d", i)))
		require.NoError(t, err)
	}

	canceled, cancel := context.WithCancel(bg)
	cancel()
	_, err := s.Get(canceled, "acme", kindName, "u00001")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Create(canceled, "acme", kindName, "new", user("new"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Replace(canceled, "acme", kindName, "u00001", user("x"), 0)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Delete(canceled, "acme", kindName, "u00001", 0), context.Canceled)
	_, err = s.Count(canceled, "acme", backend.Query{Kind: kindName})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Define(canceled, testKind()), context.Canceled)
	_, err = s.Get(bg, "acme", kindName, "u00001")
	require.NoError(t, err, "nothing was deleted")

	schema := testSchema()
	for _, q := range []backend.Query{
		{Kind: kindName},
		{Kind: kindName, Filter: bind(t, schema, `userName pr`)},
		{Kind: kindName, Filter: bind(t, schema, `userName sw "user"`)},
		{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "userName")}}},
		{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "title")}}},
	} {
		ctx, cancel := context.WithCancel(bg)
		rows := 0
		var last error
		for _, err := range s.Query(ctx, "acme", q) {
			if err != nil {
				last = err
				break
			}
			if rows++; rows == 10 {
				cancel()
			}
		}
		cancel()
		require.ErrorIs(t, last, context.Canceled)
		assert.Less(t, rows, 10+300, "the scan stops soon after the cancellation")
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	s := memory.New()
	require.NoError(t, s.Define(ctx, testKind()))
	_, err := s.Create(ctx, "acme", kindName, "u1", user("ann"))
	require.NoError(t, err)

	next, stop := iter.Pull2(s.Query(ctx, "acme", backend.Query{Kind: kindName}))
	defer stop()
	require.NoError(t, s.Close())

	// An iteration begun before Close finishes on its snapshot.
	r, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	assert.Equal(t, "u1", r.ID)

	_, err = s.Get(ctx, "acme", kindName, "u1")
	requireErr(t, err, backend.ErrClosed, "get", "")
	_, err = s.Create(ctx, "acme", kindName, "u2", user("bob"))
	require.ErrorIs(t, err, backend.ErrClosed)
	_, err = s.Replace(ctx, "acme", kindName, "u1", user("bob"), 0)
	require.ErrorIs(t, err, backend.ErrClosed)
	require.ErrorIs(t, s.Delete(ctx, "acme", kindName, "u1", 0), backend.ErrClosed)
	_, err = s.Count(ctx, "acme", backend.Query{Kind: kindName})
	require.ErrorIs(t, err, backend.ErrClosed)
	for _, err := range s.Query(ctx, "acme", backend.Query{Kind: kindName}) {
		require.ErrorIs(t, err, backend.ErrClosed)
	}
	require.ErrorIs(t, s.Define(ctx, testKind()), backend.ErrClosed)
	require.ErrorIs(t, s.Close(), backend.ErrClosed)
}

func TestDefine(t *testing.T) {
	ctx := context.Background()
	k := testKind()
	tests := []struct {
		name  string
		kinds []backend.Kind
		ok    bool
	}{
		{"ok", []backend.Kind{k}, true},
		{"no name", []backend.Kind{{Schema: k.Schema}}, false},
		{"no schema", []backend.Kind{{Name: "x"}}, false},
		{"twice in one call", []backend.Kind{k, k}, false},
		{"unknown attribute", []backend.Kind{{Name: "x", Schema: k.Schema, Indexes: []backend.Index{{Name: "i", Attr: "nope"}}}}, false},
		{"complex attribute", []backend.Kind{{Name: "x", Schema: k.Schema, Indexes: []backend.Index{{Name: "i", Attr: "emails"}}}}, false},
		{"duplicate index name", []backend.Kind{{Name: "x", Schema: k.Schema, Indexes: []backend.Index{{Name: "i", Attr: "title"}, {Name: "i", Attr: "code"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := memory.New().Define(ctx, tt.kinds...)
			if tt.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}

	t.Run("again", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Create(ctx, "acme", kindName, "u1", user("ann"))
		require.NoError(t, err)
		require.NoError(t, s.Define(ctx, testKind()), "same indexes")
		other := testKind()
		other.Indexes = other.Indexes[:2]
		require.Error(t, s.Define(ctx, other), "different indexes")
		more := backend.Kind{Name: "more", Schema: testSchema(), Indexes: []backend.Index{{Name: "t", Attr: "title"}}}
		require.NoError(t, s.Define(ctx, more))
		_, err = s.Create(ctx, "acme", "more", "m1", user("ann"))
		require.NoError(t, err, "kinds are separate")
		rec, err := s.Get(ctx, "acme", kindName, "u1")
		require.NoError(t, err)
		assert.Equal(t, "u1", rec.ID)
	})
}

func TestPushdown(t *testing.T) {
	s := newStore(t)
	schema := testSchema()
	p := s.Pushdown(kindName)
	// Every filter runs exactly in the store: through an index range
	// (the first group) or evaluated on the rows (the rest).
	for _, f := range []string{
		`userName eq "Ann"`, `userName sw "an"`, `userName gt "m"`, `userName le "m"`,
		`emails.value eq "a@b.c"`, `emails eq "a@b.c"`, `emails sw "a"`, `emails.value lt "b"`,
		`age gt 3`, `age eq 3.0`, `created ge "2024-01-01T00:00:00Z"`, `active eq true`,
		`code eq "A1"`, `code sw "A"`, `claims.level eq 3`, `claims.level gt "m"`, `claims.level eq true`,

		`claims.other eq 3`, `userName ne "Ann"`, `userName co "nn"`, `userName ew "nn"`,
		`title pr`, `title eq null`, `active ne true`, `emails.type eq "work"`,
		`emails[value eq "a@b.c"]`, `not (userName eq "x")`,
	} {
		assert.Equal(t, query.Exact, p.Filter(bind(t, schema, f)), f)
	}

	sorts := []struct {
		sort string
		want bool
	}{
		{"", true},
		{"userName", true},
		{"-created", true},
		{"title", false}, // indexed but not required
		{"userName,created", false},
		{"age", false},
		{"claims.level", false},
	}
	for _, tt := range sorts {
		srt, err := query.ParseSort(tt.sort, schema)
		require.NoError(t, err)
		assert.Equal(t, tt.want, p.Sort(srt), tt.sort)
	}

	undefined := s.Pushdown("widgets")
	assert.Equal(t, query.Unsupported, undefined.Filter(bind(t, schema, `userName eq "x"`)))
	assert.True(t, undefined.Sort(nil))
	byName, err := query.ParseSort("userName", schema)
	require.NoError(t, err)
	assert.False(t, undefined.Sort(byName))
}

func TestExplain(t *testing.T) {
	s := newStore(t)
	schema := testSchema()
	created := query.Sort{{Attr: mustResolve(t, schema, "created"), Desc: true}}
	tests := []struct {
		q    backend.Query
		want string
	}{
		{backend.Query{Kind: kindName}, "scan docs; id order"},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `emails.value eq "A@b.c"`)},
			`index email (emails.value) eq "A@b.c"; id order`},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `userName sw "a" and (age gt 3 or code eq "x")`)},
			`intersect(index userName sw "a", union(index age gt 3, index code eq "x")); id order`},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `userName sw "a" and title co "x"`)},
			`index userName sw "a"; recheck per record: title co "x"; id order`},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `title co "x"`)},
			`scan docs (no index); evaluate per record: title co "x"; id order`},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `(userName sw "a" or title co "x") and age gt 3 and not (code eq "y")`)},
			`index age gt 3; recheck per record: (userName sw "a" or title co "x") and not (code eq "y"); id order`},
		{backend.Query{Kind: kindName, Filter: bind(t, schema, `(userName sw "a" and title co "x") or age gt 3`)},
			`union(index userName sw "a", index age gt 3); recheck per record: userName sw "a" and title co "x" or age gt 3; id order`},
		{backend.Query{Kind: kindName, Sort: created, After: &backend.Position{Values: []query.Value{{Kind: query.KindTime, Time: t0}}, ID: "u1"}},
			`scan docs; sorted by index created desc after ("2024-05-01T12:00:00Z", "u1")`},
		{backend.Query{Kind: kindName, Sort: query.Sort{{Attr: mustResolve(t, schema, "emails.type")}}, Reverse: true},
			`scan docs; sorted in memory by emails.type reversed`},
		{backend.Query{Kind: "widgets"}, "kind widgets not defined"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, s.Explain("acme", tt.q))
	}
}

func TestCapabilities(t *testing.T) {
	assert.Equal(t, backend.Capabilities{}, memory.New().Capabilities())
}

// TestMalformedFilter checks that an and/or node missing a side matches
// nothing, as query.Eval says, even beside a comparison an index answers:
// the store must not take the indexed side for the whole.
func TestMalformedFilter(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	schema := testSchema()
	_, err := s.Create(ctx, "acme", kindName, "u1", user("ann", "ann@example.com"))
	require.NoError(t, err)
	leaf := bind(t, schema, `userName eq "ann"`)
	for name, f := range map[string]query.Expr{
		"and, no right": &query.And{Left: leaf},
		"and, no left":  &query.And{Right: leaf},
		"or, no right":  &query.Or{Left: leaf},
	} {
		q := backend.Query{Kind: kindName, Filter: f}
		assert.Empty(t, collect(t, s.Query(ctx, "acme", q)), name)
		n, err := s.Count(ctx, "acme", q)
		require.NoError(t, err, name)
		assert.Zero(t, n, name)
		assert.False(t, query.Compile(f).Match(user("ann", "ann@example.com")), name)
	}
}
