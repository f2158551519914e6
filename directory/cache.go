package directory

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// queryCache holds list and count results. A key names the tenant, the
// tenant's generation when the query started, and the canonical query; a
// write bumps the tenant's generation after it commits, so later reads
// build new keys and never see a result computed before the write. Stale
// entries are never removed by hand: they age out of the LRU. Entries are
// copies, and a hit hands out another copy.
//
// The expiry is checked on read rather than by a background sweeper, so a
// cache owns no goroutine.
type queryCache struct {
	lru *lru.Cache[string, cacheEntry] // nil when the cache is off
	ttl time.Duration

	// plans holds prepared list requests by their text. A plan depends
	// only on the request and the directory's configuration, never on the
	// tenant or the data, so it needs no generation and is kept even when
	// the result cache is off. A plan is kept from the second time its
	// request is prepared (see admit).
	plans *lru.Cache[planKey, *prepared]
	// seen holds hashes of the plan keys prepared lately, for admit, in
	// buckets of planWays; next counts each bucket's hashes, to pick the
	// slot the bucket's next hash replaces.
	seen     [planSeen]atomic.Uint64
	next     [planSeen / planWays]atomic.Uint32
	seenSeed maphash.Seed

	mu   sync.Mutex
	gens map[string]uint64
}

type cacheEntry struct {
	val     any
	expires time.Time // zero: never
}

func newQueryCache(size int, ttl time.Duration) *queryCache {
	c := &queryCache{ttl: ttl, gens: map[string]uint64{}, seenSeed: maphash.MakeSeed()}
	c.plans, _ = lru.New[planKey, *prepared](planCacheSize) // planCacheSize > 0
	if size > 0 {
		c.lru, _ = lru.New[string, cacheEntry](size) // only fails for size <= 0
	}
	return c
}

// key builds a cache key from the tenant's current generation and parts;
// it must be called before the query runs.
func (c *queryCache) key(tenant string, parts ...string) string {
	if c.lru == nil {
		return ""
	}
	c.mu.Lock()
	g := c.gens[tenant]
	c.mu.Unlock()
	var b strings.Builder
	b.WriteString(tenant)
	b.WriteByte(0)
	b.WriteString(strconv.FormatUint(g, 10))
	for _, p := range parts {
		b.WriteByte(0)
		b.WriteString(p)
	}
	return b.String()
}

func (c *queryCache) get(key string) (any, bool) {
	if key == "" {
		return nil, false
	}
	e, ok := c.lru.Get(key)
	if !ok {
		return nil, false
	}
	if !e.expires.IsZero() && time.Now().After(e.expires) {
		c.lru.Remove(key)
		return nil, false
	}
	return e.val, true
}

func (c *queryCache) put(key string, v any) {
	if key == "" {
		return
	}
	e := cacheEntry{val: v}
	if c.ttl > 0 {
		e.expires = time.Now().Add(c.ttl)
	}
	c.lru.Add(key, e)
}

// bump invalidates the tenant's cached results; call it after a write
// commits.
func (c *queryCache) bump(tenant string) {
	if c.lru == nil {
		return
	}
	c.mu.Lock()
	c.gens[tenant]++
	c.mu.Unlock()
}

func (c *queryCache) clear() {
	c.plans.Purge()
	if c.lru != nil {
		c.lru.Purge()
	}
}

// dropTenant removes every cached result of the tenant, whatever its
// generation, so that none stays in memory (Anonymize: no personal data
// may outlive the call, even in unreachable entries). It drops every
// prepared request too: their filter texts may hold the personal data, and
// they are shared by every tenant, so none can be told to be another's.
func (c *queryCache) dropTenant(tenant string) {
	c.plans.Purge()
	if c.lru == nil {
		return
	}
	prefix := tenant + "\x00"
	for _, k := range c.lru.Keys() {
		if strings.HasPrefix(k, prefix) {
			c.lru.Remove(k)
		}
	}
}

// planCacheSize is how many prepared list requests a directory keeps.
const planCacheSize = 1024

// planSeen is how many recently prepared requests admit remembers: a
// request prepared again within about that many others is kept. They are
// remembered in buckets of planWays.
const (
	planSeen = 4096
	planWays = 4
)

// admit reports whether the plan of key, just prepared, is to be kept in
// the plan cache: only when a request with the same key was prepared
// lately. Requests that never come back (lookups by arbitrary values) then
// neither pay for the cache's bookkeeping nor push out the plans of the
// requests that do.
//
// A request is remembered by a hash of its key in one of the slots of the
// bucket the hash picks, taking the slots of a bucket in turn, so that a
// request is forgotten only when planWays others of its bucket come after
// it. Two keys with the same 64-bit hash would be taken for one.
func (c *queryCache) admit(key planKey) bool {
	h := maphash.Comparable(c.seenSeed, key) | 1<<63 // 0 is an empty slot
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
