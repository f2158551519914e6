package badger

import (
	"strings"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query answers from a kind's indexes. Filter is
// Exact for a comparison that one index range answers: eq with a non-null
// literal, sw with a string, gt, ge, lt and le with anything but a
// boolean, on an indexed attribute. Index keys are computed with the
// evaluator's own folding and one key per distinct value, so such a range
// holds exactly the records query.Eval matches, multi-valued attributes
// included (any value matches). Everything else is Unsupported: ne, co,
// ew and pr would need every key examined, and not and value filters tie
// conditions that the index cannot see.
//
// Sort accepts the id order (an empty Sort) and a single key on an
// indexed, single-valued attribute with a schema type that every record
// has (query.Attribute.Required), since its index then lists every record
// once, in the sort's order.
func (s *Store) Pushdown(kind string) query.Pushdown {
	return pushdown{kd: (*s.kinds.Load())[kind]}
}

type pushdown struct {
	kd *kindDef // nil for an undefined kind
}

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

func (p pushdown) Sort(s query.Sort) bool {
	if len(s) == 0 {
		return true
	}
	if p.kd == nil {
		return false
	}
	_, ok := p.kd.sortIndex(s)
	return ok
}

// indexFor returns the position of an index on the attribute a, or -1. An
// attribute bound inside a value filter (Local differs from Name) is not
// looked up: the filter ties it to one element, which no index sees.
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

// sortIndex returns the index whose order is the order of s.
func (kd *kindDef) sortIndex(s query.Sort) (int, bool) {
	if len(s) != 1 {
		return -1, false
	}
	i := kd.indexFor(s[0].Attr)
	if i < 0 {
		return -1, false
	}
	// Claims are left out: their values may be of mixed JSON types, and
	// nothing makes them required.
	a := kd.indexes[i].Attr
	if a.Multi || !a.Required || a.Claims || a.Type == query.TypeAny {
		return -1, false
	}
	return i, true
}

// span is the range of value keys [lo, hi) of one index that answers a
// comparison.
type span struct {
	ix     int
	lo, hi []byte
	// prefix, when set, is shared by every value key in the span (an eq
	// or sw span); a scan then reads only keys with it.
	prefix []byte
	point  bool // lo is one whole value key (eq)
	c      *query.Compare
}

// leaf returns the index span that answers c exactly, if there is one.
func (kd *kindDef) leaf(c *query.Compare) (span, bool) {
	ix := kd.indexFor(c.Attr)
	if ix < 0 || c.Value.Kind == query.KindNull {
		return span{}, false
	}
	exact := kd.indexes[ix].Attr.CaseExact
	sp := span{ix: ix, c: c}
	switch c.Op {
	case query.OpEq:
		k := query.AppendKey(nil, c.Value, exact)
		sp.lo, sp.hi, sp.prefix, sp.point = k, successor(k), k, true
		return sp, true
	case query.OpSw:
		if c.Value.Kind != query.KindString {
			return span{}, false
		}
		// A string's key is its escaped bytes and a two-byte terminator.
		// Escaping works byte by byte, so the keys of the strings that
		// start with s are exactly the keys that start with s's key
		// without its terminator.
		k := query.AppendKey(nil, c.Value, exact)
		p := k[:len(k)-stringTerminatorLen]
		sp.lo, sp.hi, sp.prefix = p, successor(p), p
		return sp, true
	case query.OpGt, query.OpGe, query.OpLt, query.OpLe:
		if c.Value.Kind == query.KindBool {
			return span{}, false
		}
		k := query.AppendKey(nil, c.Value, exact)
		// Every key starts with a one-byte type tag, and the evaluator
		// never orders values of different types, so the span stays
		// within the literal's type.
		tlo, thi := k[:1], successor(k[:1])
		switch c.Op {
		case query.OpGt:
			// The encoding is prefix-free: only k itself starts with k.
			sp.lo, sp.hi = successor(k), thi
		case query.OpGe:
			sp.lo, sp.hi = k, thi
		case query.OpLt:
			sp.lo, sp.hi = tlo, k
		case query.OpLe:
			sp.lo, sp.hi = tlo, successor(k)
		}
		return sp, true
	}
	return span{}, false
}

// stringTerminatorLen is the length of the terminator query.AppendKey
// puts after a string's bytes.
const stringTerminatorLen = 2

// plan is how Query narrows a filter with indexes: a tree of index spans
// combined by intersection and union.
type plan struct {
	op   byte // 's' span, '&' intersection, '|' union
	span span
	l, r *plan
}

// compile returns the index plan for the bound filter e, nil when no index
// narrows it (every record is a candidate), and whether the plan's
// records are exactly e's. An and with one side unindexed narrows by the
// other side; an or narrows only when both sides do.
func (kd *kindDef) compile(e query.Expr) (*plan, bool) {
	switch n := e.(type) {
	case nil:
		return nil, true
	case *query.Compare:
		if sp, ok := kd.leaf(n); ok {
			return &plan{op: 's', span: sp}, true
		}
	case *query.And:
		l, le := kd.compile(n.Left)
		r, re := kd.compile(n.Right)
		switch {
		case l == nil && r == nil:
			return nil, false
		case l == nil:
			return r, false
		case r == nil:
			return l, false
		}
		return &plan{op: '&', l: l, r: r}, le && re
	case *query.Or:
		l, le := kd.compile(n.Left)
		r, re := kd.compile(n.Right)
		if l == nil || r == nil {
			return nil, false
		}
		return &plan{op: '|', l: l, r: r}, le && re
	}
	return nil, false
}

// Explain describes how Query would execute q, for example
//
//	index emails eq; id order
//	intersect(index created range gt, index status eq); sorted by index created desc
//	scan users records, evaluate title co "eng"; id order
func (s *Store) Explain(tenant string, q backend.Query) string {
	kd := (*s.kinds.Load())[q.Kind]
	if kd == nil {
		return "kind " + q.Kind + " is not defined"
	}
	var b strings.Builder
	pl, exact := kd.compile(q.Filter)
	if pl == nil {
		b.WriteString("scan " + q.Kind + " records")
	} else {
		pl.explain(&b, kd)
	}
	if !exact {
		b.WriteString(", evaluate " + q.Filter.String())
	}
	b.WriteString("; ")
	dir := func(desc bool) string {
		if desc != q.Reverse {
			return "desc"
		}
		return "asc"
	}
	switch ix, ok := kd.sortIndex(q.Sort); {
	case len(q.Sort) == 0:
		b.WriteString("id order")
		if q.Reverse {
			b.WriteString(" desc")
		}
	case ok:
		b.WriteString("sorted by index " + kd.indexes[ix].Name + " " + dir(q.Sort[0].Desc))
	default:
		b.WriteString("sort " + q.Sort.String() + " unsupported")
	}
	if q.After != nil {
		b.WriteString(" after id " + q.After.ID)
	}
	return b.String()
}

func (p *plan) explain(b *strings.Builder, kd *kindDef) {
	switch p.op {
	case '&', '|':
		if p.op == '&' {
			b.WriteString("intersect(")
		} else {
			b.WriteString("union(")
		}
		p.l.explain(b, kd)
		b.WriteString(", ")
		p.r.explain(b, kd)
		b.WriteString(")")
		return
	}
	b.WriteString("index " + kd.indexes[p.span.ix].Name + " ")
	switch p.span.c.Op {
	case query.OpEq:
		b.WriteString("eq")
	case query.OpSw:
		b.WriteString("prefix")
	default:
		b.WriteString("range " + p.span.c.Op.String())
	}
}
