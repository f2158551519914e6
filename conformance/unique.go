package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// assertTaken checks err is ErrAlreadyExists from the unique index named
// index ("userName", "emails"; "" to skip the check).
func assertTaken(t *testing.T, err error, index string, msgAndArgs ...any) {
	t.Helper()
	if !assert.ErrorIs(t, err, directory.ErrAlreadyExists, msgAndArgs...) {
		return
	}
	assert.ErrorIs(t, err, backend.ErrAlreadyExists, msgAndArgs...)
	var be *backend.Error
	if index != "" && assert.True(t, errors.As(err, &be), "ErrAlreadyExists reaches a *backend.Error") {
		assert.Equal(t, index, be.Index, "the error names the unique index")
	}
}

// testUniqueness checks DESIGN §2's rules: userName and every email are
// unique per tenant, case-insensitively (NFC and full case folding),
// across every status but purged.
func testUniqueness(t *testing.T, s *suite) {
	userNames := []struct{ first, second string }{
		{"alice", "ALICE"},
		{"Alice", "aLiCe"},
		{"straße", "STRASSE"},
		{"STRASSE", "strasse"},
		{"José", "JOSE\u0301"},
		{"Ǆemal", "ǆemal"},
	}
	for _, c := range userNames {
		t.Run("UserNameFolded/"+c.first+"-"+c.second, func(t *testing.T) {
			e := s.newEnv(t)
			first := e.create(e.users, directory.User{UserName: c.first})
			_, err := e.users.Create(e.ctx, directory.User{UserName: c.second})
			assertTaken(t, err, "userName", "userName %q after %q", c.second, c.first)
			n, err := e.users.Count(e.ctx, "")
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.Equal(t, first, e.get(e.users, first.ID))
		})
	}
	t.Run("UserNameNotFoldedTogether", func(t *testing.T) {
		// Folding is locale-independent: İ folds to i + combining dot.
		e := s.newEnv(t)
		e.create(e.users, directory.User{UserName: "ilker"})
		_, err := e.users.Create(e.ctx, directory.User{UserName: "İlker"})
		assert.NoError(t, err, "İlker and ilker are different userNames")
	})

	emails := []struct{ first, second string }{
		{"ann@example.com", "ANN@EXAMPLE.COM"},
		{"Ann@Example.com", "ann@example.COM"},
		{"straße@x.io", "STRASSE@x.io"},
		{"STRASSE@x.io", "straße@x.io"},
		{"josé@example.com", "JOSE\u0301@example.com"},
	}
	for _, c := range emails {
		t.Run("EmailFolded/"+c.first+"-"+c.second, func(t *testing.T) {
			e := s.newEnv(t)
			e.create(e.users, directory.User{UserName: "u1", Emails: []directory.Email{{Value: c.first}}})
			_, err := e.users.Create(e.ctx, directory.User{UserName: "u2", Emails: []directory.Email{{Value: "other@example.com"}, {Value: c.second}}})
			assertTaken(t, err, "emails", "email %q after %q", c.second, c.first)
			n, err := e.users.Count(e.ctx, `emails.value eq "other@example.com"`)
			require.NoError(t, err)
			assert.Zero(t, n, "a refused create stores none of its emails")
			// The other address of the refused user is still free.
			e.create(e.users, directory.User{UserName: "u3", Emails: []directory.Email{{Value: "other@example.com"}}})
		})
	}

	t.Run("HeldAcrossStatuses", func(t *testing.T) {
		for _, st := range []directory.Status{directory.StatusInvited, directory.StatusProvisioned, directory.StatusActive, directory.StatusDisabled, directory.StatusDeleted} {
			t.Run(string(st), func(t *testing.T) {
				e := s.newEnv(t)
				create := st
				if st == directory.StatusDeleted {
					create = directory.StatusActive
				}
				u := e.create(e.users, directory.User{UserName: "holder", Status: create, Emails: []directory.Email{{Value: "held@example.com"}}})
				if st == directory.StatusDeleted {
					require.NoError(t, e.users.Delete(e.ctx, u.ID))
				}
				_, err := e.users.Create(e.ctx, directory.User{UserName: "taker", Emails: []directory.Email{{Value: "Held@Example.com"}}})
				assertTaken(t, err, "emails", "email held by a %s user", st)
				_, err = e.users.Create(e.ctx, directory.User{UserName: "HOLDER"})
				assertTaken(t, err, "userName", "userName held by a %s user", st)
			})
		}
	})

	t.Run("FreedByPurge", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "gone", Emails: []directory.Email{{Value: "gone@example.com"}, {Value: "gone2@example.com"}}})
		require.NoError(t, e.users.Delete(e.ctx, u.ID))
		_, err := e.users.Create(e.ctx, directory.User{UserName: "new", Emails: []directory.Email{{Value: "GONE@example.com"}}})
		assertTaken(t, err, "emails", "a deleted user still holds its email")
		require.NoError(t, e.users.Purge(e.ctx, u.ID))
		n := e.create(e.users, directory.User{UserName: "GONE", Emails: []directory.Email{{Value: "GONE@example.com"}, {Value: "gone2@EXAMPLE.com"}}})
		assert.NotEqual(t, u.ID, n.ID)
	})

	t.Run("PerTenant", func(t *testing.T) {
		e := s.newEnv(t)
		a := e.create(e.users, directory.User{UserName: "same", Emails: []directory.Email{{Value: "same@example.com"}}})
		other := e.dir.Users("other-tenant")
		b := e.create(other, directory.User{UserName: "SAME", Emails: []directory.Email{{Value: "SAME@example.com"}}})
		assert.Equal(t, "same", e.get(e.users, a.ID).UserName)
		assert.Equal(t, "SAME", e.get(other, b.ID).UserName)
		_, err := other.Create(e.ctx, directory.User{UserName: "x", Emails: []directory.Email{{Value: "same@EXAMPLE.com"}}})
		assertTaken(t, err, "emails", "uniqueness still holds within the second tenant")
	})

	t.Run("UpdateTakingAnotherUsersEmail", func(t *testing.T) {
		e := s.newEnv(t)
		a := e.create(e.users, directory.User{UserName: "a", Emails: []directory.Email{{Value: "a@example.com"}}})
		b := e.create(e.users, directory.User{UserName: "b", Emails: []directory.Email{{Value: "b@example.com"}}})
		_, err := e.users.Update(e.ctx, b.ID, func(u *directory.User) error {
			u.Title = "changed"
			u.Emails = append(u.Emails, directory.Email{Value: "A@EXAMPLE.COM"})
			return nil
		})
		assertTaken(t, err, "emails")
		_, err = e.users.Patch(e.ctx, b.ID, []directory.PatchOp{{Op: "replace", Path: `emails[value eq "b@example.com"].value`, Value: "a@Example.com"}})
		assertTaken(t, err, "emails", "patch")
		_, err = e.users.Update(e.ctx, b.ID, func(u *directory.User) error { u.UserName = "A"; return nil })
		assertTaken(t, err, "userName")
		assert.Equal(t, b, e.get(e.users, b.ID), "nothing changed")
		assert.Equal(t, a, e.get(e.users, a.ID), "nothing changed")
	})

	t.Run("OwnValuesReusable", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "case", Emails: []directory.Email{{Value: "swap@example.com"}, {Value: "keep@example.com"}}})
		got, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
			x.UserName = "CASE"
			x.Emails[0].Value = "SWAP@Example.COM"
			x.Emails[0], x.Emails[1] = x.Emails[1], x.Emails[0]
			return nil
		})
		require.NoError(t, err, "a user may change the case of its own values")
		assert.Equal(t, "CASE", got.UserName)
		assert.Equal(t, []directory.Email{{Value: "keep@example.com"}, {Value: "SWAP@Example.COM"}}, got.Emails)
		// The old spelling is still held, by the same user.
		_, err = e.users.Create(e.ctx, directory.User{UserName: "x", Emails: []directory.Email{{Value: "swap@example.com"}}})
		assertTaken(t, err, "emails")
		// An email dropped by an update is free again.
		_, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error { x.Emails = x.Emails[:1]; return nil })
		require.NoError(t, err)
		e.create(e.users, directory.User{UserName: "x", Emails: []directory.Email{{Value: "swap@example.com"}}})
		// So is an old userName.
		_, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error { x.UserName = "renamed"; return nil })
		require.NoError(t, err)
		e.create(e.users, directory.User{UserName: "case"})
	})

	t.Run("UniqueEmailsOff", func(t *testing.T) {
		e := s.newEnv(t, directory.WithUniqueEmails(false))
		e.create(e.users, directory.User{UserName: "a", Emails: []directory.Email{{Value: "shared@example.com"}}})
		e.create(e.users, directory.User{UserName: "b", Emails: []directory.Email{{Value: "SHARED@example.com"}}})
		n, err := e.users.Count(e.ctx, `emails.value eq "shared@example.com"`)
		require.NoError(t, err)
		assert.Equal(t, 2, n)
		_, err = e.users.Create(e.ctx, directory.User{UserName: "A"})
		assertTaken(t, err, "userName", "userName stays unique")
	})
}
