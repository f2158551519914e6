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

// hnode is a node of a hash trie. The bits of items mark the slots
// holding an item and those of subs the slots holding a child (never
// both); items holds the items and kids the children, each in slot order.
// Items and children live in separate arrays so that an item takes the
// 24 bytes of a key and a row rather than the size of a node, which a
// large trie holds one of per key: most slots are items. A child node is
// kept in its parent's array, so that a lookup reads one array per level.
// A collision node (at lastLevel) keeps its items in item alone. The zero
// hnode is an empty trie.
type hnode struct {
	items, subs uint32
	item        []hitem
	kids        []hnode
}

// hitem is an item of a trie: a key and its row.
type hitem struct {
	key string
	r   *row
}

// empty reports whether n holds nothing.
func (n *hnode) empty() bool { return len(n.item) == 0 && len(n.kids) == 0 }

// hashOf is the hash of a trie key: seed is the store's, so that the
// shape of the trie cannot be chosen by whoever chooses the keys.
func hashOf(seed maphash.Seed, key string) uint64 { return maphash.String(seed, key) }

// slot returns the bit of the slot the hash h takes at level.
func slot(h uint64, level int) uint32 { return 1 << ((h >> (level * hashBits)) & 31) }

// rank returns the position among set bits of the slot bit in set.
func rank(set, bit uint32) int { return bits.OnesCount32(set & (bit - 1)) }

// hget returns the row of key, or nil.
func hget(n hnode, seed maphash.Seed, key string) *row {
	if n.empty() {
		return nil
	}
	return find(n, hashOf(seed, key), key)
}

// find returns the row of key, whose hash is h, below n.
func find(n hnode, h uint64, key string) *row {
	p := &n
	for level := 0; level < lastLevel; level++ {
		bit := slot(h, level)
		if p.items&bit != 0 {
			if it := &p.item[rank(p.items, bit)]; it.key == key {
				return it.r
			}
			return nil
		}
		if p.subs&bit == 0 {
			return nil
		}
		p = &p.kids[rank(p.subs, bit)]
	}
	for i := range p.item {
		if p.item[i].key == key {
			return p.item[i].r
		}
	}
	return nil
}

// hput returns a trie holding what n holds, with key's row set to r. It
// changes no array that e does not own (none when e is nil).
func hput(e *edit, n hnode, seed maphash.Seed, key string, r *row) hnode {
	hash := func(k string) uint64 { return hashOf(seed, k) }
	return put(e, n, hash, 0, hash(key), hitem{key: key, r: r})
}

// put sets it, an item whose key's hash is h, below n at level. The hash
// of a key already in n is computed again, with hash, when it must move
// down.
func put(e *edit, n hnode, hash func(string) uint64, level int, h uint64, it hitem) hnode {
	items, kids := e.arenas()
	if level == lastLevel {
		for i := range n.item {
			if n.item[i].key == it.key {
				return hnode{item: items.replaceAt(n.item, i, it)}
			}
		}
		return hnode{item: items.insertAt(n.item, len(n.item), it)}
	}
	bit := slot(h, level)
	switch {
	case n.subs&bit != 0:
		j := rank(n.subs, bit)
		child := put(e, n.kids[j], hash, level+1, h, it)
		n.kids = kids.replaceAt(n.kids, j, child)
		return n
	case n.items&bit == 0:
		n.items |= bit
		n.item = items.insertAt(n.item, rank(n.items, bit), it)
		return n
	}
	i := rank(n.items, bit)
	if n.item[i].key == it.key {
		n.item = items.replaceAt(n.item, i, it)
		return n
	}
	// Two keys in one slot: both move one level down, into a new child.
	old := n.item[i]
	down := put(e, hnode{}, hash, level+1, hash(old.key), old)
	down = put(e, down, hash, level+1, h, it)
	n.item = items.deleteAt(n.item, i)
	n.items &^= bit
	n.subs |= bit
	n.kids = kids.insertAt(n.kids, rank(n.subs, bit), down)
	return n
}

// hdel returns a trie holding what n holds without key. It changes no
// array that e does not own (none when e is nil).
func hdel(e *edit, n hnode, seed maphash.Seed, key string) hnode {
	if n.empty() {
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
	items, kids := e.arenas()
	if level == lastLevel {
		for i := range n.item {
			if n.item[i].key == key {
				return hnode{item: items.deleteAt(n.item, i)}, true
			}
		}
		return n, false
	}
	bit := slot(h, level)
	if n.items&bit != 0 {
		i := rank(n.items, bit)
		if n.item[i].key != key {
			return n, false
		}
		n.item = items.deleteAt(n.item, i)
		n.items &^= bit
		return n, true
	}
	if n.subs&bit == 0 {
		return n, false
	}
	j := rank(n.subs, bit)
	child, ok := del(e, n.kids[j], level+1, h, key)
	switch {
	case !ok:
		return n, false
	case child.empty():
		n.kids = kids.deleteAt(n.kids, j)
		n.subs &^= bit
	case len(child.item) == 1 && len(child.kids) == 0:
		// The child's one item moves up into this slot.
		items.drop(child.item)
		n.kids = kids.deleteAt(n.kids, j)
		n.subs &^= bit
		n.items |= bit
		n.item = items.insertAt(n.item, rank(n.items, bit), child.item[0])
	default:
		n.kids = kids.replaceAt(n.kids, j, child)
	}
	return n, true
}

// hlen returns the number of items in the trie.
func hlen(n hnode) int {
	k := len(n.item)
	for i := range n.kids {
		k += hlen(n.kids[i])
	}
	return k
}

// edit is one writer's licence to change trie arrays in place: the arrays
// it allocated itself, which no published snapshot can reach until the
// writer publishes. A writer that makes many changes before publishing (a
// batch) copies each array on its path once rather than once per change.
// A nil *edit owns nothing: every change copies.
type edit struct {
	items arena[hitem]
	kids  arena[hnode]
}

// newEdit returns an edit owning nothing yet.
func newEdit() *edit { return &edit{items: arena[hitem]{}, kids: arena[hnode]{}} }

// arenas returns the arrays e owns, of items and of nodes: nil arenas,
// owning nothing, when e is nil.
func (e *edit) arenas() (arena[hitem], arena[hnode]) {
	if e == nil {
		return nil, nil
	}
	return e.items, e.kids
}

// arena is the set of arrays of T an edit allocated, by the address of
// their first element. A nil arena owns nothing and allocates arrays it
// does not keep.
type arena[T any] map[*T]struct{}

// owns reports whether s's array was allocated by a.
func (a arena[T]) owns(s []T) bool {
	if a == nil || cap(s) == 0 {
		return false
	}
	_, ok := a[&s[:1][0]]
	return ok
}

// drop forgets s, which the caller replaces: an array a owns is reachable
// from nowhere else, so a must not keep it alive until the edit is done.
func (a arena[T]) drop(s []T) {
	if a.owns(s) {
		delete(a, &s[:1][0])
	}
}

// alloc returns a new array of n elements (n > 0), owned by a. It has no
// room to spare, which the published trie would keep: an insert still
// copies, but the full nodes near the root, which a batch changes in
// every step, are changed in place.
func (a arena[T]) alloc(n int) []T {
	s := make([]T, n)
	if a != nil {
		a[&s[0]] = struct{}{}
	}
	return s
}

// insertAt returns a new array: s with v inserted at i.
func (a arena[T]) insertAt(s []T, i int, v T) []T {
	a.drop(s)
	out := a.alloc(len(s) + 1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

// replaceAt returns s with v at i: s itself when a owns it, else a copy.
func (a arena[T]) replaceAt(s []T, i int, v T) []T {
	if a.owns(s) {
		s[i] = v
		return s
	}
	out := a.alloc(len(s))
	copy(out, s)
	out[i] = v
	return out
}

// deleteAt returns s without its element i, or nil when that leaves it
// empty: s itself when a owns it, else a new array.
func (a arena[T]) deleteAt(s []T, i int) []T {
	if len(s) == 1 {
		a.drop(s)
		return nil
	}
	if a.owns(s) {
		// The last element, now past the end, must not keep its rows
		// alive.
		var zero T
		copy(s[i:], s[i+1:])
		s[len(s)-1] = zero
		return s[:len(s)-1]
	}
	out := a.alloc(len(s) - 1)
	copy(out, s[:i])
	copy(out[i:], s[i+1:])
	return out
}
