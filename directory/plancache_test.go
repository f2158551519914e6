package directory

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keep offers p for key until the cache keeps it, and checks that it was
// kept without looking it up.
func keep(t *testing.T, c *planCache, key planKey, p *prepared) {
	t.Helper()
	for range 2 {
		c.offer(key, p)
	}
	got, ok := peek(c, key)
	require.True(t, ok, "%v kept", key)
	require.Same(t, p, got)
}

// checkRing checks that the clock's ring holds exactly the cache's
// entries.
func checkRing(t *testing.T, c *planCache) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	require.Len(t, c.ring, len(c.m))
	for _, e := range c.ring {
		require.Same(t, e, c.m[e.key], "%v", e.key)
	}
	require.True(t, len(c.ring) == 0 || c.hand < len(c.ring))
}

// peek is get without marking the plan used.
func peek(c *planCache, key planKey) (*prepared, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	return e.p, true
}

// TestPlanCacheClock checks the eviction: a full cache replaces the plans
// not looked up since the hand last passed, and keeps those that were.
func TestPlanCacheClock(t *testing.T) {
	c := newPlanCache()
	key := func(i int) planKey { return planKey{kind: "users", filter: fmt.Sprintf("f%d", i)} }
	plans := map[planKey]*prepared{}
	for i := range planCacheSize {
		k := key(i)
		plans[k] = &prepared{}
		keep(t, c, k, plans[k])
	}
	require.Equal(t, planCacheSize, c.len())
	hot := func(i int) bool { return i%10 == 0 }
	for i := range planCacheSize {
		if hot(i) {
			_, ok := c.get(key(i))
			require.True(t, ok)
		}
	}
	const added = planCacheSize / 2
	for i := planCacheSize; i < planCacheSize+added; i++ {
		k := key(i)
		plans[k] = &prepared{}
		keep(t, c, k, plans[k])
	}
	assert.Equal(t, planCacheSize, c.len(), "full, never over")
	evicted := 0
	for i := range planCacheSize + added {
		p, ok := peek(c, key(i))
		switch {
		case hot(i) || i >= planCacheSize:
			if assert.True(t, ok, "plan %d kept", i) {
				assert.Same(t, plans[key(i)], p)
			}
		case !ok:
			evicted++
		}
	}
	assert.Equal(t, added, evicted, "only plans not looked up are replaced")
	checkRing(t, c)

	c.purge()
	assert.Zero(t, c.len())
	checkRing(t, c)
	_, ok := c.get(key(0))
	assert.False(t, ok)
	c.offer(key(0), plans[key(0)])
	assert.Zero(t, c.len(), "purge forgets the requests prepared before it")
	keep(t, c, key(0), plans[key(0)])
	assert.Equal(t, 1, c.len())
	checkRing(t, c)
}

// TestPlanCacheConcurrent looks plans up, offers and purges them from
// several goroutines at once (run with -race): a hit is always the plan
// offered for its key, and the cache never holds more than its size.
func TestPlanCacheConcurrent(t *testing.T) {
	c := newPlanCache()
	const keys = 3 * planCacheSize
	plans := make([]*prepared, keys)
	for i := range plans {
		plans[i] = &prepared{}
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 20_000 {
				i := (n*7919 + g*104729) % keys
				k := planKey{kind: "users", filter: fmt.Sprint(i)}
				if p, ok := c.get(k); ok {
					if p != plans[i] {
						t.Errorf("key %d: another key's plan", i)
						return
					}
					continue
				}
				c.offer(k, plans[i])
				if g == 0 && n%5000 == 4999 {
					c.purge()
				}
			}
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, c.len(), planCacheSize)
	checkRing(t, c)
}
