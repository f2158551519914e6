package mongo

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

// TestReadsOwnership checks that a record decoded for one caller alone is
// handed over as its own, and that callers who shared a round trip, and so
// one document, are not told they own it.
func TestReadsOwnership(t *testing.T) {
	ctx := context.Background()
	k := recordKey{"users", "acme", "u1"}
	fresh := func(context.Context) (backend.Record, error) {
		return backend.Record{ID: "u1", Version: 1, Doc: &struct{ backend.Document }{}, Owned: true}, nil
	}

	t.Run("alone", func(t *testing.T) {
		var r reads
		rec, err := r.do(ctx, k, fresh)
		require.NoError(t, err)
		assert.True(t, rec.Owned)
	})

	t.Run("shared", func(t *testing.T) {
		var r reads
		// The first call holds its round trip open until the others have
		// queued behind it: the second leads the next round trip and the
		// rest join it.
		release := make(chan struct{})
		started := make(chan struct{})
		go func() {
			r.do(ctx, k, func(ctx context.Context) (backend.Record, error) {
				close(started)
				<-release
				return fresh(ctx)
			})
		}()
		<-started
		const n = 4
		recs := make([]backend.Record, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec, err := r.do(ctx, k, fresh)
				assert.NoError(t, err)
				recs[i] = rec
			}()
		}
		// Wait until all n are queued: one leading the next round trip,
		// the others joined to it.
		require.Eventually(t, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			s := r.m[k]
			return s != nil && s.next != nil && s.next.joined == n-1
		}, 10*time.Second, time.Millisecond)
		close(release)
		wg.Wait()
		for i, rec := range recs {
			assert.False(t, rec.Owned, "caller %d shares its document but was told it owns it", i)
			assert.Same(t, recs[0].Doc, rec.Doc, "caller %d", i)
		}
	})
}
