package conformance

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// uuidV7 matches the text form of a version 7, RFC 9562 variant UUID.
var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// fullUser returns a user with every caller-writable field set, claims
// holding every JSON type, nesting, arrays and numbers that float64 cannot
// hold exactly.
func fullUser() directory.User {
	berlin := time.FixedZone("CET", 3600)
	return directory.User{
		ExternalID:  "EXT-0001",
		Subject:     "auth0|5f7c8ec7c33c6c004bbafe82",
		UserName:    "Ada.Lovelace",
		Name:        directory.Name{GivenName: "Ada", FamilyName: "Lovelace", MiddleName: "King", Formatted: "Ada King Lovelace"},
		DisplayName: "Ada Lovelace",
		NickName:    "ada",
		Title:       "Analyst",
		UserType:    "Employee",
		Locale:      "en-GB",
		Timezone:    "Europe/London",
		Emails: []directory.Email{
			{Value: "ada@example.com", Type: "work", Primary: true, Verified: true},
			{Value: "ada.home@example.org", Type: "home"},
		},
		PhoneNumbers: []directory.PhoneNumber{{Value: "+44 20 7946 0000", Type: "work"}, {Value: "+44 7700 900000", Type: "mobile"}},
		Status:       directory.StatusActive,
		Roles:        []directory.RoleRef{{Value: "admin", Display: "Administrator", Type: "builtin", Primary: true}, {Value: "auditor"}},
		Claims: map[string]any{
			"big":      json.Number("9007199254740993"),
			"tenth":    json.Number("0.1"),
			"huge":     json.Number("123456789012345678901234567890.000000000000000000001"),
			"level":    json.Number("3"),
			"vip":      true,
			"none":     nil,
			"nickname": "Countess",
			"tags":     []any{"math", json.Number("1843"), false, map[string]any{"k": "v"}},
			"address": map[string]any{
				"city":   "London",
				"geo":    map[string]any{"lat": json.Number("51.5072"), "lng": json.Number("-0.1276")},
				"lines":  []any{"12 St James's Square"},
				"postal": map[string]any{},
			},
		},
		Enterprise: &directory.EnterpriseUser{
			EmployeeNumber: "1815", CostCenter: "CC-42", Organization: "Analytical Engines", Division: "R&D", Department: "Research",
			Manager: directory.Manager{Value: "babbage-id", DisplayName: "Charles Babbage"},
		},
		LastLoginAt: time.Date(2024, time.February, 29, 23, 59, 59, 999999999, berlin),
	}
}

func testCRUD(t *testing.T, s *suite) {
	t.Run("CreateDefaults", func(t *testing.T) {
		e := s.newEnv(t)
		created := time.Date(2025, time.June, 7, 8, 9, 10, 987654321, time.UTC)
		e.clock.Set(created)
		u, err := e.users.Create(e.ctx, directory.User{UserName: "alice"})
		require.NoError(t, err)
		assert.Regexp(t, uuidV7, u.ID, "a generated id is a UUIDv7")
		assert.Equal(t, directory.StatusActive, u.Status, "a new user is active by default")
		if assert.NotNil(t, u.Active) {
			assert.True(t, *u.Active)
		}
		assert.Equal(t, []string{query.UserURN}, u.Schemas)
		assert.Equal(t, int64(1), u.Meta.Version)
		assert.True(t, u.Meta.Created.Equal(created), "meta.created %v, want %v", u.Meta.Created, created)
		assert.True(t, u.Meta.LastModified.Equal(created), "meta.lastModified %v, want %v", u.Meta.LastModified, created)
		assert.Equal(t, 987654321, u.Meta.Created.Nanosecond(), "nanoseconds of meta.created")

		got := e.get(e.users, u.ID)
		assert.Equal(t, u, got, "Get returns what Create returned")
		assert.Equal(t, 987654321, got.Meta.Created.Nanosecond(), "nanoseconds of meta.created after a read")
		assert.Equal(t, 987654321, got.Meta.LastModified.Nanosecond(), "nanoseconds of meta.lastModified after a read")

		second := e.create(e.users, directory.User{UserName: "bob"})
		assert.NotEqual(t, u.ID, second.ID, "ids are unique")
	})

	t.Run("RoundTripEveryField", func(t *testing.T) {
		e := s.newEnv(t)
		in := fullUser()
		// Values a caller sets in read-only fields are ignored.
		in.ID = "ignored-id"
		in.Meta = directory.Meta{Version: 42, Created: time.Unix(1, 0)}
		in.Schemas = []string{"urn:bogus"}
		created := e.clock.now
		u, err := e.users.Create(e.ctx, in)
		require.NoError(t, err)

		want := fullUser()
		want.ID = u.ID
		want.Schemas = []string{query.UserURN, query.EnterpriseURN}
		want.Active = ptr(true)
		want.LastLoginAt = want.LastLoginAt.UTC()
		want.Meta = directory.Meta{Created: created, LastModified: created, Version: 1}
		assert.NotEqual(t, "ignored-id", u.ID)
		assert.Equal(t, want, u, "Create returns the stored user")
		got := e.get(e.users, u.ID)
		assert.Equal(t, want, got, "Get round-trips every field")

		// Exact numbers survive as their exact text.
		assert.Equal(t, json.Number("9007199254740993"), got.Claims["big"])
		assert.Equal(t, json.Number("0.1"), got.Claims["tenth"])
		assert.True(t, got.LastLoginAt.Equal(fullUser().LastLoginAt), "lastLoginAt is the same instant")
		assert.Equal(t, 999999999, got.LastLoginAt.Nanosecond())

		// And through a list.
		listed := listAll(t, e.ctx, e.users, directory.ListOptions{})
		require.Len(t, listed, 1)
		assert.Equal(t, want, listed[0], "List returns every field too")

		// The JSON form round-trips through encoding/json.
		b, err := json.Marshal(got)
		require.NoError(t, err)
		var back directory.User
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&back))
		assert.Equal(t, got, back, "JSON round trip of %s", b)
	})

	t.Run("GoNumbersStoredExactly", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "n", Claims: map[string]any{
			"int": 7, "int64": int64(math.MaxInt64), "uint64": uint64(math.MaxUint64), "float": 0.1, "neg": -2.5,
		}})
		got := e.get(e.users, u.ID)
		want := map[string]any{
			"int": json.Number("7"), "int64": json.Number("9223372036854775807"),
			"uint64": json.Number("18446744073709551615"), "float": json.Number("0.1"), "neg": json.Number("-2.5"),
		}
		assert.Equal(t, want, got.Claims, "numbers read back as their exact JSON text")
		n, err := e.users.Count(e.ctx, `claims.uint64 eq 18446744073709551615 and claims.float eq 0.1`)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	})

	t.Run("EmptyTypedFieldsAreUnassigned", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{
			UserName: "empty", Emails: []directory.Email{}, PhoneNumbers: []directory.PhoneNumber{}, Roles: []directory.RoleRef{},
			Enterprise: &directory.EnterpriseUser{},
		})
		got := e.get(e.users, u.ID)
		assert.Nil(t, got.Emails)
		assert.Nil(t, got.PhoneNumbers)
		assert.Nil(t, got.Roles)
		assert.Nil(t, got.Enterprise, "an empty enterprise object is unassigned")
		assert.Equal(t, []string{query.UserURN}, got.Schemas)
		n, err := e.users.Count(e.ctx, `emails pr or phoneNumbers pr or roles pr or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`)
		require.NoError(t, err)
		assert.Equal(t, 0, n)
	})

	t.Run("CallersShareNothing", func(t *testing.T) {
		// A caller owns what it hands in and what it gets back: changing
		// any part of it afterwards, nested claims included, changes
		// neither the stored user nor the next read. Scalar claims and
		// nested ones are copied differently, and an update can turn one
		// into the other.
		scalar := func() map[string]any {
			return map[string]any{"level": 3, "department": "eng", "vip": true, "none": nil}
		}
		nested := func() map[string]any {
			return map[string]any{"level": 3, "tags": []any{"a"}, "address": map[string]any{"city": "Oslo"}}
		}
		cases := []struct {
			name            string
			created, update map[string]any // update nil: no update
		}{
			{"scalar", scalar(), nil},
			{"nested", nested(), nil},
			{"scalarThenNested", scalar(), nested()},
			{"nestedThenScalar", nested(), scalar()},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := s.newEnv(t)
				in := directory.User{UserName: "share", Claims: c.created,
					Emails:       []directory.Email{{Value: "share@example.com"}},
					PhoneNumbers: []directory.PhoneNumber{{Value: "+1 555 0100"}},
					Enterprise:   &directory.EnterpriseUser{Department: "R&D"}}
				u := e.create(e.users, in)
				scribble(&in)
				var kept *directory.User
				var updated directory.User
				if c.update != nil {
					var err error
					updated, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
						x.Claims, kept = c.update, x
						return nil
					})
					require.NoError(t, err)
				}
				want := e.get(e.users, u.ID).Clone() // shares nothing, even if reads do
				if c.update != nil {
					require.ElementsMatch(t, slices.Collect(maps.Keys(c.update)), slices.Collect(maps.Keys(want.Claims)), "the update stored its claims")
					scribbleClaims(c.update)
					scribble(kept)
					scribble(&updated)
				}
				assert.Equal(t, want, e.get(e.users, u.ID), "after changing what Create and Update were given, what Update's function kept and what Update returned")
				reads := map[string]func() directory.User{
					"Get": func() directory.User { return e.get(e.users, u.ID) },
					"List": func() directory.User {
						p, err := e.users.List(e.ctx, directory.ListOptions{Filter: `userName eq "share"`})
						require.NoError(t, err)
						require.Len(t, p.Users, 1)
						return p.Users[0]
					},
				}
				for read, get := range reads {
					got := get()
					scribble(&got)
					assert.Equalf(t, want, e.get(e.users, u.ID), "after changing what %s returned", read)
				}
			})
		}
	})

	t.Run("GetUnknown", func(t *testing.T) {
		e := s.newEnv(t)
		e.create(e.users, directory.User{UserName: "someone"})
		_, err := e.users.Get(e.ctx, "01890a5d-ac96-774b-bcce-b302099a8057")
		assert.ErrorIs(t, err, directory.ErrNotFound)
		assert.ErrorIs(t, err, backend.ErrNotFound)
		assert.NotErrorIs(t, err, directory.ErrInvalid)
		_, err = e.users.Get(e.ctx, "")
		assert.ErrorIs(t, err, directory.ErrInvalid, "an empty id is invalid")
		_, err = e.dir.Users("empty-tenant").Get(e.ctx, "01890a5d-ac96-774b-bcce-b302099a8057")
		assert.ErrorIs(t, err, directory.ErrNotFound, "a tenant with no data")
	})

	t.Run("WritesToUnknownID", func(t *testing.T) {
		e := s.newEnv(t)
		e.create(e.users, directory.User{UserName: "someone"})
		const id = "01890a5d-ac96-774b-bcce-b302099a8057"
		ops := map[string]func() error{
			"Update": func() error {
				_, err := e.users.Update(e.ctx, id, func(*directory.User) error { return nil })
				return err
			},
			"Patch": func() error {
				_, err := e.users.Patch(e.ctx, id, []directory.PatchOp{{Op: "replace", Path: "title", Value: "x"}})
				return err
			},
			"Delete":  func() error { return e.users.Delete(e.ctx, id) },
			"Restore": func() error { _, err := e.users.Restore(e.ctx, id); return err },
			"Purge":   func() error { return e.users.Purge(e.ctx, id) },
			"Disable": func() error { _, err := e.users.Disable(e.ctx, id); return err },
			"Enable":  func() error { _, err := e.users.Enable(e.ctx, id); return err },
		}
		for name, op := range ops {
			err := op()
			assert.ErrorIsf(t, err, directory.ErrNotFound, "%s of an unknown id", name)
			assert.ErrorIsf(t, err, backend.ErrNotFound, "%s of an unknown id", name)
		}
	})

	t.Run("Update", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "carol", Title: "Dev", Claims: map[string]any{"a": "b"}})
		at := time.Date(2025, time.January, 2, 3, 4, 5, 600000007, time.UTC)
		e.clock.Set(at)
		calls := 0
		got, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
			calls++
			assert.Equal(t, u, *x, "fn sees the stored user")
			x.Title = "Lead"
			x.Name.GivenName = "Carol"
			x.Emails = append(x.Emails, directory.Email{Value: "carol@example.com", Type: "work"})
			x.Claims["level"] = 4
			x.Enterprise = &directory.EnterpriseUser{Department: "Ops"}
			// Read-only fields are kept whatever fn does.
			x.ID = "other"
			x.Meta = directory.Meta{Version: 99}
			x.Groups = []directory.GroupRef{{Value: "g1"}}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, calls)
		assert.Equal(t, u.ID, got.ID)
		assert.Equal(t, int64(2), got.Meta.Version, "an update bumps the version by one")
		assert.True(t, got.Meta.Created.Equal(u.Meta.Created), "meta.created is kept")
		assert.True(t, got.Meta.LastModified.Equal(at), "meta.lastModified %v, want %v", got.Meta.LastModified, at)
		assert.Nil(t, got.Groups, "groups are read-only")
		assert.Equal(t, "Lead", got.Title)
		assert.Equal(t, "Carol", got.Name.GivenName)
		assert.Equal(t, []directory.Email{{Value: "carol@example.com", Type: "work"}}, got.Emails)
		assert.Equal(t, map[string]any{"a": "b", "level": json.Number("4")}, got.Claims)
		assert.Equal(t, []string{query.UserURN, query.EnterpriseURN}, got.Schemas)
		assert.Equal(t, got, e.get(e.users, u.ID), "Get sees the update")

		// Clearing fields unassigns them.
		got, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
			x.Title, x.Emails, x.Claims, x.Enterprise = "", nil, nil, nil
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, int64(3), got.Meta.Version)
		assert.Empty(t, got.Title)
		assert.Nil(t, got.Emails)
		assert.Nil(t, got.Claims)
		assert.Nil(t, got.Enterprise)
		n, err := e.users.Count(e.ctx, `title pr or emails pr or claims pr`)
		require.NoError(t, err)
		assert.Equal(t, 0, n, "cleared fields are not present to filters")
	})

	t.Run("UpdateFnError", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "dan"})
		boom := errors.New("boom")
		_, err := e.users.Update(e.ctx, u.ID, func(x *directory.User) error { x.Title = "x"; return boom })
		assert.ErrorIs(t, err, boom, "fn's error is returned")
		assert.Equal(t, u, e.get(e.users, u.ID), "nothing changed")
	})

	t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, s) })
	t.Run("Invalid", func(t *testing.T) { testInvalidInput(t, s) })
	t.Run("InvalidTenant", func(t *testing.T) { testInvalidTenant(t, s) })
}

// testLifecycle checks every lifecycle operation from every status
// (DESIGN §2): allowed transitions land where they should, the others are
// ErrInvalidTransition and change nothing.
func testLifecycle(t *testing.T, s *suite) {
	type op struct {
		name string
		do   func(e *env, id string) error
	}
	enable := op{"Enable", func(e *env, id string) error { _, err := e.users.Enable(e.ctx, id); return err }}
	disable := op{"Disable", func(e *env, id string) error { _, err := e.users.Disable(e.ctx, id); return err }}
	del := op{"Delete", func(e *env, id string) error { return e.users.Delete(e.ctx, id) }}
	restore := op{"Restore", func(e *env, id string) error { _, err := e.users.Restore(e.ctx, id); return err }}
	purge := op{"Purge", func(e *env, id string) error { return e.users.Purge(e.ctx, id) }}
	setStatus := func(to directory.Status) op {
		return op{"UpdateStatusTo" + string(to), func(e *env, id string) error {
			_, err := e.users.Update(e.ctx, id, func(u *directory.User) error { u.Status = to; return nil })
			return err
		}}
	}
	setActive := func(a bool) op {
		name := "UpdateActiveFalse"
		if a {
			name = "UpdateActiveTrue"
		}
		return op{name, func(e *env, id string) error {
			_, err := e.users.Update(e.ctx, id, func(u *directory.User) error { u.Active = ptr(a); return nil })
			return err
		}}
	}
	const (
		invited     = directory.StatusInvited
		provisioned = directory.StatusProvisioned
		active      = directory.StatusActive
		disabled    = directory.StatusDisabled
		deleted     = directory.StatusDeleted
		purged      = directory.Status("purged")
	)
	cases := []struct {
		from directory.Status // deleted: created active, then deleted
		op   op
		want directory.Status // "" when the op must fail with ErrInvalidTransition
	}{
		{invited, enable, active},
		{invited, disable, ""},
		{invited, del, deleted},
		{invited, restore, ""},
		{invited, purge, ""},
		{invited, setStatus(disabled), ""},
		{invited, setStatus(provisioned), ""},
		{invited, setStatus(active), active},
		{provisioned, enable, active},
		{provisioned, disable, disabled},
		{provisioned, del, deleted},
		{provisioned, setStatus(invited), ""},
		{active, disable, disabled},
		{active, enable, active},
		{active, restore, ""},
		{active, purge, ""},
		{active, setStatus(invited), ""},
		{active, setStatus(provisioned), ""},
		{active, setStatus(deleted), deleted},
		{active, setActive(false), disabled},
		{disabled, enable, active},
		{disabled, setActive(true), active},
		{disabled, setStatus(invited), ""},
		{disabled, del, deleted},
		{disabled, purge, ""},
		{deleted, del, ""},
		{deleted, enable, ""},
		{deleted, disable, ""},
		{deleted, setStatus(active), ""},
		{deleted, purge, purged},
		{deleted, restore, active},
	}
	for _, c := range cases {
		t.Run(string(c.from)+"/"+c.op.name, func(t *testing.T) {
			e := s.newEnv(t)
			start := c.from
			if start == deleted {
				start = active
			}
			u := e.create(e.users, directory.User{UserName: "u", Status: start, Emails: []directory.Email{{Value: "u@example.com"}}})
			require.Equal(t, start, u.Status)
			if c.from == deleted {
				require.NoError(t, e.users.Delete(e.ctx, u.ID))
			}
			before := e.get(e.users, u.ID)
			err := c.op.do(e, u.ID)
			switch c.want {
			case "":
				require.Error(t, err)
				assert.ErrorIs(t, err, directory.ErrInvalidTransition)
				var te *directory.TransitionError
				if assert.ErrorAs(t, err, &te) {
					assert.Equal(t, before.Status, te.From, "the error names the current status")
				}
				assert.Equal(t, before, e.get(e.users, u.ID), "a refused transition changes nothing")
			case purged:
				require.NoError(t, err)
				_, err := e.users.Get(e.ctx, u.ID)
				assert.ErrorIs(t, err, directory.ErrNotFound, "a purged user is gone")
				n, err := e.users.Count(e.ctx, "")
				require.NoError(t, err)
				assert.Zero(t, n)
				all := listAll(t, e.ctx, e.users, directory.ListOptions{Deleted: directory.IncludeDeleted})
				assert.Empty(t, all, "a purged user is not listed, even with deleted users")
			default:
				require.NoError(t, err)
				got := e.get(e.users, u.ID)
				assert.Equal(t, c.want, got.Status)
				if assert.NotNil(t, got.Active) {
					assert.Equal(t, c.want == active, *got.Active, "active is true iff the status is active")
				}
				wantVersion := before.Meta.Version + 1
				if before.Status == c.want {
					// A no-op status change may or may not write.
					assert.Contains(t, []int64{before.Meta.Version, wantVersion}, got.Meta.Version)
				} else {
					assert.Equal(t, wantVersion, got.Meta.Version)
				}
			}
		})
	}

	t.Run("RestoreReturnsPriorStatus", func(t *testing.T) {
		for _, st := range []directory.Status{invited, provisioned, active, disabled} {
			e := s.newEnv(t)
			u := e.create(e.users, directory.User{UserName: "r-" + string(st), Status: st})
			require.NoError(t, e.users.Delete(e.ctx, u.ID))
			got := e.get(e.users, u.ID)
			assert.Equal(t, deleted, got.Status)
			n, err := e.users.Count(e.ctx, "")
			require.NoError(t, err)
			assert.Zero(t, n, "a deleted user is not counted")
			r, err := e.users.Restore(e.ctx, u.ID)
			require.NoError(t, err)
			assert.Equalf(t, st, r.Status, "restore of a user deleted while %s", st)
			assert.Equal(t, int64(3), r.Meta.Version)
			// Restore again is a refused transition.
			_, err = e.users.Restore(e.ctx, u.ID)
			assert.ErrorIs(t, err, directory.ErrInvalidTransition)
		}
	})

	t.Run("CreateStatus", func(t *testing.T) {
		e := s.newEnv(t)
		cases := []struct {
			name   string
			status directory.Status
			active *bool
			want   directory.Status
		}{
			{"neither", "", nil, active},
			{"activeFalse", "", ptr(false), disabled},
			{"activeTrue", "", ptr(true), active},
			{"statusWins", invited, ptr(true), invited},
			{"statusWinsOverFalse", active, ptr(false), active},
			{"provisioned", provisioned, nil, provisioned},
		}
		for _, c := range cases {
			u, err := e.users.Create(e.ctx, directory.User{UserName: "cs-" + c.name, Status: c.status, Active: c.active})
			require.NoError(t, err, c.name)
			assert.Equal(t, c.want, u.Status, c.name)
			assert.Equal(t, c.want, e.get(e.users, u.ID).Status, c.name)
		}
		_, err := e.users.Create(e.ctx, directory.User{UserName: "born-deleted", Status: deleted})
		assert.ErrorIs(t, err, directory.ErrInvalid, "a user cannot be created deleted")
	})
}

// deepClaims returns claims nested n objects deep.
func deepClaims(n int) map[string]any {
	m := map[string]any{"leaf": true}
	for range n - 1 {
		m = map[string]any{"a": m}
	}
	return m
}

// invalidCases are users Create must refuse with ErrInvalid and a
// *directory.FieldError naming the field.
func invalidCases() []struct {
	name  string
	user  directory.User
	field string // the FieldError's field, or its prefix when it ends in '*'
} {
	base := func(f func(*directory.User)) directory.User {
		u := directory.User{UserName: "valid", Emails: []directory.Email{{Value: "valid@example.com"}}}
		f(&u)
		return u
	}
	return []struct {
		name  string
		user  directory.User
		field string
	}{
		{"MissingUserName", base(func(u *directory.User) { u.UserName = "" }), "userName"},
		{"BlankUserName", base(func(u *directory.User) { u.UserName = "   " }), "userName"},
		{"OverlongUserName", base(func(u *directory.User) { u.UserName = strings.Repeat("x", directory.MaxUserNameLen+1) }), "userName"},
		{"NULInUserName", base(func(u *directory.User) { u.UserName = "a\x00b" }), "userName"},
		{"NULInDisplayName", base(func(u *directory.User) { u.DisplayName = "a\x00b" }), "displayName"},
		{"InvalidUTF8", base(func(u *directory.User) { u.Name.GivenName = "a\xffb" }), "name.givenName"},
		{"ControlChar", base(func(u *directory.User) { u.Title = "a\nb" }), "title"},
		{"EmailNoAt", base(func(u *directory.User) { u.Emails[0].Value = "not-an-email" }), "emails[0].value"},
		{"EmailNoDomainDot", base(func(u *directory.User) { u.Emails[0].Value = "a@localhost" }), "emails[0].value"},
		{"EmailDoubleDot", base(func(u *directory.User) { u.Emails[0].Value = "a..b@example.com" }), "emails[0].value"},
		{"EmailSpace", base(func(u *directory.User) { u.Emails[0].Value = "a b@example.com" }), "emails[0].value"},
		{"EmailEmpty", base(func(u *directory.User) { u.Emails = append(u.Emails, directory.Email{Type: "work"}) }), "emails[1].value"},
		{"EmailDuplicate", base(func(u *directory.User) {
			u.Emails = append(u.Emails, directory.Email{Value: "VALID@Example.COM", Type: "home"})
		}), "emails[1].value"},
		{"EmailDuplicateFolded", base(func(u *directory.User) {
			u.Emails = []directory.Email{{Value: "straße@example.com"}, {Value: "STRASSE@example.com"}}
		}), "emails[1].value"},
		{"TwoPrimaryEmails", base(func(u *directory.User) {
			u.Emails = []directory.Email{{Value: "a@example.com", Primary: true}, {Value: "b@example.com", Primary: true}}
		}), "emails"},
		{"PhoneWithoutValue", base(func(u *directory.User) { u.PhoneNumbers = []directory.PhoneNumber{{Type: "work"}} }), "phoneNumbers[0].value"},
		{"RoleBadID", base(func(u *directory.User) { u.Roles = []directory.RoleRef{{Value: "bad role"}} }), "roles[0].value"},
		{"RoleTwice", base(func(u *directory.User) { u.Roles = []directory.RoleRef{{Value: "a"}, {Value: "a"}} }), "roles[1].value"},
		{"ClaimKeyDollar", base(func(u *directory.User) { u.Claims = map[string]any{"$where": "1"} }), "claims.$where"},
		{"ClaimKeyDot", base(func(u *directory.User) { u.Claims = map[string]any{"a.b": 1} }), "claims.a.b"},
		{"ClaimKeyEmpty", base(func(u *directory.User) { u.Claims = map[string]any{"": 1} }), "claims"},
		{"NestedClaimKeyDollar", base(func(u *directory.User) {
			u.Claims = map[string]any{"x": map[string]any{"$gt": ""}}
		}), "claims.x.$gt"},
		{"ClaimsTooDeep", base(func(u *directory.User) { u.Claims = deepClaims(directory.MaxClaimsDepth + 2) }), "claims.*"},
		{"ClaimNaN", base(func(u *directory.User) { u.Claims = map[string]any{"score": math.NaN()} }), "claims.score"},
		{"ClaimInf", base(func(u *directory.User) { u.Claims = map[string]any{"score": math.Inf(1)} }), "claims.score"},
		{"ClaimBadNumber", base(func(u *directory.User) { u.Claims = map[string]any{"n": json.Number("0x10")} }), "claims.n"},
		{"ClaimNotJSON", base(func(u *directory.User) { u.Claims = map[string]any{"ch": make(chan int)} }), "claims.ch"},
		{"ClaimStringNUL", base(func(u *directory.User) { u.Claims = map[string]any{"s": "a\x00"} }), "claims.s"},
		{"ClaimsTooLarge", base(func(u *directory.User) {
			u.Claims = map[string]any{"blob": strings.Repeat("x", directory.MaxClaimsSize)}
		}), "claims"},
		{"UnknownStatus", base(func(u *directory.User) { u.Status = "sleeping" }), "status"},
		{"EnterpriseNUL", base(func(u *directory.User) { u.Enterprise = &directory.EnterpriseUser{Department: "a\x00"} }),
			query.EnterpriseURN + ":department"},
	}
}

func testInvalidInput(t *testing.T, s *suite) {
	for _, c := range invalidCases() {
		t.Run(c.name, func(t *testing.T) {
			e := s.newEnv(t)
			_, err := e.users.Create(e.ctx, c.user)
			require.Error(t, err)
			assert.ErrorIs(t, err, directory.ErrInvalid)
			var fe *directory.FieldError
			if assert.ErrorAs(t, err, &fe) {
				if p, ok := strings.CutSuffix(c.field, "*"); ok {
					assert.True(t, strings.HasPrefix(fe.Field, p), "field %q, want a path under %q", fe.Field, p)
				} else {
					assert.Equal(t, c.field, fe.Field)
				}
			}
			n, err := e.users.Count(e.ctx, "")
			require.NoError(t, err)
			assert.Zero(t, n, "an invalid user is not stored")

			// The same input is refused by Update of a valid user.
			u := e.create(e.users, directory.User{UserName: "ok"})
			bad := c.user
			_, err = e.users.Update(e.ctx, u.ID, func(x *directory.User) error {
				id, meta := x.ID, x.Meta
				*x = bad.Clone()
				x.ID, x.Meta = id, meta
				return nil
			})
			assert.ErrorIs(t, err, directory.ErrInvalid, "Update to an invalid user")
			assert.Equal(t, u, e.get(e.users, u.ID), "a refused update changes nothing")
		})
	}
}

func testInvalidTenant(t *testing.T, s *suite) {
	e := s.newEnv(t)
	for _, tn := range []string{"", "has space", "slash/y", "tilde~", strings.Repeat("t", directory.MaxTenantLen+1), "ünï"} {
		h := e.dir.Users(tn)
		checks := map[string]error{}
		_, checks["Create"] = h.Create(e.ctx, directory.User{UserName: "x"})
		_, checks["Get"] = h.Get(e.ctx, "some-id")
		_, checks["List"] = h.List(e.ctx, directory.ListOptions{})
		_, checks["Count"] = h.Count(e.ctx, "")
		_, checks["Update"] = h.Update(e.ctx, "some-id", func(*directory.User) error { return nil })
		checks["Delete"] = h.Delete(e.ctx, "some-id")
		checks["Purge"] = h.Purge(e.ctx, "some-id")
		_, checks["Explain"] = h.Explain(directory.ListOptions{})
		for op, err := range checks {
			assert.ErrorIsf(t, err, directory.ErrInvalid, "%s in tenant %q", op, tn)
			var fe *directory.FieldError
			if assert.ErrorAsf(t, err, &fe, "%s in tenant %q", op, tn) {
				assert.Equal(t, "tenant", fe.Field)
			}
		}
	}
	long := strings.Repeat("t", directory.MaxTenantLen)
	_, err := e.dir.Users(long).Create(e.ctx, directory.User{UserName: "x"})
	assert.NoError(t, err, "a 64-character tenant is valid")
	_, err = e.dir.Users("A-z_0.9").Create(e.ctx, directory.User{UserName: "x"})
	assert.NoError(t, err, "every allowed character")
}

// scribble changes every part of a user that a copy could share with
// another: claims at the top and nested, list elements, the enterprise
// extension and the computed fields.
func scribble(u *directory.User) {
	if u.Claims != nil {
		scribbleClaims(u.Claims)
	}
	for i := range u.Emails {
		u.Emails[i].Value = "changed@example.com"
	}
	for i := range u.PhoneNumbers {
		u.PhoneNumbers[i].Value = "+1 555 0199"
	}
	if u.Enterprise != nil {
		u.Enterprise.Department = "changed"
	}
	for i := range u.Schemas {
		u.Schemas[i] = "changed"
	}
	if u.Active != nil {
		*u.Active = !*u.Active
	}
}

func scribbleClaims(m map[string]any) {
	if tags, ok := m["tags"].([]any); ok {
		tags[0] = "changed"
	}
	if addr, ok := m["address"].(map[string]any); ok {
		addr["city"] = "changed"
	}
	m["level"] = "changed"
	m["added"] = 1
}
