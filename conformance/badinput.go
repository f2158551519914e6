package conformance

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testBadInput checks DESIGN §4's atomicity from the outside: every
// refused write leaves the tenant exactly as it was (every user, field and
// version), and the other tenants too.
func testBadInput(t *testing.T, s *suite) {
	type ids struct{ active, deleted, other string }
	writes := []struct {
		name string
		want error
		do   func(e *env, u ids) error
	}{
		{"CreateInvalid", directory.ErrInvalid, func(e *env, _ ids) error {
			_, err := e.users.Create(e.ctx, directory.User{UserName: "new", Emails: []directory.Email{{Value: "fine@example.com"}, {Value: "bad"}}})
			return err
		}},
		{"CreateDuplicateUserName", directory.ErrAlreadyExists, func(e *env, _ ids) error {
			_, err := e.users.Create(e.ctx, directory.User{UserName: "ACTIVE", Emails: []directory.Email{{Value: "fresh@example.com"}}})
			return err
		}},
		{"CreateDuplicateEmail", directory.ErrAlreadyExists, func(e *env, _ ids) error {
			_, err := e.users.Create(e.ctx, directory.User{UserName: "fresh", Emails: []directory.Email{{Value: "fresh@example.com"}, {Value: "Deleted@Example.com"}}})
			return err
		}},
		{"CreateDeleted", directory.ErrInvalid, func(e *env, _ ids) error {
			_, err := e.users.Create(e.ctx, directory.User{UserName: "fresh", Status: directory.StatusDeleted})
			return err
		}},
		{"UpdateInvalid", directory.ErrInvalid, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error {
				x.Title = "changed"
				x.Claims = map[string]any{"ok": 1, "bad.key": 2}
				return nil
			})
			return err
		}},
		{"UpdateStale", directory.ErrConflict, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error { x.Title = "changed"; return nil }, directory.IfVersion(1))
			return err
		}},
		{"UpdateTransition", directory.ErrInvalidTransition, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error {
				x.Title = "changed"
				x.Status = directory.StatusInvited
				return nil
			})
			return err
		}},
		{"UpdateDeletedStatus", directory.ErrInvalidTransition, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.deleted, func(x *directory.User) error { x.Status = directory.StatusActive; return nil })
			return err
		}},
		{"UpdateTakesEmail", directory.ErrAlreadyExists, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error {
				x.Title = "changed"
				x.Emails = append(x.Emails, directory.Email{Value: "DELETED@example.com"})
				return nil
			})
			return err
		}},
		{"UpdateTakesUserName", directory.ErrAlreadyExists, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error { x.UserName = "Deleted"; return nil })
			return err
		}},
		{"UpdateFnFails", errBadInput, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.active, func(x *directory.User) error { x.Title = "changed"; return errBadInput })
			return err
		}},
		{"UpdateUnknown", directory.ErrNotFound, func(e *env, _ ids) error {
			_, err := e.users.Update(e.ctx, "no-such-user", func(x *directory.User) error { x.Title = "changed"; return nil })
			return err
		}},
		{"PatchBad", directory.ErrInvalid, func(e *env, u ids) error {
			_, err := e.users.Patch(e.ctx, u.active, []directory.PatchOp{
				{Op: "replace", Path: "title", Value: "changed"},
				{Op: "replace", Path: "id", Value: "x"},
			})
			return err
		}},
		{"PatchStale", directory.ErrConflict, func(e *env, u ids) error {
			_, err := e.users.Patch(e.ctx, u.active, []directory.PatchOp{{Op: "replace", Path: "title", Value: "changed"}}, directory.IfVersion(99))
			return err
		}},
		{"DeleteUnknown", directory.ErrNotFound, func(e *env, _ ids) error { return e.users.Delete(e.ctx, "no-such-user") }},
		{"DeleteDeleted", directory.ErrInvalidTransition, func(e *env, u ids) error { return e.users.Delete(e.ctx, u.deleted) }},
		{"DeleteStale", directory.ErrConflict, func(e *env, u ids) error { return e.users.Delete(e.ctx, u.active, directory.IfVersion(1)) }},
		{"PurgeActive", directory.ErrInvalidTransition, func(e *env, u ids) error { return e.users.Purge(e.ctx, u.active) }},
		{"PurgeStale", directory.ErrConflict, func(e *env, u ids) error { return e.users.Purge(e.ctx, u.deleted, directory.IfVersion(1)) }},
		{"RestoreActive", directory.ErrInvalidTransition, func(e *env, u ids) error { _, err := e.users.Restore(e.ctx, u.active); return err }},
		{"EnableDeleted", directory.ErrInvalidTransition, func(e *env, u ids) error { _, err := e.users.Enable(e.ctx, u.deleted); return err }},
		{"WriteOtherTenantsUser", directory.ErrNotFound, func(e *env, u ids) error {
			_, err := e.users.Update(e.ctx, u.other, func(x *directory.User) error { x.Title = "changed"; return nil })
			return err
		}},
		{"ImportOnlyBadItems", nil, func(e *env, u ids) error {
			rep, err := e.users.Import(e.ctx, func(yield func(directory.User) bool) {
				_ = yield(directory.User{ID: u.active, UserName: "again"}) &&
					yield(directory.User{UserName: "active"}) &&
					yield(directory.User{UserName: "x", Emails: []directory.Email{{Value: "deleted@example.com"}}}) &&
					yield(directory.User{UserName: "y", Claims: map[string]any{"$x": 1}})
			})
			if err != nil {
				return err
			}
			if rep.Created != 0 || rep.Failed != 4 {
				return errors.New("every item of this import must fail")
			}
			return nil
		}},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			e := s.newEnv(t)
			other := e.dir.Users("other")
			a := e.create(e.users, directory.User{UserName: "active", Emails: []directory.Email{{Value: "active@example.com"}}, Title: "t"})
			_, err := e.users.Update(e.ctx, a.ID, func(x *directory.User) error { x.NickName = "v2"; return nil })
			require.NoError(t, err)
			d := e.create(e.users, directory.User{UserName: "deleted", Emails: []directory.Email{{Value: "deleted@example.com"}}})
			require.NoError(t, e.users.Delete(e.ctx, d.ID))
			o := e.create(other, directory.User{UserName: "active", Emails: []directory.Email{{Value: "active@example.com"}}})
			before, beforeOther := e.snapshot(e.users), e.snapshot(other)
			require.Len(t, before, 2)

			err = w.do(e, ids{active: a.ID, deleted: d.ID, other: o.ID})
			if w.want != nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, w.want)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, before, e.snapshot(e.users), "the tenant is unchanged")
			assert.Equal(t, beforeOther, e.snapshot(other), "the other tenant is unchanged")
			// Nothing half-written lingers in an index: the values the
			// refused write tried to use are still free.
			e.create(e.users, directory.User{UserName: "fresh", Emails: []directory.Email{{Value: "fresh@example.com"}, {Value: "fine@example.com"}}})
			for _, f := range []string{`title eq "changed"`, `userName eq "again"`, `claims.ok pr`} {
				n, err := e.users.Count(e.ctx, f)
				require.NoError(t, err)
				assert.Zerof(t, n, "no user matches %s", f)
			}
		})
	}
}

var errBadInput = errors.New("fn refused")
