package mongo

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/userdir/userdir/directory"
)

// benchUser is a typical user: a few emails, a name, the enterprise
// extension and some claims.
func benchUser(b *testing.B) (*directory.Users, *Store, string) {
	s := testStore(b, Options{})
	dir, err := directory.New(s)
	if err != nil {
		b.Fatal(err)
	}
	users := dir.Users("acme")
	u, err := users.Create(context.Background(), directory.User{
		UserName:    "ada",
		Name:        directory.Name{GivenName: "Ada", FamilyName: "Lovelace"},
		DisplayName: "Ada Lovelace",
		Emails:      []directory.Email{{Value: "ada@example.com", Type: "work", Primary: true}, {Value: "ada@home.example", Type: "home"}},
		Enterprise:  &directory.EnterpriseUser{Department: "Research", Manager: directory.Manager{Value: "babbage"}},
		Claims:      map[string]any{"department": "research", "level": 3, "tags": []any{"math", "engines"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return users, s, u.ID
}

// BenchmarkGet reads a user through the directory and the store: one
// round trip, decoding and copying.
func BenchmarkGet(b *testing.B) {
	users, _, id := benchUser(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := users.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawFindOne reads the same stored document with the driver
// alone, into bson.Raw: the floor BenchmarkGet is measured against.
func BenchmarkRawFindOne(b *testing.B) {
	_, s, id := benchUser(b)
	ctx := context.Background()
	coll := s.db.Collection("users")
	filter := recordFilter("acme", id)
	b.ReportAllocs()
	for b.Loop() {
		var raw bson.Raw
		raw, err := coll.FindOne(ctx, filter).Raw()
		if err != nil || len(raw) == 0 {
			b.Fatal(err)
		}
	}
}
