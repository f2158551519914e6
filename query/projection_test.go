package query

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProjection(t *testing.T) {
	s := UserSchema()
	names := []string{
		"id", "schemas", "userName", "name", "name.givenName", "name.familyName", "emails", "emails.value",
		"emails.type", "meta", "meta.created", "claims", "claims.address", "claims.address.city", "claims.level",
		entURN, entURN + ":department", entURN + ":manager", entURN + ":manager.value",
	}
	cases := []struct {
		attributes, excluded string
		included             []string // of names; the rest must be excluded
	}{
		{"", "", names},
		{"userName", "", []string{"id", "schemas", "userName"}},
		{"USERNAME, emails", "", []string{"id", "schemas", "userName", "emails", "emails.value", "emails.type"}},
		{"name.givenName", "", []string{"id", "schemas", "name", "name.givenName"}},
		{"emails.value,meta.created", "", []string{"id", "schemas", "emails", "emails.value", "meta", "meta.created"}},
		{"claims.address", "", []string{"id", "schemas", "claims", "claims.address", "claims.address.city"}},
		{"department", "", []string{"id", "schemas", entURN, entURN + ":department"}},
		{"manager.value", "", []string{"id", "schemas", entURN, entURN + ":manager", entURN + ":manager.value"}},
		{entURN, "", []string{"id", "schemas", entURN, entURN + ":department", entURN + ":manager", entURN + ":manager.value"}},
		{"id", "", []string{"id", "schemas"}},
		{"", "emails", without(names, "emails", "emails.value", "emails.type")},
		{"", "name.givenName, claims", without(names, "name.givenName", "claims", "claims.address", "claims.address.city", "claims.level")},
		{"", "id,schemas", names},
		{"", entURN, without(names, entURN, entURN+":department", entURN+":manager", entURN+":manager.value")},
		{"", "urn:ietf:params:scim:schemas:core:2.0:User:meta", without(names, "meta", "meta.created")},
	}
	for _, tc := range cases {
		p, err := ParseProjection(tc.attributes, tc.excluded, s)
		require.NoError(t, err, "%q %q", tc.attributes, tc.excluded)
		assert.Equal(t, tc.attributes == "" && tc.excluded == "", p.IsZero())
		for _, n := range names {
			assert.Equal(t, slices.Contains(tc.included, n), p.Includes(n), "%q %q: %s", tc.attributes, tc.excluded, n)
		}
	}
	assert.True(t, Projection{}.IsZero())
	assert.True(t, Projection{}.Includes("anything"))

	for _, tc := range [][2]string{
		{"userName", "emails"},
		{"foo", ""},
		{"", "name.foo"},
		{"userName,", ""},
		{"", ","},
		{"userName.x", ""},
	} {
		_, err := ParseProjection(tc[0], tc[1], s)
		assert.ErrorIs(t, err, ErrInvalidFilter, "%q %q", tc[0], tc[1])
	}
}

func without(names []string, drop ...string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}
