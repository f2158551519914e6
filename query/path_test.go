package query_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in     string
		urn    string
		names  []string
		filter string // sexpr of Filter, "nil" when absent
		sub    string
		canon  string
	}{
		{`emails`, "", []string{"emails"}, "nil", "", `emails`},
		{`name.familyName`, "", []string{"name", "familyName"}, "nil", "", `name.familyName`},
		{`claims.address.city`, "", []string{"claims", "address", "city"}, "nil", "", `claims.address.city`},
		{`  userName  `, "", []string{"userName"}, "nil", "", `userName`},
		{`emails[type eq "work"]`, "", []string{"emails"}, `(eq type "work")`, "", `emails[type eq "work"]`},
		{`emails[type eq "work"].value`, "", []string{"emails"}, `(eq type "work")`, "value", `emails[type eq "work"].value`},
		{`emails[ type EQ "work"  and primary eq true ].display`, "", []string{"emails"}, `(and (eq type "work") (eq primary true))`, "display", `emails[type eq "work" and primary eq true].display`},
		{`members[value eq "2819c223-7f76-453a-919d-413861904646"]`, "", []string{"members"}, `(eq value "2819c223-7f76-453a-919d-413861904646")`, "", `members[value eq "2819c223-7f76-453a-919d-413861904646"]`},
		{`addresses[type eq "work" or not (primary eq false)].streetAddress`, "", []string{"addresses"}, `(or (eq type "work") (not (eq primary false)))`, "streetAddress", `addresses[type eq "work" or not (primary eq false)].streetAddress`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, query.EnterpriseURN, []string{"manager", "value"}, "nil", "", query.EnterpriseURN + `:manager.value`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`, query.EnterpriseURN, []string{"employeeNumber"}, "nil", "", query.EnterpriseURN + `:employeeNumber`},
		{`urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"].value`, query.UserURN, []string{"emails"}, `(eq type "work")`, "value", query.UserURN + `:emails[type eq "work"].value`},
		{`emails[type eq "work"].not`, "", []string{"emails"}, `(eq type "work")`, "not", `emails[type eq "work"].not`},
		{`not`, "", []string{"not"}, "nil", "", `not`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := query.ParsePath(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.urn, p.Path.URN)
			assert.Equal(t, tc.names, p.Path.Names)
			assert.Equal(t, tc.filter, sexpr(p.Filter))
			assert.Equal(t, tc.sub, p.Sub)
			assert.Equal(t, tc.canon, p.String())

			again, err := query.ParsePath(p.String())
			require.NoError(t, err)
			assert.Equal(t, p.Path, again.Path)
			assert.True(t, query.Equal(p.Filter, again.Filter))
			assert.Equal(t, p.Sub, again.Sub)
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, tc := range []struct {
		in  string
		off int
		msg string
	}{
		{``, 0, "empty path"},
		{`   `, 3, "empty path"},
		{`$ref`, 0, "expected an attribute name"},
		{`emails.`, 7, "expected an attribute name"},
		{`emails[`, 7, "expected a filter"},
		{`emails[type eq "work"`, 21, `"]" to close`},
		{`emails[type eq "work"].`, 23, "expected an attribute name"},
		{`emails[type eq "work"].value.x`, 28, "expected the end of the path"},
		{`emails[type eq "work"]x`, 22, "expected the end of the path"},
		{`emails[type eq "work"][primary eq true]`, 22, "expected the end of the path"},
		{`emails [type eq "work"]`, 7, `expected "[" or the end of the path`},
		{`emails eq "x"`, 7, `expected "[" or the end of the path`},
		{`emails[value[type eq "work"]]`, 12, "cannot be nested"},
		{"emails\t", 6, "tab character"},
		{`emails[type eq "work"]. value`, 23, "expected an attribute name"},
		{`urn:x:`, 6, "expected an attribute name"},
		{`urn:x`, 0, "invalid schema URN"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := query.ParsePath(tc.in)
			require.Error(t, err)
			var se *query.SyntaxError
			require.ErrorAs(t, err, &se, "%v", err)
			assert.Equal(t, tc.off, se.Offset, "%v", err)
			assert.Contains(t, se.Msg, tc.msg)
			assert.ErrorIs(t, err, query.ErrInvalidFilter)
		})
	}

	_, err := query.ParsePath(`emails[` + nest("(", "a pr", ")", 32) + `]`)
	assert.ErrorIs(t, err, query.ErrQueryTooComplex)
}

func TestPatchPathStringNil(t *testing.T) {
	var p *query.PatchPath
	assert.Equal(t, "", p.String())
}
