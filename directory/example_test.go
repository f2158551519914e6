package directory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

func Example() {
	ctx := context.Background()
	dir, err := directory.New(memory.New())
	if err != nil {
		panic(err)
	}
	defer dir.Close()
	users := dir.Users("acme")

	for _, name := range []string{"ada", "grace", "alan"} {
		_, err := users.Create(ctx, directory.User{
			UserName: name,
			Emails:   []directory.Email{{Value: name + "@example.com", Type: "work"}},
		})
		if err != nil {
			panic(err)
		}
	}
	page, err := users.List(ctx, directory.ListOptions{Filter: `userName sw "A"`, Sort: "userName"})
	if err != nil {
		panic(err)
	}
	for _, u := range page.Users {
		fmt.Println(u.UserName, u.Emails[0].Value, u.Status)
	}
	// Output:
	// ada ada@example.com active
	// alan alan@example.com active
}

func ExampleUsers_Create() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")

	u, err := users.Create(ctx, directory.User{UserName: "ada", Emails: []directory.Email{{Value: "Ada@Example.com"}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.UserName, u.Status, u.Meta.Version)

	// Emails are unique per tenant, case-insensitively.
	_, err = users.Create(ctx, directory.User{UserName: "ada2", Emails: []directory.Email{{Value: "ADA@example.COM"}}})
	fmt.Println(errors.Is(err, directory.ErrAlreadyExists))

	// Bad input is a typed error naming the field.
	_, err = users.Create(ctx, directory.User{UserName: "bob", Emails: []directory.Email{{Value: "not-an-email"}}})
	var fe *directory.FieldError
	fmt.Println(errors.Is(err, directory.ErrInvalid), errors.As(err, &fe) && fe.Field == "emails[0].value")
	// Output:
	// ada active 1
	// true
	// true true
}

func ExampleUsers_List_paging() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")
	for _, name := range []string{"e", "d", "c", "b", "a"} {
		if _, err := users.Create(ctx, directory.User{UserName: name}); err != nil {
			panic(err)
		}
	}
	opts := directory.ListOptions{Sort: "userName", Limit: 2}
	for {
		page, err := users.List(ctx, opts)
		if err != nil {
			panic(err)
		}
		for _, u := range page.Users {
			fmt.Print(u.UserName, " ")
		}
		fmt.Println("|")
		if page.Next == "" {
			break
		}
		opts.Cursor = page.Next
	}
	// Output:
	// a b |
	// c d |
	// e |
}

func ExampleUsers_Update() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")
	u, _ := users.Create(ctx, directory.User{UserName: "ada"})

	u, err := users.Update(ctx, u.ID, func(u *directory.User) error {
		u.Title = "Countess"
		return nil
	}, directory.IfVersion(u.Meta.Version))
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Title, u.Meta.Version)

	// A stale version is a conflict, and nothing changes.
	_, err = users.Update(ctx, u.ID, func(u *directory.User) error { u.Title = "x"; return nil }, directory.IfVersion(1))
	fmt.Println(errors.Is(err, directory.ErrConflict))
	// Output:
	// Countess 2
	// true
}

func ExampleUsers_Patch() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")
	u, _ := users.Create(ctx, directory.User{UserName: "ada", Emails: []directory.Email{
		{Value: "ada@home.example", Type: "home"}, {Value: "ada@work.example", Type: "work"},
	}})

	u, err := users.Patch(ctx, u.ID, []directory.PatchOp{
		{Op: "replace", Path: `emails[type eq "work"].value`, Value: "countess@work.example"},
		{Op: "replace", Path: "active", Value: false},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Emails[1].Value, u.Status)
	// Output:
	// countess@work.example disabled
}
