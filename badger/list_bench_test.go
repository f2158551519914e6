package badger

import (
	"context"
	"testing"

	"github.com/userdir/userdir/directory"
)

// benchUsersHandle is the bench tenant's users through a directory over
// the shared benchmark store, with the result cache off so that every
// iteration does the work.
func benchUsersHandle(b *testing.B) *directory.Users {
	b.Helper()
	loadBenchData(b)
	dir, err := directory.New(benchData.store, directory.WithCache(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	return dir.Users("bench")
}

// BenchmarkDirectoryGet reads a user by id through the directory: the
// baseline of BenchmarkDirectoryFindByEmail.
func BenchmarkDirectoryGet(b *testing.B) {
	users, ctx := benchUsersHandle(b), context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := users.Get(ctx, benchData.ids[(i*7919)%benchUsers]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDirectoryFindByEmail lists the one user with an email address
// through the directory, answered from the emails unique index.
func BenchmarkDirectoryFindByEmail(b *testing.B) {
	users, ctx := benchUsersHandle(b), context.Background()
	filters := make([]string, 1024)
	for i := range filters {
		filters[i] = `emails.value eq "` + benchData.emails[(i*7919)%benchUsers] + `"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		page, err := users.List(ctx, directory.ListOptions{Filter: filters[i%len(filters)]})
		if err != nil || len(page.Users) != 1 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}

// BenchmarkDirectoryFindByEmailDistinct lists users by 65,536 distinct
// addresses in turn: more requests than the directory keeps plans for,
// and as many unique keys as the store remembers by default.
func BenchmarkDirectoryFindByEmailDistinct(b *testing.B) {
	users, ctx := benchUsersHandle(b), context.Background()
	const distinct = 1 << 16
	filters := make([]string, distinct)
	for i := range filters {
		filters[i] = `emails.value eq "` + benchData.emails[(i*7919)%benchUsers] + `"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		page, err := users.List(ctx, directory.ListOptions{Filter: filters[i%distinct]})
		if err != nil || len(page.Users) != 1 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}
