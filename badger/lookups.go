package badger

import (
	"hash/maphash"
	"sync/atomic"
)

// A list by a unique value (emails.value eq "a@x.io", userName eq "ann")
// reads two keys: the unique index key, whose value is the id, and the
// record. The Store remembers, in the process, the id that each of the
// unique keys it read lately held (lookups), and reads the record
// directly. It then checks that the record it read has the value in the
// index: a unique index key is held by at most one record, the one whose
// document has that value, so a record that has the value in the query's
// snapshot is the one the index entry of that snapshot names. When the
// record is gone, cannot be read or does not have the value, the query
// reads the index as before, and remembers what it found, or forgets the
// key when no record has the value.
//
// The check makes an entry that has gone stale harmless, so writes never
// need to update the cache, and a write made behind the Store's back (see
// Store.DB) cannot make a query wrong unless it also leaves the indexes
// disagreeing with the records, which Verify reports. It also makes two
// keys with one hash harmless, so the cache keeps a key's 64-bit hash
// (with a seed chosen at random when the Store opens), never the key
// itself: it holds ids, and no indexed value (an email address, a user
// name). Compact, which erases deleted data from the files, empties it.

const (
	// lookupWays is how many slots a key may occupy: the slots of one
	// bucket.
	lookupWays = 2
	// defaultLookups is the size of the lookup cache when
	// Options.LookupCache is zero.
	defaultLookups = 1 << 16
	// maxLookups caps Options.LookupCache.
	maxLookups = 1 << 26
)

// lookupSlots returns the size of the lookup cache Options.LookupCache
// asks for: zero when it is negative, and at most maxLookups.
func lookupSlots(n int) int {
	switch {
	case n == 0:
		return defaultLookups
	case n < 0:
		return 0
	}
	return min(n, maxLookups)
}

// lookups is a fixed-size, lock-free map from the hashes of unique index
// keys to ids. A hash chooses a bucket of lookupWays slots, which hold the
// bucket's keys newest first: a new key takes the first slot and pushes
// the others along, so the bucket's oldest key is the one that goes. It is
// safe for concurrent use; racing writers may drop or repeat an entry,
// which only costs reads. A nil *lookups remembers nothing.
type lookups struct {
	seed  maphash.Seed
	slots []atomic.Pointer[lookup]
	mask  uint64 // the number of buckets minus one
}

// lookup is what a unique index key held: the id of its record. The key
// is only known by its hash. It is never modified once stored.
type lookup struct {
	hash uint64
	id   string
}

// newLookups returns a cache of at least n slots, rounded up to a power of
// two, or nil when n is not positive. n is at most maxLookups.
func newLookups(n int) *lookups {
	if n <= 0 {
		return nil
	}
	buckets := 1
	for buckets*lookupWays < n {
		buckets <<= 1
	}
	return &lookups{
		seed:  maphash.MakeSeed(),
		slots: make([]atomic.Pointer[lookup], buckets*lookupWays),
		mask:  uint64(buckets - 1),
	}
}

// hash returns the hash of a unique index key, which get, put and forget
// take.
func (c *lookups) hash(key []byte) uint64 {
	if c == nil {
		return 0
	}
	return maphash.Bytes(c.seed, key)
}

// bucket returns the slots of the bucket of the hash h.
func (c *lookups) bucket(h uint64) []atomic.Pointer[lookup] {
	i := (h & c.mask) * lookupWays
	return c.slots[i : i+lookupWays]
}

// get returns the id remembered for the key whose hash is h (or for
// another key with that hash).
func (c *lookups) get(h uint64) (string, bool) {
	if c == nil {
		return "", false
	}
	b := c.bucket(h)
	for i := range b {
		if e := b[i].Load(); e != nil && e.hash == h {
			return e.id, true
		}
	}
	return "", false
}

// put remembers that the key whose hash is h held id.
func (c *lookups) put(h uint64, id string) {
	if c == nil {
		return
	}
	b := c.bucket(h)
	for i := range b {
		if e := b[i].Load(); e != nil && e.hash == h {
			if e.id != id {
				b[i].Store(&lookup{hash: h, id: id})
			}
			return
		}
	}
	for i := len(b) - 1; i > 0; i-- {
		b[i].Store(b[i-1].Load())
	}
	b[0].Store(&lookup{hash: h, id: id})
}

// forget drops what the cache remembers for the key whose hash is h.
func (c *lookups) forget(h uint64) {
	if c == nil {
		return
	}
	b := c.bucket(h)
	for i := range b {
		if e := b[i].Load(); e != nil && e.hash == h {
			b[i].CompareAndSwap(e, nil)
		}
	}
}

// reset forgets everything.
func (c *lookups) reset() {
	if c == nil {
		return
	}
	for i := range c.slots {
		c.slots[i].Store(nil)
	}
}
