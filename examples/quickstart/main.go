// Command quickstart shows userdir's main calls on the embedded default
// backend, Badger: create users, search them with a SCIM filter, page
// through them with cursors, update one, and soft-delete and restore
// another. The data lives in a temporary directory, removed at exit,
// unless -dir names an empty directory to keep it in.
//
//	go run ./examples/quickstart [-dir DIR]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/userdir/userdir/badger"
	"github.com/userdir/userdir/directory"
)

func main() {
	path := flag.String("dir", "", "keep the Badger data in this directory (default: a temporary one)")
	flag.Parse()
	if err := run(context.Background(), *path); err != nil {
		log.SetFlags(0)
		log.Fatal("quickstart: ", err)
	}
}

func run(ctx context.Context, path string) error {
	if path == "" {
		tmp, err := os.MkdirTemp("", "userdir-quickstart-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		path = tmp
	}
	store, err := badger.Open(path, badger.Options{})
	if err != nil {
		return err
	}
	dir, err := directory.New(store)
	if err != nil {
		store.Close()
		return err
	}
	defer dir.Close()
	fmt.Printf("userdir on Badger in %s\n\n", path)
	users := dir.Users("acme")

	fmt.Println("1. Create users in tenant acme")
	people := []struct{ given, family, dept string }{
		{"Ada", "Lovelace", "research"}, {"Alan", "Turing", "research"},
		{"Grace", "Hopper", "engineering"}, {"Edsger", "Dijkstra", "engineering"},
		{"Barbara", "Liskov", "engineering"}, {"Ken", "Thompson", "ops"},
		{"Dennis", "Ritchie", "ops"}, {"Margaret", "Hamilton", "engineering"},
	}
	for i, p := range people {
		u, err := users.Create(ctx, directory.User{
			UserName: strings.ToLower(p.given + "." + p.family),
			Name:     directory.Name{GivenName: p.given, FamilyName: p.family},
			Emails:   []directory.Email{{Value: strings.ToLower(p.given) + "@acme.example", Type: "work", Primary: true}},
			Claims:   map[string]any{"department": p.dept, "level": i%4 + 1},
		})
		if err != nil {
			return err
		}
		fmt.Printf("   created %-20s id=%s status=%s version=%d\n", u.UserName, u.ID, u.Status, u.Meta.Version)
	}

	fmt.Println("\n2. Email addresses are unique per tenant, whatever their case")
	_, err = users.Create(ctx, directory.User{UserName: "impostor", Emails: []directory.Email{{Value: "ADA@acme.example"}}})
	fmt.Printf("   creating another ADA@acme.example: already exists = %v\n", errors.Is(err, directory.ErrAlreadyExists))

	fmt.Println("\n3. Search with a SCIM filter, sorted")
	filter := `claims.department eq "engineering" and claims.level ge 2`
	page, err := users.List(ctx, directory.ListOptions{Filter: filter, Sort: "name.familyName", Total: true})
	if err != nil {
		return err
	}
	fmt.Printf("   %s -> %d of %d users\n", filter, len(page.Users), *page.Total)
	for _, u := range page.Users {
		fmt.Printf("   - %s %s (level %v)\n", u.Name.GivenName, u.Name.FamilyName, u.Claims["level"])
	}

	fmt.Println("\n4. Page through everyone, three at a time, with cursors")
	opts := directory.ListOptions{Sort: "userName", Limit: 3}
	for n := 1; ; n++ {
		page, err := users.List(ctx, opts)
		if err != nil {
			return err
		}
		names := make([]string, len(page.Users))
		for i, u := range page.Users {
			names[i] = u.UserName
		}
		fmt.Printf("   page %d: %s\n", n, strings.Join(names, ", "))
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}

	fmt.Println("\n5. Update with a SCIM PATCH and a typed update")
	grace, err := firstMatch(ctx, users, `userName eq "GRACE.HOPPER"`)
	if err != nil {
		return err
	}
	grace, err = users.Patch(ctx, grace.ID, []directory.PatchOp{
		{Op: "replace", Path: `emails[type eq "work"].value`, Value: "grace.hopper@acme.example"},
		{Op: "add", Path: "title", Value: "Rear Admiral"},
	})
	if err != nil {
		return err
	}
	grace, err = users.Update(ctx, grace.ID, func(u *directory.User) error {
		u.LastLoginAt = time.Now()
		return nil
	}, directory.IfVersion(grace.Meta.Version))
	if err != nil {
		return err
	}
	fmt.Printf("   %s: email %s, title %q, version %d\n", grace.UserName, grace.Emails[0].Value, grace.Title, grace.Meta.Version)

	fmt.Println("\n6. Soft delete, then restore")
	ken, err := firstMatch(ctx, users, `name.familyName eq "thompson"`)
	if err != nil {
		return err
	}
	if err := users.Delete(ctx, ken.ID); err != nil {
		return err
	}
	active, err := users.Count(ctx, "")
	if err != nil {
		return err
	}
	fmt.Printf("   after deleting %s: %d users listed\n", ken.UserName, active)
	ken, err = users.Restore(ctx, ken.ID)
	if err != nil {
		return err
	}
	active, err = users.Count(ctx, "")
	if err != nil {
		return err
	}
	fmt.Printf("   after restoring %s (status %s): %d users listed\n", ken.UserName, ken.Status, active)

	explain, err := users.Explain(directory.ListOptions{Filter: `emails.value eq "ada@acme.example"`})
	if err != nil {
		return err
	}
	fmt.Printf("\n7. How a lookup by email runs:\n   %s\n", strings.ReplaceAll(explain, "\n", "\n   "))
	return nil
}

func firstMatch(ctx context.Context, users *directory.Users, filter string) (directory.User, error) {
	page, err := users.List(ctx, directory.ListOptions{Filter: filter, Limit: 1})
	if err != nil {
		return directory.User{}, err
	}
	if len(page.Users) == 0 {
		fmt.Fprintf(os.Stderr, "no user matches %s\n", filter)
		return directory.User{}, directory.ErrNotFound
	}
	return page.Users[0], nil
}
