package memory

import (
	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query answers from the indexes of a kind (see
// backend.IndexPushdown). For a kind that is not defined it accepts only
// the id order.
func (s *Store) Pushdown(kind string) query.Pushdown {
	var indexes []backend.CompiledIndex
	if kd := (*s.kinds.Load())[kind]; kd != nil {
		indexes = kd.indexes
	}
	return backend.IndexPushdown(indexes)
}

// sortIndex returns the index whose order is the order of s (see
// backend.SortIndex).
func (kd *kindDef) sortIndex(s query.Sort) (int, bool) {
	return backend.SortIndex(kd.indexes, s)
}

// leaf is a comparison answered by one index range: the entries whose key
// is in [lo, hi), or from lo on when hi is unbounded. It is a
// backend.Span with the bounds as strings, the btrees' keys.
type leaf struct {
	c     *query.Compare
	ix    int
	lo    string
	hi    string
	open  bool // hi is unbounded
	point bool // one value key: the entries come in id order
}

// leaf returns the index range that answers c exactly, if there is one.
func (kd *kindDef) leaf(c *query.Compare) (leaf, bool) {
	sp, ok := backend.SpanOf(kd.indexes, c)
	if !ok {
		return leaf{}, false
	}
	return leaf{c: c, ix: sp.Index, lo: string(sp.Lo), hi: string(sp.Hi), open: sp.Hi == nil, point: sp.Point}, true
}
