package query_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

// canonicalCases map filter text to its canonical text.
var canonicalCases = []struct{ in, want string }{
	{`title pr`, `title pr`},
	{`  TITLE   PR  `, `TITLE pr`},
	{`userName Eq "john"`, `userName eq "john"`},
	{`a pr AND b pr OR c pr`, `a pr and b pr or c pr`},
	{`(a pr and b pr) or c pr`, `a pr and b pr or c pr`},
	{`((a pr) and (b pr))`, `a pr and b pr`},
	{`a pr or (b pr and c pr)`, `a pr or b pr and c pr`},
	{`(a pr or b pr) or c pr`, `a pr or b pr or c pr`},
	{`a pr or (b pr or c pr)`, `a pr or (b pr or c pr)`},
	{`(a pr and b pr) and c pr`, `a pr and b pr and c pr`},
	{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
	{`a pr and (b pr or c pr)`, `a pr and (b pr or c pr)`},
	{`(a pr or b pr) and c pr`, `(a pr or b pr) and c pr`},
	{`not(a pr)`, `not (a pr)`},
	{`NOT  ( ( a pr ) )`, `not (a pr)`},
	{`not (a pr and b pr)`, `not (a pr and b pr)`},
	{`not (a pr) and not (b pr or c pr)`, `not (a pr) and not (b pr or c pr)`},
	{`emails[ type EQ "work" ]`, `emails[type eq "work"]`},
	{`emails[type eq "work"].value eq "x"`, `emails[type eq "work" and value eq "x"]`},
	{`emails[type eq "a" or type eq "b"].value pr`, `emails[(type eq "a" or type eq "b") and value pr]`},
	{`emails[(type eq "a")]`, `emails[type eq "a"]`},
	{`emails[not (primary eq true) and (value ew ".org" or value ew ".com")]`, `emails[not (primary eq true) and (value ew ".org" or value ew ".com")]`},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`, `userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`},
	{`URN:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `URN:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
	{`a eq 3.0`, `a eq 3`},
	{`a eq 30e-1`, `a eq 3`},
	{`a eq -0.0`, `a eq 0`},
	{`a eq 1E+3`, `a eq 1000`},
	{`a eq 1e21`, `a eq 1e21`},
	{`a eq 0.0000001`, `a eq 1e-7`},
	{`a eq 0.000001`, `a eq 0.000001`},
	{`a eq 123.4500`, `a eq 123.45`},
	{`a eq "\u00e9\uD83D\uDE00"`, `a eq "é😀"`},
	{`a eq "\/\"\\"`, `a eq "/\"\\"`},
	{`a eq "\b\f\n\r\t\u0001\u001F"`, `a eq "\b\f\n\r\t\u0001\u001f"`},
	{`a eq "\u0041\u2028"`, "a eq \"A\u2028\""},
	{`a eq true or b eq false or c eq null`, `a eq true or b eq false or c eq null`},
}

func TestCanonical(t *testing.T) {
	for _, tc := range canonicalCases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := query.Parse(tc.in)
			require.NoError(t, err)
			got := query.Canonical(e)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, got, e.String())

			again, err := query.Parse(got)
			require.NoError(t, err)
			assert.True(t, query.Equal(e, again), "%s reparsed as %s", sexpr(e), sexpr(again))
			assert.Equal(t, got, query.Canonical(again), "canonical text is a fixed point")
		})
	}
}

// TestCanonicalRoundTripTables runs every parser table case through the
// canonical round trip.
func TestCanonicalRoundTripTables(t *testing.T) {
	for _, tc := range parseCases {
		e, err := query.Parse(tc.in)
		require.NoError(t, err, tc.in)
		c := query.Canonical(e)
		again, err := query.Parse(c)
		require.NoError(t, err, "canonical of %q: %q", tc.in, c)
		assert.True(t, query.Equal(e, again), "%q -> %q", tc.in, c)
		assert.Equal(t, c, query.Canonical(again))
	}
}

func pr(name string) *query.Present { return &query.Present{Path: query.Path{Names: []string{name}}} }

func TestCanonicalOfBuiltTrees(t *testing.T) {
	a, b, c := pr("a"), pr("b"), pr("c")
	str := func(s string) query.Value { return query.Value{Kind: query.KindString, Str: s} }
	for _, tc := range []struct {
		e    query.Expr
		want string
	}{
		{nil, ""},
		{&query.And{Left: a, Right: &query.And{Left: b, Right: c}}, `a pr and (b pr and c pr)`},
		{&query.And{Left: &query.And{Left: a, Right: b}, Right: c}, `a pr and b pr and c pr`},
		{&query.Or{Left: a, Right: &query.Or{Left: b, Right: c}}, `a pr or (b pr or c pr)`},
		{&query.Or{Left: &query.Or{Left: a, Right: b}, Right: c}, `a pr or b pr or c pr`},
		{&query.And{Left: &query.Or{Left: a, Right: b}, Right: c}, `(a pr or b pr) and c pr`},
		{&query.And{Left: a, Right: &query.Or{Left: b, Right: c}}, `a pr and (b pr or c pr)`},
		{&query.Or{Left: &query.And{Left: a, Right: b}, Right: &query.And{Left: b, Right: c}}, `a pr and b pr or b pr and c pr`},
		{&query.Not{X: a}, `not (a pr)`},
		{&query.Not{X: &query.Not{X: &query.Or{Left: a, Right: b}}}, `not (not (a pr or b pr))`},
		{&query.And{Left: &query.Not{X: a}, Right: &query.Not{X: b}}, `not (a pr) and not (b pr)`},
		{&query.ValueFilter{Path: query.Path{Names: []string{"emails"}}, Filter: &query.Or{Left: a, Right: b}}, `emails[a pr or b pr]`},
		{&query.Compare{Path: query.Path{URN: "urn:x:y", Names: []string{"m", "v"}}, Op: query.OpGe, Value: query.Value{Kind: query.KindNumber, Num: query.NumberFromInt64(-42)}}, `urn:x:y:m.v ge -42`},
		{&query.Compare{Path: query.Path{Names: []string{"t"}}, Op: query.OpLt, Value: query.Value{Kind: query.KindTime, Time: time.Date(2024, 2, 3, 4, 5, 6, 7, time.FixedZone("X", 3600))}}, `t lt "2024-02-03T03:05:06.000000007Z"`},
		{&query.Compare{Path: query.Path{Names: []string{"s"}}, Op: query.OpEq, Value: str("\x00\x1f\x7f\"\\é")}, `s eq "\u0000\u001f` + "\x7f" + `\"\\é"`},
		{&query.Compare{Path: query.Path{Names: []string{"s"}}, Op: query.OpEq, Value: str("a\xffb")}, `s eq "a` + "\uFFFD" + `b"`},
		{&query.Compare{Path: query.Path{Names: []string{"n"}}, Op: query.OpEq}, `n eq null`},
		// A bound node prints its attribute's local name.
		{&query.Compare{Path: query.Path{Names: []string{"USERNAME"}}, Op: query.OpEq, Value: str("x"), Attr: &query.Attribute{Name: "userName", Local: "userName"}}, `userName eq "x"`},
		{&query.ValueFilter{
			Path:   query.Path{Names: []string{"Emails"}},
			Attr:   &query.Attribute{Name: "emails", Local: "emails"},
			Filter: &query.Present{Path: query.Path{Names: []string{"VALUE"}}, Attr: &query.Attribute{Name: "emails.value", Local: "value"}},
		}, `emails[value pr]`},
		{&query.Present{Path: query.Path{Names: []string{"x"}}, Attr: &query.Attribute{}}, `x pr`},
		// Nil nodes print as nothing rather than panicking.
		{(*query.Compare)(nil), ``},
		{&query.And{Left: a}, `a pr and `},
	} {
		assert.Equal(t, tc.want, query.Canonical(tc.e))
	}
}

func TestValueAndPathString(t *testing.T) {
	assert.Equal(t, "null", query.Value{}.String())
	assert.Equal(t, "true", query.Value{Kind: query.KindBool, Bool: true}.String())
	assert.Equal(t, "false", query.Value{Kind: query.KindBool}.String())
	assert.Equal(t, `"a\"b"`, query.Value{Kind: query.KindString, Str: `a"b`}.String())
	assert.Equal(t, "0", query.Value{Kind: query.KindNumber}.String())
	assert.Equal(t, `"1970-01-01T00:00:00Z"`, query.Value{Kind: query.KindTime, Time: time.Unix(0, 0)}.String())
	assert.Equal(t, "emails.value", query.Path{Names: []string{"emails", "value"}}.String())
	assert.Equal(t, query.EnterpriseURN+":manager.value", query.Path{URN: query.EnterpriseURN, Names: []string{"manager", "value"}}.String())
}

func TestEqual(t *testing.T) {
	parse := func(s string) query.Expr {
		e, err := query.Parse(s)
		require.NoError(t, err)
		return e
	}
	tm := func(s string) query.Value {
		v, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err)
		return query.Value{Kind: query.KindTime, Time: v}
	}
	cmpv := func(v query.Value) query.Expr {
		return &query.Compare{Path: query.Path{Names: []string{"a"}}, Op: query.OpEq, Value: v}
	}
	for _, tc := range []struct {
		a, b  query.Expr
		equal bool
	}{
		{nil, nil, true},
		{parse(`a pr`), nil, false},
		{nil, parse(`a pr`), false},
		{parse(`a pr`), parse(`  a  PR `), true},
		{parse(`a pr`), parse(`A pr`), false},
		{parse(`urn:x:y:a pr`), parse(`URN:x:y:a pr`), false},
		{parse(`urn:x:y:a pr`), parse(`a pr`), false},
		{parse(`a.b pr`), parse(`a pr`), false},
		{parse(`a eq 3`), parse(`a eq 3.0`), true},
		{parse(`a eq 3`), parse(`a eq 30e-1`), true},
		{parse(`a eq 9007199254740993`), parse(`a eq 9007199254740992`), false},
		{parse(`a eq 3`), parse(`a eq "3"`), false},
		{parse(`a eq 3`), parse(`a ne 3`), false},
		{parse(`a eq null`), parse(`a eq null`), true},
		{parse(`a eq null`), parse(`a eq false`), false},
		{parse(`a eq true`), parse(`a eq false`), false},
		{parse(`a eq "x"`), parse(`a eq "X"`), false},
		{parse(`a eq "é"`), parse(`a eq "\u00e9"`), true},
		{parse(`a pr and b pr`), parse(`a pr or b pr`), false},
		{parse(`a pr and b pr and c pr`), parse(`a pr and (b pr and c pr)`), false},
		{parse(`not (a pr)`), parse(`not (a pr)`), true},
		{parse(`not (a pr)`), parse(`a pr`), false},
		{parse(`e[a pr]`), parse(`e[a pr]`), true},
		{parse(`e[a pr]`), parse(`f[a pr]`), false},
		{parse(`e[a pr].b pr`), parse(`e[a pr and b pr]`), true},
		{cmpv(tm("2024-01-01T00:00:00Z")), cmpv(tm("2024-01-01T01:00:00+01:00")), true},
		{cmpv(tm("2024-01-01T00:00:00Z")), cmpv(tm("2024-01-01T00:00:00.000000001Z")), false},
		{cmpv(tm("2024-01-01T00:00:00Z")), parse(`a eq "2024-01-01T00:00:00Z"`), false},
		{(*query.Present)(nil), (*query.Present)(nil), true},
		{(*query.Present)(nil), pr("a"), false},
		{pr("a"), (*query.Present)(nil), false},
		{&query.Not{}, &query.Not{}, true},
		// Attr is ignored.
		{&query.Present{Path: query.Path{Names: []string{"a"}}, Attr: &query.Attribute{Name: "a"}}, pr("a"), true},
	} {
		assert.Equal(t, tc.equal, query.Equal(tc.a, tc.b), "%s vs %s", sexpr(tc.a), sexpr(tc.b))
		assert.Equal(t, tc.equal, query.Equal(tc.b, tc.a), "symmetric: %s vs %s", sexpr(tc.b), sexpr(tc.a))
	}
}
