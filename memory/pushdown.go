package memory

import (
	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query answers (see backend.IndexPushdown for the
// sorts). Every filter is answered exactly: what the indexes of the kind
// do not answer, the store evaluates on the rows it holds, compiled once
// per prepared query, so a scan never hands its caller a record only for
// it to be thrown away. For a kind that is not defined it accepts no
// filter and only the id order.
func (s *Store) Pushdown(kind string) query.Pushdown {
	kd := (*s.kinds.Load())[kind]
	if kd == nil {
		return backend.IndexPushdown(nil)
	}
	return kd.pushdown
}

// everyFilter is a pushdown that runs every filter exactly.
type everyFilter struct{ query.Pushdown }

func (everyFilter) Filter(query.Expr) query.Support { return query.Exact }

// sortIndex returns the index whose order is the order of s (see
// backend.SortIndex).
func (kd *kindDef) sortIndex(s query.Sort) (int, bool) {
	return backend.SortIndex(kd.indexes, s)
}

// leaf is a comparison answered by one index range: the entries whose key
// is in [lo, hi), or from lo on when hi is unbounded, or exactly lo for a
// point. It is a backend.Span with the bounds as strings, the btrees'
// keys.
type leaf struct {
	c     *query.Compare
	ix    int
	lo    string
	hi    string // unset for a point
	open  bool   // hi is unbounded
	point bool   // the one value key lo: the entries come in id order
}

// leaf returns the index range that answers c exactly, if there is one.
// A point needs no upper bound: value keys are prefix-free, so the keys in
// [lo, successor of lo) are lo alone.
func (kd *kindDef) leaf(c *query.Compare) (leaf, bool) {
	sp, ok := backend.SpanOf(kd.indexes, c)
	if !ok {
		return leaf{}, false
	}
	l := leaf{c: c, ix: sp.Index, lo: string(sp.Lo), open: sp.Hi == nil, point: sp.Point}
	if !l.point && !l.open {
		l.hi = string(sp.Hi)
	}
	return l, true
}

// holds reports whether the value key k is in the leaf's range.
func (l *leaf) holds(k string) bool {
	switch {
	case l.point:
		return k == l.lo
	case l.open:
		return k >= l.lo
	}
	return k >= l.lo && k < l.hi
}
