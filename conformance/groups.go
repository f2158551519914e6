package conformance

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testGroups checks groups (DESIGN §2): CRUD with a unique
// case-insensitive displayName, bulk membership with per-user results,
// the read-only groups[] of members (kept in step with renames and
// deletes), the members list, and imports naming groups.
func testGroups(t *testing.T, s *suite) {
	t.Run("CRUD", func(t *testing.T) {
		e := s.newEnv(t)
		groups := e.dir.Groups(tenant)
		g := e.group(directory.Group{ID: "eng", DisplayName: "Engineering", Roles: []string{"admin"}})
		assert.Equal(t, int64(1), g.Meta.Version)
		got, err := groups.Get(e.ctx, "eng")
		require.NoError(t, err)
		assert.Equal(t, g, got)

		_, err = groups.Create(e.ctx, directory.Group{DisplayName: "ENGINEERING"})
		assert.ErrorIs(t, err, directory.ErrAlreadyExists, "displayName is unique case-insensitively")
		var fe *directory.FieldError
		_, err = groups.Create(e.ctx, directory.Group{DisplayName: "x", Roles: []string{"ghost"}})
		require.ErrorAs(t, err, &fe, "a group's roles must exist")
		assert.Equal(t, "roles[0]", fe.Field)
		_, err = groups.Create(e.ctx, directory.Group{ID: "a~b", DisplayName: "Tilde"})
		assert.ErrorAs(t, err, &fe, "a group id cannot hold '~'")
		_, err = groups.Create(e.ctx, directory.Group{})
		assert.ErrorAs(t, err, &fe, "displayName is required")

		up, err := groups.Update(e.ctx, "eng", func(g *directory.Group) error {
			g.Roles = append(g.Roles, "auditor")
			return nil
		}, directory.IfVersion(1))
		require.NoError(t, err)
		assert.Equal(t, []string{"admin", "auditor"}, up.Roles)
		_, err = groups.Update(e.ctx, "eng", func(g *directory.Group) error { return nil }, directory.IfVersion(1))
		assert.ErrorIs(t, err, directory.ErrConflict)
		_, err = groups.Update(e.ctx, "eng", func(g *directory.Group) error { g.Roles = []string{"ghost"}; return nil })
		assert.ErrorAs(t, err, &fe)

		e.group(directory.Group{DisplayName: "Sales"})
		page, err := groups.List(e.ctx, directory.ListOptions{Filter: `roles eq "auditor"`, Total: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, "eng", page.Items[0].ID)
		n, err := groups.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 2, n)

		require.NoError(t, groups.Delete(e.ctx, "eng"))
		_, err = groups.Get(e.ctx, "eng")
		assert.ErrorIs(t, err, directory.ErrNotFound)
	})

	t.Run("Membership", func(t *testing.T) {
		e := s.newEnv(t)
		groups := e.dir.Groups(tenant)
		g := e.group(directory.Group{ID: "eng", DisplayName: "Engineering"})
		a := e.create(e.users, directory.User{UserName: "a"})
		b := e.create(e.users, directory.User{UserName: "b"})
		gone := e.create(e.users, directory.User{UserName: "gone"})
		require.NoError(t, e.users.Delete(e.ctx, gone.ID))

		res, err := groups.AddMembers(e.ctx, g.ID, a.ID, b.ID, "missing", gone.ID, a.ID)
		require.NoError(t, err)
		require.Len(t, res, 5)
		assert.NoError(t, res[0].Err)
		assert.NoError(t, res[1].Err)
		assert.ErrorIs(t, res[2].Err, directory.ErrNotFound, "no such user")
		assert.ErrorIs(t, res[3].Err, directory.ErrInvalidTransition, "a deleted user cannot join")
		assert.NoError(t, res[4].Err, "adding a member again is not an error")
		assert.Equal(t, "missing", res[2].ID)

		want := []directory.GroupRef{{Value: "eng", Display: "Engineering"}}
		assert.Equal(t, want, e.get(e.users, a.ID).Groups)
		assert.Equal(t, want, e.get(e.users, b.ID).Groups)
		listed := listAll(t, e.ctx, e.users, directory.ListOptions{Filter: `groups.display eq "engineering"`, Sort: "userName"})
		assert.Equal(t, []string{"a", "b"}, userNames(listed))
		n, err := e.users.Count(e.ctx, `groups.value eq "eng"`)
		require.NoError(t, err)
		assert.Equal(t, 2, n)

		members := walkAll(t, directory.ListOptions{Limit: 1, Sort: "user"}, func(o directory.ListOptions) (directory.PageOf[directory.Member], error) {
			return groups.Members(e.ctx, g.ID, o)
		})
		var got []string
		for _, m := range members {
			assert.Equal(t, "eng", m.GroupID)
			got = append(got, m.UserID)
		}
		wantIDs := []string{a.ID, b.ID}
		slices.Sort(wantIDs)
		assert.Equal(t, wantIDs, got)
		_, err = groups.Members(e.ctx, "nope", directory.ListOptions{})
		assert.ErrorIs(t, err, directory.ErrNotFound)
		_, err = groups.AddMembers(e.ctx, "nope", a.ID)
		assert.ErrorIs(t, err, directory.ErrNotFound)

		// groups is read-only on the user.
		u, err := e.users.Update(e.ctx, a.ID, func(u *directory.User) error { u.Groups = nil; return nil })
		require.NoError(t, err)
		assert.Equal(t, want, u.Groups)
		_, err = e.users.Patch(e.ctx, a.ID, []directory.PatchOp{{Op: "remove", Path: "groups"}})
		assert.ErrorIs(t, err, directory.ErrInvalid)

		// Rename: every member shows the new name.
		_, err = groups.Update(e.ctx, g.ID, func(g *directory.Group) error { g.DisplayName = "Platform"; return nil })
		require.NoError(t, err)
		for _, id := range []string{a.ID, b.ID} {
			assert.Equal(t, []directory.GroupRef{{Value: "eng", Display: "Platform"}}, e.get(e.users, id).Groups)
		}
		n, err = e.users.Count(e.ctx, `groups.display eq "Engineering"`)
		require.NoError(t, err)
		assert.Zero(t, n)

		res, err = groups.RemoveMembers(e.ctx, g.ID, a.ID, "missing")
		require.NoError(t, err)
		assert.NoError(t, res[0].Err)
		assert.ErrorIs(t, res[1].Err, directory.ErrNotFound, "not a member")
		assert.Empty(t, e.get(e.users, a.ID).Groups)

		// Deleting the group takes it from its members.
		require.NoError(t, groups.Delete(e.ctx, g.ID))
		assert.Empty(t, e.get(e.users, b.ID).Groups)
		n, err = e.users.Count(e.ctx, `groups pr`)
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	t.Run("PurgeLeavesGroups", func(t *testing.T) {
		e := s.newEnv(t)
		g := e.group(directory.Group{DisplayName: "Team"})
		u := e.create(e.users, directory.User{UserName: "u"})
		v := e.create(e.users, directory.User{UserName: "v"})
		e.join(g.ID, u.ID, v.ID)
		require.NoError(t, e.users.Delete(e.ctx, u.ID))
		require.NoError(t, e.users.Purge(e.ctx, u.ID))
		members, err := e.dir.Groups(tenant).Members(e.ctx, g.ID, directory.ListOptions{})
		require.NoError(t, err)
		require.Len(t, members.Items, 1)
		assert.Equal(t, v.ID, members.Items[0].UserID)
	})

	t.Run("Import", func(t *testing.T) {
		e := s.newEnv(t)
		e.group(directory.Group{ID: "eng", DisplayName: "Engineering"})
		e.group(directory.Group{ID: "ops", DisplayName: "Operations"})
		rep, err := e.users.Import(e.ctx, slices.Values([]directory.User{
			{ID: "u1", UserName: "one", Groups: []directory.GroupRef{{Value: "eng", Display: "ignored"}, {Value: "ops"}}},
			{ID: "u2", UserName: "two", Groups: []directory.GroupRef{{Value: "ghost"}}},
			{ID: "u3", UserName: "one", Groups: []directory.GroupRef{{Value: "ops"}}},
		}))
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Created)
		assert.NoError(t, rep.Results[0].Err)
		var fe *directory.FieldError
		require.ErrorAs(t, rep.Results[1].Err, &fe, "a group that does not exist fails the item")
		assert.Equal(t, "groups[0].value", fe.Field)
		assert.ErrorIs(t, rep.Results[2].Err, directory.ErrAlreadyExists)

		u := e.get(e.users, "u1")
		assert.Equal(t, []directory.GroupRef{{Value: "eng", Display: "Engineering"}, {Value: "ops", Display: "Operations"}}, u.Groups)
		members, err := e.dir.Groups(tenant).Members(e.ctx, "ops", directory.ListOptions{})
		require.NoError(t, err)
		require.Len(t, members.Items, 1, "the failed item left no membership")
		assert.Equal(t, "u1", members.Items[0].UserID)
	})
}
