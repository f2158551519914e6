package main

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/userdir/userdir/directory"
)

// pageLimit is the page size of the paging rows.
const pageLimit = 100

// maxDepth is how many pages the deep page of P3 skips: it is page 1,000.
const maxDepth = 999

// scanFilter is the unindexed filter of P4 and P5.
const scanFilter = `name.familyName co "son" and claims.level gt 3`

// sampleSize is how many distinct records the point reads cycle through.
// It is the number of plans a directory keeps, so the lists of P2 and P10
// reuse their plans.
const sampleSize = 1024

// spreadSize is how many distinct records the reference row of P2 cycles
// through: far more than the plans a directory keeps, so that every list
// prepares its filter anew, as a service looking up arbitrary addresses
// does.
const spreadSize = 65536

// sample is a random choice of users of a dataset, for point reads.
type sample struct {
	ids     []string
	filters []string // `emails.value eq "<primary email>"`, one per id
}

// pick chooses sampleSize users among the first n of ds, the same for
// the same stream (streams have the top bit set, unlike the users' own).
func (ds dataset) pick(n int, stream uint64) sample {
	r := rand.New(rand.NewPCG(ds.seed, stream|1<<63))
	var s sample
	for range sampleSize {
		s.add(ds.user(r.IntN(n)))
	}
	return s
}

// spread chooses min(k, n) distinct users among the first n of ds: every
// step-th user (modulo n) from a random start, step prime to n.
func (ds dataset) spread(n, k int, stream uint64) sample {
	r := rand.New(rand.NewPCG(ds.seed, stream|1<<63))
	step := 1_000_003
	for gcd(step, n) != 1 {
		step++
	}
	var s sample
	for i, j := 0, r.IntN(n); i < min(k, n); i, j = i+1, (j+step)%n {
		s.add(ds.user(j))
	}
	return s
}

// gcd returns the greatest common divisor of a and b.
func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// add adds u to the sample.
func (s *sample) add(u directory.User) {
	s.ids = append(s.ids, u.ID)
	s.filters = append(s.filters, `emails.value eq `+strconv.Quote(u.Emails[0].Value))
}

// getOp reads users by id through the directory.
func getOp(ctx context.Context, users *directory.Users, s sample) func(int) error {
	return func(i int) error {
		id := s.ids[i%len(s.ids)]
		u, err := users.Get(ctx, id)
		if err != nil {
			return err
		}
		if u.ID != id {
			return fmt.Errorf("get %s: got %s", id, u.ID)
		}
		return nil
	}
}

// findOp lists the user with a primary email through the emails index.
func findOp(ctx context.Context, users *directory.Users, s sample) func(int) error {
	return func(i int) error {
		j := i % len(s.ids)
		page, err := users.List(ctx, directory.ListOptions{Filter: s.filters[j]})
		if err != nil {
			return err
		}
		if len(page.Users) != 1 || page.Users[0].ID != s.ids[j] {
			return fmt.Errorf("%s: got %d users", s.filters[j], len(page.Users))
		}
		return nil
	}
}

// listOp lists one page and checks its size.
func listOp(ctx context.Context, users *directory.Users, opts directory.ListOptions, want int) func(int) error {
	return func(int) error {
		page, err := users.List(ctx, opts)
		if err != nil {
			return err
		}
		if len(page.Users) != want {
			return fmt.Errorf("list %+v: got %d users, want %d", opts, len(page.Users), want)
		}
		return nil
	}
}

// parallel makes a timer that runs n operations on g goroutines, each
// taking every g-th operation, and times them on the wall clock from the
// first start to the last finish: a throughput.
func parallel(g int, op func(i int) error) timer {
	next := 0
	return func(n int) (time.Duration, error) {
		per := (n + g - 1) / g
		errs := make([]error, g)
		var wg sync.WaitGroup
		start := time.Now()
		for w := range g {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range per {
					if err := op(next + j*g + w); err != nil {
						errs[w] = err
						return
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		next += per * g
		// Scale to n operations, when n was rounded up to a multiple of g.
		return el * time.Duration(n) / time.Duration(per*g), errors.Join(errs...)
	}
}

// importAll imports users lo to hi-1 of ds with workers concurrent Import
// calls over contiguous shards, and fails on the first failed item.
func importAll(ctx context.Context, users *directory.Users, seq func(lo, hi int) iter.Seq[directory.User], lo, hi, workers int) error {
	workers = max(1, min(workers, hi-lo))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		a, z := lo+(hi-lo)*w/workers, lo+(hi-lo)*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = importChecked(ctx, users, seq(a, z))
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// importChecked imports a sequence and fails when any item failed.
func importChecked(ctx context.Context, users *directory.Users, seq iter.Seq[directory.User]) error {
	rep, err := users.Import(ctx, seq)
	if err != nil {
		return err
	}
	if rep.Failed > 0 {
		for _, r := range rep.Results {
			if r.Err != nil {
				return fmt.Errorf("import: %d of %d failed; item %d: %w", rep.Failed, rep.Failed+rep.Created, r.Index, r.Err)
			}
		}
	}
	return nil
}

// deepCursor returns the cursor of the page after depth pages of limit
// users in the default order. A cursor names a position, not a page size,
// so it walks there in pages of the largest size: a tenth of the queries,
// which matters where every list scans the collection (FerretDB).
func deepCursor(ctx context.Context, users *directory.Users, depth int) (string, error) {
	cursor := ""
	for left := depth * pageLimit; left > 0; {
		n := min(left, directory.MaxLimit)
		page, err := users.List(ctx, directory.ListOptions{Limit: n, Cursor: cursor})
		if err != nil {
			return "", err
		}
		if page.Next == "" {
			return "", fmt.Errorf("the list ended %d users short of page %d", left-len(page.Users), depth+1)
		}
		cursor, left = page.Next, left-n
	}
	return cursor, nil
}

// depth is how many pages the deep page of P3 skips for n users: page
// 1,000 when there are that many full pages, else the last full page.
func depth(n int) int {
	return max(1, min(maxDepth, n/pageLimit-1))
}

// queryRows measures the rows every backend has: P2 (an indexed list
// against Get), P3 (deep pages against the first, by cursor and by
// offset) and P10 (the P2 query at N users against N/10), on directories
// with the cache off. small is the directory of N/10 users.
func (b *bench) queryRows(ctx context.Context, backend string, users, small *directory.Users) error {
	n := b.cfg.users
	s := b.ds.pick(n, 1)
	// A server's time is part of the cost, and only the wall clock sees it.
	c := b.clk
	if backend == "mongo" {
		c = wallClock()
	}
	loop := c.loop
	if b.want("P2") {
		m, err := b.compare("P2-"+backend, loop(findOp(ctx, users, s)), loop(getOp(ctx, users, s)), false)
		b.add(row{id: "P2", backend: backend,
			what:     fmt.Sprintf("`List` `emails.value eq` (1 match), %s addresses in turn: plans kept", group(sampleSize)),
			baseline: "`Users.Get` by id, the same users",
			target:   target{value: 2}, clock: c.name, m: m, err: err})
		w := b.ds.spread(n, spreadSize, 3)
		m, err = b.compare("P2-spread-"+backend, loop(findOp(ctx, users, w)), loop(getOp(ctx, users, w)), false)
		b.add(row{id: "P2", backend: backend,
			what:     fmt.Sprintf("reference: the same, %s addresses in turn: each list prepares its filter", group(int64(len(w.ids)))),
			baseline: "`Users.Get` by id, the same users",
			target:   target{}, clock: c.name, m: m, err: err})
	}
	if b.want("P3") {
		d := depth(n)
		b.log.Printf("P3 %s: walking %d pages", backend, d)
		cursor, err := deepCursor(ctx, users, d)
		if err != nil {
			return fmt.Errorf("P3: %w", err)
		}
		first := directory.ListOptions{Limit: pageLimit}
		deep := directory.ListOptions{Limit: pageLimit, Cursor: cursor}
		m, err := b.compare("P3-keyset-"+backend, loop(listOp(ctx, users, deep, pageLimit)), loop(listOp(ctx, users, first, pageLimit)), false)
		b.add(row{id: "P3", backend: backend,
			what:     fmt.Sprintf("keyset page %s (limit %d)", group(int64(d+1)), pageLimit),
			baseline: "first page",
			target:   target{value: 1.3}, clock: c.name, m: m, err: err})
		off := directory.ListOptions{Limit: pageLimit, StartIndex: d*pageLimit + 1}
		first.StartIndex = 1
		m, err = b.compare("P3-offset-"+backend, loop(listOp(ctx, users, off, pageLimit)), loop(listOp(ctx, users, first, pageLimit)), false)
		b.add(row{id: "P3", backend: backend,
			what:     fmt.Sprintf("offset page %s (`startIndex` %s)", group(int64(d+1)), group(int64(d*pageLimit+1))),
			baseline: "first page (`startIndex` 1)",
			target:   target{}, clock: c.name, m: m, err: err})
	}
	if b.want("P10") && small != nil {
		t := b.ds.pick(n/10, 2)
		m, err := b.compare("P10-"+backend, loop(findOp(ctx, users, s)), loop(findOp(ctx, small, t)), false)
		b.add(row{id: "P10", backend: backend,
			what:     fmt.Sprintf("P2 query at %s users", group(int64(n))),
			baseline: fmt.Sprintf("at %s users", group(int64(n/10))),
			target:   target{value: 1.3}, clock: c.name, m: m, err: err})
	}
	return nil
}
