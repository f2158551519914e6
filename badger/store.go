package badger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

var _ backend.Backend = (*Store)(nil)

// Options configures a Store. The zero value is a durable store with
// badger's defaults, no fsync per commit, no scheduled garbage collection
// and no logging.
type Options struct {
	// InMemory keeps everything in memory: nothing is written to disk and
	// the data is gone after Close. Open's path must then be empty; an
	// empty path also selects this mode.
	InMemory bool

	// SyncWrites makes every commit wait for an fsync of badger's
	// write-ahead log, so that an acknowledged write also survives a power
	// failure or an operating system crash. Without it an acknowledged
	// write survives the process being killed but not the machine going
	// down. See the package documentation for the measured cost.
	SyncWrites bool

	// GCInterval runs value-log garbage collection on this schedule in a
	// background goroutine that Close stops. Zero turns it off.
	GCInterval time.Duration

	// GCDiscardRatio is the fraction of a value-log file that must be
	// garbage for a collection to rewrite it; zero means 0.5.
	GCDiscardRatio float64

	// Logger receives badger's log messages. Nil (the default) discards
	// them: badger logs routine compaction and recovery at INFO level,
	// which is noise in an embedding program.
	Logger badgerdb.Logger

	// MaxAttempts bounds how many times a write transaction is run when
	// badger reports a conflict with a concurrent transaction, or when it
	// needs a key a concurrent create holds (see the package
	// documentation); zero means 32. Every attempt rereads what it checks,
	// so a retried write sees the winner's data.
	MaxAttempts int

	// LookupCache is how many unique index keys the Store remembers the
	// record of, so that a list by a unique value (emails.value eq
	// "a@x.io") reads the record directly instead of the index key and
	// then the record. The answer is checked against the record read, so
	// a remembered entry never makes a query wrong (see the package
	// documentation); the cache holds ids and hashes of keys, never
	// indexed values. The size is rounded up to a power of two and capped
	// at 1<<26. Zero means 65,536 entries, about 5 MiB when full of
	// UUID ids; a negative value turns the cache off.
	LookupCache int

	// Tune, when set, adjusts badger's options after the Store has set its
	// own, for tuning (cache and memtable sizes, compression, encryption).
	// Changing Dir, InMemory or DetectConflicts breaks the Store.
	Tune func(badgerdb.Options) badgerdb.Options
}

// Store is a backend.Backend over a badger database. It is safe for
// concurrent use. Open it with Open and release it with Close.
type Store struct {
	// db changes only under the gate held exclusively (Compact).
	db          *badgerdb.DB
	bopts       badgerdb.Options // what db was opened with, to open its replacement
	opts        Options
	inMemory    bool
	maxAttempts int

	// defMu serializes Define; kinds is replaced wholesale so that other
	// methods read the definitions without a lock.
	defMu sync.Mutex
	kinds atomic.Pointer[map[string]*kindDef]

	// gate is held shared by every call while it uses db, and exclusively
	// by Close, so that the database is never closed under a running
	// call: badger panics when an iterator is opened on a closed database.
	// A Query releases it while its consumer runs (see parked).
	gate   sync.RWMutex
	closed atomic.Bool

	// parkMu guards parked: the readers of Query iterations that are
	// suspended in their consumer's loop body and so hold no share of
	// gate. Close releases their iterators and transactions.
	parkMu sync.Mutex
	parked map[*reader]struct{}

	gcStop chan struct{}
	gcDone chan struct{}
	gcOnce sync.Once

	// keys is, approximately, every key creates must find free that the
	// database has had since the Store learnt them after Open (see known).
	keys *known

	// lookups remembers the ids that unique index keys held when queries
	// read them; nil when Options.LookupCache is negative.
	lookups *lookups
}

// kindDef is a defined kind with its indexes compiled. It is immutable.
type kindDef struct {
	kind    backend.Kind
	indexes []backend.CompiledIndex
	// spaces[i] is the keyspace byte of index i: spaceUnique or
	// spaceEntry.
	spaces []byte
	// pushdown is what Pushdown reports for the kind, made once.
	pushdown query.Pushdown
}

// Open opens (creating if needed) the store in the directory path, or an
// in-memory store when path is "" or opts.InMemory is set. It fails if the
// directory holds data of another format or is locked by another process.
func Open(path string, opts Options) (*Store, error) {
	inMemory := opts.InMemory || path == ""
	if opts.InMemory && path != "" {
		return nil, fmt.Errorf("badger: open: in-memory store given the path %q", path)
	}
	if opts.GCInterval < 0 {
		return nil, fmt.Errorf("badger: open: negative GC interval %v", opts.GCInterval)
	}
	if opts.GCDiscardRatio < 0 || opts.GCDiscardRatio >= 1 {
		return nil, fmt.Errorf("badger: open: GC discard ratio %v is not in (0, 1)", opts.GCDiscardRatio)
	}
	if opts.GCDiscardRatio == 0 {
		opts.GCDiscardRatio = 0.5
	}
	if opts.MaxAttempts < 0 {
		return nil, fmt.Errorf("badger: open: negative MaxAttempts %d", opts.MaxAttempts)
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts == 0 {
		maxAttempts = 32
	}

	bo := badgerdb.DefaultOptions(path).
		WithLogger(opts.Logger).
		WithSyncWrites(opts.SyncWrites).
		WithDetectConflicts(true)
	if inMemory {
		// The defaults size a memtable at 64 MiB and the block cache at
		// 256 MiB, sensible for a server's database but heavy for the
		// throwaway stores of tests; an in-memory store keeps its tables
		// in memory anyway, so the block cache buys little.
		bo = bo.WithDir("").WithValueDir("").WithInMemory(true).
			WithMemTableSize(16 << 20).
			WithBlockCacheSize(8 << 20)
	}
	if opts.Tune != nil {
		bo = opts.Tune(bo)
	}
	if !inMemory {
		if err := recoverCompaction(bo.Dir); err != nil {
			return nil, fmt.Errorf("badger: open %q: %w", path, err)
		}
	}
	db, err := badgerdb.Open(bo)
	if err != nil {
		return nil, fmt.Errorf("badger: open %q: %w", path, err)
	}
	s := &Store{
		db:          db,
		bopts:       bo,
		opts:        opts,
		inMemory:    inMemory,
		maxAttempts: maxAttempts,
		parked:      map[*reader]struct{}{},
		keys:        newKnown(),
		lookups:     newLookups(lookupSlots(opts.LookupCache)),
	}
	kinds := map[string]*kindDef{}
	s.kinds.Store(&kinds)
	if err := s.checkFormat(); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if opts.GCInterval > 0 && !inMemory {
		s.gcStop = make(chan struct{})
		s.gcDone = make(chan struct{})
		go s.gcLoop(opts.GCInterval, s.gcStop)
	}
	// The share of the gate keeps Close and Compact waiting until the
	// keys are learnt or learnKeys has seen that the store is closing.
	s.gate.RLock()
	go s.learnKeys()
	return s, nil
}

// checkFormat records the key format in a new store and refuses a store
// written in another format, or a badger database that is not a store.
func (s *Store) checkFormat() error {
	return s.db.Update(func(txn *badgerdb.Txn) error {
		k := metaKey(metaFormat)
		item, err := txn.Get(k)
		switch {
		case err == nil:
			v, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("badger: open: read format: %w", err)
			}
			if len(v) != 1 || v[0] != formatVersion {
				return fmt.Errorf("badger: open: the store has key format %x; this package reads format %x", v, formatVersion)
			}
			return nil
		case !errors.Is(err, badgerdb.ErrKeyNotFound):
			return fmt.Errorf("badger: open: read format: %w", err)
		}
		it := txn.NewIterator(badgerdb.IteratorOptions{})
		it.Rewind()
		nonEmpty := it.Valid()
		it.Close()
		if nonEmpty {
			return errors.New("badger: open: the database holds data but is not a userdir store")
		}
		return txn.Set(k, []byte{formatVersion})
	})
}

// DB returns the underlying badger database, for backups (DB.Backup)
// and metrics. Writing to it behind the Store's back breaks the Store's
// invariants; Verify finds what it broke. The Store also keeps in memory
// which record and unique keys the database has had, so that a create can
// skip reading keys that are certainly free; a write behind its back
// (DB.Load included) leaves that record short, and until the Store is
// closed and opened again a create may then overwrite a record so written
// or take over its unique values. So restore a backup with DB.Load into a
// new store, then close it and open it again. Compact replaces the
// database: call DB again after it.
func (s *Store) DB() *badgerdb.DB {
	s.gate.RLock()
	defer s.gate.RUnlock()
	return s.db
}

// Capabilities reports that the data is private to this process (badger
// locks its directory) and durable unless the store is in memory.
func (s *Store) Capabilities() backend.Capabilities {
	return backend.Capabilities{Shared: false, Durable: !s.inMemory}
}

// Close stops garbage collection, waits for running calls, ends the
// queries suspended in their consumers (their next step reports
// ErrClosed) and closes the database, flushing it to disk. Calls after
// Close fail with ErrClosed, as does a second Close.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return &backend.Error{Op: "close", Err: backend.ErrClosed}
	}
	if s.gcStop != nil {
		s.stopGC()
		<-s.gcDone
	}
	s.gate.Lock()
	defer s.gate.Unlock()
	s.endParked(backend.ErrClosed)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("badger: close: %w", err)
	}
	return nil
}

// stopGC tells the scheduled garbage collection, if any, to stop.
func (s *Store) stopGC() {
	if s.gcStop != nil {
		s.gcOnce.Do(func() { close(s.gcStop) })
	}
}

// endParked releases the readers of the queries suspended in their
// consumers, whose next step then reports why. The caller holds the gate
// exclusively, so no reader is in use.
func (s *Store) endParked(why error) {
	s.parkMu.Lock()
	defer s.parkMu.Unlock()
	for rd := range s.parked {
		rd.release()
		rd.ended = why
		delete(s.parked, rd)
	}
}

// enter takes a share of the gate for a call, or fails with ErrClosed.
// The caller must call s.leave when done with the database.
func (s *Store) enter(op, kind, id string) error {
	s.gate.RLock()
	if s.closed.Load() {
		s.gate.RUnlock()
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed}
	}
	return nil
}

func (s *Store) leave() { s.gate.RUnlock() }

// begin does what every record call does first: checks the context,
// enters the gate and looks the kind up. On success the caller must call
// s.leave.
func (s *Store) begin(ctx context.Context, op, kind, id string) (*kindDef, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("badger: %s %s %q: %w", op, kind, id, err)
	}
	if err := s.enter(op, kind, id); err != nil {
		return nil, err
	}
	kd := (*s.kinds.Load())[kind]
	if kd == nil {
		s.leave()
		return nil, &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrUnsupported, Cause: errUndefinedKind}
	}
	return kd, nil
}

// errUndefinedKind is the cause reported for a kind that Define never
// declared: a programming error, kept apart from ErrNotFound so that it
// does not read as a missing record.
var errUndefinedKind = errors.New("badger: kind not defined")

// mapErr turns an error from badger into the portable form: the sentinel
// for errors.Is and badger's error as the cause for errors.As. Errors that
// are already portable pass through.
func mapErr(op, kind, id string, err error) error {
	var be *backend.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &be):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("badger: %s %s %q: %w", op, kind, id, err)
	case errors.Is(err, badgerdb.ErrKeyNotFound):
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound, Cause: err}
	case errors.Is(err, badgerdb.ErrConflict):
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrConflict, Cause: err}
	case errors.Is(err, badgerdb.ErrDBClosed), errors.Is(err, badgerdb.ErrBlockedWrites):
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrClosed, Cause: err}
	}
	return fmt.Errorf("badger: %s %s %q: %w", op, kind, id, err)
}

// learnKeys reads every record key and unique key of the database into
// s.keys and makes it ready, in the background from Open, holding the
// share of the gate Open took for it. Until it is done, every create reads
// every key it checks. It gives up, leaving the set unready, when the
// store is closing or the scan fails.
func (s *Store) learnKeys() {
	defer s.gate.RUnlock()
	var hashes []uint64
	err := s.db.View(func(txn *badgerdb.Txn) error {
		for _, space := range []byte{spaceRecord, spaceUnique} {
			prefix := []byte{space, formatVersion}
			if err := s.eachKey(txn, prefix, func(k []byte) { hashes = append(hashes, s.keys.hash(k)) }); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return
	}
	s.keys.publish(hashes)
}

// eachKey calls fn with every key under prefix, without reading values,
// and stops with ErrClosed once the store is closing.
func (s *Store) eachKey(txn *badgerdb.Txn, prefix []byte, fn func([]byte)) error {
	it := txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
	defer it.Close()
	n := 0
	for it.Seek(prefix); it.Valid(); it.Next() {
		if n++; n%4096 == 0 && s.closed.Load() {
			return backend.ErrClosed
		}
		fn(it.Item().Key())
	}
	return nil
}
