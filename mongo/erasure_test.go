package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/userdir/userdir/conformance"
)

// TestErasure searches the raw documents of every collection of the
// store's database (records, shadow fields, unique-key reservations) for
// the personal data of a user after Anonymize (conformance.CheckErasure).
// The store needs no compaction: an overwritten or deleted document is no
// longer in any collection. (What the server's own files keep until it
// compacts them, WiredTiger's or SQLite's free pages, is the server's to
// reclaim: `compact` on MongoDB, VACUUM under FerretDB's SQLite backend.)
func TestErasure(t *testing.T) {
	testURI(t)
	s := testStore(t, Options{})
	conformance.CheckErasure(t, s, func(t *testing.T) []byte {
		ctx := t.Context()
		db := s.Database()
		names, err := db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, name := range names {
			cur, err := db.Collection(name).Find(ctx, bson.D{})
			if err != nil {
				t.Fatal(err)
			}
			for cur.Next(ctx) {
				out = append(out, cur.Current...)
			}
			if err := cur.Err(); err != nil {
				t.Fatal(err)
			}
			_ = cur.Close(ctx)
		}
		return out
	})
}
