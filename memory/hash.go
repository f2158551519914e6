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
// slot. Below the last level that the hash can split (lastLevel), items
// whose hashes are equal share a collision node, searched in turn.
const (
	hashBits  = 5
	lastLevel = 64 / hashBits // the level of collision nodes
)

// hnode is a node of a hash trie. itemBits and nodeBits mark the slots
// holding an item and a child; items and nodes hold them in slot order. A
// collision node (at lastLevel) keeps its items in items alone.
type hnode struct {
	itemBits, nodeBits uint32
	items              []hitem
	nodes              []*hnode
}

// hitem is an entry of a hash trie: a key and its row.
type hitem struct {
	key string
	r   *row
}

// hashOf is the hash of a trie key: seed is the store's, so that the
// shape of the trie cannot be chosen by whoever chooses the keys.
func hashOf(seed maphash.Seed, key string) uint64 { return maphash.String(seed, key) }

// slot returns the bit of the slot the hash h takes at level.
func slot(h uint64, level int) uint32 { return 1 << ((h >> (level * hashBits)) & 31) }

// rank returns the position among set bits of the slot bit in set.
func rank(set, bit uint32) int { return bits.OnesCount32(set & (bit - 1)) }

// hget returns the row of key, or nil.
func hget(n *hnode, seed maphash.Seed, key string) *row {
	if n == nil {
		return nil
	}
	return find(n, hashOf(seed, key), key)
}

// find returns the row of key, whose hash is h, below n.
func find(n *hnode, h uint64, key string) *row {
	for level := 0; level < lastLevel; level++ {
		bit := slot(h, level)
		switch {
		case n.itemBits&bit != 0:
			if it := n.items[rank(n.itemBits, bit)]; it.key == key {
				return it.r
			}
			return nil
		case n.nodeBits&bit != 0:
			n = n.nodes[rank(n.nodeBits, bit)]
		default:
			return nil
		}
	}
	for _, it := range n.items {
		if it.key == key {
			return it.r
		}
	}
	return nil
}

// hput returns a trie holding what n holds, with key's row set to r.
func hput(n *hnode, seed maphash.Seed, key string, r *row) *hnode {
	hash := func(k string) uint64 { return hashOf(seed, k) }
	return put(n, hash, 0, hash(key), hitem{key: key, r: r})
}

// put sets it, whose key's hash is h, below n at level. The hash of a key
// already in n is computed again, with hash, when it must move down.
func put(n *hnode, hash func(string) uint64, level int, h uint64, it hitem) *hnode {
	if level == lastLevel {
		if n == nil {
			return &hnode{items: []hitem{it}}
		}
		items := make([]hitem, 0, len(n.items)+1)
		for _, old := range n.items {
			if old.key != it.key {
				items = append(items, old)
			}
		}
		return &hnode{items: append(items, it)}
	}
	bit := slot(h, level)
	if n == nil {
		return &hnode{itemBits: bit, items: []hitem{it}}
	}
	switch {
	case n.nodeBits&bit != 0:
		i := rank(n.nodeBits, bit)
		c := n.copy()
		c.nodes[i] = put(n.nodes[i], hash, level+1, h, it)
		return c
	case n.itemBits&bit != 0:
		i := rank(n.itemBits, bit)
		old := n.items[i]
		if old.key == it.key {
			c := n.copy()
			c.items[i] = it
			return c
		}
		// Two keys in one slot: both move one level down.
		child := put(nil, hash, level+1, hash(old.key), old)
		child = put(child, hash, level+1, h, it)
		c := &hnode{itemBits: n.itemBits &^ bit, nodeBits: n.nodeBits | bit}
		c.items = deleteAt(n.items, i)
		c.nodes = insertAt(n.nodes, rank(c.nodeBits, bit), child)
		return c
	default:
		c := &hnode{itemBits: n.itemBits | bit, nodeBits: n.nodeBits, nodes: n.nodes}
		c.items = insertAt(n.items, rank(c.itemBits, bit), it)
		return c
	}
}

// hdel returns a trie holding what n holds without key.
func hdel(n *hnode, seed maphash.Seed, key string) *hnode {
	if n == nil {
		return nil
	}
	out, _ := del(n, 0, hashOf(seed, key), key)
	return out
}

// del removes key below n, reporting whether it was there. A node left
// with one item and no child is folded into its parent's slot, and an
// empty node is dropped, so the trie keeps the shape its keys alone give.
func del(n *hnode, level int, h uint64, key string) (*hnode, bool) {
	if level == lastLevel {
		for i, it := range n.items {
			if it.key == key {
				if len(n.items) == 1 {
					return nil, true
				}
				return &hnode{items: deleteAt(n.items, i)}, true
			}
		}
		return n, false
	}
	bit := slot(h, level)
	switch {
	case n.itemBits&bit != 0:
		i := rank(n.itemBits, bit)
		if n.items[i].key != key {
			return n, false
		}
		if n.itemBits == bit && n.nodeBits == 0 {
			return nil, true
		}
		c := &hnode{itemBits: n.itemBits &^ bit, nodeBits: n.nodeBits, nodes: n.nodes}
		c.items = deleteAt(n.items, i)
		return c, true
	case n.nodeBits&bit != 0:
		i := rank(n.nodeBits, bit)
		child, ok := del(n.nodes[i], level+1, h, key)
		if !ok {
			return n, false
		}
		switch {
		case child != nil && (child.nodeBits != 0 || len(child.items) != 1):
			c := n.copy()
			c.nodes[i] = child
			return c, true
		case child == nil && n.nodeBits == bit && n.itemBits == 0:
			return nil, true
		}
		c := &hnode{itemBits: n.itemBits, nodeBits: n.nodeBits &^ bit, items: n.items}
		c.nodes = deleteAt(n.nodes, i)
		if child != nil {
			c.itemBits |= bit
			c.items = insertAt(n.items, rank(c.itemBits, bit), child.items[0])
		}
		return c, true
	}
	return n, false
}

// hlen returns the number of items in the trie.
func hlen(n *hnode) int {
	if n == nil {
		return 0
	}
	k := len(n.items)
	for _, c := range n.nodes {
		k += hlen(c)
	}
	return k
}

// copy returns a copy of n whose slices may be changed.
func (n *hnode) copy() *hnode {
	return &hnode{
		itemBits: n.itemBits,
		nodeBits: n.nodeBits,
		items:    append([]hitem(nil), n.items...),
		nodes:    append([]*hnode(nil), n.nodes...),
	}
}

// insertAt returns a new slice: s with v inserted at i.
func insertAt[T any](s []T, i int, v T) []T {
	out := make([]T, len(s)+1)
	copy(out, s[:i])
	out[i] = v
	copy(out[i+1:], s[i:])
	return out
}

// deleteAt returns a new slice: s without its element i, or nil when that
// leaves it empty.
func deleteAt[T any](s []T, i int) []T {
	if len(s) == 1 {
		return nil
	}
	out := make([]T, len(s)-1)
	copy(out, s[:i])
	copy(out[i:], s[i+1:])
	return out
}
