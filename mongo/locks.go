package mongo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/userdir/userdir/backend"
)

// recordLocks queues the writes of one record that run in this process,
// and remembers the highest version they saw. Correctness across processes
// comes from the guarded writes alone; the queue only keeps writers of one
// record in this process from competing at the server, where every losing
// attempt costs round trips (and on FerretDB, write transactions on one
// SQLite lock). A writer that expects a version older than one already
// seen fails at once, with no round trip: versions only rise.
//
// An entry lives while some write of its record is running or waiting, so
// the map holds at most one entry per concurrent write.
type recordLocks struct {
	mu sync.Mutex
	m  map[recordKey]*recordLock
}

type recordKey struct{ kind, tenant, id string }

type recordLock struct {
	sem     chan struct{} // holds a token while a write runs
	refs    int           // writes running or waiting; guarded by recordLocks.mu
	version atomic.Int64  // the highest version seen
}

// acquire waits for the record's turn. It returns the lock, to be passed
// to release, or ctx's error.
func (l *recordLocks) acquire(ctx context.Context, k recordKey) (*recordLock, error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[recordKey]*recordLock{}
	}
	rl := l.m[k]
	if rl == nil {
		rl = &recordLock{sem: make(chan struct{}, 1)}
		l.m[k] = rl
	}
	rl.refs++
	l.mu.Unlock()
	select {
	case rl.sem <- struct{}{}:
		return rl, nil
	case <-ctx.Done():
		l.drop(k, rl)
		return nil, ctx.Err()
	}
}

// release ends the record's turn.
func (l *recordLocks) release(k recordKey, rl *recordLock) {
	<-rl.sem
	l.drop(k, rl)
}

func (l *recordLocks) drop(k recordKey, rl *recordLock) {
	l.mu.Lock()
	if rl.refs--; rl.refs == 0 {
		delete(l.m, k)
	}
	l.mu.Unlock()
}

// stale reports whether a write expecting version v is bound to fail: a
// later version has been seen.
func (l *recordLocks) stale(k recordKey, v int64) bool {
	if v == 0 {
		return false
	}
	l.mu.Lock()
	rl := l.m[k]
	l.mu.Unlock()
	return rl != nil && rl.version.Load() > v
}

// saw records that the record had version v.
func (rl *recordLock) saw(v int64) {
	for {
		cur := rl.version.Load()
		if v <= cur || rl.version.CompareAndSwap(cur, v) {
			return
		}
	}
}

// reads coalesces concurrent Gets of one record in this process into one
// round trip at a time, so that many writers retrying an optimistic update
// of one record (each re-reading it after every success) cost the server
// one read per round, not one per writer. A Get joins only a round trip
// that has not started yet, so every round trip it takes its answer from
// starts after the Get began, and the answer is as fresh as its own read
// would have been.
type reads struct {
	mu sync.Mutex
	m  map[recordKey]*readSlot
}

// readSlot is a record's reads: the round trip in flight and the one
// gathering callers for after it.
type readSlot struct {
	inflight *readCall
	next     *readCall
}

type readCall struct {
	done   chan struct{}
	rec    readResult
	joined int // callers waiting for this round trip besides its leader; final once it is in flight
}

type readResult struct {
	rec backend.Record
	err error
}

// do returns fetch's result for k, sharing the round trip with concurrent
// callers. fetch runs with the context of the caller that leads the round
// trip; a caller that gets that context's error while its own context is
// live fetches alone.
func (r *reads) do(ctx context.Context, k recordKey, fetch func(context.Context) (backend.Record, error)) (backend.Record, error) {
	r.mu.Lock()
	if r.m == nil {
		r.m = map[recordKey]*readSlot{}
	}
	slot := r.m[k]
	if slot == nil {
		slot = &readSlot{}
		r.m[k] = slot
	}
	if c := slot.next; c != nil {
		c.joined++
		r.mu.Unlock()
		return r.wait(ctx, c, fetch)
	}
	c := &readCall{done: make(chan struct{})}
	prev := slot.inflight
	if prev == nil {
		slot.inflight = c
	} else {
		slot.next = c
	}
	r.mu.Unlock()

	if prev != nil {
		// Lead the next round trip once the one in flight is over.
		select {
		case <-prev.done:
		case <-ctx.Done():
			// Hand the round trip to nobody: run it anyway for the
			// callers that joined, with this context's error if it
			// is done by then.
		}
		r.mu.Lock()
		if slot.inflight == prev {
			slot.inflight, slot.next = c, nil
		}
		r.mu.Unlock()
	}
	c.rec.rec, c.rec.err = fetch(ctx)
	r.mu.Lock()
	if c.joined > 0 {
		// The callers share one document: none of them owns it.
		c.rec.rec.Owned = false
	}
	if slot.inflight == c {
		slot.inflight = slot.next
		slot.next = nil
		if slot.inflight == nil {
			delete(r.m, k)
		}
	}
	r.mu.Unlock()
	close(c.done)
	return c.rec.rec, c.rec.err
}

func (r *reads) wait(ctx context.Context, c *readCall, fetch func(context.Context) (backend.Record, error)) (backend.Record, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return backend.Record{}, ctx.Err()
	}
	if c.rec.err != nil && ctx.Err() == nil && (errors.Is(c.rec.err, context.Canceled) || errors.Is(c.rec.err, context.DeadlineExceeded)) {
		return fetch(ctx)
	}
	return c.rec.rec, c.rec.err
}
