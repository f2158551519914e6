package directory_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

const benchUsers = 100_000

var (
	benchOnce sync.Once
	benchDir  *directory.Directory
)

// benchDirectory builds one directory of 100,000 users per test binary run.
// The cache is off, so every iteration does the work.
func benchDirectory(b *testing.B) *directory.Directory {
	benchOnce.Do(func() {
		d, err := directory.New(memory.New(), directory.WithCache(0, 0))
		if err != nil {
			b.Fatal(err)
		}
		users := d.Users("bench")
		seq := func(yield func(directory.User) bool) {
			for i := range benchUsers {
				u := directory.User{
					UserName: fmt.Sprintf("user%06d", i),
					Name:     directory.Name{GivenName: fmt.Sprintf("Given%d", i%977), FamilyName: fmt.Sprintf("Family%d", i%1009)},
					Emails:   []directory.Email{{Value: fmt.Sprintf("user%06d@example.com", i), Type: "work"}},
					Claims:   map[string]any{"level": i % 10, "department": []string{"ops", "eng", "sales"}[i%3]},
				}
				if !yield(u) {
					return
				}
			}
		}
		rep, err := users.Import(context.Background(), seq)
		if err != nil || rep.Failed > 0 {
			b.Fatalf("import: %v, %d failed", err, rep.Failed)
		}
		benchDir = d
	})
	return benchDir
}

// BenchmarkListFilterSortLimit lists the first 50 users of a filter that
// needs a scan, sorted by an attribute without an index.
func BenchmarkListFilterSortLimit(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	opts := directory.ListOptions{Filter: `claims.department eq "eng" and claims.level ge 5`, Sort: "-name.familyName", Limit: 50}
	b.ReportAllocs()
	for b.Loop() {
		page, err := users.List(ctx, opts)
		if err != nil || len(page.Users) != 50 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}

// BenchmarkListIndexed lists through the userName index with a pushed sort.
func BenchmarkListIndexed(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	opts := directory.ListOptions{Filter: `userName sw "user05"`, Sort: "userName", Limit: 50}
	b.ReportAllocs()
	for b.Loop() {
		page, err := users.List(ctx, opts)
		if err != nil || len(page.Users) != 50 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}

// BenchmarkCursorWalk walks all 100,000 users, 1,000 per page, by cursor.
func BenchmarkCursorWalk(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range users.All(ctx, directory.ListOptions{Sort: "meta.created", Limit: 1000}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchUsers {
			b.Fatalf("walked %d users", n)
		}
	}
}

// BenchmarkGet reads one user by id.
func BenchmarkGet(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	page, err := users.List(ctx, directory.ListOptions{Limit: 1})
	if err != nil {
		b.Fatal(err)
	}
	id := page.Users[0].ID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := users.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFindByEmail lists the one user with an email address, through
// the emails index.
func BenchmarkFindByEmail(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	opts := directory.ListOptions{Filter: `emails.value eq "user050000@example.com"`}
	b.ReportAllocs()
	for b.Loop() {
		page, err := users.List(ctx, opts)
		if err != nil || len(page.Users) != 1 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}

// BenchmarkFindByEmailDistinct lists users by email as
// BenchmarkFindByEmail does, cycling through n distinct filters: 1,024
// fit the directory's plan cache, so every list after the first round
// reuses its plan; 65,536 do not, so every list parses, binds and plans
// its filter again (what a service looking up arbitrary addresses pays).
func BenchmarkFindByEmailDistinct(b *testing.B) {
	users := benchDirectory(b).Users("bench")
	ctx := context.Background()
	for _, n := range []int{1024, 65536} {
		filters := make([]string, n)
		for i := range filters {
			filters[i] = fmt.Sprintf(`emails.value eq "user%06d@example.com"`, (i*7919)%benchUsers)
		}
		b.Run(fmt.Sprintf("filters=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				page, err := users.List(ctx, directory.ListOptions{Filter: filters[i%n]})
				if err != nil || len(page.Users) != 1 {
					b.Fatalf("list: %v, %d users", err, len(page.Users))
				}
			}
		})
	}
}

// BenchmarkListTenants lists the one user of a tenant by userName, with
// the same filter in each of 4,096 tenants, more than the plan cache
// holds: the tenants share the request's plan.
func BenchmarkListTenants(b *testing.B) {
	ctx := context.Background()
	d, err := directory.New(memory.New(), directory.WithCache(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	tenants := make([]*directory.Users, 4096)
	for i := range tenants {
		tenants[i] = d.Users(fmt.Sprintf("t%04d", i))
		if _, err := tenants[i].Create(ctx, directory.User{UserName: "owner"}); err != nil {
			b.Fatal(err)
		}
	}
	opts := directory.ListOptions{Filter: `userName eq "owner"`}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		page, err := tenants[i%len(tenants)].List(ctx, opts)
		if err != nil || len(page.Users) != 1 {
			b.Fatalf("list: %v, %d users", err, len(page.Users))
		}
	}
}
