package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/badger"
	"github.com/userdir/userdir/directory"
)

// badgerRows measures the badger backend (on disk, badger's defaults):
// P1, P2, P3, P5, P7 and P10.
func (b *bench) badgerRows(ctx context.Context) error {
	n := b.cfg.users
	root := b.cfg.dir
	if root == "" {
		tmp, err := os.MkdirTemp("", "userdir-benchmark-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		root = tmp
	}
	b.log.Printf("badger: generating %d users (stores in %s)", n, root)
	all := make([]directory.User, n)
	for i := range all {
		all[i] = b.ds.user(i)
	}
	seq := firstUsers(all, n)

	// P7 imports the dataset -import-runs times, each into a new store;
	// the last is the dataset of the other rows. The baseline writes the
	// keys and values the first import wrote, read back from its store,
	// with a WriteBatch into a new database with the same options. It is
	// timed on the wall clock whatever -clock says: writes wait for
	// memtable flushes and compactions, which CPU time does not see.
	wall := wallClock()
	var (
		dir   *directory.Directory
		path  string
		kvs   *kvSet
		round int
		// rawOpts are the options of the first import's store, so that the
		// baseline writes into a database configured as the store's is.
		rawOpts badgerdb.Options
	)
	dropDir := func() {
		if dir != nil {
			dir.Close()
			os.RemoveAll(path)
			dir = nil
		}
	}
	defer dropDir()
	importDir := func(int) (time.Duration, error) {
		dropDir()
		round++
		path = filepath.Join(root, fmt.Sprintf("userdir-%d", round))
		st, err := badger.Open(path, badger.Options{})
		if err != nil {
			return 0, err
		}
		d, err := b.directory(st, 0)
		if err != nil {
			st.Close()
			return 0, err
		}
		dir = d
		runtime.GC()
		el, err := wall.time(func() error { return importChecked(ctx, d.Users(tenant), seq) })
		if err == nil && kvs == nil && b.want("P7") {
			kvs, err = extract(st.DB())
			rawOpts = st.DB().Opts()
		}
		return el, err
	}
	rawWrite := func(int) (time.Duration, error) {
		round++
		p := filepath.Join(root, fmt.Sprintf("raw-%d", round))
		defer os.RemoveAll(p)
		db, err := badgerdb.Open(rawOpts.WithDir(p).WithValueDir(p).WithLogger(nil))
		if err != nil {
			return 0, err
		}
		runtime.GC()
		el, err := wall.time(func() error { return kvs.write(db) })
		return el, errors.Join(err, db.Close())
	}
	if b.want("P7") {
		b.log.Printf("P7 badger: %d rounds of importing %d users", b.cfg.importRuns, n)
		m, err := b.profile("P7-badger", func() (measurement, error) {
			return alternate(b.cfg.importRuns, 1, 1, importDir, rawWrite, false)
		})
		what := "raw `WriteBatch` of the same keys and values"
		if kvs != nil {
			what = fmt.Sprintf("raw `WriteBatch` of the same %s keys and values (%s MB)", group(int64(kvs.len())), group(int64(kvs.size()>>20)))
		}
		b.add(row{id: "P7", backend: "badger",
			what:     fmt.Sprintf("`Import` %s users", group(int64(n))),
			baseline: what,
			target:   target{value: 1.5}, clock: wall.name, m: m, err: err})
		kvs = nil
		if err != nil {
			return err
		}
	}
	if dir == nil {
		b.log.Printf("badger: importing %d users", n)
		if _, err := importDir(1); err != nil {
			return err
		}
	}
	users := dir.Users(tenant)
	s := b.ds.pick(n, 1)
	db := dir.Backend().(*badger.Store).DB()

	if b.want("P1") {
		keys := make([][]byte, len(s.ids))
		for i, id := range s.ids {
			keys[i] = recordKey(tenant, "users", id)
		}
		base := func(i int) error {
			j := i % len(keys)
			return db.View(func(txn *badgerdb.Txn) error {
				item, err := txn.Get(keys[j])
				if err != nil {
					return fmt.Errorf("raw get %s: %w", s.ids[j], err)
				}
				v, err := item.ValueCopy(nil)
				if err == nil && len(v) < 16 {
					err = fmt.Errorf("raw get %s: %d bytes", s.ids[j], len(v))
				}
				return err
			})
		}
		// The raw keys must find the very records Get reads.
		for i, id := range s.ids {
			err := db.View(func(txn *badgerdb.Txn) error {
				item, err := txn.Get(keys[i])
				if err != nil {
					return err
				}
				v, err := item.ValueCopy(nil)
				if err == nil && !bytes.Contains(v, []byte(id)) {
					err = errors.New("the value is not the record")
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("P1: raw key of %s: %w (has the badger key layout changed?)", id, err)
			}
		}
		m, err := b.compare("P1-badger", b.clk.loop(getOp(ctx, users, s)), b.clk.loop(base), false)
		b.add(row{id: "P1", backend: "badger",
			what:     "`Users.Get` by id",
			baseline: "`db.View` + `txn.Get` + `ValueCopy` (no decode)",
			target:   target{value: 1.5}, clock: b.clk.name, m: m, err: err})
	}

	var small *directory.Users
	if b.want("P10") {
		p := filepath.Join(root, "small")
		st, err := badger.Open(p, badger.Options{})
		if err != nil {
			return err
		}
		sd, err := b.directory(st, 0)
		if err != nil {
			st.Close()
			return err
		}
		defer os.RemoveAll(p)
		defer sd.Close()
		small = sd.Users(tenant)
		if err := importChecked(ctx, small, firstUsers(all, n/10)); err != nil {
			return err
		}
	}
	if err := b.queryRows(ctx, "badger", users, small); err != nil {
		return err
	}
	if b.want("P5") {
		if err := b.cacheRows(ctx, "badger", dir, users, s); err != nil {
			return err
		}
	}
	return nil
}

// recordKey is the key of a record in the badger store, as its package
// documents the layout (format 1): keyspace 0x02, format 0x01, then the
// tenant, the kind and the id, each with 0x00 escaped as 0x00 0xFF and
// terminated by 0x00 0x01. badgerRows checks it against the store.
func recordKey(tenant, kind, id string) []byte {
	k := []byte{0x02, 0x01}
	for _, s := range []string{tenant, kind, id} {
		for i := 0; i < len(s); i++ {
			if s[i] == 0 {
				k = append(k, 0, 0xFF)
			} else {
				k = append(k, s[i])
			}
		}
		k = append(k, 0, 1)
	}
	return k
}

// kvSet is keys and values held in one arena, without a pointer per
// entry: ends[2i] ends key i, ends[2i+1] ends value i.
type kvSet struct {
	arena []byte
	ends  []int
}

func (s *kvSet) len() int  { return len(s.ends) / 2 }
func (s *kvSet) size() int { return len(s.arena) }

// extract reads every key and value an import wrote: all but the store's
// metadata keys (keyspace 0x01), which Open and Define write.
func extract(db *badgerdb.DB) (*kvSet, error) {
	s := &kvSet{}
	err := db.View(func(txn *badgerdb.Txn) error {
		it := txn.NewIterator(badgerdb.DefaultIteratorOptions)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) > 0 && k[0] == 0x01 {
				continue
			}
			s.arena = append(s.arena, k...)
			s.ends = append(s.ends, len(s.arena))
			err := item.Value(func(v []byte) error {
				s.arena = append(s.arena, v...)
				return nil
			})
			if err != nil {
				return err
			}
			s.ends = append(s.ends, len(s.arena))
		}
		return nil
	})
	return s, err
}

// write writes the set into db with one WriteBatch and waits for it.
func (s *kvSet) write(db *badgerdb.DB) error {
	wb := db.NewWriteBatch()
	defer wb.Cancel()
	start := 0
	for i := 0; i < len(s.ends); i += 2 {
		k := s.arena[start:s.ends[i]]
		v := s.arena[s.ends[i]:s.ends[i+1]]
		start = s.ends[i+1]
		if err := wb.Set(k, v); err != nil {
			return err
		}
	}
	return wb.Flush()
}
