package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// testURI returns the test server's URI from MONGODB_URI. Without it the
// test is skipped, or fails under CI, where a missing server is a failure.
func testURI(tb testing.TB) string {
	tb.Helper()
	uri := os.Getenv("MONGODB_URI")
	if uri == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("MONGODB_URI is not set: CI must run the mongo tests against a server (bash scripts/test.sh starts one)")
		}
		tb.Skip("MONGODB_URI is not set; start the test server with `export MONGODB_URI=$(bash scripts/mongo-test-server.sh | tail -n1)`, or run `bash scripts/test.sh`")
	}
	return uri
}

// testClient connects to the test server; the client is disconnected when
// the test ends.
func testClient(tb testing.TB) *mongodrv.Client {
	tb.Helper()
	client, err := mongodrv.Connect(options.Client().ApplyURI(testURI(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	return client
}

// testDatabase returns a database name no other test uses, and drops the
// database when the test ends.
func testDatabase(tb testing.TB, client *mongodrv.Client) string {
	tb.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	name := "userdir_" + hex.EncodeToString(b)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := client.Database(name).Drop(ctx); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	return name
}

// testStore opens a store on a fresh database of its own, over a client
// the test owns (so that the database can be dropped after the store, or a
// directory over it, has been closed).
func testStore(tb testing.TB, opts Options) *Store {
	tb.Helper()
	client := testClient(tb)
	db := testDatabase(tb, client)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, client, db, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}
