package directory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/memory"
)

// TestAnonymizeEmptiesCache checks that no cached result of the tenant,
// reachable or not, still holds an anonymized user's data: the generation
// bump makes old entries unreachable, and Anonymize also drops them from
// memory. Other tenants' entries stay.
func TestAnonymizeEmptiesCache(t *testing.T) {
	ctx := t.Context()
	d, err := New(memory.New(), WithCache(100, 0))
	require.NoError(t, err)
	users := d.Users("acme")
	u, err := users.Create(ctx, User{UserName: "zq-secret-name", Emails: []Email{{Value: "zq-secret@example.com"}}, Claims: map[string]any{"x": "zq-claim"}})
	require.NoError(t, err)
	_, err = d.Users("other").Create(ctx, User{UserName: "bystander"})
	require.NoError(t, err)
	for _, f := range []string{"", `userName eq "zq-secret-name"`, `claims.x eq "zq-claim"`} {
		_, err := users.List(ctx, ListOptions{Filter: f, Total: true})
		require.NoError(t, err)
		_, err = users.Count(ctx, f)
		require.NoError(t, err)
	}
	_, err = d.Users("other").List(ctx, ListOptions{})
	require.NoError(t, err)
	cached := func() string {
		var b strings.Builder
		for _, k := range d.cache.lru.Keys() {
			v, _ := d.cache.lru.Peek(k)
			j, err := json.Marshal(v.val)
			require.NoError(t, err)
			b.WriteString(k + "=" + string(j) + "\n")
		}
		return b.String()
	}
	require.Contains(t, cached(), "zq-secret", "the cache holds the user before")

	_, err = users.Anonymize(ctx, u.ID)
	require.NoError(t, err)
	after := cached()
	for _, v := range []string{"zq-secret-name", "zq-secret@example.com", "zq-claim"} {
		assert.NotContains(t, after, v)
	}
	assert.Contains(t, after, "bystander", "other tenants keep their entries")
}
