package directory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

func ExampleRoles_Create() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()

	r, err := dir.Roles("acme").Create(ctx, directory.Role{ID: "admin", Name: "Admin", Permissions: []string{"users.write", "users.read"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.ID, r.Name, r.Permissions, r.Meta.Version)

	// A user may only name roles that exist.
	_, err = dir.Users("acme").Create(ctx, directory.User{UserName: "ada", Roles: []directory.RoleRef{{Value: "root"}}})
	var fe *directory.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field)
	// Output:
	// admin Admin [users.write users.read] 1
	// true roles[0].value
}

func ExampleGroups_Create() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")

	g, err := dir.Groups("acme").Create(ctx, directory.Group{ID: "eng", DisplayName: "Engineering"})
	if err != nil {
		panic(err)
	}
	ada, _ := users.Create(ctx, directory.User{UserName: "ada"})
	res, err := dir.Groups("acme").AddMembers(ctx, g.ID, ada.ID, "no-such-user")
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println(r.ID == ada.ID, r.Err == nil, errors.Is(r.Err, directory.ErrNotFound))
	}

	// Members show the group; renaming it renames it on every member.
	_, _ = dir.Groups("acme").Update(ctx, g.ID, func(g *directory.Group) error { g.DisplayName = "Platform"; return nil })
	page, _ := users.List(ctx, directory.ListOptions{Filter: `groups.display eq "platform"`})
	fmt.Println(page.Users[0].UserName, page.Users[0].Groups)
	// Output:
	// true true false
	// false false true
	// ada [{eng Platform}]
}

func ExampleInvitations_Send() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	_, _ = dir.Users("acme").Create(ctx, directory.User{UserName: "grace", Emails: []directory.Email{{Value: "grace@example.com"}}})

	res, err := dir.Invitations("acme").Send(directory.WithActor(ctx, "admin-1"),
		[]string{"ada@example.com", "grace@example.com", "not an address"}, directory.InviteOptions{})
	if err != nil {
		panic(err)
	}
	for _, r := range res {
		fmt.Println(r.Email, r.Outcome)
	}

	// The invited user waits for the invitation to be accepted.
	ada, _ := dir.Users("acme").Get(ctx, res[0].UserID)
	fmt.Println(ada.UserName, ada.Status)
	ada, _ = dir.Invitations("acme").Accept(ctx, res[0].InvitationID)
	fmt.Println(ada.UserName, ada.Status)
	// Output:
	// ada@example.com invited
	// grace@example.com active
	// not an address invalid
	// ada@example.com invited
	// ada@example.com active
}

func ExampleUsers_Permissions() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()

	_, _ = dir.Roles("acme").Create(ctx, directory.Role{ID: "reader", Name: "Reader", Permissions: []string{"users.read"}})
	_, _ = dir.Roles("acme").Create(ctx, directory.Role{ID: "deployer", Name: "Deployer", Permissions: []string{"deploy", "users.read"}})
	_, _ = dir.Groups("acme").Create(ctx, directory.Group{ID: "ops", DisplayName: "Ops", Roles: []string{"deployer"}})
	u, _ := dir.Users("acme").Create(ctx, directory.User{UserName: "ada", Roles: []directory.RoleRef{{Value: "reader"}}})
	_, _ = dir.Groups("acme").AddMembers(ctx, "ops", u.ID)

	perms, err := dir.Users("acme").Permissions(ctx, u.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(perms)
	// Output:
	// [deploy users.read]
}

func ExampleUsers_Anonymize() {
	ctx := context.Background()
	dir, _ := directory.New(memory.New())
	defer dir.Close()
	users := dir.Users("acme")

	u, _ := users.Create(ctx, directory.User{
		UserName: "ada", Subject: "idp|ada",
		Name:   directory.Name{GivenName: "Ada", FamilyName: "Lovelace"},
		Emails: []directory.Email{{Value: "ada@example.com"}},
	})
	gone, err := users.Anonymize(ctx, u.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(gone.ID == u.ID, gone.UserName == "anonymized-"+u.ID, gone.Status, gone.Emails, gone.Name.GivenName == "")

	// Irreversible; and the files of a store that keeps old bytes are
	// compacted on request.
	_, err = users.Restore(ctx, u.ID)
	fmt.Println(errors.Is(err, directory.ErrInvalidTransition))
	fmt.Println(dir.Compact(ctx))
	// Output:
	// true true deleted [] true
	// true
	// <nil>
}
