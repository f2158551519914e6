package conformance

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// patchUser is the user every patch case starts from.
func patchUser() directory.User {
	return directory.User{
		UserName:    "pat",
		Name:        directory.Name{GivenName: "Pat", FamilyName: "Doe"},
		DisplayName: "Pat Doe",
		Emails: []directory.Email{
			{Value: "pat@work.example", Type: "work", Primary: true},
			{Value: "pat@home.example", Type: "home"},
		},
		Claims:     map[string]any{"level": 2, "address": map[string]any{"city": "Oslo", "zip": "0150"}},
		Enterprise: &directory.EnterpriseUser{Department: "Ops"},
	}
}

// testPatch checks SCIM PATCH (RFC 7644 §3.5.2) as DESIGN §7 spells it:
// every op applies atomically, a bad op changes nothing.
func testPatch(t *testing.T, s *suite) {
	const ent = query.EnterpriseURN
	good := []struct {
		name  string
		ops   []directory.PatchOp
		check func(t *testing.T, before, after directory.User)
	}{
		{"ReplaceGivenName", []directory.PatchOp{{Op: "replace", Path: "name.givenName", Value: "Patricia"}},
			func(t *testing.T, b, a directory.User) {
				b.Name.GivenName = "Patricia"
				assertSameBut(t, b, a)
			}},
		{"OpAndPathAnyCase", []directory.PatchOp{{Op: "Replace", Path: "NAME.GIVENNAME", Value: "Patricia"}},
			func(t *testing.T, b, a directory.User) {
				b.Name.GivenName = "Patricia"
				assertSameBut(t, b, a)
			}},
		{"AddEmailAppends", []directory.PatchOp{{Op: "add", Path: "emails", Value: []any{map[string]any{"value": "pat@new.example", "type": "other"}}}},
			func(t *testing.T, b, a directory.User) {
				b.Emails = append(b.Emails, directory.Email{Value: "pat@new.example", Type: "other"})
				assertSameBut(t, b, a)
			}},
		{"ReplaceFilteredValue", []directory.PatchOp{{Op: "replace", Path: `emails[type eq "work"].value`, Value: "pat@newjob.example"}},
			func(t *testing.T, b, a directory.User) {
				b.Emails[0].Value = "pat@newjob.example"
				assertSameBut(t, b, a)
			}},
		{"RemoveFilteredElement", []directory.PatchOp{{Op: "remove", Path: `emails[type eq "home"]`}},
			func(t *testing.T, b, a directory.User) {
				b.Emails = b.Emails[:1]
				assertSameBut(t, b, a)
			}},
		{"ReplaceActiveFalse", []directory.PatchOp{{Op: "replace", Path: "active", Value: false}},
			func(t *testing.T, b, a directory.User) {
				b.Status, b.Active = directory.StatusDisabled, ptr(false)
				assertSameBut(t, b, a)
			}},
		{"EnterpriseURNPath", []directory.PatchOp{
			{Op: "replace", Path: ent + ":department", Value: "R&D"},
			{Op: "add", Path: ent + ":manager.value", Value: "boss-id"},
		}, func(t *testing.T, b, a directory.User) {
			b.Enterprise = &directory.EnterpriseUser{Department: "R&D", Manager: directory.Manager{Value: "boss-id"}}
			assertSameBut(t, b, a)
		}},
		{"RemoveEnterprise", []directory.PatchOp{{Op: "remove", Path: ent + ":department"}},
			func(t *testing.T, b, a directory.User) {
				b.Enterprise = nil
				b.Schemas = []string{query.UserURN}
				assertSameBut(t, b, a)
			}},
		{"ClaimsPath", []directory.PatchOp{
			{Op: "replace", Path: "claims.address.city", Value: "Bergen"},
			{Op: "add", Path: "claims.team.name", Value: "core"},
			{Op: "replace", Path: "claims.level", Value: json.Number("9007199254740993")},
			{Op: "remove", Path: "claims.address.zip"},
		}, func(t *testing.T, b, a directory.User) {
			b.Claims = map[string]any{
				"level":   json.Number("9007199254740993"),
				"address": map[string]any{"city": "Bergen"},
				"team":    map[string]any{"name": "core"},
			}
			assertSameBut(t, b, a)
		}},
		{"NoPathReplace", []directory.PatchOp{{Op: "replace", Value: map[string]any{"displayName": "P. Doe", "nickName": "pd"}}},
			func(t *testing.T, b, a directory.User) {
				b.DisplayName, b.NickName = "P. Doe", "pd"
				assertSameBut(t, b, a)
			}},
		{"NoPathAddMergesObjects", []directory.PatchOp{{Op: "add", Value: map[string]any{"name": map[string]any{"middleName": "Q"}, "title": "Boss"}}},
			func(t *testing.T, b, a directory.User) {
				b.Name.MiddleName, b.Title = "Q", "Boss"
				assertSameBut(t, b, a)
			}},
		{"RemoveAttribute", []directory.PatchOp{{Op: "remove", Path: "displayName"}, {Op: "remove", Path: "name.familyName"}},
			func(t *testing.T, b, a directory.User) {
				b.DisplayName, b.Name.FamilyName = "", ""
				assertSameBut(t, b, a)
			}},
		{"SubAttributeOfEveryElement", []directory.PatchOp{{Op: "replace", Path: "emails.type", Value: "other"}},
			func(t *testing.T, b, a directory.User) {
				b.Emails[0].Type, b.Emails[1].Type = "other", "other"
				assertSameBut(t, b, a)
			}},
		{"ManyOpsOneVersion", []directory.PatchOp{
			{Op: "replace", Path: "title", Value: "A"},
			{Op: "replace", Path: "title", Value: "B"},
			{Op: "add", Path: "nickName", Value: "n"},
		}, func(t *testing.T, b, a directory.User) {
			b.Title, b.NickName = "B", "n"
			assertSameBut(t, b, a)
		}},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			e := s.newEnv(t)
			u := e.create(e.users, patchUser())
			got, err := e.users.Patch(e.ctx, u.ID, c.ops)
			require.NoError(t, err)
			assert.Equal(t, u.Meta.Version+1, got.Meta.Version, "a patch is one write")
			assert.True(t, got.Meta.LastModified.After(u.Meta.LastModified))
			stored := e.get(e.users, u.ID)
			assert.Equal(t, got, stored, "Patch returns the stored user")
			c.check(t, u, stored)
		})
	}

	bad := []struct {
		name string
		ops  []directory.PatchOp
		want error
	}{
		{"NoOps", nil, directory.ErrInvalid},
		{"UnknownOp", []directory.PatchOp{{Op: "move", Path: "title", Value: "x"}}, directory.ErrInvalid},
		{"ReadOnlyID", []directory.PatchOp{{Op: "replace", Path: "id", Value: "other"}}, directory.ErrInvalid},
		{"ReadOnlyMeta", []directory.PatchOp{{Op: "replace", Path: "meta.version", Value: 7}}, directory.ErrInvalid},
		{"ReadOnlyMetaObject", []directory.PatchOp{{Op: "remove", Path: "meta"}}, directory.ErrInvalid},
		{"ReadOnlySchemas", []directory.PatchOp{{Op: "add", Path: "schemas", Value: []any{"urn:x"}}}, directory.ErrInvalid},
		{"ReadOnlyGroups", []directory.PatchOp{{Op: "add", Path: "groups", Value: []any{map[string]any{"value": "g"}}}}, directory.ErrInvalid},
		{"ReadOnlyInNoPathValue", []directory.PatchOp{{Op: "replace", Value: map[string]any{"title": "x", "id": "other"}}}, directory.ErrInvalid},
		{"FilterMatchesNothing", []directory.PatchOp{{Op: "replace", Path: `emails[type eq "fax"].value`, Value: "a@b.example"}}, directory.ErrInvalid},
		{"RemoveFilterMatchesNothing", []directory.PatchOp{{Op: "remove", Path: `emails[value eq "nobody@x.example"]`}}, directory.ErrInvalid},
		{"BadPathSyntax", []directory.PatchOp{{Op: "replace", Path: `emails[type eq "work"`, Value: "x"}}, directory.ErrInvalidFilter},
		{"BadFilterInPath", []directory.PatchOp{{Op: "replace", Path: `emails[nosuch eq "work"].value`, Value: "x@y.example"}}, directory.ErrInvalidFilter},
		{"UnknownAttribute", []directory.PatchOp{{Op: "replace", Path: "nosuch", Value: "x"}}, directory.ErrInvalidFilter},
		{"RemoveWithoutPath", []directory.PatchOp{{Op: "remove"}}, directory.ErrInvalid},
		{"NoPathNotObject", []directory.PatchOp{{Op: "replace", Value: "x"}}, directory.ErrInvalid},
		{"MissingValue", []directory.PatchOp{{Op: "replace", Path: "title"}}, directory.ErrInvalid},
		{"WrongType", []directory.PatchOp{{Op: "replace", Path: "userName", Value: 42}}, directory.ErrInvalid},
		{"EmptyUserName", []directory.PatchOp{{Op: "replace", Path: "userName", Value: ""}}, directory.ErrInvalid},
		{"InvalidEmail", []directory.PatchOp{{Op: "replace", Path: `emails[type eq "work"].value`, Value: "not-an-email"}}, directory.ErrInvalid},
		{"DuplicateEmail", []directory.PatchOp{{Op: "add", Path: "emails", Value: map[string]any{"value": "PAT@home.example"}}}, directory.ErrInvalid},
		{"ClaimKeyDollar", []directory.PatchOp{{Op: "add", Path: "claims", Value: map[string]any{"$where": "1"}}}, directory.ErrInvalid},
		{"InvalidTransition", []directory.PatchOp{{Op: "replace", Path: "status", Value: "invited"}}, directory.ErrInvalidTransition},
		{"GoodThenBad", []directory.PatchOp{
			{Op: "replace", Path: "title", Value: "changed"},
			{Op: "replace", Path: `emails[type eq "fax"].value`, Value: "a@b.example"},
		}, directory.ErrInvalid},
		{"GoodThenUnknownOp", []directory.PatchOp{
			{Op: "replace", Path: "title", Value: "changed"},
			{Op: "copy", Path: "title"},
		}, directory.ErrInvalid},
	}
	for _, c := range bad {
		t.Run("Bad/"+c.name, func(t *testing.T) {
			e := s.newEnv(t)
			u := e.create(e.users, patchUser())
			before := e.snapshot(e.users)
			_, err := e.users.Patch(e.ctx, u.ID, c.ops)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			assert.Equal(t, before, e.snapshot(e.users), "a refused patch changes nothing (version included)")
		})
	}

	t.Run("Bad/TakesAnotherUsersEmail", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, patchUser())
		e.create(e.users, directory.User{UserName: "other", Emails: []directory.Email{{Value: "taken@example.com"}}})
		before := e.snapshot(e.users)
		_, err := e.users.Patch(e.ctx, u.ID, []directory.PatchOp{{Op: "replace", Path: `emails[type eq "home"].value`, Value: "TAKEN@example.com"}})
		assertTaken(t, err, "emails")
		assert.Equal(t, before, e.snapshot(e.users))
	})
}

// assertSameBut checks that after equals want in every field the caller
// did not expect to change; meta is compared apart (a patch bumps it).
func assertSameBut(t *testing.T, want, after directory.User) {
	t.Helper()
	want.Claims = normalizedClaims(want.Claims)
	want.Meta, after.Meta = directory.Meta{}, directory.Meta{}
	assert.Equal(t, want, after)
}

// normalizedClaims returns claims as a backend reads them back: every
// number a json.Number.
func normalizedClaims(c map[string]any) map[string]any {
	if c == nil {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}
