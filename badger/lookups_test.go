package badger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

func TestLookupSlots(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{0, defaultLookups},
		{-1, 0},
		{1, 1},
		{100, 100},
		{1 << 40, maxLookups},
	} {
		assert.Equal(t, tc.want, lookupSlots(tc.in), "lookupSlots(%d)", tc.in)
	}
	for _, tc := range []struct{ n, slots int }{
		{1, lookupWays},
		{2, 2},
		{3, 4},
		{1000, 1024},
	} {
		c := newLookups(tc.n)
		require.NotNil(t, c)
		assert.Len(t, c.slots, tc.slots, "newLookups(%d)", tc.n)
	}
	assert.Nil(t, newLookups(0))
}

func TestLookups(t *testing.T) {
	var none *lookups
	none.put(none.hash([]byte("k")), "a")
	_, ok := none.get(none.hash([]byte("k")))
	assert.False(t, ok, "a nil cache remembers nothing")

	c := newLookups(1) // one bucket: every key competes for its slots
	c.put(c.hash([]byte("k1")), "a")
	c.put(c.hash([]byte("k2")), "b")
	for _, tc := range []struct{ key, id string }{{"k1", "a"}, {"k2", "b"}} {
		id, ok := c.get(c.hash([]byte(tc.key)))
		assert.True(t, ok, tc.key)
		assert.Equal(t, tc.id, id, tc.key)
	}
	c.put(c.hash([]byte("k1")), "c")
	id, _ := c.get(c.hash([]byte("k1")))
	assert.Equal(t, "c", id, "a key put again takes the new id")
	_, ok = c.get(c.hash([]byte("k3")))
	assert.False(t, ok)

	// A full bucket drops its oldest key for the new one.
	has := func(key string) bool { _, ok := c.get(c.hash([]byte(key))); return ok }
	prev := "k2" // the last new key: putting k1 again changed it in place
	for i := range 50 {
		key := fmt.Sprintf("n%d", i)
		c.put(c.hash([]byte(key)), "x")
		id, ok := c.get(c.hash([]byte(key)))
		assert.True(t, ok && id == "x", "key %s just put", key)
		assert.True(t, has(prev), "key %s put before %s", prev, key)
		held := 0
		for j := range c.slots {
			if c.slots[j].Load() != nil {
				held++
			}
		}
		assert.Equal(t, lookupWays, held)
		prev = key
	}

	c.forget(c.hash([]byte(prev)))
	assert.False(t, has(prev), "forgotten")
	assert.True(t, has("n48"), "forget drops only its key")
	c.put(c.hash([]byte(prev)), "y")
	c.reset()
	for j := range c.slots {
		assert.Nil(t, c.slots[j].Load(), "slot %d after reset", j)
	}
	none.forget(0)
	none.reset()
}

// lookupStore opens an in-memory store with the test kind and the given
// lookup cache size.
func lookupStore(t *testing.T, size int) *Store {
	t.Helper()
	return openTestWith(t, Options{InMemory: true, LookupCache: size})
}

// emailDoc is a test document with the given addresses.
func emailDoc(id string, emails ...string) *tdoc {
	return &tdoc{ID: id, Name: "n-" + id, Emails: emails, Created: t0}
}

// emailIDs returns the ids of the records of tenant "t" that a list by
// one email address returns, from position after when set; nil for none.
func emailIDs(t *testing.T, s *Store, email string, after *backend.Position, reverse bool) []string {
	t.Helper()
	return tenantEmailIDs(t, s, "t", email, after, reverse)
}

// tenantEmailIDs is emailIDs in a given tenant.
func tenantEmailIDs(t *testing.T, s *Store, tenant, email string, after *backend.Position, reverse bool) []string {
	t.Helper()
	f := bind(t, `emails.value eq "`+email+`"`)
	got := ids(collect(t, s, tenant, backend.Query{Kind: tkind, Filter: f, After: after, Reverse: reverse}))
	if len(got) == 0 {
		return nil
	}
	return got
}

// emailKey returns the emails index key of an address in tenant "t".
func emailKey(email string) []byte {
	vk := query.AppendKey(nil, query.Value{Kind: query.KindString, Str: email}, false)
	return uniqueKey(indexPrefix(spaceUnique, "t", tkind, "emails"), vk)
}

// remembered reports whether s's lookup cache holds an id for the address.
func remembered(s *Store, email string) bool {
	_, ok := s.lookups.get(s.lookups.hash(emailKey(email)))
	return ok
}

// reuseA returns a change that deletes record "a" and creates a record
// with its id again, with the given addresses.
func reuseA(emails ...string) func(*Store) error {
	return func(s *Store) error {
		ctx := context.Background()
		if err := s.Delete(ctx, "t", tkind, "a", 0); err != nil {
			return err
		}
		_, err := s.Create(ctx, "t", tkind, "a", emailDoc("a", emails...))
		return err
	}
}

// TestLookupStale runs a list by an email address, which the store
// remembers, then changes the data so that the remembered record no
// longer holds the address, and lists again.
func TestLookupStale(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(*Store) error
		email  string
		want   []string
	}{
		{"unchanged", func(*Store) error { return nil }, "a@x.io", []string{"a"}},
		{"found folded", func(*Store) error { return nil }, "A@X.IO", []string{"a"}},
		{"moved to another record", func(s *Store) error {
			if _, err := s.Replace(ctx, "t", tkind, "a", emailDoc("a", "other@x.io"), 0); err != nil {
				return err
			}
			_, err := s.Create(ctx, "t", tkind, "b", emailDoc("b", "a@x.io"))
			return err
		}, "a@x.io", []string{"b"}},
		{"removed", func(s *Store) error {
			_, err := s.Replace(ctx, "t", tkind, "a", emailDoc("a"), 0)
			return err
		}, "a@x.io", nil},
		{"record deleted", func(s *Store) error {
			return s.Delete(ctx, "t", tkind, "a", 0)
		}, "a@x.io", nil},
		{"id used again without it", reuseA("z@x.io"), "a@x.io", nil},
		{"id used again with it", reuseA("A@x.io"), "a@x.io", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := lookupStore(t, 0)
			_, err := s.Create(ctx, "t", tkind, "a", emailDoc("a", "a@x.io", "b@x.io"))
			require.NoError(t, err)
			require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
			require.True(t, remembered(s, "a@x.io"), "the list is remembered")

			require.NoError(t, tc.change(s))
			assert.Equal(t, tc.want, emailIDs(t, s, tc.email, nil, false))
			assert.Equal(t, tc.want, emailIDs(t, s, tc.email, nil, false), "again, once remembered anew")
			assert.Equal(t, tc.want != nil, remembered(s, tc.email), "remembered only when a record has it")
			mustVerify(t, s)
		})
	}
}

// TestLookupAfter lists by a remembered address from positions before and
// after its record, in both directions.
func TestLookupAfter(t *testing.T) {
	ctx := context.Background()
	s := lookupStore(t, 0)
	_, err := s.Create(ctx, "t", tkind, "m", emailDoc("m", "m@x.io"))
	require.NoError(t, err)
	require.Equal(t, []string{"m"}, emailIDs(t, s, "m@x.io", nil, false))
	for _, tc := range []struct {
		after   string
		reverse bool
		want    []string
	}{
		{"a", false, []string{"m"}},
		{"m", false, nil},
		{"z", false, nil},
		{"z", true, []string{"m"}},
		{"m", true, nil},
		{"a", true, nil},
	} {
		got := emailIDs(t, s, "m@x.io", &backend.Position{ID: tc.after}, tc.reverse)
		assert.Equal(t, tc.want, got, "after %q reverse %v", tc.after, tc.reverse)
	}
}

// TestLookupReadsRecordOnly shows that a remembered address is answered
// from the record alone: with its index entry removed behind the store's
// back, the list still finds the record, while a store that remembers
// nothing does not.
func TestLookupReadsRecordOnly(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		size int
		want []string
	}{
		{0, []string{"a"}},
		{-1, nil},
	} {
		s := lookupStore(t, tc.size)
		_, err := s.Create(ctx, "t", tkind, "a", emailDoc("a", "a@x.io"))
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
		txn := s.DB().NewTransaction(true)
		require.NoError(t, txn.Delete(emailKey("a@x.io")))
		require.NoError(t, txn.Commit())
		assert.Equal(t, tc.want, emailIDs(t, s, "a@x.io", nil, false), "LookupCache %d", tc.size)
	}
}

// TestLookupDifferential runs random creates, replaces and deletes over a
// few ids and addresses in two tenants, and after each one lists every
// address in both, from the start and from the position of the record
// found, on a store with a tiny cache (so that keys evict each other), and
// compares with a store that remembers nothing and with the documents
// themselves.
func TestLookupDifferential(t *testing.T) {
	ctx := context.Background()
	cached, plain := lookupStore(t, 4), lookupStore(t, -1)
	r := rand.New(rand.NewPCG(3, 4))
	tenants := []string{"t", "u"}
	emails := make([]string, 12)
	for i := range emails {
		emails[i] = fmt.Sprintf("e%d@x.io", i)
	}
	live := map[string]map[string]*tdoc{"t": {}, "u": {}}
	for step := range 600 {
		tenant := tenants[r.IntN(len(tenants))]
		id := fmt.Sprintf("id%d", r.IntN(8))
		d := &tdoc{ID: id, Name: fmt.Sprintf("n%d", step), Created: t0}
		for range r.IntN(3) {
			e := emails[r.IntN(len(emails))]
			if r.IntN(2) == 0 {
				e = strings.ToUpper(e)
			}
			d.Emails = append(d.Emails, e)
		}
		_, exists := live[tenant][id]
		op := "create"
		if exists {
			op = "replace"
			if r.IntN(4) == 0 {
				op = "delete"
			}
		}
		var errs [2]error
		for i, s := range []*Store{cached, plain} {
			c := *d
			switch op {
			case "create":
				_, errs[i] = s.Create(ctx, tenant, tkind, id, &c)
			case "replace":
				_, errs[i] = s.Replace(ctx, tenant, tkind, id, &c, 0)
			default:
				errs[i] = s.Delete(ctx, tenant, tkind, id, 0)
			}
		}
		require.Equal(t, errs[0] == nil, errs[1] == nil, "step %d %s: %v / %v", step, op, errs[0], errs[1])
		switch {
		case errs[0] != nil:
			require.ErrorIs(t, errs[0], backend.ErrAlreadyExists, "step %d %s", step, op)
		case op == "delete":
			delete(live[tenant], id)
		default:
			live[tenant][id] = d
		}
		for _, tn := range tenants {
			for _, e := range emails {
				var want []string
				for _, d := range live[tn] { // at most one holds e
					if slices.ContainsFunc(d.Emails, func(x string) bool { return strings.EqualFold(x, e) }) {
						want = append(want, d.ID)
					}
				}
				got := tenantEmailIDs(t, cached, tn, e, nil, false)
				assert.Equal(t, want, got, "step %d: cached store, %s %s", step, tn, e)
				assert.Equal(t, tenantEmailIDs(t, plain, tn, e, nil, false), got, "step %d: %s %s", step, tn, e)
				if len(want) == 1 {
					for _, reverse := range []bool{false, true} {
						at := &backend.Position{ID: want[0]}
						assert.Nil(t, tenantEmailIDs(t, cached, tn, e, at, reverse), "step %d: %s %s after its record, reverse %v", step, tn, e, reverse)
					}
				}
			}
		}
	}
	mustVerify(t, cached)
}

// TestLookupUnreadable leaves a remembered record that cannot be decoded
// after its address moved to another record: the list reads the index
// and finds the other record, as a store without the cache does, rather
// than failing on a record the index no longer names.
func TestLookupUnreadable(t *testing.T) {
	ctx := context.Background()
	for _, size := range []int{0, -1} {
		s := lookupStore(t, size)
		_, err := s.Create(ctx, "t", tkind, "a", emailDoc("a", "a@x.io"))
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
		_, err = s.Replace(ctx, "t", tkind, "a", emailDoc("a"), 0)
		require.NoError(t, err)
		_, err = s.Create(ctx, "t", tkind, "b", emailDoc("b", "a@x.io"))
		require.NoError(t, err)
		txn := s.DB().NewTransaction(true)
		require.NoError(t, txn.Set(recordKey("t", tkind, "a"), appendRecordValue(nil, 2, []byte("not json"))))
		require.NoError(t, txn.Commit())
		assert.Equal(t, []string{"b"}, emailIDs(t, s, "a@x.io", nil, false), "LookupCache %d", size)
	}
}

// TestLookupCompact checks that Compact empties the cache, and that lists
// remember again after it.
func TestLookupCompact(t *testing.T) {
	ctx := context.Background()
	s := lookupStore(t, 0)
	_, err := s.Create(ctx, "t", tkind, "a", emailDoc("a", "a@x.io"))
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
	require.True(t, remembered(s, "a@x.io"))
	require.NoError(t, s.Compact(ctx))
	assert.False(t, remembered(s, "a@x.io"), "after Compact")
	assert.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
	assert.True(t, remembered(s, "a@x.io"), "listed again")
}

// TestLookupsConcurrent puts, gets and forgets keys from several
// goroutines, for the race detector, and checks that a key found has an
// id it was given.
func TestLookupsConcurrent(t *testing.T) {
	c := newLookups(8)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				key := []byte(fmt.Sprintf("k%d", i%16))
				h := c.hash(key)
				c.put(h, fmt.Sprintf("id%d-%d", i%16, g))
				if id, ok := c.get(h); ok {
					assert.True(t, strings.HasPrefix(id, fmt.Sprintf("id%d-", i%16)), "key %s: %s", key, id)
				}
				if i%7 == 0 {
					c.forget(h)
				}
			}
		}()
	}
	wg.Wait()
}
