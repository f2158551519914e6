package memory

import (
	"context"
	"hash/maphash"
	"strings"
	"sync/atomic"

	"github.com/google/btree"

	"github.com/userdir/userdir/backend"
)

// degree is the B-tree degree. A write copies one node per level of every
// tree it touches, so smaller nodes make writes cheaper and lookups deeper;
// 16 (up to 31 items a node) keeps both low for tables up to millions of
// rows.
const degree = 16

// snapshot is one tenant's data at one instant. It is never modified after
// it is published; a write publishes a new one sharing what it did not
// change.
type snapshot struct {
	// tables holds each kind's table at its kindDef.ord; an entry is nil,
	// or the slice short, when the tenant has no record of the kind.
	tables []*table
}

// table returns the kind's table, or nil.
func (s *snapshot) table(kd *kindDef) *table {
	if kd.ord < len(s.tables) {
		return s.tables[kd.ord]
	}
	return nil
}

// with returns a copy of s whose table for kd is tb.
func (s *snapshot) with(kd *kindDef, tb *table) *snapshot {
	tables := make([]*table, max(len(s.tables), kd.ord+1))
	copy(tables, s.tables)
	tables[kd.ord] = tb
	return &snapshot{tables: tables}
}

// table is one kind's records in one tenant: the primary tree ordered by
// id and one tree per declared index, in the order of kindDef.indexes, and
// the hash tries that find a row by id (ids) and by the value key of a
// unique index (unique, at the index's position; nil for an index that is
// not unique).
type table struct {
	primary *btree.BTreeG[rowItem]
	indexes []*btree.BTreeG[entry]
	ids     hnode
	unique  []hnode
	seed    maphash.Seed // the tries' hash seed: the store's
	// keyless counts, per index, the rows that have no key in it. A sorted
	// scan of an index only sees every row when the count is zero.
	keyless []int

	// walked is set once a walk has visited every row of the primary
	// tree; flat then holds every row in id order, once a later full walk
	// has made it (see flatten), and building is held by the walk making
	// it. They are the only parts of a table set after it is published.
	walked   atomic.Bool
	building atomic.Bool
	flat     atomic.Pointer[[]*row]
}

// row is a stored record with its index value keys, kept so that a write
// can remove the entries without recomputing them. It is immutable.
type row struct {
	rec  backend.Record
	keys keySet
}

// keySet is a row's value keys for every index of its kind, in index
// order, each index's sorted and distinct, laid out in two allocations
// however many there are: the keys back to back in s, and in off the
// number n of indexes, then for each index the number of keys up to and
// including its own, then the end in s of each key. The index entries
// hold substrings of s. The zero keySet has no keys.
type keySet struct {
	s   string
	off []uint32
}

// keyList is the value keys of one index of a row.
type keyList struct {
	s    string
	from uint32   // where the first key starts in s
	ends []uint32 // where each key ends in s
}

// len returns the number of keys.
func (l keyList) len() int { return len(l.ends) }

// at returns key j.
func (l keyList) at(j int) string {
	start := l.from
	if j > 0 {
		start = l.ends[j-1]
	}
	return l.s[start:l.ends[j]]
}

// all yields the keys in order.
func (l keyList) all(yield func(string) bool) {
	for j := range l.ends {
		if !yield(l.at(j)) {
			return
		}
	}
}

type rowItem struct {
	id string
	r  *row
}

// entry is an index entry: a value key and the row holding it. Entries
// order by (value key, id), so each is distinct and the entries of one
// value come in id order. An entry without a row sorts before the entries
// of its key: it is the start of a range.
type entry struct {
	key string
	r   *row
}

func lessRow(a, b rowItem) bool { return a.id < b.id }

func lessEntry(a, b entry) bool {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c < 0
	}
	if a.r == nil || b.r == nil {
		return a.r == nil && b.r != nil
	}
	return a.r.rec.ID < b.r.rec.ID
}

// keysOf computes a document's value keys for every index of the kind.
func (kd *kindDef) keysOf(doc backend.Document) keySet {
	n := len(kd.indexes)
	if n == 0 {
		return keySet{}
	}
	// Gathered on the stack first (for the usual few short keys), so that
	// the two allocations kept are of the exact size.
	var (
		bufArr  [256]byte
		endsArr [32]uint32
		bndsArr [16]uint32
	)
	buf, ends, bounds := bufArr[:0], endsArr[:0], append(bndsArr[:0], uint32(n))
	for _, ix := range kd.indexes {
		for _, vk := range ix.Keys(doc) {
			buf = append(buf, vk...)
			ends = append(ends, uint32(len(buf)))
		}
		bounds = append(bounds, uint32(len(ends)))
	}
	off := make([]uint32, 0, len(bounds)+len(ends))
	return keySet{s: string(buf), off: append(append(off, bounds...), ends...)}
}

// get returns the row with the id, or nil. A nil table is empty.
func (t *table) get(id string) *row {
	if t == nil {
		return nil
	}
	return hget(t.ids, t.seed, id)
}

// owner returns the row holding the value key vk in unique index i, or
// nil.
func (t *table) owner(i int, vk string) *row {
	return hget(t.unique[i], t.seed, vk)
}

// flatRows returns every row in id order when the table holds them in an
// array (see flatten), and nil otherwise.
func (t *table) flatRows() []*row {
	if p := t.flat.Load(); p != nil {
		return *p
	}
	return nil
}

// flatten returns every row in id order, for a walk about to visit every
// row, or nil: the walk then walks the primary tree. A walk of the array
// touches a small part of the memory a walk of the tree does, whose nodes
// lie wherever the writes that made them left them: at 300,000 rows it
// takes a quarter of the time. The array is made by the first full walk
// after another, so a table replaced by a write between its scans, as in
// a busy tenant, never pays for it; it costs 8 bytes a row, freed with
// the table. One walk makes it while others walk the tree. A walk that
// stops early (a page) only reads an array already made (flatRows).
func (t *table) flatten(ctx context.Context) ([]*row, error) {
	if rows := t.flatRows(); rows != nil || !t.walked.Load() {
		return rows, nil
	}
	if !t.building.CompareAndSwap(false, true) {
		return nil, nil
	}
	defer t.building.Store(false)
	rows := make([]*row, 0, t.primary.Len())
	var err error
	t.primary.Ascend(func(it rowItem) bool {
		if len(rows)%ctxEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		rows = append(rows, it.r)
		return true
	})
	if err != nil {
		return nil, err
	}
	t.flat.Store(&rows)
	return rows, nil
}

// len returns the number of rows.
func (t *table) len() int {
	if t == nil {
		return 0
	}
	return t.primary.Len()
}

// clash returns the position of a unique index in which another row than
// id holds one of r's keys, or -1.
func (t *table) clash(kd *kindDef, id string, r *row) int {
	if t == nil {
		return -1
	}
	for i, ix := range kd.indexes {
		if !ix.Unique {
			continue
		}
		for k := range r.keysAt(i).all {
			if o := t.owner(i, k); o != nil && o.rec.ID != id {
				return i
			}
		}
	}
	return -1
}

// refuse returns why the new row r cannot be created in t: its id, or
// one of its keys in a unique index, is taken. It returns nil when r can
// be.
func (t *table) refuse(kd *kindDef, op string, r *row) error {
	id := r.rec.ID
	if t.get(id) != nil {
		return &backend.Error{Op: op, Kind: kd.kind.Name, ID: id, Err: backend.ErrAlreadyExists}
	}
	if ix := t.clash(kd, id, r); ix >= 0 {
		return clashError(kd, op, id, ix)
	}
	return nil
}

// clashError reports that a unique key of index ix is held by another
// record than id.
func clashError(kd *kindDef, op, id string, ix int) error {
	return &backend.Error{Op: op, Kind: kd.kind.Name, ID: id, Index: kd.indexes[ix].Name, Err: backend.ErrAlreadyExists}
}

// writer builds the next version of a table during one write. Trees are
// cloned on first change, lazily (a clone copies a node only when it is
// changed, and nodes reachable from a published snapshot are never changed
// in place), and trees the write does not touch are shared as they are.
type writer struct {
	t     *table
	kd    *kindDef
	owned []bool // index trees already cloned for this write
	e     *edit  // the trie arrays this write may change in place; nil for one change
}

// write starts the next version of t (nil: a new, empty table).
func (t *table) write(kd *kindDef) *writer {
	n := &table{indexes: make([]*btree.BTreeG[entry], len(kd.indexes)), unique: make([]hnode, len(kd.indexes))}
	w := &writer{t: n, kd: kd, owned: make([]bool, len(kd.indexes))}
	if t == nil {
		n.seed = kd.seed
		n.primary = btree.NewG(degree, lessRow)
		for i := range n.indexes {
			n.indexes[i] = btree.NewG(degree, lessEntry)
			w.owned[i] = true
		}
		n.keyless = make([]int, len(kd.indexes))
		return w
	}
	n.primary = t.primary.Clone()
	n.ids, n.seed = t.ids, t.seed
	copy(n.unique, t.unique)
	copy(n.indexes, t.indexes)
	n.keyless = append([]int(nil), t.keyless...)
	return w
}

// index returns index tree i, ready to change.
func (w *writer) index(i int) *btree.BTreeG[entry] {
	if !w.owned[i] {
		w.t.indexes[i] = w.t.indexes[i].Clone()
		w.owned[i] = true
	}
	return w.t.indexes[i]
}

// insert adds a row that is not in the table.
func (w *writer) insert(r *row) {
	w.t.primary.ReplaceOrInsert(rowItem{id: r.rec.ID, r: r})
	w.t.ids = hput(w.e, w.t.ids, w.t.seed, r.rec.ID, r)
	for i := range w.t.indexes {
		ks := r.keysAt(i)
		if ks.len() == 0 {
			w.t.keyless[i]++
		}
		for k := range ks.all {
			w.index(i).ReplaceOrInsert(entry{key: k, r: r})
			w.own(i, k, r)
		}
	}
}

// remove deletes a row of the table.
func (w *writer) remove(r *row) {
	w.t.primary.Delete(rowItem{id: r.rec.ID})
	w.t.ids = hdel(w.e, w.t.ids, w.t.seed, r.rec.ID)
	for i := range w.t.indexes {
		ks := r.keysAt(i)
		if ks.len() == 0 {
			w.t.keyless[i]--
		}
		for k := range ks.all {
			w.index(i).Delete(entry{key: k, r: r})
			w.own(i, k, nil)
		}
	}
}

// own records r as the holder of value key vk in index i when the index
// is unique, or frees vk when r is nil.
func (w *writer) own(i int, vk string, r *row) {
	if !w.kd.indexes[i].Unique {
		return
	}
	if r == nil {
		w.t.unique[i] = hdel(w.e, w.t.unique[i], w.t.seed, vk)
	} else {
		w.t.unique[i] = hput(w.e, w.t.unique[i], w.t.seed, vk, r)
	}
}

// replace swaps row old for r, which has the same id. Entries whose key is
// unchanged are overwritten in place rather than deleted and reinserted;
// they must still be written, since entries point at their row.
func (w *writer) replace(old, r *row) {
	w.t.primary.ReplaceOrInsert(rowItem{id: r.rec.ID, r: r})
	w.t.ids = hput(w.e, w.t.ids, w.t.seed, r.rec.ID, r)
	for i := range w.t.indexes {
		oks, nks := old.keysAt(i), r.keysAt(i)
		if oks.len() == 0 {
			w.t.keyless[i]--
		}
		if nks.len() == 0 {
			w.t.keyless[i]++
		}
		// Both lists are sorted: drop the old keys that the new list lacks.
		j := 0
		for k := range oks.all {
			for j < nks.len() && nks.at(j) < k {
				j++
			}
			if j == nks.len() || nks.at(j) != k {
				w.index(i).Delete(entry{key: k, r: old})
				w.own(i, k, nil)
			}
		}
		for k := range nks.all {
			w.index(i).ReplaceOrInsert(entry{key: k, r: r})
			w.own(i, k, r)
		}
	}
}

// keysAt returns the row's value keys in index i.
func (r *row) keysAt(i int) keyList {
	off := r.keys.off
	if len(off) == 0 || uint32(i) >= off[0] {
		return keyList{}
	}
	ends := off[off[0]+1:]
	lo, hi := uint32(0), off[i+1]
	if i > 0 {
		lo = off[i]
	}
	l := keyList{s: r.keys.s, ends: ends[lo:hi]}
	if lo > 0 {
		l.from = ends[lo-1]
	}
	return l
}
