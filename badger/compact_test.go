package badger

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
)

// smallFiles makes badger's preallocated files small (the value log is
// otherwise a 2 GiB sparse file), so that tests can read them whole, and
// sends every record but the smallest to the value log, whose files
// Compact must clean as well as the tables.
func smallFiles(o badgerdb.Options) badgerdb.Options {
	return o.WithMemTableSize(1 << 20).WithValueLogFileSize(1 << 20).WithValueThreshold(256)
}

// dumpBytes returns what the store holds: the bytes of every file of an
// on-disk store, or every version of every key and value of an in-memory
// one.
func dumpBytes(t testing.TB, s *Store) []byte {
	t.Helper()
	s.gate.Lock()
	defer s.gate.Unlock()
	var out bytes.Buffer
	if s.inMemory {
		err := s.db.View(func(txn *badgerdb.Txn) error {
			it := txn.NewIterator(badgerdb.IteratorOptions{AllVersions: true})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				out.Write(it.Item().Key())
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				out.Write(v)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	err := filepath.WalkDir(s.bopts.Dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		out.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestCompactErases(t *testing.T) {
	for _, inMemory := range []bool{true, false} {
		t.Run(fmt.Sprint("inMemory=", inMemory), func(t *testing.T) {
			ctx := context.Background()
			path, opts := "", Options{}
			if !inMemory {
				// (badger refuses values over ValueThreshold in memory,
				// so only the store on disk is tuned.)
				path, opts = t.TempDir(), Options{Tune: smallFiles}
			}
			s, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Define(ctx, testKind()); err != nil {
				t.Fatal(err)
			}
			secret := []byte("zq-secret-value")
			for i := range 50 {
				id := fmt.Sprint("id", i)
				d := &tdoc{Name: fmt.Sprint("n", i), Emails: []string{fmt.Sprintf("zq-secret-value-%d@x.io", i)}, Created: t0}
				if _, err := s.Create(ctx, "t", tkind, id, d); err != nil {
					t.Fatal(err)
				}
				switch i % 2 {
				case 0:
					d2 := *d
					d2.Emails = []string{fmt.Sprintf("clean-%d@x.io", i)}
					if _, err := s.Replace(ctx, "t", tkind, id, &d2, 1); err != nil {
						t.Fatal(err)
					}
				case 1:
					if err := s.Delete(ctx, "t", tkind, id, 1); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !bytes.Contains(dumpBytes(t, s), secret) {
				t.Fatal("the written values are not in the dump: the test would prove nothing")
			}
			if err := s.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(dumpBytes(t, s), secret) {
				t.Fatal("overwritten and deleted values are still stored after Compact")
			}
			rep := mustVerify(t, s)
			if rep.Records != 25 {
				t.Fatalf("%d records after Compact, want 25", rep.Records)
			}
			// The store goes on as before, and after a reopen.
			if _, err := s.Create(ctx, "t", tkind, "new", &tdoc{Name: "n0", Created: t0}); !errors.Is(err, backend.ErrAlreadyExists) {
				t.Fatalf("unique index lost in Compact: %v", err)
			}
			if _, err := s.Create(ctx, "t", tkind, "new", &tdoc{Name: "new", Created: t0}); err != nil {
				t.Fatal(err)
			}
			if inMemory {
				return
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s, err = Open(path, Options{Tune: smallFiles}); err != nil {
				t.Fatal(err)
			}
			if err := s.Define(ctx, testKind()); err != nil {
				t.Fatal(err)
			}
			if r, err := s.Get(ctx, "t", tkind, "id0"); err != nil || r.Version != 2 {
				t.Fatalf("after reopen: %+v, %v", r, err)
			}
			mustVerify(t, s)
		})
	}
}

func TestCompactEndsSuspendedQuery(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := range 5 {
		id := fmt.Sprint(i)
		if _, err := s.Create(ctx, "t", tkind, id, &tdoc{ID: id, Name: fmt.Sprint("n", i), Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	var last error
	for _, err := range s.Query(ctx, "t", backend.Query{Kind: tkind, Sort: mustSort(t, "name")}) {
		if err != nil {
			last = err
			break
		}
		if n++; n == 2 {
			if err := s.Compact(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n != 2 || !errors.Is(last, backend.ErrConflict) || !errors.Is(last, errQueryCompacted) {
		t.Fatalf("after %d records: %v", n, last)
	}
	if got := collect(t, s, "t", backend.Query{Kind: tkind}); len(got) != 5 {
		t.Fatalf("%d records after Compact", len(got))
	}
}

// TestCompactRecovery sets up the directories a crash during Compact can
// leave and checks that Open finds the store whole.
func TestCompactRecovery(t *testing.T) {
	ctx := context.Background()
	make1 := func(t *testing.T, path string) {
		s, err := Open(path, Options{Tune: smallFiles})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Define(ctx, testKind()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, "t", tkind, "a", &tdoc{Name: "a", Created: t0}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, path string) {
		s, err := Open(path, Options{Tune: smallFiles})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Define(ctx, testKind()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "t", tkind, "a"); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{compactNewSuffix, compactOldSuffix} {
			if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind: %v", suffix, err)
			}
		}
	}
	t.Run("BeforeSwap", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store")
		make1(t, path)
		if err := os.MkdirAll(path+compactNewSuffix, 0o755); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
	t.Run("BetweenRenames", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store")
		make1(t, path+compactNewSuffix)
		if err := os.MkdirAll(path+compactOldSuffix, 0o755); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
	t.Run("OldOnly", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store")
		make1(t, path+compactOldSuffix)
		check(t, path)
	})
	t.Run("AfterSwap", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "store")
		make1(t, path)
		if err := os.MkdirAll(path+compactOldSuffix, 0o755); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
}
