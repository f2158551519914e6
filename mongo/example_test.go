package mongo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/mongo"
)

// A directory over MongoDB. Every instance of a service opens its own
// store on the same database; give them all one cursor key so that a page
// listed by one instance continues on another.
func ExampleOpen() {
	ctx := context.Background()
	store, err := mongo.Open(ctx, "mongodb://localhost:27017", "userdir", mongo.Options{})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := directory.New(store, directory.WithCursorKey([]byte("a shared key of 32 random bytes!")))
	if err != nil {
		log.Fatal(err)
	}
	defer dir.Close()

	users := dir.Users("acme")
	if _, err := users.Create(ctx, directory.User{UserName: "ada", Claims: map[string]any{"department": "ops"}}); err != nil {
		log.Fatal(err)
	}
	page, err := users.List(ctx, directory.ListOptions{Filter: `claims.department eq "ops"`, Sort: "userName"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(page.Users), store.Server().FerretDB != "")
}
