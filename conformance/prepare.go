package conformance

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// The Prepare group drives queries directly, with the Batch group's kind:
// a query a backend.Preparer prepared answers as the same query
// unprepared (through Query, and through Visit when the backend is a
// backend.Visitor), forwards, backwards and after a position, in every
// tenant, as the data changes under it and after the kind is defined
// again, and from several goroutines at once. Every backend, Preparer or
// not, must ignore a Prepared value it did not make (for another filter or
// sort, by another backend, by none): a backend that is no Preparer gets
// such a value where a Preparer gets its own.

// notPrepared is a Prepared value no backend made.
type notPrepared struct{}

// prepare returns q as b prepares it, or with a Prepared value b did not
// make when b is no Preparer.
func prepare(b backend.Backend, q backend.Query) backend.Query {
	if p, ok := b.(backend.Preparer); ok {
		return p.Prepare(q)
	}
	q.Prepared = notPrepared{}
	return q
}

// docFilter parses and binds a filter on the Batch group's kind.
func docFilter(t *testing.T, filter string) query.Expr {
	t.Helper()
	e, err := query.Parse(filter)
	require.NoErrorf(t, err, "parse %s", filter)
	b, err := query.Bind(e, batchKind.Schema)
	require.NoErrorf(t, err, "bind %s", filter)
	return b
}

// reorderedKind is the Batch group's kind with its indexes declared in
// the reverse order.
func reorderedKind() backend.Kind {
	k := batchKind
	k.Indexes = slices.Clone(k.Indexes)
	slices.Reverse(k.Indexes)
	return k
}

// docAttr resolves an attribute of the Batch group's kind.
func docAttr(t *testing.T, path string) *query.Attribute {
	t.Helper()
	a, err := batchKind.Schema.Resolve(path)
	require.NoErrorf(t, err, "resolve %s", path)
	return a
}

// queryIDs runs q in tenant and returns the ids it yields, in order.
func queryIDs(t *testing.T, b backend.Backend, tenant string, q backend.Query) []string {
	t.Helper()
	var ids []string
	for rec, err := range b.Query(t.Context(), tenant, q) {
		require.NoError(t, err, "query")
		ids = append(ids, rec.ID)
	}
	return ids
}

func testPrepare(t *testing.T, s *suite) {
	t.Run("AsUnprepared", func(t *testing.T) { testPrepareAsUnprepared(t, s) })
	t.Run("Mismatch", func(t *testing.T) { testPrepareMismatch(t, s) })
	t.Run("Concurrent", func(t *testing.T) { testPrepareConcurrent(t, s) })
}

// testPrepareAsUnprepared prepares queries once and checks, after each
// change of the store, that they answer as the same queries unprepared.
func testPrepareAsUnprepared(t *testing.T, s *suite) {
	b := s.newDocBackend(t)
	ctx := t.Context()
	byName := query.Sort{{Attr: docAttr(t, "name")}}
	queries := []struct {
		name string
		q    backend.Query
	}{
		{"EveryRecord", backend.Query{Kind: batchKindName}},
		{"UniquePoint", backend.Query{Kind: batchKindName, Filter: docFilter(t, `emails.value eq "ann@example.com"`)}},
		{"Range", backend.Query{Kind: batchKindName, Filter: docFilter(t, `name sw "b"`)}},
		{"Union", backend.Query{Kind: batchKindName, Filter: docFilter(t, `emails.value eq "ann@example.com" or name eq "bob"`)}},
		{"Narrowed", backend.Query{Kind: batchKindName, Filter: docFilter(t, `name gt "a" and team co "n"`)}},
		{"NoIndex", backend.Query{Kind: batchKindName, Filter: docFilter(t, `team co "n"`)}},
		{"Sorted", backend.Query{Kind: batchKindName, Filter: docFilter(t, `name sw "b"`), Sort: byName}},
		{"SortedPoint", backend.Query{Kind: batchKindName, Filter: docFilter(t, `emails.value eq "ann@example.com"`), Sort: byName}},
	}
	doc := func(id, name, team string, emails ...string) *batchDoc {
		return &batchDoc{ID: id, Name: name, Team: team, Emails: emails}
	}
	steps := []struct {
		name   string
		change func(t *testing.T)
	}{
		{"Empty", func(*testing.T) {}},
		{"Created", func(t *testing.T) {
			for i, name := range []string{"ann", "bob", "bea", "cid"} {
				d := doc(fmt.Sprintf("u%d", i), name, []string{"eng", "ops"}[i%2], name+"@example.com")
				_, err := b.Create(ctx, tenant, batchKindName, d.ID, d)
				require.NoError(t, err)
			}
		}},
		{"AnEmailMoved", func(t *testing.T) {
			_, err := b.Replace(ctx, tenant, batchKindName, "u0", doc("u0", "ann", "eng", "ann@example.org"), 0)
			require.NoError(t, err)
			_, err = b.Replace(ctx, tenant, batchKindName, "u3", doc("u3", "cid", "ops", "ann@example.com"), 0)
			require.NoError(t, err)
		}},
		{"AnotherTenant", func(t *testing.T) {
			_, err := b.Create(ctx, "other", batchKindName, "x1", doc("x1", "bart", "eng", "ann@example.com"))
			require.NoError(t, err)
		}},
		{"Deleted", func(t *testing.T) {
			require.NoError(t, b.Delete(ctx, tenant, batchKindName, "u3", 0))
			require.NoError(t, b.Delete(ctx, tenant, batchKindName, "u1", 0))
		}},
		{"DefinedAgain", func(t *testing.T) {
			require.NoError(t, b.Define(ctx, batchKind))
			_, err := b.Create(ctx, tenant, batchKindName, "u9", doc("u9", "ben", "ops", "ann@example.com"))
			require.NoError(t, err)
		}},
	}
	prepared := make([]backend.Query, len(queries))
	_, isPreparer := b.(backend.Preparer)
	for i, tt := range queries {
		prepared[i] = prepare(b, tt.q)
		if isPreparer {
			require.NotNil(t, prepared[i].Prepared, "%s: nothing prepared", tt.name)
		}
	}
	for _, step := range steps {
		step.change(t)
		for i, tt := range queries {
			t.Run(step.name+"/"+tt.name, func(t *testing.T) {
				for _, tn := range []string{tenant, "other", "nobody"} {
					for _, reverse := range []bool{false, true} {
						q, p := tt.q, prepared[i]
						q.Reverse, p.Reverse = reverse, reverse
						want := queryIDs(t, b, tn, q)
						assert.Equal(t, want, queryIDs(t, b, tn, p), "tenant %s, reverse %t", tn, reverse)
						if v, ok := b.(backend.Visitor); ok {
							assert.Equal(t, want, visitIDs(t, v, tn, p), "visit: tenant %s, reverse %t", tn, reverse)
						}
						// After the first record, as the next page starts.
						if len(want) > 0 {
							q.After = position(t, b, tn, q.Sort, want[0])
							p.After = q.After
							assert.Equal(t, queryIDs(t, b, tn, q), queryIDs(t, b, tn, p), "tenant %s, reverse %t, after %s", tn, reverse, want[0])
						}
					}
					n, err := b.Count(ctx, tn, prepared[i])
					require.NoError(t, err)
					assert.Equal(t, len(queryIDs(t, b, tn, tt.q)), n, "count in tenant %s", tn)
				}
			})
		}
	}
	// The unique point, checked by hand: after the last step, ann's old
	// address is u9's in acme and bart's in other.
	point := prepared[1]
	assert.Equal(t, []string{"u9"}, queryIDs(t, b, tenant, point))
	assert.Equal(t, []string{"x1"}, queryIDs(t, b, "other", point))
}

// visitIDs runs q in tenant through v.Visit and returns the ids it
// visits, in order.
func visitIDs(t *testing.T, v backend.Visitor, tenant string, q backend.Query) []string {
	t.Helper()
	var ids []string
	require.NoError(t, v.Visit(t.Context(), tenant, q, func(r backend.Record) bool {
		ids = append(ids, r.ID)
		return true
	}), "visit")
	return ids
}

// position returns the position of the record id in the order sort.
func position(t *testing.T, b backend.Backend, tn string, sort query.Sort, id string) *backend.Position {
	t.Helper()
	rec, err := b.Get(t.Context(), tn, batchKindName, id)
	require.NoError(t, err, "get %s", id)
	return &backend.Position{Values: sort.Values(rec.Doc), ID: id}
}

// testPrepareMismatch checks that a backend ignores prepared work that is
// not for the query it runs: another filter, another backend's, a value
// no backend made.
func testPrepareMismatch(t *testing.T, s *suite) {
	b := s.newDocBackend(t)
	ctx := t.Context()
	for i, name := range []string{"ann", "bob"} {
		id := fmt.Sprintf("u%d", i)
		_, err := b.Create(ctx, tenant, batchKindName, id, &batchDoc{ID: id, Name: name})
		require.NoError(t, err)
	}
	ann := prepare(b, backend.Query{Kind: batchKindName, Filter: docFilter(t, `name eq "ann"`)})

	t.Run("AnotherFilter", func(t *testing.T) {
		q := ann
		q.Filter = docFilter(t, `name eq "bob"`)
		assert.Equal(t, []string{"u1"}, queryIDs(t, b, tenant, q))
		n, err := b.Count(ctx, tenant, q)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
	t.Run("AnotherSort", func(t *testing.T) {
		q := prepare(b, backend.Query{Kind: batchKindName, Filter: docFilter(t, `name pr`)})
		q.Sort = query.Sort{{Attr: docAttr(t, "name"), Desc: true}}
		assert.Equal(t, []string{"u1", "u0"}, queryIDs(t, b, tenant, q), "a sort where none was prepared")
		asc := query.Sort{{Attr: docAttr(t, "name")}}
		q = prepare(b, backend.Query{Kind: batchKindName, Filter: docFilter(t, `name pr`), Sort: asc})
		q.Sort = query.Sort{{Attr: docAttr(t, "name"), Desc: true}}
		assert.Equal(t, []string{"u1", "u0"}, queryIDs(t, b, tenant, q), "another sort of the same length")
		q.Sort = asc
		asc[0].Desc = true // the caller changes the sort it prepared with
		assert.Equal(t, []string{"u1", "u0"}, queryIDs(t, b, tenant, q), "the prepared sort changed in place")
	})
	t.Run("AnotherBackend", func(t *testing.T) {
		// The same indexes in another order: work prepared for the first
		// backend's definition would read the wrong index.
		other := s.newBackend(t)
		require.NoError(t, other.Define(ctx, reorderedKind()))
		_, err := other.Create(ctx, tenant, batchKindName, "v1", &batchDoc{ID: "v1", Name: "ann"})
		require.NoError(t, err)
		assert.Equal(t, []string{"v1"}, queryIDs(t, other, tenant, ann))
	})
	t.Run("NoBackendMadeIt", func(t *testing.T) {
		q := ann
		q.Prepared = "not a plan"
		assert.Equal(t, []string{"u0"}, queryIDs(t, b, tenant, q))
		n, err := b.Count(ctx, tenant, q)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
	t.Run("UndefinedKind", func(t *testing.T) {
		q := prepare(b, backend.Query{Kind: "nope"})
		if _, ok := b.(backend.Preparer); ok {
			assert.Nil(t, q.Prepared, "nothing to prepare for an undefined kind")
		}
		var last error
		for _, err := range b.Query(ctx, tenant, q) {
			last = err
		}
		require.ErrorIs(t, last, backend.ErrUnsupported)
	})
}

// testPrepareConcurrent runs one prepared query from several goroutines
// while a writer moves the address it looks for between two records (run
// it with -race): no reader sees the address held twice.
func testPrepareConcurrent(t *testing.T, s *suite) {
	b := s.newDocBackend(t)
	ctx := t.Context()
	q := prepare(b, backend.Query{Kind: batchKindName, Filter: docFilter(t, `emails.value eq "hot@example.com"`)})
	const writes = 100
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range writes {
			id, other := fmt.Sprintf("u%d", i%2), fmt.Sprintf("u%d", (i+1)%2)
			if err := b.Delete(ctx, tenant, batchKindName, other, 0); err != nil && i > 0 {
				t.Errorf("delete %s: %v", other, err)
				return
			}
			if _, err := b.Create(ctx, tenant, batchKindName, id, &batchDoc{ID: id, Name: id, Emails: []string{"hot@example.com"}}); err != nil {
				t.Errorf("create %s: %v", id, err)
				return
			}
		}
	}()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range writes {
				var got []string
				for r, err := range b.Query(ctx, tenant, q) {
					if err != nil {
						t.Error(err)
						return
					}
					got = append(got, r.ID)
				}
				if len(got) > 1 {
					t.Errorf("a unique address held by %v", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}
