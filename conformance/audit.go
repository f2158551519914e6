package conformance

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testAudit checks the audit trail (DESIGN §2): every write records its
// actor (from the context), action, time and changed fields with old and
// new values; email changes are always there; the trail is readable per
// user and per tenant, in pages, and stays in its tenant.
func testAudit(t *testing.T, s *suite) {
	t.Run("UserWrites", func(t *testing.T) {
		e := s.newEnv(t)
		ctx := withActor(e.ctx, "admin-7")
		u, err := e.users.Create(ctx, directory.User{UserName: "ann", Title: "Dev", Emails: []directory.Email{{Value: "ann@old.io"}},
			Name: directory.Name{GivenName: "Ann"}, Claims: map[string]any{"level": 2}})
		require.NoError(t, err)
		_, err = e.users.Update(ctx, u.ID, func(u *directory.User) error {
			u.Title = "Lead"
			u.Name.GivenName = "Anne"
			u.Claims["level"] = 3
			return nil
		})
		require.NoError(t, err)
		_, err = e.users.Patch(withActor(e.ctx, "self"), u.ID, []directory.PatchOp{{Op: "replace", Path: "emails[value eq \"ann@old.io\"].value", Value: "ann@new.io"}})
		require.NoError(t, err)
		_, err = e.users.Disable(ctx, u.ID)
		require.NoError(t, err)
		require.NoError(t, e.users.Delete(ctx, u.ID))
		_, err = e.users.Restore(ctx, u.ID)
		require.NoError(t, err)

		trail := e.auditOf(u.ID)
		assert.Equal(t, []directory.Op{
			directory.OpUserCreate, directory.OpUserUpdate, directory.OpUserPatch,
			directory.OpUserDisable, directory.OpUserDelete, directory.OpUserRestore,
		}, actions(trail))
		for i, a := range trail {
			assert.Equal(t, "users", a.Kind)
			assert.Equal(t, u.ID, a.Target)
			assert.Equal(t, u.ID, a.User)
			assert.False(t, a.Time.IsZero())
			if i > 0 {
				assert.False(t, a.Time.Before(trail[i-1].Time), "entries in time order")
			}
		}
		assert.Equal(t, "admin-7", trail[0].Actor)
		assert.Equal(t, "self", trail[2].Actor)

		created, ok := changeOf(trail[0], "userName")
		require.True(t, ok, "a create records every field it sets")
		assert.Nil(t, created.Old)
		assert.JSONEq(t, `"ann"`, string(created.New))

		upd := trail[1]
		for field, values := range map[string][2]string{
			"title":          {`"Dev"`, `"Lead"`},
			"name.givenName": {`"Ann"`, `"Anne"`},
			"claims.level":   {`2`, `3`},
		} {
			c, ok := changeOf(upd, field)
			if assert.Truef(t, ok, "change of %s", field) {
				assert.JSONEq(t, values[0], string(c.Old))
				assert.JSONEq(t, values[1], string(c.New))
			}
		}
		assert.Len(t, upd.Changes, 3, "only the changed fields: %+v", upd.Changes)

		email, ok := changeOf(trail[2], "emails")
		require.True(t, ok, "an email change is always recorded")
		var oldEmails, newEmails []directory.Email
		require.NoError(t, json.Unmarshal(email.Old, &oldEmails))
		require.NoError(t, json.Unmarshal(email.New, &newEmails))
		assert.Equal(t, "ann@old.io", oldEmails[0].Value)
		assert.Equal(t, "ann@new.io", newEmails[0].Value)

		status, ok := changeOf(trail[3], "status")
		require.True(t, ok)
		assert.JSONEq(t, `"active"`, string(status.Old))
		assert.JSONEq(t, `"disabled"`, string(status.New))
	})

	t.Run("TenantTrail", func(t *testing.T) {
		e := s.newEnv(t)
		ctx := withActor(e.ctx, "ops")
		r, err := e.dir.Roles(tenant).Create(ctx, directory.Role{Name: "Support", Permissions: []string{"tickets"}})
		require.NoError(t, err)
		g, err := e.dir.Groups(tenant).Create(ctx, directory.Group{DisplayName: "Helpdesk", Roles: []string{r.ID}})
		require.NoError(t, err)
		u := e.create(e.users, directory.User{UserName: "x"})
		added, err := e.dir.Groups(tenant).AddMembers(ctx, g.ID, u.ID)
		bulkOK(t, added, err)
		c, err := e.dir.Credentials(tenant).Add(ctx, u.ID, directory.Credential{Type: "totp"})
		require.NoError(t, err)
		_, err = e.dir.Users("elsewhere").Create(ctx, directory.User{UserName: "y"})
		require.NoError(t, err)

		list := func(o directory.ListOptions) (directory.PageOf[directory.AuditEntry], error) {
			return e.dir.Audit(tenant).List(e.ctx, o)
		}
		all := walkAll(t, directory.ListOptions{Limit: 2, Filter: `actor eq "ops"`, Sort: "time"}, list)
		assert.Equal(t, []directory.Op{directory.OpRoleCreate, directory.OpGroupCreate, directory.OpGroupAddMembers, directory.OpCredentialAdd}, actions(all),
			"the tenant's entries by that actor, and not the other tenant's")
		assert.Equal(t, r.ID, all[0].Target)
		assert.Equal(t, g.ID, all[2].Target)
		assert.Equal(t, u.ID, all[2].User)
		assert.Equal(t, c.ID, all[3].Target)

		mine := e.auditOf(u.ID)
		assert.Equal(t, []directory.Op{directory.OpUserCreate, directory.OpGroupAddMembers, directory.OpCredentialAdd}, actions(mine))

		newest, err := list(directory.ListOptions{Sort: "-time", Limit: 1})
		require.NoError(t, err)
		require.Len(t, newest.Items, 1)
		assert.Equal(t, directory.OpCredentialAdd, newest.Items[0].Action)
		n, err := list(directory.ListOptions{Filter: `action eq "groups.create" and changes.field eq "displayName"`, Total: true})
		require.NoError(t, err)
		assert.Equal(t, 1, *n.Total)

		other, err := e.dir.Audit("elsewhere").List(e.ctx, directory.ListOptions{})
		require.NoError(t, err)
		require.Len(t, other.Items, 1)
		assert.Equal(t, directory.OpUserCreate, other.Items[0].Action)
	})
}
