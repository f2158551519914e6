package badger

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// benchUsers is the size of the benchmark dataset.
const benchUsers = 100_000

// benchData is a store of benchUsers users of one tenant, written through
// the directory and shared by the read benchmarks of one process.
var benchData struct {
	once   sync.Once
	err    error
	path   string
	store  *Store
	ids    []string
	emails []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchData.store != nil {
		_ = benchData.store.Close()
		_ = os.RemoveAll(benchData.path)
	}
	os.Exit(code)
}

func loadBenchData(b *testing.B) {
	b.Helper()
	benchData.once.Do(func() {
		d := &benchData
		if d.path, d.err = os.MkdirTemp("", "userdir-badger-bench-"); d.err != nil {
			return
		}
		if d.store, d.err = Open(d.path, Options{}); d.err != nil {
			return
		}
		dir, err := directory.New(d.store, directory.WithCache(0, 0))
		if err != nil {
			d.err = err
			return
		}
		users := dir.Users("bench")
		const workers = 4
		d.ids = make([]string, benchUsers)
		d.emails = make([]string, benchUsers)
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < benchUsers; i += workers {
					email := fmt.Sprintf("user%06d@bench.example", i)
					u, err := users.Create(context.Background(), directory.User{
						UserName:    fmt.Sprintf("user%06d", i),
						DisplayName: fmt.Sprintf("User %d", i),
						Emails:      []directory.Email{{Value: email, Type: "work", Primary: true}},
					})
					if err != nil {
						errs <- err
						return
					}
					d.ids[i], d.emails[i] = u.ID, email
				}
			}()
		}
		wg.Wait()
		close(errs)
		d.err = <-errs
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
}

// BenchmarkGet reads a user by id through the Store.
func BenchmarkGet(b *testing.B) {
	loadBenchData(b)
	s, ctx := benchData.store, context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := benchData.ids[(i*7919)%benchUsers]
		if _, err := s.Get(ctx, "bench", "users", id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawGet is the floor under BenchmarkGet: the same record read
// straight from badger and decoded with the kind's codec.
func BenchmarkRawGet(b *testing.B) {
	loadBenchData(b)
	s := benchData.store
	codec := (*s.kinds.Load())["users"].kind.Codec
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := benchData.ids[(i*7919)%benchUsers]
		var raw []byte
		err := s.db.View(func(txn *badgerdb.Txn) error {
			item, err := txn.Get(recordKey("bench", "users", id))
			if err != nil {
				return err
			}
			raw, err = item.ValueCopy(nil)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := codec.Unmarshal(raw[versionLen:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmailLookup finds a user by `emails.value eq`, answered from
// the emails unique index.
func BenchmarkEmailLookup(b *testing.B) {
	loadBenchData(b)
	s, ctx := benchData.store, context.Background()
	schema := query.UserSchema()
	filters := make([]query.Expr, 1024)
	for i := range filters {
		e, err := query.Parse(fmt.Sprintf("emails.value eq %q", benchData.emails[(i*7919)%benchUsers]))
		if err != nil {
			b.Fatal(err)
		}
		if filters[i], err = query.Bind(e, schema); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := 0
		for _, err := range s.Query(ctx, "bench", backend.Query{Kind: "users", Filter: filters[i%len(filters)]}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 1 {
			b.Fatalf("%d users found", n)
		}
	}
}

// BenchmarkCreate measures the cost of a commit with and without an fsync
// per commit (Options.SyncWrites), on disk.
func BenchmarkCreate(b *testing.B) {
	for _, syncWrites := range []bool{false, true} {
		b.Run(fmt.Sprintf("SyncWrites=%v", syncWrites), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{SyncWrites: syncWrites})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			if err := s.Define(ctx, testKind()); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				id := fmt.Sprint("id", i)
				d := &tdoc{ID: id, Name: id, Emails: []string{id + "@x.io"}, Score: int64(i), Created: t0}
				if _, err := s.Create(ctx, "t", tkind, id, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateParallel is BenchmarkCreate with 16 concurrent writers
// per CPU: badger commits the writes that queue up together, so one fsync
// serves many of them.
func BenchmarkCreateParallel(b *testing.B) {
	for _, syncWrites := range []bool{false, true} {
		b.Run(fmt.Sprintf("SyncWrites=%v", syncWrites), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{SyncWrites: syncWrites})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			if err := s.Define(ctx, testKind()); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := fmt.Sprint("id", next.Add(1))
					d := &tdoc{ID: id, Name: id, Emails: []string{id + "@x.io"}, Created: t0}
					if _, err := s.Create(ctx, "t", tkind, id, d); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// perItem hides a Store's CreateBatch, so that the directory stores each
// imported user with its own Create, as it does over a backend without
// batches.
type perItem struct{ backend.Backend }

// BenchmarkImport imports importUsers users through the directory into a
// new store on disk, in batches (backend.Batcher) and with one Create
// per user; compare the two with benchstat. The audit trail is off, as
// in the benchmark program's row P7.
func BenchmarkImport(b *testing.B) {
	const importUsers = 10_000
	users := make([]directory.User, importUsers)
	for i := range users {
		users[i] = directory.User{
			ID:          fmt.Sprintf("u%06d", i),
			UserName:    fmt.Sprintf("user%06d", i),
			DisplayName: fmt.Sprintf("User %d", i),
			Emails:      []directory.Email{{Value: fmt.Sprintf("user%06d@bench.example", i), Type: "work", Primary: true}},
		}
	}
	for _, mode := range []struct {
		name string
		wrap func(*Store) backend.Backend
	}{
		{"Batched", func(s *Store) backend.Backend { return s }},
		{"PerItem", func(s *Store) backend.Backend { return perItem{s} }},
	} {
		b.Run(mode.name, func(b *testing.B) {
			root := b.TempDir()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				s, err := Open(fmt.Sprintf("%s/%d", root, i), Options{})
				if err != nil {
					b.Fatal(err)
				}
				dir, err := directory.New(mode.wrap(s), directory.WithCache(0, 0), directory.WithAudit(false))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				rep, err := dir.Users("bench").Import(context.Background(), slices.Values(users))
				b.StopTimer()
				if err != nil || rep.Created != importUsers {
					b.Fatalf("import: %d created, %d failed, %v", rep.Created, rep.Failed, err)
				}
				if err := dir.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*importUsers), "ns/user")
		})
	}
}
