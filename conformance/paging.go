package conformance

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// walkForward lists opts page by page with Next and returns the pages.
func walkForward(t *testing.T, e *env, opts directory.ListOptions) []directory.Page {
	t.Helper()
	var pages []directory.Page
	opts.Cursor = ""
	for range maxPages {
		p, err := e.users.List(e.ctx, opts)
		require.NoError(t, err)
		pages = append(pages, p)
		if p.Next == "" {
			return pages
		}
		opts.Cursor = p.Next
	}
	require.FailNow(t, "the walk never ended")
	return nil
}

func concat(pages []directory.Page) []directory.User {
	var out []directory.User
	for _, p := range pages {
		out = append(out, p.Users...)
	}
	return out
}

func testPaging(t *testing.T, s *suite) {
	t.Run("Keyset", func(t *testing.T) { testKeyset(t, s) })
	t.Run("ConcurrentWrites", func(t *testing.T) { testPagingUnderWrites(t, s) })
	t.Run("Offset", func(t *testing.T) { testOffset(t, s) })
	t.Run("Limit", func(t *testing.T) { testLimit(t, s) })
	t.Run("BadCursors", func(t *testing.T) { testBadCursors(t, s) })
	t.Run("CursorRowGone", func(t *testing.T) { testCursorRowGone(t, s) })
	t.Run("All", func(t *testing.T) { testAll(t, s) })
}

// testKeyset walks every sort forwards with Next and back with Prev: the
// pages must tile the sorted list exactly, both ways.
func testKeyset(t *testing.T, s *suite) {
	e := s.newEnv(t)
	stored := e.load(e.users, queryFixtures(s.seed))
	filters := []string{"", `emails pr`, `active eq true`}
	specs := []string{"", "userName", "-userName", "-meta.created", "name.familyName,-userName", "claims.level", "-title", "lastLoginAt"}
	for _, filter := range filters {
		for _, spec := range specs {
			for _, mode := range []directory.DeletedMode{directory.ExcludeDeleted, directory.IncludeDeleted} {
				if mode == directory.IncludeDeleted && filter != "" {
					continue
				}
				name := fmt.Sprintf("filter=%q/sort=%q/%s", filter, spec, modeNames[mode])
				t.Run(name, func(t *testing.T) {
					want := sortUsers(t, spec, modeSet(expect(t, oracleCase{filter: filter}, stored), mode))
					opts := directory.ListOptions{Filter: filter, Sort: spec, Limit: 7, Deleted: mode}
					fwd := walkForward(t, e, opts)
					assert.Equal(t, ids(want), ids(concat(fwd)), "forward pages tile the sorted list")
					assert.Empty(t, fwd[0].Prev, "the first page has no Prev")
					assert.Empty(t, fwd[len(fwd)-1].Next, "the last page has no Next")
					for i, p := range fwd[:len(fwd)-1] {
						assert.Lenf(t, p.Users, 7, "page %d is full", i)
					}
					// Back from the last page: the same pages, in reverse.
					page := fwd[len(fwd)-1]
					for i := len(fwd) - 2; i >= 0; i-- {
						require.NotEmptyf(t, page.Prev, "page %d has a Prev", i+1)
						o := opts
						o.Cursor = page.Prev
						var err error
						page, err = e.users.List(e.ctx, o)
						require.NoError(t, err)
						assert.Equalf(t, ids(fwd[i].Users), ids(page.Users), "page %d walking back", i)
						assert.NotEmptyf(t, page.Next, "page %d walking back has a Next", i)
					}
					assert.Empty(t, page.Prev, "Prev is empty back at the first page")
					if len(fwd) > 1 {
						// And forwards again from a page reached backwards.
						o := opts
						o.Cursor = page.Next
						again, err := e.users.List(e.ctx, o)
						require.NoError(t, err)
						assert.Equal(t, ids(fwd[1].Users), ids(again.Users), "Next of a page reached with Prev")
					}
				})
			}
		}
	}

	t.Run("Empty", func(t *testing.T) {
		p, err := e.users.List(e.ctx, directory.ListOptions{Filter: `userName eq "nobody"`, Limit: 7})
		require.NoError(t, err)
		assert.Empty(t, p.Users)
		assert.Empty(t, p.Next)
		assert.Empty(t, p.Prev)
	})

	t.Run("ExactMultiple", func(t *testing.T) {
		// A list of exactly two pages ends without an empty third.
		want := sortUsers(t, "userName", modeSet(expect(t, oracleCase{filter: `active eq true`}, stored), directory.ExcludeDeleted))
		require.Greater(t, len(want), 2)
		limit := len(want) / 2
		if len(want)%2 != 0 {
			want = want[:len(want)-1]
		}
		last := want[len(want)-1]
		filter := fmt.Sprintf(`active eq true and userName le %q`, last.UserName)
		pages := walkForward(t, e, directory.ListOptions{Filter: filter, Sort: "userName", Limit: limit})
		assert.Len(t, pages, 2)
		assert.Equal(t, ids(want), ids(concat(pages)))
	})
}

// testPagingUnderWrites walks a list page by page while other goroutines
// insert users and purge users outside a stable set: keyset paging must
// return every stable user exactly once and never repeat one (DESIGN §3).
func testPagingUnderWrites(t *testing.T, s *suite) {
	for _, spec := range []string{"", "userName", "-meta.created"} {
		name := spec
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			e := s.newEnv(t)
			rng := rand.New(rand.NewPCG(s.seed, 0xcafe))
			names := rng.Perm(1000)
			nextName := 0
			userName := func(prefix string) string {
				n := names[nextName]
				nextName++
				return fmt.Sprintf("%03d-%s", n, prefix)
			}
			stable := map[string]bool{}
			var victims []string
			for i := range 60 {
				e.clock.Set(hour(rng.IntN(100)))
				if i%2 == 0 {
					stable[e.create(e.users, directory.User{UserName: userName("stable")}).ID] = true
				} else {
					victims = append(victims, e.create(e.users, directory.User{UserName: userName("victim")}).ID)
				}
			}
			rng.Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
			var newNames []string
			for range 200 {
				newNames = append(newNames, userName("new"))
			}

			seen := map[string]int{}
			var order []directory.User
			opts := directory.ListOptions{Sort: spec, Limit: 7}
			inserted, purged, pages := 0, 0, 0
			for range maxPages {
				// Writers run while the page is read.
				var wg sync.WaitGroup
				var insertErr, purgeErr error
				ins := newNames[:min(3, len(newNames))]
				newNames = newNames[len(ins):]
				var del []string
				if len(victims) > 0 {
					del, victims = victims[:min(2, len(victims))], victims[min(2, len(victims)):]
				}
				wg.Add(2)
				go func() {
					defer wg.Done()
					for _, n := range ins {
						if _, err := e.users.Create(e.ctx, directory.User{UserName: n}); err != nil {
							insertErr = err
							return
						}
					}
				}()
				go func() {
					defer wg.Done()
					for _, id := range del {
						if err := e.users.Delete(e.ctx, id); err != nil {
							purgeErr = err
							return
						}
						if err := e.users.Purge(e.ctx, id); err != nil {
							purgeErr = err
							return
						}
					}
				}()
				page, err := e.users.List(e.ctx, opts)
				wg.Wait()
				require.NoError(t, err)
				require.NoError(t, insertErr)
				require.NoError(t, purgeErr)
				inserted += len(ins)
				purged += len(del)
				pages++
				for _, u := range page.Users {
					seen[u.ID]++
					order = append(order, u)
				}
				if page.Next == "" {
					break
				}
				opts.Cursor = page.Next
			}
			t.Logf("sort %q: %d pages, %d users seen, %d inserted and %d purged while walking", spec, pages, len(order), inserted, purged)
			assert.Positive(t, inserted)
			assert.Positive(t, purged)
			for id, n := range seen {
				assert.Equalf(t, 1, n, "user %s seen %d times", id, n)
			}
			for id := range stable {
				assert.Equalf(t, 1, seen[id], "stable user %s seen %d times", id, seen[id])
			}
			// What was seen is in order, since keyset pages continue after
			// the last row seen.
			assert.Equal(t, ids(sortUsers(t, spec, order)), ids(order), "rows come in sort order across pages")
		})
	}
}

// testOffset checks SCIM offset paging: StartIndex is 1-based.
func testOffset(t *testing.T, s *suite) {
	e := s.newEnv(t)
	stored := e.load(e.users, queryFixtures(s.seed))
	for _, spec := range []string{"", "userName", "-meta.created"} {
		want := sortUsers(t, spec, modeSet(stored, directory.ExcludeDeleted))
		for _, start := range []int{1, 2, 8, 15, len(want), len(want) + 1, len(want) + 50} {
			p, err := e.users.List(e.ctx, directory.ListOptions{Sort: spec, StartIndex: start, Limit: 7, Total: true})
			require.NoError(t, err)
			from := min(start-1, len(want))
			to := min(from+7, len(want))
			assert.Equalf(t, ids(want[from:to]), ids(p.Users), "sort %q startIndex %d", spec, start)
			assert.Empty(t, p.Next, "offset paging has no cursors")
			assert.Empty(t, p.Prev, "offset paging has no cursors")
			if assert.NotNil(t, p.Total) {
				assert.Equal(t, len(want), *p.Total)
			}
		}
	}
	first, err := e.users.List(e.ctx, directory.ListOptions{Limit: 2})
	require.NoError(t, err)
	_, err = e.users.List(e.ctx, directory.ListOptions{StartIndex: 3, Cursor: first.Next})
	assert.ErrorIs(t, err, directory.ErrInvalid, "StartIndex with a cursor")
	_, err = e.users.List(e.ctx, directory.ListOptions{StartIndex: -1})
	assert.ErrorIs(t, err, directory.ErrInvalid, "negative StartIndex")
}

// testLimit checks the page size rules: 0 means 100, 1 to 1000 allowed.
func testLimit(t *testing.T, s *suite) {
	e := s.newEnv(t)
	rep, err := e.users.Import(e.ctx, func(yield func(directory.User) bool) {
		for i := range 105 {
			if !yield(directory.User{UserName: fmt.Sprintf("user-%03d", i)}) {
				return
			}
		}
	})
	require.NoError(t, err)
	require.Equal(t, 105, rep.Created)

	p, err := e.users.List(e.ctx, directory.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, p.Users, directory.DefaultLimit, "limit 0 means %d", directory.DefaultLimit)
	assert.NotEmpty(t, p.Next)
	p, err = e.users.List(e.ctx, directory.ListOptions{Limit: 1, Sort: "userName"})
	require.NoError(t, err)
	if assert.Len(t, p.Users, 1) {
		assert.Equal(t, "user-000", p.Users[0].UserName)
	}
	p, err = e.users.List(e.ctx, directory.ListOptions{Limit: directory.MaxLimit})
	require.NoError(t, err)
	assert.Len(t, p.Users, 105)
	assert.Empty(t, p.Next)
	for _, bad := range []int{-1, directory.MaxLimit + 1, 1 << 30} {
		_, err := e.users.List(e.ctx, directory.ListOptions{Limit: bad})
		assert.ErrorIsf(t, err, directory.ErrInvalid, "limit %d", bad)
		var fe *directory.FieldError
		if assert.ErrorAs(t, err, &fe) {
			assert.Equal(t, "limit", fe.Field)
		}
	}
}

// testBadCursors checks that a cursor is authenticated and bound to its
// tenant, filter, sort and deleted mode (DESIGN §3).
func testBadCursors(t *testing.T, s *suite) {
	e := s.newEnv(t)
	for i := range 10 {
		e.create(e.users, directory.User{UserName: fmt.Sprintf("u%02d", i), Title: "t"})
	}
	opts := directory.ListOptions{Filter: `title pr`, Sort: "userName", Limit: 3}
	first, err := e.users.List(e.ctx, opts)
	require.NoError(t, err)
	require.NotEmpty(t, first.Next)
	second, err := e.users.List(e.ctx, withCursor(opts, first.Next))
	require.NoError(t, err)
	require.NotEmpty(t, second.Prev)

	raw, err := base64.RawURLEncoding.DecodeString(first.Next)
	tampered := []string{}
	if err == nil {
		// Flip one bit of every byte in turn (the cursor is base64url of
		// payload and MAC in this implementation; any other encoding must
		// still refuse the altered text below).
		for i := range raw {
			b := slices.Clone(raw)
			b[i] ^= 0x01
			tampered = append(tampered, base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for i := range first.Next {
		c := []byte(first.Next)
		if c[i] == 'A' {
			c[i] = 'B'
		} else {
			c[i] = 'A'
		}
		tampered = append(tampered, string(c))
	}
	for _, c := range tampered {
		_, err := e.users.List(e.ctx, withCursor(opts, c))
		if !assert.ErrorIsf(t, err, directory.ErrInvalidCursor, "tampered cursor %q", c) {
			break
		}
	}

	garbage := []string{"x", "!!!!", "null", "eyJ2IjoxfQ", first.Next + first.Next, first.Next[:len(first.Next)/2], string(make([]byte, 10000))}
	for _, c := range garbage {
		_, err := e.users.List(e.ctx, withCursor(opts, c))
		assert.ErrorIsf(t, err, directory.ErrInvalidCursor, "garbage cursor %.40q", c)
	}

	others := map[string]directory.ListOptions{
		"filter":      {Filter: `title eq "t"`, Sort: opts.Sort, Limit: 3},
		"no filter":   {Sort: opts.Sort, Limit: 3},
		"sort":        {Filter: opts.Filter, Sort: "-userName", Limit: 3},
		"no sort":     {Filter: opts.Filter, Limit: 3},
		"second key":  {Filter: opts.Filter, Sort: "userName,title", Limit: 3},
		"deleted":     {Filter: opts.Filter, Sort: opts.Sort, Limit: 3, Deleted: directory.IncludeDeleted},
		"onlyDeleted": {Filter: opts.Filter, Sort: opts.Sort, Limit: 3, Deleted: directory.OnlyDeleted},
	}
	for name, o := range others {
		for _, c := range []string{first.Next, second.Prev} {
			_, err := e.users.List(e.ctx, withCursor(o, c))
			assert.ErrorIsf(t, err, directory.ErrInvalidCursor, "cursor reused with another %s", name)
		}
	}
	// A different spelling of the same query is the same query.
	same := directory.ListOptions{Filter: `TITLE PR`, Sort: "+USERNAME", Limit: 5}
	p, err := e.users.List(e.ctx, withCursor(same, first.Next))
	require.NoError(t, err, "a cursor serves every spelling of its query")
	assert.Equal(t, []string{"u03", "u04", "u05", "u06", "u07"}, userNames(p.Users))

	// A cursor from another directory (another key) over the same backend.
	other, err := directory.New(e.b, directory.WithClock(e.clock.Now))
	require.NoError(t, err)
	_, err = other.Users(tenant).List(e.ctx, withCursor(opts, first.Next))
	assert.ErrorIs(t, err, directory.ErrInvalidCursor, "a cursor signed with another key")

	// Two directories sharing a key accept each other's cursors.
	key := []byte("0123456789abcdef0123456789abcdef")
	d1, err := directory.New(e.b, directory.WithCursorKey(key))
	require.NoError(t, err)
	d2, err := directory.New(e.b, directory.WithCursorKey(key))
	require.NoError(t, err)
	p1, err := d1.Users(tenant).List(e.ctx, opts)
	require.NoError(t, err)
	p2, err := d2.Users(tenant).List(e.ctx, withCursor(opts, p1.Next))
	require.NoError(t, err)
	assert.Equal(t, []string{"u03", "u04", "u05"}, userNames(p2.Users))
}

func withCursor(o directory.ListOptions, c string) directory.ListOptions {
	o.Cursor = c
	return o
}

func userNames(users []directory.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.UserName
	}
	return out
}

// testCursorRowGone checks that a cursor stays valid when the row it
// points at is purged, or changes its sort value: keyset paging continues
// from the position, not the row.
func testCursorRowGone(t *testing.T, s *suite) {
	for _, spec := range []string{"", "userName", "-userName"} {
		t.Run(fmt.Sprintf("sort=%q", spec), func(t *testing.T) {
			e := s.newEnv(t)
			for i := range 12 {
				e.create(e.users, directory.User{UserName: fmt.Sprintf("u%02d", i)})
			}
			all := listAll(t, e.ctx, e.users, directory.ListOptions{Sort: spec})
			opts := directory.ListOptions{Sort: spec, Limit: 4}
			first, err := e.users.List(e.ctx, opts)
			require.NoError(t, err)
			second, err := e.users.List(e.ctx, withCursor(opts, first.Next))
			require.NoError(t, err)
			require.Equal(t, ids(all[4:8]), ids(second.Users))

			// Purge the row the Next cursor of page one points at, and the
			// one page two's Prev points at.
			for _, id := range []string{first.Users[3].ID, second.Users[0].ID} {
				require.NoError(t, e.users.Delete(e.ctx, id))
				require.NoError(t, e.users.Purge(e.ctx, id))
			}
			p, err := e.users.List(e.ctx, withCursor(opts, first.Next))
			require.NoError(t, err)
			assert.Equal(t, ids(all[5:9]), ids(p.Users), "Next continues after the purged row's position")
			p, err = e.users.List(e.ctx, withCursor(opts, second.Prev))
			require.NoError(t, err)
			assert.Equal(t, ids(all[0:3]), ids(p.Users), "Prev continues before the purged row's position")
			assert.Empty(t, p.Prev, "nothing before the first page")

			// Purge every row after a cursor: the page is empty and has a
			// way back.
			short := directory.ListOptions{Sort: spec, Limit: 3}
			pages := walkForward(t, e, short)
			require.GreaterOrEqual(t, len(pages), 2)
			cut := pages[len(pages)-2]
			for _, u := range pages[len(pages)-1].Users {
				require.NoError(t, e.users.Delete(e.ctx, u.ID))
				require.NoError(t, e.users.Purge(e.ctx, u.ID))
			}
			p, err = e.users.List(e.ctx, withCursor(short, cut.Next))
			require.NoError(t, err)
			assert.Empty(t, p.Users)
			assert.Empty(t, p.Next)
			require.NotEmpty(t, p.Prev, "an empty page past the end still leads back")
			back, err := e.users.List(e.ctx, withCursor(short, p.Prev))
			require.NoError(t, err)
			assert.Equal(t, ids(cut.Users), ids(back.Users))
		})
	}
}

// testAll checks users.All yields every user across pages, once.
func testAll(t *testing.T, s *suite) {
	e := s.newEnv(t)
	stored := e.load(e.users, queryFixtures(s.seed))
	for _, c := range []struct {
		opts directory.ListOptions
		mode directory.DeletedMode
	}{
		{directory.ListOptions{Limit: 1}, directory.ExcludeDeleted},
		{directory.ListOptions{Limit: 7, Sort: "-userName"}, directory.ExcludeDeleted},
		{directory.ListOptions{Limit: 1000, Deleted: directory.IncludeDeleted}, directory.IncludeDeleted},
		{directory.ListOptions{Limit: 3, Filter: `emails pr`, Sort: "meta.created", Deleted: directory.OnlyDeleted}, directory.OnlyDeleted},
		// Cursor, StartIndex and Total are ignored.
		{directory.ListOptions{Limit: 4, StartIndex: 5, Total: true, Cursor: "garbage"}, directory.ExcludeDeleted},
	} {
		want := sortUsers(t, c.opts.Sort, modeSet(expect(t, oracleCase{filter: c.opts.Filter}, stored), c.mode))
		var got []directory.User
		for u, err := range e.users.All(e.ctx, c.opts) {
			require.NoError(t, err)
			got = append(got, u)
		}
		assert.Equalf(t, ids(want), ids(got), "All(%+v)", c.opts)
	}
	// Stopping early is allowed.
	n := 0
	for _, err := range e.users.All(e.ctx, directory.ListOptions{Limit: 2}) {
		require.NoError(t, err)
		n++
		if n == 3 {
			break
		}
	}
	assert.Equal(t, 3, n)
	// An error is yielded, once.
	errs := 0
	for _, err := range e.users.All(e.ctx, directory.ListOptions{Filter: `nosuch eq 1`}) {
		assert.ErrorIs(t, err, directory.ErrInvalidFilter)
		errs++
	}
	assert.Equal(t, 1, errs)
}
