package badger_test

import (
	"context"
	"fmt"
	"log"

	"github.com/userdir/userdir/badger"
	"github.com/userdir/userdir/directory"
)

func Example() {
	ctx := context.Background()
	// An empty path keeps the store in memory; give a directory to keep
	// the data.
	s, err := badger.Open("", badger.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := directory.New(s)
	if err != nil {
		log.Fatal(err)
	}
	defer dir.Close()

	users := dir.Users("acme")
	if _, err := users.Create(ctx, directory.User{UserName: "ann", Emails: []directory.Email{{Value: "ann@example.com"}}}); err != nil {
		log.Fatal(err)
	}
	page, err := users.List(ctx, directory.ListOptions{Filter: `emails.value eq "ANN@example.com"`})
	if err != nil {
		log.Fatal(err)
	}
	for _, u := range page.Users {
		fmt.Println(u.UserName)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("consistent:", rep.OK())
	// Output:
	// ann
	// consistent: true
}
