package memory_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

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
