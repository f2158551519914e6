package conformance

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testCount checks Count and List's Total against the oracle, and that
// neither serves a stale result after a write.
func testCount(t *testing.T, s *suite) {
	t.Run("Oracle", func(t *testing.T) {
		e := s.newEnv(t)
		stored := e.load(e.users, queryFixtures(s.seed))
		for _, c := range oracleCases() {
			want := expect(t, c, stored)
			n, err := e.users.Count(e.ctx, c.filter)
			require.NoError(t, err)
			assert.Equalf(t, len(modeSet(want, directory.ExcludeDeleted)), n, "Count(%s)", c.filter)
			for _, mode := range []directory.DeletedMode{directory.ExcludeDeleted, directory.IncludeDeleted, directory.OnlyDeleted} {
				p, err := e.users.List(e.ctx, directory.ListOptions{Filter: c.filter, Limit: 1, Total: true, Deleted: mode})
				require.NoError(t, err)
				if assert.NotNil(t, p.Total) {
					assert.Equalf(t, len(modeSet(want, mode)), *p.Total, "Total of %s, %s", c.filter, modeNames[mode])
				}
			}
		}
		n, err := e.users.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, len(modeSet(stored, directory.ExcludeDeleted)), n, "Count of everything")
	})

	t.Run("TotalOnEveryPage", func(t *testing.T) {
		e := s.newEnv(t)
		stored := e.load(e.users, queryFixtures(s.seed))
		want := len(modeSet(stored, directory.ExcludeDeleted))
		opts := directory.ListOptions{Limit: 4, Total: true, Sort: "userName"}
		for range maxPages {
			p, err := e.users.List(e.ctx, opts)
			require.NoError(t, err)
			if assert.NotNil(t, p.Total) {
				assert.Equal(t, want, *p.Total, "Total counts every match, not the page")
			}
			if p.Next == "" {
				break
			}
			opts.Cursor = p.Next
		}
		p, err := e.users.List(e.ctx, directory.ListOptions{Limit: 4})
		require.NoError(t, err)
		assert.Nil(t, p.Total, "Total is opt-in")
	})

	t.Run("FreshAfterWrites", func(t *testing.T) {
		// Counts and lists never serve a result computed before a write
		// that has returned (the directory caches query results).
		e := s.newEnv(t)
		h := e.users
		count := func(filter string) int {
			n, err := h.Count(e.ctx, filter)
			require.NoError(t, err)
			return n
		}
		total := func(filter string) int {
			p, err := h.List(e.ctx, directory.ListOptions{Filter: filter, Total: true})
			require.NoError(t, err)
			require.NotNil(t, p.Total)
			require.Len(t, p.Users, *p.Total)
			return *p.Total
		}
		const f = `title eq "x"`
		var last directory.User
		for i := range 5 {
			assert.Equal(t, i, count(f))
			assert.Equal(t, i, total(f))
			last = e.create(h, directory.User{UserName: fmt.Sprintf("u%d", i), Title: "x"})
		}
		assert.Equal(t, 5, count(f))
		assert.Equal(t, 5, total(f))
		_, err := h.Update(e.ctx, last.ID, func(u *directory.User) error { u.Title = "y"; return nil })
		require.NoError(t, err)
		assert.Equal(t, 4, count(f), "after Update")
		assert.Equal(t, 4, total(f), "after Update")
		_, err = h.Patch(e.ctx, last.ID, []directory.PatchOp{{Op: "replace", Path: "title", Value: "x"}})
		require.NoError(t, err)
		assert.Equal(t, 5, count(f), "after Patch")
		require.NoError(t, h.Delete(e.ctx, last.ID))
		assert.Equal(t, 4, count(f), "after Delete")
		assert.Equal(t, 4, total(f), "after Delete")
		_, err = h.Restore(e.ctx, last.ID)
		require.NoError(t, err)
		assert.Equal(t, 5, count(f), "after Restore")
		require.NoError(t, h.Delete(e.ctx, last.ID))
		require.NoError(t, h.Purge(e.ctx, last.ID))
		assert.Equal(t, 4, count(f), "after Purge")
		p, err := h.List(e.ctx, directory.ListOptions{Filter: f, Deleted: directory.OnlyDeleted, Total: true})
		require.NoError(t, err)
		assert.Equal(t, 0, *p.Total, "a purged user is gone from deleted lists")
		rep, err := h.Import(e.ctx, func(yield func(directory.User) bool) { yield(directory.User{UserName: "imp", Title: "X"}) })
		require.NoError(t, err)
		require.Equal(t, 1, rep.Created)
		assert.Equal(t, 5, count(f), "after Import")
		// Results handed out are copies: changing them changes no later
		// result.
		p, err = h.List(e.ctx, directory.ListOptions{Filter: f, Sort: "userName"})
		require.NoError(t, err)
		p.Users[0].UserName = "mutated"
		p.Users[0].Emails = append(p.Users[0].Emails, directory.Email{Value: "m@x.io"})
		again, err := h.List(e.ctx, directory.ListOptions{Filter: f, Sort: "userName"})
		require.NoError(t, err)
		assert.Equal(t, "imp", again.Users[0].UserName)
		assert.Empty(t, again.Users[0].Emails)
	})

	t.Run("InvalidFilter", func(t *testing.T) {
		e := s.newEnv(t)
		_, err := e.users.Count(e.ctx, `userName eq`)
		assert.ErrorIs(t, err, directory.ErrInvalidFilter)
		_, err = e.users.Count(e.ctx, `nosuch pr`)
		assert.ErrorIs(t, err, directory.ErrInvalidFilter)
	})
}
