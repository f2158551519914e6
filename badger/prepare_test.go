package badger

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

// TestPrepareRedefined checks that work prepared for one definition of a
// kind is not used after Define changed the kind's indexes, which badger
// accepts (the conformance suite covers the rest of Prepare): with the
// indexes declared in another order, the old plan would read another
// index.
func TestPrepareRedefined(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, d := range []*tdoc{{ID: "a", Name: "ann", Emails: []string{"a@x.io"}, Score: 3}, {ID: "b", Name: "bob", Emails: []string{"b@x.io"}, Score: 1}} {
		_, err := s.Create(ctx, "t", tkind, d.ID, d)
		require.NoError(t, err)
	}
	queries := []backend.Query{
		{Kind: tkind, Filter: bind(t, `name eq "bob"`)},
		{Kind: tkind, Filter: bind(t, `emails.value eq "a@x.io"`)},
		{Kind: tkind, Filter: bind(t, `score gt 0`), Sort: mustSort(t, "score")},
	}
	want := [][]string{{"b"}, {"a"}, {"b", "a"}}
	prepared := make([]backend.Query, len(queries))
	for i, q := range queries {
		prepared[i] = s.Prepare(q)
		assert.Equal(t, want[i], ids(collect(t, s, "t", prepared[i])), "query %d before", i)
	}
	k := testKind()
	slices.Reverse(k.Indexes)
	require.NoError(t, s.Define(ctx, k))
	for i := range prepared {
		assert.Equal(t, want[i], ids(collect(t, s, "t", prepared[i])), "query %d after the indexes moved", i)
		n, err := s.Count(ctx, "t", prepared[i])
		require.NoError(t, err)
		assert.Len(t, want[i], n, "count %d", i)
	}
}
