package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testVersions checks optimistic concurrency (DESIGN §4): meta.version
// starts at 1 and rises by exactly one per write; a write conditional on a
// stale version fails with ErrConflict and changes nothing.
func testVersions(t *testing.T, s *suite) {
	writes := []struct {
		name string
		// prepare puts the user in a status where the write is allowed.
		prepare func(e *env, id string)
		write   func(e *env, id string, opts ...directory.WriteOption) error
	}{
		{"Update", nil, func(e *env, id string, opts ...directory.WriteOption) error {
			_, err := e.users.Update(e.ctx, id, func(u *directory.User) error { u.Title = "changed"; return nil }, opts...)
			return err
		}},
		{"Patch", nil, func(e *env, id string, opts ...directory.WriteOption) error {
			_, err := e.users.Patch(e.ctx, id, []directory.PatchOp{{Op: "replace", Path: "title", Value: "patched"}}, opts...)
			return err
		}},
		{"Disable", nil, func(e *env, id string, opts ...directory.WriteOption) error {
			_, err := e.users.Disable(e.ctx, id, opts...)
			return err
		}},
		{"Enable", func(e *env, id string) {
			_, err := e.users.Disable(e.ctx, id)
			require.NoError(e.t, err)
		}, func(e *env, id string, opts ...directory.WriteOption) error {
			_, err := e.users.Enable(e.ctx, id, opts...)
			return err
		}},
		{"Delete", nil, func(e *env, id string, opts ...directory.WriteOption) error {
			return e.users.Delete(e.ctx, id, opts...)
		}},
		{"Restore", func(e *env, id string) {
			require.NoError(e.t, e.users.Delete(e.ctx, id))
		}, func(e *env, id string, opts ...directory.WriteOption) error {
			_, err := e.users.Restore(e.ctx, id, opts...)
			return err
		}},
		{"Purge", func(e *env, id string) {
			require.NoError(e.t, e.users.Delete(e.ctx, id))
		}, func(e *env, id string, opts ...directory.WriteOption) error {
			return e.users.Purge(e.ctx, id, opts...)
		}},
	}
	for _, w := range writes {
		t.Run("StaleIfVersion/"+w.name, func(t *testing.T) {
			e := s.newEnv(t)
			u := e.create(e.users, directory.User{UserName: "v", Title: "orig"})
			if w.prepare != nil {
				w.prepare(e, u.ID)
			}
			cur := e.get(e.users, u.ID)
			for _, stale := range []int64{cur.Meta.Version - 1, cur.Meta.Version + 1, cur.Meta.Version + 100} {
				if stale <= 0 {
					continue
				}
				err := w.write(e, u.ID, directory.IfVersion(stale))
				assert.ErrorIsf(t, err, directory.ErrConflict, "IfVersion(%d) with version %d", stale, cur.Meta.Version)
				assert.Equal(t, cur, e.get(e.users, u.ID), "a conflicting write changes nothing")
			}
			require.NoError(t, w.write(e, u.ID, directory.IfVersion(cur.Meta.Version)), "IfVersion(current)")
			after, err := e.users.Get(e.ctx, u.ID)
			if w.name == "Purge" {
				assert.ErrorIs(t, err, directory.ErrNotFound)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, cur.Meta.Version+1, after.Meta.Version, "a write bumps the version by one")
			// The version just used is stale now.
			err = w.write(e, u.ID, directory.IfVersion(cur.Meta.Version))
			assert.ErrorIs(t, err, directory.ErrConflict, "the same IfVersion a second time")
		})
	}

	t.Run("OnePerWrite", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "counted"})
		require.Equal(t, int64(1), u.Meta.Version)
		steps := []func() error{
			func() error {
				_, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error { x.Title = "a"; return nil })
				return err
			},
			func() error {
				_, err := e.users.Update(e.ctx, u.ID, func(*directory.User) error { return nil })
				return err
			},
			func() error {
				_, err := e.users.Patch(e.ctx, u.ID, []directory.PatchOp{{Op: "add", Path: "nickName", Value: "n"}})
				return err
			},
			func() error { _, err := e.users.Disable(e.ctx, u.ID); return err },
			func() error { _, err := e.users.Enable(e.ctx, u.ID); return err },
			func() error { return e.users.Delete(e.ctx, u.ID) },
			func() error { _, err := e.users.Restore(e.ctx, u.ID); return err },
			func() error {
				_, err := e.users.Patch(e.ctx, u.ID, []directory.PatchOp{{Op: "remove", Path: "nickName"}})
				return err
			},
		}
		prevModified := u.Meta.LastModified
		for i, step := range steps {
			require.NoErrorf(t, step(), "step %d", i)
			got := e.get(e.users, u.ID)
			assert.Equalf(t, int64(i+2), got.Meta.Version, "version after write %d", i+1)
			assert.Truef(t, got.Meta.LastModified.After(prevModified), "meta.lastModified moves forward at step %d", i)
			assert.Truef(t, got.Meta.Created.Equal(u.Meta.Created), "meta.created is kept at step %d", i)
			prevModified = got.Meta.LastModified
		}
		// Failed writes do not count.
		_, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error { x.UserName = ""; return nil })
		require.ErrorIs(t, err, directory.ErrInvalid)
		_, err = e.users.Restore(e.ctx, u.ID)
		require.ErrorIs(t, err, directory.ErrInvalidTransition)
		assert.Equal(t, int64(len(steps)+1), e.get(e.users, u.ID).Meta.Version, "failed writes leave the version alone")
	})

	t.Run("PatchIfVersion", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "p"})
		ops := []directory.PatchOp{{Op: "replace", Path: "displayName", Value: "P"}}
		_, err := e.users.Patch(e.ctx, u.ID, ops, directory.IfVersion(2))
		assert.ErrorIs(t, err, directory.ErrConflict)
		assert.Equal(t, u, e.get(e.users, u.ID))
		got, err := e.users.Patch(e.ctx, u.ID, ops, directory.IfVersion(1))
		require.NoError(t, err)
		assert.Equal(t, int64(2), got.Meta.Version)
		assert.Equal(t, "P", got.DisplayName)
		_, err = e.users.Patch(e.ctx, u.ID, ops, directory.IfVersion(1))
		assert.ErrorIs(t, err, directory.ErrConflict)
	})

	t.Run("UpdateRetriesWithoutIfVersion", func(t *testing.T) {
		// Without IfVersion, Update retries when another write slips in
		// between its read and its write, and fn then sees the newer user.
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "retry"})
		calls := 0
		got, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
			calls++
			if calls == 1 {
				_, err := e.users.Update(e.ctx, u.ID, func(y *directory.User) error { y.NickName = "sneaky"; return nil })
				require.NoError(t, err)
			}
			x.Title = "mine"
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, calls, "fn runs again after a conflict")
		assert.Equal(t, "sneaky", got.NickName, "the intervening write is not lost")
		assert.Equal(t, "mine", got.Title)
		assert.Equal(t, int64(3), got.Meta.Version)

		// With IfVersion the same interleaving is a conflict.
		calls = 0
		_, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
			calls++
			_, err := e.users.Update(e.ctx, u.ID, func(y *directory.User) error { y.NickName = "again"; return nil })
			require.NoError(t, err)
			x.Title = "lost"
			return nil
		}, directory.IfVersion(3))
		assert.ErrorIs(t, err, directory.ErrConflict)
		assert.Equal(t, 1, calls)
		after := e.get(e.users, u.ID)
		assert.Equal(t, "mine", after.Title)
		assert.Equal(t, int64(4), after.Meta.Version)
	})
}
