package memory

import (
	"strconv"
	"strings"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Explain describes how Query would execute q: the index ranges that
// narrow the filter and how they combine, what is evaluated per record,
// and the order of the scan, for example
//
//	index email eq "ann@example.com"; sorted by index created (meta.created) desc after ("2024-05-01T00:00:00Z", "u1")
//	scan users (no index); evaluate per record: title co "eng"; id order
//
// A sort served by the index may still be sorted in memory when the
// filter leaves only a few records, or when some records lack a value.
func (s *Store) Explain(tenant string, q backend.Query) string {
	if s.closed.Load() {
		return "closed"
	}
	kd := (*s.kinds.Load())[q.Kind]
	if kd == nil {
		return "kind " + q.Kind + " not defined"
	}
	var b strings.Builder
	p := kd.prepare(&q)
	a, exact := p.a, p.rest == nil
	switch {
	case a == nil && q.Filter == nil:
		b.WriteString("scan " + q.Kind)
	case a == nil:
		b.WriteString("scan " + q.Kind + " (no index); evaluate per record: " + q.Filter.String())
	default:
		kd.explainAccess(&b, a)
		if !exact {
			b.WriteString("; recheck per record: " + p.rest.String())
		}
	}
	b.WriteString("; ")
	if ix, ok := kd.sortIndex(q.Sort); ok {
		b.WriteString("sorted by index ")
		kd.writeIndex(&b, ix)
		if q.Sort[0].Desc {
			b.WriteString(" desc")
		} else {
			b.WriteString(" asc")
		}
	} else if len(q.Sort) == 0 {
		b.WriteString("id order")
	} else {
		b.WriteString("sorted in memory by " + q.Sort.String())
	}
	if q.Reverse {
		b.WriteString(" reversed")
	}
	if p := q.After; p != nil {
		b.WriteString(" after (")
		for _, v := range p.Values {
			b.WriteString(valueText(v) + ", ")
		}
		b.WriteString(strconv.Quote(p.ID) + ")")
	}
	return b.String()
}

func (kd *kindDef) explainAccess(b *strings.Builder, a *access) {
	if a.l == nil {
		b.WriteString("index ")
		kd.writeIndex(b, a.leaf.ix)
		b.WriteString(" " + a.leaf.c.Op.String() + " " + valueText(a.leaf.c.Value))
		return
	}
	if a.and {
		b.WriteString("intersect(")
	} else {
		b.WriteString("union(")
	}
	kd.explainAccess(b, a.l)
	b.WriteString(", ")
	kd.explainAccess(b, a.r)
	b.WriteString(")")
}

// writeIndex names an index, and its attribute when the name differs.
func (kd *kindDef) writeIndex(b *strings.Builder, ix int) {
	c := kd.indexes[ix]
	b.WriteString(c.Name)
	if c.Name != c.Attr.Name {
		b.WriteString(" (" + c.Attr.Name + ")")
	}
}

// valueText prints a literal as in a filter.
func valueText(v query.Value) string { return v.String() }
