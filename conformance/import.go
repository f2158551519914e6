package conformance

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
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

	t.Run("Many", func(t *testing.T) { testImportMany(t, s) })
	t.Run("Racing", func(t *testing.T) { testImportRacing(t, s) })

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

// manyImported is how many users testImportMany imports: more than a
// batch of a backend.Batcher, so that items clash across batches.
const manyImported = 1100

// testImportMany imports more users than one batch holds, with refused
// items, users with groups or a subject (which a directory may store one
// by one) and clashes within and across batches among them, and checks
// that each item ends as it would had every item been stored on its own,
// in order.
func testImportMany(t *testing.T, s *suite) {
	user := func(i int) directory.User {
		return directory.User{ID: fmt.Sprintf("many-%04d", i), UserName: fmt.Sprintf("user-%04d", i),
			Emails: []directory.Email{{Value: fmt.Sprintf("user-%04d@example.com", i)}}}
	}
	// changes make item i differ from user(i); want is its outcome (nil:
	// stored) and owner, for a refused item, the item that holds what it
	// clashed on.
	changes := []struct {
		i      int
		change func(u *directory.User)
		want   error
		owner  int
	}{
		{5, func(u *directory.User) { u.UserName = "" }, directory.ErrInvalid, -1},
		{6, func(u *directory.User) { u.ID = "" }, nil, -1},
		{20, func(u *directory.User) { u.UserName = "USER-0019" }, directory.ErrAlreadyExists, 19},
		{599, func(u *directory.User) { u.Title = "before the grouped user" }, nil, -1},
		{600, func(u *directory.User) { u.Groups = []directory.GroupRef{{Value: "g1"}} }, nil, -1},
		{601, func(u *directory.User) { u.UserName = "User-0599" }, directory.ErrAlreadyExists, 599},
		{602, func(u *directory.User) { u.Subject = "sub-602" }, nil, -1},
		{603, func(u *directory.User) { u.Emails[0].Value = "USER-0602@example.com" }, directory.ErrAlreadyExists, 602},
		// Users stored one by one after users waiting for a batch: the
		// earlier users win, and the later leave no membership behind.
		{604, func(u *directory.User) {
			u.UserName, u.Groups = "USER-0598", []directory.GroupRef{{Value: "g1"}}
		}, directory.ErrAlreadyExists, 598},
		{605, func(u *directory.User) { u.UserName, u.Subject = "user-0597", "sub-605" }, directory.ErrAlreadyExists, 597},
		{700, func(u *directory.User) { u.Emails = append(u.Emails, directory.Email{Value: "User-0010@Example.com"}) }, directory.ErrAlreadyExists, 10},
		{701, func(u *directory.User) { u.Roles = []directory.RoleRef{{Value: "no-such-role"}} }, directory.ErrInvalid, -1},
		{702, func(u *directory.User) { u.Roles = []directory.RoleRef{{Value: "admin"}} }, nil, -1},
		{1021, func(u *directory.User) { u.UserName = "user-1019" }, directory.ErrAlreadyExists, 1019},
		{1030, func(u *directory.User) { u.ID = "many-1020" }, directory.ErrAlreadyExists, 1020},
		{1031, func(u *directory.User) { u.UserName = "user-0001" }, directory.ErrAlreadyExists, 1},
		{1050, func(u *directory.User) { u.Groups = []directory.GroupRef{{Value: "no-such-group"}} }, directory.ErrInvalid, -1},
		{1051, func(u *directory.User) { u.Status = directory.StatusDeleted }, nil, -1},
		{manyImported - 1, func(u *directory.User) { u.UserName = "user-1097" }, directory.ErrAlreadyExists, 1097},
	}
	items := make([]directory.User, manyImported)
	want := make([]error, manyImported)
	owner := map[int]int{}
	for i := range items {
		items[i] = user(i)
	}
	for _, c := range changes {
		c.change(&items[c.i])
		want[c.i] = c.want
		if c.owner >= 0 {
			owner[c.i] = c.owner
		}
	}

	e := s.newEnv(t)
	_, err := e.dir.Groups(tenant).Create(e.ctx, directory.Group{ID: "g1", DisplayName: "Group one"})
	require.NoError(t, err)
	rep, err := e.users.Import(e.ctx, slices.Values(items))
	require.NoError(t, err)
	require.Len(t, rep.Results, manyImported, "one result per item")
	created := 0
	for i, res := range rep.Results {
		assert.Equal(t, i, res.Index)
		if want[i] != nil {
			assert.ErrorIsf(t, res.Err, want[i], "item %d", i)
			if items[i].ID != "" {
				assert.Equalf(t, items[i].ID, res.ID, "item %d names its id", i)
			}
			continue
		}
		if assert.NoErrorf(t, res.Err, "item %d", i) {
			created++
		}
	}
	assert.Equal(t, created, rep.Created)
	assert.Equal(t, manyImported-created, rep.Failed)
	n, err := e.users.Count(e.ctx, "")
	require.NoError(t, err)
	assert.Equal(t, created-1, n, "every stored user but the deleted one is listed")

	// The earlier of two clashing items is the one stored, and a refused
	// item left nothing behind.
	for i, o := range owner {
		got, err := e.users.Get(e.ctx, items[o].ID)
		if assert.NoErrorf(t, err, "item %d, which item %d clashed with, is stored", o, i) {
			assert.Equalf(t, items[o].UserName, got.UserName, "item %d holds its values, not item %d", o, i)
		}
		if items[i].ID != items[o].ID {
			_, err := e.users.Get(e.ctx, items[i].ID)
			assert.ErrorIsf(t, err, directory.ErrNotFound, "refused item %d is not stored", i)
		}
	}
	_, err = e.users.Get(e.ctx, items[5].ID)
	assert.ErrorIs(t, err, directory.ErrNotFound, "an invalid item is not stored")
	assert.Regexp(t, uuidV7, rep.Results[6].ID, "an item without an id gets one")
	assert.Equal(t, "user-0006", e.get(e.users, rep.Results[6].ID).UserName)
	assert.Equal(t, directory.StatusDeleted, e.get(e.users, items[1051].ID).Status)
	assert.Equal(t, "admin", e.get(e.users, items[702].ID).Roles[0].Value)

	grouped := e.get(e.users, items[600].ID)
	assert.Equal(t, []directory.GroupRef{{Value: "g1", Display: "Group one"}}, grouped.Groups)
	members, err := e.dir.Groups(tenant).Members(e.ctx, "g1", directory.ListOptions{})
	require.NoError(t, err)
	if assert.Len(t, members.Items, 1) {
		assert.Equal(t, items[600].ID, members.Items[0].UserID)
	}
	ms, err := e.dir.TenantsOf(e.ctx, "sub-602")
	require.NoError(t, err)
	assert.Equal(t, []directory.Membership{{Tenant: tenant, UserID: items[602].ID, Status: directory.StatusActive}}, ms)
	ms, err = e.dir.TenantsOf(e.ctx, "sub-605")
	require.NoError(t, err)
	assert.Empty(t, ms, "a refused user has no membership")

	// Every stored user, and only those, has its import audited.
	audited := map[string]bool{}
	opts := directory.ListOptions{Filter: `action eq "users.import"`, Limit: directory.MaxLimit}
	for range maxPages {
		page, err := e.dir.Audit(tenant).List(e.ctx, opts)
		require.NoError(t, err)
		for _, a := range page.Items {
			assert.Falsef(t, audited[a.Target], "user %s audited twice", a.Target)
			audited[a.Target] = true
		}
		if opts.Cursor = page.Next; page.Next == "" {
			break
		}
	}
	assert.Len(t, audited, created, "one audit entry per stored user")
	for i, res := range rep.Results {
		if res.Err == nil {
			assert.Truef(t, audited[res.ID], "item %d is audited", i)
		}
	}
}

// testImportRacing runs two imports of users with the same userNames
// (under other ids, in the opposite order) at once: each userName ends
// with exactly one user.
func testImportRacing(t *testing.T, s *suite) {
	const n = 300
	e := s.newEnv(t)
	seq := func(prefix string, reverse bool) iter.Seq[directory.User] {
		return func(yield func(directory.User) bool) {
			for k := range n {
				i := k
				if reverse {
					i = n - 1 - k
				}
				u := directory.User{ID: fmt.Sprintf("%s-%03d", prefix, i), UserName: fmt.Sprintf("racer-%03d", i)}
				if !yield(u) {
					return
				}
			}
		}
	}
	var reps [2]directory.ImportReport
	var errs [2]error
	var wg sync.WaitGroup
	for k, prefix := range []string{"a", "b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reps[k], errs[k] = e.users.Import(e.ctx, seq(prefix, k == 1))
		}()
	}
	wg.Wait()
	for k := range reps {
		require.NoErrorf(t, errs[k], "import %d", k)
		for _, res := range reps[k].Results {
			if res.Err != nil {
				assertTaken(t, res.Err, "userName", "import %d, item %d", k, res.Index)
			}
		}
	}
	assert.Equal(t, n, reps[0].Created+reps[1].Created, "each userName stored once")
	count, err := e.users.Count(e.ctx, "")
	require.NoError(t, err)
	assert.Equal(t, n, count)
}
