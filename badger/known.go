package badger

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	badgerdb "github.com/dgraph-io/badger/v4"
)

// A create must find its record key and its unique index keys free, and
// reading a key that is not there costs badger a search of every memtable
// and a bloom test in every level: in a bulk import those reads were 40%
// of the time. The Store therefore keeps, in the process, an approximate
// set (known) of every such key: those the database had when the Store
// learnt its keys after Open, and every one written or claimed since. A
// create skips the read of a key the set has never seen.
//
// Skipping the read also skips what makes badger's transactions safe: a
// read puts the key in the transaction's conflict set, so that of two
// racing creators of one key the second to commit fails. A transaction
// that skips the read of a key therefore holds the key in the set until it
// has committed or given up, and another write that needs the key in the
// meantime conflicts with it and runs again once it is done (heldError).
// Keys a create does read follow badger's rules as before.
//
// The set is exact in one direction only: a key it has not seen is not
// in the database, and no running transaction may write it without
// holding it; a key it has seen may be anywhere (deleted since, given up,
// or a false positive of its filters). It is only sound when every write
// goes through the Store: a write made to DB behind the Store's back is
// not in it (see Store.DB).
//
// While the Store is opened it is learning the keys the database already
// has (Store.learnKeys); until that is done, every create reads every key,
// as if there were no set, and the keys written meanwhile are noted.

// Filter parameters. A key's bits lie in one block of one cache line, so a
// test costs one cache miss; with 12 bits per key and 7 bits set per key
// the false positive rate of a full filter is about 0.5%, and a filter
// starts at most half full.
const (
	blockWords    = 8  // words per block: 512 bits
	bitsPerKey    = 12 // a filter holds its capacity at this many bits per key
	bitsSetPerKey = 7
	minFilterKeys = 1 << 14
	holdShardBits = 6 // the hash's top bits choose one of 1<<holdShardBits shards
)

// known is the Store's approximate set of the keys its creates must find
// free. It is safe for concurrent use.
type known struct {
	seed maphash.Seed

	// mu guards pending and the switch to ready, and serializes growth.
	mu      sync.Mutex
	pending []uint64 // while not ready: the hashes of the keys written
	ready   atomic.Bool
	// filters holds the keys' hashes, in order of creation; a key was
	// added to the last that existed then. Only ever appended to.
	filters atomic.Pointer[[]*filter]

	shards [1 << holdShardBits]holdShard

	conflicts atomic.Int64 // claims refused for a key another transaction held
}

// holdShard is the keys that running transactions hold, by hash, for the
// hashes whose top bits select the shard.
type holdShard struct {
	mu   sync.Mutex
	held map[uint64]*holder
}

// holder is what one write transaction holds: the hashes of the keys it
// skipped reading, and a channel closed once it has released them.
type holder struct {
	hashes []uint64
	done   chan struct{}
}

// heldError is the conflict of a write that needs a key another running
// transaction holds. It matches badgerdb.ErrConflict, so that the write is
// run again as after any conflict; done is closed once the holder is.
type heldError struct {
	done <-chan struct{}
}

func (*heldError) Error() string {
	return "a concurrent write transaction holds the key"
}

// Is makes a heldError a badger conflict for errors.Is.
func (*heldError) Is(target error) bool { return target == badgerdb.ErrConflict }

func newKnown() *known {
	return &known{seed: maphash.MakeSeed()}
}

func (k *known) hash(key []byte) uint64 { return maphash.Bytes(k.seed, key) }

// shard returns the shard of the keys held with hash h.
func (k *known) shard(h uint64) *holdShard { return &k.shards[h>>(64-holdShardBits)] }

// claim decides how a write transaction that must find key free checks
// it. It returns true when the transaction may skip reading the key: no
// record has ever had it and no other transaction holds it; the
// transaction then holds it, in *own, until it calls release. It returns
// false when the key must be read. It fails with a heldError, counted in
// conflicts, when another transaction holds the key.
func (k *known) claim(own **holder, key []byte) (bool, error) {
	h := k.hash(key)
	sh := k.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if o := sh.held[h]; o != nil {
		if o != *own {
			k.conflicts.Add(1)
			return false, &heldError{done: o.done}
		}
		// This transaction holds the key (or one of the same hash): a read
		// sees its own writes.
		return false, nil
	}
	if !k.add(h) {
		return false, nil
	}
	if *own == nil {
		*own = &holder{done: make(chan struct{})}
	}
	(*own).hashes = append((*own).hashes, h)
	if sh.held == nil {
		sh.held = map[uint64]*holder{}
	}
	sh.held[h] = *own
	return true, nil
}

// note adds a key written without a claim (an index rebuilt by Define).
func (k *known) note(key []byte) { k.add(k.hash(key)) }

// release ends what a transaction holds. It must be called once the
// transaction has committed, or will not.
func (k *known) release(own *holder) {
	for _, h := range own.hashes {
		sh := k.shard(h)
		sh.mu.Lock()
		if sh.held[h] == own {
			delete(sh.held, h)
		}
		sh.mu.Unlock()
	}
	close(own.done)
}

// add adds the hash h of a key to the set and reports whether the set
// certainly did not have it before. Until the set is ready it notes h and
// reports false.
func (k *known) add(h uint64) bool {
	if !k.ready.Load() {
		k.mu.Lock()
		if !k.ready.Load() {
			k.pending = append(k.pending, h)
			k.mu.Unlock()
			return false
		}
		k.mu.Unlock()
	}
	fs := *k.filters.Load()
	for _, f := range fs[:len(fs)-1] {
		if f.test(h) {
			return false
		}
	}
	last := fs[len(fs)-1]
	if last.set(h) {
		return false
	}
	if last.n.Add(1) > last.capacity {
		k.grow(last)
	}
	return true
}

// grow adds a filter twice the capacity of all the others, when full is
// still the last.
func (k *known) grow(full *filter) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fs := *k.filters.Load()
	if fs[len(fs)-1] != full {
		return
	}
	total := int64(0)
	for _, f := range fs {
		total += f.capacity
	}
	next := append(fs[:len(fs):len(fs)], newFilter(2*total))
	k.filters.Store(&next)
}

// publish makes the set ready: its first filter holds hashes, the keys
// the database had when it was opened, and the keys noted since.
func (k *known) publish(hashes []uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	hashes = append(hashes, k.pending...)
	f := newFilter(max(2*int64(len(hashes)), minFilterKeys))
	for _, h := range hashes {
		f.set(h)
	}
	f.n.Store(int64(len(hashes)))
	k.filters.Store(&[]*filter{f})
	k.pending = nil
	k.ready.Store(true)
}

// filter is a blocked bloom filter of 64-bit hashes.
type filter struct {
	words    []atomic.Uint64
	blocks   uint64
	capacity int64
	n        atomic.Int64 // hashes added
}

func newFilter(capacity int64) *filter {
	blocks := (capacity*bitsPerKey + blockWords*64 - 1) / (blockWords * 64)
	return &filter{words: make([]atomic.Uint64, blocks*blockWords), blocks: uint64(blocks), capacity: capacity}
}

// test reports whether the filter may have h.
func (f *filter) test(h uint64) bool { return f.probe(h, false) }

// set adds h and reports whether the filter may have had it already.
func (f *filter) set(h uint64) bool { return f.probe(h, true) }

// probe tests h's bits, and sets them when set is true. The block comes
// from the hash's high half, the bits from its low half by double hashing.
func (f *filter) probe(h uint64, set bool) bool {
	base := ((h >> 32) * f.blocks >> 32) * blockWords
	g := uint32(h)
	d := g>>17 | g<<15
	had := true
	for range bitsSetPerKey {
		w := &f.words[base+uint64(g>>6&(blockWords-1))]
		m := uint64(1) << (g & 63)
		if w.Load()&m == 0 {
			if !set {
				return false
			}
			had = false
			w.Or(m)
		}
		g += d
	}
	return had
}

// wtx is a write transaction with the keys it holds in the Store's known
// set.
type wtx struct {
	*badgerdb.Txn
	keys *known
	own  *holder // nil until the first key it skips reading
}

// write begins a write transaction. The caller must call end.
func (s *Store) write() *wtx {
	return &wtx{Txn: s.db.NewTransaction(true), keys: s.keys}
}

// end discards the transaction, which does nothing after a commit, and
// releases the keys it holds. It must come after the commit has returned
// (or called back): a key is released once its write is visible.
func (w *wtx) end() {
	w.Discard()
	if w.own != nil {
		w.keys.release(w.own)
		w.own = nil
	}
}

// free reads key, which the write must find free, as txn.Get does: it
// returns badgerdb.ErrKeyNotFound when the key is free. It skips the read
// when the known set has never seen the key (see known), and fails with a
// heldError when another transaction holds it.
func (w *wtx) free(key []byte) (*badgerdb.Item, error) {
	skip, err := w.keys.claim(&w.own, key)
	if err != nil {
		return nil, err
	}
	if skip {
		return nil, badgerdb.ErrKeyNotFound
	}
	return w.Get(key)
}
