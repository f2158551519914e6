package directory

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// TestPlanCacheReuse checks that a request given as text is kept in the
// plan cache from the second time it is prepared and then taken from it,
// and that the requests that differ in any part, the deleted-users mode
// included, get plans of their own, each bound to its mandatory condition.
func TestPlanCacheReuse(t *testing.T) {
	d, err := New(memory.New(), WithCache(0, 0))
	require.NoError(t, err)
	users := d.Users("acme")
	const filter = `emails.value eq "a@x.io"`
	tests := []struct {
		name  string
		opts  ListOptions
		canon string // the canonical filter of the plan
	}{
		{"exclude", ListOptions{Filter: filter}, `emails.value eq "a@x.io" and status ne "deleted"`},
		{"include", ListOptions{Filter: filter, Deleted: IncludeDeleted}, `emails.value eq "a@x.io"`},
		{"only", ListOptions{Filter: filter, Deleted: OnlyDeleted}, `emails.value eq "a@x.io" and status eq "deleted"`},
		{"no filter", ListOptions{}, `status ne "deleted"`},
		{"sorted", ListOptions{Filter: filter, Sort: "userName"}, `emails.value eq "a@x.io" and status ne "deleted"`},
		{"projected", ListOptions{Filter: filter, Attributes: "userName"}, `emails.value eq "a@x.io" and status ne "deleted"`},
	}
	seen := map[*prepared]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, err := users.prepare(tt.opts)
			require.NoError(t, err)
			p, err := users.prepare(tt.opts)
			require.NoError(t, err)
			assert.NotSame(t, first, p, "the first plan is not kept")
			again, err := users.prepare(tt.opts)
			require.NoError(t, err)
			assert.Same(t, p, again, "the third request is a plan cache hit")
			assert.Equal(t, tt.canon, query.Canonical(p.filter))
			// The condition bound once in New makes the same tree as
			// binding the request and its condition together.
			var whole query.Expr
			if tt.opts.Filter != "" {
				e, err := query.Parse(tt.opts.Filter)
				require.NoError(t, err)
				whole = e
			}
			whole, err = query.Bind(allOf(whole, d.deleted[tt.opts.Deleted].expr), userSchema)
			require.NoError(t, err)
			assert.Equal(t, whole, p.filter)
			assert.NotContains(t, seen, p, "a plan of its own")
			seen[p] = tt.name
		})
	}
	assert.Equal(t, len(tests), d.cache.plans.len())

	// A request given as an expression (Where) is prepared each time, its
	// condition joined the same way.
	where := &query.And{Left: eq("emails.value", "a@x.io"), Right: ne("userName", "b")}
	for _, mode := range []DeletedMode{ExcludeDeleted, IncludeDeleted, OnlyDeleted} {
		p, err := users.prepare(ListOptions{Where: where, Deleted: mode})
		require.NoError(t, err)
		want, err := query.Bind(allOf(where, d.deleted[mode].expr), userSchema)
		require.NoError(t, err)
		assert.Equal(t, want, p.filter, "mode %d", mode)
	}
	assert.Equal(t, len(tests), d.cache.plans.len(), "a Where request is not cached")
}

// TestDeletedConditions checks that the conditions made once in New are
// those of each mode, and that an unknown mode is refused.
func TestDeletedConditions(t *testing.T) {
	d, err := New(memory.New())
	require.NoError(t, err)
	tests := []struct {
		mode  DeletedMode
		canon string // "": refused
	}{
		{ExcludeDeleted, `status ne "deleted"`},
		{IncludeDeleted, ``},
		{OnlyDeleted, `status eq "deleted"`},
		{-1, ""},
		{OnlyDeleted + 1, ""},
	}
	for _, tt := range tests {
		_, err := d.Users("acme").prepare(ListOptions{Deleted: tt.mode})
		if tt.mode < 0 || tt.mode > OnlyDeleted {
			var fe *FieldError
			require.ErrorAs(t, err, &fe, "mode %d", tt.mode)
			assert.Equal(t, "deleted", fe.Field)
			continue
		}
		require.NoError(t, err)
		c := d.deleted[tt.mode]
		assert.Equal(t, tt.canon, c.canon, "mode %d", tt.mode)
		assert.Equal(t, query.Canonical(c.expr), c.canon, "mode %d", tt.mode)
		bound, err := query.Bind(c.expr, userSchema)
		require.NoError(t, err)
		assert.Equal(t, bound, c.bound, "mode %d: bound once, in New", tt.mode)
	}
}

// TestPlanCacheTenants checks that the tenants share the plan of a
// request, that its cursor fingerprint is still each tenant's own, and that
// Anonymize drops every plan, since their filter texts may hold personal
// data and none belongs to one tenant.
func TestPlanCacheTenants(t *testing.T) {
	ctx := t.Context()
	d, err := New(memory.New())
	require.NoError(t, err)
	u, err := d.Users("acme").Create(ctx, User{UserName: "zq-secret"})
	require.NoError(t, err)
	tenants := []string{"acme", "other"}
	for _, tenant := range tenants {
		for _, f := range []string{"", `userName eq "zq-secret"`} {
			_, err := d.Users(tenant).List(ctx, ListOptions{Filter: f})
			require.NoError(t, err)
		}
		_, err = d.Roles(tenant).List(ctx, ListOptions{})
		require.NoError(t, err)
	}
	assert.Equal(t, 3, d.cache.plans.len(), "one plan per request, whatever the tenant")

	opts := ListOptions{Filter: `userName eq "zq-secret"`}
	p, err := d.Users("acme").prepare(opts)
	require.NoError(t, err)
	q, err := d.Users("other").prepare(opts)
	require.NoError(t, err)
	require.Same(t, p, q)
	// Alternating tenants, so that the fingerprint kept for the last
	// tenant is checked against the other's.
	for range 2 {
		for _, tenant := range tenants {
			assert.Equal(t, fingerprint(tenant, usersKindName, p.canonical()), p.fingerprint(tenant), tenant)
		}
	}
	assert.NotEqual(t, p.fingerprint("acme"), p.fingerprint("other"))

	// A request prepared once before Anonymize is forgotten: preparing it
	// once after does not keep it.
	once := ListOptions{Filter: `emails.value eq "zq-secret@x.io"`}
	_, err = d.Users("other").prepare(once)
	require.NoError(t, err)
	_, err = d.Users("acme").Anonymize(ctx, u.ID)
	require.NoError(t, err)
	assert.Zero(t, d.cache.plans.len())
	_, err = d.Users("other").prepare(once)
	require.NoError(t, err)
	assert.Zero(t, d.cache.plans.len(), "not kept: Anonymize forgot it")
}

// TestPreparedQuery checks that the backend query a cached plan keeps,
// prepared once by the backend, answers the list as the data changes, and
// in each tenant with that tenant's data.
func TestPreparedQuery(t *testing.T) {
	ctx := t.Context()
	d, err := New(memory.New(), WithCache(0, 0))
	require.NoError(t, err)
	opts := ListOptions{Filter: `emails.value eq "hot@x.io"`}
	p := keptPlan(t, d.Users("acme"), opts)
	require.NotNil(t, p.query.Prepared, "the memory backend prepares the query")
	ids := map[string]string{}
	steps := []struct {
		name   string
		change func(t *testing.T)
		want   map[string]string // tenant: the user listed, by name ("" for none)
	}{
		{"none", func(*testing.T) {}, map[string]string{"acme": "", "other": ""}},
		{"created", func(t *testing.T) {
			u, err := d.Users("acme").Create(ctx, User{UserName: "ann", Emails: []Email{{Value: "hot@x.io"}}})
			require.NoError(t, err)
			ids["ann"] = u.ID
		}, map[string]string{"acme": "ann", "other": ""}},
		{"another tenant", func(t *testing.T) {
			u, err := d.Users("other").Create(ctx, User{UserName: "bob", Emails: []Email{{Value: "HOT@x.io"}}})
			require.NoError(t, err)
			ids["bob"] = u.ID
		}, map[string]string{"acme": "ann", "other": "bob"}},
		{"moved", func(t *testing.T) {
			_, err := d.Users("acme").Update(ctx, ids["ann"], func(u *User) error {
				u.Emails = []Email{{Value: "cold@x.io"}}
				return nil
			})
			require.NoError(t, err)
			u, err := d.Users("acme").Create(ctx, User{UserName: "cid", Emails: []Email{{Value: "hot@x.io"}}})
			require.NoError(t, err)
			ids["cid"] = u.ID
		}, map[string]string{"acme": "cid", "other": "bob"}},
		{"deleted", func(t *testing.T) {
			require.NoError(t, d.Users("other").Delete(ctx, ids["bob"]))
		}, map[string]string{"acme": "cid", "other": ""}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.change(t)
			for tenant, name := range step.want {
				page, err := d.Users(tenant).List(ctx, opts)
				require.NoError(t, err)
				if name == "" {
					assert.Empty(t, page.Users, tenant)
					continue
				}
				require.Len(t, page.Users, 1, tenant)
				assert.Equal(t, ids[name], page.Users[0].ID, tenant)
			}
			again, err := d.Users("acme").prepare(opts)
			require.NoError(t, err)
			assert.Same(t, p, again, "the plan, and its prepared query, are reused")
		})
	}
}

// keptPlan prepares opts until the plan cache keeps its plan, and returns
// the plan kept.
func keptPlan(t *testing.T, users *Users, opts ListOptions) *prepared {
	t.Helper()
	for range 2 {
		_, err := users.prepare(opts)
		require.NoError(t, err)
	}
	p, err := users.prepare(opts)
	require.NoError(t, err)
	return p
}

// TestPlanCacheAdmission checks that requests prepared once, as lookups by
// arbitrary values are, are not kept, so that they do not push the plans
// of requests that come back out of the plan cache.
func TestPlanCacheAdmission(t *testing.T) {
	d, err := New(memory.New(), WithCache(0, 0))
	require.NoError(t, err)
	users := d.Users("acme")
	hot := ListOptions{Filter: `userName eq "hot"`}
	p := keptPlan(t, users, hot)
	for i := range 3 * planCacheSize {
		_, err := users.prepare(ListOptions{Filter: fmt.Sprintf(`emails.value eq "u%d@x.io"`, i)})
		require.NoError(t, err)
	}
	assert.Equal(t, 1, d.cache.plans.len(), "no lookup is kept")
	again, err := users.prepare(hot)
	require.NoError(t, err)
	assert.Same(t, p, again, "the plan that came back is still kept")

	// Requests that come back are kept even when there are nearly as many
	// as the cache holds. Those that share their bucket of remembered
	// requests with planWays others are not; with the hash seeded anew for
	// each directory, about 2% of them, and more than 10% with a
	// probability below one in a billion.
	d.ClearCache()
	const n = planCacheSize - 24
	for range 3 {
		for i := range n {
			_, err := users.prepare(ListOptions{Filter: fmt.Sprintf(`emails.value eq "v%d@x.io"`, i)})
			require.NoError(t, err)
		}
	}
	t.Logf("kept %d of %d", d.cache.plans.len(), n)
	assert.GreaterOrEqual(t, d.cache.plans.len(), n*9/10)
}

// plainBackend hides the optional interfaces of the backend it wraps
// (Preparer, Visitor), as a third party's adapter may not have them.
type plainBackend struct{ backend.Backend }

// TestPagerReuse checks that lists sharing pagers, one after another and
// at once, each get their own records, and that a free pager keeps none,
// whether the backend runs queries through Visit or through Query.
func TestPagerReuse(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    backend.Backend
	}{
		{"visitor", memory.New()},
		{"sequence", plainBackend{memory.New()}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(tt.b, WithCache(0, 0))
			require.NoError(t, err)
			testPagerReuse(t, d)
		})
	}
}

func testPagerReuse(t *testing.T, d *Directory) {
	ctx := t.Context()
	const n = 8
	ids := make([]string, n)
	for i := range n {
		u, err := d.Users("acme").Create(ctx, User{UserName: fmt.Sprintf("u%d", i), Emails: []Email{{Value: fmt.Sprintf("u%d@x.io", i)}}})
		require.NoError(t, err)
		ids[i] = u.ID
	}
	byEmail := func(i int) ListOptions { return ListOptions{Filter: fmt.Sprintf(`emails.value eq "u%d@x.io"`, i)} }
	tests := []struct {
		name   string
		tenant string
		opts   ListOptions
		want   []string
	}{
		{"one", "acme", byEmail(3), ids[3:4]},
		{"none in another tenant", "other", byEmail(3), nil},
		{"none", "acme", ListOptions{Filter: `userName eq "nobody"`}, nil},
		{"a page", "acme", ListOptions{Limit: 3}, ids[:3]},
		{"an offset page", "acme", ListOptions{StartIndex: 7, Limit: 3}, ids[6:]},
		{"one again", "acme", byEmail(5), ids[5:6]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := d.Users(tt.tenant).List(ctx, tt.opts)
			require.NoError(t, err)
			got := make([]string, len(page.Users))
			for i, u := range page.Users {
				got[i] = u.ID
			}
			assert.Equal(t, len(tt.want), len(got))
			if len(tt.want) > 0 {
				assert.Equal(t, tt.want, got)
			}
		})
	}

	t.Run("at once", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 50 {
					page, err := d.Users("acme").List(ctx, byEmail(i))
					if err != nil || len(page.Users) != 1 || page.Users[0].ID != ids[i] {
						t.Errorf("user %d: %v, %d users", i, err, len(page.Users))
						return
					}
				}
			}()
		}
		wg.Wait()
	})

	t.Run("a free pager holds nothing", func(t *testing.T) {
		p, err := d.Users("acme").prepare(byEmail(1))
		require.NoError(t, err)
		g := d.pager(p)
		require.NoError(t, g.scan(ctx, "acme", nil, false))
		require.Len(t, g.recs, 1)
		g.reset()
		assert.NotNil(t, g.takeFn, "the method values are kept")
		assert.NotNil(t, g.yieldFn, "the method values are kept")
		g.takeFn, g.yieldFn = nil, nil
		assert.Zero(t, *g)
	})
}
