package badger

import (
	"context"
	"errors"
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// rawWrite changes the store behind its back.
func rawWrite(t *testing.T, s *Store, fn func(*badgerdb.Txn) error) {
	t.Helper()
	if err := s.DB().Update(fn); err != nil {
		t.Fatal(err)
	}
}

func strKey(s string) []byte {
	return query.AppendKey(nil, query.Value{Kind: query.KindString, Str: s}, false)
}

// TestVerifyFindsCorruption corrupts a consistent store in every way
// Verify knows, by writing raw keys, and checks that each is reported.
func TestVerifyFindsCorruption(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, d := range []*tdoc{
		{ID: "a", Name: "Ann", Emails: []string{"ann@x.io"}, Score: 1, Created: t0, Code: "c"},
		{ID: "b", Name: "Bob", Emails: []string{"bob@x.io"}, Score: 2, Created: t0},
		{ID: "c", Name: "Cy", Score: 3, Created: t0},
		{ID: "d", Name: "Di", Score: 4, Created: t0},
	} {
		if _, err := s.Create(ctx, "t", tkind, d.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	rep := mustVerify(t, s)
	if rep.Records != 4 || rep.Entries == 0 {
		t.Fatalf("clean report %+v", rep)
	}

	scoreKey := func(n int64) []byte {
		return query.AppendKey(nil, query.Value{Kind: query.KindNumber, Num: query.NumberFromInt64(n)}, false)
	}
	rawWrite(t, s, func(txn *badgerdb.Txn) error {
		// Orphans: an entry for a record that does not exist, and one
		// for a value its record does not have.
		k, _ := entryKey(indexPrefix(spaceEntry, "t", tkind, "score"), scoreKey(9), "ghost")
		if err := txn.Set(k, nil); err != nil {
			return err
		}
		k, _ = entryKey(indexPrefix(spaceEntry, "t", tkind, "score"), scoreKey(8), "c")
		if err := txn.Set(k, nil); err != nil {
			return err
		}
		// Missing: b's score entry.
		k, _ = entryKey(indexPrefix(spaceEntry, "t", tkind, "score"), scoreKey(2), "b")
		if err := txn.Delete(k); err != nil {
			return err
		}
		// Wrong unique mapping: bob@x.io claims to belong to a.
		if err := txn.Set(uniqueKey(indexPrefix(spaceUnique, "t", tkind, "emails"), strKey("bob@x.io")), []byte("a")); err != nil {
			return err
		}
		// Undecodable: d's value is not JSON.
		if err := txn.Set(recordKey("t", tkind, "d"), appendRecordValue(nil, 1, []byte("{nope"))); err != nil {
			return err
		}
		// A key outside the layout, and an entry of an undeclared index.
		if err := txn.Set([]byte{spaceRecord, formatVersion, 'x'}, nil); err != nil {
			return err
		}
		k, _ = entryKey(indexPrefix(spaceEntry, "t", tkind, "nosuch"), strKey("v"), "a")
		return txn.Set(k, nil)
	})
	// Missing required: c loses its name, which leaves its name entry an
	// orphan.
	rawWrite(t, s, func(txn *badgerdb.Txn) error {
		return txn.Set(recordKey("t", tkind, "c"), appendRecordValue(nil, 1, []byte(`{"id":"c","score":3,"created":"2025-03-01T12:00:00.123456789Z"}`)))
	})

	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		kind  ProblemKind
		index string
		id    string
	}
	for _, w := range []want{
		{OrphanEntry, "score", "ghost"},
		{OrphanEntry, "score", "c"},
		{OrphanEntry, "name", "c"}, // c's old name entry
		{MissingEntry, "score", "b"},
		{WrongUnique, "emails", "b"},
		{UndecodableRecord, "", "d"},
		{MalformedKey, "", ""},
		{UnknownIndex, "nosuch", "a"},
		{MissingRequired, "name", "c"},
	} {
		found := false
		for _, p := range rep.Problems {
			if p.Kind == w.kind && p.Index == w.index && p.ID == w.id {
				found = true
			}
		}
		if !found {
			t.Errorf("no %v problem for index %q id %q", w.kind, w.index, w.id)
		}
	}
	if rep.OK() {
		t.Error("corrupt store reported OK")
	}
	for _, p := range rep.Problems {
		t.Log(p)
	}
}

// TestVerifyBalancedMismatch checks the case that entry counts alone
// cannot reveal: one entry missing and one extra in the same index.
func TestVerifyBalancedMismatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Create(ctx, "t", tkind, "a", &tdoc{Name: "a", Score: 1, Created: t0}); err != nil {
		t.Fatal(err)
	}
	num := func(n int64) []byte {
		return query.AppendKey(nil, query.Value{Kind: query.KindNumber, Num: query.NumberFromInt64(n)}, false)
	}
	rawWrite(t, s, func(txn *badgerdb.Txn) error {
		old, _ := entryKey(indexPrefix(spaceEntry, "t", tkind, "score"), num(1), "a")
		bad, _ := entryKey(indexPrefix(spaceEntry, "t", tkind, "score"), num(5), "a")
		return errors.Join(txn.Delete(old), txn.Set(bad, nil))
	})
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var missing, orphan bool
	for _, p := range rep.Problems {
		missing = missing || p.Kind == MissingEntry && p.ID == "a"
		orphan = orphan || p.Kind == OrphanEntry && p.ID == "a"
	}
	if !missing || !orphan {
		t.Fatalf("problems %v: want a missing and an orphan entry", rep.Problems)
	}
}

// TestRedefine checks that changed index declarations are rebuilt from
// the records, and that turning an index unique over clashing data fails
// without changing anything.
func TestRedefine(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	k := testKind()
	k.Indexes = k.Indexes[:3] // name, emails, score
	k.Indexes[1].Unique = false
	if err := s.Define(ctx, k); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*tdoc{
		{ID: "a", Name: "a", Emails: []string{"same@x.io"}, Score: 1, Created: t0, Code: "q"},
		{ID: "b", Name: "b", Emails: []string{"SAME@x.io"}, Score: 2, Created: t0},
	} {
		if _, err := s.Create(ctx, "t", tkind, d.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The full declaration makes emails unique, which the data forbids.
	err = s.Define(ctx, testKind())
	wantErr(t, err, backend.ErrAlreadyExists, "emails")
	if err := s.Define(ctx, k); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, s)

	// Without the clash, the new and changed indexes are built.
	if err := s.Delete(ctx, "t", tkind, "b", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, s)
	if rep.Entries != 6 { // name, emails, score, created, code, active of a
		t.Fatalf("entries %d, want 6", rep.Entries)
	}
	n, err := s.Count(ctx, "t", backend.Query{Kind: tkind, Filter: bind(t, `code eq "q"`)})
	if err != nil || n != 1 {
		t.Fatalf("count by the new index: %d, %v", n, err)
	}
	_, err = s.Create(ctx, "t", tkind, "c", &tdoc{Name: "c", Emails: []string{"Same@X.io"}, Created: t0})
	wantErr(t, err, backend.ErrAlreadyExists, "emails")

	// A rebuild interrupted by a crash leaves the definition incomplete,
	// naming the indexes it was changing; the next Define finishes it,
	// dropping the entries of an index that is no longer declared.
	if err := s.putKindMeta(tkind, kindMeta{Indexes: []indexMeta{{Name: "gone"}}}); err != nil {
		t.Fatal(err)
	}
	rawWrite(t, s, func(txn *badgerdb.Txn) error {
		k, _ := entryKey(indexPrefix(spaceEntry, "t", tkind, "gone"), strKey("v"), "a")
		return txn.Set(k, nil)
	})
	if err := s.Define(ctx, testKind()); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, s); rep.Entries != 6 {
		t.Fatalf("entries %d after the interrupted rebuild, want 6", rep.Entries)
	}
}
