package memory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// TestPrepare checks that a prepared query answers as the same query
// unprepared, in every tenant and as the data and the definitions change
// under it.
func TestPrepare(t *testing.T) {
	ctx := context.Background()
	schema := testSchema()
	byName := query.Sort{{Attr: mustResolve(t, schema, "userName")}}
	queries := []struct {
		name string
		q    backend.Query
	}{
		{"every record", backend.Query{Kind: kindName}},
		{"unique point", backend.Query{Kind: kindName, Filter: bind(t, schema, `emails.value eq "ann@example.com"`)}},
		{"range", backend.Query{Kind: kindName, Filter: bind(t, schema, `userName sw "b"`)}},
		{"union", backend.Query{Kind: kindName, Filter: bind(t, schema, `emails.value eq "ann@example.com" or userName eq "bob"`)}},
		{"narrowed", backend.Query{Kind: kindName, Filter: bind(t, schema, `userName gt "a" and title co "e"`)}},
		{"no index", backend.Query{Kind: kindName, Filter: bind(t, schema, `title co "e"`)}},
		{"sorted", backend.Query{Kind: kindName, Filter: bind(t, schema, `userName sw "b"`), Sort: byName}},
	}
	// Each step changes the store; after each, every prepared query must
	// give what the same query unprepared gives.
	steps := []struct {
		name   string
		change func(t *testing.T, s backend.Backend)
	}{
		{"empty", func(*testing.T, backend.Backend) {}},
		{"created", func(t *testing.T, s backend.Backend) {
			for i, name := range []string{"ann", "bob", "bea", "cid"} {
				d := user(name, name+"@example.com").with(func(d *doc) { d.title = []string{"eng", "ops"}[i%2] })
				_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%d", i), d)
				require.NoError(t, err)
			}
		}},
		{"an email moved", func(t *testing.T, s backend.Backend) {
			_, err := s.Replace(ctx, "acme", kindName, "u0", user("ann", "ann@example.org"), 0)
			require.NoError(t, err)
			_, err = s.Replace(ctx, "acme", kindName, "u3", user("cid", "ann@example.com"), 0)
			require.NoError(t, err)
		}},
		{"another tenant", func(t *testing.T, s backend.Backend) {
			_, err := s.Create(ctx, "other", kindName, "x1", user("bart", "ann@example.com"))
			require.NoError(t, err)
		}},
		{"deleted", func(t *testing.T, s backend.Backend) {
			require.NoError(t, s.Delete(ctx, "acme", kindName, "u3", 0))
			require.NoError(t, s.Delete(ctx, "acme", kindName, "u1", 0))
		}},
		{"defined again", func(t *testing.T, s backend.Backend) {
			require.NoError(t, s.Define(ctx, testKind()))
			_, err := s.Create(ctx, "acme", kindName, "u9", user("ben", "ann@example.com"))
			require.NoError(t, err)
		}},
	}
	s := newStore(t)
	prepared := make([]backend.Query, len(queries))
	for i, tt := range queries {
		prepared[i] = s.Prepare(tt.q)
		require.NotNil(t, prepared[i].Prepared, tt.name)
	}
	for _, step := range steps {
		step.change(t, s)
		for i, tt := range queries {
			t.Run(step.name+"/"+tt.name, func(t *testing.T) {
				for _, tenant := range []string{"acme", "other", "nobody"} {
					want := ids(collect(t, s.Query(ctx, tenant, tt.q)))
					got := ids(collect(t, s.Query(ctx, tenant, prepared[i])))
					assert.Equal(t, want, got, tenant)
					n, err := s.Count(ctx, tenant, prepared[i])
					require.NoError(t, err)
					assert.Len(t, want, n, tenant)
				}
			})
		}
	}
	// The unique point, checked by hand: after the last step, ann's old
	// address is u9's in acme and bart's in other.
	point := prepared[1]
	assert.Equal(t, []string{"u9"}, ids(collect(t, s.Query(ctx, "acme", point))))
	assert.Equal(t, []string{"x1"}, ids(collect(t, s.Query(ctx, "other", point))))
}

func TestPrepareMismatch(t *testing.T) {
	ctx := context.Background()
	schema := testSchema()
	s := newStore(t)
	for i, name := range []string{"ann", "bob"} {
		_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%d", i), user(name, name+"@example.com"))
		require.NoError(t, err)
	}
	ann := s.Prepare(backend.Query{Kind: kindName, Filter: bind(t, schema, `userName eq "ann"`)})

	t.Run("another filter", func(t *testing.T) {
		q := ann
		q.Filter = bind(t, schema, `userName eq "bob"`)
		assert.Equal(t, []string{"u1"}, ids(collect(t, s.Query(ctx, "acme", q))))
		n, err := s.Count(ctx, "acme", q)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
	t.Run("another store", func(t *testing.T) {
		other := newStore(t)
		_, err := other.Create(ctx, "acme", kindName, "v1", user("ann"))
		require.NoError(t, err)
		assert.Equal(t, []string{"v1"}, ids(collect(t, other.Query(ctx, "acme", ann))))
	})
	t.Run("a value another backend made", func(t *testing.T) {
		q := ann
		q.Prepared = "not a plan"
		assert.Equal(t, []string{"u0"}, ids(collect(t, s.Query(ctx, "acme", q))))
	})
	t.Run("undefined kind", func(t *testing.T) {
		q := s.Prepare(backend.Query{Kind: "nope"})
		assert.Nil(t, q.Prepared)
		for _, err := range s.Query(ctx, "acme", q) {
			require.ErrorIs(t, err, backend.ErrUnsupported)
		}
	})
}

// TestPrepareConcurrent runs one prepared query from several goroutines
// while a writer moves the address it looks for (run it with -race).
func TestPrepareConcurrent(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	q := s.Prepare(backend.Query{Kind: kindName, Filter: bind(t, testSchema(), `emails.value eq "hot@example.com"`)})
	const writes = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range writes {
			id := fmt.Sprintf("u%d", i%2)
			_ = s.Delete(ctx, "acme", kindName, fmt.Sprintf("u%d", (i+1)%2), 0)
			if _, err := s.Create(ctx, "acme", kindName, id, user(id, "hot@example.com")); err != nil {
				t.Error(err)
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
				for r, err := range s.Query(ctx, "acme", q) {
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

// TestVisit checks what Visit returns besides records: the errors the
// sequence of Query would end with, and nothing after the consumer stops.
func TestVisit(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	for i := range 5 {
		_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%d", i), user(fmt.Sprintf("user%d", i)))
		require.NoError(t, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	closed := newStore(t)
	require.NoError(t, closed.Close())
	tests := []struct {
		name   string
		s      backend.Backend
		ctx    context.Context
		tenant string
		kind   string
		stop   int // the consumer stops after this many records; 0: never
		want   []string
		err    error
	}{
		{name: "every record", s: s, ctx: ctx, tenant: "acme", kind: kindName, want: []string{"u0", "u1", "u2", "u3", "u4"}},
		{name: "the consumer stops", s: s, ctx: ctx, tenant: "acme", kind: kindName, stop: 2, want: []string{"u0", "u1"}},
		{name: "a tenant without records", s: s, ctx: ctx, tenant: "nobody", kind: kindName},
		{name: "an undefined kind", s: s, ctx: ctx, tenant: "acme", kind: "nope", err: backend.ErrUnsupported},
		{name: "a canceled context", s: s, ctx: canceled, tenant: "acme", kind: kindName, err: context.Canceled},
		{name: "a closed store", s: closed, ctx: ctx, tenant: "acme", kind: kindName, err: backend.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := tt.s.(backend.Visitor).Visit(tt.ctx, tt.tenant, backend.Query{Kind: tt.kind}, func(r backend.Record) bool {
				got = append(got, r.ID)
				return len(got) != tt.stop
			})
			assert.Equal(t, tt.want, got)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				// The sequence of Query ends with the same error.
				var seqErr error
				for _, err := range tt.s.Query(tt.ctx, tt.tenant, backend.Query{Kind: tt.kind}) {
					seqErr = err
				}
				require.ErrorIs(t, seqErr, tt.err)
				return
			}
			require.NoError(t, err)
		})
	}
}
