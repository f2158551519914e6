package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/conformance"
	"github.com/userdir/userdir/memory"
)

// slowBackend delays every write before it commits, which opens wide the
// window in which a cache ordering bug serves stale results: a generation
// bumped before the commit lets a read of that generation see the data
// from before the write, and a generation read after the query lets a
// read store data from before a write under the generation after it.
// Both bugs make TestCacheStaleReads fail on every run (checked by
// planting each); over a plain memory backend they rarely show.
type slowBackend struct {
	backend.Backend
	delay time.Duration
}

func (s slowBackend) Create(ctx context.Context, tenant, kind, id string, doc backend.Document) (backend.Record, error) {
	time.Sleep(s.delay)
	return s.Backend.Create(ctx, tenant, kind, id, doc)
}

func (s slowBackend) Replace(ctx context.Context, tenant, kind, id string, doc backend.Document, ifVersion int64) (backend.Record, error) {
	time.Sleep(s.delay)
	return s.Backend.Replace(ctx, tenant, kind, id, doc, ifVersion)
}

func (s slowBackend) Delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error {
	time.Sleep(s.delay)
	return s.Backend.Delete(ctx, tenant, kind, id, ifVersion)
}

// TestCacheStaleReads runs the conformance suite's randomized stale-read
// test over a memory backend whose writes are slow.
func TestCacheStaleReads(t *testing.T) {
	conformance.CheckCache(t, slowBackend{Backend: memory.New(), delay: 200 * time.Microsecond}, 20261125)
}
