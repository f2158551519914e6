package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testCredentials checks credentials metadata (DESIGN §2): per user,
// added, listed in pages, marked used and removed, and removed with the
// user on Purge.
func testCredentials(t *testing.T, s *suite) {
	t.Run("PerUser", func(t *testing.T) {
		e := s.newEnv(t)
		creds := e.dir.Credentials(tenant)
		u := e.create(e.users, directory.User{UserName: "u"})
		other := e.create(e.users, directory.User{UserName: "other"})
		var added []directory.Credential
		for i := range 7 {
			c, err := creds.Add(e.ctx, u.ID, directory.Credential{Type: "passkey", Name: fmt.Sprintf("key %d", i), ID: "ignored", UserID: "ignored"})
			require.NoError(t, err)
			assert.Equal(t, u.ID, c.UserID)
			assert.NotEqual(t, "ignored", c.ID)
			assert.Equal(t, int64(1), c.Version)
			added = append(added, c)
		}
		_, err := creds.Add(e.ctx, other.ID, directory.Credential{Type: "totp"})
		require.NoError(t, err)

		list := func(o directory.ListOptions) (directory.PageOf[directory.Credential], error) {
			return creds.List(e.ctx, u.ID, o)
		}
		got := walkAll(t, directory.ListOptions{Limit: 3, Sort: "created"}, list)
		assert.Equal(t, added, got, "every credential of the user, once, in order")
		page, err := list(directory.ListOptions{Filter: `name eq "KEY 3"`, Total: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, added[3].ID, page.Items[0].ID)

		used := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600))
		c, err := creds.MarkUsed(e.ctx, added[0].ID, used)
		require.NoError(t, err)
		assert.True(t, c.LastUsed.Equal(used))
		assert.Equal(t, int64(2), c.Version)
		again, err := creds.Get(e.ctx, added[0].ID)
		require.NoError(t, err)
		assert.Equal(t, c, again)

		require.NoError(t, creds.Remove(e.ctx, added[1].ID))
		_, err = creds.Get(e.ctx, added[1].ID)
		assert.ErrorIs(t, err, directory.ErrNotFound)
		assert.ErrorIs(t, creds.Remove(e.ctx, added[1].ID), directory.ErrNotFound)
		assert.ErrorIs(t, creds.Remove(e.ctx, added[2].ID, directory.IfVersion(9)), directory.ErrConflict)
		assert.Len(t, walkAll(t, directory.ListOptions{}, list), 6)
	})

	t.Run("Refused", func(t *testing.T) {
		e := s.newEnv(t)
		creds := e.dir.Credentials(tenant)
		u := e.create(e.users, directory.User{UserName: "u"})
		_, err := creds.Add(e.ctx, "missing", directory.Credential{Type: "passkey"})
		assert.ErrorIs(t, err, directory.ErrNotFound)
		_, err = creds.Add(e.ctx, u.ID, directory.Credential{})
		assert.ErrorIs(t, err, directory.ErrInvalid, "type is required")
		require.NoError(t, e.users.Delete(e.ctx, u.ID))
		_, err = creds.Add(e.ctx, u.ID, directory.Credential{Type: "passkey"})
		assert.ErrorIs(t, err, directory.ErrInvalidTransition, "a deleted user gets no credential")
	})

	t.Run("PurgeRemovesThem", func(t *testing.T) {
		e := s.newEnv(t)
		creds := e.dir.Credentials(tenant)
		u := e.create(e.users, directory.User{UserName: "u"})
		c, err := creds.Add(e.ctx, u.ID, directory.Credential{Type: "passkey"})
		require.NoError(t, err)
		require.NoError(t, e.users.Delete(e.ctx, u.ID))
		_, err = creds.Get(e.ctx, c.ID)
		require.NoError(t, err, "a soft-deleted user keeps its credentials")
		require.NoError(t, e.users.Purge(e.ctx, u.ID))
		_, err = creds.Get(e.ctx, c.ID)
		assert.ErrorIs(t, err, directory.ErrNotFound)
		page, err := creds.List(e.ctx, u.ID, directory.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
	})
}
