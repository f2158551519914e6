package conformance

import (
	"context"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// DefaultSeed seeds every random choice the suite makes (fixture values,
// interleavings of concurrent writers' inputs). Set the environment
// variable USERDIR_CONFORMANCE_SEED to another unsigned integer to explore
// other inputs; Run logs the seed it used, so a failure can be replayed.
const DefaultSeed uint64 = 20261125

// SeedEnv is the environment variable that overrides DefaultSeed.
const SeedEnv = "USERDIR_CONFORMANCE_SEED"

// Run runs the whole backend contract against the backends newBackend
// makes. Every subtest that writes calls newBackend with its own *testing.T
// to get a fresh, empty backend, and drives it only through
// directory.New and the directory's public API (but for the Batch group,
// which drives a backend.Batcher directly), so passing Run proves that
// the backend plus the directory behaves like every other backend.
//
// newBackend must return a backend no other test uses and register its own
// cleanup (t.Cleanup) to release it; it should call t.Fatal when the
// backend cannot be made. Run never closes the backend itself.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	s := &suite{newBackend: newBackend, seed: seedFromEnv(t)}
	t.Logf("conformance: seed %d (set %s to replay another)", s.seed, SeedEnv)
	groups := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		{"CRUD", testCRUD},
		{"Versions", testVersions},
		{"Uniqueness", testUniqueness},
		{"RacingCreates", testRacingCreates},
		{"LostUpdates", testLostUpdates},
		{"TenantIsolation", testTenantIsolation},
		{"Query", testQuery},
		{"Sort", testSort},
		{"Paging", testPaging},
		{"Count", testCount},
		{"Projection", testProjection},
		{"Patch", testPatch},
		{"Import", testImport},
		{"Batch", testBatch},
		{"Prepare", testPrepare},
		{"BadInputChangesNothing", testBadInput},
		{"Explain", testExplain},
		{"Roles", testRoles},
		{"Groups", testGroups},
		{"Invitations", testInvitations},
		{"Credentials", testCredentials},
		{"Audit", testAudit},
		{"CurrentUser", testCurrentUser},
		{"Anonymize", testAnonymize},
		{"CacheConsistency", testCacheConsistency},
		{"SeedAPIs", testSeedAPIs},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, s) })
	}
}

func seedFromEnv(t *testing.T) uint64 {
	v := os.Getenv(SeedEnv)
	if v == "" {
		return DefaultSeed
	}
	n, err := strconv.ParseUint(v, 10, 64)
	require.NoErrorf(t, err, "%s=%q is not an unsigned integer", SeedEnv, v)
	return n
}

// suite is what every group shares: the factory and the seed.
type suite struct {
	newBackend func(t *testing.T) backend.Backend
	seed       uint64
}

// tenant is the tenant most subtests work in.
const tenant = "acme"

// baseTime is the clock's start: it has nanoseconds, so that a backend that
// drops precision anywhere fails.
var baseTime = time.Date(2024, time.March, 5, 6, 7, 8, 123456789, time.UTC)

// env is one subtest's fresh backend, with a directory over it whose clock
// the test controls.
type env struct {
	t     *testing.T
	ctx   context.Context
	b     backend.Backend
	dir   *directory.Directory
	clock *clock
	users *directory.Users // tenant acme
}

// newEnv makes a fresh backend and a directory over it. The directory's
// clock starts at baseTime and advances by a microsecond and a nanosecond
// on every reading.
func (s *suite) newEnv(t *testing.T, opts ...directory.Option) *env {
	t.Helper()
	b := s.newBackend(t)
	require.NotNil(t, b, "the backend factory returned nil")
	clk := &clock{now: baseTime, step: time.Microsecond + time.Nanosecond}
	all := append([]directory.Option{directory.WithClock(clk.Now)}, opts...)
	d, err := directory.New(b, all...)
	require.NoError(t, err, "directory.New over a fresh backend")
	// A user's roles must exist: make the ones the fixtures name.
	for _, id := range fixtureRoles {
		_, err := d.Roles(tenant).Create(t.Context(), directory.Role{ID: id, Name: id})
		require.NoErrorf(t, err, "create role %s", id)
	}
	return &env{t: t, ctx: t.Context(), b: b, dir: d, clock: clk, users: d.Users(tenant)}
}

// clock is a controllable time source, safe for concurrent use.
type clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// Now returns the current time and advances the clock by its step.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Set makes the next reading t.
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// create stores u in h's tenant and fails the test on error.
func (e *env) create(h *directory.Users, u directory.User) directory.User {
	e.t.Helper()
	got, err := h.Create(e.ctx, u)
	require.NoErrorf(e.t, err, "create %q", u.UserName)
	return got
}

// get reads a user and fails the test on error.
func (e *env) get(h *directory.Users, id string) directory.User {
	e.t.Helper()
	got, err := h.Get(e.ctx, id)
	require.NoErrorf(e.t, err, "get %s", id)
	return got
}

// maxPages bounds every page walk, so a backend whose cursors loop fails
// instead of hanging.
const maxPages = 10000

// listAll walks opts forwards with Next and returns every user of every
// page, failing the test on error.
func listAll(t *testing.T, ctx context.Context, h *directory.Users, opts directory.ListOptions) []directory.User {
	t.Helper()
	var out []directory.User
	opts.Cursor = ""
	for range maxPages {
		page, err := h.List(ctx, opts)
		require.NoErrorf(t, err, "list %+v", opts)
		out = append(out, page.Users...)
		if page.Next == "" {
			return out
		}
		opts.Cursor = page.Next
	}
	require.FailNow(t, "list never ended", "more than %d pages for %+v", maxPages, opts)
	return nil
}

// ids returns the ids of users, in order.
func ids(users []directory.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// state is everything a tenant holds, as the directory reports it: every
// user, deleted or not, read back with Get, by id.
type state map[string]directory.User

// snapshot reads the tenant's whole state, for comparing before and after
// a write that must change nothing.
func (e *env) snapshot(h *directory.Users) state {
	e.t.Helper()
	listed := listAll(e.t, e.ctx, h, directory.ListOptions{Limit: directory.MaxLimit, Deleted: directory.IncludeDeleted})
	st := make(state, len(listed))
	for _, u := range listed {
		require.NotContainsf(e.t, st, u.ID, "user %s listed twice", u.ID)
		got := e.get(h, u.ID)
		require.Equalf(e.t, u, got, "List and Get disagree on user %s", u.ID)
		st[u.ID] = got
	}
	return st
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// fixtureRoles are the roles of tenant acme that fixtures and tests name.
var fixtureRoles = []string{"admin", "auditor"}
