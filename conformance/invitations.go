package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testInvitations checks invitations (DESIGN §2): a batch reports one
// outcome per address, invited users are created with status invited,
// expiry is enforced on every read (stores need no TTL index), resend,
// cancel and accept follow the invitation's states.
func testInvitations(t *testing.T, s *suite) {
	const ttl = 48 * time.Hour

	t.Run("Send", func(t *testing.T) {
		e := s.newEnv(t, directory.WithInvitationTTL(ttl))
		inv := e.dir.Invitations(tenant)
		active := e.create(e.users, directory.User{UserName: "act", Emails: []directory.Email{{Value: "active@x.io"}}})
		disabled := e.create(e.users, directory.User{UserName: "dis", Status: directory.StatusDisabled, Emails: []directory.Email{{Value: "disabled@x.io"}}})

		ctx := withActor(e.ctx, "admin-1")
		res, err := inv.Send(ctx, []string{"new@x.io", "ACTIVE@x.io", "disabled@x.io", "not an address", "new@x.io"}, directory.InviteOptions{Roles: []string{"auditor"}})
		require.NoError(t, err)
		require.Len(t, res, 5)
		outcomes := make([]directory.InviteOutcome, len(res))
		for i, r := range res {
			outcomes[i] = r.Outcome
		}
		assert.Equal(t, []directory.InviteOutcome{
			directory.InviteInvited, directory.InviteActive, directory.InviteDisabled, directory.InviteInvalid, directory.InviteExists,
		}, outcomes)
		assert.Equal(t, active.ID, res[1].UserID)
		assert.Equal(t, disabled.ID, res[2].UserID)
		assert.ErrorIs(t, res[3].Err, directory.ErrInvalid)
		assert.Equal(t, res[0].UserID, res[4].UserID, "the repeated address found the user the first made")
		require.NotEmpty(t, res[0].InvitationID)

		u := e.get(e.users, res[0].UserID)
		assert.Equal(t, directory.StatusInvited, u.Status)
		assert.Equal(t, "new@x.io", u.UserName)
		assert.Equal(t, []directory.Email{{Value: "new@x.io", Primary: true}}, u.Emails)
		assert.Equal(t, []directory.RoleRef{{Value: "auditor"}}, u.Roles)

		got, err := inv.Get(e.ctx, res[0].InvitationID)
		require.NoError(t, err)
		assert.Equal(t, "new@x.io", got.Email)
		assert.Equal(t, u.ID, got.UserID)
		assert.Equal(t, "admin-1", got.InvitedBy)
		assert.Equal(t, directory.InvitationPending, got.Status)
		assert.Equal(t, []string{"auditor"}, got.Roles)
		assert.Equal(t, ttl, got.Expires.Sub(got.Created))

		_, err = inv.Send(e.ctx, []string{"x@x.io"}, directory.InviteOptions{Roles: []string{"ghost"}})
		assert.ErrorIs(t, err, directory.ErrInvalid, "a role that does not exist fails the batch")
		n, err := e.users.Count(e.ctx, `userName eq "x@x.io"`)
		require.NoError(t, err)
		assert.Zero(t, n, "and creates nobody")

		// Resend to an invited address: the same invitation, a new expiry.
		e.clock.Set(got.Created.Add(time.Hour))
		res, err = inv.Send(e.ctx, []string{"new@x.io"}, directory.InviteOptions{Resend: true})
		require.NoError(t, err)
		assert.Equal(t, directory.InviteInvited, res[0].Outcome)
		again, err := inv.Get(e.ctx, res[0].InvitationID)
		require.NoError(t, err)
		assert.Equal(t, got.ID, again.ID)
		assert.True(t, again.Expires.After(got.Expires), "a new expiry")
	})

	t.Run("ExpiryResendAccept", func(t *testing.T) {
		e := s.newEnv(t, directory.WithInvitationTTL(ttl))
		inv := e.dir.Invitations(tenant)
		res, err := inv.Send(e.ctx, []string{"a@x.io", "b@x.io"}, directory.InviteOptions{})
		require.NoError(t, err)
		a, b := res[0], res[1]
		sent, err := inv.Get(e.ctx, a.InvitationID)
		require.NoError(t, err)

		count := func(filter string) int {
			page, err := inv.List(e.ctx, directory.ListOptions{Filter: filter, Total: true})
			require.NoError(t, err)
			return *page.Total
		}
		assert.Equal(t, 2, count(`status eq "pending"`))

		// Past the expiry, reads see the invitations expired.
		e.clock.Set(sent.Expires.Add(time.Second))
		got, err := inv.Get(e.ctx, a.InvitationID)
		require.NoError(t, err)
		assert.Equal(t, directory.InvitationExpired, got.Status)
		assert.Equal(t, 0, count(`status eq "pending"`))
		assert.Equal(t, 2, count(`status eq "expired"`))
		_, err = inv.Accept(e.ctx, a.InvitationID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition, "an expired invitation cannot be accepted")
		assert.Equal(t, directory.StatusInvited, e.get(e.users, a.UserID).Status)

		re, err := inv.Resend(e.ctx, a.InvitationID)
		require.NoError(t, err)
		assert.Equal(t, directory.InvitationPending, re.Status)
		assert.True(t, re.Expires.After(sent.Expires))
		assert.Equal(t, 1, count(`status eq "pending"`))

		u, err := inv.Accept(e.ctx, a.InvitationID)
		require.NoError(t, err)
		assert.Equal(t, directory.StatusActive, u.Status)
		assert.Equal(t, directory.StatusActive, e.get(e.users, a.UserID).Status)
		got, err = inv.Get(e.ctx, a.InvitationID)
		require.NoError(t, err)
		assert.Equal(t, directory.InvitationAccepted, got.Status)
		assert.False(t, got.Accepted.IsZero())
		_, err = inv.Accept(e.ctx, a.InvitationID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition, "accepted once")
		_, err = inv.Resend(e.ctx, a.InvitationID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition, "an accepted invitation cannot be resent")

		// Sending to the accepted user's address now reports it active.
		res, err = inv.Send(e.ctx, []string{"a@x.io"}, directory.InviteOptions{Resend: true})
		require.NoError(t, err)
		assert.Equal(t, directory.InviteActive, res[0].Outcome)

		page, err := inv.List(e.ctx, directory.ListOptions{Filter: `email eq "B@X.IO"`})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, b.InvitationID, page.Items[0].ID)
		_, err = inv.Get(e.ctx, "missing")
		assert.ErrorIs(t, err, directory.ErrNotFound)
	})

	t.Run("CancelPending", func(t *testing.T) {
		e := s.newEnv(t, directory.WithInvitationTTL(ttl))
		inv := e.dir.Invitations(tenant)
		res, err := inv.Send(e.ctx, []string{"c@x.io"}, directory.InviteOptions{})
		require.NoError(t, err)
		uid := res[0].UserID
		n, err := inv.CancelPending(e.ctx, uid)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got, err := inv.Get(e.ctx, res[0].InvitationID)
		require.NoError(t, err)
		assert.Equal(t, directory.InvitationCancelled, got.Status)
		n, err = inv.CancelPending(e.ctx, uid)
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = inv.Accept(e.ctx, res[0].InvitationID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition)
		_, err = inv.Resend(e.ctx, res[0].InvitationID)
		assert.ErrorIs(t, err, directory.ErrInvalidTransition)

		// A new invitation for the still invited user.
		res2, err := inv.Send(e.ctx, []string{"c@x.io"}, directory.InviteOptions{Resend: true})
		require.NoError(t, err)
		assert.Equal(t, directory.InviteInvited, res2[0].Outcome)
		assert.NotEqual(t, res[0].InvitationID, res2[0].InvitationID)
		mine, err := inv.List(e.ctx, directory.ListOptions{Filter: `userId eq "` + uid + `"`, Sort: "created"})
		require.NoError(t, err)
		assert.Len(t, mine.Items, 2)
	})

	t.Run("PurgeRemovesInvitations", func(t *testing.T) {
		e := s.newEnv(t)
		inv := e.dir.Invitations(tenant)
		res, err := inv.Send(e.ctx, []string{"p@x.io"}, directory.InviteOptions{})
		require.NoError(t, err)
		require.NoError(t, e.users.Delete(e.ctx, res[0].UserID))
		require.NoError(t, e.users.Purge(e.ctx, res[0].UserID))
		_, err = inv.Get(e.ctx, res[0].InvitationID)
		assert.ErrorIs(t, err, directory.ErrNotFound)
	})
}
