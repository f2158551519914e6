package conformance

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// fold is the suite's own case folding (NFC, then full Unicode case
// folding), written apart from query.Fold so that the hand-written
// predicates check the query package rather than repeat it.
func fold(s string) string { return norm.NFC.String(cases.Fold().String(norm.NFC.String(s))) }

// pred is a hand-written oracle: the plain Go meaning of a filter.
type pred func(u *directory.User) bool

func anyEmail(u *directory.User, f func(e directory.Email) bool) bool {
	return slices.ContainsFunc(u.Emails, f)
}

// claimNum returns the claim at key as an exact rational, when it is a
// number.
func claimNum(u *directory.User, key string) (*big.Rat, bool) {
	n, ok := u.Claims[key].(json.Number)
	if !ok {
		return nil, false
	}
	return new(big.Rat).SetString(string(n))
}

func claimCmp(u *directory.User, key, lit string, ok func(c int) bool) bool {
	v, isNum := claimNum(u, key)
	if !isNum {
		return false
	}
	l, _ := new(big.Rat).SetString(lit)
	return ok(v.Cmp(l))
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// oracleCase is one filter of the query table.
type oracleCase struct {
	filter string
	// pred is the hand-written meaning of the filter, when given; it must
	// agree with query.Eval on every fixture.
	pred pred
	// empty says the filter matches no fixture at all; otherwise it must
	// match at least one (so no case passes vacuously).
	empty bool
}

func oracleCases() []oracleCase {
	const ent = query.EnterpriseURN
	eq := func(a, b string) bool { return fold(a) == fold(b) }
	return []oracleCase{
		// Strings: folding, every operator.
		{filter: `userName eq "alice"`, pred: func(u *directory.User) bool { return eq(u.UserName, "alice") }},
		{filter: `userName eq "STRASSE"`, pred: func(u *directory.User) bool { return fold(u.UserName) == "strasse" }},
		{filter: `userName eq "ilker"`, pred: func(u *directory.User) bool { return u.UserName == "ilker" }},
		{filter: `userName eq "İLKER"`, pred: func(u *directory.User) bool { return u.UserName == "İlker" }},
		{filter: `userName sw "a"`, pred: func(u *directory.User) bool { return strings.HasPrefix(fold(u.UserName), "a") }},
		{filter: `userName ew "KER"`, pred: func(u *directory.User) bool { return strings.HasSuffix(fold(u.UserName), "ker") }},
		{filter: `userName co "li"`, pred: func(u *directory.User) bool { return strings.Contains(fold(u.UserName), "li") }},
		{filter: `userName gt "m"`, pred: func(u *directory.User) bool { return fold(u.UserName) > "m" }},
		{filter: `userName le "Carol"`, pred: func(u *directory.User) bool { return fold(u.UserName) <= "carol" }},
		{filter: `userName ne "alice"`, pred: func(u *directory.User) bool { return !eq(u.UserName, "alice") }},
		{filter: `urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`},
		{filter: `USERNAME EQ "Alice" AND Emails.Value Co "EXAMPLE"`},
		{filter: `name.familyName eq "müller"`, pred: func(u *directory.User) bool { return eq(u.Name.FamilyName, "müller") }},
		{filter: `name.familyName eq "A` + "\u030a" + `ngstro` + "\u0308" + `m"`, pred: func(u *directory.User) bool { return eq(u.Name.FamilyName, "Ångström") }},
		{filter: `name.givenName eq "JOSÉ"`, pred: func(u *directory.User) bool { return eq(u.Name.GivenName, "josé") }},
		{filter: `name.givenName eq "jos\u00e9"`},
		{filter: `name.givenName pr`, pred: func(u *directory.User) bool { return u.Name.GivenName != "" }},
		{filter: `not (name.givenName pr)`, pred: func(u *directory.User) bool { return u.Name.GivenName == "" }},
		{filter: `name pr`, pred: func(u *directory.User) bool { return u.Name != directory.Name{} }},
		{filter: `name[givenName eq "grace" and familyName sw "hop"]`},
		{filter: `title pr`, pred: func(u *directory.User) bool { return u.Title != "" }},
		{filter: `title eq null`, pred: func(u *directory.User) bool { return u.Title == "" }},
		{filter: `title eq "engineer"`, pred: func(u *directory.User) bool { return eq(u.Title, "engineer") }},
		{filter: `title ne "engineer"`, pred: func(u *directory.User) bool { return u.Title != "" && !eq(u.Title, "engineer") }},
		{filter: `not (title eq "engineer")`, pred: func(u *directory.User) bool { return !eq(u.Title, "engineer") }},
		{filter: `displayName ge "H" and displayName lt "J"`},
		{filter: `displayName eq "ÖSÇAR"`},
		{filter: `locale eq "TR-tr"`},
		{filter: `userType eq "contractor" or title eq "director"`},
		{filter: `userType ne "Employee"`},
		{filter: `not (userType eq "Employee")`},
		{filter: `nickName sw "u0"`},
		// Emails: multi-valued, rule 10, value filters, Entra form.
		{filter: `emails co "@example.com"`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return strings.Contains(fold(e.Value), "@example.com") })
		}},
		{filter: `emails.value ew ".ORG"`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return strings.HasSuffix(fold(e.Value), ".org") })
		}},
		{filter: `emails.value eq "heidi@example.com"`},
		{filter: `emails[type eq "work" and value co "x.io"]`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return eq(e.Type, "work") && strings.Contains(fold(e.Value), "x.io") })
		}},
		{filter: `emails.type eq "home" and emails.value co "example.com"`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return eq(e.Type, "home") }) &&
				anyEmail(u, func(e directory.Email) bool { return strings.Contains(fold(e.Value), "example.com") })
		}},
		{filter: `emails[type eq "home" and value co "example.com"]`},
		{filter: `emails[type eq "work"].value eq "carol@x.io"`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return eq(e.Type, "work") && eq(e.Value, "carol@x.io") })
		}},
		{filter: `emails[type eq "work"].value sw "m"`},
		{filter: `emails[primary eq true and type eq "home"]`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return e.Primary && eq(e.Type, "home") })
		}},
		{filter: `emails[type eq "work" and (value ew ".org" or not (primary eq true))]`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool {
				return eq(e.Type, "work") && (strings.HasSuffix(fold(e.Value), ".org") || !e.Primary)
			})
		}},
		{filter: `emails[value sw "m" and primary eq false]`},
		{filter: `emails.primary eq true`},
		{filter: `emails pr`, pred: func(u *directory.User) bool { return len(u.Emails) > 0 }},
		{filter: `not (emails pr)`, pred: func(u *directory.User) bool { return len(u.Emails) == 0 }},
		{filter: `emails ne "alice@example.com"`, pred: func(u *directory.User) bool {
			return anyEmail(u, func(e directory.Email) bool { return !eq(e.Value, "alice@example.com") })
		}},
		{filter: `phoneNumbers.value sw "+49"`},
		{filter: `phoneNumbers pr and not (phoneNumbers.type eq "work")`},
		// Status and the computed active.
		{filter: `active eq true`, pred: func(u *directory.User) bool { return u.Status == directory.StatusActive }},
		{filter: `active eq false`, pred: func(u *directory.User) bool { return u.Status != directory.StatusActive }},
		{filter: `active ne true`},
		{filter: `status eq "DISABLED"`, pred: func(u *directory.User) bool { return u.Status == directory.StatusDisabled }},
		{filter: `status eq "invited" or status eq "provisioned"`},
		{filter: `roles.value eq "admin"`},
		{filter: `roles[value eq "auditor" and primary eq true]`},
		{filter: `groups pr`, empty: true},
		// Claims: the type comes from the data, numbers are exact.
		{filter: `claims.level gt 3`, pred: func(u *directory.User) bool {
			return claimCmp(u, "level", "3", func(c int) bool { return c > 0 })
		}},
		{filter: `claims.level eq 3`, pred: func(u *directory.User) bool {
			return claimCmp(u, "level", "3", func(c int) bool { return c == 0 })
		}},
		{filter: `claims.level eq 3e0`},
		{filter: `claims.level eq "3"`, pred: func(u *directory.User) bool { return u.Claims["level"] == "3" }},
		{filter: `claims.level ge 2.5 and claims.level lt 5`, pred: func(u *directory.User) bool {
			return claimCmp(u, "level", "2.5", func(c int) bool { return c >= 0 }) &&
				claimCmp(u, "level", "5", func(c int) bool { return c < 0 })
		}},
		{filter: `claims.level le -1`},
		{filter: `claims.level eq 10`},
		{filter: `claims.big eq 9007199254740993`, pred: func(u *directory.User) bool { return u.Claims["big"] == json.Number("9007199254740993") }},
		{filter: `claims.big gt 9007199254740992`},
		{filter: `claims.big eq 9007199254740992`},
		{filter: `claims.ratio lt 0.12`},
		{filter: `claims.vip eq true`, pred: func(u *directory.User) bool { return u.Claims["vip"] == true }},
		{filter: `claims.vip ne true`, pred: func(u *directory.User) bool { return u.Claims["vip"] == false }},
		{filter: `claims.address.city eq "BERLIN"`},
		{filter: `claims.tags eq "beta"`, pred: func(u *directory.User) bool {
			tags, _ := u.Claims["tags"].([]any)
			return slices.Contains(tags, any("beta"))
		}},
		{filter: `claims.nested.deep.x eq 1`},
		{filter: `claims.nested pr`},
		{filter: `claims.empty pr or claims.emptyobj pr or claims.emptyarr pr`, empty: true},
		{filter: `claims.missing pr`, empty: true},
		{filter: `claims.department eq "ops"`},
		{filter: `claims.level eq null`},
		{filter: `claims pr`, pred: func(u *directory.User) bool { return len(u.Claims) > 0 }},
		// dateTime: instants at full precision, offsets honoured.
		{filter: `meta.created gt "2024-01-01T15:00:00Z"`, pred: func(u *directory.User) bool {
			return u.Meta.Created.After(mustTime("2024-01-01T15:00:00Z"))
		}},
		{filter: `meta.created ge "2024-01-01T12:00:00+02:00" and meta.created lt "2024-01-01T18:00:00.000000001Z"`, pred: func(u *directory.User) bool {
			return !u.Meta.Created.Before(mustTime("2024-01-01T10:00:00Z")) && u.Meta.Created.Before(mustTime("2024-01-01T18:00:00.000000001Z"))
		}},
		{filter: `meta.created eq "2024-01-01T10:00:00.000000001Z"`},
		{filter: `meta.created eq "2024-01-01T12:00:00.000000001+02:00"`},
		{filter: `meta.created eq "2024-01-01T10:00:00Z"`, empty: true},
		{filter: `meta.created lt "2024-01-01T08:00:00-05:00"`},
		{filter: `meta.created le "2024-01-01T13:00:00.000000001"`},
		{filter: `lastLoginAt lt "2024-01-15T13:00:00.12345679Z"`, pred: func(u *directory.User) bool {
			return !u.LastLoginAt.IsZero() && u.LastLoginAt.Before(mustTime("2024-01-15T13:00:00.12345679Z"))
		}},
		{filter: `lastLoginAt eq "2024-01-15T08:00:00.123456789-05:00"`},
		{filter: `lastLoginAt pr`},
		{filter: `meta.version gt 1`, pred: func(u *directory.User) bool { return u.Meta.Version > 1 }},
		{filter: `meta.version eq 1 and not (claims pr)`},
		// Enterprise extension, qualified and not; caseExact attributes.
		{filter: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"`, pred: func(u *directory.User) bool {
			return u.Enterprise != nil && eq(u.Enterprise.Department, "sales")
		}},
		{filter: `department eq "sales"`},
		{filter: `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value eq "m-1"`, pred: func(u *directory.User) bool {
			return u.Enterprise != nil && u.Enterprise.Manager.Value == "m-1"
		}},
		{filter: `externalId eq "EXT-1"`},
		{filter: `externalId eq "ext-1"`, empty: true},
		{filter: `subject sw "sub-"`},
		{filter: `schemas eq "` + ent + `"`, pred: func(u *directory.User) bool { return u.Enterprise != nil }},
		{filter: `id pr`},
		// Logic: precedence, grouping, not.
		{filter: `userName eq "bob" or userName eq "carol" and active eq true`, pred: func(u *directory.User) bool {
			return eq(u.UserName, "bob") || (eq(u.UserName, "carol") && u.Status == directory.StatusActive)
		}},
		{filter: `(userName eq "bob" or userName eq "carol") and active eq false`},
		{filter: `not (userName sw "a") and active eq true`},
		{filter: `not (not (title pr) or claims.level lt 3)`},
		{filter: `title eq "engineer" or title eq "manager" or title eq "director" and userType eq "Contractor"`},
	}
}

// boundFilter parses and binds a filter as the directory does.
func boundFilter(t *testing.T, filter string) query.Expr {
	t.Helper()
	e, err := query.Parse(filter)
	require.NoErrorf(t, err, "parse %s", filter)
	b, err := query.Bind(e, query.UserSchema())
	require.NoErrorf(t, err, "bind %s", filter)
	return b
}

// modeSet returns the users of all that a list in mode shows.
func modeSet(all []directory.User, mode directory.DeletedMode) []directory.User {
	var out []directory.User
	for _, u := range all {
		del := u.Status == directory.StatusDeleted
		if mode == directory.IncludeDeleted || (mode == directory.OnlyDeleted) == del {
			out = append(out, u)
		}
	}
	return out
}

var modeNames = map[directory.DeletedMode]string{
	directory.ExcludeDeleted: "ExcludeDeleted", directory.IncludeDeleted: "IncludeDeleted", directory.OnlyDeleted: "OnlyDeleted",
}

// expect returns the fixtures a filter must match, by query.Eval, after
// checking that the hand-written predicate agrees.
func expect(t *testing.T, c oracleCase, stored []directory.User) []directory.User {
	t.Helper()
	var bound query.Expr
	if c.filter != "" {
		bound = boundFilter(t, c.filter)
	}
	var out []directory.User
	for i := range stored {
		u := &stored[i]
		got := query.Eval(bound, u)
		if c.pred != nil {
			require.Equalf(t, c.pred(u), got, "query.Eval(%s) disagrees with the hand-written oracle on %s", c.filter, u.UserName)
		}
		if got {
			out = append(out, *u)
		}
	}
	if c.empty {
		require.Emptyf(t, out, "%s should match no fixture", c.filter)
	} else {
		require.NotEmptyf(t, out, "%s matches no fixture: the case would pass vacuously", c.filter)
	}
	return out
}

func testQuery(t *testing.T, s *suite) {
	e := s.newEnv(t)
	stored := e.load(e.users, queryFixtures(s.seed))
	deleted := 0
	for _, u := range stored {
		if u.Status == directory.StatusDeleted {
			deleted++
		}
	}
	t.Logf("%d fixtures, %d of them deleted", len(stored), deleted)
	require.NotZero(t, deleted)

	for _, c := range oracleCases() {
		t.Run(c.filter, func(t *testing.T) {
			want := expect(t, c, stored)
			checkFilter(t, e, c.filter, want)
		})
	}

	t.Run("Where", func(t *testing.T) {
		// A filter built with the query package's builder selects what its
		// text form selects, and both together are an and.
		where, err := query.Attr("emails").Where(query.Attr("type").Eq("work").And(query.Attr("value").Ew(".org"))).Expr()
		require.NoError(t, err)
		want := expect(t, oracleCase{filter: `emails[type eq "work" and value ew ".org"]`}, stored)
		got := listAll(t, e.ctx, e.users, directory.ListOptions{Where: where, Deleted: directory.IncludeDeleted})
		assert.ElementsMatch(t, ids(want), ids(got))
		both := expect(t, oracleCase{filter: `emails[type eq "work" and value ew ".org"] and active eq true`}, stored)
		got = listAll(t, e.ctx, e.users, directory.ListOptions{Where: where, Filter: `active eq true`, Deleted: directory.IncludeDeleted})
		assert.ElementsMatch(t, ids(both), ids(got))
	})

	t.Run("InvalidFilters", func(t *testing.T) {
		for _, f := range invalidFilters() {
			_, err := e.users.List(e.ctx, directory.ListOptions{Filter: f})
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "List(%q)", f)
			_, err = e.users.Count(e.ctx, f)
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "Count(%q)", f)
			_, err = e.users.Explain(directory.ListOptions{Filter: f})
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "Explain(%q)", f)
		}
		var terms []string
		for i := range 101 {
			terms = append(terms, fmt.Sprintf(`userName eq "u%d"`, i))
		}
		_, err := e.users.List(e.ctx, directory.ListOptions{Filter: strings.Join(terms, " or ")})
		assert.ErrorIs(t, err, directory.ErrQueryTooComplex, "101 terms")
	})
}

// invalidFilters are filters every backend must refuse with
// ErrInvalidFilter before reading any data.
func invalidFilters() []string {
	return []string{
		`userName eq`,
		`userName eq "x" and`,
		`nosuch eq "x"`,
		`userName	eq "x"`,
		`not userName eq "x"`,
		`active gt true`,
		`userName eq "x" or active lt false`,
		`meta.created eq "2024-01-01"`,
		`meta.created co "2024"`,
		`userName eq 3`,
		`claims.level gt true`,
		`name.givenName.x eq "a"`,
		`userName[value eq "x"]`,
		`emails[type eq "work" and emails[value pr]]`,
		`title gt null`,
		`userName eq "unterminated`,
		`userName eq 03`,
		`userName eq True`,
		`emails co 3`,
	}
}

// checkFilter checks that List (every page, every deleted mode) returns
// exactly want, and that Count and Total agree.
func checkFilter(t *testing.T, e *env, filter string, want []directory.User) {
	t.Helper()
	for _, mode := range []directory.DeletedMode{directory.ExcludeDeleted, directory.IncludeDeleted, directory.OnlyDeleted} {
		w := modeSet(want, mode)
		got := listAll(t, e.ctx, e.users, directory.ListOptions{Filter: filter, Limit: 7, Deleted: mode})
		assert.ElementsMatchf(t, ids(w), ids(got), "List(%s, %s): ids", filter, modeNames[mode])
		page, err := e.users.List(e.ctx, directory.ListOptions{Filter: filter, Limit: 3, Total: true, Deleted: mode})
		require.NoError(t, err)
		if assert.NotNil(t, page.Total, "Total asked for") {
			assert.Equalf(t, len(w), *page.Total, "List(%s, %s).Total", filter, modeNames[mode])
		}
		assert.LessOrEqual(t, len(page.Users), 3)
	}
	n, err := e.users.Count(e.ctx, filter)
	require.NoError(t, err)
	assert.Equalf(t, len(modeSet(want, directory.ExcludeDeleted)), n, "Count(%s)", filter)
}
