package badger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
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

	// A full bucket replaces one of its keys, and the new key is there.
	for i := range 50 {
		key := []byte(fmt.Sprintf("n%d", i))
		c.put(c.hash(key), "x")
		id, ok := c.get(c.hash(key))
		assert.True(t, ok && id == "x", "key %s just put", key)
		held := 0
		for j := range c.slots {
			if c.slots[j].Load() != nil {
				held++
			}
		}
		assert.Equal(t, lookupWays, held)
	}
}

// lookupStore opens an in-memory store with the test kind and the given
// lookup cache size.
func lookupStore(t *testing.T, size int) *Store {
	t.Helper()
	s, err := Open("", Options{InMemory: true, LookupCache: size})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.Define(context.Background(), testKind()))
	return s
}

// emailIDs returns the ids of the records of tenant "t" that a list by
// one email address returns, from position after when set; nil for none.
func emailIDs(t *testing.T, s *Store, email string, after *backend.Position, reverse bool) []string {
	t.Helper()
	f := bind(t, `emails.value eq "`+email+`"`)
	got := ids(collect(t, s, "t", backend.Query{Kind: tkind, Filter: f, After: after, Reverse: reverse}))
	if len(got) == 0 {
		return nil
	}
	return got
}

// TestLookupStale runs a list by an email address, which the store
// remembers, then changes the data so that the remembered record no
// longer holds the address, and lists again.
func TestLookupStale(t *testing.T) {
	ctx := context.Background()
	doc := func(id string, emails ...string) *tdoc {
		return &tdoc{ID: id, Name: "n-" + id, Emails: emails, Created: t0}
	}
	for _, tc := range []struct {
		name   string
		change func(*Store) error
		email  string
		want   []string
	}{
		{"unchanged", func(*Store) error { return nil }, "a@x.io", []string{"a"}},
		{"found folded", func(*Store) error { return nil }, "A@X.IO", []string{"a"}},
		{"moved to another record", func(s *Store) error {
			if _, err := s.Replace(ctx, "t", tkind, "a", doc("a", "other@x.io"), 0); err != nil {
				return err
			}
			_, err := s.Create(ctx, "t", tkind, "b", doc("b", "a@x.io"))
			return err
		}, "a@x.io", []string{"b"}},
		{"removed", func(s *Store) error {
			_, err := s.Replace(ctx, "t", tkind, "a", doc("a"), 0)
			return err
		}, "a@x.io", nil},
		{"record deleted", func(s *Store) error {
			return s.Delete(ctx, "t", tkind, "a", 0)
		}, "a@x.io", nil},
		{"id used again without it", func(s *Store) error {
			if err := s.Delete(ctx, "t", tkind, "a", 0); err != nil {
				return err
			}
			_, err := s.Create(ctx, "t", tkind, "a", doc("a", "z@x.io"))
			return err
		}, "a@x.io", nil},
		{"id used again with it", func(s *Store) error {
			if err := s.Delete(ctx, "t", tkind, "a", 0); err != nil {
				return err
			}
			_, err := s.Create(ctx, "t", tkind, "a", doc("a", "A@x.io"))
			return err
		}, "a@x.io", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := lookupStore(t, 0)
			_, err := s.Create(ctx, "t", tkind, "a", doc("a", "a@x.io", "b@x.io"))
			require.NoError(t, err)
			require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
			_, ok := s.lookups.get(s.lookups.hash(slices.Concat(indexPrefix(spaceUnique, "t", tkind, "emails"), query.AppendKey(nil, query.Value{Kind: query.KindString, Str: "a@x.io"}, false))))
			require.True(t, ok, "the list is remembered")

			require.NoError(t, tc.change(s))
			assert.Equal(t, tc.want, emailIDs(t, s, tc.email, nil, false))
			assert.Equal(t, tc.want, emailIDs(t, s, tc.email, nil, false), "again, once remembered anew")
			mustVerify(t, s)
		})
	}
}

// TestLookupAfter lists by a remembered address from positions before and
// after its record, in both directions.
func TestLookupAfter(t *testing.T) {
	ctx := context.Background()
	s := lookupStore(t, 0)
	_, err := s.Create(ctx, "t", tkind, "m", &tdoc{ID: "m", Name: "m", Emails: []string{"m@x.io"}, Created: t0})
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
		_, err := s.Create(ctx, "t", tkind, "a", &tdoc{ID: "a", Name: "a", Emails: []string{"a@x.io"}, Created: t0})
		require.NoError(t, err)
		require.Equal(t, []string{"a"}, emailIDs(t, s, "a@x.io", nil, false))
		key := slices.Concat(indexPrefix(spaceUnique, "t", tkind, "emails"), query.AppendKey(nil, query.Value{Kind: query.KindString, Str: "a@x.io"}, false))
		txn := s.DB().NewTransaction(true)
		require.NoError(t, txn.Delete(key))
		require.NoError(t, txn.Commit())
		assert.Equal(t, tc.want, emailIDs(t, s, "a@x.io", nil, false), "LookupCache %d", tc.size)
	}
}

// TestLookupDifferential runs random creates, replaces and deletes over a
// few ids and addresses, and after each one lists every address on a
// store with a tiny cache (so that keys evict each other) and compares
// with a store that remembers nothing and with the documents themselves.
func TestLookupDifferential(t *testing.T) {
	ctx := context.Background()
	cached, plain := lookupStore(t, 4), lookupStore(t, -1)
	r := rand.New(rand.NewPCG(3, 4))
	emails := make([]string, 12)
	for i := range emails {
		emails[i] = fmt.Sprintf("e%d@x.io", i)
	}
	live := map[string]*tdoc{}
	for step := range 600 {
		id := fmt.Sprintf("id%d", r.IntN(8))
		d := &tdoc{ID: id, Name: fmt.Sprintf("n%d", step), Created: t0}
		for range r.IntN(3) {
			e := emails[r.IntN(len(emails))]
			if r.IntN(2) == 0 {
				e = strings.ToUpper(e)
			}
			d.Emails = append(d.Emails, e)
		}
		_, exists := live[id]
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
				_, errs[i] = s.Create(ctx, "t", tkind, id, &c)
			case "replace":
				_, errs[i] = s.Replace(ctx, "t", tkind, id, &c, 0)
			default:
				errs[i] = s.Delete(ctx, "t", tkind, id, 0)
			}
		}
		require.Equal(t, errs[0] == nil, errs[1] == nil, "step %d %s: %v / %v", step, op, errs[0], errs[1])
		switch {
		case errs[0] != nil:
			require.ErrorIs(t, errs[0], backend.ErrAlreadyExists, "step %d %s", step, op)
		case op == "delete":
			delete(live, id)
		default:
			live[id] = d
		}
		for _, e := range emails {
			var want []string
			for _, d := range live { // at most one holds e
				if slices.ContainsFunc(d.Emails, func(x string) bool { return strings.EqualFold(x, e) }) {
					want = append(want, d.ID)
				}
			}
			got := emailIDs(t, cached, e, nil, false)
			assert.Equal(t, want, got, "step %d: cached store, %s", step, e)
			assert.Equal(t, emailIDs(t, plain, e, nil, false), got, "step %d: %s", step, e)
		}
	}
	mustVerify(t, cached)
}

// TestLookupsConcurrent puts and gets keys from several goroutines, for
// the race detector, and checks that a key found has an id it was given.
func TestLookupsConcurrent(t *testing.T) {
	c := newLookups(8)
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				key := []byte(fmt.Sprintf("k%d", i%16))
				c.put(c.hash(key), fmt.Sprintf("id%d-%d", i%16, g))
				if id, ok := c.get(c.hash(key)); ok {
					assert.True(t, strings.HasPrefix(id, fmt.Sprintf("id%d-", i%16)), "key %s: %s", key, id)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}
