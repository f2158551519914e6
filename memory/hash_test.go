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
// checks that they agree after every step, that every version stays as it
// was (the trie is persistent), and that the trie keeps its canonical
// shape. The hash functions force the paths a random hash rarely takes:
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
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.keys)))
			var root hnode
			want := map[string]*row{}
			type version struct {
				root hnode
				want map[string]*row
			}
			var versions []version
			for step := range 6 * tt.keys {
				k := fmt.Sprintf("k%d", rng.IntN(tt.keys))
				if rng.IntN(3) == 0 {
					root, _ = delHash(root, tt.hash, k)
					delete(want, k)
				} else {
					r := &row{rec: backend.Record{ID: k, Version: int64(step)}}
					root = put(root, tt.hash, 0, tt.hash(k), item(k, r))
					want[k] = r
				}
				if step%97 == 0 {
					versions = append(versions, version{root, clone(want)})
				}
			}
			versions = append(versions, version{root, want})
			for _, v := range versions {
				require.Equal(t, len(v.want), hlen(v.root))
				for i := range tt.keys {
					k := fmt.Sprintf("k%d", i)
					assert.Same(t, v.want[k], find(v.root, tt.hash(k), k), "key %s", k)
				}
				assertCanonical(t, v.root, 0, true)
			}
			// Deleting everything leaves an empty trie.
			keys := make([]string, 0, len(want))
			for k := range want {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				var ok bool
				root, ok = delHash(root, tt.hash, k)
				require.True(t, ok, "delete %s", k)
			}
			assert.Zero(t, root)
		})
	}
}

// TestHashTrieMissing checks lookups and deletes of absent keys.
func TestHashTrieMissing(t *testing.T) {
	seed := maphash.MakeSeed()
	assert.Nil(t, hget(hnode{}, seed, "x"))
	assert.Zero(t, hdel(hnode{}, seed, "x"))
	a := &row{rec: backend.Record{ID: "a"}}
	root := hput(hnode{}, seed, "a", a)
	assert.Same(t, a, hget(root, seed, "a"))
	assert.Nil(t, hget(root, seed, "b"))
	assert.Equal(t, root, hdel(root, seed, "b"), "deleting an absent key returns the trie unchanged")
	assert.Zero(t, hdel(root, seed, "a"))
}

func delHash(n hnode, hash func(string) uint64, k string) (hnode, bool) {
	return del(n, 0, hash(k), k)
}

func clone(m map[string]*row) map[string]*row {
	out := make(map[string]*row, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// assertCanonical checks a node's invariants: the bitmaps match the
// slots, children are marked in sub, and no child is empty or a lone item
// (which belongs in its parent's slot).
func assertCanonical(t *testing.T, n hnode, level int, root bool) {
	t.Helper()
	if level == lastLevel {
		assert.NotEmpty(t, n.slots)
		assert.Zero(t, n.used|n.sub)
		for _, s := range n.slots {
			assert.NotNil(t, s.r)
		}
		return
	}
	assert.Zero(t, n.sub&^n.used)
	assert.Len(t, n.slots, bits.OnesCount32(n.used))
	if !root {
		assert.False(t, n.sub == 0 && len(n.slots) <= 1, "a child at level %d that should be folded", level)
	}
	for i, s := range n.slots {
		// The bit of slot i is the i-th set bit of used.
		bit := uint32(1) << nthBit(n.used, i)
		if n.sub&bit != 0 {
			assert.Nil(t, s.r)
			assertCanonical(t, s.node, level+1, false)
		} else {
			assert.NotNil(t, s.r)
			assert.Zero(t, s.node)
		}
	}
}

// nthBit returns the position of the i-th set bit of x.
func nthBit(x uint32, i int) int {
	for ; i > 0; i-- {
		x &= x - 1
	}
	return bits.TrailingZeros32(x)
}
