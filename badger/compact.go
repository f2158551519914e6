package badger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

var _ backend.Compactor = (*Store)(nil)

// errQueryCompacted is the cause a query reports when Compact replaced the
// database under it.
var errQueryCompacted = errors.New("badger: Compact replaced the database while the query was suspended; run it again")

// Suffixes of the directories Compact works in, next to the store's own.
const (
	compactNewSuffix = ".compact-new"
	compactOldSuffix = ".compact-old"
)

// Compact removes from the store's files the bytes of every record
// overwritten or deleted before the call (backend.Compactor), so that data
// the directory erased no longer sits on disk. Badger's own compaction and
// value-log garbage collection cannot promise that (see the package
// documentation), so Compact copies the live keys into a new database
// beside the store's directory, syncs it, swaps the two directories and
// deletes the old one. An in-memory store is copied into a new in-memory
// database the same way.
//
// Compact holds the store exclusively: it waits for the calls in progress
// and blocks new ones until it is done, for a time proportional to the
// data. Called soon after Open, it also waits for the Store to finish
// learning its keys (about a second per million records). A Query
// suspended in its consumer's loop body is ended: its next step reports
// ErrConflict, and running it again reads the new database.
// Compact also empties the Store's lookup cache (Options.LookupCache).
// A crash during Compact leaves either the old or the new database in
// place, whole; Open finishes or undoes the swap. The store's directory
// must be the one badger keeps both its tables and its value log in.
func (s *Store) Compact(ctx context.Context) error {
	const op = "compact"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("badger: %s: %w", op, err)
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	if s.closed.Load() {
		return &backend.Error{Op: op, Err: backend.ErrClosed}
	}
	if !s.inMemory && s.bopts.ValueDir != s.bopts.Dir {
		return &backend.Error{Op: op, Err: backend.ErrUnsupported, Cause: errors.New("the value log is kept in another directory")}
	}
	s.endParked(errQueryCompacted)
	// No query runs now to fill the lookup cache again with what it read
	// before.
	s.lookups.reset()
	if s.inMemory {
		next, err := badgerdb.Open(s.bopts)
		if err != nil {
			return fmt.Errorf("badger: %s: %w", op, err)
		}
		if err := copyLive(ctx, s.db, next); err != nil {
			return errors.Join(fmt.Errorf("badger: %s: %w", op, err), next.Close())
		}
		old := s.db
		s.db = next
		if err := old.Close(); err != nil {
			return fmt.Errorf("badger: %s: close the old database: %w", op, err)
		}
		return nil
	}
	return s.compactDir(ctx)
}

// compactDir is Compact for a store on disk.
func (s *Store) compactDir(ctx context.Context) error {
	dir := s.bopts.Dir
	newDir, oldDir := dir+compactNewSuffix, dir+compactOldSuffix
	fail := func(step string, err error) error { return fmt.Errorf("badger: compact: %s: %w", step, err) }

	// Build the new database while the old one stays open, so that any
	// failure here leaves the store as it was.
	if err := os.RemoveAll(newDir); err != nil {
		return fail("clear the work directory", err)
	}
	next, err := badgerdb.Open(s.bopts.WithDir(newDir).WithValueDir(newDir))
	if err != nil {
		return fail("create the new database", err)
	}
	err = copyLive(ctx, s.db, next)
	if cerr := next.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncTree(newDir)
	}
	if err != nil {
		return errors.Join(fail("copy", err), os.RemoveAll(newDir))
	}

	// Swap. Until the first rename the old directory is the store; after
	// the second the new one is, and Open recovers either state.
	if err := s.db.Close(); err != nil {
		return errors.Join(fail("close the old database", err), os.RemoveAll(newDir), s.reopen(dir))
	}
	if err := os.Rename(dir, oldDir); err != nil {
		return errors.Join(fail("swap", err), os.RemoveAll(newDir), s.reopen(dir))
	}
	if err := os.Rename(newDir, dir); err != nil {
		return errors.Join(fail("swap", err), os.Rename(oldDir, dir), s.reopen(dir))
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return errors.Join(fail("sync", err), s.reopen(dir))
	}
	if err := s.reopen(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(oldDir); err != nil {
		return fail("remove the old database", err)
	}
	return nil
}

// reopen opens the database in dir as the store's. When that fails the
// store cannot go on: it is marked closed.
func (s *Store) reopen(dir string) error {
	db, err := badgerdb.Open(s.bopts.WithDir(dir).WithValueDir(dir))
	if err != nil {
		s.closed.Store(true)
		s.stopGC()
		return fmt.Errorf("badger: compact: reopen %q (the store is now closed): %w", dir, err)
	}
	s.db = db
	return nil
}

// copyLive writes the latest version of every live key of from into to.
func copyLive(ctx context.Context, from, to *badgerdb.DB) error {
	wb := to.NewWriteBatch()
	err := from.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.IteratorOptions{PrefetchValues: true, PrefetchSize: 64})
		defer it.Close()
		n := 0
		for it.Rewind(); it.Valid(); it.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := wb.Set(item.KeyCopy(nil), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		wb.Cancel()
		return err
	}
	return wb.Flush()
}

// recoverCompaction finishes or undoes a Compact that a crash interrupted
// (see compactDir), before dir is opened.
func recoverCompaction(dir string) error {
	newDir, oldDir := dir+compactNewSuffix, dir+compactOldSuffix
	_, errDir := os.Stat(dir)
	_, errNew := os.Stat(newDir)
	_, errOld := os.Stat(oldDir)
	switch {
	case errDir == nil:
		// The store is in place: whatever else is left is garbage, a new
		// database that was never swapped in or an old one not yet
		// removed.
		return errors.Join(os.RemoveAll(newDir), os.RemoveAll(oldDir))
	case !errors.Is(errDir, os.ErrNotExist):
		return errDir
	case errNew == nil:
		// Between the renames: the new database is complete (it was
		// synced before the old one was moved).
		if err := os.Rename(newDir, dir); err != nil {
			return err
		}
		return errors.Join(syncDir(filepath.Dir(dir)), os.RemoveAll(oldDir))
	case errOld == nil:
		return os.Rename(oldDir, dir)
	}
	return nil // a new store
}

// syncTree fsyncs every file in dir and dir itself.
func syncTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f, err := os.OpenFile(filepath.Join(dir, e.Name()), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return syncDir(dir)
}

// syncDir fsyncs a directory, making renames and new entries in it
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
