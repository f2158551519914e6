package query

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const entURN = EnterpriseURN

// firstLeaf returns the leftmost comparison, presence test or value filter.
func firstLeaf(e Expr) Expr {
	switch n := e.(type) {
	case *And:
		return firstLeaf(n.Left)
	case *Or:
		return firstLeaf(n.Left)
	case *Not:
		return firstLeaf(n.X)
	}
	return e
}

func leafAttr(e Expr) *Attribute {
	switch n := e.(type) {
	case *Compare:
		return n.Attr
	case *Present:
		return n.Attr
	case *ValueFilter:
		return n.Attr
	}
	return nil
}

// bindOK lists filters that bind, with the canonical text of the bound
// filter and facts about its leftmost leaf.
var bindOK = []struct {
	filter string
	canon  string // canonical text after binding; "" when the same as filter
	name   string // Attr.Name of the leftmost leaf
	typ    Type
	kind   Kind // literal kind after binding (comparisons only)
}{
	// rule 4: names
	{`userName eq "x"`, ``, "userName", TypeString, KindString},
	{`USERNAME EQ "x"`, `userName eq "x"`, "userName", TypeString, KindString},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, `userName eq "x"`, "userName", TypeString, KindString},
	{`URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:USERNAME eq "x"`, `userName eq "x"`, "userName", TypeString, KindString},
	{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x"`, `name.familyName eq "x"`, "name.familyName", TypeString, KindString},
	{`NAME.GIVENNAME sw "a"`, `name.givenName sw "a"`, "name.givenName", TypeString, KindString},
	{`department eq "x"`, entURN + `:department eq "x"`, entURN + ":department", TypeString, KindString},
	{`Department eq "x"`, entURN + `:department eq "x"`, entURN + ":department", TypeString, KindString},
	{`manager.value eq "x"`, entURN + `:manager.value eq "x"`, entURN + ":manager.value", TypeString, KindString},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:MANAGER.displayName co "x"`, entURN + `:manager.displayName co "x"`, entURN + ":manager.displayName", TypeString, KindString},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, ``, entURN, TypeComplex, 0},
	{`manager[value eq "x"]`, entURN + `:manager[value eq "x"]`, entURN + ":manager", TypeComplex, 0},
	{entURN + `[Department eq "x" and manager.value pr]`, entURN + `[department eq "x" and manager.value pr]`, entURN, TypeComplex, 0},
	{`costCenter pr`, entURN + `:costCenter pr`, entURN + ":costCenter", TypeString, 0},
	// rule 4: claims, free-form at any depth, keys as stored
	{`claims.level gt 3`, ``, "claims.level", TypeAny, KindNumber},
	{`claims.address.city eq "Berlin"`, ``, "claims.address.city", TypeAny, KindString},
	{`claims.a.b.c.d.e pr`, ``, "claims.a.b.c.d.e", TypeAny, 0},
	{`claims.Dept eq "x"`, ``, "claims.Dept", TypeAny, KindString},
	{`CLAIMS.Dept eq "x"`, `claims.Dept eq "x"`, "claims.Dept", TypeAny, KindString},
	{`claims pr`, ``, "claims", TypeComplex, 0},
	{`claims.addresses[city eq "x"]`, ``, "claims.addresses", TypeAny, 0},
	{`claims[level gt 1 and tags eq "a"]`, ``, "claims", TypeComplex, 0},
	// rule 5: caseExact marks
	{`id eq "ABC"`, ``, "id", TypeString, KindString},
	{`groups.value eq "X"`, ``, "groups.value", TypeString, KindString},
	{`schemas eq "urn:x"`, ``, "schemas", TypeString, KindString},
	{`displayName eq "Stra\u00dfe"`, `displayName eq "Straße"`, "displayName", TypeString, KindString},
	// rule 6: dateTime literals become instants in UTC
	{`meta.created gt "2024-01-02T03:04:05Z"`, ``, "meta.created", TypeDateTime, KindTime},
	{`meta.created eq "2024-01-02T03:04:05"`, `meta.created eq "2024-01-02T03:04:05Z"`, "meta.created", TypeDateTime, KindTime},
	{`meta.created eq "2024-01-01T01:00:00+01:00"`, `meta.created eq "2024-01-01T00:00:00Z"`, "meta.created", TypeDateTime, KindTime},
	{`meta.created eq "2024-01-02T03:04:05.123456789Z"`, ``, "meta.created", TypeDateTime, KindTime},
	{`meta.created eq "2024-01-02T03:04:05.12345678Z"`, ``, "meta.created", TypeDateTime, KindTime},
	{`lastLoginAt le "2024-01-02T03:04:05.1-07:00"`, `lastLoginAt le "2024-01-02T10:04:05.1Z"`, "lastLoginAt", TypeDateTime, KindTime},
	{`meta.lastModified ne "2024-02-29T23:59:59.999999999+14:00"`, `meta.lastModified ne "2024-02-29T09:59:59.999999999Z"`, "meta.lastModified", TypeDateTime, KindTime},
	{`meta.created eq null`, ``, "meta.created", TypeDateTime, KindNull},
	// rule 7: numbers, exact
	{`meta.version gt 9007199254740993`, ``, "meta.version", TypeNumber, KindNumber},
	{`meta.version eq 3e0`, `meta.version eq 3`, "meta.version", TypeNumber, KindNumber},
	{`meta.version le -0.5`, ``, "meta.version", TypeNumber, KindNumber},
	// rule 8: booleans with eq and ne
	{`active eq true`, ``, "active", TypeBoolean, KindBool},
	{`active ne false`, ``, "active", TypeBoolean, KindBool},
	{`emails.primary eq true`, ``, "emails.primary", TypeBoolean, KindBool},
	{`claims.vip eq true`, ``, "claims.vip", TypeAny, KindBool},
	// rule 9: claims take any literal
	{`claims.level eq "3"`, ``, "claims.level", TypeAny, KindString},
	{`claims.level co "3"`, ``, "claims.level", TypeAny, KindString},
	{`claims.when lt "2024-01-01T00:00:00Z"`, ``, "claims.when", TypeAny, KindString},
	// rule 10: multi-valued attributes and value filters
	{`emails co "x"`, `emails.value co "x"`, "emails.value", TypeString, KindString},
	{`EMAILS.VALUE co "x"`, `emails.value co "x"`, "emails.value", TypeString, KindString},
	{`phoneNumbers eq "1"`, `phoneNumbers.value eq "1"`, "phoneNumbers.value", TypeString, KindString},
	{`roles eq "admin"`, `roles.value eq "admin"`, "roles.value", TypeString, KindString},
	{`groups ne "eng"`, `groups.value ne "eng"`, "groups.value", TypeString, KindString},
	{`emails eq null`, ``, "emails", TypeComplex, KindNull},
	{`emails pr`, ``, "emails", TypeComplex, 0},
	{`emails[type eq "work"]`, ``, "emails", TypeComplex, 0},
	{`emails[TYPE eq "work" and Value co "x"]`, `emails[type eq "work" and value co "x"]`, "emails", TypeComplex, 0},
	{`emails[type eq "work"].value eq "x"`, `emails[type eq "work" and value eq "x"]`, "emails", TypeComplex, 0},
	{`emails[type eq "work" and (value ew ".org" or not (primary eq true))]`, ``, "emails", TypeComplex, 0},
	{`name[givenName eq "Ann"]`, ``, "name", TypeComplex, 0},
	{`meta[created gt "2024-01-01T00:00:00Z"]`, ``, "meta", TypeComplex, 0},
	// rule 11: missing values
	{`active eq null`, ``, "active", TypeBoolean, KindNull},
	{`userName ne null`, ``, "userName", TypeString, KindNull},
	{`name eq null`, ``, "name", TypeComplex, KindNull},
	{`claims.x ne null`, ``, "claims.x", TypeAny, KindNull},
	{`not (userName eq "x")`, ``, "userName", TypeString, KindString},
	{`userName pr`, ``, "userName", TypeString, 0},
	{`name pr and not (emails pr)`, ``, "name", TypeComplex, 0},
}

func TestBindOK(t *testing.T) {
	s := UserSchema()
	for _, tc := range bindOK {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := Parse(tc.filter)
			require.NoError(t, err)
			b, err := Bind(e, s)
			require.NoError(t, err)
			want := tc.canon
			if want == "" {
				want = tc.filter
			}
			assert.Equal(t, want, Canonical(b))
			leaf := firstLeaf(b)
			a := leafAttr(leaf)
			require.NotNil(t, a)
			assert.Equal(t, tc.name, a.Name)
			assert.Equal(t, tc.typ, a.Type)
			if c, ok := leaf.(*Compare); ok {
				assert.Equal(t, tc.kind, c.Value.Kind)
			}
			// The canonical text of a bound filter binds to itself: it is
			// the cache key.
			e2, err := Parse(Canonical(b))
			require.NoError(t, err)
			b2, err := Bind(e2, s)
			require.NoError(t, err)
			assert.Equal(t, Canonical(b), Canonical(b2))
			// Bind copies: the input is untouched.
			assert.Nil(t, leafAttr(firstLeaf(e)))
		})
	}
}

// bindErr lists filters that parse but do not bind, with the attribute
// the error names and a part of its message.
var bindErr = []struct {
	filter string
	attr   string
	msg    string
}{
	// rule 4: unknown attributes and invalid paths
	{`foo eq "x"`, "foo", msgUnknown},
	{`name.foo eq "x"`, "name.foo", msgUnknown},
	{`emails.foo pr`, "emails.foo", msgUnknown},
	{`userName.foo eq "x"`, "userName.foo", msgSimpleSub},
	{`name.givenName.x eq "y"`, "name.givenName.x", msgSimpleSub},
	{`emails.value.x pr`, "emails.value.x", msgSimpleSub},
	{`userName[value eq "x"]`, "userName", msgSimpleVF},
	{`emails.value[type eq "x"]`, "emails.value", msgSimpleVF},
	{`name[foo eq "x"]`, "foo", msgUnknown},
	{`emails[value.foo eq "x"]`, "value.foo", msgSimpleSub},
	{`emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq "x"]`, "urn:ietf:params:scim:schemas:core:2.0:User:type", msgURNInVF},
	{`urn:foo:bar:userName eq "x"`, "urn:foo:bar:userName", msgUnknownURN},
	{`urn:ietf:params:scim:schemas:core:2.0:User:department eq "x"`, "urn:ietf:params:scim:schemas:core:2.0:User:department", msgUnknown},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName eq "x"`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:userName", msgUnknown},
	{`manager.foo eq "x"`, "manager.foo", msgUnknown},
	// complex attributes need a sub-attribute
	{`name eq "x"`, "name", msgComplexComp},
	{`meta gt "x"`, "meta", msgComplexComp},
	{`manager eq "x"`, "manager", msgComplexComp},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User eq "x"`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", msgComplexComp},
	{`claims eq "x"`, "claims", msgBareClaims},
	// rule 6: dateTime literals
	{`meta.created gt 5`, "meta.created", "dateTime attribute compared with a number literal"},
	{`meta.created eq true`, "meta.created", "dateTime attribute compared with a boolean literal"},
	{`meta.created eq "2024-01-02"`, "meta.created", "not an RFC 3339 date-time"},
	{`meta.created eq "yesterday"`, "meta.created", "not an RFC 3339 date-time"},
	{`meta.created eq "2024-01-02T03:04:05.1234567891Z"`, "meta.created", "1 to 9 digits"},
	{`meta.created eq "2024-01-02T03:04:05.Z"`, "meta.created", "1 to 9 digits"},
	{`meta.created eq "2024-01-02T25:04:05Z"`, "meta.created", "not an RFC 3339 date-time"},
	{`meta.created eq "2024-01-02 03:04:05Z"`, "meta.created", "not an RFC 3339 date-time"},
	{`meta.created eq "2024-01-02T03:04:05,5Z"`, "meta.created", "not an RFC 3339 date-time"},
	{`lastLoginAt eq "2024-01-02T03:04:05+25:00"`, "lastLoginAt", "not an RFC 3339 date-time"},
	{`lastLoginAt eq "0000-01-01T00:00:00+01:00"`, "lastLoginAt", "outside the years 0000 to 9999"},
	{`meta.created lt "9999-12-31T23:30:00-01:00"`, "meta.created", "outside the years 0000 to 9999"},
	{`meta.created co "2024"`, "meta.created", "co is not allowed on a dateTime attribute"},
	{`meta.created sw "2024"`, "meta.created", "sw is not allowed on a dateTime attribute"},
	{`lastLoginAt ew "Z"`, "lastLoginAt", "ew is not allowed on a dateTime attribute"},
	// rule 7 and 9: types
	{`userName eq 3`, "userName", "string attribute compared with a number literal"},
	{`userName eq true`, "userName", "string attribute compared with a boolean literal"},
	{`active eq "true"`, "active", "boolean attribute compared with a string literal"},
	{`active eq 1`, "active", "boolean attribute compared with a number literal"},
	{`meta.version eq "3"`, "meta.version", "number attribute compared with a string literal"},
	{`meta.version eq true`, "meta.version", "number attribute compared with a boolean literal"},
	{`meta.version co "3"`, "meta.version", "co is not allowed on a number attribute"},
	{`userName co 3`, "userName", "co needs a string literal"},
	{`userName sw true`, "userName", "sw needs a string literal"},
	{`claims.level co 3`, "claims.level", "co needs a string literal"},
	{`claims.level ew null`, "claims.level", "null can only be compared with eq or ne"},
	{`active co "t"`, "active", "co is not allowed on a boolean attribute"},
	// rule 8: no ordering of booleans, wherever it is
	{`active gt true`, "active", "gt cannot order booleans"},
	{`active lt false`, "active", "lt cannot order booleans"},
	{`emails.primary ge true`, "emails.primary", "ge cannot order booleans"},
	{`claims.vip gt true`, "claims.vip", "gt cannot order booleans"},
	{`userName le false`, "userName", "le cannot order booleans"},
	{`userName eq "x" or active gt false`, "active", "gt cannot order booleans"},
	{`userName pr or (userName pr and not (active le true))`, "active", "le cannot order booleans"},
	{`emails[type eq "work" or primary gt false]`, "primary", "gt cannot order booleans"},
	// rule 11: null only with eq and ne
	{`userName gt null`, "userName", "null can only be compared with eq or ne"},
	{`claims.x co null`, "claims.x", "null can only be compared with eq or ne"},
	{`meta.created lt null`, "meta.created", "null can only be compared with eq or ne"},
}

func TestBindErrors(t *testing.T) {
	s := UserSchema()
	for _, tc := range bindErr {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := Parse(tc.filter)
			require.NoError(t, err)
			b, err := Bind(e, s)
			require.Error(t, err)
			assert.Nil(t, b)
			assert.ErrorIs(t, err, ErrInvalidFilter)
			var ae *AttrError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.attr, ae.Attr)
			assert.Contains(t, ae.Msg, tc.msg)
			assert.Contains(t, err.Error(), tc.attr)
		})
	}
}

func TestBindHandBuilt(t *testing.T) {
	s := UserSchema()
	userName := Path{Names: []string{"userName"}}
	cmp := &Compare{Path: userName, Op: OpEq, Value: Value{Kind: KindString, Str: "x"}}
	for name, e := range map[string]Expr{
		"nested value filter": &ValueFilter{Path: Path{Names: []string{"emails"}}, Filter: &ValueFilter{Path: Path{Names: []string{"value"}}, Filter: cmp}},
		"operator 0":          &Compare{Path: userName, Value: Value{Kind: KindString, Str: "x"}},
		"operator 99":         &Compare{Path: userName, Op: 99, Value: Value{Kind: KindString, Str: "x"}},
		"literal kind 99":     &Compare{Path: userName, Op: OpEq, Value: Value{Kind: 99}},
		"and without left":    &And{Right: cmp},
		"or without right":    &Or{Left: cmp},
		"empty not":           &Not{},
		"nil compare":         (*Compare)(nil),
		"nil present":         (*Present)(nil),
		"empty value filter":  &ValueFilter{Path: Path{Names: []string{"emails"}}},
		"empty path":          &Present{},
		"empty name":          &Present{Path: Path{Names: []string{"name", ""}}},
	} {
		_, err := Bind(e, s)
		assert.ErrorIs(t, err, ErrInvalidFilter, name)
	}
	b, err := Bind(nil, s)
	assert.NoError(t, err)
	assert.Nil(t, b)
	_, err = Bind(cmp, nil)
	assert.Error(t, err)

	// A time.Time from the builder binds at a dateTime attribute as is (in
	// UTC) and under claims as its RFC 3339 text.
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.FixedZone("X", -3600))
	b, err = Bind(&Compare{Path: Path{Names: []string{"meta", "created"}}, Op: OpGe, Value: Value{Kind: KindTime, Time: at}}, s)
	require.NoError(t, err)
	assert.Equal(t, KindTime, b.(*Compare).Value.Kind)
	assert.True(t, b.(*Compare).Value.Time.Equal(at))
	assert.Equal(t, time.UTC, b.(*Compare).Value.Time.Location())
	b, err = Bind(&Compare{Path: Path{Names: []string{"claims", "when"}}, Op: OpEq, Value: Value{Kind: KindTime, Time: at}}, s)
	require.NoError(t, err)
	assert.Equal(t, Value{Kind: KindString, Str: "2024-05-06T08:08:09.00000001Z"}, b.(*Compare).Value)
	_, err = Bind(&Compare{Path: Path{Names: []string{"userName"}}, Op: OpEq, Value: Value{Kind: KindTime, Time: at}}, s)
	assert.ErrorIs(t, err, ErrInvalidFilter)
}

// TestBindLiterals checks the values Bind stores: instants at full
// precision, offsets honoured, zone-less literals in UTC, folded strings
// precomputed for attributes that are not caseExact.
func TestBindLiterals(t *testing.T) {
	lit := func(f string) *Compare { return firstLeaf(mustBind(t, f)).(*Compare) }

	a := lit(`meta.created eq "2024-01-01T01:00:00+01:00"`).Value.Time
	b := lit(`meta.created eq "2024-01-01T00:00:00Z"`).Value.Time
	c := lit(`meta.created eq "2024-01-01T00:00:00"`).Value.Time
	assert.True(t, a.Equal(b))
	assert.True(t, c.Equal(b))
	assert.Equal(t, b, a, "normalized to UTC")

	n9 := lit(`meta.created eq "2024-01-02T03:04:05.123456789Z"`).Value.Time
	n8 := lit(`meta.created eq "2024-01-02T03:04:05.12345678Z"`).Value.Time
	assert.Equal(t, 123456789, n9.Nanosecond())
	assert.Equal(t, 123456780, n8.Nanosecond())
	assert.True(t, n8.Before(n9))

	big := lit(`meta.version eq 9007199254740993`).Value.Num
	assert.Equal(t, "9007199254740993", big.String())
	assert.Equal(t, 1, big.Cmp(fxNum("9007199254740992")))

	for f, want := range map[string]string{
		`displayName eq "STRASSE"`:           "strasse",
		`displayName eq "Stra\u00dfe"`:       "strasse",
		`displayName eq "\u0130lker"`:        "i\u0307lker",
		`displayName eq "ilker"`:             "ilker",
		`displayName eq "e\u0301"`:           "\u00e9",
		`claims.x eq "ABC"`:                  "abc",
		`emails[type eq "WORK"]`:             "work",
		`name.familyName eq "M\u00dcLLER"`:   "m\u00fcller",
		`name.familyName eq "MU\u0308LLER"`:  "m\u00fcller",
		`id eq "ABC"`:                        "",
		`externalId eq "ABC"`:                "",
		`groups.value eq "ABC"`:              "",
		`schemas eq "ABC"`:                   "",
		`subject eq "ABC"`:                   "",
		`manager.value eq "ABC"`:             "",
		`manager.displayName eq "ABC"`:       "abc",
		`claims.x eq 3`:                      "",
		`userName eq null`:                   "",
		`nickName eq "\u212a"`:               "k",
		`title eq "\u1e9e"`:                  "ss",
		`title eq "\u03a3\u0391\u03a3"`:      "\u03c3\u03b1\u03c3",
		`title eq "\u00c5ngstr\u00f6m"`:      "\u00e5ngstr\u00f6m",
		`title eq "A\u030angstro\u0308m"`:    "\u00e5ngstr\u00f6m",
		`title eq "\u212bngstr\u00f6m"`:      "\u00e5ngstr\u00f6m",
		`title eq "\ufb03"`:                  "ffi",
		`title eq "\u0041\u0345\u0301"`:      "\u00e1\u03b9",
		`title eq "plain lower"`:             "plain lower",
		`title eq "Mixed ASCII 123"`:         "mixed ascii 123",
		`title eq "caf\u00c9 \u00e0 la CAF"`: "caf\u00e9 \u00e0 la caf",
	} {
		c := firstLeaf(mustBind(t, f))
		if vf, ok := c.(*ValueFilter); ok {
			c = vf.Filter
		}
		assert.Equal(t, want, c.(*Compare).fold, f)
	}

	for f, exact := range map[string]bool{
		`id pr`: true, `externalId pr`: true, `subject pr`: true, `schemas pr`: true,
		`groups.value pr`: true, `meta.version pr`: true, `userName pr`: false,
		`groups.display pr`: false, `claims.x pr`: false, `emails.value pr`: false,
	} {
		assert.Equal(t, exact, firstLeaf(mustBind(t, f)).(*Present).Attr.CaseExact, f)
	}
}

func TestResolve(t *testing.T) {
	s := UserSchema()
	cases := []struct {
		path                         string
		name                         string
		typ                          Type
		multi, exact, required, free bool
	}{
		{"userName", "userName", TypeString, false, false, true, false},
		{"USERNAME", "userName", TypeString, false, false, true, false},
		{"id", "id", TypeString, false, true, true, false},
		{"emails", "emails", TypeComplex, true, false, false, false},
		{"emails.value", "emails.value", TypeString, true, false, false, false},
		{"EMAILS.Value", "emails.value", TypeString, true, false, false, false},
		{"groups.value", "groups.value", TypeString, true, true, false, false},
		{"schemas", "schemas", TypeString, true, true, true, false},
		{"meta.created", "meta.created", TypeDateTime, false, false, true, false},
		{"meta.version", "meta.version", TypeNumber, false, true, true, false},
		{"name.familyName", "name.familyName", TypeString, false, false, false, false},
		{"urn:ietf:params:scim:schemas:core:2.0:User:meta.lastModified", "meta.lastModified", TypeDateTime, false, false, true, false},
		{"department", entURN + ":department", TypeString, false, false, false, false},
		{"manager.value", entURN + ":manager.value", TypeString, false, true, false, false},
		{entURN + ":manager", entURN + ":manager", TypeComplex, false, false, false, false},
		{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EmployeeNumber", entURN + ":employeeNumber", TypeString, false, false, false, false},
		{entURN, entURN, TypeComplex, false, false, false, false},
		{"claims", "claims", TypeComplex, false, false, false, false},
		{"claims.address.city", "claims.address.city", TypeAny, false, false, false, true},
		{"Claims.Address.City", "claims.Address.City", TypeAny, false, false, false, true},
		{"claims.a:b", "claims.a:b", TypeAny, false, false, false, true},
		{"active", "active", TypeBoolean, false, false, true, false},
	}
	for _, tc := range cases {
		a, err := s.Resolve(tc.path)
		require.NoError(t, err, tc.path)
		assert.Equal(t, tc.name, a.Name, tc.path)
		assert.Equal(t, tc.name, a.Local, tc.path)
		assert.Equal(t, tc.typ, a.Type, tc.path)
		assert.Equal(t, tc.multi, a.Multi, tc.path)
		assert.Equal(t, tc.exact, a.CaseExact, tc.path)
		assert.Equal(t, tc.required, a.Required, tc.path)
		assert.Equal(t, tc.free, a.Claims, tc.path)
	}
	for _, p := range []string{
		"", "foo", "name.", ".name", "name..givenName", "userName.x", "urn:x:y", "urn:x:y:userName",
		UserURN, UserURN + ":", entURN + ":", entURN + ":foo", "claims.", "claims..x", "emails.value.x",
	} {
		_, err := s.Resolve(p)
		assert.ErrorIs(t, err, ErrInvalidFilter, "%q", p)
	}
	_, err := (*Schema)(nil).Resolve("userName")
	assert.Error(t, err)
}

// TestAmbiguousExtension checks rule 4's "when unambiguous": a name two
// extensions define must be qualified.
func TestAmbiguousExtension(t *testing.T) {
	const a, b = "urn:example:a", "urn:example:b"
	s := NewSchema("urn:example:core", []AttrDef{{Name: "id", Type: TypeString, CaseExact: true}},
		Extension{URN: a, Attrs: []AttrDef{{Name: "team", Type: TypeString}, {Name: "only", Type: TypeNumber}}},
		Extension{URN: b, Attrs: []AttrDef{{Name: "Team", Type: TypeString}}},
	)
	_, err := s.Resolve("team")
	var ae *AttrError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.Msg, "ambiguous")
	attr, err := s.Resolve(b + ":TEAM")
	require.NoError(t, err)
	assert.Equal(t, b+":Team", attr.Name)
	attr, err = s.Resolve("only")
	require.NoError(t, err)
	assert.Equal(t, a+":only", attr.Name)

	e, err := Parse(`urn:example:a:team eq "x" and only gt 1`)
	require.NoError(t, err)
	bound, err := Bind(e, s)
	require.NoError(t, err)
	assert.Equal(t, `urn:example:a:team eq "x" and urn:example:a:only gt 1`, Canonical(bound))
	r := fxDoc{a: fxDoc{"team": "X", "only": 2}}
	assert.True(t, Eval(bound, r))
}

func TestAttrError(t *testing.T) {
	err := error(&AttrError{Attr: "foo", Msg: msgUnknown})
	assert.Equal(t, `invalid attribute "foo": unknown attribute`, err.Error())
	assert.True(t, errors.Is(err, ErrInvalidFilter))
	assert.False(t, errors.Is(err, ErrQueryTooComplex))
}

// TestKnownAttributes checks that the attributes NewSchema resolves once
// are those resolving each path gives, for every declared name and
// sub-attribute in several spellings, that a path it did not resolve
// (unknown, ambiguous, under claims, too deep) is left to resolve, and
// that trees bound against one schema share them.
func TestKnownAttributes(t *testing.T) {
	const a, b = "urn:example:a", "urn:example:b"
	schemas := map[string]*Schema{
		"user": UserSchema(),
		"ambiguous": NewSchema("urn:example:core", []AttrDef{{Name: "id", Type: TypeString, CaseExact: true}},
			Extension{URN: a, Attrs: []AttrDef{{Name: "team", Type: TypeString}, {Name: "only", Type: TypeNumber}}},
			Extension{URN: b, Attrs: []AttrDef{{Name: "Team", Type: TypeString}}}),
		"shadowed": NewSchema("urn:example:core", []AttrDef{{Name: "site", Type: TypeString}},
			Extension{URN: a, Attrs: []AttrDef{{Name: "Site", Type: TypeComplex, Sub: []AttrDef{{Name: "code", Type: TypeString}}}}}),
	}
	spellings := func(n string) []string { return []string{n, strings.ToLower(n), strings.ToUpper(n)} }
	for name, s := range schemas {
		t.Run(name, func(t *testing.T) {
			paths := [][]string{{"nope"}, {"emails", "nope"}, {"claims", "x"}, {"claims", "x", "y"}, {"userName", "x"}, {"name", "givenName", "x"}, {""}, {}}
			defs := slices.Clone(s.Attrs())
			for _, e := range s.Extensions() {
				defs = append(defs, e.Attrs...)
			}
			for _, d := range defs {
				for _, n := range spellings(d.Name) {
					paths = append(paths, []string{n})
					for _, sub := range d.Sub {
						for _, sn := range spellings(sub.Name) {
							paths = append(paths, []string{n, sn})
						}
					}
				}
			}
			for _, names := range paths {
				written := strings.Join(names, ".")
				want, err := s.resolve("", names, written)
				got := s.lookupKnown(names)
				if err != nil || len(names) > 2 || want.Claims && len(names) > 1 {
					assert.Nil(t, got, "%q", written)
					continue
				}
				if assert.NotNil(t, got, "%q", written) {
					assert.Equal(t, want, got, "%q", written)
				}
			}
		})
	}
	// Every spelling of a name is the same attribute.
	for name, paths := range map[string][2][]string{
		"user":     {{"userName"}, {"USERNAME"}},
		"shadowed": {{"site"}, {"Site"}},
	} {
		a, b := schemas[name].lookupKnown(paths[0]), schemas[name].lookupKnown(paths[1])
		require.NotNil(t, a, name)
		assert.Same(t, a, b, name)
	}
	s := schemas["user"]
	e, err := Parse(`emails.value eq "a@x.io"`)
	require.NoError(t, err)
	one, err := Bind(e, s)
	require.NoError(t, err)
	two, err := Bind(e, s)
	require.NoError(t, err)
	assert.Same(t, one.(*Compare).Attr, two.(*Compare).Attr)
	assert.NotSame(t, one, two)
}

func BenchmarkBind(b *testing.B) {
	e, err := Parse(`userName eq "alice" and (emails[type eq "work" and value co "@example.com"] or name.familyName sw "O'") and meta.created gt "2024-01-01T00:00:00Z" and claims.level ge 3 and not (active eq false)`)
	require.NoError(b, err)
	s := UserSchema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Bind(e, s); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBindValueFilterNames checks the attributes inside value filters:
// Name is the full canonical name, Local the name relative to the element.
func TestBindValueFilterNames(t *testing.T) {
	for f, want := range map[string][2]string{
		`emails[TYPE eq "work"]`:                  {"emails.type", "type"},
		`name[givenName pr]`:                      {"name.givenName", "givenName"},
		`manager[value eq "x"]`:                   {entURN + ":manager.value", "value"},
		entURN + `[department eq "x"]`:            {entURN + ":department", "department"},
		entURN + `[manager.value eq "x"]`:         {entURN + ":manager.value", "manager.value"},
		`claims.addresses[city eq "x"]`:           {"claims.addresses.city", "city"},
		`claims[Level gt 1]`:                      {"claims.Level", "Level"},
		`claims.a[b.c eq 1]`:                      {"claims.a.b.c", "b.c"},
		`meta[created gt "2024-01-01T00:00:00Z"]`: {"meta.created", "created"},
	} {
		vf := mustBind(t, f).(*ValueFilter)
		a := leafAttr(firstLeaf(vf.Filter))
		assert.Equal(t, want[0], a.Name, f)
		assert.Equal(t, want[1], a.Local, f)
		// Values reads the attribute from the resource root.
		r := fxDoc{"emails": []any{obj{"type": "w"}}, "claims": obj{"a": []any{obj{"b": obj{"c": 1}}}}}
		if f == `claims.a[b.c eq 1]` {
			assert.Len(t, a.Values(r), 1)
		}
	}
}
