package directory

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidate(t *testing.T) {
	deep := map[string]any{}
	cur := deep
	for range MaxClaimsDepth + 1 {
		next := map[string]any{}
		cur["a"] = next
		cur = next
	}
	ok := func(mut func(*User)) User {
		u := User{UserName: "ada", Emails: []Email{{Value: "ada@example.com"}}}
		if mut != nil {
			mut(&u)
		}
		return u
	}
	tests := []struct {
		name  string
		user  User
		field string // "" means valid
	}{
		{"minimal", ok(nil), ""},
		{"unicode email", ok(func(u *User) { u.Emails[0].Value = "straße@bücher.example" }), ""},
		{"plus address", ok(func(u *User) { u.Emails[0].Value = "ada+tag@mail.example.org" }), ""},
		{"missing userName", ok(func(u *User) { u.UserName = "" }), "userName"},
		{"blank userName", ok(func(u *User) { u.UserName = "   " }), "userName"},
		{"long userName", ok(func(u *User) { u.UserName = strings.Repeat("a", MaxUserNameLen+1) }), "userName"},
		{"NUL in title", ok(func(u *User) { u.Title = "a\x00b" }), "title"},
		{"control char in displayName", ok(func(u *User) { u.DisplayName = "a\nb" }), "displayName"},
		{"invalid UTF-8", ok(func(u *User) { u.Name.GivenName = "\xff" }), "name.givenName"},
		{"long string", ok(func(u *User) { u.Locale = strings.Repeat("x", MaxStringLen+1) }), "locale"},
		{"email without at", ok(func(u *User) { u.Emails[0].Value = "ada.example.com" }), "emails[0].value"},
		{"email without domain dot", ok(func(u *User) { u.Emails[0].Value = "ada@localhost" }), "emails[0].value"},
		{"email double dot", ok(func(u *User) { u.Emails[0].Value = "a..da@example.com" }), "emails[0].value"},
		{"email space", ok(func(u *User) { u.Emails[0].Value = "a da@example.com" }), "emails[0].value"},
		{"email empty value", ok(func(u *User) { u.Emails = append(u.Emails, Email{Type: "home"}) }), "emails[1].value"},
		{"email repeated case-insensitively", ok(func(u *User) { u.Emails = append(u.Emails, Email{Value: "ADA@Example.COM"}) }), "emails[1].value"},
		{"two primaries", ok(func(u *User) {
			u.Emails = []Email{{Value: "a@x.io", Primary: true}, {Value: "b@x.io", Primary: true}}
		}), "emails"},
		{"bad domain label", ok(func(u *User) { u.Emails[0].Value = "ada@-x.io" }), "emails[0].value"},
		{"phone without value", ok(func(u *User) { u.PhoneNumbers = []PhoneNumber{{Type: "work"}} }), "phoneNumbers[0].value"},
		{"role bad id", ok(func(u *User) { u.Roles = []RoleRef{{Value: "a b"}} }), "roles[0].value"},
		{"role twice", ok(func(u *User) { u.Roles = []RoleRef{{Value: "admin"}, {Value: "admin"}} }), "roles[1].value"},
		{"unknown status", ok(func(u *User) { u.Status = "sleeping" }), "status"},
		{"claim key dollar", ok(func(u *User) { u.Claims = map[string]any{"$where": 1} }), "claims.$where"},
		{"claim key dot", ok(func(u *User) { u.Claims = map[string]any{"a.b": 1} }), "claims.a.b"},
		{"claim key empty", ok(func(u *User) { u.Claims = map[string]any{"": 1} }), "claims"},
		{"nested claim key dollar", ok(func(u *User) { u.Claims = map[string]any{"a": map[string]any{"$gt": ""}} }), "claims.a.$gt"},
		{"claims too deep", ok(func(u *User) { u.Claims = deep }), "claims.a.a.a.a.a.a.a.a"},
		{"claim NaN", ok(func(u *User) { u.Claims = map[string]any{"x": math.NaN()} }), "claims.x"},
		{"claim Go struct", ok(func(u *User) { u.Claims = map[string]any{"x": struct{}{}} }), "claims.x"},
		{"claim bad json.Number", ok(func(u *User) { u.Claims = map[string]any{"x": json.Number("1e")} }), "claims.x"},
		{"claim NUL string", ok(func(u *User) { u.Claims = map[string]any{"x": "a\x00"} }), "claims.x"},
		{"claims too large", ok(func(u *User) { u.Claims = map[string]any{"x": strings.Repeat("a", MaxClaimsSize)} }), "claims"},
		{"claims fine", ok(func(u *User) {
			u.Claims = map[string]any{"n": json.Number("9007199254740993"), "f": 0.1, "i": 3, "l": []any{"a", true, nil}}
		}), ""},
		{"enterprise bad", ok(func(u *User) { u.Enterprise = &EnterpriseUser{Department: "\x00"} }),
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(&tt.user)
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var fe *FieldError
			require.True(t, errors.As(err, &fe), "error %v is not a *FieldError", err)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
}

func TestValidTenant(t *testing.T) {
	for _, tn := range []string{"acme", "a", "A.b_c-9", strings.Repeat("x", MaxTenantLen)} {
		assert.NoError(t, validTenant(tn), tn)
	}
	for _, tn := range []string{"", "a b", "a/b", "a~b", strings.Repeat("x", MaxTenantLen+1), "é", GlobalTenant} {
		err := validTenant(tn)
		assert.ErrorIs(t, err, ErrInvalid, tn)
	}
}

func TestNormalizeClaims(t *testing.T) {
	in := map[string]any{"i": 3, "f": 0.1, "u": uint8(7), "n": map[string]any{"big": int64(1 << 62)}, "l": []any{1.5}}
	out := normalizeClaims(in)
	assert.Equal(t, map[string]any{
		"i": json.Number("3"), "f": json.Number("0.1"), "u": json.Number("7"),
		"n": map[string]any{"big": json.Number("4611686018427387904")}, "l": []any{json.Number("1.5")},
	}, out)
	assert.Equal(t, 3, in["i"], "the caller's map is untouched")
}

// TestClaimNumbers checks that a small claim number shares its box and
// keeps its text, however it arrives: as a Go integer or as the text a
// backend stored.
func TestClaimNumbers(t *testing.T) {
	ints := []struct {
		v    any
		want json.Number
	}{
		{0, "0"}, {7, "7"}, {int8(-1), "-1"}, {int64(255), "255"}, {256, "256"},
		{uint8(255), "255"}, {uint64(256), "256"}, {uint(0), "0"}, {int64(math.MinInt64), "-9223372036854775808"},
		{json.Number("12"), "12"}, {json.Number("012"), "012"}, {json.Number("1e2"), "1e2"}, {json.Number("300"), "300"},
	}
	for _, tt := range ints {
		assert.Equal(t, tt.want, normalizeClaim(tt.v), "%T %v", tt.v, tt.v)
	}
	texts := []string{"0", "9", "10", "255", "256", "999", "1000", "00", "01", "-0", "-7", "1.5", "1e2", "25e", "2a", ""}
	for _, n := range texts {
		assert.Equal(t, json.Number(n), textNumber(n), "text %q", n)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = normalizeClaim(200) }), "a small number allocates no box")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = textNumber("42") }), "nor does its text")
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = normalizeClaim(json.Number("42")) }), "nor a json.Number")
}

func TestTransitions(t *testing.T) {
	all := []Status{StatusInvited, StatusProvisioned, StatusActive, StatusDisabled, StatusDeleted}
	allowed := map[[2]Status]bool{
		{StatusInvited, StatusActive}: true, {StatusInvited, StatusDeleted}: true,
		{StatusProvisioned, StatusActive}: true, {StatusProvisioned, StatusDisabled}: true, {StatusProvisioned, StatusDeleted}: true,
		{StatusActive, StatusDisabled}: true, {StatusActive, StatusDeleted}: true,
		{StatusDisabled, StatusActive}: true, {StatusDisabled, StatusDeleted}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if from == to {
				continue
			}
			err := checkTransition(from, to)
			if allowed[[2]Status{from, to}] {
				assert.NoError(t, err, "%s -> %s", from, to)
				continue
			}
			var te *TransitionError
			require.ErrorAs(t, err, &te, "%s -> %s", from, to)
			assert.ErrorIs(t, err, ErrInvalidTransition)
			assert.Equal(t, from, te.From)
			assert.Equal(t, to, te.To)
		}
	}
}
