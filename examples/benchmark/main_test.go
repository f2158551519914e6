package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuick runs the whole program on 2,000 users with the memory and
// badger backends (and mongo with BENCHMARK_MONGO=1 and MONGODB_URI set),
// as -quick does, and checks that every row was measured.
func TestQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("imports thousands of users")
	}
	backends := "memory,badger"
	args := []string{"-quick", "-users", "2000", "-backends", backends, "-dir", t.TempDir(),
		"-out", filepath.Join(t.TempDir(), "results.md")}
	// The mongo rows run when asked for: on the FerretDB test server a
	// dataset of 2,000 users takes minutes to build.
	if uri := os.Getenv("MONGODB_URI"); uri != "" && os.Getenv("BENCHMARK_MONGO") != "" {
		args = append(args, "-backends", backends+",mongo", "-mongo-uri", uri)
	}
	cfg, err := parseFlags(args)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), cfg, &out, log.New(io.Discard, "", 0)); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(cfg.out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, out.Bytes()) {
		t.Error("-out differs from the printed table")
	}
	table := out.String()
	t.Log("\n" + table)
	for _, want := range []string{
		"| P1 | memory |", "| P2 | memory |", "| P3 | memory |", "| P4 | memory |", "| P5 | memory |",
		"| P6 | — |", "| P7 | memory |", "| P8 | memory |", "| P9 | memory |", "| P10 | memory |",
		"| P1 | badger |", "| P2 | badger |", "| P3 | badger |", "| P5 | badger |", "| P7 | badger |", "| P10 | badger |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("no row %q", want)
		}
	}
	if strings.Contains(table, "error:") {
		t.Error("a row failed")
	}
}

// TestSpread checks that the reference row's sample holds distinct users,
// as many as asked for or every user, the same for the same stream.
func TestSpread(t *testing.T) {
	for _, n := range []int{1, 7, 2000, 1_000_003 * 2, 65536} {
		ds := newDataset(1, n)
		k := min(n, 3000)
		s := ds.spread(n, k, 3)
		if len(s.ids) != k || len(s.filters) != k {
			t.Fatalf("n %d: %d ids and %d filters, want %d", n, len(s.ids), len(s.filters), k)
		}
		seen := map[string]bool{}
		for _, id := range s.ids {
			if seen[id] {
				t.Fatalf("n %d: user %s twice", n, id)
			}
			seen[id] = true
		}
		if again := ds.spread(n, k, 3); again.ids[k-1] != s.ids[k-1] {
			t.Fatalf("n %d: another sample for the same stream", n)
		}
	}
}
