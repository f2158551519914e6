package conformance

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// Sizes of the stale-read test.
const (
	cacheWriters   = 4
	cacheWrites    = 100 // per writer
	cachePoisoners = 3
	cacheCheckers  = 1
)

// cacheRead is one read the stale-read test makes through the cached
// directory and through the oracle: its result as comparable text.
type cacheRead struct {
	name string
	run  func(d *directory.Directory) (string, error)
}

// cacheReads are the reads of the stale-read test: lists and counts of
// every cached kind, with filters that the writes keep changing the
// answers of.
func cacheReads(e *env, groupID string) []cacheRead {
	users := func(opts directory.ListOptions) func(d *directory.Directory) (string, error) {
		return func(d *directory.Directory) (string, error) {
			page, err := d.Users(tenant).List(e.ctx, opts)
			if err != nil {
				return "", err
			}
			var b strings.Builder
			fmt.Fprintf(&b, "total=%v more=%v:", derefInt(page.Total), page.Next != "")
			for _, u := range page.Users {
				b.WriteString(" " + u.ID + "/" + strconv.FormatInt(u.Meta.Version, 10) + "/" + u.Title + "/" + string(u.Status))
				for _, g := range u.Groups {
					b.WriteString("/" + g.Value + "=" + g.Display)
				}
			}
			for _, r := range page.Roles {
				b.WriteString(" role:" + r.ID + "=" + r.Name)
			}
			return b.String(), nil
		}
	}
	count := func(filter string) func(d *directory.Directory) (string, error) {
		return func(d *directory.Directory) (string, error) {
			n, err := d.Users(tenant).Count(e.ctx, filter)
			return fmt.Sprint(n), err
		}
	}
	return []cacheRead{
		{"all", users(directory.ListOptions{Total: true, IncludeRoles: true})},
		{"title", users(directory.ListOptions{Filter: `title eq "b"`, Sort: "userName", Limit: 5, Total: true})},
		{"deleted", users(directory.ListOptions{Deleted: directory.OnlyDeleted, Sort: "-meta.lastModified"})},
		{"group", users(directory.ListOptions{Filter: `groups.value eq "` + groupID + `"`, Limit: 1000})},
		{"count", count("")},
		{"countTitle", count(`title eq "a"`)},
		{"roles", func(d *directory.Directory) (string, error) {
			page, err := d.Roles(tenant).List(e.ctx, directory.ListOptions{Sort: "name", Total: true})
			if err != nil {
				return "", err
			}
			var b strings.Builder
			b.WriteString(strconv.Itoa(derefInt(page.Total)))
			for _, r := range page.Items {
				b.WriteString(" " + r.ID + "=" + r.Name)
			}
			return b.String(), nil
		}},
		{"members", func(d *directory.Directory) (string, error) {
			page, err := d.Groups(tenant).Members(e.ctx, groupID, directory.ListOptions{Total: true})
			if err != nil {
				return "", err
			}
			var b strings.Builder
			b.WriteString(strconv.Itoa(derefInt(page.Total)))
			for _, m := range page.Items {
				b.WriteString(" " + m.UserID)
			}
			return b.String(), nil
		}},
		{"audit", func(d *directory.Directory) (string, error) {
			page, err := d.Audit(tenant).List(e.ctx, directory.ListOptions{Filter: `action eq "users.update"`, Total: true, Limit: 1})
			if err != nil {
				return "", err
			}
			return fmt.Sprint(derefInt(page.Total)), nil
		}},
	}
}

func derefInt(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}

// testCacheConsistency runs CheckCache on a fresh backend.
func testCacheConsistency(t *testing.T, s *suite) {
	CheckCache(t, s.newBackend(t), s.seed)
}

// CheckCache is the randomized stale-read test of the query cache (DESIGN
// §5) over the fresh backend b: writers change users, roles and
// memberships from several goroutines while poisoners read through the
// cache at random moments (filling it with results computed while writes
// were in flight), and checkers, in windows where no write is in flight,
// make every read through the cache twice (a miss or a hit, then certainly
// a hit) and through an uncached directory over the same backend (the
// oracle). Every
// write that finished before a checker's window must show in both: any
// difference is a stale result, and fails the test. seed drives the
// writers' and readers' choices.
//
// The directory's own tests run it over a backend that slows every call
// down, which widens the windows an ordering bug (a generation bumped
// before the commit, or read after the query) needs.
func CheckCache(t *testing.T, b backend.Backend, seed uint64) {
	clk := &clock{now: baseTime, step: time.Microsecond + time.Nanosecond}
	d, err := directory.New(b, directory.WithClock(clk.Now), directory.WithCache(4096, 0))
	require.NoError(t, err)
	e := &env{t: t, ctx: t.Context(), b: b, dir: d, clock: clk, users: d.Users(tenant)}
	oracle, err := directory.New(b, directory.WithCache(0, 0), directory.WithClock(clk.Now))
	require.NoError(t, err)
	e.role(directory.Role{ID: "auditor", Name: "auditor"})
	g := e.group(directory.Group{DisplayName: "Cached"})
	reads := cacheReads(e, g.ID)

	// gate: writers hold it shared during a write, checkers exclusively.
	var gate sync.RWMutex
	var done atomic.Bool
	progress, finished := make(chan struct{}, 1), make(chan struct{})
	var checked, stale, writes atomic.Int64
	var wg sync.WaitGroup
	var userMu sync.Mutex
	var userIDs []string
	pick := func(rng *rand.Rand) string {
		userMu.Lock()
		defer userMu.Unlock()
		if len(userIDs) == 0 {
			return ""
		}
		return userIDs[rng.IntN(len(userIDs))]
	}

	var writers sync.WaitGroup
	for w := range cacheWriters {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for i := range cacheWrites {
				gate.RLock()
				err := cacheWrite(e, rng, g.ID, w, i, pick, func(id string) {
					userMu.Lock()
					userIDs = append(userIDs, id)
					userMu.Unlock()
				})
				gate.RUnlock()
				if !assert.NoErrorf(t, err, "write %d of writer %d", i, w) {
					return
				}
				writes.Add(1)
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		}()
	}
	for p := range cachePoisoners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(100+p)))
			for !done.Load() {
				r := reads[rng.IntN(len(reads))]
				if _, err := r.run(e.dir); !assert.NoError(t, err, r.name) {
					return
				}
			}
		}()
	}
	for range cacheCheckers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var seen int64
			for {
				// Let the writers make progress between windows.
				select {
				case <-finished:
					return
				case <-progress:
				}
				if writes.Load() < seen+3*cacheWriters {
					continue
				}
				gate.Lock()
				seen = writes.Load()
				for _, r := range reads {
					first, err1 := r.run(e.dir)
					second, err2 := r.run(e.dir)
					want, err3 := r.run(oracle)
					if !assert.NoError(t, err1) || !assert.NoError(t, err2) || !assert.NoError(t, err3) {
						gate.Unlock()
						return
					}
					checked.Add(2)
					if first != want || second != want {
						stale.Add(1)
						assert.Equal(t, want, first, "%s: cached read (first) differs from the uncached oracle", r.name)
						assert.Equal(t, want, second, "%s: cached read (second) differs from the uncached oracle", r.name)
					}
				}
				gate.Unlock()
			}
		}()
	}
	writers.Wait()
	done.Store(true)
	close(finished)
	wg.Wait()
	// After the last write, every read agrees with the oracle.
	for _, r := range reads {
		got, err := r.run(e.dir)
		require.NoError(t, err)
		want, err := r.run(oracle)
		require.NoError(t, err)
		checked.Add(1)
		assert.Equalf(t, want, got, "%s after the writes", r.name)
	}
	assert.Zero(t, stale.Load(), "stale results")
	t.Logf("cache: %d writes, %d cached reads compared with the uncached oracle, %d stale", writes.Load(), checked.Load(), stale.Load())
}

// cacheWrite makes one random write of writer w.
func cacheWrite(e *env, rng *rand.Rand, groupID string, w, i int, pick func(*rand.Rand) string, created func(string)) error {
	users, groups, roles := e.dir.Users(tenant), e.dir.Groups(tenant), e.dir.Roles(tenant)
	titles := []string{"a", "b", "c"}
	id := pick(rng)
	op := rng.IntN(10)
	if id == "" {
		op = 0
	}
	switch op {
	case 0, 1:
		u, err := users.Create(e.ctx, directory.User{UserName: fmt.Sprintf("w%d-%d", w, i), Title: titles[rng.IntN(3)]})
		if err == nil {
			created(u.ID)
		}
		return err
	case 2, 3:
		_, err := users.Update(e.ctx, id, func(u *directory.User) error { u.Title = titles[rng.IntN(3)]; return nil })
		if isTransition(err) {
			return nil
		}
		return err
	case 4:
		err := users.Delete(e.ctx, id)
		if isTransition(err) {
			// Already deleted: restore it, unless another writer got
			// there first, which is just as good a write.
			_, err = users.Restore(e.ctx, id)
			if isTransition(err) {
				return nil
			}
		}
		return err
	case 5:
		_, err := groups.AddMembers(e.ctx, groupID, id)
		return err
	case 6:
		_, err := groups.RemoveMembers(e.ctx, groupID, id)
		return err
	case 7:
		_, err := users.Patch(e.ctx, id, []directory.PatchOp{{Op: "replace", Path: "title", Value: titles[rng.IntN(3)]}})
		if isTransition(err) {
			return nil
		}
		return err
	case 8:
		_, err := roles.Create(e.ctx, directory.Role{Name: fmt.Sprintf("role w%d-%d", w, i)})
		return err
	default:
		_, err := roles.Update(e.ctx, "auditor", func(r *directory.Role) error { r.Name = fmt.Sprintf("auditor %d-%d", w, i); return nil })
		return err
	}
}

func isTransition(err error) bool { return errors.Is(err, directory.ErrInvalidTransition) }
