package memory

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
)

// TestHashTrie runs random puts and deletes against a trie and a map and
// checks that they agree, that every published version stays as it was
// (the trie is persistent, batches included), and that the trie keeps its
// canonical shape. The hash functions force the paths a random hash rarely takes:
// keys that agree on many levels, and keys whose hashes are equal.
func TestHashTrie(t *testing.T) {
	seed := maphash.MakeSeed()
	tests := []struct {
		name string
		keys int
		hash func(string) uint64
	}{
		{"random", 2000, func(k string) uint64 { return maphash.String(seed, k) }},
		// Only the top bits differ, so keys share slots down to the last
		// levels.
		{"deep", 300, func(k string) uint64 { return maphash.String(seed, k) << 58 }},
		// Four distinct hashes: most keys meet in collision nodes.
		{"collide", 200, func(k string) uint64 { return maphash.String(seed, k) & 3 }},
		{"one hash", 50, func(string) uint64 { return 42 }},
	}
	for _, tt := range tests {
		for _, batched := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/batched=%t", tt.name, batched), func(t *testing.T) {
				testHashTrie(t, tt.keys, tt.hash, batched)
			})
		}
	}
}

// testHashTrie runs the random changes of TestHashTrie with hash, in
// batches made under one edit each when batched.
func testHashTrie(t *testing.T, n int, hash func(string) uint64, batched bool) {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var root hnode
	want := map[string]*row{}
	type version struct {
		root hnode
		want map[string]*row
	}
	var versions []version
	// A batch's changes share one edit, as a batch write's do; a version
	// is kept only where a batch ends, where a writer publishes.
	var e *edit
	for step := range 6 * n {
		if step%97 == 0 {
			versions = append(versions, version{root, clone(want)})
			e = nil
			if batched {
				e = newEdit()
			}
		}
		k := fmt.Sprintf("k%d", rng.IntN(n))
		if rng.IntN(3) == 0 {
			root, _ = delHash(e, root, hash, k)
			delete(want, k)
		} else {
			r := &row{rec: backend.Record{ID: k, Version: int64(step)}}
			root = put(e, root, hash, 0, hash(k), hitem{key: k, r: r})
			want[k] = r
		}
		if e != nil {
			assertOwned(t, e, root)
		}
	}
	versions = append(versions, version{root, want})
	for _, v := range versions {
		require.Equal(t, len(v.want), hlen(v.root))
		for i := range n {
			k := fmt.Sprintf("k%d", i)
			assert.Same(t, v.want[k], find(v.root, hash(k), k), "key %s", k)
		}
		assertCanonical(t, v.root, hash, 0, true)
	}
	// Deleting everything leaves an empty trie.
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var ok bool
		root, ok = delHash(nil, root, hash, k)
		require.True(t, ok, "delete %s", k)
	}
	assert.Zero(t, root)
}

// TestHashTrieMissing checks lookups and deletes of absent keys.
func TestHashTrieMissing(t *testing.T) {
	seed := maphash.MakeSeed()
	assert.Nil(t, hget(hnode{}, seed, "x"))
	assert.Zero(t, hdel(nil, hnode{}, seed, "x"))
	a := &row{rec: backend.Record{ID: "a"}}
	root := hput(nil, hnode{}, seed, "a", a)
	assert.Same(t, a, hget(root, seed, "a"))
	assert.Nil(t, hget(root, seed, "b"))
	assert.Equal(t, root, hdel(nil, root, seed, "b"), "deleting an absent key returns the trie unchanged")
	assert.Zero(t, hdel(nil, root, seed, "a"))
}

func delHash(e *edit, n hnode, hash func(string) uint64, k string) (hnode, bool) {
	return del(e, n, 0, hash(k), k)
}

func clone(m map[string]*row) map[string]*row {
	out := make(map[string]*row, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// assertCanonical checks a node's invariants: the bitmaps match the
// arrays and mark no slot twice, every key lies in the slot its hash
// chooses, in slot order, and no child is empty or a lone item (which
// belongs in its parent's slot).
func assertCanonical(t *testing.T, n hnode, hash func(string) uint64, level int, root bool) {
	t.Helper()
	if level == lastLevel {
		// A collision node holds two items or more: one alone folds up.
		assert.GreaterOrEqual(t, len(n.item), 2, "a collision node that should be folded")
		assert.Zero(t, n.items|n.subs)
		assert.Empty(t, n.kids)
		for _, it := range n.item {
			assert.NotNil(t, it.r)
		}
		return
	}
	assert.Zero(t, n.items&n.subs)
	assert.Len(t, n.item, bits.OnesCount32(n.items))
	assert.Len(t, n.kids, bits.OnesCount32(n.subs))
	if !root {
		assert.False(t, len(n.kids) == 0 && len(n.item) <= 1, "a child at level %d that should be folded", level)
	}
	for i, it := range n.item {
		assert.NotNil(t, it.r)
		assert.Equal(t, uint32(1)<<nthBit(n.items, i), slot(hash(it.key), level), "item %s at level %d", it.key, level)
	}
	for j, k := range n.kids {
		for _, key := range trieKeys(k) {
			assert.Equal(t, uint32(1)<<nthBit(n.subs, j), slot(hash(key), level), "key %s below level %d", key, level)
		}
		assertCanonical(t, k, hash, level+1, false)
	}
}

// trieKeys returns the keys below n.
func trieKeys(n hnode) []string {
	var keys []string
	for _, it := range n.item {
		keys = append(keys, it.key)
	}
	for _, k := range n.kids {
		keys = append(keys, trieKeys(k)...)
	}
	return keys
}

// nthBit returns the position of the i-th set bit of x.
func nthBit(x uint32, i int) int {
	for ; i > 0; i-- {
		x &= x - 1
	}
	return bits.TrailingZeros32(x)
}

// assertOwned checks that every array e owns is reachable from root, and
// only once: an edit that forgot to drop a replaced array would keep it
// alive, and one that owned an array twice could change a node it shares.
func assertOwned(t *testing.T, e *edit, root hnode) {
	t.Helper()
	items, kids := map[*hitem]int{}, map[*hnode]int{}
	var walk func(n *hnode)
	walk = func(n *hnode) {
		if cap(n.item) > 0 {
			items[&n.item[:1][0]]++
		}
		if cap(n.kids) > 0 {
			kids[&n.kids[:1][0]]++
		}
		for i := range n.kids {
			walk(&n.kids[i])
		}
	}
	walk(&root)
	for p := range e.items {
		if !assert.Equal(t, 1, items[p], "an owned item array reachable %d times", items[p]) {
			return
		}
	}
	for p := range e.kids {
		if !assert.Equal(t, 1, kids[p], "an owned node array reachable %d times", kids[p]) {
			return
		}
	}
}
