package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// CollectGarbage rewrites value-log files while badger finds one whose
// share of garbage is at least Options.GCDiscardRatio, and returns when
// none is left (or ctx is done). It is a no-op for an in-memory store.
// See the package documentation for what it does and does not remove
// from disk.
func (s *Store) CollectGarbage(ctx context.Context) error {
	if err := s.enter("gc", "", ""); err != nil {
		return err
	}
	defer s.leave()
	return s.collect(ctx, nil)
}

// collect runs value-log GC until there is nothing to rewrite, ctx is
// done, or stop is closed.
func (s *Store) collect(ctx context.Context, stop <-chan struct{}) error {
	if s.inMemory {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("badger: gc: %w", err)
		}
		select {
		case <-stop:
			return nil
		default:
		}
		err := s.db.RunValueLogGC(s.opts.GCDiscardRatio)
		switch {
		case err == nil:
			continue // a file was rewritten; there may be another
		case errors.Is(err, badgerdb.ErrNoRewrite), errors.Is(err, badgerdb.ErrRejected):
			// Nothing (more) to rewrite, or another collection is
			// running, which will do the work.
			return nil
		default:
			return fmt.Errorf("badger: gc: %w", err)
		}
	}
}

// gcLoop collects garbage every interval until Close. Its errors have no
// caller to go to: they go to the Logger, and the next tick tries again.
func (s *Store) gcLoop(interval time.Duration, stop <-chan struct{}) {
	defer close(s.gcDone)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		if err := s.enter("gc", "", ""); err != nil {
			return
		}
		err := s.collect(context.Background(), stop)
		s.leave()
		if err != nil && s.opts.Logger != nil {
			s.opts.Logger.Warningf("userdir badger: scheduled value-log GC: %v", err)
		}
	}
}
