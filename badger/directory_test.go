package badger

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/userdir/userdir/directory"
)

// openDirectory returns a directory over an in-memory store.
func openDirectory(t testing.TB) (*directory.Directory, *Store) {
	t.Helper()
	s, err := Open("", Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.New(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dir.Close() })
	return dir, s
}

// TestExplainUsesIndexes checks, through the directory, that the filters
// and sorts a directory issues most run on the users kind's indexes.
func TestExplainUsesIndexes(t *testing.T) {
	dir, _ := openDirectory(t)
	users := dir.Users("acme")
	for _, c := range []struct {
		opts directory.ListOptions
		want string
	}{
		{directory.ListOptions{Filter: `userName eq "ann"`}, "index userName eq"},
		{directory.ListOptions{Filter: `emails.value eq "ann@x.io"`}, "index emails eq"},
		{directory.ListOptions{Filter: `emails eq "ann@x.io"`}, "index emails eq"},
		{directory.ListOptions{Filter: `meta.created gt "2025-01-01T00:00:00Z"`}, "index created range"},
		{directory.ListOptions{Sort: "meta.created"}, "sorted by index created asc"},
		{directory.ListOptions{Sort: "-meta.created"}, "sorted by index created desc"},
		{directory.ListOptions{Filter: `userName sw "a"`, Sort: "-meta.lastModified"}, "index userName prefix"},
	} {
		got, err := users.Explain(c.opts)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("Explain(%+v) = %q, want %q in it", c.opts, got, c.want)
		}
	}
}

// TestDirectorySmoke runs a directory over an on-disk store: writes,
// indexed lists and sorted pages, a reopen, and a clean Verify.
func TestDirectorySmoke(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.New(s)
	if err != nil {
		t.Fatal(err)
	}
	users := dir.Users("acme")
	for i := range 30 {
		_, err := users.Create(ctx, directory.User{
			UserName: fmt.Sprintf("User%02d", i),
			Emails:   []directory.Email{{Value: fmt.Sprintf("u%02d@x.io", i)}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := users.Create(ctx, directory.User{UserName: "user05"}); err == nil {
		t.Fatal("duplicate userName accepted")
	}
	page, err := users.List(ctx, directory.ListOptions{Filter: `emails.value eq "U07@X.IO"`})
	if err != nil || len(page.Users) != 1 || page.Users[0].UserName != "User07" {
		t.Fatalf("lookup by email: %+v, %v", page, err)
	}
	var names []string
	cursor := ""
	for {
		page, err := users.List(ctx, directory.ListOptions{Sort: "-meta.created", Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			names = append(names, u.UserName)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(names) != 30 || names[0] != "User29" || names[29] != "User00" {
		t.Fatalf("paged by -meta.created: %v", names)
	}
	if err := dir.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, err = directory.New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	n, err := dir.Users("acme").Count(ctx, `userName sw "user1"`)
	if err != nil || n != 10 {
		t.Fatalf("count after reopen: %d, %v", n, err)
	}
	mustVerify(t, s)
}
