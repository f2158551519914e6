package conformance

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// sortUsers orders users as DESIGN §3 says a list is ordered: by the sort
// keys (query.Sort.Compare: missing values last in both directions), ties
// broken by id in the direction of the last key.
func sortUsers(t *testing.T, spec string, users []directory.User) []directory.User {
	t.Helper()
	s, err := query.ParseSort(spec, query.UserSchema())
	require.NoErrorf(t, err, "parse sort %q", spec)
	desc := len(s) > 0 && s[len(s)-1].Desc
	out := slices.Clone(users)
	vals := make(map[string][]query.Value, len(out))
	for i := range out {
		vals[out[i].ID] = s.Values(&out[i])
	}
	slices.SortStableFunc(out, func(a, b directory.User) int {
		if c := s.Compare(vals[a.ID], vals[b.ID]); c != 0 {
			return c
		}
		c := strings.Compare(a.ID, b.ID)
		if desc {
			c = -c
		}
		return c
	})
	return out
}

// sortSpecs are the orders the sort and paging tests walk. The fixtures
// tie on every one of them (equal names, equal meta.created, equal claims
// levels under different spellings) and miss values of most.
var sortSpecs = []string{
	"",
	"userName",
	"-userName",
	"meta.created",
	"-meta.created",
	"name.familyName,-userName",
	"-name.familyName,meta.created",
	"claims.level",
	"-claims.level",
	"title",
	"-title",
	"title,-meta.created",
	"displayName",
	"lastLoginAt",
	"-meta.version,userName",
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
	"+status,-userName",
}

func testSort(t *testing.T, s *suite) {
	e := s.newEnv(t)
	stored := e.load(e.users, queryFixtures(s.seed))
	visible := modeSet(stored, directory.ExcludeDeleted)

	for _, spec := range sortSpecs {
		name := spec
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			want := sortUsers(t, spec, visible)
			got := listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec, Limit: directory.MaxLimit})
			assert.Equal(t, ids(want), ids(got), "order of %q", spec)
			got = listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec, Limit: 5})
			assert.Equal(t, ids(want), ids(got), "order of %q over pages of 5", spec)

			all := sortUsers(t, spec, stored)
			got = listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec, Limit: 6, Deleted: directory.IncludeDeleted})
			assert.Equal(t, ids(all), ids(got), "order of %q with deleted users", spec)
		})
	}

	t.Run("MissingLast", func(t *testing.T) {
		for _, spec := range []string{"title", "-title"} {
			got := listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec, Limit: directory.MaxLimit})
			first := slices.IndexFunc(got, func(u directory.User) bool { return u.Title == "" })
			require.Positive(t, first, "some users have a title, some do not")
			for _, u := range got[first:] {
				assert.Emptyf(t, u.Title, "%s: users without a title come last", spec)
			}
		}
	})

	t.Run("IDTieBreak", func(t *testing.T) {
		// Users created at one instant tie on meta.created; they come in id
		// order, reversed when the sort is descending.
		for _, spec := range []string{"meta.created", "-meta.created"} {
			got := listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec, Filter: `meta.created eq "2024-01-01T12:00:00.000000001Z"`})
			require.GreaterOrEqual(t, len(got), 2, "İlker and ilker share meta.created")
			want := slices.Sorted(slices.Values(ids(got)))
			if strings.HasPrefix(spec, "-") {
				slices.Reverse(want)
			}
			assert.Equal(t, want, ids(got), "%s: ties in the direction of the last key", spec)
		}
	})

	t.Run("Filtered", func(t *testing.T) {
		for _, c := range []struct{ filter, sort string }{
			{`emails pr`, "-userName"},
			{`claims.level pr`, "claims.level,userName"},
			{`active eq true`, "-meta.created"},
			{`title pr or name.familyName pr`, "name.familyName,title"},
		} {
			want := sortUsers(t, c.sort, modeSet(expect(t, oracleCase{filter: c.filter}, stored), directory.ExcludeDeleted))
			got := listAll(t, e.ctx, e.users, directory.ListOptions{Filter: c.filter, Sort: c.sort, Limit: 4})
			assert.Equalf(t, ids(want), ids(got), "filter %s sort %s", c.filter, c.sort)
		}
	})

	t.Run("InvalidSort", func(t *testing.T) {
		for _, spec := range []string{"nosuch", "emails", "emails.value", "name", "userName,,title", "-"} {
			_, err := e.users.List(e.ctx, directory.ListOptions{Sort: spec})
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "sort %q", spec)
		}
	})
}
