package directory

import (
	"context"
	"fmt"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
)

// batchHook is a memory backend whose CreateBatch runs hook first.
type batchHook struct {
	*memory.Store
	hook func(n int)
}

func (b batchHook) CreateBatch(ctx context.Context, tenant, kind string, items []backend.BatchItem) ([]error, error) {
	b.hook(len(items))
	return b.Store.CreateBatch(ctx, tenant, kind, items)
}

// importUsers yields n valid users, calling at(i) before user i.
func importUsers(n int, at func(i int)) iter.Seq[User] {
	return func(yield func(User) bool) {
		for i := range n {
			at(i)
			if !yield(User{UserName: fmt.Sprintf("user%d", i)}) {
				return
			}
		}
	}
}

// TestImportStoresWhileReading checks that Import reads and validates the
// items of the next batch while a batch is being stored: the first batch
// is only stored once the item after it has been read.
func TestImportStoresWhileReading(t *testing.T) {
	next := make(chan struct{})
	var overlapped bool
	first := true
	b := batchHook{Store: memory.New(), hook: func(int) {
		if !first {
			return
		}
		first = false
		select {
		case <-next:
			overlapped = true
		case <-time.After(10 * time.Second):
		}
	}}
	d, err := New(b)
	require.NoError(t, err)
	rep, err := d.Users("acme").Import(context.Background(), importUsers(importChunk+2, func(i int) {
		if i == importChunk+1 {
			close(next)
		}
	}))
	require.NoError(t, err)
	assert.True(t, overlapped, "the first batch was stored before the next items were read")
	assert.Equal(t, importChunk+2, rep.Created)
	assert.Zero(t, rep.Failed)
}

// TestImportBatchPanic checks that a panic while a batch is stored, on
// Import's own goroutine, reaches Import's caller.
func TestImportBatchPanic(t *testing.T) {
	type boom struct{}
	d, err := New(batchHook{Store: memory.New(), hook: func(int) { panic(boom{}) }})
	require.NoError(t, err)
	assert.PanicsWithValue(t, boom{}, func() {
		_, _ = d.Users("acme").Import(context.Background(), importUsers(3, func(int) {}))
	})
}

// TestImportIteratorPanic checks that when the caller's iterator panics
// while a batch is being stored, Import returns (panicking) only once that
// batch is stored.
func TestImportIteratorPanic(t *testing.T) {
	type boom struct{}
	b := batchHook{Store: memory.New(), hook: func(int) {
		time.Sleep(50 * time.Millisecond) // the iterator panics meanwhile
	}}
	d, err := New(b)
	require.NoError(t, err)
	users := d.Users("acme")
	assert.PanicsWithValue(t, boom{}, func() {
		_, _ = users.Import(context.Background(), importUsers(importChunk+3, func(i int) {
			if i == importChunk+1 {
				panic(boom{})
			}
		}))
	})
	n, err := users.Count(context.Background(), "")
	require.NoError(t, err)
	assert.Equal(t, importChunk, n, "the batch started before the panic is stored when Import returns")
}
