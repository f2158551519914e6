package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// Dumper is implemented by a backend that can write everything it holds
// (memory.Store). The Anonymize group then searches those bytes too; an
// adapter whose bytes live in files or a server calls CheckErasure from
// its own tests with a dump of those.
type Dumper interface {
	Dump(w io.Writer) error
}

// erasureUser is a user whose personal data is everywhere the directory
// keeps data about a user. Every personal value is distinctive (a "zq"
// marker), so finding it anywhere after Anonymize is a leak and never a
// coincidence.
func erasureUser() directory.User {
	return directory.User{
		UserName:    "zq-ada-lovelace-u7",
		ExternalID:  "zq-ext-77",
		Subject:     "zq-sub|77",
		Name:        directory.Name{GivenName: "Zqadagiven7", FamilyName: "Zqlovelacefam7", MiddleName: "Zqbyronmid7", Formatted: "Zq Ada Formatted7"},
		DisplayName: "Zq Display Ada7",
		NickName:    "Zqnick7",
		Title:       "Zqcountess7",
		Emails: []directory.Email{
			{Value: "Zq.Ada.Home7@Example-PII.io", Type: "home", Primary: true},
			{Value: "zq.work7@pii-example.org", Type: "work"},
		},
		PhoneNumbers: []directory.PhoneNumber{{Value: "+zq 7700 900777", Type: "mobile"}},
		Claims:       map[string]any{"pet": "zqfluffy7", "address": map[string]any{"city": "Zqmarylebone7"}},
		Enterprise: &directory.EnterpriseUser{
			EmployeeNumber: "ZQ-EMP-77", Department: "Zqdeptanalytical7",
			Manager: directory.Manager{Value: "zq-mgr-77", DisplayName: "Zqbabbage7"},
		},
	}
}

// personal lists the personal values of u (and of the credential name
// given), the strings that must not survive Anonymize anywhere.
func personal(u directory.User, credential string) []string {
	out := []string{u.UserName, u.ExternalID, u.Subject, u.Name.GivenName, u.Name.FamilyName, u.Name.MiddleName,
		u.Name.Formatted, u.DisplayName, u.NickName, u.Title, credential}
	for _, e := range u.Emails {
		out = append(out, e.Value)
	}
	for _, p := range u.PhoneNumbers {
		out = append(out, p.Value)
	}
	out = append(out, "zqfluffy7", "Zqmarylebone7")
	if ent := u.Enterprise; ent != nil {
		out = append(out, ent.EmployeeNumber, ent.Department, ent.Manager.Value, ent.Manager.DisplayName)
	}
	return out
}

// erasureFixture stores erasureUser in a directory over b with its data
// spread everywhere: an invitation (it is invited first), the user
// record, an actor of audit entries, a credential, a group, the subject
// index, and cached lists and counts whose queries name its values. It
// returns the user and its personal values.
func erasureFixture(t *testing.T, ctx context.Context, d *directory.Directory) (directory.User, []string) {
	t.Helper()
	users := d.Users(tenant)
	in := erasureUser()
	res, err := d.Invitations(tenant).Send(ctx, []string{in.Emails[0].Value}, directory.InviteOptions{})
	require.NoError(t, err)
	require.Equal(t, directory.InviteInvited, res[0].Outcome)
	u, err := users.Update(directory.WithActor(ctx, in.Emails[0].Value), res[0].UserID, func(u *directory.User) error {
		id, status := u.ID, u.Status
		*u = erasureUser()
		u.ID, u.Status = id, status
		return nil
	})
	require.NoError(t, err)
	_, err = d.Invitations(tenant).Accept(directory.WithActor(ctx, in.UserName), res[0].InvitationID)
	require.NoError(t, err)
	const credential = "Zq ada yubikey7"
	_, err = d.Credentials(tenant).Add(directory.WithActor(ctx, in.Subject), u.ID, directory.Credential{Type: "passkey", Name: credential})
	require.NoError(t, err)
	g, err := d.Groups(tenant).Create(ctx, directory.Group{DisplayName: "Analytical Engines"})
	require.NoError(t, err)
	added, err := d.Groups(tenant).AddMembers(ctx, g.ID, u.ID)
	bulkOK(t, added, err)
	other, err := users.Create(ctx, directory.User{UserName: "bystander", Emails: []directory.Email{{Value: "bystander@example.com"}}})
	require.NoError(t, err)

	// Cached results holding the user, under keys naming its values.
	for _, f := range []string{"", `userName eq "zq-ada-lovelace-u7"`, `emails co "example-pii"`, `claims.pet eq "zqfluffy7"`} {
		page, err := users.List(ctx, directory.ListOptions{Filter: f, Total: true, IncludeRoles: true})
		require.NoError(t, err)
		require.NotEmpty(t, page.Users)
		_, err = users.Count(ctx, f)
		require.NoError(t, err)
	}
	_, err = d.Audit(tenant).ForUser(ctx, u.ID, directory.ListOptions{})
	require.NoError(t, err)
	_, err = d.Audit(tenant).List(ctx, directory.ListOptions{Filter: `actor eq "zq.ada.home7@example-pii.io"`})
	require.NoError(t, err)
	_, err = d.Credentials(tenant).List(ctx, u.ID, directory.ListOptions{})
	require.NoError(t, err)
	_, err = d.Invitations(tenant).List(ctx, directory.ListOptions{Filter: `email co "zq"`})
	require.NoError(t, err)
	_, err = users.Get(ctx, other.ID)
	require.NoError(t, err)
	return u, personal(u, credential)
}

// findPII returns the values of pii that occur in data as given or
// lower-cased (the case-folded form unique indexes keep).
func findPII(data []byte, pii []string) []string {
	var found []string
	for _, v := range pii {
		if bytes.Contains(data, []byte(v)) || bytes.Contains(data, []byte(strings.ToLower(v))) {
			found = append(found, v)
		}
	}
	return found
}

// CheckErasure proves that Anonymize leaves none of a user's personal
// data in a backend's bytes (FEATURES: erasure that can be checked). Over
// a directory on the fresh backend b it stores a user whose data is
// everywhere the directory keeps some (the user record and its indexes,
// an invitation, audit entries about it and by it, a credential, a group
// membership, the cross-tenant subject index, cached lists), checks that
// dump finds those values, anonymizes the user, runs Directory.Compact,
// and fails for every value dump still shows, as given or lower-cased.
//
// dump returns every byte the backend stores: a memory store's Dump, the
// files of a store's directory, the raw documents of a database. An
// adapter whose Compact is needed for that (badger) must implement
// backend.Compactor.
func CheckErasure(t *testing.T, b backend.Backend, dump func(t *testing.T) []byte) {
	t.Helper()
	ctx := t.Context()
	d, err := directory.New(b, directory.WithCache(1024, 0))
	require.NoError(t, err)
	u, pii := erasureFixture(t, ctx, d)

	before := findPII(dump(t), pii)
	require.ElementsMatch(t, pii, before, "before Anonymize the dump must show every personal value, or finding none afterwards proves nothing")

	_, err = d.Users(tenant).Anonymize(ctx, u.ID)
	require.NoError(t, err)
	require.NoError(t, d.Compact(ctx))
	assert.Empty(t, findPII(dump(t), pii), "personal values left in the backend's bytes after Anonymize and Compact")
}

// testAnonymize checks Anonymize through the directory's own reads on
// every backend, and, for a backend that is a Dumper, in its bytes.
func testAnonymize(t *testing.T, s *suite) {
	t.Run("Reads", func(t *testing.T) {
		e := s.newEnv(t)
		users := e.users
		u, pii := erasureFixture(t, e.ctx, e.dir)
		created := u.Meta.Created

		got, err := users.Anonymize(withActor(e.ctx, "dpo"), u.ID)
		require.NoError(t, err)
		assert.Equal(t, u.ID, got.ID, "the id stays")
		assert.Equal(t, "anonymized-"+u.ID, got.UserName)
		assert.Equal(t, directory.StatusDeleted, got.Status)
		assert.True(t, got.Meta.Created.Equal(created), "statistics stay")
		want := directory.User{ID: u.ID, UserName: got.UserName, Status: directory.StatusDeleted, Active: ptr(false),
			Schemas: got.Schemas, Meta: got.Meta}
		assert.Equal(t, want, e.get(users, u.ID), "nothing personal is left on the user")

		// Gone from every read, index and record about the user.
		for _, f := range []string{`userName eq "zq-ada-lovelace-u7"`, `emails co "example-pii"`, `claims.pet eq "zqfluffy7"`, `externalId eq "zq-ext-77"`} {
			n, err := users.Count(e.ctx, f)
			require.NoError(t, err)
			assert.Zerof(t, n, "Count(%s)", f)
			page, err := users.List(e.ctx, directory.ListOptions{Filter: f, Deleted: directory.IncludeDeleted})
			require.NoError(t, err)
			assert.Emptyf(t, page.Users, "List(%s)", f)
		}
		ms, err := e.dir.TenantsOf(e.ctx, "zq-sub|77")
		require.NoError(t, err)
		assert.Empty(t, ms)
		_, err = users.Me(e.ctx, directory.Claims{Subject: "zq-sub|77"})
		assert.ErrorIs(t, err, directory.ErrNotFound)
		creds, err := e.dir.Credentials(tenant).List(e.ctx, u.ID, directory.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, creds.Items)
		invs, err := e.dir.Invitations(tenant).List(e.ctx, directory.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, invs.Items)
		n, err := users.Count(e.ctx, `groups pr`)
		require.NoError(t, err)
		assert.Zero(t, n)

		trail := walkAll(t, directory.ListOptions{}, func(o directory.ListOptions) (directory.PageOf[directory.AuditEntry], error) {
			return e.dir.Audit(tenant).List(e.ctx, o)
		})
		raw, err := json.Marshal(trail)
		require.NoError(t, err)
		assert.Empty(t, findPII(raw, pii), "the audit trail keeps no personal value")
		mine := e.auditOf(u.ID)
		assert.Equal(t, directory.OpUserAnonymize, mine[len(mine)-1].Action)
		assert.Equal(t, "dpo", mine[len(mine)-1].Actor)

		// The address is free again; the anonymized user is final.
		_, err = users.Create(e.ctx, directory.User{UserName: "new", Emails: []directory.Email{{Value: "zq.work7@pii-example.org"}}})
		require.NoError(t, err)
		_, err = users.Restore(e.ctx, u.ID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition)
		_, err = users.Update(e.ctx, u.ID, func(u *directory.User) error { u.Title = "back"; return nil })
		assert.ErrorIs(t, err, directory.ErrInvalidTransition)
		_, err = users.Enable(e.ctx, u.ID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition)
		var te *directory.TransitionError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, directory.StatusAnonymized, te.From)

		again, err := users.Anonymize(e.ctx, u.ID)
		require.NoError(t, err, "anonymizing again only scrubs again")
		assert.Equal(t, got.Meta.Version, again.Meta.Version)
		require.NoError(t, users.Purge(e.ctx, u.ID), "an anonymized user can be purged")
	})

	t.Run("FromAnyStatus", func(t *testing.T) {
		e := s.newEnv(t)
		for _, st := range []directory.Status{directory.StatusInvited, directory.StatusProvisioned, directory.StatusActive, directory.StatusDisabled, directory.StatusDeleted} {
			in := directory.User{UserName: "u-" + string(st), Status: st}
			if st == directory.StatusDeleted {
				in.Status = ""
			}
			u := e.create(e.users, in)
			if st == directory.StatusDeleted {
				require.NoError(t, e.users.Delete(e.ctx, u.ID))
			}
			got, err := e.users.Anonymize(e.ctx, u.ID)
			require.NoErrorf(t, err, "anonymize a user %s", st)
			assert.Equal(t, directory.StatusDeleted, got.Status)
		}
		_, err := e.users.Anonymize(e.ctx, "missing")
		assert.ErrorIs(t, err, directory.ErrNotFound)
	})

	t.Run("Bytes", func(t *testing.T) {
		b := s.newBackend(t)
		dumper, ok := b.(Dumper)
		if !ok {
			t.Skip("the backend is not a conformance.Dumper: its own tests call CheckErasure")
		}
		CheckErasure(t, b, func(t *testing.T) []byte {
			var buf bytes.Buffer
			require.NoError(t, dumper.Dump(&buf))
			return buf.Bytes()
		})
	})
}
