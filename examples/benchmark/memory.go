package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/memory"
)

// memoryRows measures the memory backend: P1, P2, P3, P4, P5, P7, P8, P9
// and P10.
func (b *bench) memoryRows(ctx context.Context) error {
	n := b.cfg.users
	b.log.Printf("memory: generating %d users", n)
	all := make([]directory.User, n)
	for i := range all {
		all[i] = b.ds.user(i)
	}
	// P7 imports the dataset -import-runs times; its last import is the
	// dataset of the other rows, and its last raw map their baseline.
	// Each import reads a fresh deep copy of the users, strings included,
	// made before the clock starts and dropped after it stops, so that the
	// store then holds the only copy of its data: P8 weighs it.
	var (
		dir  *directory.Directory
		raw  map[string]*directory.User
		heap series
	)
	importDir := func(int) (time.Duration, error) {
		// Only the last directory and map are kept: memory for 1,000,000
		// users is counted in gigabytes.
		if dir != nil {
			dir.Close()
			dir = nil
		}
		raw = nil
		before := liveHeap()
		in := make([]directory.User, len(all))
		for i := range all {
			in[i] = deepCopy(all[i])
		}
		d, err := b.directory(memory.New(), 0)
		if err != nil {
			return 0, err
		}
		runtime.GC()
		el, err := b.clk.time(func() error { return importChecked(ctx, d.Users(tenant), firstUsers(in, len(in))) })
		dir = d
		in = nil
		heap = append(heap, float64(liveHeap()-before)/float64(n))
		return el, err
	}
	buildMap := func(int) (time.Duration, error) {
		raw = nil
		runtime.GC()
		m := make(map[string]*directory.User)
		el, err := b.clk.time(func() error {
			for _, u := range all {
				c := u.Clone()
				m[c.ID] = &c
			}
			return nil
		})
		raw = m
		return el, err
	}
	if b.want("P7") || b.want("P8") {
		b.log.Printf("P7, P8 memory: %d rounds of importing %d users", b.cfg.importRuns, n)
		m, err := b.profile("P7-memory", func() (measurement, error) {
			return alternate(b.cfg.importRuns, 1, 1, importDir, buildMap, false)
		})
		b.add(row{id: "P7", backend: "memory",
			what:     fmt.Sprintf("`Import` %s users", group(int64(n))),
			baseline: "build a map of `User.Clone`s",
			target:   target{}, clock: b.clk.name, m: m, err: err})
		if err != nil {
			return err
		}
		b.heapRow(all, heap)
		if b.cfg.memprofile != "" {
			if err := writeHeapProfile(b.cfg.memprofile); err != nil {
				return err
			}
		}
	}
	if dir == nil {
		b.log.Printf("memory: importing %d users", n)
		if _, err := importDir(1); err != nil {
			return err
		}
	}
	if raw == nil {
		buildMap(1)
	}
	defer dir.Close()
	users := dir.Users(tenant)
	s := b.ds.pick(n, 1)

	// mapGet is the baseline of P1: what a caller of a plain map of users
	// does to get a user it may modify.
	mapGet := func(i int) error {
		id := s.ids[i%len(s.ids)]
		p, ok := raw[id]
		if !ok {
			return fmt.Errorf("map: no user %s", id)
		}
		if u := p.Clone(); u.ID != id {
			return fmt.Errorf("map: got %s", u.ID)
		}
		return nil
	}
	if b.want("P1") {
		m, err := b.compare("P1-memory", b.clk.loop(getOp(ctx, users, s)), b.clk.loop(mapGet), false)
		b.add(row{id: "P1", backend: "memory",
			what:     "`Users.Get` by id",
			baseline: "Go map lookup + `User.Clone`",
			target:   target{value: 1.5}, clock: b.clk.name, m: m, err: err})
	}

	var small *directory.Users
	if b.want("P10") {
		sd, err := b.directory(memory.New(), 0)
		if err != nil {
			return err
		}
		defer sd.Close()
		small = sd.Users(tenant)
		if err := importChecked(ctx, small, firstUsers(all, n/10)); err != nil {
			return err
		}
	}
	if err := b.queryRows(ctx, "memory", users, small); err != nil {
		return err
	}

	if b.want("P4") {
		want, err := users.Count(ctx, scanFilter)
		if err != nil {
			return err
		}
		if got := scanLoop(all); got != want {
			return fmt.Errorf("P4: Count says %d users match, the Go loop %d", want, got)
		}
		op := func(int) error {
			got, err := users.Count(ctx, scanFilter)
			if err == nil && got != want {
				err = fmt.Errorf("count %d, want %d", got, want)
			}
			return err
		}
		base := func(int) error {
			if got := scanLoop(all); got != want {
				return fmt.Errorf("loop %d, want %d", got, want)
			}
			return nil
		}
		m, err := b.compare("P4-memory", b.clk.loop(op), b.clk.loop(base), false)
		b.add(row{id: "P4", backend: "memory",
			what:     "`Count` `" + scanFilter + "`",
			baseline: "Go loop over a `[]User`, `strings.ToLower` + `strings.Contains`",
			target:   target{value: 1.5}, clock: b.clk.name, m: m, err: err})
	}
	if b.want("P5") {
		if err := b.cacheRows(ctx, "memory", dir, users, s); err != nil {
			return err
		}
	}
	if b.want("P9") {
		op := getOp(ctx, users, s)
		m, err := b.compare("P9-memory", parallel(2, op), parallel(1, op), true)
		b.add(row{id: "P9", backend: "memory",
			what:     "`Users.Get` throughput, 2 goroutines",
			baseline: "1 goroutine",
			target:   target{atLeast: true, value: 1.8}, clock: "wall", m: m, err: err})
		// The same for the P1 baseline shows what the machine allows.
		m, err = b.compare("P9-map", parallel(2, mapGet), parallel(1, mapGet), true)
		b.add(row{id: "P9", backend: "memory",
			what:     "reference: Go map lookup + `User.Clone` throughput, 2 goroutines",
			baseline: "1 goroutine",
			target:   target{}, clock: "wall", m: m, err: err})
	}
	return nil
}

// firstUsers yields the first k users of all.
func firstUsers(all []directory.User, k int) func(func(directory.User) bool) {
	return func(yield func(directory.User) bool) {
		for _, u := range all[:k] {
			if !yield(u) {
				return
			}
		}
	}
}

// scanLoop is the hand-written equivalent of scanFilter over the users
// that are not deleted, which Count leaves out: a case-insensitive
// substring test of the family name and a numeric test of a claim.
func scanLoop(all []directory.User) int {
	n := 0
	for i := range all {
		u := &all[i]
		if u.Status == directory.StatusDeleted {
			continue
		}
		if !strings.Contains(strings.ToLower(u.Name.FamilyName), "son") {
			continue
		}
		if lv, ok := u.Claims["level"].(int); ok && lv > 3 {
			n++
		}
	}
	return n
}

// heapRow adds P8: the live heap a memory directory holds per user after
// an import of users it shares no memory with, after a full GC (one value
// per P7 round), against the compact JSON size of the same users. The JSON
// size is the same every round; the spread is the heap's.
func (b *bench) heapRow(all []directory.User, heap series) {
	total := 0
	for _, u := range all {
		total += jsonSize(u)
	}
	js := make(series, len(heap))
	for i := range js {
		js[i] = float64(total) / float64(len(all))
	}
	b.add(row{id: "P8", backend: "memory",
		what:     "live heap per user",
		baseline: "compact JSON per user",
		target:   target{value: 1.5}, clock: "heap", m: fromRuns(heap, js, "B/user")})
}

// writeHeapProfile writes a profile of the live heap to file.
func writeHeapProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	runtime.GC()
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// deepCopy returns a copy of u that shares no memory with it, strings
// included.
func deepCopy(u directory.User) directory.User {
	c := u.Clone()
	c.ID = strings.Clone(u.ID)
	c.UserName = strings.Clone(u.UserName)
	c.Name.GivenName = strings.Clone(u.Name.GivenName)
	c.Name.FamilyName = strings.Clone(u.Name.FamilyName)
	c.DisplayName = strings.Clone(u.DisplayName)
	for i := range c.Emails {
		c.Emails[i].Value = strings.Clone(u.Emails[i].Value)
		c.Emails[i].Type = strings.Clone(u.Emails[i].Type)
	}
	c.Claims = map[string]any{}
	for k, v := range u.Claims {
		if s, ok := v.(string); ok {
			v = strings.Clone(s)
		}
		c.Claims[strings.Clone(k)] = v
	}
	return c
}

// cacheRows measures P5: a list answered from the query cache against the
// same list computed, on a second directory over the same store with its
// cache on. The measured list is the scan filter sorted by an unindexed
// attribute (what a cache is for); the indexed P2 query is shown too,
// without a target. The second directory is not closed: that would close
// the store the caller still uses.
func (b *bench) cacheRows(ctx context.Context, backend string, uncached *directory.Directory, users *directory.Users, s sample) error {
	cd, err := b.directory(uncached.Backend(), 4096)
	if err != nil {
		return err
	}
	cached := cd.Users(tenant)
	opts := directory.ListOptions{Filter: scanFilter, Sort: "name.familyName", Limit: pageLimit}
	if _, err := cached.List(ctx, opts); err != nil {
		return err
	}
	m, err := b.compare("P5-scan-"+backend, b.clk.loop(listOp(ctx, cached, opts, pageLimit)), b.clk.loop(listOp(ctx, users, opts, pageLimit)), true)
	b.add(row{id: "P5", backend: backend,
		what:     "cached `List` (scan filter, sort `name.familyName`, limit 100)",
		baseline: "the same list uncached",
		target:   target{atLeast: true, value: 100, faster: true}, clock: b.clk.name, m: m, err: err})
	for _, f := range s.filters {
		if _, err := cached.List(ctx, directory.ListOptions{Filter: f}); err != nil {
			return err
		}
	}
	m, err = b.compare("P5-indexed-"+backend, b.clk.loop(findOp(ctx, cached, s)), b.clk.loop(findOp(ctx, users, s)), true)
	b.add(row{id: "P5", backend: backend,
		what:     "cached `List` `emails.value eq` (the P2 query)",
		baseline: "the same list uncached",
		target:   target{faster: true}, clock: b.clk.name, m: m, err: err})
	return nil
}
