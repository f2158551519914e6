package directory

import (
	"strconv"
	"strings"
	"sync"
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

	// plans holds prepared list requests by their text, even when the
	// result cache is off.
	plans *planCache

	mu   sync.Mutex
	gens map[string]uint64
}

type cacheEntry struct {
	val     any
	expires time.Time // zero: never
}

func newQueryCache(size int, ttl time.Duration) *queryCache {
	c := &queryCache{ttl: ttl, gens: map[string]uint64{}, plans: newPlanCache()}
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
	c.plans.purge()
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
	c.plans.purge()
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
