package directory_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

// FuzzPatch applies one operation of any op, path and value (a string, or
// any JSON) to a new user. It checks that Patch never panics, that it fails
// only with one of the directory's errors, that a failed patch leaves the
// user as it was, and that a patched user reads back as Patch returned it.
func FuzzPatch(f *testing.F) {
	for _, s := range []struct{ op, path, value string }{
		{"replace", `emails[type eq "work"].value`, `"a@b.io"`},
		{"add", "emails", `[{"value":"x@y.io","type":"home"}]`},
		{"remove", `emails[value ew ".org"]`, ``},
		{"replace", "name.familyName", `"Lovelace"`},
		{"add", "claims.level", `3`},
		{"replace", "", `{"displayName":"Ada","active":false}`},
		{"replace", "active", `false`},
		{"remove", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", ``},
		{"replace", "meta.created", `"2024-01-01T00:00:00Z"`},
		{"Add", `phoneNumbers[type eq "work"]`, `{"value":"+1"}`},
		{"replace", "userName", `"taken"`},
		{"copy", "userName", `"x"`},
		{"replace", "status", `"deleted"`},
	} {
		f.Add(s.op, s.path, s.value, true)
		f.Add(s.op, s.path, s.value, false)
	}
	ctx := context.Background()
	d, err := directory.New(memory.New(), directory.WithCache(0, 0))
	if err != nil {
		f.Fatal(err)
	}
	users := d.Users("fuzz")
	if _, err := users.Create(ctx, directory.User{UserName: "taken", Emails: []directory.Email{{Value: "taken@x.io"}}}); err != nil {
		f.Fatal(err)
	}
	sentinels := []error{directory.ErrInvalid, directory.ErrInvalidFilter, directory.ErrQueryTooComplex,
		directory.ErrAlreadyExists, directory.ErrInvalidTransition, directory.ErrNotFound}
	n := 0
	f.Fuzz(func(t *testing.T, op, path, value string, asJSON bool) {
		n++
		u, err := users.Create(ctx, directory.User{
			UserName: fmt.Sprintf("u%d", n),
			Name:     directory.Name{GivenName: "Ada", FamilyName: "Byron"},
			Emails: []directory.Email{{Value: fmt.Sprintf("u%d@work.io", n), Type: "work", Primary: true},
				{Value: fmt.Sprintf("u%d@home.org", n), Type: "home"}},
			Claims: map[string]any{"level": 1, "tags": []any{"a", "b"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		// The user goes when the run ends, so that long fuzzing does not
		// fill the directory.
		defer func() {
			// A patch may have deleted it already.
			if err := users.Delete(ctx, u.ID); err != nil && !errors.Is(err, directory.ErrInvalidTransition) {
				t.Fatal(err)
			}
			if err := users.Purge(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
		}()
		var v any = value
		if asJSON {
			if json.Unmarshal([]byte(value), &v) != nil {
				v = nil
			}
		}
		got, err := users.Patch(ctx, u.ID, []directory.PatchOp{{Op: op, Path: path, Value: v}})
		after, gerr := users.Get(ctx, u.ID)
		if gerr != nil {
			t.Fatalf("Get after Patch(%q, %q, %#v): %v", op, path, v, gerr)
		}
		if err != nil {
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("Patch(%q, %q, %#v): %v matches none of the directory's errors", op, path, v, err)
			}
			if after.Meta.Version != u.Meta.Version {
				t.Fatalf("Patch(%q, %q, %#v) failed with %v but changed the user", op, path, v, err)
			}
			return
		}
		gj, _ := json.Marshal(got)
		aj, _ := json.Marshal(after)
		if string(gj) != string(aj) {
			t.Fatalf("Patch(%q, %q, %#v) returned %s, Get reads %s", op, path, v, gj, aj)
		}
	})
}
