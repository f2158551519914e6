package query

// A Matcher is a bound filter compiled for evaluating many resources, as a
// scan does: it decides exactly what Eval decides, but the work Eval
// repeats for every resource is done once by Compile. Each node becomes a
// function, a comparison's operator and literal are specialized into the
// test of one value (the folded literal, an integer literal as an int64),
// and nodes that can match nothing are known before the first resource.
//
// The zero Matcher and a nil *Matcher match every resource, as Eval does
// for a nil filter. A Matcher is immutable and safe for concurrent use.
type Matcher struct {
	fn func(ctx any) bool // nil: every resource
}

// Compile compiles the bound filter e for Match. A nil e matches every
// resource; a node that was not bound by Bind matches nothing. The filter
// is read once, here: a node changed afterwards is not seen by the
// Matcher, so compile again after changing one. A Matcher is immutable:
// the one a nil e compiles to is shared.
func Compile(e Expr) *Matcher {
	if e == nil {
		return matchAll
	}
	return &Matcher{fn: compile(e)}
}

// matchAll is the compiled form of a nil filter.
var matchAll = &Matcher{}

// Match reports whether r satisfies the compiled filter: what Eval reports
// for the filter and r. It never panics on the values a Resource returns.
func (m *Matcher) Match(r Resource) bool {
	if m == nil || m.fn == nil {
		return true
	}
	var root any
	if r != nil {
		root = r
	}
	return m.fn(root)
}

// never is the compiled form of a node that matches nothing.
func never(any) bool { return false }

// compile returns the function evaluating e against a context: the
// resource at the top level, or one element of a value filter's
// attribute. It mirrors eval case by case.
func compile(e Expr) func(any) bool {
	switch n := e.(type) {
	case *And:
		if n == nil || n.Left == nil || n.Right == nil {
			return never
		}
		l, r := compile(n.Left), compile(n.Right)
		return func(ctx any) bool { return l(ctx) && r(ctx) }
	case *Or:
		if n == nil || n.Left == nil || n.Right == nil {
			return never
		}
		l, r := compile(n.Left), compile(n.Right)
		return func(ctx any) bool { return l(ctx) || r(ctx) }
	case *Not:
		if n == nil || n.X == nil {
			return never
		}
		x := compile(n.X)
		return func(ctx any) bool { return !x(ctx) }
	case *Compare:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 {
			return never
		}
		segs := n.Attr.rel
		if n.Value.Kind == KindNull {
			// eq null is not pr, ne null is pr.
			pr, want := presentLeaf(n.Attr.def), n.Op == OpNe
			return func(ctx any) bool { return walk(ctx, segs, true, pr) == want }
		}
		leaf := n.leaf()
		return func(ctx any) bool { return walk(ctx, segs, true, leaf) }
	case *Present:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 {
			return never
		}
		segs, pr := n.Attr.rel, presentLeaf(n.Attr.def)
		return func(ctx any) bool { return walk(ctx, segs, true, pr) }
	case *ValueFilter:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 || n.Filter == nil {
			return never
		}
		segs, f := n.Attr.rel, compile(n.Filter)
		return func(ctx any) bool { return walk(ctx, segs, false, f) }
	}
	return never
}

// presentLeaf returns the test of one value of the attribute declared by
// def (nil under claims) for pr: whether it is non-empty.
func presentLeaf(def *AttrDef) func(any) bool {
	subs := subsOf(def)
	return func(v any) bool { return nonEmpty(v, subs) }
}

// leaf returns the test of one scalar data value against the literal of
// c, which is not null: c.match with the literal's kind, the operator and
// the folding decided once.
func (c *Compare) leaf() func(any) bool {
	op, lit := c.Op, c.Value
	switch lit.Kind {
	case KindString:
		if c.Attr.CaseExact {
			return func(v any) bool {
				s, ok := stringOf(v)
				return ok && s != "" && stringOp(op, s, lit.Str)
			}
		}
		folded := c.folded()
		return func(v any) bool {
			s, ok := stringOf(v)
			return ok && s != "" && foldOp(op, s, folded)
		}
	case KindBool:
		return func(v any) bool {
			b, ok := v.(bool)
			return ok && boolHolds(op, b, lit.Bool)
		}
	case KindNumber:
		li, isInt := lit.Num.Int64()
		return func(v any) bool { return numberHolds(op, v, lit.Num, li, isInt) }
	case KindTime:
		parse := c.Attr.Type == TypeDateTime
		return func(v any) bool {
			t, ok := toTime(v, parse)
			return ok && op.holds(t.Compare(lit.Time))
		}
	}
	return never
}
