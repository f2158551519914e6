package conformance

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testImport checks Import (DESIGN §7): ids, meta times and status kept,
// each item stored or refused on its own, with a result per item.
func testImport(t *testing.T, s *suite) {
	c0 := time.Date(2019, time.May, 4, 3, 2, 1, 987654321, time.UTC)
	m0 := time.Date(2023, time.December, 31, 23, 59, 59, 999999999, time.FixedZone("", -7*3600))
	items := []struct {
		user directory.User
		err  error // nil: stored
	}{
		{directory.User{ID: "imp-0001", UserName: "one", Status: directory.StatusDisabled,
			Emails: []directory.Email{{Value: "one@example.com"}},
			Meta:   directory.Meta{Created: c0, LastModified: m0}}, nil},
		{directory.User{ID: "imp-0002", UserName: "two", Status: directory.StatusInvited,
			Meta: directory.Meta{Created: c0.Add(time.Nanosecond)}}, nil},
		{directory.User{ID: "imp-0003", UserName: ""}, directory.ErrInvalid},
		{directory.User{ID: "imp-0001", UserName: "dup-id"}, directory.ErrAlreadyExists},
		{directory.User{UserName: "no-id"}, nil},
		{directory.User{ID: "imp-0005", UserName: "ONE"}, directory.ErrAlreadyExists},
		{directory.User{ID: "imp-0006", UserName: "six", Emails: []directory.Email{{Value: "ONE@example.com"}}}, directory.ErrAlreadyExists},
		{directory.User{ID: "bad id!", UserName: "badid"}, directory.ErrInvalid},
		{directory.User{ID: "imp-0008", UserName: "gone", Status: directory.StatusDeleted,
			Meta: directory.Meta{Created: c0}}, nil},
		{directory.User{ID: "imp-0009", UserName: "backwards",
			Meta: directory.Meta{Created: c0, LastModified: c0.Add(-time.Nanosecond)}}, directory.ErrInvalid},
		{directory.User{ID: "imp-0010", UserName: "grouped", Groups: []directory.GroupRef{{Value: "no-such-group"}}}, directory.ErrInvalid},
		{directory.User{ID: "imp-0011", UserName: "inactive", Active: ptr(false)}, nil},
		{directory.User{ID: "imp-0012", UserName: "versioned", Meta: directory.Meta{Version: 17}}, nil},
		{directory.User{ID: "imp-0013", UserName: "bad-email", Emails: []directory.Email{{Value: "nope"}}}, directory.ErrInvalid},
	}
	seq := func(yield func(directory.User) bool) {
		for _, it := range items {
			if !yield(it.user) {
				return
			}
		}
	}

	t.Run("Sequence", func(t *testing.T) {
		e := s.newEnv(t)
		now := time.Date(2025, time.April, 1, 2, 3, 4, 5, time.UTC)
		e.clock.Set(now)
		rep, err := e.users.Import(e.ctx, seq)
		require.NoError(t, err)
		require.Len(t, rep.Results, len(items), "one result per item")
		created, failed := 0, 0
		for i, it := range items {
			res := rep.Results[i]
			assert.Equal(t, i, res.Index)
			if it.err != nil {
				failed++
				assert.ErrorIsf(t, res.Err, it.err, "item %d (%s)", i, it.user.UserName)
				if it.user.ID != "" {
					assert.Equalf(t, it.user.ID, res.ID, "item %d names its id", i)
				}
				continue
			}
			created++
			if !assert.NoErrorf(t, res.Err, "item %d (%s)", i, it.user.UserName) {
				continue
			}
			if it.user.ID != "" {
				assert.Equal(t, it.user.ID, res.ID, "the id is kept")
			} else {
				assert.Regexp(t, uuidV7, res.ID, "a user without an id gets one")
			}
			got, err := e.users.Get(e.ctx, res.ID)
			require.NoErrorf(t, err, "item %d", i)
			assert.Equal(t, it.user.UserName, got.UserName)
			assert.Equal(t, int64(1), got.Meta.Version, "an imported user starts at version 1")
		}
		assert.Equal(t, created, rep.Created)
		assert.Equal(t, failed, rep.Failed)

		one := e.get(e.users, "imp-0001")
		assert.Equal(t, directory.StatusDisabled, one.Status, "the status is kept")
		assert.True(t, one.Meta.Created.Equal(c0), "meta.created kept: %v", one.Meta.Created)
		assert.True(t, one.Meta.LastModified.Equal(m0), "meta.lastModified kept: %v", one.Meta.LastModified)
		assert.Equal(t, 987654321, one.Meta.Created.Nanosecond())
		assert.Equal(t, 999999999, one.Meta.LastModified.Nanosecond())
		two := e.get(e.users, "imp-0002")
		assert.Equal(t, directory.StatusInvited, two.Status)
		assert.True(t, two.Meta.LastModified.Equal(two.Meta.Created), "lastModified defaults to created")
		noID := e.get(e.users, rep.Results[4].ID)
		// Import reads the clock once per item: the item's own reading.
		assert.True(t, !noID.Meta.Created.Before(now) && noID.Meta.Created.Before(now.Add(time.Millisecond)),
			"created defaults to the time of the import: %v, import began at %v", noID.Meta.Created, now)
		assert.True(t, noID.Meta.LastModified.Equal(noID.Meta.Created))
		assert.Equal(t, directory.StatusActive, noID.Status)
		assert.Equal(t, directory.StatusDisabled, e.get(e.users, "imp-0011").Status, "active false means disabled")

		gone := e.get(e.users, "imp-0008")
		assert.Equal(t, directory.StatusDeleted, gone.Status)
		listed := listAll(t, e.ctx, e.users, directory.ListOptions{})
		assert.NotContains(t, ids(listed), "imp-0008", "an imported deleted user is hidden")
		assert.Len(t, listed, created-1)
		restored, err := e.users.Restore(e.ctx, "imp-0008")
		require.NoError(t, err)
		assert.Equal(t, directory.StatusActive, restored.Status)

		// Imported users are found by filters on their kept times.
		n, err := e.users.Count(e.ctx, `meta.created eq "2019-05-04T03:02:01.987654321Z"`)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "imp-0001 and the restored imp-0008")
		n, err = e.users.Count(e.ctx, `meta.lastModified eq "2023-12-31T23:59:59.999999999-07:00"`)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		_, err = e.users.Get(e.ctx, "imp-0003")
		assert.ErrorIs(t, err, directory.ErrNotFound, "a refused item is not stored")
		dup := listAll(t, e.ctx, e.users, directory.ListOptions{Filter: `userName eq "dup-id"`, Deleted: directory.IncludeDeleted})
		assert.Empty(t, dup)
	})

	t.Run("Canceled", func(t *testing.T) {
		e := s.newEnv(t)
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		rep, err := e.users.Import(ctx, func(yield func(directory.User) bool) {
			for i, name := range []string{"c0", "c1", "c2", "c3"} {
				if i == 2 {
					cancel()
				}
				if !yield(directory.User{UserName: name}) {
					return
				}
			}
		})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 2, rep.Created, "the items before the cancel are stored")
		n, err := e.users.Count(e.ctx, "")
		require.NoError(t, err)
		assert.Equal(t, 2, n)
	})

	t.Run("InvalidTenant", func(t *testing.T) {
		e := s.newEnv(t)
		_, err := e.dir.Users("bad tenant").Import(e.ctx, seq)
		assert.ErrorIs(t, err, directory.ErrInvalid)
	})

	t.Run("Empty", func(t *testing.T) {
		e := s.newEnv(t)
		rep, err := e.users.Import(e.ctx, slices.Values([]directory.User(nil)))
		require.NoError(t, err)
		assert.Zero(t, rep.Created)
		assert.Zero(t, rep.Failed)
		assert.Empty(t, rep.Results)
	})
}
