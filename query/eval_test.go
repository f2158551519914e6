package query

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fxIDs turns "01 03" into the sorted fixture ids ["u01", "u03"].
func fxIDs(s string) []string {
	out := []string{}
	for _, f := range strings.Fields(s) {
		out = append(out, "u"+f)
	}
	slices.Sort(out)
	return out
}

// fxAllBut returns every fixture id except those listed.
func fxAllBut(s string) []string {
	skip := fxIDs(s)
	out := []string{}
	for _, u := range fxUsers() {
		if id := fxID(u); !slices.Contains(skip, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func mustBind(t testing.TB, filter string) Expr {
	t.Helper()
	e, err := Parse(filter)
	require.NoError(t, err, "parse %s", filter)
	b, err := Bind(e, UserSchema())
	require.NoError(t, err, "bind %s", filter)
	return b
}

// evalMatrix is the evaluator matrix: every operator against every
// attribute type, each with the fixtures it must match.
var evalMatrix = []struct {
	filter string
	want   string // fixture numbers; "*" for all, "-NN NN" for all but those
}{
	// string, caseExact
	{`externalId eq "EXT-1"`, "01"},
	{`externalId eq "ext-1"`, "02"},
	{`externalId ne "EXT-1"`, "02 11"},
	{`externalId co "XT"`, "01 11"},
	{`externalId sw "ext"`, "02"},
	{`externalId ew "-2"`, "11"},
	{`externalId gt "EXT-1"`, "02 11"},
	{`externalId ge "EXT-1"`, "01 02 11"},
	{`externalId lt "ext-1"`, "01 11"},
	{`externalId le "EXT-1"`, "01"},
	{`externalId pr`, "01 02 11"},
	{`externalId eq null`, "-01 02 11"},
	{`subject eq "sub|alice"`, "01"},
	{`subject eq "SUB|ALICE"`, "11"},
	{`id eq "U01"`, ""},
	{`id eq "u01"`, "01"},
	{`groups.value eq "eng"`, "01"},
	{`groups eq "ENG"`, "02"},
	{`groups[value eq "sales" and display eq "SALES"]`, "02"},
	{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, "01 02"},
	{`schemas eq "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER"`, ""},
	{`schemas co "core"`, "01 02 03 04"},

	// string, folded
	{`userName eq "ALICE"`, "01"},
	{`userName eq "bob"`, "02"},
	{`userName ne "alice"`, "-01"},
	{`userName co "LI"`, "01"},
	{`userName sw "i"`, "04 05 11"},
	{`userName ew "ER"`, "04 05"},
	{`userName eq "ilker"`, "05"},
	{`userName eq "\u0130LKER"`, "04"},
	{`userName gt "h"`, "04 05 10 11 12"},
	{`userName ge "heidi"`, "04 05 10 11 12"},
	{`userName lt "c"`, "01 02"},
	{`userName le "CAROL"`, "01 02 03"},
	{`displayName eq "stra\u00dfe"`, "03 04 05"},
	{`displayName eq "STRASSE"`, "03 04 05"},
	{`displayName co "SS"`, "03 04 05"},
	{`name.familyName eq "M\u00dcLLER"`, "03 04"},
	{`name.familyName eq "MU\u0308LLER"`, "03 04"},
	{`name.familyName ew "son"`, "01 08"},
	{`name.familyName gt "m"`, "02 03 04"},
	{`name.familyName lt "m\u00fcller"`, "01 08"},
	{`title eq "engineer"`, "01 11"},
	{`nickName eq "k"`, "11"},
	{`nickName pr`, "11"},
	{`displayName pr`, "01 02 03 04 05"},
	{`userName pr`, "*"},

	// boolean
	{`active eq true`, "01 03 05 06 08 10 11"},
	{`active eq false`, "02 04 07 09"},
	{`active ne true`, "02 04 07 09"},
	{`active ne false`, "01 03 05 06 08 10 11"},
	{`not (active eq true)`, "02 04 07 09 12"},
	{`active pr`, "*"},
	{`emails.primary eq true`, "01 02 03 08 10"},
	{`emails.primary ne true`, "01 02 10"},
	{`emails.verified eq false`, "02"},
	{`emails.verified pr`, "01 02"},

	// number (exact decimal)
	{`meta.version eq 3`, "01"},
	{`meta.version eq 3.0e0`, "01"},
	{`meta.version eq 30e-1`, "01"},
	{`meta.version gt 2`, "01 05 09"},
	{`meta.version ge 2`, "01 03 05 08 09"},
	{`meta.version lt 2`, "02 04 06 07 10 11"},
	{`meta.version le 1`, "02 04 06 07 10 11"},
	{`meta.version ne 1`, "01 03 05 08 09"},
	{`meta.version lt 1.5`, "02 04 06 07 10 11"},
	{`meta.version gt 3.9999999999999999999`, "05 09"},
	{`meta.version pr`, "*"},

	// dateTime
	{`meta.created eq "2024-01-01T00:00:00Z"`, "01 02 11"},
	{`meta.created eq "2024-01-01T01:00:00+01:00"`, "01 02 11"},
	{`meta.created eq "2023-12-31T19:00:00-05:00"`, "01 02 11"},
	{`meta.created eq "2024-01-01T00:00:00"`, "01 02 11"},
	{`meta.created eq "2024-01-02T03:04:05.123456789Z"`, "03"},
	{`meta.created eq "2024-01-02T03:04:05.12345678Z"`, "04"},
	{`meta.created eq "2024-01-02T03:04:05.123456780Z"`, "04"},
	{`meta.created gt "2024-01-02T03:04:05.12345678Z"`, "03 05 06 07 08 10"},
	{`meta.created ge "2024-01-02T03:04:05.12345678Z"`, "03 04 05 06 07 08 10"},
	{`meta.created lt "2024-01-01T00:00:00Z"`, "09"},
	{`meta.created le "2024-01-01T00:00:00.000000001Z"`, "01 02 09 11"},
	{`meta.created ge "2024-02-01T00:00:00Z"`, "10"},
	{`meta.created ne "2024-01-01T00:00:00Z"`, "03 04 05 06 07 08 09 10"},
	{`meta.created pr`, "*"},
	{`lastLoginAt gt "2024-03-01T10:00:00Z"`, "01"},
	{`lastLoginAt eq "2024-03-01T12:00:00+02:00"`, "03 11"},
	{`lastLoginAt pr`, "01 03 11"},
	{`not (lastLoginAt pr)`, "-01 03 11"},
	{`lastLoginAt eq null`, "-01 03 11"},
	{`lastLoginAt ne null`, "01 03 11"},

	// complex, single-valued
	{`name pr`, "01 02 03 04 05 08"},
	{`name eq null`, "06 07 09 10 11 12"},
	{`name ne null`, "01 02 03 04 05 08"},
	{`name[givenName eq "ALICE"]`, "01"},
	{`name[givenName pr and familyName pr]`, "01 02 03 04 08"},
	{`name[not (familyName pr)]`, "05 07"},
	{`name.givenName ne null`, "01 02 03 04 05 08"},
	{`name.givenName ne "alice"`, "02 03 04 05 08"},
	{`not (name.givenName eq "alice")`, "-01"},

	// complex, multi-valued
	{`emails co "example.com"`, "01 02 03 08 09 10"},
	{`emails.value co "EXAMPLE.COM"`, "01 02 03 08 09 10"},
	{`emails.value ew ".org"`, "01 02"},
	{`emails sw "judy"`, "12"},
	{`emails[type eq "work" and value ew ".org"]`, ""},
	{`emails.type eq "work" and emails.value ew ".org"`, "01 02"},
	{`emails[type eq "home" and primary eq true]`, "02 10"},
	{`emails[type eq "work" and (value ew ".org" or not (primary eq true))]`, "02 09 10"},
	{`emails pr`, "01 02 03 08 09 10 12"},
	{`emails.value ne "alice@example.com"`, "01 02 03 08 09 10 12"},
	{`emails[value eq "ALICE@EXAMPLE.COM"]`, "01"},
	{`emails[type eq "work"].value eq "grace@example.com"`, "09"},
	{`emails[primary eq true]`, "01 02 03 08 10"},
	{`emails.primary eq null`, "04 05 06 07 09 11 12"},
	{`emails gt "h"`, "10 12"},
	{`emails.value lt "b"`, "01"},
	{`emails.value le "bob@example.com"`, "01 02"},
	{`emails.value ge "judy"`, "12"},
	{`emails eq "bob@example.com"`, "02"},
	{`emails.type ne "work"`, "01 02 10"},
	{`phoneNumbers co "30"`, "01"},
	{`roles eq "admin"`, "01"},
	{`roles eq "oops"`, ""},
	{`roles[primary eq true]`, "01"},

	// claims: numbers, strings, booleans, null, nested, arrays
	{`claims.level eq 3`, "01 03 05"},
	{`claims.level eq 3.00`, "01 03 05"},
	{`claims.level eq "3"`, "04"},
	{`claims.level gt 3`, "02 08 09 10 12"},
	{`claims.level ge 3`, "01 02 03 05 08 09 10 12"},
	{`claims.level lt 0`, "07"},
	{`claims.level le -1.5`, "07"},
	{`claims.level ne 3`, "02 07 08 09 10 12"},
	{`claims.level le "3"`, "04"},
	{`claims.level co "3"`, "04"},
	{`claims.level eq true`, ""},
	{`claims.level pr`, "01 02 03 04 05 07 08 09 10 12"},
	{`claims.big eq 9007199254740993`, "04"},
	{`claims.big eq 9007199254740992`, "05 09"},
	{`claims.big gt 9007199254740992`, "04"},
	{`claims.level eq 9007199254740993`, "12"},
	{`claims.score eq 2.5`, "01 03 09"},
	{`claims.department eq "OPS"`, "01 02 03 08"},
	{`claims.department co "ss"`, "11"},
	{`claims.department sw "o"`, "01 02 03 08"},
	{`claims.department ew "E"`, "11"},
	{`claims.department gt "p"`, "11"},
	{`claims.department lt "p"`, "01 02 03 08"},
	{`claims.department ge "STRASSE"`, "11"},
	{`claims.department le "OPS"`, "01 02 03 08"},
	{`claims.department ne "ops"`, "11"},
	{`claims.vip eq true`, "01"},
	{`claims.vip eq false`, "02"},
	{`claims.vip ne true`, "02"},
	{`claims.vip pr`, "01 02"},
	{`claims.no eq false`, "07"},
	{`claims.no pr`, "07"},
	{`claims.zero pr`, "07"},
	{`claims.zero eq 0`, "07"},
	{`claims.empty pr`, ""},
	{`claims.empty eq ""`, ""},
	{`claims.empty eq null`, "*"},
	{`claims.nothing pr`, ""},
	{`claims.nothing eq null`, "*"},
	{`claims.nothing ne null`, ""},
	{`claims.list pr`, ""},
	{`claims.obj pr`, ""},
	{`claims pr`, "-06"},
	{`claims.nested.deep.x eq "Y"`, "02"},
	{`claims.nested pr`, "02"},
	{`claims.tags eq "b"`, "01 03"},
	{`claims.tags co "x"`, "08"},
	{`claims.tags ne "a"`, "01 03 08"},
	{`claims.address.city eq "Berlin"`, "01"},
	{`claims.addresses.city eq "berlin"`, "10"},
	{`claims.addresses[city eq "Paris" and zip eq "10117"]`, ""},
	{`claims.addresses[city eq "Berlin" and zip eq "10117"]`, "10"},
	{`claims.addresses.city eq "Paris" and claims.addresses.zip eq "10117"`, "10"},
	{`claims[department eq "ops" and level gt 2]`, "01 02 03 08"},
	{`claims.Dept eq "x"`, "02"},
	{`claims.dept eq "x"`, ""},
	{`claims.f gt 0`, ""},
	{`claims.f pr or claims.ch pr or claims.fn pr`, ""},
	{`claims.inf pr`, ""},

	// enterprise extension
	{`department eq "engineering"`, "01 08"},
	{`DEPARTMENT eq "engineering"`, "01 08"},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`, "02"},
	{`manager.value eq "u02"`, "01"},
	{`manager.value eq "U02"`, ""},
	{`manager.value pr`, "01 08"},
	{`manager[value eq "u01"]`, "08"},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, "01 02 08"},
	{`costCenter pr`, "02"},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User[department eq "sales" or manager.value eq "u01"]`, "02 08"},
	{`employeeNumber eq "1001"`, "01"},

	// core URN-qualified names
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice"`, "01"},
	{`URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME eq "alice"`, "01"},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "smith"`, "02"},

	// logic
	{`userName eq "alice" or userName eq "bob"`, "01 02"},
	{`not (userName eq "alice") and active eq true`, "03 05 06 08 10 11"},
	{`(status eq "active" or status eq "invited") and not (emails pr)`, "04 05 06 11"},
	{`status eq "deleted"`, "09"},
	{`not (not (status eq "deleted"))`, "09"},
	{`status eq "active" and active eq true and claims.level gt 3`, "08 10"},
	{`userName eq "nobody" or (active eq false and claims.vip eq false)`, "02"},
}

func TestEvalMatrix(t *testing.T) {
	users := fxUsers()
	for _, tc := range evalMatrix {
		t.Run(tc.filter, func(t *testing.T) {
			e := mustBind(t, tc.filter)
			var want []string
			switch {
			case tc.want == "*":
				want = fxAllBut("")
			case strings.HasPrefix(tc.want, "-"):
				want = fxAllBut(tc.want[1:])
			default:
				want = fxIDs(tc.want)
			}
			assert.Equal(t, want, fxMatch(e, users))
			assert.Equal(t, want, fxMatchWith(Compile(e).Match, users), "compiled")
		})
	}
}

// TestEvalNotIsComplement checks that not is plain negation for every
// filter of the matrix, unassigned attributes included.
func TestEvalNotIsComplement(t *testing.T) {
	users := fxUsers()
	for _, tc := range evalMatrix {
		e := mustBind(t, tc.filter)
		n := &Not{X: e}
		for _, u := range users {
			assert.NotEqual(t, evalBoth(t, e, u), evalBoth(t, n, u), "%s on %s", tc.filter, fxID(u))
		}
	}
}

// TestEvalNeExistential pins rule 11: ne holds iff some assigned value
// differs, so for single-valued attributes `x ne v` is `x pr and not (x eq v)`.
func TestEvalNeExistential(t *testing.T) {
	users := fxUsers()
	for _, f := range []string{
		`userName ne "alice"`, `externalId ne "EXT-1"`, `nickName ne "x"`, `title ne "engineer"`,
		`meta.version ne 1`, `meta.created ne "2024-01-01T00:00:00Z"`, `active ne true`,
		`name.givenName ne "Bob"`, `department ne "Sales"`, `lastLoginAt ne "2024-03-01T10:00:00Z"`,
	} {
		ne := mustBind(t, f)
		c := ne.(*Compare)
		eq := mustBind(t, c.Path.String()+" eq "+c.Value.String())
		pr := mustBind(t, c.Path.String()+" pr")
		for _, u := range users {
			// A value of the wrong Go type (fixture u12) is neither equal
			// nor different.
			if fxID(u) == "u12" {
				continue
			}
			assert.Equal(t, evalBoth(t, pr, u) && !evalBoth(t, eq, u), evalBoth(t, ne, u), "%s on %s", f, fxID(u))
		}
	}
}

func TestEvalUnboundAndNil(t *testing.T) {
	u := fxUsers()[0]
	e, err := Parse(`userName eq "alice"`)
	require.NoError(t, err)
	assert.False(t, evalBoth(t, e, u), "unbound node")
	assert.True(t, evalBoth(t, &Not{X: e}, u), "not of an unbound node is plain negation")
	assert.True(t, evalBoth(t, nil, u), "nil filter matches everything")
	b := mustBind(t, `userName eq "alice"`)
	assert.True(t, evalBoth(t, b, u))
	assert.False(t, evalBoth(t, b, nil), "nil resource has nothing assigned")
	assert.True(t, evalBoth(t, mustBind(t, `userName eq null`), nil))
	assert.False(t, evalBoth(t, &Compare{Path: Path{Names: []string{"userName"}}, Op: OpEq, Attr: &Attribute{Name: "userName"}}, u), "hand-made Attribute")
	assert.False(t, evalBoth(t, (*Compare)(nil), u))
	assert.False(t, evalBoth(t, &And{}, u))
	assert.False(t, evalBoth(t, &Or{}, u))
	assert.False(t, evalBoth(t, &Not{}, u))
	assert.False(t, evalBoth(t, &ValueFilter{}, u))
}

// oddResource hands out values of every Go type a buggy Resource might.
type oddResource struct{ v any }

func (o oddResource) Attr(string) any { return o.v }

func TestEvalNeverPanics(t *testing.T) {
	var nilMap map[string]any
	var nilList fxList
	values := []any{
		nil, "", "x", 0, -1, int8(1), uint8(2), uint64(math.MaxUint64), uint(7), float32(1.5), float32(math.NaN()),
		math.NaN(), math.Inf(-1), 1e300, json.Number(""), json.Number("bad"), true, time.Time{},
		[]any{nil, []any{[]any{}}}, []string{}, []map[string]any{nil}, nilMap, nilList, fxList{nil, 3},
		map[string]any{"value": map[string]any{"value": []any{1}}}, struct{}{}, &struct{}{}, make(chan int),
		fxDoc(nil), oddResource{}, oddResource{v: oddResource{v: "x"}}, []int{1, 2}, map[int]any{1: 2},
		Number{}, Value{}, []byte("x"),
	}
	filters := []string{}
	for _, tc := range evalMatrix {
		filters = append(filters, tc.filter)
	}
	for _, v := range values {
		r := oddResource{v: v}
		for _, f := range filters {
			e := mustBind(t, f)
			assert.NotPanics(t, func() { evalBoth(t, e, r) }, "%s with %#v", f, v)
		}
	}
}

// TestEvalMapKeys pins how map keys are matched: schema names
// case-insensitively (the declared spelling first), claims keys exactly.
func TestEvalMapKeys(t *testing.T) {
	r := fxDoc{
		"name":   obj{"GIVENNAME": "Ann"},
		"emails": []any{obj{"Value": "a@x.io", "TYPE": "work"}},
		"claims": obj{"Team": "a", "team": "b"},
		"meta":   obj{"Version": 7},
	}
	for f, want := range map[string]bool{
		`name.givenName eq "ann"`:                     true,
		`emails[type eq "work" and value co "@x.io"]`: true,
		`meta.version eq 7`:                           true,
		`claims.Team eq "a"`:                          true,
		`claims.team eq "b"`:                          true,
		`claims.team eq "a"`:                          false,
		`claims.TEAM pr`:                              false,
	} {
		assert.Equal(t, want, evalBoth(t, mustBind(t, f), r), f)
	}
}

// TestEvalNumberRepresentations checks that every Go numeric type a
// Resource may hand out compares exactly (rule 7).
func TestEvalNumberRepresentations(t *testing.T) {
	cases := []struct {
		v    any
		eq   string // a literal the value equals
		ne   string // a literal just beside it
		want bool
	}{
		{3, "3", "3.0000000000000000001", true},
		{int8(-3), "-3e0", "-2.9999999999999999", true},
		{int16(300), "3e2", "299", true},
		{int32(-7), "-7", "-7.000001", true},
		{int64(math.MinInt64), "-9223372036854775808", "-9223372036854775807", true},
		{int64(math.MaxInt64), "9223372036854775807", "9223372036854775806", true},
		{uint(3), "3", "4", true},
		{uint8(255), "255", "254", true},
		{uint16(65535), "65535", "65536", true},
		{uint32(1 << 31), "2147483648", "2147483647", true},
		{uint64(math.MaxUint64), "18446744073709551615", "18446744073709551614", true},
		{0.1, "0.1", "0.1000000000000000055511151231257827", true},
		{float32(0.1), "0.1", "0.10000000149011612", true},
		{1e21, "1e21", "1000000000000000000001", true},
		{float64(1 << 53), "9007199254740992", "9007199254740993", true},
		{math.Copysign(0, -1), "0", "-0.000001", true},
		{json.Number("12.50"), "12.5", "12.51", true},
		{json.Number("1E400"), "1e400", "1e399", true},
		{fxNum("-1e-400"), "-1e-400", "-1e-401", true},
	}
	for _, tc := range cases {
		r := fxDoc{"claims": obj{"n": tc.v}}
		assert.True(t, evalBoth(t, mustBind(t, "claims.n eq "+tc.eq), r), "%#v eq %s", tc.v, tc.eq)
		assert.False(t, evalBoth(t, mustBind(t, "claims.n eq "+tc.ne), r), "%#v eq %s", tc.v, tc.ne)
		assert.True(t, evalBoth(t, mustBind(t, "claims.n ne "+tc.ne), r), "%#v ne %s", tc.v, tc.ne)
		assert.False(t, evalBoth(t, mustBind(t, "claims.n ne "+tc.eq), r), "%#v ne %s", tc.v, tc.eq)
	}
}

// TestEvalFoldAllocations pins the performance contract: comparing folded
// strings allocates nothing for ASCII data, and integers compare without
// building Numbers.
func TestEvalFoldAllocations(t *testing.T) {
	e := mustBind(t, `name.familyName co "SON" and claims.level gt 3 and emails[type eq "work" and value ew ".COM"] and active eq true`)
	r := &fxUser{
		id: "x", active: true,
		name:   fxDoc{"familyName": "Johnson"},
		emails: fxList{fxDoc{"value": "A@B.com", "type": "Work"}},
		claims: obj{"level": 4},
		meta:   fxDoc{"created": fxTime("2024-01-01T00:00:00Z")},
	}
	m := Compile(e)
	require.True(t, evalBoth(t, e, r))
	assert.Zero(t, testing.AllocsPerRun(100, func() { Eval(e, r) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.Match(r) }))
	r.claims = obj{"level": json.Number("4")}
	require.True(t, evalBoth(t, e, r))
	assert.Zero(t, testing.AllocsPerRun(100, func() { Eval(e, r) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { m.Match(r) }))

	// A json.Number compared with a literal that is not an int64 is
	// parsed in place, not rebuilt from an int64.
	r.claims = obj{"n": json.Number("1234")}
	for _, f := range []string{`claims.n gt 2.5`, `claims.n lt 12345678901234567890`} {
		e, m := mustBind(t, f), Compile(mustBind(t, f))
		require.True(t, evalBoth(t, e, r), f)
		assert.Zero(t, testing.AllocsPerRun(100, func() { Eval(e, r) }), f)
		assert.Zero(t, testing.AllocsPerRun(100, func() { m.Match(r) }), f)
	}
}

func TestAttributeValues(t *testing.T) {
	s := UserSchema()
	users := fxUsers()
	byID := map[string]Resource{}
	for _, u := range users {
		byID[fxID(u)] = u
	}
	str := func(s ...string) []Value {
		var out []Value
		for _, x := range s {
			out = append(out, Value{Kind: KindString, Str: x})
		}
		return out
	}
	cases := []struct {
		path string
		id   string
		want []Value
	}{
		{"emails.value", "u01", str("alice@example.com", "alice@home.org")},
		{"emails.value", "u08", str("frank@example.com")},
		{"emails.value", "u06", nil},
		{"emails.value", "u07", nil},
		{"userName", "u02", str("Bob")},
		{"schemas", "u02", str(UserURN, EnterpriseURN)},
		{"claims.tags", "u08", str("x")},
		{"claims.addresses.city", "u10", str("Paris", "Berlin")},
		{"department", "u08", str("Engineering")},
		{"manager.value", "u01", str("u02")},
		{"active", "u01", []Value{{Kind: KindBool, Bool: true}}},
		{"active", "u12", str("true")},
		{"meta.version", "u09", []Value{{Kind: KindNumber, Num: fxNum("4")}}},
		{"claims.level", "u03", []Value{{Kind: KindNumber, Num: fxNum("3")}}},
		{"claims.level", "u12", []Value{{Kind: KindNumber, Num: fxNum("9007199254740993")}}},
		{"claims.f", "u12", nil},
		{"claims.nothing", "u07", nil},
		{"emails.primary", "u01", []Value{{Kind: KindBool, Bool: true}, {Kind: KindBool, Bool: false}}},
		{"lastLoginAt", "u11", []Value{{Kind: KindTime, Time: fxTime("2024-03-01T10:00:00Z")}}},
		{"meta.created", "u12", nil},
		{"name", "u01", nil},
	}
	for _, tc := range cases {
		a, err := s.Resolve(tc.path)
		require.NoError(t, err, tc.path)
		got := a.Values(byID[tc.id])
		require.Len(t, got, len(tc.want), "%s of %s", tc.path, tc.id)
		for i := range got {
			assert.Zero(t, compareValues(tc.want[i], got[i], true), "%s of %s: %v", tc.path, tc.id, got[i])
		}
	}
	created, err := s.Resolve("meta.created")
	require.NoError(t, err)
	v := created.Values(byID["u02"])
	require.Len(t, v, 1)
	assert.True(t, v[0].Time.Equal(fxTime("2024-01-01T00:00:00Z")))
	assert.Nil(t, created.Values(nil))
	assert.Nil(t, (*Attribute)(nil).Values(byID["u01"]))
}

func BenchmarkEval(b *testing.B) {
	r := &fxUser{
		id: "u1", userName: "alice", status: "active", active: true,
		name:   fxDoc{"givenName": "Alice", "familyName": "Johnson"},
		emails: fxList{fxDoc{"value": "alice@example.com", "type": "work", "primary": true}},
		claims: obj{"level": json.Number("4"), "department": "ops"},
		meta:   fxDoc{"created": fxTime("2024-01-01T00:00:00Z"), "version": NumberFromInt64(3)},
	}
	for _, f := range []string{
		`name.familyName co "son" and claims.level gt 3`,
		`emails[type eq "work" and value ew "@EXAMPLE.COM"] and meta.created gt "2023-06-01T00:00:00Z" and not (active eq false)`,
		`userName eq "nobody" or claims.department eq "OPS"`,
	} {
		e := mustBind(b, f)
		if !Eval(e, r) {
			b.Fatalf("%s does not match", f)
		}
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Eval(e, r)
			}
		})
		m := Compile(e)
		b.Run(f+"/compiled", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Match(r)
			}
		})
	}
}

// FuzzBindEval checks that binding and evaluating any filter never panics,
// that binding through the attributes NewSchema resolved once gives the
// tree and the error resolving every path gives, and that the canonical
// text of a bound filter binds to the same text and the same results.
func FuzzBindEval(f *testing.F) {
	for _, tc := range evalMatrix {
		f.Add(tc.filter)
	}
	for _, tc := range bindErr {
		f.Add(tc.filter)
	}
	s := UserSchema()
	unknown := *s
	unknown.known = nil
	users := fxUsers()
	f.Fuzz(func(t *testing.T, filter string) {
		e, err := Parse(filter)
		if err != nil {
			return
		}
		b, err := Bind(e, s)
		want, wantErr := Bind(e, &unknown)
		require.Equal(t, wantErr, err)
		require.Equal(t, want, b)
		if err != nil {
			require.ErrorIs(t, err, ErrInvalidFilter)
			return
		}
		canon := Canonical(b)
		e2, err := Parse(canon)
		require.NoError(t, err, canon)
		b2, err := Bind(e2, s)
		require.NoError(t, err, canon)
		require.Equal(t, canon, Canonical(b2))
		for _, u := range users {
			require.Equal(t, evalBoth(t, b, u), evalBoth(t, b2, u), "%s on %s", canon, fxID(u))
		}
	})
}

// TestEvalPointerValues checks that a Resource may hand out its fields as
// *string and *time.Time: they read as the values they point to, a nil
// pointer or an empty string as unassigned, and reading them allocates
// nothing.
func TestEvalPointerValues(t *testing.T) {
	family, empty := "Johnson", ""
	created := fxTime("2024-01-01T00:00:00Z")
	var nilStr *string
	var nilTime *time.Time
	cases := []struct {
		name   string
		doc    fxDoc
		filter string
		want   bool
	}{
		{"string eq folded", fxDoc{"userName": &family}, `userName eq "JOHNSON"`, true},
		{"string co", fxDoc{"userName": &family}, `userName co "hns"`, true},
		{"string ne", fxDoc{"userName": &family}, `userName ne "johnson"`, false},
		{"string pr", fxDoc{"userName": &family}, `userName pr`, true},
		{"empty string is unassigned", fxDoc{"userName": &empty}, `userName pr`, false},
		{"empty string matches nothing", fxDoc{"userName": &empty}, `userName eq ""`, false},
		{"nil *string is unassigned", fxDoc{"userName": nilStr}, `userName pr`, false},
		{"nil *string matches nothing", fxDoc{"userName": nilStr}, `userName sw "j"`, false},
		{"nested *string", fxDoc{"name": fxDoc{"familyName": &family}}, `name.familyName ew "SON"`, true},
		{"time gt", fxDoc{"meta": fxDoc{"created": &created}}, `meta.created gt "2023-12-31T23:59:59Z"`, true},
		{"time eq", fxDoc{"meta": fxDoc{"created": &created}}, `meta.created eq "2024-01-01T00:00:00Z"`, true},
		{"time pr", fxDoc{"meta": fxDoc{"created": &created}}, `meta.created pr`, true},
		{"nil *time.Time is unassigned", fxDoc{"meta": fxDoc{"created": nilTime}}, `meta.created pr`, false},
		{"nil *time.Time matches nothing", fxDoc{"meta": fxDoc{"created": nilTime}}, `meta.created lt "2030-01-01T00:00:00Z"`, false},
		{"dateTime given as *string", fxDoc{"lastLoginAt": ptr("2024-03-01T10:00:00Z")}, `lastLoginAt ge "2024-03-01T10:00:00Z"`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := mustBind(t, c.filter)
			assert.Equal(t, c.want, evalBoth(t, e, c.doc))
			assert.Zero(t, testing.AllocsPerRun(50, func() { Eval(e, c.doc) }))
			m := Compile(e)
			assert.Zero(t, testing.AllocsPerRun(50, func() { m.Match(c.doc) }))
		})
	}

	s := UserSchema()
	for _, c := range []struct {
		path string
		doc  fxDoc
		want []Value
	}{
		{"userName", fxDoc{"userName": &family}, []Value{{Kind: KindString, Str: family}}},
		{"userName", fxDoc{"userName": &empty}, nil},
		{"userName", fxDoc{"userName": nilStr}, nil},
		{"meta.created", fxDoc{"meta": fxDoc{"created": &created}}, []Value{{Kind: KindTime, Time: created}}},
		{"meta.created", fxDoc{"meta": fxDoc{"created": nilTime}}, nil},
		{"lastLoginAt", fxDoc{"lastLoginAt": ptr("2024-03-01T10:00:00Z")}, []Value{{Kind: KindTime, Time: fxTime("2024-03-01T10:00:00Z")}}},
	} {
		a, err := s.Resolve(c.path)
		require.NoError(t, err)
		assert.Equal(t, c.want, a.Values(c.doc), "%s of %v", c.path, c.doc)
	}
}

func ptr[T any](v T) *T { return &v }

// evalBoth evaluates e on r with Eval and with a compiled Matcher, checks
// that they agree, and returns what Eval says: every Eval test holds both.
func evalBoth(t testing.TB, e Expr, r Resource) bool {
	t.Helper()
	got := Eval(e, r)
	assert.Equal(t, got, Compile(e).Match(r), "Compile(%v).Match disagrees with Eval", e)
	return got
}
