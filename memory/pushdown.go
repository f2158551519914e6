package memory

import (
	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query answers from the indexes of a kind: see
// pushdown.Filter and pushdown.Sort. For a kind that is not defined it
// accepts only the id order.
func (s *Store) Pushdown(kind string) query.Pushdown {
	return pushdown{kd: (*s.kinds.Load())[kind]}
}

type pushdown struct {
	kd *kindDef // nil for an undefined kind
}

// Filter reports Exact for a comparison that one index range answers: eq
// with a non-null literal, sw with a string, and gt, ge, lt, le with
// anything but a boolean, on an indexed attribute. Index keys are computed
// with the evaluator's own folding, and a record has one key per distinct
// value, so the range holds exactly the records the evaluator would match,
// for multi-valued attributes too (any value matches). Everything else is
// Unsupported: ne, co, ew and pr need every key examined, and negation and
// value filters tie conditions the index cannot see.
func (p pushdown) Filter(e query.Expr) query.Support {
	c, ok := e.(*query.Compare)
	if !ok || c == nil || p.kd == nil {
		return query.Unsupported
	}
	if _, ok := p.kd.leaf(c); ok {
		return query.Exact
	}
	return query.Unsupported
}

// Sort accepts the id order (an empty Sort) and a single key on an
// indexed, single-valued attribute that every record has (Required), since
// the index then lists every record exactly once in the sort's order.
func (p pushdown) Sort(s query.Sort) bool {
	if len(s) == 0 {
		return true
	}
	if p.kd == nil {
		return false
	}
	ix, ok := p.kd.sortIndex(s)
	return ok && p.kd.indexes[ix].Attr.Required
}

// indexFor returns the position of an index on the attribute a, or -1. An
// attribute bound inside a value filter (Local differs from Name) has no
// index of its own: the filter ties it to one element.
func (kd *kindDef) indexFor(a *query.Attribute) int {
	if a == nil || (a.Local != "" && a.Local != a.Name) {
		return -1
	}
	for i, ix := range kd.indexes {
		if ix.Attr.Name == a.Name && ix.Attr.CaseExact == a.CaseExact {
			return i
		}
	}
	return -1
}

// sortIndex returns the index whose order is the order of s: a single key
// on an indexed, single-valued attribute with a schema type. Claims are
// left out because their values may mix JSON types.
func (kd *kindDef) sortIndex(s query.Sort) (int, bool) {
	if len(s) != 1 {
		return -1, false
	}
	ix := kd.indexFor(s[0].Attr)
	if ix < 0 {
		return -1, false
	}
	a := kd.indexes[ix].Attr
	if a.Multi || a.Claims || a.Type == query.TypeAny {
		return -1, false
	}
	return ix, true
}

// leaf is a comparison answered by one index range: the entries whose key
// is in [lo, hi), or from lo on when hi is unbounded.
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
	ix := kd.indexFor(c.Attr)
	if ix < 0 {
		return leaf{}, false
	}
	v := c.Value
	if v.Kind == query.KindNull {
		return leaf{}, false
	}
	exact := kd.indexes[ix].Attr.CaseExact
	l := leaf{c: c, ix: ix}
	switch c.Op {
	case query.OpEq:
		k := query.AppendKey(nil, v, exact)
		l.lo = string(k)
		l.hi, l.open = succ(k)
		l.point = true
		return l, true
	case query.OpSw:
		if v.Kind != query.KindString {
			return leaf{}, false
		}
		p := prefixKey(v.Str, exact)
		l.lo = string(p)
		l.hi, l.open = succ(p)
		return l, true
	case query.OpGt, query.OpGe, query.OpLt, query.OpLe:
		if v.Kind == query.KindBool {
			return leaf{}, false
		}
		k := query.AppendKey(nil, v, exact)
		// Keys of other types sort apart from this one's; the evaluator
		// never orders across types, so the range stays within the type.
		tlo, thi, topen := typeSpan(k)
		switch c.Op {
		case query.OpGt:
			var kopen bool
			l.lo, kopen = succ(k)
			if kopen {
				// Nothing sorts after k: an empty range.
				l.lo, l.hi = string(k), string(k)
				return l, true
			}
			l.hi, l.open = thi, topen
		case query.OpGe:
			l.lo, l.hi, l.open = string(k), thi, topen
		case query.OpLt:
			l.lo, l.hi = tlo, string(k)
		case query.OpLe:
			l.lo = tlo
			l.hi, l.open = succ(k)
		}
		return l, true
	}
	return leaf{}, false
}

// succ returns the least string greater than every string that starts
// with k, and whether there is none (k is all 0xff bytes).
func succ(k []byte) (string, bool) {
	b := []byte(string(k))
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0xff {
			b[i]++
			return string(b[:i+1]), false
		}
	}
	return "", true
}

// prefixKey returns the key prefix shared by the keys of every string that
// starts with s (after folding unless caseExact): the string's key without
// its two-byte terminator. Escaping is byte by byte, so the escaped prefix
// of a string is the prefix of its escaped form.
func prefixKey(s string, caseExact bool) []byte {
	k := query.AppendKey(nil, query.Value{Kind: query.KindString, Str: s}, caseExact)
	return k[:len(k)-stringTerminatorLen]
}

// stringTerminatorLen is the length of the terminator that query.AppendKey
// puts after a string's bytes.
const stringTerminatorLen = 2

// typeSpan returns the range of keys of the same type as the key k: every
// key starts with a one-byte type tag.
func typeSpan(k []byte) (lo, hi string, open bool) {
	hi, open = succ(k[:1])
	return string(k[:1]), hi, open
}
