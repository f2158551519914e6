package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testRoles checks roles (DESIGN §2): CRUD with versions and a unique
// case-insensitive name, the list machinery over roles, that users may
// only name roles that exist, that deleting a role takes it from every
// user and group, and effective permissions.
func testRoles(t *testing.T, s *suite) {
	t.Run("CRUD", func(t *testing.T) {
		e := s.newEnv(t)
		roles := e.dir.Roles(tenant)
		r := e.role(directory.Role{ID: "editor", Name: "Editor", Description: "edits", Permissions: []string{"users.read", "users.write"}})
		assert.Equal(t, "editor", r.ID)
		assert.Equal(t, int64(1), r.Meta.Version)
		assert.Equal(t, baseTime.Year(), r.Meta.Created.Year())
		got, err := roles.Get(e.ctx, "editor")
		require.NoError(t, err)
		assert.Equal(t, r, got)

		generated := e.role(directory.Role{Name: "Viewer", Permissions: []string{"users.read"}})
		assert.NotEmpty(t, generated.ID, "a role without id gets one")

		_, err = roles.Create(e.ctx, directory.Role{Name: "EDITOR"})
		assert.ErrorIs(t, err, directory.ErrAlreadyExists, "role names are unique case-insensitively")
		_, err = roles.Create(e.ctx, directory.Role{ID: "editor", Name: "Other"})
		assert.ErrorIs(t, err, directory.ErrAlreadyExists, "role ids are unique")

		for _, bad := range []directory.Role{
			{Name: ""},
			{ID: "bad id", Name: "x"},
			{Name: "x", Permissions: []string{"a", "a"}},
			{Name: "x", Permissions: []string{""}},
		} {
			_, err := roles.Create(e.ctx, bad)
			var fe *directory.FieldError
			assert.ErrorAsf(t, err, &fe, "create %+v", bad)
		}

		up, err := roles.Update(e.ctx, "editor", func(r *directory.Role) error {
			r.Permissions = append(r.Permissions, "groups.write")
			r.ID = "ignored"
			return nil
		}, directory.IfVersion(1))
		require.NoError(t, err)
		assert.Equal(t, "editor", up.ID)
		assert.Equal(t, int64(2), up.Meta.Version)
		assert.Equal(t, []string{"users.read", "users.write", "groups.write"}, up.Permissions)
		_, err = roles.Update(e.ctx, "editor", func(r *directory.Role) error { r.Description = "x"; return nil }, directory.IfVersion(1))
		assert.ErrorIs(t, err, directory.ErrConflict, "a stale IfVersion")
		_, err = roles.Update(e.ctx, "editor", func(r *directory.Role) error { r.Name = "viewer"; return nil })
		assert.ErrorIs(t, err, directory.ErrAlreadyExists, "renaming onto a taken name")

		page, err := roles.List(e.ctx, directory.ListOptions{Filter: `permissions eq "users.write"`, Sort: "name", Total: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, "editor", page.Items[0].ID)
		require.NotNil(t, page.Total)
		assert.Equal(t, 1, *page.Total)
		n, err := roles.Count(e.ctx, `name sw "V"`)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = roles.List(e.ctx, directory.ListOptions{Filter: `userName eq "x"`})
		assert.ErrorIs(t, err, directory.ErrInvalidFilter, "a role filter names role attributes")
		_, err = roles.List(e.ctx, directory.ListOptions{Deleted: directory.IncludeDeleted})
		assert.ErrorIs(t, err, directory.ErrInvalid, "roles are not soft-deleted")

		require.NoError(t, roles.Delete(e.ctx, generated.ID))
		_, err = roles.Get(e.ctx, generated.ID)
		assert.ErrorIs(t, err, directory.ErrNotFound)
		assert.ErrorIs(t, roles.Delete(e.ctx, generated.ID), directory.ErrNotFound)
		assert.ErrorIs(t, roles.Delete(e.ctx, "editor", directory.IfVersion(1)), directory.ErrConflict)
	})

	t.Run("Paging", func(t *testing.T) {
		e := s.newEnv(t)
		var want []string
		for i := range 23 {
			r := e.role(directory.Role{ID: fmt.Sprintf("r%02d", i), Name: fmt.Sprintf("Role %02d", 22-i)})
			want = append(want, r.ID)
		}
		want = append(want, fixtureRoles...)
		list := func(o directory.ListOptions) (directory.PageOf[directory.Role], error) {
			return e.dir.Roles(tenant).List(e.ctx, o)
		}
		byName := walkAll(t, directory.ListOptions{Sort: "-name", Limit: 4}, list)
		var names []string
		for _, r := range byName {
			names = append(names, r.Name)
		}
		assert.True(t, slices.IsSortedFunc(names, func(a, b string) int { return -compareFolded(a, b) }), "sorted by -name: %v", names)
		var got []string
		for _, r := range walkAll(t, directory.ListOptions{Limit: 5}, list) {
			got = append(got, r.ID)
		}
		slices.Sort(want)
		assert.Equal(t, want, got, "every role once, in id order")

		// Back from the end with Prev.
		first, err := list(directory.ListOptions{Limit: 5})
		require.NoError(t, err)
		second, err := list(directory.ListOptions{Limit: 5, Cursor: first.Next})
		require.NoError(t, err)
		back, err := list(directory.ListOptions{Limit: 5, Cursor: second.Prev})
		require.NoError(t, err)
		assert.Equal(t, first.Items, back.Items)
		_, err = e.dir.Groups(tenant).List(e.ctx, directory.ListOptions{Cursor: first.Next})
		assert.ErrorIs(t, err, directory.ErrInvalidCursor, "a roles cursor does not page groups")
	})

	t.Run("UsersNameExistingRoles", func(t *testing.T) {
		e := s.newEnv(t)
		var fe *directory.FieldError
		_, err := e.users.Create(e.ctx, directory.User{UserName: "ann", Roles: []directory.RoleRef{{Value: "admin"}, {Value: "ghost"}}})
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "roles[1].value", fe.Field)
		assert.ErrorIs(t, err, directory.ErrInvalid)

		u := e.create(e.users, directory.User{UserName: "ann", Roles: []directory.RoleRef{{Value: "admin"}}})
		_, err = e.users.Update(e.ctx, u.ID, func(u *directory.User) error {
			u.Roles = append(u.Roles, directory.RoleRef{Value: "ghost"})
			return nil
		})
		assert.ErrorAs(t, err, &fe, "Update adding a role that does not exist")
		_, err = e.users.Patch(e.ctx, u.ID, []directory.PatchOp{{Op: "add", Path: "roles", Value: []any{map[string]any{"value": "ghost"}}}})
		assert.ErrorAs(t, err, &fe, "Patch adding a role that does not exist")
		_, err = e.users.Patch(e.ctx, u.ID, []directory.PatchOp{{Op: "add", Path: "roles", Value: []any{map[string]any{"value": "auditor"}}}})
		assert.NoError(t, err, "Patch adding a role that exists")

		rep, err := e.users.Import(e.ctx, slices.Values([]directory.User{
			{UserName: "imp1", Roles: []directory.RoleRef{{Value: "admin"}}},
			{UserName: "imp2", Roles: []directory.RoleRef{{Value: "ghost"}}},
		}))
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Created)
		assert.NoError(t, rep.Results[0].Err)
		assert.ErrorAs(t, rep.Results[1].Err, &fe, "an imported user naming a missing role fails")
	})

	t.Run("DeleteRemovesReferences", func(t *testing.T) {
		e := s.newEnv(t)
		e.role(directory.Role{ID: "ops", Name: "Ops", Permissions: []string{"deploy"}})
		a := e.create(e.users, directory.User{UserName: "a", Roles: []directory.RoleRef{{Value: "ops"}, {Value: "admin"}}})
		b := e.create(e.users, directory.User{UserName: "b", Roles: []directory.RoleRef{{Value: "ops"}}})
		require.NoError(t, e.users.Delete(e.ctx, b.ID))
		g := e.group(directory.Group{DisplayName: "Oncall", Roles: []string{"ops", "auditor"}})

		require.NoError(t, e.dir.Roles(tenant).Delete(e.ctx, "ops"))
		assert.Equal(t, []directory.RoleRef{{Value: "admin"}}, e.get(e.users, a.ID).Roles)
		assert.Empty(t, e.get(e.users, b.ID).Roles, "a deleted user loses the role too")
		gg, err := e.dir.Groups(tenant).Get(e.ctx, g.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"auditor"}, gg.Roles)
		n, err := e.users.Count(e.ctx, `roles.value eq "ops"`)
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	t.Run("Permissions", func(t *testing.T) {
		e := s.newEnv(t)
		e.role(directory.Role{ID: "reader", Name: "Reader", Permissions: []string{"users.read", "groups.read"}})
		e.role(directory.Role{ID: "writer", Name: "Writer", Permissions: []string{"users.write", "users.read"}})
		e.role(directory.Role{ID: "deployer", Name: "Deployer", Permissions: []string{"deploy"}})
		u := e.create(e.users, directory.User{UserName: "pat", Roles: []directory.RoleRef{{Value: "reader"}}})
		other := e.create(e.users, directory.User{UserName: "other"})
		g1 := e.group(directory.Group{DisplayName: "Writers", Roles: []string{"writer"}})
		g2 := e.group(directory.Group{DisplayName: "Deployers", Roles: []string{"deployer", "reader"}})
		e.join(g1.ID, u.ID)
		e.join(g2.ID, u.ID, other.ID)

		perms, err := e.users.Permissions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"deploy", "groups.read", "users.read", "users.write"}, perms)
		perms, err = e.users.Permissions(e.ctx, other.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"deploy", "groups.read", "users.read"}, perms)

		_, err = e.dir.Groups(tenant).RemoveMembers(e.ctx, g2.ID, u.ID)
		require.NoError(t, err)
		perms, err = e.users.Permissions(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"groups.read", "users.read", "users.write"}, perms)

		none := e.create(e.users, directory.User{UserName: "none"})
		perms, err = e.users.Permissions(e.ctx, none.ID)
		require.NoError(t, err)
		assert.Empty(t, perms)
		_, err = e.users.Permissions(e.ctx, "missing")
		assert.ErrorIs(t, err, directory.ErrNotFound)
	})

	t.Run("IncludeRoles", func(t *testing.T) {
		e := s.newEnv(t)
		e.role(directory.Role{ID: "reader", Name: "Reader", Permissions: []string{"users.read"}})
		e.create(e.users, directory.User{UserName: "a", Roles: []directory.RoleRef{{Value: "reader"}, {Value: "admin"}}})
		e.create(e.users, directory.User{UserName: "b", Roles: []directory.RoleRef{{Value: "reader"}}})
		e.create(e.users, directory.User{UserName: "c"})
		page, err := e.users.List(e.ctx, directory.ListOptions{Sort: "userName", IncludeRoles: true})
		require.NoError(t, err)
		require.Len(t, page.Users, 3)
		var got []string
		for _, r := range page.Roles {
			got = append(got, r.ID)
		}
		assert.Equal(t, []string{"admin", "reader"}, got, "each role the page names, once")
		assert.Equal(t, []string{"users.read"}, page.Roles[1].Permissions)

		page, err = e.users.List(e.ctx, directory.ListOptions{Filter: `userName eq "c"`, IncludeRoles: true})
		require.NoError(t, err)
		assert.Empty(t, page.Roles)
		_, err = e.dir.Groups(tenant).List(e.ctx, directory.ListOptions{IncludeRoles: true})
		assert.True(t, errors.Is(err, directory.ErrInvalid), "only users include roles")
	})
}

// compareFolded orders strings as the query package's sort does for
// case-insensitive attributes.
func compareFolded(a, b string) int {
	fa, fb := fold(a), fold(b)
	switch {
	case fa < fb:
		return -1
	case fa > fb:
		return 1
	}
	return 0
}
