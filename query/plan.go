package query

import "strings"

// Support is how far a backend can execute a filter node natively.
type Support uint8

// The levels of Support.
const (
	// Unsupported: the backend cannot execute the node; it is evaluated in
	// Go over the records the rest of the query returns.
	Unsupported Support = iota
	// Superset: the backend returns every matching record and possibly
	// others (an index on a prefix, a coarser comparison); the node is
	// evaluated in Go again.
	Superset
	// Exact: the backend returns exactly the matching records.
	Exact
)

// String returns "unsupported", "superset" or "exact".
func (s Support) String() string {
	switch s {
	case Superset:
		return "superset"
	case Exact:
		return "exact"
	}
	return "unsupported"
}

// Pushdown reports what a backend executes natively.
type Pushdown interface {
	// Filter reports how the backend supports a bound node. It is asked
	// about leaf nodes (*Compare, *Present, *ValueFilter) and about *Not
	// nodes as a whole (a backend supporting a leaf need not support its
	// negation: ne and not differ on unassigned attributes); it is never
	// asked about *And or *Or, which PlanQuery composes from their parts.
	Filter(e Expr) Support
	// Sort reports whether the backend can return records in the order s
	// (ties broken by id in the direction of the last key).
	Sort(s Sort) bool
}

// Plan is how a query executes: the part of the filter a backend runs
// natively and the part evaluated in Go over what it returns, and whether
// the backend sorts. For every set of records, the records satisfying
// Pushed that also satisfy Residual are exactly those satisfying the
// whole filter (a nil Pushed or Residual is satisfied by every record).
type Plan struct {
	Pushed     Expr // run by the backend; nil: every record of the kind
	Exact      bool // Pushed alone selects exactly the matching records (Residual is nil)
	Residual   Expr // evaluated with Eval over what the backend returns; nil: nothing
	Sort       Sort // the requested order
	SortPushed bool // the backend returns records in Sort order
}

// PlanQuery splits the bound filter e between the backend described by p
// and Go:
//
//   - a leaf or a not is pushed when p supports it; it stays in the
//     residual unless p supports it exactly;
//   - an and pushes each side that can be pushed and keeps the rest in
//     the residual, so `a and b` with only a supported runs a natively and
//     b in Go;
//   - an or is pushed only when every branch is; unless every branch is
//     exact, the whole or also stays in the residual.
//
// The sort is pushed when p.Sort accepts it; an empty sort is id order,
// which a backend with an id-ordered primary can push too. A nil p pushes
// nothing.
func PlanQuery(e Expr, s Sort, p Pushdown) Plan {
	pl := Plan{Sort: s, Residual: e}
	if p != nil {
		pl.Pushed, _, pl.Residual = split(e, p)
		pl.SortPushed = p.Sort(s)
	}
	pl.Exact = pl.Residual == nil
	return pl
}

// split returns the part of e the backend can run (nil when none), how
// exactly that part represents e (Unsupported when nothing is pushed), and
// what must still be evaluated in Go (nil when the pushed part is exact).
// It asks p about each leaf and not once.
func split(e Expr, p Pushdown) (pushed Expr, sup Support, resid Expr) {
	switch n := e.(type) {
	case nil:
		return nil, Exact, nil
	case *And:
		if n == nil || n.Left == nil || n.Right == nil {
			// Matches nothing (Eval): left to the residual.
			return nil, Unsupported, e
		}
		lp, ls, lr := split(n.Left, p)
		rp, rs, rr := split(n.Right, p)
		switch {
		case lp == nil && rp == nil:
			pushed, sup = nil, Unsupported
		case lp == nil:
			pushed, sup = rp, Superset
		case rp == nil:
			pushed, sup = lp, Superset
		default:
			pushed, sup = &And{Left: lp, Right: rp}, min(ls, rs)
		}
		switch {
		case lr == nil:
			resid = rr
		case rr == nil:
			resid = lr
		case lr == n.Left && rr == n.Right:
			resid = n
		default:
			resid = &And{Left: lr, Right: rr}
		}
		return pushed, sup, resid
	case *Or:
		if n == nil || n.Left == nil || n.Right == nil {
			return nil, Unsupported, e
		}
		lp, ls, _ := split(n.Left, p)
		rp, rs, _ := split(n.Right, p)
		if lp == nil || rp == nil {
			return nil, Unsupported, e
		}
		if sup = min(ls, rs); sup == Exact {
			return &Or{Left: lp, Right: rp}, Exact, nil
		}
		return &Or{Left: lp, Right: rp}, sup, e
	}
	switch sup := p.Filter(e); sup {
	case Exact:
		return e, Exact, nil
	case Superset:
		return e, Superset, e
	}
	return nil, Unsupported, e
}

// String returns the Explain text of the plan:
// "pushed: <filter> (exact|superset); residual: <filter>; sort: <sort> (pushed|in memory)",
// with "none" for an absent part.
func (p Plan) String() string {
	var b strings.Builder
	b.WriteString("pushed: ")
	if p.Pushed == nil {
		b.WriteString("none")
	} else {
		b.WriteString(p.Pushed.String())
		if p.Exact {
			b.WriteString(" (exact)")
		} else {
			b.WriteString(" (superset)")
		}
	}
	b.WriteString("; residual: ")
	if p.Residual == nil {
		b.WriteString("none")
	} else {
		b.WriteString(p.Residual.String())
	}
	b.WriteString("; sort: ")
	if len(p.Sort) == 0 {
		b.WriteString("id")
	} else {
		b.WriteString(p.Sort.String())
	}
	if p.SortPushed {
		b.WriteString(" (pushed)")
	} else {
		b.WriteString(" (in memory)")
	}
	return b.String()
}
