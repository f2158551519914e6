package query_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

// sexpr prints the structure of e fully parenthesized, so that a test can
// tell a(nd) b from (a and b) where canonical text would not show it.
func sexpr(e query.Expr) string {
	if e == nil || reflect.ValueOf(e).IsNil() {
		return "nil"
	}
	switch x := e.(type) {
	case *query.Compare:
		return "(" + x.Op.String() + " " + x.Path.String() + " " + x.Value.String() + ")"
	case *query.Present:
		return "(pr " + x.Path.String() + ")"
	case *query.And:
		return "(and " + sexpr(x.Left) + " " + sexpr(x.Right) + ")"
	case *query.Or:
		return "(or " + sexpr(x.Left) + " " + sexpr(x.Right) + ")"
	case *query.Not:
		return "(not " + sexpr(x.X) + ")"
	case *query.ValueFilter:
		return "(vf " + x.Path.String() + " " + sexpr(x.Filter) + ")"
	}
	return "?"
}

type parseCase struct {
	in   string
	want string // sexpr of the result
}

// parseCases are filters that must parse, with the structure they parse to.
var parseCases = []parseCase{
	// Every filter example of RFC 7644 §3.4.2.2.
	{`title pr`, `(pr title)`},
	{`title pr and userType eq "Employee"`, `(and (pr title) (eq userType "Employee"))`},
	{`userName eq "bjensen"`, `(eq userName "bjensen")`},
	{`name.familyName co "O'Malley"`, `(co name.familyName "O'Malley")`},
	{`userName sw "J"`, `(sw userName "J")`},
	{`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `(sw urn:ietf:params:scim:schemas:core:2.0:User:userName "J")`},
	{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `(gt meta.lastModified "2011-05-13T04:42:34Z")`},
	{`meta.lastModified ge "2011-05-13T04:42:34Z"`, `(ge meta.lastModified "2011-05-13T04:42:34Z")`},
	{`meta.lastModified lt "2011-05-13T04:42:34Z"`, `(lt meta.lastModified "2011-05-13T04:42:34Z")`},
	{`meta.lastModified le "2011-05-13T04:42:34Z"`, `(le meta.lastModified "2011-05-13T04:42:34Z")`},
	{`title pr or userType eq "Intern"`, `(or (pr title) (eq userType "Intern"))`},
	{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, `(eq schemas "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")`},
	{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`(and (eq userType "Employee") (or (co emails "example.com") (co emails.value "example.org")))`},
	{`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`(and (ne userType "Employee") (not (or (co emails "example.com") (co emails.value "example.org"))))`},
	{`userType eq "Employee" and (emails.type eq "work")`, `(and (eq userType "Employee") (eq emails.type "work"))`},
	{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`(and (eq userType "Employee") (vf emails (and (eq type "work") (co value "@example.com"))))`},
	{`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`(or (vf emails (and (eq type "work") (co value "@example.com"))) (vf ims (and (eq type "xmpp") (co value "@foo.com"))))`},
	// RFC 7644's case-insensitivity example.
	{`userName Eq "john"`, `(eq userName "john")`},
	{`Username eq "john"`, `(eq Username "john")`},
	// DESIGN §3 rule 1's example.
	{`emails[type eq "work" and (value ew ".org" or not (primary eq true))]`,
		`(vf emails (and (eq type "work") (or (ew value ".org") (not (eq primary true)))))`},

	// Every operator, in several cases.
	{`a eq 1`, `(eq a 1)`},
	{`a ne 1`, `(ne a 1)`},
	{`a co "x"`, `(co a "x")`},
	{`a sw "x"`, `(sw a "x")`},
	{`a ew "x"`, `(ew a "x")`},
	{`a gt 1`, `(gt a 1)`},
	{`a ge 1`, `(ge a 1)`},
	{`a lt 1`, `(lt a 1)`},
	{`a le 1`, `(le a 1)`},
	{`a EQ 1`, `(eq a 1)`},
	{`a eQ 1`, `(eq a 1)`},
	{`a NE 1`, `(ne a 1)`},
	{`a Co "x"`, `(co a "x")`},
	{`a SW "x"`, `(sw a "x")`},
	{`a eW "x"`, `(ew a "x")`},
	{`a GT 1`, `(gt a 1)`},
	{`a Ge 1`, `(ge a 1)`},
	{`a LT 1`, `(lt a 1)`},
	{`a lE 1`, `(le a 1)`},
	{`a PR`, `(pr a)`},
	{`a Pr`, `(pr a)`},

	// Precedence and associativity.
	{`a pr or b pr and c pr`, `(or (pr a) (and (pr b) (pr c)))`},
	{`a pr and b pr or c pr`, `(or (and (pr a) (pr b)) (pr c))`},
	{`a pr and b pr and c pr`, `(and (and (pr a) (pr b)) (pr c))`},
	{`a pr or b pr or c pr`, `(or (or (pr a) (pr b)) (pr c))`},
	{`a pr and (b pr or c pr)`, `(and (pr a) (or (pr b) (pr c)))`},
	{`(a pr or b pr) and c pr`, `(and (or (pr a) (pr b)) (pr c))`},
	{`a pr and (b pr and c pr)`, `(and (pr a) (and (pr b) (pr c)))`},
	{`a pr or (b pr or c pr)`, `(or (pr a) (or (pr b) (pr c)))`},
	{`a pr and b pr or c pr and d pr`, `(or (and (pr a) (pr b)) (and (pr c) (pr d)))`},
	{`a pr or b pr and c pr or d pr`, `(or (or (pr a) (and (pr b) (pr c))) (pr d))`},
	{`not (a pr) and b pr`, `(and (not (pr a)) (pr b))`},
	{`not (a pr) or not (b pr) and c pr`, `(or (not (pr a)) (and (not (pr b)) (pr c)))`},
	{`not (a pr or b pr)`, `(not (or (pr a) (pr b)))`},
	{`not (not (a pr))`, `(not (not (pr a)))`},
	{`((a pr))`, `(pr a)`},
	{`(((a pr)) and ((b pr)))`, `(and (pr a) (pr b))`},
	{`emails[type eq "work"] and b pr`, `(and (vf emails (eq type "work")) (pr b))`},
	{`b pr or emails[type eq "work"]`, `(or (pr b) (vf emails (eq type "work")))`},
	{`A PR AND B PR OR C PR`, `(or (and (pr A) (pr B)) (pr C))`},
	{`a pr And b pr`, `(and (pr a) (pr b))`},
	{`a pr oR b pr`, `(or (pr a) (pr b))`},
	{`NOT (a pr)`, `(not (pr a))`},
	{`Not(a pr)`, `(not (pr a))`},
	{`emails[not (primary eq true)]`, `(vf emails (not (eq primary true)))`},
	{`emails[(type eq "a" or type eq "b") and primary eq true]`, `(vf emails (and (or (eq type "a") (eq type "b")) (eq primary true)))`},
	{`emails[type eq "a" or type eq "b" and primary eq true]`, `(vf emails (or (eq type "a") (and (eq type "b") (eq primary true))))`},
	{`name[givenName eq "Ann"]`, `(vf name (eq givenName "Ann"))`},

	// The Entra ID form.
	{`emails[type eq "work"].value eq "x"`, `(vf emails (and (eq type "work") (eq value "x")))`},
	{`emails[type eq "work"].value pr`, `(vf emails (and (eq type "work") (pr value)))`},
	{`emails[type eq "work"].value Co "@x.io" and active eq true`, `(and (vf emails (and (eq type "work") (co value "@x.io"))) (eq active true))`},
	{`emails[type eq "a" or type eq "b"].value pr`, `(vf emails (and (or (eq type "a") (eq type "b")) (pr value)))`},
	{`emails[ type eq "work" ].value eq "x"`, `(vf emails (and (eq type "work") (eq value "x")))`},
	{`not (emails[type eq "work"].value eq "x")`, `(not (vf emails (and (eq type "work") (eq value "x"))))`},

	// Whitespace.
	{`  title pr`, `(pr title)`},
	{`title pr  `, `(pr title)`},
	{`title  pr`, `(pr title)`},
	{`title   eq   "x"`, `(eq title "x")`},
	{`a pr   and   b pr`, `(and (pr a) (pr b))`},
	{`a pr  or  b pr`, `(or (pr a) (pr b))`},
	{`( a pr )`, `(pr a)`},
	{`(   a pr   )`, `(pr a)`},
	{`emails[ type eq "x" ]`, `(vf emails (eq type "x"))`},
	{`emails[   type eq "x"   ]`, `(vf emails (eq type "x"))`},
	{`not   (a pr)`, `(not (pr a))`},
	{`not(a pr)`, `(not (pr a))`},
	{`not ( a pr )`, `(not (pr a))`},
	{`  not (  ( a pr )  )  `, `(not (pr a))`},
	{`(a pr) and (b pr)`, `(and (pr a) (pr b))`},
	{`a eq "with  two spaces "`, `(eq a "with  two spaces ")`},

	// Literals.
	{`a eq true`, `(eq a true)`},
	{`a eq false`, `(eq a false)`},
	{`a eq null`, `(eq a null)`},
	{`a ne null`, `(ne a null)`},
	{`a eq 0`, `(eq a 0)`},
	{`a eq -0`, `(eq a 0)`},
	{`a eq 3`, `(eq a 3)`},
	{`a eq -3`, `(eq a -3)`},
	{`a eq 3.5`, `(eq a 3.5)`},
	{`a eq 3.0`, `(eq a 3)`},
	{`a eq 30e-1`, `(eq a 3)`},
	{`a eq 1e5`, `(eq a 100000)`},
	{`a eq 1E5`, `(eq a 100000)`},
	{`a eq 1e+5`, `(eq a 100000)`},
	{`a eq 1e-5`, `(eq a 0.00001)`},
	{`a eq -1.5e-3`, `(eq a -0.0015)`},
	{`a eq 0.5`, `(eq a 0.5)`},
	{`a eq 9007199254740993`, `(eq a 9007199254740993)`},
	{`a eq 12345678901234567890123`, `(eq a 12345678901234567890123)`},
	{`a eq 1e999999999`, `(eq a 1e999999999)`},
	{`a eq 1e-999999999`, `(eq a 1e-999999999)`},
	{`a eq ""`, `(eq a "")`},
	{`a eq "a\"b"`, `(eq a "a\"b")`},
	{`a eq "\\"`, `(eq a "\\")`},
	{`a eq "\/"`, `(eq a "/")`},
	{`a eq "\b\f\n\r\t"`, `(eq a "\b\f\n\r\t")`},
	{`a eq "\u00E9"`, `(eq a "é")`},
	{`a eq "\u00e9"`, `(eq a "é")`},
	{`a eq "\uD83D\uDE00"`, `(eq a "😀")`},
	{`a eq "\ud83d\ude00"`, `(eq a "😀")`},
	{`a eq "x\ud83d\ude00y"`, `(eq a "x😀y")`},
	{`a eq "\u0000"`, `(eq a "\u0000")`},
	{`a eq "\u001F"`, `(eq a "\u001f")`},
	{`a eq "é日本😀"`, `(eq a "é日本😀")`},
	{`a eq "it's"`, `(eq a "it's")`},
	{`a eq "(not) [and] or"`, `(eq a "(not) [and] or")`},
	{"a eq \"\x7f\"", "(eq a \"\x7f\")"},

	// Paths.
	{`name.familyName pr`, `(pr name.familyName)`},
	{`claims.address.city eq "Paris"`, `(eq claims.address.city "Paris")`},
	{`claims.a.b.c.d.e.f.g.h.i.j pr`, `(pr claims.a.b.c.d.e.f.g.h.i.j)`},
	{`a-b_c pr`, `(pr a-b_c)`},
	{`a1 pr`, `(pr a1)`},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`,
		`(eq urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value "x")`},
	{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber pr`,
		`(pr urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber)`},
	{`URN:IETF:params:scim:schemas:core:2.0:User:userName pr`, `(pr URN:IETF:params:scim:schemas:core:2.0:User:userName)`},
	{`urn:a:b:c pr`, `(pr urn:a:b:c)`},
	{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`,
		`(vf urn:ietf:params:scim:schemas:core:2.0:User:emails (eq type "work"))`},
	{`not1 pr`, `(pr not1)`},
	{`not.x pr`, `(pr not.x)`},
	{`nota pr`, `(pr nota)`},
	{`not-a pr`, `(pr not-a)`},
	{`and pr`, `(pr and)`},
	{`or pr`, `(pr or)`},
	{`pr pr`, `(pr pr)`},
	{`eq eq 1`, `(eq eq 1)`},
	{`a pr and and pr`, `(and (pr a) (pr and))`},
	{`urn pr`, `(pr urn)`},
}

type parseErrCase struct {
	in  string
	off int    // SyntaxError.Offset
	msg string // a substring of SyntaxError.Msg
}

// parseErrCases are filters that must fail with a *SyntaxError.
var parseErrCases = []parseErrCase{
	// Whitespace other than spaces, and missing or misplaced spaces.
	{"title\tpr", 5, "tab character"},
	{"\ttitle pr", 0, "tab character"},
	{"title pr\t", 8, "tab character"},
	{"title pr\n", 8, "line break"},
	{"title pr\r\n", 8, "line break"},
	{"\ntitle pr", 0, "line break"},
	{"title eq \"x\"\tand b pr", 12, "tab character"},
	{"a pr and\tb pr", 8, "tab character"},
	{"a pr\tand b pr", 4, "tab character"},
	{"a eq \"x\" \n", 9, "line break"},
	{"(\ta pr)", 1, "tab character"},
	{"emails[\ttype eq \"x\"]", 7, "tab character"},
	{"title pr\v", 8, "unexpected"},
	{"title pr\f", 8, "unexpected"},
	{"title pr\u00a0", 8, "unexpected"},
	{"title\u3000pr", 5, "unexpected"},
	{`a pr and(b pr)`, 8, `expected a space after "and"`},
	{`a pr or(b pr)`, 7, `expected a space after "or"`},
	{`(a pr)and b pr`, 6, "expected a space"},
	{`(a pr)or (b pr)`, 6, "expected a space"},
	{`title eq"x"`, 8, "expected a space and a value"},
	{`title eq "x"and b pr`, 12, "expected a space"},
	{`title pr"x"`, 8, "expected a space"},
	{`titlepr`, 7, "expected a space and an operator"},
	{`emails [type eq "x"]`, 6, `no space is allowed between an attribute path and "["`},
	{`emails  [type eq "x"]`, 6, `no space is allowed between an attribute path and "["`},
	{`emails[type eq "x"] .value eq "y"`, 20, `expected "and", "or" or the end`},
	{`emails[type eq "x"]. value eq "y"`, 20, "expected an attribute name"},
	{`a pr and`, 8, `expected a filter after "and"`},
	{`a pr and `, 9, "expected a filter"},
	{`a pr or`, 7, `expected a filter after "or"`},

	// Literals.
	{`a eq 03`, 5, "leading zeros"},
	{`a eq -03`, 6, "leading zeros"},
	{`a eq 00`, 5, "leading zeros"},
	{`a eq +3`, 5, "invalid number"},
	{`a eq .5`, 5, "invalid number"},
	{`a eq 1.`, 7, "after the decimal point"},
	{`a eq 1.e5`, 7, "after the decimal point"},
	{`a eq 1e`, 7, "in the exponent"},
	{`a eq 1e+`, 8, "in the exponent"},
	{`a eq -`, 6, "expected a digit"},
	{`a eq --1`, 6, "expected a digit"},
	{`a eq -a`, 6, "expected a digit"},
	{`a eq 0x1F`, 6, "expected a space"},
	{`a eq 3abc`, 6, "expected a space"},
	{`a eq 1.5.3`, 8, "expected a space"},
	{`a eq 1e1000000000`, 7, "exponent out of range"},
	{`a eq NaN`, 5, "expected a value"},
	{`a eq Infinity`, 5, "expected a value"},
	{`a eq True`, 5, "lower case"},
	{`a eq FALSE`, 5, "lower case"},
	{`a eq Null`, 5, "lower case"},
	{`a eq NULL`, 5, "lower case"},
	{`a eq nul`, 5, "expected a value"},
	{`a eq truex`, 5, "expected a value"},
	{`a eq true1`, 9, "expected a space"},
	{`a eq b`, 5, "expected a value"},
	{`a eq 'x'`, 5, "expected a value"},
	{`a eq`, 4, "expected a space and a value"},
	{`a eq `, 5, "expected a value"},
	{`a eq "x" "y"`, 9, `expected "and", "or" or the end`},
	{`a eq "abc`, 5, "unterminated string"},
	{`a eq "abc\"`, 5, "unterminated string"},
	{`a eq "abc\`, 5, "unterminated string"},
	{`a eq "\x"`, 6, "invalid escape"},
	{`a eq "\'"`, 6, "invalid escape"},
	{`a eq "\u12"`, 6, "four hexadecimal digits"},
	{`a eq "\u12G4"`, 6, "four hexadecimal digits"},
	{`a eq "\uD800"`, 6, "high surrogate"},
	{`a eq "\ud800x"`, 6, "high surrogate"},
	{`a eq "\uD800\u0041"`, 6, "high surrogate"},
	{`a eq "\uD800\uD800"`, 6, "high surrogate"},
	{`a eq "\uDC00"`, 6, "low surrogate"},
	{`a eq "\ude00\ud83d"`, 6, "low surrogate"},
	{"a eq \"a\tb\"", 7, "control character"},
	{"a eq \"a\nb\"", 7, "control character"},
	{"a eq \"\x00\"", 6, "control character"},
	{"a eq \"\\n\x01\"", 8, "control character"},
	{"a eq \"\xff\"", 6, "invalid UTF-8"},
	{"a eq \"\\n\xff\"", 8, "invalid UTF-8"},
	{"a eq \"\xc3\"", 6, "invalid UTF-8"},
	{"a pr \xff", 5, "invalid UTF-8"},
	{"\xffa pr", 0, "invalid UTF-8"},

	// Attribute paths.
	{`claims.$where eq 1`, 7, "expected an attribute name"},
	{`$where eq 1`, 0, "expected an attribute path"},
	{`1abc pr`, 0, "expected an attribute path"},
	{`-a pr`, 0, "expected an attribute path"},
	{`_a pr`, 0, "expected an attribute path"},
	{`"a" eq 1`, 0, "expected an attribute path"},
	{`a..b pr`, 2, "expected an attribute name"},
	{`a. pr`, 2, "expected an attribute name"},
	{`.a pr`, 0, "expected an attribute path"},
	{`a.1 pr`, 2, "expected an attribute name"},
	{`a.b. pr`, 4, "expected an attribute name"},
	{`urn:x pr`, 0, "invalid schema URN"},
	{`urn::a pr`, 0, "invalid schema URN"},
	{`urn:a::b pr`, 0, "invalid schema URN"},
	{`urn:a:b:1x pr`, 8, "expected an attribute name"},
	{`urn:a:b:c$ pr`, 9, "expected a space and an operator"},
	{`a:b pr`, 1, "expected a space and an operator"},
	{`urnx:y pr`, 4, "expected a space and an operator"},
	{`a b pr`, 2, "unknown operator"},
	{`a xx 1`, 2, "unknown operator"},
	{`a equals 1`, 2, "unknown operator"},
	{`a prx`, 2, "unknown operator"},
	{`a pr pr`, 5, `expected "and", "or" or the end`},
	{`a eq 1 2`, 7, `expected "and", "or" or the end`},
	{`a`, 1, "expected a space and an operator"},
	{`a `, 2, "expected an operator"},
	{`a (b pr)`, 2, "expected an operator"},
	{`a eq 1 and b`, 12, "expected a space and an operator"},

	// Value filters.
	{`emails[a[b pr]]`, 8, "cannot be nested"},
	{`emails[(a[b pr])]`, 9, "cannot be nested"},
	{`emails[not (a[b pr])]`, 13, "cannot be nested"},
	{`emails[b pr and a[b pr]]`, 17, "cannot be nested"},
	{`emails[a pr][b pr]`, 12, "expected a space"},
	{`emails[a pr].b.c pr`, 14, "expected a space and an operator"},
	{`emails[a pr].not pr`, 13, `"not" cannot be the sub-attribute`},
	{`emails[a pr].value`, 18, "expected a space and an operator"},
	{`emails[a pr].`, 13, "expected an attribute name"},
	{`emails[a pr].value [b pr]`, 18, `no space is allowed`},
	{`emails[]`, 7, "expected an attribute path"},
	{`emails[ ]`, 8, "expected an attribute path"},
	{`emails[a pr`, 11, `"]" to close the "[" at offset 6`},
	{`emails[a pr)`, 11, `"]" to close the "[" at offset 6`},
	{`emails[(a pr])`, 12, `")" to close the "(" at offset 7`},
	{`emails a pr]`, 7, "unknown operator"},
	{`a pr]`, 4, `unbalanced "]"`},

	// Grouping and not.
	{``, 0, "expected a filter"},
	{`   `, 3, "expected a filter"},
	{`()`, 1, "expected an attribute path"},
	{`( )`, 2, "expected an attribute path"},
	{`(a pr`, 5, `")" to close the "(" at offset 0`},
	{`((a pr)`, 7, `")" to close the "(" at offset 0`},
	{`a pr)`, 4, `unbalanced ")"`},
	{`(a pr))`, 6, `unbalanced ")"`},
	{`not a pr`, 4, `"not" must be followed by "("`},
	{`NOT title pr`, 4, `"not" must be followed by "("`},
	{`not`, 3, `"not" must be followed by "("`},
	{`not ()`, 5, "expected an attribute path"},
	{`not a`, 4, `"not" must be followed by "("`},
	{`not pr`, 4, `"not" must be followed by "("`},
	{`a pr and not b pr`, 13, `"not" must be followed by "("`},
	{`emails[not type eq "x"]`, 11, `"not" must be followed by "("`},
	{`and a pr`, 4, "unknown operator"},
	{`a pr b pr`, 5, `expected "and", "or" or the end`},
	{`a pr not (b pr)`, 5, `expected "and", "or" or the end`},
	{`(a pr) (b pr)`, 7, `expected "and", "or" or the end`},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := query.Parse(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, sexpr(e))
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrCases {
		t.Run(tc.in, func(t *testing.T) {
			e, err := query.Parse(tc.in)
			require.Error(t, err, "parsed as %s", sexpr(e))
			assert.Nil(t, e)
			var se *query.SyntaxError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.off, se.Offset, "offset; error: %v", err)
			assert.Contains(t, se.Msg, tc.msg)
			assert.ErrorIs(t, err, query.ErrInvalidFilter)
			assert.NotErrorIs(t, err, query.ErrQueryTooComplex)
			assert.Equal(t, "invalid filter at offset "+itoa(se.Offset)+": "+se.Msg, err.Error())
		})
	}
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// TestParseEntraShape checks the node types of the Entra ID form, not just
// their printing.
func TestParseEntraShape(t *testing.T) {
	e, err := query.Parse(`emails[type eq "work"].value eq "x"`)
	require.NoError(t, err)
	vf, ok := e.(*query.ValueFilter)
	require.True(t, ok)
	assert.Equal(t, query.Path{Names: []string{"emails"}}, vf.Path)
	and, ok := vf.Filter.(*query.And)
	require.True(t, ok)
	assert.Equal(t, &query.Compare{Path: query.Path{Names: []string{"type"}}, Op: query.OpEq, Value: query.Value{Kind: query.KindString, Str: "work"}}, and.Left)
	assert.Equal(t, &query.Compare{Path: query.Path{Names: []string{"value"}}, Op: query.OpEq, Value: query.Value{Kind: query.KindString, Str: "x"}}, and.Right)
}

func TestParsePathSplit(t *testing.T) {
	for _, tc := range []struct {
		in  string
		urn string
		nms []string
	}{
		{`userName pr`, "", []string{"userName"}},
		{`name.familyName pr`, "", []string{"name", "familyName"}},
		{`claims.address.city pr`, "", []string{"claims", "address", "city"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName pr`, "urn:ietf:params:scim:schemas:core:2.0:User", []string{"userName"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", []string{"manager", "value"}},
		{`Urn:Foo:Bar:x.y pr`, "Urn:Foo:Bar", []string{"x", "y"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			e, err := query.Parse(tc.in)
			require.NoError(t, err)
			p := e.(*query.Present).Path
			assert.Equal(t, tc.urn, p.URN)
			assert.Equal(t, tc.nms, p.Names)
		})
	}
}

// TestParseNamesNotShared makes sure that paths sharing the parser's slab
// cannot overwrite each other through append.
func TestParseNamesNotShared(t *testing.T) {
	e, err := query.Parse(`a pr and b pr`)
	require.NoError(t, err)
	and := e.(*query.And)
	left := and.Left.(*query.Present)
	left.Path.Names = append(left.Path.Names, "x")
	assert.Equal(t, []string{"b"}, and.Right.(*query.Present).Path.Names)
}

func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// chain returns n presence tests joined by "and".
func chain(n int) string {
	return strings.TrimSuffix(strings.Repeat("a pr and ", n), " and ")
}

func TestParseLimits(t *testing.T) {
	def := query.DefaultLimits()
	require.Equal(t, query.Limits{MaxLength: 4096, MaxDepth: 32, MaxTerms: 100}, def)

	long := func(n int) string { // a valid filter of exactly n bytes
		return `a eq "` + strings.Repeat("x", n-len(`a eq ""`)) + `"`
	}
	entraOr := func(parens int) string {
		return nest("(", `emails[a pr or b pr].c pr`, ")", parens)
	}
	for _, tc := range []struct {
		name  string
		in    string
		lim   query.Limits
		limit string // "" when the filter must parse
		max   int
		got   int
	}{
		{"length at default", long(4096), query.Limits{}, "", 0, 0},
		{"length over default", long(4097), query.Limits{}, "length", 4096, 4097},
		{"length at custom", `title pr`, query.Limits{MaxLength: 8}, "", 0, 0},
		{"length over custom", `title pr`, query.Limits{MaxLength: 7}, "length", 7, 8},
		{"length before syntax", "\t" + long(4096), query.Limits{}, "length", 4096, 4097},
		{"negative means default", long(4096), query.Limits{MaxLength: -1}, "", 0, 0},

		{"parens at default depth", nest("(", "a pr", ")", 32), query.Limits{}, "", 0, 0},
		{"parens over default depth", nest("(", "a pr", ")", 33), query.Limits{}, "depth", 32, 33},
		{"not at default depth", nest("not (", "a pr", ")", 32), query.Limits{}, "", 0, 0},
		{"not over default depth", nest("not (", "a pr", ")", 33), query.Limits{}, "depth", 32, 33},
		{"brackets and parens at depth", `emails[` + nest("(", "a pr", ")", 31) + `]`, query.Limits{}, "", 0, 0},
		{"brackets and parens over depth", `emails[` + nest("(", "a pr", ")", 32) + `]`, query.Limits{}, "depth", 32, 33},
		{"depth at custom", `(a pr) and not (((b pr)))`, query.Limits{MaxDepth: 3}, "", 0, 0},
		{"depth over custom", `(a pr) and not (((b pr)))`, query.Limits{MaxDepth: 2}, "depth", 2, 3},
		{"unclosed parens stop at depth", strings.Repeat("(", 10000), query.Limits{MaxLength: 20000}, "depth", 32, 33},
		{"entra or at depth", entraOr(30), query.Limits{}, "", 0, 0},
		{"entra or over depth", entraOr(31), query.Limits{}, "depth", 32, 33},

		{"terms at default", chain(100), query.Limits{}, "", 0, 0},
		{"terms over default", chain(101), query.Limits{}, "terms", 100, 101},
		{"terms at custom", chain(3), query.Limits{MaxTerms: 3}, "", 0, 0},
		{"terms over custom", chain(4), query.Limits{MaxTerms: 3}, "terms", 3, 4},
		{"entra form counts two terms", `emails[type eq "work"].value eq "x"`, query.Limits{MaxTerms: 2}, "", 0, 0},
		{"entra form over terms", `emails[type eq "work"].value eq "x"`, query.Limits{MaxTerms: 1}, "terms", 1, 2},
		{"other fields default", chain(100), query.Limits{MaxDepth: 1}, "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := query.ParseWithLimits(tc.in, tc.lim)
			if tc.limit == "" {
				require.NoError(t, err)
				require.NotNil(t, e)
				return
			}
			require.Error(t, err)
			var le *query.LimitError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.limit, le.Limit)
			assert.Equal(t, tc.max, le.Max)
			assert.Equal(t, tc.got, le.Got)
			assert.True(t, 0 <= le.Offset && le.Offset <= len(tc.in), "offset %d", le.Offset)
			assert.ErrorIs(t, err, query.ErrQueryTooComplex)
			assert.NotErrorIs(t, err, query.ErrInvalidFilter)
			assert.Contains(t, err.Error(), tc.limit)
		})
	}

	// Parse itself applies DefaultLimits.
	_, err := query.Parse(chain(101))
	assert.ErrorIs(t, err, query.ErrQueryTooComplex)
}

// TestParseNoDeepRecursion feeds inputs that a naive parser would recurse
// on without bound.
func TestParseNoDeepRecursion(t *testing.T) {
	big := query.Limits{MaxLength: 1 << 22}
	for _, in := range []string{
		strings.Repeat("(", 1<<20),
		strings.Repeat("not (", 1<<18),
		nest("(", "a pr", ")", 1<<19),
		strings.Repeat("a pr and ", 1<<18) + "a pr",
	} {
		_, err := query.ParseWithLimits(in, big)
		assert.ErrorIs(t, err, query.ErrQueryTooComplex)
	}
}

func TestParseAllocs(t *testing.T) {
	// A typical filter costs its nodes and one slab of names; string
	// literals without escapes and names are not copied.
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = query.Parse(`userType eq "Employee" and emails co "example.com"`)
	})
	assert.LessOrEqual(t, allocs, 4.0)
}

// benchFilters are realistic filters of the kinds clients send.
var benchFilters = []string{
	`userName eq "bjensen"`,
	`title pr`,
	`userName sw "J"`,
	`emails co "@example.com"`,
	`id eq "0190a7e2-8d3c-7b6e-9c51-2f6a1b7c9d10"`,
	`externalId eq "701984"`,
	`active eq true`,
	`meta.lastModified gt "2011-05-13T04:42:34Z"`,
	`name.familyName co "O'Malley"`,
	`title pr and userType eq "Employee"`,
	`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
	`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
	`emails[type eq "work" and value co "@example.com"]`,
	`emails[type eq "work"].value eq "bjensen@example.com"`,
	`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
	`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
	`claims.department eq "ops" and claims.level ge 3`,
	`status eq "active" and meta.created ge "2024-01-01T00:00:00Z" and meta.created lt "2025-01-01T00:00:00Z"`,
	`groups[value eq "eng"] or roles[value eq "admin" and primary eq true]`,
	`displayName co "Andr\u00e9" or nickName sw "Dre"`,
}

func BenchmarkParse(b *testing.B) {
	n := 0
	for _, f := range benchFilters {
		n += len(f)
	}
	b.SetBytes(int64(n / len(benchFilters)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := query.Parse(benchFilters[i%len(benchFilters)]); err != nil {
			b.Fatal(err)
		}
	}
}
