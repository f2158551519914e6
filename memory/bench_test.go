package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

const benchRecords = 10_000

// benchStore returns a store holding benchRecords users in one tenant, and
// a few in another.
func benchStore(b *testing.B) (*memory.Store, *query.Schema) {
	b.Helper()
	s := newStore(b)
	ctx := context.Background()
	for i := range benchRecords {
		d := user(fmt.Sprintf("User%05d", i), fmt.Sprintf("user%05d@example.com", i))
		d.created = t0.Add(time.Duration(i) * time.Second)
		if _, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%05d", i), d); err != nil {
			b.Fatal(err)
		}
	}
	return s, testSchema()
}

func BenchmarkGet(b *testing.B) {
	s, _ := benchStore(b)
	ctx := context.Background()
	idsToGet := make([]string, 1024)
	for i := range idsToGet {
		idsToGet[i] = fmt.Sprintf("u%05d", (i*7919)%benchRecords)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Get(ctx, "acme", kindName, idsToGet[i%len(idsToGet)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndexedEq(b *testing.B) {
	s, schema := benchStore(b)
	ctx := context.Background()
	q := backend.Query{Kind: kindName, Filter: bind(b, schema, `emails.value eq "USER05000@example.com"`)}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Query(ctx, "acme", q) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1 {
			b.Fatalf("got %d records", n)
		}
	}
}

// BenchmarkIndexedEqPrepared is BenchmarkIndexedEq as a directory runs
// it: prepared once, through Visit.
func BenchmarkIndexedEqPrepared(b *testing.B) {
	s, schema := benchStore(b)
	ctx := context.Background()
	q := s.Prepare(backend.Query{Kind: kindName, Filter: bind(b, schema, `emails.value eq "USER05000@example.com"`)})
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		err := s.Visit(ctx, "acme", q, func(backend.Record) bool {
			n++
			return true
		})
		if err != nil || n != 1 {
			b.Fatalf("got %d records: %v", n, err)
		}
	}
}

// BenchmarkSortedPage reads the first page of 50 of a filtered list in
// descending creation order, as a directory listing does.
func BenchmarkSortedPage(b *testing.B) {
	s, schema := benchStore(b)
	ctx := context.Background()
	srt, err := query.ParseSort("-created", schema)
	if err != nil {
		b.Fatal(err)
	}
	q := backend.Query{Kind: kindName, Filter: bind(b, schema, `userName sw "user0"`), Sort: srt}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Query(ctx, "acme", q) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n == 50 {
				break
			}
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		id := fmt.Sprintf("u%08d", i)
		d := user("User"+id, id+"@example.com")
		i++
		b.StartTimer()
		if _, err := s.Create(ctx, "acme", kindName, id, d); err != nil {
			b.Fatal(err)
		}
	}
}
