package directory

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// planCacheSize is how many prepared list requests a directory keeps.
const planCacheSize = 1024

// planSeen is how many recently prepared requests admit remembers: a
// request prepared again within about that many others is kept. They are
// remembered in buckets of planWays.
const (
	planSeen = 4096
	planWays = 4
)

// planKey is the key of a prepared request: its kind, the request's texts
// as given, and the canonical form of the mandatory conditions the
// directory adds. It has no tenant: a prepared request is the same in
// every tenant. A struct of the strings themselves, rather than one string
// built from them, costs a hit no allocation and no copying.
type planKey struct {
	kind                 string
	filter, sort         string
	attributes, excluded string
	conditions           string
}

// planCache holds up to planCacheSize prepared list requests. A plan
// depends only on the request and the directory's configuration, never
// on the tenant or the data, so it needs no invalidation.
//
// Every list looks its request up here, from many goroutines at once, so a
// hit takes only a read lock and changes nothing but its entry's used bit.
// Eviction is CLOCK, an approximation of least-recently-used: adding to a
// full cache moves a hand around the entries, clearing the used bits it
// passes, and replaces the first entry whose bit was clear (not used since
// the hand last passed). A plan is kept only from the second time its
// request is prepared (see admit).
type planCache struct {
	mu   sync.RWMutex
	m    map[planKey]*planEntry
	ring []*planEntry // every entry, in the order the hand visits them
	hand int          // the next entry of ring the hand visits

	// seen holds hashes of the plan keys prepared lately, for admit, in
	// buckets of planWays; next counts each bucket's hashes, to pick the
	// slot the bucket's next hash replaces.
	seen [planSeen]atomic.Uint64
	next [planSeen / planWays]atomic.Uint32
	seed maphash.Seed
}

// planEntry is a kept plan.
type planEntry struct {
	key  planKey
	p    *prepared
	used atomic.Bool // looked up since the hand last passed
}

func newPlanCache() *planCache {
	return &planCache{m: map[planKey]*planEntry{}, seed: maphash.MakeSeed()}
}

// get returns the plan kept for key.
func (c *planCache) get(key planKey) (*prepared, bool) {
	c.mu.RLock()
	e := c.m[key]
	c.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	if !e.used.Load() {
		// Written only when clear, so that the hits of a hot plan do not
		// all write to its entry.
		e.used.Store(true)
	}
	return e.p, true
}

// offer keeps p, the plan just prepared for key, when admit says so.
func (c *planCache) offer(key planKey, p *prepared) {
	if !c.admit(key) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] != nil {
		return // kept meanwhile by another goroutine
	}
	e := &planEntry{key: key, p: p}
	if len(c.ring) < planCacheSize {
		c.ring = append(c.ring, e)
	} else {
		// Two turns at most: the first clears every bit, unless hits set
		// them again behind the hand.
		for range 2 * len(c.ring) {
			if !c.ring[c.hand].used.Load() {
				break
			}
			c.ring[c.hand].used.Store(false)
			c.hand = (c.hand + 1) % len(c.ring)
		}
		delete(c.m, c.ring[c.hand].key)
		c.ring[c.hand] = e
		c.hand = (c.hand + 1) % len(c.ring)
	}
	c.m[key] = e
}

// admit reports whether the plan of key, just prepared, is to be kept:
// only when a request with the same key was prepared lately. Requests
// that never come back (lookups by arbitrary values) then neither pay for
// the cache's bookkeeping nor push out the plans of the requests that do.
//
// A request is remembered by a hash of its key in one of the slots of the
// bucket the hash picks, taking the slots of a bucket in turn, so that a
// request is forgotten only when planWays others of its bucket come after
// it. Two keys with the same 64-bit hash would be taken for one.
func (c *planCache) admit(key planKey) bool {
	h := maphash.Comparable(c.seed, key) | 1<<63 // 0 is an empty slot
	b := h % (planSeen / planWays)
	bucket := c.seen[b*planWays : (b+1)*planWays]
	for j := range bucket {
		if bucket[j].Load() == h {
			return true
		}
	}
	bucket[c.next[b].Add(1)%planWays].Store(h)
	return false
}

// purge drops every plan, and forgets every request prepared lately: the
// hashes admit keeps of their texts would still tell, to one who guesses a
// text, that it was prepared.
func (c *planCache) purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
	c.ring, c.hand = nil, 0
	for i := range c.seen {
		c.seen[i].Store(0)
	}
	for i := range c.next {
		c.next[i].Store(0)
	}
}

// len returns the number of plans kept.
func (c *planCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
