package memory

import (
	"hash/maphash"
	"math/bits"
)

// A table finds a row by id, and by the value of a unique index, through a
// persistent hash trie beside its B-trees: a lookup follows a few nodes
// chosen by the key's hash and compares one key, where a B-tree compares
// the key with a string at every step down, each likely a cache miss in a
// large table. Like the trees, a trie is never changed once published: a
// write copies the nodes on the path to the key it changes and shares the
// rest.
//
// Each level takes hashBits bits of the key's 64-bit hash to choose one of
// 32 slots. A slot holds an item or a child node; a node holds no empty
// slot. The levels use the hash's low 60 bits; at the level below them
// (lastLevel), items whose hashes agree in those bits share a collision
// node, searched in turn.
const (
	hashBits  = 5
	lastLevel = 64 / hashBits // the level of collision nodes
)

// hnode is a node of a hash trie: used marks its slots in use and sub,
// among them, those holding a child; slots holds them in slot order. A
// child node is kept in its parent's slot, so that a lookup reads one
// array per level. A collision node (at lastLevel) keeps its items in
// slots alone. The zero hnode is an empty trie.
type hnode struct {
	used, sub uint32
	slots     []hslot
}

// hslot is a slot of a node: an item (a key and its row) or a child.
type hslot struct {
	key  string
	r    *row
	node hnode
}

// item returns a slot holding an item.
func item(key string, r *row) hslot { return hslot{key: key, r: r} }

// hashOf is the hash of a trie key: seed is the store's, so that the
// shape of the trie cannot be chosen by whoever chooses the keys.
func hashOf(seed maphash.Seed, key string) uint64 { return maphash.String(seed, key) }

// slot returns the bit of the slot the hash h takes at level.
func slot(h uint64, level int) uint32 { return 1 << ((h >> (level * hashBits)) & 31) }

// rank returns the position among set bits of the slot bit in set.
func rank(set, bit uint32) int { return bits.OnesCount32(set & (bit - 1)) }

// hget returns the row of key, or nil.
func hget(n hnode, seed maphash.Seed, key string) *row {
	if len(n.slots) == 0 {
		return nil
	}
	return find(n, hashOf(seed, key), key)
}

// find returns the row of key, whose hash is h, below n.
func find(n hnode, h uint64, key string) *row {
	for level := 0; level < lastLevel; level++ {
		bit := slot(h, level)
		if n.used&bit == 0 {
			return nil
		}
		s := &n.slots[rank(n.used, bit)]
		if n.sub&bit == 0 {
			if s.key == key {
				return s.r
			}
			return nil
		}
		n = s.node
	}
	for i := range n.slots {
		if n.slots[i].key == key {
			return n.slots[i].r
		}
	}
	return nil
}

// hput returns a trie holding what n holds, with key's row set to r. It
// changes no array that e does not own (none when e is nil).
func hput(e *edit, n hnode, seed maphash.Seed, key string, r *row) hnode {
	hash := func(k string) uint64 { return hashOf(seed, k) }
	return put(e, n, hash, 0, hash(key), item(key, r))
}

// put sets it, an item whose key's hash is h, below n at level. The hash
// of a key already in n is computed again, with hash, when it must move
// down.
func put(e *edit, n hnode, hash func(string) uint64, level int, h uint64, it hslot) hnode {
	if level == lastLevel {
		for i := range n.slots {
			if n.slots[i].key == it.key {
				return hnode{slots: e.replaceAt(n.slots, i, it)}
			}
		}
		return hnode{slots: e.insertAt(n.slots, len(n.slots), it)}
	}
	bit := slot(h, level)
	i := rank(n.used, bit)
	switch {
	case n.used&bit == 0:
		return hnode{used: n.used | bit, sub: n.sub, slots: e.insertAt(n.slots, i, it)}
	case n.sub&bit != 0:
		child := put(e, n.slots[i].node, hash, level+1, h, it)
		return hnode{used: n.used, sub: n.sub, slots: e.replaceAt(n.slots, i, hslot{node: child})}
	case n.slots[i].key == it.key:
		return hnode{used: n.used, sub: n.sub, slots: e.replaceAt(n.slots, i, it)}
	}
	// Two keys in one slot: both move one level down.
	old := n.slots[i]
	down := put(e, hnode{}, hash, level+1, hash(old.key), old)
	return hnode{used: n.used, sub: n.sub | bit, slots: e.replaceAt(n.slots, i, hslot{node: put(e, down, hash, level+1, h, it)})}
}

// hdel returns a trie holding what n holds without key. It changes no
// array that e does not own (none when e is nil).
func hdel(e *edit, n hnode, seed maphash.Seed, key string) hnode {
	if len(n.slots) == 0 {
		return n
	}
	out, _ := del(e, n, 0, hashOf(seed, key), key)
	return out
}

// del removes key, whose hash is h, below n at level, reporting whether
// it was there. A child left with one item and no child of its own is
// folded into its parent's slot, so the trie keeps the shape its keys
// alone give.
func del(e *edit, n hnode, level int, h uint64, key string) (hnode, bool) {
	if level == lastLevel {
		for i := range n.slots {
			if n.slots[i].key == key {
				return hnode{slots: e.deleteAt(n.slots, i)}, true
			}
		}
		return n, false
	}
	bit := slot(h, level)
	if n.used&bit == 0 {
		return n, false
	}
	i := rank(n.used, bit)
	if n.sub&bit == 0 {
		if n.slots[i].key != key {
			return n, false
		}
		return hnode{used: n.used &^ bit, sub: n.sub, slots: e.deleteAt(n.slots, i)}, true
	}
	child, ok := del(e, n.slots[i].node, level+1, h, key)
	switch {
	case !ok:
		return n, false
	case len(child.slots) == 0:
		return hnode{used: n.used &^ bit, sub: n.sub &^ bit, slots: e.deleteAt(n.slots, i)}, true
	case len(child.slots) == 1 && child.sub == 0:
		// The child's one item moves up into this slot.
		return hnode{used: n.used, sub: n.sub &^ bit, slots: e.replaceAt(n.slots, i, child.slots[0])}, true
	}
	return hnode{used: n.used, sub: n.sub, slots: e.replaceAt(n.slots, i, hslot{node: child})}, true
}

// hlen returns the number of items in the trie.
func hlen(n hnode) int {
	k := 0
	for i := range n.slots {
		if n.slots[i].r != nil {
			k++
		} else {
			k += hlen(n.slots[i].node)
		}
	}
	return k
}

// edit is one writer's licence to change trie arrays in place: the arrays
// it allocated itself, which no published snapshot can reach until the
// writer publishes. A writer that makes many changes before publishing (a
// batch) copies each array on its path once rather than once per change.
// A nil *edit owns nothing: every change copies.
type edit struct {
	owned map[*hslot]struct{}
}

// newEdit returns an edit owning nothing yet.
func newEdit() *edit { return &edit{owned: map[*hslot]struct{}{}} }

// owns reports whether s's array was allocated by e.
func (e *edit) owns(s []hslot) bool {
	if e == nil || cap(s) == 0 {
		return false
	}
	_, ok := e.owned[&s[:1][0]]
	return ok
}

// drop forgets s, which the caller replaces: an array e owns is reachable
// from nowhere else, so e must not keep it alive until it is done.
func (e *edit) drop(s []hslot) {
	if e.owns(s) {
		delete(e.owned, &s[:1][0])
	}
}

// alloc returns a new array of n slots (n > 0), owned by e. It has no
// room to spare, which the published trie would keep: an insert still
// copies, but the full nodes near the root, which a batch changes in
// every step, are changed in place.
func (e *edit) alloc(n int) []hslot {
	s := make([]hslot, n)
	if e != nil {
		e.owned[&s[0]] = struct{}{}
	}
	return s
}

// insertAt returns a new array: s with v inserted at i.
func (e *edit) insertAt(s []hslot, i int, v hslot) []hslot {
	e.drop(s)
	out := e.alloc(len(s) + 1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

// replaceAt returns s with v at i: s itself when e owns it, else a copy.
func (e *edit) replaceAt(s []hslot, i int, v hslot) []hslot {
	if e.owns(s) {
		s[i] = v
		return s
	}
	out := e.alloc(len(s))
	copy(out, s)
	out[i] = v
	return out
}

// deleteAt returns s without its element i, or nil when that leaves it
// empty: s itself when e owns it, else a new array.
func (e *edit) deleteAt(s []hslot, i int) []hslot {
	if len(s) == 1 {
		e.drop(s)
		return nil
	}
	if e.owns(s) {
		// The last slot, now past the end, must not keep its row alive.
		copy(s[i:], s[i+1:])
		s[len(s)-1] = hslot{}
		return s[:len(s)-1]
	}
	out := e.alloc(len(s) - 1)
	copy(out, s[:i])
	copy(out[i:], s[i+1:])
	return out
}
