package backend

import "github.com/userdir/userdir/query"

// Span is the range of value keys of one index that answers a comparison
// exactly: the keys k with Lo <= k < Hi, or Lo <= k when Hi is nil. An
// ordered store holding one entry per (value key, record), with keys from
// CompiledIndex.Keys, finds in it exactly the records query.Eval matches,
// multi-valued attributes included (any value matches).
type Span struct {
	Index   int            // position of the index in the kind's compiled indexes
	Compare *query.Compare // the comparison the span answers
	Lo, Hi  []byte
	// Prefix, when set (eq and sw), is shared by every key of the span, so
	// a scan need only read keys that start with it.
	Prefix []byte
	// Point is set when the span is one whole value key (eq): entries of
	// one value come in id order.
	Point bool
}

// IndexFor returns the position in indexes of the index on the attribute
// a, or -1. An attribute bound inside a value filter (Local differs from
// Name) has no index of its own: the filter ties it to one element, which
// no index sees.
func IndexFor(indexes []CompiledIndex, a *query.Attribute) int {
	if a == nil || (a.Local != "" && a.Local != a.Name) {
		return -1
	}
	for i, ix := range indexes {
		if ix.Attr.Name == a.Name && ix.Attr.CaseExact == a.CaseExact {
			return i
		}
	}
	return -1
}

// SortIndex returns the position of the index whose key order is the
// order of s: a single key on an indexed, single-valued attribute with a
// schema type. Claims are left out, since their values may mix JSON
// types. Whether the index lists every record (a Required attribute, or
// no record without a value) is the caller's to check.
func SortIndex(indexes []CompiledIndex, s query.Sort) (int, bool) {
	if len(s) != 1 {
		return -1, false
	}
	i := IndexFor(indexes, s[0].Attr)
	if i < 0 {
		return -1, false
	}
	a := indexes[i].Attr
	if a.Multi || a.Claims || a.Type == query.TypeAny {
		return -1, false
	}
	return i, true
}

// SpanOf returns the span of one of indexes that answers c exactly, if
// there is one: eq with a non-null literal, sw with a string, and gt, ge,
// lt and le with anything but a boolean, on an indexed attribute. Every
// other comparison needs every key examined (ne, co, ew, pr) or is not a
// range.
func SpanOf(indexes []CompiledIndex, c *query.Compare) (Span, bool) {
	ix := spanIndex(indexes, c)
	if ix < 0 {
		return Span{}, false
	}
	exact := indexes[ix].Attr.CaseExact
	sp := Span{Index: ix, Compare: c}
	switch c.Op {
	case query.OpEq:
		k := query.AppendKey(nil, c.Value, exact)
		sp.Lo, sp.Hi, sp.Prefix, sp.Point = k, Successor(k), k, true
		return sp, true
	case query.OpSw:
		// A string's key is its escaped bytes and a terminator. Escaping
		// works byte by byte, so the keys of the strings that start with s
		// are exactly the keys that start with s's key without its
		// terminator.
		k := query.AppendKey(nil, c.Value, exact)
		p := k[:len(k)-stringTerminatorLen]
		sp.Lo, sp.Hi, sp.Prefix = p, Successor(p), p
		return sp, true
	case query.OpGt, query.OpGe, query.OpLt, query.OpLe:
		k := query.AppendKey(nil, c.Value, exact)
		// Every key starts with a one-byte type tag, and the evaluator
		// never orders values of different types, so the span stays
		// within the literal's type.
		tlo, thi := k[:1], Successor(k[:1])
		switch c.Op {
		case query.OpGt:
			// The encoding is prefix-free: only k itself starts with k.
			if sp.Lo = Successor(k); sp.Lo == nil {
				// Nothing sorts after k: an empty span.
				sp.Lo, sp.Hi = k, k
				return sp, true
			}
			sp.Hi = thi
		case query.OpGe:
			sp.Lo, sp.Hi = k, thi
		case query.OpLt:
			sp.Lo, sp.Hi = tlo, k
		case query.OpLe:
			sp.Lo, sp.Hi = tlo, Successor(k)
		}
		return sp, true
	}
	return Span{}, false
}

// spanIndex returns the index whose span answers c exactly, as SpanOf
// decides it, or -1 when none does; it builds no key.
func spanIndex(indexes []CompiledIndex, c *query.Compare) int {
	if c == nil || c.Value.Kind == query.KindNull {
		return -1
	}
	ix := IndexFor(indexes, c.Attr)
	if ix < 0 {
		return -1
	}
	switch c.Op {
	case query.OpEq:
		return ix
	case query.OpSw:
		if c.Value.Kind == query.KindString {
			return ix
		}
	case query.OpGt, query.OpGe, query.OpLt, query.OpLe:
		if c.Value.Kind != query.KindBool {
			return ix
		}
	}
	return -1
}

// stringTerminatorLen is the length of the terminator query.AppendKey puts
// after a string's bytes.
const stringTerminatorLen = 2

// Successor returns the least key greater than every key that starts with
// prefix, or nil when there is none (prefix is all 0xFF bytes).
func Successor(prefix []byte) []byte {
	for i := len(prefix) - 1; i >= 0; i-- {
		if prefix[i] != 0xFF {
			s := make([]byte, i+1)
			copy(s, prefix)
			s[i]++
			return s
		}
	}
	return nil
}

// IndexPushdown is the query.Pushdown of a store that answers comparisons
// from ordered index entries (one per value key and record, keys from
// CompiledIndex.Keys) and lists records in id order. Filter is Exact for
// a comparison SpanOf answers, and Unsupported for everything else: not
// and value filters tie conditions an index cannot see. Sort accepts the
// id order (an empty Sort) and a SortIndex whose attribute is Required,
// since its index then lists every record once, in the sort's order.
func IndexPushdown(indexes []CompiledIndex) query.Pushdown {
	return indexPushdown(indexes)
}

type indexPushdown []CompiledIndex

func (p indexPushdown) Filter(e query.Expr) query.Support {
	if c, ok := e.(*query.Compare); ok && spanIndex(p, c) >= 0 {
		return query.Exact
	}
	return query.Unsupported
}

func (p indexPushdown) Sort(s query.Sort) bool {
	if len(s) == 0 {
		return true
	}
	i, ok := SortIndex(p, s)
	return ok && p[i].Attr.Required
}
