package badger

import (
	"strings"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query answers from a kind's indexes (see
// backend.IndexPushdown). For a kind that is not defined it accepts only
// the id order.
func (s *Store) Pushdown(kind string) query.Pushdown {
	if kd := (*s.kinds.Load())[kind]; kd != nil {
		return kd.pushdown
	}
	return backend.IndexPushdown(nil)
}

// sortIndex returns the index whose order is the order of s and that
// lists every record: its attribute is Required (see backend.SortIndex).
func (kd *kindDef) sortIndex(s query.Sort) (int, bool) {
	i, ok := backend.SortIndex(kd.indexes, s)
	if !ok || !kd.indexes[i].Attr.Required {
		return -1, false
	}
	return i, true
}

// leaf returns the index span that answers c exactly, if there is one.
func (kd *kindDef) leaf(c *query.Compare) (backend.Span, bool) {
	return backend.SpanOf(kd.indexes, c)
}

// plan is how Query narrows a filter with indexes: a tree of index spans
// combined by intersection and union.
type plan struct {
	op   byte // 's' span, '&' intersection, '|' union
	span backend.Span
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
	b.WriteString("index " + kd.indexes[p.span.Index].Name + " ")
	switch p.span.Compare.Op {
	case query.OpEq:
		b.WriteString("eq")
	case query.OpSw:
		b.WriteString("prefix")
	default:
		b.WriteString("range " + p.span.Compare.Op.String())
	}
}
