package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testCurrentUser checks Me (a verified token's claims: sub against
// subject, else a verified email) and TenantsOf (every tenant a subject
// has a user in, kept in step with every write of a subject).
func testCurrentUser(t *testing.T, s *suite) {
	t.Run("Me", func(t *testing.T) {
		e := s.newEnv(t)
		bySub := e.create(e.users, directory.User{UserName: "sub", Subject: "idp|123", Emails: []directory.Email{{Value: "sub@x.io"}}})
		byMail := e.create(e.users, directory.User{UserName: "mail", Emails: []directory.Email{{Value: "Mail@X.io"}}})
		gone := e.create(e.users, directory.User{UserName: "gone", Subject: "idp|gone"})
		require.NoError(t, e.users.Delete(e.ctx, gone.ID))

		cases := []struct {
			name   string
			claims directory.Claims
			want   string // user id; "" for ErrNotFound
		}{
			{"Subject", directory.Claims{Subject: "idp|123"}, bySub.ID},
			{"SubjectWinsOverEmail", directory.Claims{Subject: "idp|123", Email: "mail@x.io", EmailVerified: true}, bySub.ID},
			{"VerifiedEmail", directory.Claims{Subject: "idp|unknown", Email: "MAIL@x.IO", EmailVerified: true}, byMail.ID},
			{"UnverifiedEmail", directory.Claims{Email: "mail@x.io"}, ""},
			{"SubjectIsCaseExact", directory.Claims{Subject: "IDP|123"}, ""},
			{"DeletedUser", directory.Claims{Subject: "idp|gone"}, ""},
			{"Nothing", directory.Claims{}, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u, err := e.users.Me(e.ctx, c.claims)
				if c.want == "" {
					assert.ErrorIs(t, err, directory.ErrNotFound)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, c.want, u.ID)
			})
		}

		claims := directory.ClaimsFromMap(map[string]any{"sub": "idp|none", "email": "sub@x.io", "email_verified": "true"})
		assert.Equal(t, directory.Claims{Subject: "idp|none", Email: "sub@x.io", EmailVerified: true}, claims)
		u, err := e.users.Me(e.ctx, claims)
		require.NoError(t, err)
		assert.Equal(t, bySub.ID, u.ID)

		u, err = e.users.UpdateMe(e.ctx, directory.Claims{Subject: "idp|123"}, func(u *directory.User) error {
			u.Emails[0].Value = "sub@new.io"
			u.ID = "changed"
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, bySub.ID, u.ID)
		trail := e.auditOf(bySub.ID)
		_, ok := changeOf(trail[len(trail)-1], "emails")
		assert.True(t, ok, "the email change of the current user is audited")
	})

	t.Run("TenantsOf", func(t *testing.T) {
		e := s.newEnv(t)
		const sub = "oidc|ada"
		a := e.create(e.dir.Users("t-a"), directory.User{UserName: "ada", Subject: sub})
		b := e.create(e.dir.Users("t-b"), directory.User{UserName: "ada", Subject: sub})
		c := e.create(e.dir.Users("t-c"), directory.User{UserName: "ada", Subject: sub})
		e.create(e.dir.Users("t-d"), directory.User{UserName: "ada", Subject: "oidc|other"})
		require.NoError(t, e.dir.Users("t-c").Delete(e.ctx, c.ID))

		tenants := func() []string {
			ms, err := e.dir.TenantsOf(e.ctx, sub)
			require.NoError(t, err)
			var out []string
			for _, m := range ms {
				out = append(out, m.Tenant)
			}
			return out
		}
		ms, err := e.dir.TenantsOf(e.ctx, sub)
		require.NoError(t, err)
		assert.Equal(t, []directory.Membership{
			{Tenant: "t-a", UserID: a.ID, Status: directory.StatusActive},
			{Tenant: "t-b", UserID: b.ID, Status: directory.StatusActive},
		}, ms, "a deleted user is not a membership")

		_, err = e.dir.Users("t-c").Restore(e.ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"t-a", "t-b", "t-c"}, tenants())

		// A subject change moves the entry.
		_, err = e.dir.Users("t-b").Update(e.ctx, b.ID, func(u *directory.User) error { u.Subject = "oidc|new"; return nil })
		require.NoError(t, err)
		assert.Equal(t, []string{"t-a", "t-c"}, tenants())
		ms, err = e.dir.TenantsOf(e.ctx, "oidc|new")
		require.NoError(t, err)
		assert.Equal(t, []directory.Membership{{Tenant: "t-b", UserID: b.ID, Status: directory.StatusActive}}, ms)
		_, err = e.dir.Users("t-b").Patch(e.ctx, b.ID, []directory.PatchOp{{Op: "replace", Path: "subject", Value: sub}})
		require.NoError(t, err)
		assert.Equal(t, []string{"t-a", "t-b", "t-c"}, tenants())

		// Purge removes it.
		require.NoError(t, e.dir.Users("t-a").Delete(e.ctx, a.ID))
		require.NoError(t, e.dir.Users("t-a").Purge(e.ctx, a.ID))
		assert.Equal(t, []string{"t-b", "t-c"}, tenants())

		// An imported user is indexed too; the reserved tenant is no tenant.
		rep, err := e.dir.Users("t-e").Import(e.ctx, func(yield func(directory.User) bool) {
			yield(directory.User{UserName: "ada", Subject: sub})
		})
		require.NoError(t, err)
		require.NoError(t, rep.Results[0].Err)
		assert.Equal(t, []string{"t-b", "t-c", "t-e"}, tenants())
		_, err = e.dir.Users(directory.GlobalTenant).Create(e.ctx, directory.User{UserName: "x"})
		assert.ErrorIs(t, err, directory.ErrInvalid)
		ms, err = e.dir.TenantsOf(e.ctx, "nobody")
		require.NoError(t, err)
		assert.Empty(t, ms)
	})
}
