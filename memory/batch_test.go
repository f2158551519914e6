package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

// endingCtx is a context whose Err reports it ended from its n-th call on,
// so that a test can end it part way through a call that checks it now
// and then.
type endingCtx struct {
	context.Context
	calls, n atomic.Int64
}

var errEnded = errors.New("ended part way")

func (c *endingCtx) Err() error {
	if c.calls.Add(1) >= c.n.Load() {
		return errEnded
	}
	return nil
}

// TestCreateBatchEndedPartWay checks that a batch whose context ends part
// way publishes the items stored before and fails the rest with the
// context's error, storing none of them.
func TestCreateBatchEndedPartWay(t *testing.T) {
	s := newStore(t)
	items := make([]backend.BatchItem, 600)
	for i := range items {
		items[i] = backend.BatchItem{ID: fmt.Sprintf("u%03d", i), Doc: user(fmt.Sprintf("user%03d", i))}
	}
	ctx := &endingCtx{Context: context.Background()}
	// Call 1 is the check before the batch, call 2 the one at its first
	// item; the batch ends at its next check.
	ctx.n.Store(3)
	errs, err := s.CreateBatch(ctx, "acme", kindName, items)
	require.NoError(t, err)
	require.Len(t, errs, len(items))

	stored := 0
	for i, it := range items {
		_, getErr := s.Get(context.Background(), "acme", kindName, it.ID)
		if errs[i] == nil {
			stored++
			assert.NoErrorf(t, getErr, "item %d reported stored is stored", i)
			continue
		}
		assert.ErrorIsf(t, errs[i], errEnded, "item %d", i)
		assert.ErrorIsf(t, getErr, backend.ErrNotFound, "item %d reported failed is not stored", i)
	}
	assert.Positive(t, stored, "the items before the context ended are stored")
	assert.Less(t, stored, len(items), "the context ended part way")
}

// TestCreateBatchNothingToStore checks that a batch of nothing storable
// reports each item and stores nothing.
func TestCreateBatchNothingToStore(t *testing.T) {
	s := newStore(t)
	errs, err := s.CreateBatch(context.Background(), "acme", kindName, []backend.BatchItem{{ID: "a"}})
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.Error(t, errs[0], "a nil document is refused")
	n, err := s.Count(context.Background(), "acme", backend.Query{Kind: kindName})
	require.NoError(t, err)
	assert.Zero(t, n)
}
