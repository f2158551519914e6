package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testTenantIsolation checks that no call of one tenant's handle reads or
// writes another tenant's users (DESIGN §1: isolation by construction).
func testTenantIsolation(t *testing.T, s *suite) {
	setup := func(t *testing.T) (e *env, a, b *directory.Users, ua directory.User, before state) {
		e = s.newEnv(t)
		a, b = e.dir.Users("tenant-a"), e.dir.Users("tenant-b")
		for i, name := range []string{"ann", "ben", "cid", "dot", "eve"} {
			u := e.create(a, directory.User{UserName: name, Emails: []directory.Email{{Value: name + "@a.example"}}, Claims: map[string]any{"n": i}})
			if i == 0 {
				ua = u
			}
		}
		e.create(b, directory.User{UserName: "zed", Emails: []directory.Email{{Value: "zed@b.example"}}})
		return e, a, b, ua, e.snapshot(a)
	}

	t.Run("Reads", func(t *testing.T) {
		e, a, b, ua, _ := setup(t)
		_, err := b.Get(e.ctx, ua.ID)
		assert.ErrorIs(t, err, directory.ErrNotFound, "Get of another tenant's user")
		listed := listAll(t, e.ctx, b, directory.ListOptions{Deleted: directory.IncludeDeleted})
		if assert.Len(t, listed, 1) {
			assert.Equal(t, "zed", listed[0].UserName)
		}
		for _, f := range []string{`userName eq "ann"`, `emails co "@a.example"`, `id eq "` + ua.ID + `"`, `claims.n pr`} {
			n, err := b.Count(e.ctx, f)
			require.NoError(t, err)
			assert.Zerof(t, n, "Count(%s) from the other tenant", f)
			page, err := b.List(e.ctx, directory.ListOptions{Filter: f, Total: true, Deleted: directory.IncludeDeleted})
			require.NoError(t, err)
			assert.Emptyf(t, page.Users, "List(%s) from the other tenant", f)
			if assert.NotNil(t, page.Total) {
				assert.Zero(t, *page.Total)
			}
		}
		n, err := a.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 5, n)
		n, err = b.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		var all []string
		for u, err := range b.All(e.ctx, directory.ListOptions{Limit: 1}) {
			require.NoError(t, err)
			all = append(all, u.UserName)
		}
		assert.Equal(t, []string{"zed"}, all)
	})

	writes := []struct {
		name string
		do   func(e *env, h *directory.Users, id string) error
	}{
		{"Update", func(e *env, h *directory.Users, id string) error {
			_, err := h.Update(e.ctx, id, func(u *directory.User) error { u.Title = "pwned"; return nil })
			return err
		}},
		{"Patch", func(e *env, h *directory.Users, id string) error {
			_, err := h.Patch(e.ctx, id, []directory.PatchOp{{Op: "replace", Path: "title", Value: "pwned"}})
			return err
		}},
		{"Delete", func(e *env, h *directory.Users, id string) error { return h.Delete(e.ctx, id) }},
		{"Disable", func(e *env, h *directory.Users, id string) error { _, err := h.Disable(e.ctx, id); return err }},
		{"Restore", func(e *env, h *directory.Users, id string) error { _, err := h.Restore(e.ctx, id); return err }},
		{"Purge", func(e *env, h *directory.Users, id string) error { return h.Purge(e.ctx, id) }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			e, a, b, ua, before := setup(t)
			if w.name == "Restore" || w.name == "Purge" {
				// Make the write allowed had it been in the right tenant.
				require.NoError(t, a.Delete(e.ctx, ua.ID))
				before = e.snapshot(a)
			}
			err := w.do(e, b, ua.ID)
			assert.ErrorIs(t, err, directory.ErrNotFound, "%s of another tenant's user", w.name)
			assert.Equal(t, before, e.snapshot(a), "the other tenant is untouched")
			n, err := b.Count(e.ctx, "")
			require.NoError(t, err)
			assert.Equal(t, 1, n, "nothing was created in the calling tenant")
		})
	}

	t.Run("SameIDInTwoTenants", func(t *testing.T) {
		e, a, b, ua, before := setup(t)
		rep, err := b.Import(e.ctx, func(yield func(directory.User) bool) {
			yield(directory.User{ID: ua.ID, UserName: "imported", Emails: []directory.Email{{Value: "ann@a.example"}}})
		})
		require.NoError(t, err)
		require.Len(t, rep.Results, 1)
		require.NoError(t, rep.Results[0].Err, "ids are per tenant")
		got := e.get(b, ua.ID)
		assert.Equal(t, "imported", got.UserName)
		assert.Equal(t, before, e.snapshot(a), "the other tenant's user with that id is untouched")
		_, err = b.Update(e.ctx, ua.ID, func(u *directory.User) error { u.Title = "b's"; return nil })
		require.NoError(t, err)
		assert.Equal(t, before, e.snapshot(a))
		require.NoError(t, b.Delete(e.ctx, ua.ID))
		require.NoError(t, b.Purge(e.ctx, ua.ID))
		assert.Equal(t, before, e.snapshot(a))
	})

	t.Run("Cursors", func(t *testing.T) {
		e, a, b, _, _ := setup(t)
		for _, opts := range []directory.ListOptions{
			{Limit: 2},
			{Limit: 2, Sort: "userName"},
			{Limit: 2, Filter: `emails pr`, Sort: "-meta.created"},
		} {
			page, err := a.List(e.ctx, opts)
			require.NoError(t, err)
			require.NotEmpty(t, page.Next)
			for _, h := range []*directory.Users{b, e.dir.Users("tenant-c")} {
				o := opts
				o.Cursor = page.Next
				_, err = h.List(e.ctx, o)
				assert.ErrorIsf(t, err, directory.ErrInvalidCursor, "a cursor of tenant-a used in %s", h.Tenant())
			}
			next, err := a.List(e.ctx, directory.ListOptions{Limit: opts.Limit, Sort: opts.Sort, Filter: opts.Filter, Cursor: page.Next})
			require.NoError(t, err, "the cursor still works in its own tenant")
			require.NotEmpty(t, next.Prev)
			o := opts
			o.Cursor = next.Prev
			_, err = b.List(e.ctx, o)
			assert.ErrorIs(t, err, directory.ErrInvalidCursor, "a Prev cursor of tenant-a used in tenant-b")
		}
	})
}
