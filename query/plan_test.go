package query

import (
	"hash/fnv"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakePushdown supports the leaves and nots whose canonical text it lists.
type fakePushdown struct {
	filters map[string]Support
	sort    bool
	asked   []string
}

func (f *fakePushdown) Filter(e Expr) Support {
	f.asked = append(f.asked, Canonical(e))
	return f.filters[Canonical(e)]
}

func (f *fakePushdown) Sort(Sort) bool { return f.sort }

func TestPlanQuery(t *testing.T) {
	const (
		a = `userName eq "a"`
		b = `active eq true`
		c = `emails.value co "x"`
		d = `meta.version gt 1`
	)
	support := map[string]Support{a: Exact, b: Exact, c: Superset, `not (` + a + `)`: Exact, `not (` + b + `)`: 7}
	cases := []struct {
		filter           string
		pushed, residual string // canonical; "" for nil
	}{
		{a, a, ""},
		{c, c, c},
		{d, "", d},
		{a + ` and ` + b, a + ` and ` + b, ""},
		{a + ` and ` + d, a, d},
		{d + ` and ` + a, a, d},
		{a + ` and ` + c, a + ` and ` + c, c},
		{a + ` and ` + c + ` and ` + d, a + ` and ` + c, c + ` and ` + d},
		{`(` + a + ` and ` + d + `) and (` + b + ` and ` + c + `)`, a + ` and (` + b + ` and ` + c + `)`, d + ` and ` + c},
		{a + ` or ` + b, a + ` or ` + b, ""},
		{a + ` or ` + d, "", a + ` or ` + d},
		{a + ` or ` + c, a + ` or ` + c, a + ` or ` + c},
		{`(` + a + ` or ` + b + `) and ` + d, a + ` or ` + b, d},
		{`(` + a + ` and ` + d + `) or ` + b, a + ` or ` + b, a + ` and ` + d + ` or ` + b},
		{`not (` + a + `)`, `not (` + a + `)`, ""},
		{`not (` + b + `)`, "", `not (` + b + `)`}, // an out-of-range Support is Unsupported
		{`not (` + c + `)`, "", `not (` + c + `)`},
		{`not (` + a + `) and ` + d, `not (` + a + `)`, d},
		{`not (` + a + ` or ` + b + `)`, "", `not (` + a + ` or ` + b + `)`},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			e := mustBind(t, tc.filter)
			p := &fakePushdown{filters: support}
			pl := PlanQuery(e, nil, p)
			assert.Equal(t, tc.pushed, Canonical(pl.Pushed), "pushed")
			assert.Equal(t, tc.residual, Canonical(pl.Residual), "residual")
			assert.Equal(t, tc.residual == "", pl.Exact)
			for _, q := range p.asked {
				ex, err := Parse(q)
				require.NoError(t, err)
				switch ex.(type) {
				case *And, *Or:
					t.Errorf("asked about %s", q)
				}
			}
		})
	}
}

func TestPlanSortAndString(t *testing.T) {
	s := UserSchema()
	srt, err := ParseSort("-meta.created", s)
	require.NoError(t, err)
	e := mustBind(t, `userName eq "a" and emails co "x" and title pr`)
	p := &fakePushdown{filters: map[string]Support{`userName eq "a"`: Exact, `emails.value co "x"`: Superset}, sort: true}

	pl := PlanQuery(e, srt, p)
	assert.True(t, pl.SortPushed)
	assert.Equal(t, `pushed: userName eq "a" and emails.value co "x" (superset); residual: emails.value co "x" and title pr; sort: -meta.created (pushed)`, pl.String())

	p.sort = false
	pl = PlanQuery(e, srt, p)
	assert.False(t, pl.SortPushed)
	assert.Equal(t, `pushed: userName eq "a" and emails.value co "x" (superset); residual: emails.value co "x" and title pr; sort: -meta.created (in memory)`, pl.String())

	pl = PlanQuery(mustBind(t, `userName eq "a"`), nil, p)
	assert.Equal(t, `pushed: userName eq "a" (exact); residual: none; sort: id (in memory)`, pl.String())
	assert.False(t, pl.SortPushed, "the backend refused id order")

	p.sort = true
	pl = PlanQuery(nil, nil, p)
	assert.Equal(t, Plan{Exact: true, SortPushed: true}, pl)
	assert.Equal(t, `pushed: none; residual: none; sort: id (pushed)`, pl.String())

	pl = PlanQuery(e, srt, nil)
	assert.Nil(t, pl.Pushed)
	assert.Equal(t, e, pl.Residual)
	assert.False(t, pl.Exact)
	assert.False(t, pl.SortPushed)
}

// hashPushdown decides support by a hash of the node's text and a seed,
// so that every seed is another backend.
type hashPushdown struct{ seed uint64 }

func (h hashPushdown) Filter(e Expr) Support {
	f := fnv.New64a()
	f.Write([]byte(Canonical(e)))
	return Support((f.Sum64() ^ h.seed) % 3)
}

func (hashPushdown) Sort(Sort) bool { return false }

// simulate runs a pushed filter the way a backend might: Superset nodes
// return every record (the widest superset they are allowed).
func simulate(e Expr, p Pushdown, r Resource) bool {
	switch n := e.(type) {
	case nil:
		return true
	case *And:
		return simulate(n.Left, p, r) && simulate(n.Right, p, r)
	case *Or:
		return simulate(n.Left, p, r) || simulate(n.Right, p, r)
	}
	if p.Filter(e) == Superset {
		return true
	}
	return Eval(e, r)
}

// TestPlanProperty checks the planner's contract over random filters and
// backends: the records the backend returns for Pushed, filtered by
// Residual, are exactly the records matching the filter.
func TestPlanProperty(t *testing.T) {
	users := fxUsers()
	var leaves []Expr
	for _, tc := range evalMatrix {
		leaves = append(leaves, mustBind(t, tc.filter))
	}
	r := rand.New(rand.NewPCG(7, 8))
	var gen func(depth int) Expr
	gen = func(depth int) Expr {
		if depth == 0 || r.IntN(4) == 0 {
			return leaves[r.IntN(len(leaves))]
		}
		switch r.IntN(5) {
		case 0, 1:
			return &And{Left: gen(depth - 1), Right: gen(depth - 1)}
		case 2, 3:
			return &Or{Left: gen(depth - 1), Right: gen(depth - 1)}
		}
		return &Not{X: gen(depth - 1)}
	}
	for i := range 3000 {
		e := gen(4)
		p := hashPushdown{seed: uint64(i)}
		pl := PlanQuery(e, nil, p)
		for _, u := range users {
			want := Eval(e, u)
			require.Equal(t, want, Eval(pl.Pushed, u) && Eval(pl.Residual, u), "%s on %s: %s", e, fxID(u), pl)
			require.Equal(t, want, simulate(pl.Pushed, p, u) && Eval(pl.Residual, u), "%s on %s: %s", e, fxID(u), pl)
			if pl.Exact {
				require.Equal(t, want, simulate(pl.Pushed, p, u), "%s on %s: %s", e, fxID(u), pl)
			}
		}
	}
}

// TestPlanMalformed checks that planning an and/or node missing a side, or
// a typed nil one, neither panics nor pushes its other side as the whole:
// Eval says such a node matches nothing, and so must the plan.
func TestPlanMalformed(t *testing.T) {
	users := fxUsers()
	leaf := mustBind(t, `userName eq "alice"`)
	for _, e := range []Expr{
		&And{Left: leaf}, &And{Right: leaf}, &Or{Left: leaf}, &Or{Right: leaf},
		(*And)(nil), (*Or)(nil), &And{Left: leaf, Right: &Or{Left: leaf}},
		&Or{Left: leaf, Right: &And{Right: leaf}},
	} {
		for seed := range uint64(8) {
			p := hashPushdown{seed: seed}
			var pl Plan
			require.NotPanics(t, func() { pl = PlanQuery(e, nil, p) }, "%#v", e)
			for _, u := range users {
				want := Eval(e, u)
				assert.Equal(t, want, Eval(pl.Pushed, u) && Eval(pl.Residual, u), "%#v on %s: %s", e, fxID(u), pl)
				assert.Equal(t, want, simulate(pl.Pushed, p, u) && Eval(pl.Residual, u), "%#v on %s: %s", e, fxID(u), pl)
			}
		}
	}
}
