package query_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

func TestBuilder(t *testing.T) {
	for _, tc := range []struct {
		b    query.Builder
		want string // canonical text
	}{
		{query.Attr("emails.value").Co("@x.io").And(query.Attr("active").Eq(true)), `emails.value co "@x.io" and active eq true`},
		{query.Attr("emails").Where(query.Attr("type").Eq("work").And(query.Attr("value").Ew(".org"))), `emails[type eq "work" and value ew ".org"]`},
		{query.Attr("title").Pr(), `title pr`},
		{query.Attr("manager").Eq(nil), `manager eq null`},
		{query.Attr("manager").Ne(nil), `manager ne null`},
		{query.Attr("a").Eq(1), `a eq 1`},
		{query.Attr("a").Ne(1), `a ne 1`},
		{query.Attr("a").Co("x"), `a co "x"`},
		{query.Attr("a").Sw("x"), `a sw "x"`},
		{query.Attr("a").Ew("x"), `a ew "x"`},
		{query.Attr("a").Gt(1), `a gt 1`},
		{query.Attr("a").Ge(1), `a ge 1`},
		{query.Attr("a").Lt(1), `a lt 1`},
		{query.Attr("a").Le(1), `a le 1`},
		{query.Attr("a").Compare(query.OpGe, 2), `a ge 2`},
		{query.NoneOf(query.Attr("a").Pr()), `not (a pr)`},
		{query.NoneOf(query.Attr("a").Pr(), query.Attr("b").Pr()), `not (a pr or b pr)`},
		{query.AllOf(query.Attr("a").Pr(), query.Attr("b").Pr(), query.Attr("c").Pr()), `a pr and b pr and c pr`},
		{query.AnyOf(query.Attr("a").Pr(), query.Attr("b").Pr(), query.Attr("c").Pr()), `a pr or b pr or c pr`},
		{query.AllOf(query.Attr("a").Pr()), `a pr`},
		{query.Attr("a").Pr().And(query.Attr("b").Pr().And(query.Attr("c").Pr())), `a pr and (b pr and c pr)`},
		{query.Attr("a").Pr().And(query.Attr("b").Pr().Or(query.Attr("c").Pr())), `a pr and (b pr or c pr)`},
		{query.AnyOf(query.Attr("a").Pr(), query.Attr("b").Pr()).And(query.Attr("c").Pr()), `(a pr or b pr) and c pr`},
		{query.Attr(query.EnterpriseURN + ":manager.value").Eq("m1"), query.EnterpriseURN + `:manager.value eq "m1"`},
		{query.Attr("claims.address.city").Eq("Paris"), `claims.address.city eq "Paris"`},
		{query.Attr("not.x").Pr(), `not.x pr`},
		{query.Attr("emails").Where(query.NoneOf(query.Attr("primary").Eq(true))), `emails[not (primary eq true)]`},
	} {
		e, err := tc.b.Expr()
		require.NoError(t, err, tc.want)
		assert.Equal(t, tc.want, query.Canonical(e))
		parsed, err := query.Parse(tc.want)
		require.NoError(t, err)
		assert.True(t, query.Equal(e, parsed), "built %s, parsed %s", sexpr(e), sexpr(parsed))
	}
}

func TestBuilderValues(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	for _, tc := range []struct {
		v    any
		want string
	}{
		{nil, `null`},
		{"x", `"x"`},
		{`"quoted" \ and ) or (`, `"\"quoted\" \\ and ) or ("`},
		{"tab\there", `"tab\there"`},
		{"é", `"é"`},
		{true, `true`},
		{false, `false`},
		{int(-3), `-3`},
		{int8(-8), `-8`},
		{int16(16), `16`},
		{int32(32), `32`},
		{int64(math.MinInt64), `-9223372036854775808`},
		{uint(3), `3`},
		{uint8(8), `8`},
		{uint16(16), `16`},
		{uint32(32), `32`},
		{uint64(math.MaxUint64), `18446744073709551615`},
		{uintptr(7), `7`},
		{float32(0.1), `0.1`},
		{0.1, `0.1`},
		{2.5e-8, `2.5e-8`},
		{1e21, `1e21`},
		{query.NumberFromInt64(1200), `1200`},
		{json.Number("9007199254740993.00"), `9007199254740993`},
		{at, `"2024-05-06T05:08:09.123456789Z"`},
	} {
		e, err := query.Attr("a").Eq(tc.v).Expr()
		require.NoError(t, err, "%#v", tc.v)
		c := e.(*query.Compare)
		assert.Equal(t, tc.want, c.Value.String(), "%#v", tc.v)
	}

	e, err := query.Attr("t").Gt(time.Now()).Expr()
	require.NoError(t, err)
	assert.Equal(t, query.KindTime, e.(*query.Compare).Value.Kind)
}

// TestBuilderNoInjection shows that values are literals whatever they hold:
// the canonical text parses back to the same single comparison.
func TestBuilderNoInjection(t *testing.T) {
	for _, v := range []string{
		`x" or userName pr or userName eq "y`,
		`x") or (userName pr`,
		`\" or a pr`,
		"x\"\u0000 or a pr",
		`] or a pr [`,
	} {
		e, err := query.Attr("userName").Eq(v).Expr()
		require.NoError(t, err)
		back, err := query.Parse(query.Canonical(e))
		require.NoError(t, err)
		c, ok := back.(*query.Compare)
		require.True(t, ok, "%s", sexpr(back))
		assert.Equal(t, v, c.Value.Str)
	}
}

func TestBuilderErrors(t *testing.T) {
	var zeroB query.Builder
	var zeroA query.AttrBuilder
	for _, tc := range []struct {
		name   string
		b      query.Builder
		syntax bool // the error is a *SyntaxError from the path grammar
	}{
		{"empty path", query.Attr("").Pr(), true},
		{"filter as path", query.Attr(`userName pr or x`).Pr(), true},
		{"quote in path", query.Attr(`a"`).Eq(1), true},
		{"bracket in path", query.Attr(`emails[type eq "x"]`).Pr(), true},
		{"dollar", query.Attr("claims.$where").Eq(1), true},
		{"space around path", query.Attr(" a").Pr(), true},
		{"bare not", query.Attr("NOT").Pr(), true},
		{"bad urn", query.Attr("urn::a").Pr(), true},
		{"unsupported type", query.Attr("a").Eq([]string{"x"}), false},
		{"unsupported pointer", query.Attr("a").Eq(new(int)), false},
		{"NaN", query.Attr("a").Eq(math.NaN()), false},
		{"Inf", query.Attr("a").Gt(math.Inf(1)), false},
		{"float32 Inf", query.Attr("a").Gt(float32(math.Inf(-1))), false},
		{"bad json.Number", query.Attr("a").Eq(json.Number("03")), false},
		{"invalid UTF-8", query.Attr("a").Eq("\xff"), false},
		{"bad operator", query.Attr("a").Compare(query.Op(0), 1), false},
		{"bad operator high", query.Attr("a").Compare(query.Op(99), 1), false},
		{"zero Builder", zeroB, false},
		{"zero AttrBuilder", zeroA.Eq(1), false},
		{"zero AttrBuilder Pr", zeroA.Pr(), false},
		{"zero AttrBuilder Where", zeroA.Where(query.Attr("a").Pr()), false},
		{"empty AllOf", query.AllOf(), false},
		{"empty AnyOf", query.AnyOf(), false},
		{"empty NoneOf", query.NoneOf(), false},
		{"nested Where", query.Attr("emails").Where(query.Attr("x").Where(query.Attr("y").Pr())), false},
		{"nested Where deep", query.Attr("emails").Where(query.NoneOf(query.Attr("a").Pr().Or(query.Attr("x").Where(query.Attr("y").Pr())))), false},
		{"Where of empty", query.Attr("emails").Where(zeroB), false},
		{"propagates through And", query.Attr("a").Pr().And(query.Attr("$").Pr()), true},
		{"propagates through Or", query.Attr("$").Pr().Or(query.Attr("a").Pr()), true},
		{"propagates through NoneOf", query.NoneOf(query.Attr("a").Eq(math.NaN())), false},
		{"propagates through AllOf", query.AllOf(query.Attr("a").Pr(), zeroB), false},
		{"propagates through Where", query.Attr("e").Where(query.Attr("a").Eq(struct{}{})), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := tc.b.Expr()
			require.Error(t, err)
			assert.Nil(t, e)
			assert.ErrorIs(t, err, query.ErrInvalidFilter)
			var se *query.SyntaxError
			assert.Equal(t, tc.syntax, errors.As(err, &se), "%v", err)
		})
	}

	// The first error wins.
	_, err := query.Attr("$1").Pr().And(query.Attr("a").Eq(math.NaN())).Expr()
	assert.ErrorContains(t, err, `"$1"`)
}
