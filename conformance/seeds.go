package conformance

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testSeedAPIs walks every operation of the five users APIs the project
// started from (shared/seeds) through the directory calls that do them, one
// subtest per operation, named as the seed names it. The detailed rules
// behind each are tested by the other groups; this group proves that none
// is missing and that they compose.
func testSeedAPIs(t *testing.T, s *suite) {
	t.Run("Qlik", func(t *testing.T) { seedQlik(t, s) })
	t.Run("MATTR", func(t *testing.T) { seedMATTR(t, s) })
	t.Run("ShipStream", func(t *testing.T) { seedShipStream(t, s) })
	t.Run("MindSphere", func(t *testing.T) { seedMindSphere(t, s) })
	t.Run("Datadog", func(t *testing.T) { seedDatadog(t, s) })
}

// seedQlik: the Qlik Cloud users API (qlik-api-ts users.d.ts).
func seedQlik(t *testing.T, s *suite) {
	e := s.newEnv(t, directory.WithCache(64, 0))
	users := e.users
	var bob directory.User
	t.Run("createUser", func(t *testing.T) {
		u, err := users.Create(e.ctx, directory.User{UserName: "bob@x.io", Subject: "auth0|bob", Status: directory.StatusInvited,
			DisplayName: "Bob", Emails: []directory.Email{{Value: "bob@x.io"}}})
		require.NoError(t, err)
		assert.Equal(t, directory.StatusInvited, u.Status)
		bob = u
		e.create(users, directory.User{UserName: "alice@x.io", DisplayName: "Alice", Subject: "auth0|alice", Emails: []directory.Email{{Value: "alice@x.io"}}})
		e.create(users, directory.User{UserName: "carol@x.io", DisplayName: "Carol", Status: directory.StatusDisabled, Emails: []directory.Email{{Value: "carol@x.io"}}})
	})
	t.Run("getUser", func(t *testing.T) {
		u, err := users.Get(e.ctx, bob.ID, directory.Project("displayName,emails", ""))
		require.NoError(t, err)
		assert.Equal(t, "Bob", u.DisplayName)
		assert.Empty(t, u.UserName, "fields: only what was asked for")
	})
	t.Run("getUsers", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Sort: "-displayName", Limit: 2, Total: true, Attributes: "displayName"})
		require.NoError(t, err)
		assert.Equal(t, []string{"Carol", "Bob"}, []string{page.Users[0].DisplayName, page.Users[1].DisplayName})
		assert.Equal(t, 3, *page.Total, "totalResults")
		next, err := users.List(e.ctx, directory.ListOptions{Sort: "-displayName", Limit: 2, Attributes: "displayName", Cursor: page.Next})
		require.NoError(t, err)
		assert.Equal(t, "Alice", next.Users[0].DisplayName)
		prev, err := users.List(e.ctx, directory.ListOptions{Sort: "-displayName", Limit: 2, Attributes: "displayName", Cursor: next.Prev})
		require.NoError(t, err)
		assert.Equal(t, page.Users, prev.Users)
		for _, sort := range []string{"id", "-id", "status", "subject", "meta.created", "-userName"} {
			_, err := users.List(e.ctx, directory.ListOptions{Sort: sort})
			assert.NoErrorf(t, err, "sort %s", sort)
		}
	})
	t.Run("countUsers", func(t *testing.T) {
		n, err := users.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
	t.Run("filterUsers", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Filter: `(displayName co "B" or emails co "ALICE" or subject co "nobody") and (status eq "active" or status eq "invited")`, Sort: "userName"})
		require.NoError(t, err)
		assert.Equal(t, []string{"alice@x.io", "bob@x.io"}, userNames(page.Users))
	})
	t.Run("inviteUsers", func(t *testing.T) {
		res, err := e.dir.Invitations(tenant).Send(e.ctx, []string{"dan@x.io", "bob@x.io", "alice@x.io", "carol@x.io"}, directory.InviteOptions{})
		require.NoError(t, err)
		var got []directory.InviteOutcome
		for _, r := range res {
			got = append(got, r.Outcome)
		}
		assert.Equal(t, []directory.InviteOutcome{directory.InviteInvited, directory.InviteExists, directory.InviteActive, directory.InviteDisabled}, got, "207: one result per invitee")
		res, err = e.dir.Invitations(tenant).Send(e.ctx, []string{"dan@x.io"}, directory.InviteOptions{Resend: true})
		require.NoError(t, err)
		assert.Equal(t, directory.InviteInvited, res[0].Outcome, "resend")
		page, err := e.dir.Invitations(tenant).List(e.ctx, directory.ListOptions{Sort: "-expires"})
		require.NoError(t, err)
		assert.Len(t, page.Items, 1, "invitations sort by their expiry")
	})
	t.Run("getMyUser", func(t *testing.T) {
		u, err := users.Me(e.ctx, directory.ClaimsFromMap(map[string]any{"sub": "auth0|alice", "email": "alice@x.io", "email_verified": true}))
		require.NoError(t, err)
		assert.Equal(t, "alice@x.io", u.UserName)
	})
	t.Run("patchUser", func(t *testing.T) {
		u, err := users.Patch(e.ctx, bob.ID, []directory.PatchOp{{Op: "replace", Path: "displayName", Value: "Robert"}, {Op: "replace", Path: "status", Value: "active"}})
		require.NoError(t, err)
		assert.Equal(t, "Robert", u.DisplayName)
		assert.Equal(t, directory.StatusActive, u.Status)
	})
	t.Run("deleteUser", func(t *testing.T) {
		require.NoError(t, users.Delete(e.ctx, bob.ID))
		_, err := users.Create(e.ctx, directory.User{UserName: "bob2", Emails: []directory.Email{{Value: "BOB@x.io"}}})
		assert.ErrorIs(t, err, directory.ErrAlreadyExists, "emails stay unique across every status")
		n, err := users.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 3, n, "carol, alice and the invited dan")
	})
	t.Run("clearCache", func(t *testing.T) {
		before, err := users.List(e.ctx, directory.ListOptions{Sort: "userName", Total: true})
		require.NoError(t, err)
		e.dir.ClearCache()
		after, err := users.List(e.ctx, directory.ListOptions{Sort: "userName", Total: true})
		require.NoError(t, err)
		assert.Equal(t, before, after, "the same answer, recomputed")
	})
}

// seedMATTR: MATTR VII core/v1/users.
func seedMATTR(t *testing.T, s *suite) {
	obs := &eventLog{}
	e := s.newEnv(t, directory.WithObserver(obs))
	users := e.users
	var u directory.User
	t.Run("POST_users", func(t *testing.T) {
		var err error
		u, err = users.Create(e.ctx, directory.User{UserName: "holder-1", Subject: "idp|holder-1", Claims: map[string]any{"address": map[string]any{"city": "Berlin"}, "tier": "gold"}})
		require.NoError(t, err)
		e.create(users, directory.User{UserName: "holder-2", Claims: map[string]any{"address": map[string]any{"city": "Paris"}}})
	})
	t.Run("GET_users", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, page.Next, "nextCursor")
		rest, err := users.List(e.ctx, directory.ListOptions{Limit: 1, Cursor: page.Next})
		require.NoError(t, err)
		assert.Len(t, rest.Users, 1)
		_, err = users.List(e.ctx, directory.ListOptions{Limit: 1001})
		assert.ErrorIs(t, err, directory.ErrInvalid, "limit 1..1000")
	})
	t.Run("GET_users_id", func(t *testing.T) {
		got, err := users.Get(e.ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, u, got)
	})
	t.Run("PUT_users_id", func(t *testing.T) {
		got, err := users.Update(e.ctx, u.ID, func(x *directory.User) error {
			x.Claims = map[string]any{"address": map[string]any{"city": "Berlin"}, "tier": "platinum"}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, "platinum", got.Claims["tier"], "PUT replaces the claims")
	})
	t.Run("POST_users_search", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Filter: `claims.address.city eq "Berlin" and subject eq "idp|holder-1"`, Limit: 100})
		require.NoError(t, err)
		require.Len(t, page.Users, 1)
		assert.Equal(t, u.ID, page.Users[0].ID)
	})
	t.Run("GET_users_userId_credentials", func(t *testing.T) {
		for _, name := range []string{"degree", "licence", "badge"} {
			_, err := e.dir.Credentials(tenant).Add(e.ctx, u.ID, directory.Credential{Type: "vc", Name: name})
			require.NoError(t, err)
		}
		got := walkAll(t, directory.ListOptions{Limit: 2}, func(o directory.ListOptions) (directory.PageOf[directory.Credential], error) {
			return e.dir.Credentials(tenant).List(e.ctx, u.ID, o)
		})
		assert.Len(t, got, 3)
	})
	t.Run("DELETE_users_id", func(t *testing.T) {
		require.NoError(t, users.Delete(e.ctx, u.ID))
		require.NoError(t, users.Purge(e.ctx, u.ID), "removes the persisted data")
		_, err := users.Get(e.ctx, u.ID)
		assert.ErrorIs(t, err, directory.ErrNotFound)
		page, err := e.dir.Credentials(tenant).List(e.ctx, u.ID, directory.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
	})
	t.Run("AnalyticEvents", func(t *testing.T) {
		_, _ = users.Get(e.ctx, "missing")
		ev := obs.take()
		require.GreaterOrEqual(t, len(ev), 2)
		last := ev[len(ev)-2:]
		assert.Equal(t, directory.OpUserGet, last[0].Op)
		assert.Equal(t, []directory.Phase{directory.PhaseStart, directory.PhaseFail}, []directory.Phase{last[0].Phase, last[1].Phase}, "USER_RETRIEVE_START, USER_RETRIEVE_FAIL")
		for _, x := range ev {
			assert.Nil(t, x.Data, "sanitized: ids only")
		}
	})
}

// eventLog is an observer that keeps every event.
type eventLog struct {
	mu     sync.Mutex
	events []directory.Event
}

func (l *eventLog) Observe(_ context.Context, e directory.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) take() []directory.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.events
	l.events = nil
	return out
}

// seedShipStream: the ShipStream Global API /system/users/{type}.
func seedShipStream(t *testing.T, s *suite) {
	e := s.newEnv(t)
	users := e.users
	login := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, typ := range []string{"organization", "client", "client", "organization", "client"} {
		e.create(users, directory.User{UserName: "u" + string(rune('a'+i)), UserType: typ, Claims: map[string]any{"warehouse": 10 + 5*i},
			LastLoginAt: login.Add(time.Duration(i) * time.Hour), Roles: []directory.RoleRef{{Value: fixtureRoles[i%2]}}})
	}
	gone := e.create(users, directory.User{UserName: "gone", UserType: "client"})
	require.NoError(t, users.Delete(e.ctx, gone.ID))

	t.Run("users_type", func(t *testing.T) {
		n, err := users.Count(e.ctx, `userType eq "client"`)
		require.NoError(t, err)
		assert.Equal(t, 3, n)
	})
	t.Run("filter", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Filter: `userType eq "client" and claims.warehouse gt 15`, Sort: "userName"})
		require.NoError(t, err)
		assert.Equal(t, []string{"uc", "ue"}, userNames(page.Users))
	})
	t.Run("fields_sort_cursor_has_more_count", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Sort: "-id", Limit: 2, Total: true, Attributes: "userName,lastLoginAt"})
		require.NoError(t, err)
		assert.True(t, page.Next != "", "has_more")
		assert.Equal(t, 5, *page.Total, "meta.count")
		assert.True(t, page.Users[0].ID > page.Users[1].ID, "sort -id")
		assert.Empty(t, page.Users[0].UserType, "fields")
		byLogin, err := users.List(e.ctx, directory.ListOptions{Sort: "-lastLoginAt", Limit: 1})
		require.NoError(t, err)
		assert.Equal(t, "ue", byLogin.Users[0].UserName)
		back, err := users.List(e.ctx, directory.ListOptions{Sort: "-id", Limit: 2, Attributes: "userName,lastLoginAt", Cursor: page.Next})
		require.NoError(t, err)
		assert.NotEmpty(t, back.Prev, "previous")
	})
	t.Run("include_roles", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{IncludeRoles: true})
		require.NoError(t, err)
		assert.Len(t, page.Roles, 2)
	})
	t.Run("deleted_true", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Deleted: directory.OnlyDeleted})
		require.NoError(t, err)
		assert.Equal(t, []string{"gone"}, userNames(page.Users))
	})
}

// seedMindSphere: Siemens Insights Hub Identity Management SCIM /Users.
func seedMindSphere(t *testing.T, s *suite) {
	e := s.newEnv(t)
	users := e.users
	g := e.group(directory.Group{DisplayName: "mdsp:core:StandardUser"})
	john := e.create(users, directory.User{UserName: "johndoe@example.com", Name: directory.Name{GivenName: "John", FamilyName: "Doe"},
		Emails: []directory.Email{{Value: "johndoe@example.com", Verified: true}}, PhoneNumbers: []directory.PhoneNumber{{Value: "+49 89 1234"}},
		Subject: "mdsp|john", Claims: map[string]any{"origin": "mdsp"}})
	jane := e.create(users, directory.User{UserName: "jane@example.com", Name: directory.Name{GivenName: "Jane", FamilyName: "Roe"},
		Emails: []directory.Email{{Value: "jane@example.com"}}})
	e.join(g.ID, john.ID)
	john = e.get(users, john.ID)

	t.Run("GET_Users_filter", func(t *testing.T) {
		for _, f := range []string{
			`id eq "` + john.ID + `"`, `userName eq "JOHNDOE@example.com"`, `emails.value eq "johndoe@example.com"`, `emails eq "johndoe@example.com"`,
			`name.givenName eq "john"`, `name.familyName eq "doe"`, `active eq true and userName sw "john"`, `phoneNumbers.value eq "+49 89 1234"`,
			`emails.verified eq true`, `claims.origin eq "mdsp"`, `meta.created le "` + john.Meta.Created.Format(time.RFC3339Nano) + `" and userName sw "j" and meta.version eq 2`,
			`meta.lastModified eq "` + john.Meta.LastModified.Format(time.RFC3339Nano) + `"`, `groups.display eq "mdsp:core:StandardUser"`,
		} {
			page, err := users.List(e.ctx, directory.ListOptions{Filter: f})
			require.NoError(t, err, f)
			if assert.Lenf(t, page.Users, 1, "filter %s", f) {
				assert.Equal(t, john.ID, page.Users[0].ID, f)
			}
		}
	})
	t.Run("attributes_sortBy_count_startIndex", func(t *testing.T) {
		page, err := users.List(e.ctx, directory.ListOptions{Attributes: "userName,name,meta", Sort: "-userName", Limit: 1, StartIndex: 2, Total: true})
		require.NoError(t, err)
		require.Len(t, page.Users, 1)
		assert.Equal(t, "jane@example.com", page.Users[0].UserName)
		assert.Empty(t, page.Users[0].Emails)
		assert.Equal(t, 2, *page.Total, "totalResults")
	})
	t.Run("subtenant", func(t *testing.T) {
		n, err := e.dir.Users("acme.octopus").Count(e.ctx, "")
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("PUT_Users_id", func(t *testing.T) {
		u, err := users.Update(e.ctx, jane.ID, func(u *directory.User) error { u.Name.FamilyName = "Doe"; return nil }, directory.IfVersion(jane.Meta.Version))
		require.NoError(t, err)
		assert.Equal(t, jane.Meta.Version+1, u.Meta.Version, "meta.version is an integer that rises per write")
		_, err = users.Update(e.ctx, jane.ID, func(u *directory.User) error { return nil }, directory.IfVersion(jane.Meta.Version))
		assert.ErrorIs(t, err, directory.ErrConflict)
	})
	t.Run("active_false", func(t *testing.T) {
		u, err := users.Update(e.ctx, jane.ID, func(u *directory.User) error { u.Active = ptr(false); return nil })
		require.NoError(t, err)
		assert.Equal(t, directory.StatusDisabled, u.Status)
	})
	t.Run("Users_me", func(t *testing.T) {
		u, err := users.Me(e.ctx, directory.Claims{Subject: "mdsp|john"})
		require.NoError(t, err)
		assert.Equal(t, []directory.GroupRef{{Value: g.ID, Display: "mdsp:core:StandardUser"}}, u.Groups, "the caller's groups")
	})
}

// seedDatadog: the Datadog UsersApi v2.
func seedDatadog(t *testing.T, s *suite) {
	e := s.newEnv(t)
	users := e.users
	e.role(directory.Role{ID: "dd-standard", Name: "Datadog Standard Role", Permissions: []string{"dashboards_read", "user_access_invite"}})
	var ann directory.User
	t.Run("CreateUser", func(t *testing.T) {
		ann = e.create(users, directory.User{UserName: "ann@x.io", Subject: "dd|ann", Emails: []directory.Email{{Value: "ann@x.io", Verified: true}},
			Roles: []directory.RoleRef{{Value: "dd-standard"}}})
		e.create(e.dir.Users("other-org"), directory.User{UserName: "ann@x.io", Subject: "dd|ann"})
	})
	t.Run("GetUser", func(t *testing.T) {
		assert.Equal(t, ann, e.get(users, ann.ID))
	})
	var inv []directory.InviteResult
	t.Run("SendInvitations", func(t *testing.T) {
		var err error
		inv, err = e.dir.Invitations(tenant).Send(e.ctx, []string{"ben@x.io", "cy@x.io"}, directory.InviteOptions{Roles: []string{"dd-standard"}})
		require.NoError(t, err)
		assert.Equal(t, directory.InviteInvited, inv[0].Outcome)
	})
	t.Run("GetInvitation", func(t *testing.T) {
		got, err := e.dir.Invitations(tenant).Get(e.ctx, inv[0].InvitationID)
		require.NoError(t, err)
		assert.Equal(t, "ben@x.io", got.Email)
	})
	t.Run("CancelPendingInvitations", func(t *testing.T) {
		n, err := e.dir.Invitations(tenant).CancelPending(e.ctx, inv[1].UserID)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})
	t.Run("DisableUser", func(t *testing.T) {
		dis := e.create(users, directory.User{UserName: "dis@x.io"})
		u, err := users.Disable(e.ctx, dis.ID)
		require.NoError(t, err)
		assert.Equal(t, directory.StatusDisabled, u.Status)
	})
	t.Run("ListUsers", func(t *testing.T) {
		got := listAll(t, e.ctx, users, directory.ListOptions{Sort: "userName"})
		assert.Equal(t, []string{"ann@x.io", "ben@x.io", "cy@x.io", "dis@x.io"}, userNames(got), "deactivated and unverified (invited) users included")
	})
	t.Run("ListUsersWithPagination", func(t *testing.T) {
		var names []string
		for u, err := range users.All(e.ctx, directory.ListOptions{Limit: 1, Sort: "userName"}) {
			require.NoError(t, err)
			names = append(names, u.UserName)
		}
		assert.Len(t, names, 4)
	})
	t.Run("GetCurrentUser", func(t *testing.T) {
		me, err := users.Me(e.ctx, directory.Claims{Subject: "dd|ann"})
		require.NoError(t, err)
		page, err := users.List(e.ctx, directory.ListOptions{Filter: `id eq "` + me.ID + `"`, IncludeRoles: true})
		require.NoError(t, err)
		require.Len(t, page.Roles, 1, "assigned roles with their permissions")
		assert.Equal(t, []string{"dashboards_read", "user_access_invite"}, page.Roles[0].Permissions)
	})
	t.Run("ListUserPermissions", func(t *testing.T) {
		perms, err := users.Permissions(e.ctx, ann.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"dashboards_read", "user_access_invite"}, perms)
	})
	t.Run("GetUserOrganization", func(t *testing.T) {
		ms, err := e.dir.TenantsOf(e.ctx, "dd|ann")
		require.NoError(t, err)
		var orgs []string
		for _, m := range ms {
			orgs = append(orgs, m.Tenant)
		}
		assert.Equal(t, []string{tenant, "other-org"}, orgs)
	})
	t.Run("UpdateCurrentUser", func(t *testing.T) {
		u, err := users.UpdateMe(e.ctx, directory.Claims{Subject: "dd|ann"}, func(u *directory.User) error {
			u.Emails = []directory.Email{{Value: "ann@new.io"}}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, ann.ID, u.ID)
		trail := e.auditOf(ann.ID)
		c, ok := changeOf(trail[len(trail)-1], "emails")
		require.True(t, ok, "email changes are recorded in the audit trail")
		assert.Contains(t, string(c.Old), "ann@x.io")
		assert.Contains(t, string(c.New), "ann@new.io")
	})
	t.Run("UpdateUser", func(t *testing.T) {
		u, err := users.Update(e.ctx, ann.ID, func(u *directory.User) error { u.Title = "SRE"; return nil })
		require.NoError(t, err)
		assert.Equal(t, "SRE", u.Title)
	})
	t.Run("AnonymizeUsers", func(t *testing.T) {
		ids := []string{ann.ID, "missing"}
		errs := make([]error, len(ids))
		for i, id := range ids {
			_, errs[i] = users.Anonymize(e.ctx, id)
		}
		assert.NoError(t, errs[0])
		assert.ErrorIs(t, errs[1], directory.ErrNotFound, "a per-user result")
		u := e.get(users, ann.ID)
		assert.False(t, slices.ContainsFunc(u.Emails, func(e directory.Email) bool { return e.Value == "ann@new.io" }))
		assert.Equal(t, directory.StatusDeleted, u.Status)
	})
}
