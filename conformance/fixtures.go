package conformance

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// t0 is the creation time of the first fixture; fixtures are created at
// whole hours after it, so every meta.created keeps its odd nanosecond.
var t0 = time.Date(2024, time.January, 1, 10, 0, 0, 1, time.UTC)

func hour(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// fixture is a user to store for the query tests, with how to store it.
type fixture struct {
	user    directory.User
	created time.Time
	updates int  // extra writes after Create, to vary meta.version
	deleted bool // soft-delete after the updates
}

func num(s string) json.Number { return json.Number(s) }

// handFixtures are the users the filter table names by hand: mixed case,
// Unicode that folds (ß, İ, decomposed é), every claims type, ties in
// meta.created, and every status.
func handFixtures() []fixture {
	work := func(v string, primary bool) directory.Email {
		return directory.Email{Value: v, Type: "work", Primary: primary}
	}
	home := func(v string, primary bool) directory.Email {
		return directory.Email{Value: v, Type: "home", Primary: primary}
	}
	return []fixture{
		{created: hour(0), updates: 2, user: directory.User{
			UserName: "Alice", ExternalID: "EXT-1", Subject: "sub-alice",
			Name:        directory.Name{GivenName: "Alice", FamilyName: "Smith"},
			DisplayName: "Alice Smith", Title: "Engineer", UserType: "Employee", Locale: "en-US", Timezone: "America/New_York",
			Emails: []directory.Email{
				{Value: "alice@example.com", Type: "work", Primary: true, Verified: true},
				home("alice@home.example.org", false),
			},
			PhoneNumbers: []directory.PhoneNumber{{Value: "+1 555 0100", Type: "work"}},
			Roles:        []directory.RoleRef{{Value: "admin", Primary: true}},
			Claims: map[string]any{
				"level": 3, "department": "ops", "vip": true, "tags": []any{"beta", "x"},
				"address": map[string]any{"city": "Berlin", "zip": "10115"}, "ratio": num("0.1"),
				"big": num("9007199254740993"),
			},
			Enterprise: &directory.EnterpriseUser{
				EmployeeNumber: "E-001", Department: "Sales", CostCenter: "CC1",
				Manager: directory.Manager{Value: "m-1", DisplayName: "Boss"},
			},
			LastLoginAt: time.Date(2024, time.February, 1, 12, 0, 0, 500000000, time.FixedZone("", 3600)),
		}},
		{created: hour(1), user: directory.User{
			UserName: "straße", Status: directory.StatusDisabled,
			Name:        directory.Name{GivenName: "Hans", FamilyName: "Straße"},
			DisplayName: "Hans Straße",
			Emails:      []directory.Email{work("straße@x.io", true)},
			Claims:      map[string]any{"level": num("3.0"), "department": "OPS"},
		}},
		{created: hour(2), user: directory.User{
			UserName: "İlker", Locale: "tr-TR",
			Name:   directory.Name{GivenName: "İlker", FamilyName: "Yılmaz"},
			Emails: []directory.Email{home("ilker@x.io", false)},
			Claims: map[string]any{"level": "3"},
		}},
		{created: hour(2), user: directory.User{
			UserName: "ilker",
			Name:     directory.Name{GivenName: "ilker"},
			Emails:   []directory.Email{work("ilker.two@x.io", false)},
			Claims:   map[string]any{"level": 3},
		}},
		{created: hour(3), user: directory.User{
			UserName: "jose1", Title: "Manager", DisplayName: "José García",
			Name:   directory.Name{GivenName: "José", FamilyName: "García"},
			Emails: []directory.Email{work("jose@example.com", true)},
			Claims: map[string]any{"level": num("4")},
		}},
		{created: hour(3), user: directory.User{
			UserName: "jose2", Title: "manager",
			Name:   directory.Name{GivenName: "Jose\u0301", FamilyName: "Garcia"},
			Emails: []directory.Email{home("jose2@example.org", false)},
		}},
		{created: hour(4), user: directory.User{
			UserName: "Bob", Status: directory.StatusInvited,
			Name:         directory.Name{GivenName: "Bob", FamilyName: "Jones"},
			Emails:       []directory.Email{work("bob@corp.example.org", false), home("bob@example.com", true)},
			PhoneNumbers: []directory.PhoneNumber{{Value: "+49 30 123456", Type: "mobile"}},
			Claims:       map[string]any{"level": 5, "big": num("9007199254740993")},
		}},
		{created: hour(5), user: directory.User{
			UserName: "Carol", Status: directory.StatusProvisioned, UserType: "Contractor",
			Name:       directory.Name{GivenName: "Carol", FamilyName: "Jones"},
			Emails:     []directory.Email{{Value: "carol@x.io", Type: "work", Primary: true, Verified: true}},
			Claims:     map[string]any{"level": 1, "big": num("9007199254740992"), "vip": false},
			Enterprise: &directory.EnterpriseUser{Department: "sales", Manager: directory.Manager{Value: "M-1"}},
		}},
		{created: hour(6), deleted: true, user: directory.User{
			UserName: "dave",
			Name:     directory.Name{GivenName: "Dave", FamilyName: "Smith"},
			Emails:   []directory.Email{work("dave@example.com", false)},
			Claims:   map[string]any{"level": 4, "department": "ops"},
		}},
		{created: hour(7), user: directory.User{UserName: "erin"}},
		{created: hour(8), updates: 1, user: directory.User{
			UserName: "Frank",
			Claims: map[string]any{
				"nested": map[string]any{"deep": map[string]any{"x": 1}}, "tags": []any{"alpha", "beta"},
				"empty": "", "emptyobj": map[string]any{}, "emptyarr": []any{},
			},
		}},
		{created: hour(9), user: directory.User{
			UserName: "grace", Title: "Director", UserType: "Contractor",
			Name:        directory.Name{GivenName: "Grace", FamilyName: "Hopper"},
			Emails:      []directory.Email{work("grace@navy.example.com", true)},
			Claims:      map[string]any{"level": num("2.5"), "ratio": num("0.15")},
			LastLoginAt: time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC),
		}},
		{created: hour(10), user: directory.User{
			UserName: "Heidi", Status: directory.StatusDisabled,
			Name:         directory.Name{FamilyName: "Müller"},
			Emails:       []directory.Email{work("HEIDI@Example.COM", false)},
			PhoneNumbers: []directory.PhoneNumber{{Value: "+49 89 5555", Type: "work"}},
		}},
		{created: hour(11), deleted: true, user: directory.User{
			UserName: "ivan", Status: directory.StatusDisabled,
			Emails: []directory.Email{work("ivan@corp.example.org", false)},
			Claims: map[string]any{"level": 2},
		}},
		{created: hour(12), user: directory.User{
			UserName: "judy", Title: "engineer",
			Name:        directory.Name{GivenName: "Judy", FamilyName: "Smith"},
			Emails:      []directory.Email{{Value: "judy@example.com", Type: "other"}},
			LastLoginAt: time.Date(2024, time.January, 15, 8, 0, 0, 123456789, time.FixedZone("", -5*3600)),
		}},
		{created: hour(13), user: directory.User{
			UserName: "mallory",
			Emails:   []directory.Email{work("m@evil.example.org", false), work("m2@evil.example.org", true)},
			Roles:    []directory.RoleRef{{Value: "admin"}, {Value: "auditor", Primary: true}},
			Claims:   map[string]any{"level": -1, "tags": []any{"beta"}},
		}},
		{created: hour(14), user: directory.User{
			UserName: "Oscar", DisplayName: "Ösçar", NickName: "ozzy",
			Name:   directory.Name{GivenName: "Oscar", FamilyName: "Ångström"},
			Emails: []directory.Email{home("oscar@x.io", true)},
			Claims: map[string]any{"level": num("1e1")},
		}},
		{created: hour(14), user: directory.User{
			UserName: "peggy", Status: directory.StatusInvited,
			Emails: []directory.Email{work("peggy@example.com", false)},
			Claims: map[string]any{"level": num("3.00")},
		}},
	}
}

// generatedFixtures adds n users drawn from small pools with a seeded
// generator, so that values repeat (ties in every sort) and every pool
// value meets every other.
func generatedFixtures(seed uint64, n int) []fixture {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	given := []string{"Anna", "Ben", "Chloé", "Dmitri", "Émile", "Fatima", "Gustav", "Hiro", "Inés", "Jonas", "Kai", "Lena", "marta", "Nils", "olga", "Pál"}
	family := []string{"Smith", "Müller", "MÜLLER", "Ångström", "O'Brien", "van der Berg", "Nakamura", "García", "Schmidt", "Jones"}
	domains := []string{"example.com", "example.org", "x.io", "corp.example.org"}
	statuses := []directory.Status{
		directory.StatusActive, directory.StatusActive, directory.StatusActive, directory.StatusActive,
		directory.StatusDisabled, directory.StatusInvited, directory.StatusProvisioned, directory.StatusActive,
	}
	out := make([]fixture, 0, n)
	for i := range n {
		g, f := given[rng.IntN(len(given))], family[rng.IntN(len(family))]
		u := directory.User{
			UserName: fmt.Sprintf("%s.%s%02d", g, strings.ReplaceAll(f, " ", ""), i),
			Name:     directory.Name{GivenName: g, FamilyName: f},
			Title:    pick("", "", "Engineer", "Manager", "Director", "engineer"),
			UserType: pick("", "Employee", "Contractor"),
			Status:   statuses[rng.IntN(len(statuses))],
		}
		if rng.IntN(3) > 0 {
			u.DisplayName = g + " " + f
		}
		types := []string{"work", "home", "other"}
		primary := rng.IntN(3)
		for j := range rng.IntN(4) {
			u.Emails = append(u.Emails, directory.Email{
				Value:   fmt.Sprintf("%s.%02d.%d@%s", strings.ToLower(g), i, j, domains[rng.IntN(len(domains))]),
				Type:    types[rng.IntN(len(types))],
				Primary: j == primary,
			})
		}
		if rng.IntN(10) < 3 {
			u.PhoneNumbers = []directory.PhoneNumber{{Value: fmt.Sprintf("+49 30 %07d", rng.IntN(10_000_000)), Type: "work"}}
		}
		if rng.IntN(10) < 3 {
			u.Roles = append(u.Roles, directory.RoleRef{Value: "admin", Primary: rng.IntN(2) == 0})
		}
		if rng.IntN(10) < 3 {
			u.Roles = append(u.Roles, directory.RoleRef{Value: "auditor"})
		}
		claims := map[string]any{}
		switch r := rng.IntN(10); {
		case r < 2:
		case r < 3:
			claims["level"] = num(pick("2.5", "3.0", "4.25", "1e0"))
		default:
			claims["level"] = rng.IntN(7)
		}
		if d := pick("", "ops", "eng", "sales", "Eng"); d != "" {
			claims["department"] = d
		}
		if rng.IntN(4) == 0 {
			claims["vip"] = rng.IntN(2) == 0
		}
		if rng.IntN(4) == 0 {
			claims["tags"] = []any{pick("alpha", "beta", "gamma"), pick("beta", "x")}
		}
		if len(claims) > 0 {
			u.Claims = claims
		}
		if rng.IntN(2) == 0 {
			u.Enterprise = &directory.EnterpriseUser{Department: pick("Sales", "Engineering", "R&D", "sales")}
		}
		if rng.IntN(2) == 0 {
			zone := time.FixedZone("", (rng.IntN(25)-12)*3600)
			u.LastLoginAt = t0.Add(time.Duration(rng.IntN(2000))*time.Hour + time.Duration(rng.IntN(1000))).In(zone)
		}
		out = append(out, fixture{
			user:    u,
			created: hour(rng.IntN(30)).Add(time.Duration(rng.IntN(3))),
			updates: rng.IntN(3),
			deleted: rng.IntN(8) == 0,
		})
	}
	return out
}

// queryFixtures is the fixture set of the query, sort and paging tests.
func queryFixtures(seed uint64) []fixture {
	return append(handFixtures(), generatedFixtures(seed, 24)...)
}

// load stores fixtures in h and returns them as stored (read back with
// Get), in fixture order.
func (e *env) load(h *directory.Users, fixtures []fixture) []directory.User {
	e.t.Helper()
	out := make([]directory.User, len(fixtures))
	for i, f := range fixtures {
		e.clock.Set(f.created)
		u := e.create(h, f.user)
		require.Truef(e.t, u.Meta.Created.Equal(f.created), "meta.created of %s", u.UserName)
		for j := range f.updates {
			_, err := h.Update(e.ctx, u.ID, func(x *directory.User) error {
				x.NickName = strings.TrimSpace(x.NickName + fmt.Sprintf(" u%d", j))
				return nil
			})
			require.NoError(e.t, err)
		}
		if f.deleted {
			require.NoError(e.t, h.Delete(e.ctx, u.ID))
		}
		out[i] = e.get(h, u.ID)
	}
	return out
}
