package mongo

import (
	"context"
	"fmt"
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
// alone, into bson.Raw, with the filter Get sends: the floor BenchmarkGet
// is measured against.
func BenchmarkRawFindOne(b *testing.B) {
	_, s, id := benchUser(b)
	ctx := context.Background()
	coll := s.db.Collection("users")
	filter := (*s.kinds.Load())["users"].recordFilter("acme", id)
	b.ReportAllocs()
	for b.Loop() {
		var raw bson.Raw
		raw, err := coll.FindOne(ctx, filter).Raw()
		if err != nil || len(raw) == 0 {
			b.Fatal(err)
		}
	}
}

// BenchmarkStoreGet reads one record through the store alone from a
// collection of n records of one tenant, n 1,000 and 20,000: on a server
// that finds a record by its _id index the time per read does not depend
// on n. The fixture is written with bulk inserts of the stored documents
// (no reservations), which is all a read needs, so that it takes seconds
// on any server; being a benchmark, it runs only with -bench.
func BenchmarkStoreGet(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprintf("records=%d", n), func(b *testing.B) {
			_, s, id := benchUser(b)
			ctx := context.Background()
			rec, err := s.Get(ctx, "acme", "users", id)
			if err != nil {
				b.Fatal(err)
			}
			kd := (*s.kinds.Load())["users"]
			const batch = 1000
			for i := 1; i < n; i += batch {
				docs := make([]any, 0, batch)
				for j := i; j < min(i+batch, n); j++ {
					d, _, err := kd.recordDoc("acme", fmt.Sprintf("%s-%06d", id, j), bson.NewObjectID().Hex(), 1, rec.Doc)
					if err != nil {
						b.Fatal(err)
					}
					docs = append(docs, d)
				}
				if _, err := kd.coll.c.InsertMany(ctx, docs); err != nil {
					b.Fatal(err)
				}
			}
			// A record in the middle of the collection's id order.
			mid := fmt.Sprintf("%s-%06d", id, n/2)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(ctx, "acme", "users", mid); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
