package memory_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// TestWalkArray checks that a table walked in full answers the same from
// the array it then keeps as from its tree, in every order and from every
// position, and that a write publishes a table that the next walks read
// afresh.
func TestWalkArray(t *testing.T) {
	ctx := context.Background()
	schema := testSchema()
	s := newStore(t)
	titles := []string{"alpha", "beta", "gamma", ""}
	for i := range 60 {
		d := user(fmt.Sprintf("u%02d", i), fmt.Sprintf("u%02d@x.test", i))
		d.title, d.age, d.active = titles[i%len(titles)], i%7, i%3 != 0
		_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("id%02d", (i*37)%60), d)
		require.NoError(t, err)
	}
	queries := []struct {
		name    string
		filter  string
		sort    string
		after   string // an id to continue after, in id order only
		reverse bool
	}{
		{name: "every row"},
		{name: "every row backwards", reverse: true},
		{name: "after an id", after: "id17"},
		{name: "after an id backwards", after: "id17", reverse: true},
		{name: "after the last id", after: "id59"},
		{name: "after an id not stored", after: "id17x"},
		{name: "after an id not stored, backwards", after: "id17x", reverse: true},
		{name: "scan", filter: `title co "a"`},
		{name: "scan backwards", filter: `title co "a"`, reverse: true},
		{name: "broad range and residual", filter: `age ge 1 and title co "m"`},
		{name: "broad range alone", filter: `age ge 1`},
		{name: "sorted in memory", filter: `title co "a"`, sort: "-age"},
		{name: "sorted in memory, every row", sort: "title"},
	}
	// fresh publishes a new table, without an array, by writing a record
	// unchanged.
	fresh := func(t *testing.T) {
		rec, err := s.Get(ctx, "acme", kindName, "id59")
		require.NoError(t, err)
		_, err = s.Replace(ctx, "acme", kindName, "id59", rec.Doc, rec.Version)
		require.NoError(t, err)
	}
	// run returns what each query yields, by Query and by Visit, and its
	// count; with each query on a new table when renew is set, so that
	// Query walks the tree and Visit, the next walk, the array it makes.
	run := func(t *testing.T, renew bool) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		for _, q := range queries {
			if renew {
				fresh(t)
			}
			bq := backend.Query{Kind: kindName, Reverse: q.reverse}
			if q.filter != "" {
				bq.Filter = bind(t, schema, q.filter)
			}
			if q.sort != "" {
				srt, err := query.ParseSort(q.sort, schema)
				require.NoError(t, err)
				bq.Sort = srt
			}
			if q.after != "" {
				bq.After = &backend.Position{ID: q.after}
			}
			got := ids(collect(t, s.Query(ctx, "acme", bq)))
			visited := []string{}
			require.NoError(t, s.Visit(ctx, "acme", bq, func(r backend.Record) bool {
				visited = append(visited, r.ID)
				return true
			}))
			assert.Equal(t, got, visited, "visit: %s", q.name)
			out[q.name] = got
			if q.after == "" {
				n, err := s.Count(ctx, "acme", bq)
				require.NoError(t, err)
				assert.Len(t, got, n, "count: %s", q.name)
			}
		}
		return out
	}

	tree := run(t, true)
	require.Len(t, tree["every row"], 60)
	assert.Equal(t, []string{"id18", "id19"}, tree["after an id"][:2])
	assert.Equal(t, []string{"id16", "id15"}, tree["after an id backwards"][:2])
	assert.Empty(t, tree["after the last id"])
	assert.Equal(t, tree["after an id"], tree["after an id not stored"])
	assert.Equal(t, []string{"id17", "id16"}, tree["after an id not stored, backwards"][:2])
	fresh(t)
	assert.False(t, memory.HasWalkArray(s, "acme", kindName), "a write publishes a table without one")
	assert.Equal(t, tree, run(t, false), "the array, made by the first walk")
	require.True(t, memory.HasWalkArray(s, "acme", kindName))

	// Writes publish tables without an array, and walks see each write.
	rec, err := s.Get(ctx, "acme", kindName, "id05")
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctx, "acme", kindName, "id05", rec.Version))
	assert.False(t, memory.HasWalkArray(s, "acme", kindName))
	_, err = s.Create(ctx, "acme", kindName, "id60", user("new", "new@x.test"))
	require.NoError(t, err)
	changed := tree["scan"][0]
	rec, err = s.Get(ctx, "acme", kindName, changed)
	require.NoError(t, err)
	_, err = s.Replace(ctx, "acme", kindName, changed, rec.Doc.(*doc).with(func(d *doc) { d.title = "zzz" }), rec.Version)
	require.NoError(t, err)

	after := run(t, true)
	assert.NotContains(t, after["every row"], "id05")
	assert.Contains(t, after["every row"], "id60")
	assert.Len(t, after["every row"], 60)
	assert.NotContains(t, after["scan"], changed, "its title has no a now")
	want := len(tree["scan"]) - 1
	if slices.Contains(tree["scan"], "id05") {
		want--
	}
	assert.Len(t, after["scan"], want)
	assert.Equal(t, after, run(t, false))
	require.True(t, memory.HasWalkArray(s, "acme", kindName))

	t.Run("pages make no array", func(t *testing.T) {
		// A page stops its walk, and a keyset page starts past the first
		// row: neither is a full walk, and neither makes the array, even
		// on a table walked in full before.
		page := func() {
			for _, err := range s.Query(ctx, "acme", backend.Query{Kind: kindName}) {
				require.NoError(t, err)
				break
			}
			got := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, After: &backend.Position{ID: "id10"}}))
			require.NotEmpty(t, got)
		}
		count := func() {
			_, err := s.Count(ctx, "acme", backend.Query{Kind: kindName, Filter: bind(t, schema, `title co "a"`)})
			require.NoError(t, err)
		}
		fresh(t)
		page()
		count()
		assert.False(t, memory.HasWalkArray(s, "acme", kindName), "pages are not full walks")
		page()
		assert.False(t, memory.HasWalkArray(s, "acme", kindName), "a page after a full walk")
		count()
		assert.True(t, memory.HasWalkArray(s, "acme", kindName), "the second full walk")
	})

	t.Run("context ends while the array is made", func(t *testing.T) {
		// A write, a full walk, then a count whose context ends after
		// the store's first check, while it makes the array.
		fresh(t)
		q := backend.Query{Kind: kindName, Filter: bind(t, schema, `title co "a"`)}
		want, err := s.Count(ctx, "acme", q)
		require.NoError(t, err)
		_, err = s.Count(&endingContext{Context: ctx, left: 1}, "acme", q)
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, memory.HasWalkArray(s, "acme", kindName))
		// A list sorted in memory, whose context ends when it makes the
		// array (after the store's check and the sequence's).
		sorted := backend.Query{Kind: kindName, Filter: q.Filter, Sort: query.Sort{{Attr: mustResolve(t, schema, "title")}}}
		var last error
		for _, err := range s.Query(&endingContext{Context: ctx, left: 2}, "acme", sorted) {
			last = err
		}
		require.ErrorIs(t, last, context.Canceled)
		assert.False(t, memory.HasWalkArray(s, "acme", kindName))
		got := collect(t, s.Query(ctx, "acme", sorted))
		assert.Len(t, got, want, "the same list makes it then")
		assert.True(t, memory.HasWalkArray(s, "acme", kindName))
	})

	t.Run("concurrent walks", func(t *testing.T) {
		// A write, then walks that race to make the array.
		_, err := s.Create(ctx, "acme", kindName, "id61", user("newer", "newer@x.test"))
		require.NoError(t, err)
		q := backend.Query{Kind: kindName, Filter: bind(t, schema, `title co "a"`)}
		want, err := s.Count(ctx, "acme", q)
		require.NoError(t, err)
		var wg sync.WaitGroup
		counts, errs := make([]int, 4), make([]error, 4)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[i], errs[i] = s.Count(ctx, "acme", q)
			}()
		}
		wg.Wait()
		assert.Equal(t, []error{nil, nil, nil, nil}, errs)
		assert.Equal(t, []int{want, want, want, want}, counts)
		assert.True(t, memory.HasWalkArray(s, "acme", kindName))
	})
}

// endingContext is a context that ends after its Err has been called left
// times.
type endingContext struct {
	context.Context
	left int
}

func (c *endingContext) Err() error {
	if c.left == 0 {
		return context.Canceled
	}
	c.left--
	return nil
}
