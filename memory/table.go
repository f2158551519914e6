package memory

import (
	"hash/maphash"

	"github.com/google/btree"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
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
}

// row is a stored record with its index entry keys, kept so that a write
// can remove the entries without recomputing them. It is immutable.
type row struct {
	rec  backend.Record
	keys [][]string // per index: sorted entry keys (value key + id key)
}

type rowItem struct {
	id string
	r  *row
}

// entry is an index entry. Its key is the value key followed by the
// encoded id: value keys are prefix-free, so entries order by (value, id)
// and each entry is distinct.
type entry struct {
	key string
	r   *row
}

func lessRow(a, b rowItem) bool { return a.id < b.id }

func lessEntry(a, b entry) bool { return a.key < b.key }

// idKey encodes an id like a case-exact string value, which sorts like the
// id itself and cannot run into the value key before it.
func idKey(id string) []byte {
	return query.AppendKey(nil, query.Value{Kind: query.KindString, Str: id}, true)
}

// rowKeys computes a document's entry keys for every index of the kind,
// and the length of the id key that ends each of them.
func (kd *kindDef) rowKeys(id string, doc backend.Document) (keys [][]string, idLen int) {
	if len(kd.indexes) == 0 {
		return nil, 0
	}
	idk := idKey(id)
	keys = make([][]string, len(kd.indexes))
	for i, ix := range kd.indexes {
		vks := ix.Keys(doc)
		if len(vks) == 0 {
			continue
		}
		ks := make([]string, len(vks))
		for j, vk := range vks {
			ks[j] = string(append(vk, idk...))
		}
		keys[i] = ks
	}
	return keys, len(idk)
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

// len returns the number of rows.
func (t *table) len() int {
	if t == nil {
		return 0
	}
	return t.primary.Len()
}

// clash returns the position of a unique index in which another row than
// id holds one of keys (whose id keys are idLen bytes long), or -1.
func (t *table) clash(kd *kindDef, id string, keys [][]string, idLen int) int {
	if t == nil {
		return -1
	}
	for i, ix := range kd.indexes {
		if !ix.Unique || i >= len(keys) {
			continue
		}
		for _, k := range keys[i] {
			if r := t.owner(i, k[:len(k)-idLen]); r != nil && r.rec.ID != id {
				return i
			}
		}
	}
	return -1
}

// writer builds the next version of a table during one write. Trees are
// cloned on first change, lazily (a clone copies a node only when it is
// changed, and nodes reachable from a published snapshot are never changed
// in place), and trees the write does not touch are shared as they are.
type writer struct {
	t     *table
	kd    *kindDef
	owned []bool // index trees already cloned for this write
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
	w.t.ids = hput(w.t.ids, w.t.seed, r.rec.ID, r)
	idLen := len(idKey(r.rec.ID))
	for i := range w.t.indexes {
		ks := keysAt(r, i)
		if len(ks) == 0 {
			w.t.keyless[i]++
		}
		for _, k := range ks {
			w.index(i).ReplaceOrInsert(entry{key: k, r: r})
			w.own(i, k[:len(k)-idLen], r)
		}
	}
}

// remove deletes a row of the table.
func (w *writer) remove(r *row) {
	w.t.primary.Delete(rowItem{id: r.rec.ID})
	w.t.ids = hdel(w.t.ids, w.t.seed, r.rec.ID)
	idLen := len(idKey(r.rec.ID))
	for i := range w.t.indexes {
		ks := keysAt(r, i)
		if len(ks) == 0 {
			w.t.keyless[i]--
		}
		for _, k := range ks {
			w.index(i).Delete(entry{key: k})
			w.own(i, k[:len(k)-idLen], nil)
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
		w.t.unique[i] = hdel(w.t.unique[i], w.t.seed, vk)
	} else {
		w.t.unique[i] = hput(w.t.unique[i], w.t.seed, vk, r)
	}
}

// replace swaps row old for r, which has the same id. Entries whose key is
// unchanged are overwritten in place rather than deleted and reinserted;
// they must still be written, since entries point at their row.
func (w *writer) replace(old, r *row) {
	w.t.primary.ReplaceOrInsert(rowItem{id: r.rec.ID, r: r})
	w.t.ids = hput(w.t.ids, w.t.seed, r.rec.ID, r)
	idLen := len(idKey(r.rec.ID))
	for i := range w.t.indexes {
		oks, nks := keysAt(old, i), keysAt(r, i)
		if len(oks) == 0 {
			w.t.keyless[i]--
		}
		if len(nks) == 0 {
			w.t.keyless[i]++
		}
		// Both lists are sorted: drop the old keys that the new list lacks.
		j := 0
		for _, k := range oks {
			for j < len(nks) && nks[j] < k {
				j++
			}
			if j == len(nks) || nks[j] != k {
				w.index(i).Delete(entry{key: k})
				w.own(i, k[:len(k)-idLen], nil)
			}
		}
		for _, k := range nks {
			w.index(i).ReplaceOrInsert(entry{key: k, r: r})
			w.own(i, k[:len(k)-idLen], r)
		}
	}
}

func keysAt(r *row, i int) []string {
	if i < len(r.keys) {
		return r.keys[i]
	}
	return nil
}
