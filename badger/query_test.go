package badger

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// seedDocs stores n random documents in tenant "t" (and a few in tenant
// "other", which no query of "t" may return) and returns those of "t".
func seedDocs(t testing.TB, s *Store, n int, seed uint64) []*tdoc {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, seed+1))
	names := []string{"ann", "Bob", "carl", "STRASSE", "straße", "Émile", "emile", "zoë", "a\x00b"}
	codes := []string{"ab", "AB", "Ab", "b", "zz"}
	domains := []string{"x.io", "Y.io", "z.org"}
	var docs []*tdoc
	for i := range n {
		d := &tdoc{
			ID:      fmt.Sprintf("id%05d", r.IntN(1_000_000)),
			Name:    fmt.Sprintf("%s-%d", names[r.IntN(len(names))], i),
			Score:   r.Int64N(51) - 10,
			Created: t0.Add(time.Duration(r.IntN(100)) * time.Hour).Add(time.Duration(r.IntN(3))),
			Active:  r.IntN(2) == 0,
		}
		if r.IntN(4) > 0 {
			d.Code = codes[r.IntN(len(codes))]
		}
		for j := range r.IntN(4) {
			e := fmt.Sprintf("u%d.%d@%s", i, j, domains[r.IntN(len(domains))])
			if r.IntN(2) == 0 {
				e = strings.ToUpper(e)
			}
			d.Emails = append(d.Emails, e)
		}
		if i%2 == 0 {
			d.Name = strings.ToUpper(d.Name)
		}
		if _, err := s.Create(ctx, "t", tkind, d.ID, d); err != nil {
			continue // a repeated random id
		}
		docs = append(docs, d)
		if i%50 == 0 {
			o := *d
			if _, err := s.Create(ctx, "other", tkind, d.ID, &o); err != nil {
				t.Fatal(err)
			}
		}
	}
	return docs
}

var oracleFilters = []string{
	`name eq "ANN-3"`,
	`name eq "strasse-4"`,
	`name sw "stras"`,
	`name sw "ÉMI"`,
	`name sw ""`,
	`name gt "c"`,
	`name lt "B"`,
	`emails.value eq "u10.0@x.io"`,
	`emails.value eq "U12.1@Y.IO"`,
	`emails.value sw "u1"`,
	`emails.value ge "u5"`,
	`emails.value le "u2"`,
	`score gt 25`,
	`score ge 25`,
	`score lt 0`,
	`score le -5`,
	`score eq 7`,
	`score eq 7.0`,
	`score gt -1.5`,
	`created gt "2025-03-03T00:00:00Z"`,
	`created le "2025-03-02T12:00:00.000000001Z"`,
	`created eq "2025-03-01T13:00:00.123456789Z"`,
	`code eq "ab"`,
	`code eq "AB"`,
	`code gt "AB"`,
	`code sw "A"`,
	`active eq true`,
	`score gt 10 and score lt 20`,
	`score lt 0 or score gt 35`,
	`name sw "a" and active eq true`,
	`(score lt 0 or code eq "ab") and created gt "2025-03-02T00:00:00Z"`,
	`score gt 10 and name co "1"`,
	`score gt 10 or name co "1"`,
	`not (score gt 10)`,
	`name co "x"`,
	`emails pr`,
	`score ge -10`,
	`score ge -10 and code pr`,
	`score ne 3`,
}

var oracleSorts = []string{"", "score", "-score", "created", "-created", "name", "-name"}

// pagedSorts are the sorts whose results TestQueryOracle also walks page
// by page: id order, a non-unique index backwards and a unique index
// forwards (every page runs the whole query again, so all of them would
// make the test slow under the race detector).
var pagedSorts = map[string]bool{"": true, "-score": true, "name": true}

// sortKey is the oracle's order: query.Sort.AppendKey orders exactly as
// the sort's Compare with ties broken by id.
func sortKey(srt query.Sort, d *tdoc) []byte {
	return srt.AppendKey(nil, srt.Values(d), d.ID)
}

func collect(t testing.TB, s *Store, tenant string, q backend.Query) []*tdoc {
	t.Helper()
	var out []*tdoc
	for r, err := range s.Query(context.Background(), tenant, q) {
		if err != nil {
			t.Fatalf("query %s: %v", s.Explain(tenant, q), err)
		}
		d := r.Doc.(*tdoc)
		if d.ID != r.ID {
			t.Fatalf("record %q holds document %q", r.ID, d.ID)
		}
		out = append(out, d)
	}
	return out
}

func ids(docs []*tdoc) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

// TestQueryOracle compares every query, count and sorted page walk with a
// brute-force evaluation of the filter over the documents, on enough data
// that sorted queries both sort small candidate sets in memory and walk
// the sort index.
func TestQueryOracle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	docs := seedDocs(t, s, 1100, 7) // over smallSet, for filters that match (nearly) all
	if len(docs) <= smallSet {
		t.Fatalf("only %d documents", len(docs))
	}
	mustVerify(t, s)
	for _, f := range oracleFilters {
		filter := bind(t, f)
		var want []*tdoc
		for _, d := range docs {
			if query.Eval(filter, d) {
				want = append(want, d)
			}
		}
		n, err := s.Count(ctx, "t", backend.Query{Kind: tkind, Filter: filter})
		if err != nil || n != len(want) {
			t.Errorf("count %s = %d, %v; want %d", f, n, err, len(want))
		}
		for _, so := range oracleSorts {
			srt := mustSort(t, so)
			sorted := slices.Clone(want)
			slices.SortFunc(sorted, func(a, b *tdoc) int { return bytes.Compare(sortKey(srt, a), sortKey(srt, b)) })
			if len(srt) == 0 {
				slices.SortFunc(sorted, func(a, b *tdoc) int { return strings.Compare(a.ID, b.ID) })
			}
			name := fmt.Sprintf("%s sort %q", f, so)
			q := backend.Query{Kind: tkind, Filter: filter, Sort: srt}
			got := collect(t, s, "t", q)
			if !slices.Equal(ids(got), ids(sorted)) {
				t.Errorf("%s (%s): got %d records, want %d\n got %v\nwant %v", name, s.Explain("t", q), len(got), len(sorted), ids(got), ids(sorted))
				continue
			}
			rev := slices.Clone(sorted)
			slices.Reverse(rev)
			q.Reverse = true
			if got := collect(t, s, "t", q); !slices.Equal(ids(got), ids(rev)) {
				t.Errorf("%s reversed: got %v\nwant %v", name, ids(got), ids(rev))
				continue
			}
			if pagedSorts[so] {
				checkPaging(t, s, filter, srt, sorted, name)
			}
		}
	}
}

// checkPaging walks the results in pages, forwards and then backwards
// from the end, continuing each page strictly after the last record of
// the previous one, and compares with the oracle order.
func checkPaging(t *testing.T, s *Store, filter query.Expr, srt query.Sort, want []*tdoc, name string) {
	t.Helper()
	// Pages are small enough for several per walk, few enough to keep the
	// test fast: every page plans and runs the query again.
	page := max(37, len(want)/3)
	for _, reverse := range []bool{false, true} {
		exp := slices.Clone(want)
		if reverse {
			slices.Reverse(exp)
		}
		var got []*tdoc
		var after *backend.Position
		for {
			q := backend.Query{Kind: tkind, Filter: filter, Sort: srt, After: after, Reverse: reverse}
			var batch []*tdoc
			for r, err := range s.Query(context.Background(), "t", q) {
				if err != nil {
					t.Fatal(err)
				}
				batch = append(batch, r.Doc.(*tdoc))
				if len(batch) == page {
					break
				}
			}
			got = append(got, batch...)
			if len(batch) < page {
				break
			}
			last := batch[len(batch)-1]
			after = &backend.Position{Values: srt.Values(last), ID: last.ID}
		}
		if !slices.Equal(ids(got), ids(exp)) {
			t.Errorf("%s paged (reverse %v): got %v\nwant %v", name, reverse, ids(got), ids(exp))
		}
	}
}

// TestSnapshot checks that a query sees the data as of its start while
// the consumer writes between records.
func TestSnapshot(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for i := range 10 {
		if _, err := s.Create(ctx, "t", tkind, fmt.Sprint("k", i), &tdoc{Name: fmt.Sprint("n", i), Score: int64(i), Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for r, err := range s.Query(ctx, "t", backend.Query{Kind: tkind, Sort: mustSort(t, "score")}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		// Deleting the next record and adding one at the end do not show.
		if err := s.Delete(ctx, "t", tkind, fmt.Sprint("k", r.Doc.(*tdoc).Score+1), 0); err != nil && r.Doc.(*tdoc).Score < 9 {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, "t", tkind, fmt.Sprint("z", n), &tdoc{Name: fmt.Sprint("z", n), Score: 100, Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if n != 10 {
		t.Fatalf("query saw %d records, want the 10 of its snapshot", n)
	}
}

func TestExplainAdapter(t *testing.T) {
	s := openTest(t)
	for _, c := range []struct {
		filter, sort, want string
	}{
		{`name eq "a"`, "", "index name eq; id order"},
		{`emails.value eq "a@x.io"`, "", "index emails eq"},
		{`created gt "2025-01-01T00:00:00Z"`, "-created", "index created range gt; sorted by index created desc"},
		{`name sw "a" and score gt 3`, "score", "intersect(index name prefix, index score range gt); sorted by index score asc"},
		{`name co "a"`, "", `scan docs records, evaluate name co "a"; id order`},
		{`score gt 1 and name co "a"`, "", `index score range gt, evaluate`},
	} {
		q := backend.Query{Kind: tkind, Filter: bind(t, c.filter), Sort: mustSort(t, c.sort)}
		if got := s.Explain("t", q); !strings.Contains(got, c.want) {
			t.Errorf("Explain(%s) = %q, want %q in it", c.filter, got, c.want)
		}
	}
}

func TestPushdown(t *testing.T) {
	s := openTest(t)
	p := s.Pushdown(tkind)
	for f, want := range map[string]query.Support{
		`name eq "a"`:                       query.Exact,
		`name sw "a"`:                       query.Exact,
		`score gt 3`:                        query.Exact,
		`created lt "2025-01-01T00:00:00Z"`: query.Exact,
		`active eq true`:                    query.Exact,
		`code eq "x"`:                       query.Exact,
		`name ne "a"`:                       query.Unsupported,
		`name co "a"`:                       query.Unsupported,
		`name ew "a"`:                       query.Unsupported,
		`name pr`:                           query.Unsupported,
		`n eq 3`:                            query.Unsupported,
		`name eq null`:                      query.Unsupported,
		`emails[value eq "a"]`:              query.Unsupported,
		`not (name eq "a")`:                 query.Unsupported,
	} {
		if got := p.Filter(bind(t, f)); got != want {
			t.Errorf("Filter(%s) = %v, want %v", f, got, want)
		}
	}
	for so, want := range map[string]bool{"": true, "score": true, "-created": true, "name": true, "code": false, "n": false, "score,name": false} {
		if got := p.Sort(mustSort(t, so)); got != want {
			t.Errorf("Sort(%q) = %v, want %v", so, got, want)
		}
	}
}

// TestUniquePoint checks the two-point-read path of a filter that one key
// of a unique index answers, with the positions of a cursor on either side
// of the one record in both directions, and a value no record has.
func TestUniquePoint(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, d := range []*tdoc{
		{ID: "k1", Name: "ann", Emails: []string{"Ann@X.io", "a2@x.io"}, Created: t0},
		{ID: "k2", Name: "bob", Emails: []string{"bob@x.io"}, Created: t0},
	} {
		_, err := s.Create(ctx, "t", tkind, d.ID, d)
		require.NoError(t, err)
	}
	_, err := s.Create(ctx, "other", tkind, "k3", &tdoc{ID: "k3", Name: "cy", Emails: []string{"cy@x.io"}, Created: t0})
	require.NoError(t, err)
	at := func(id string) *backend.Position { return &backend.Position{ID: id} }
	tests := []struct {
		filter  string
		after   *backend.Position
		reverse bool
		want    []string // ids, in order
	}{
		{`emails.value eq "ann@x.io"`, nil, false, []string{"k1"}},
		{`emails.value eq "ANN@x.IO"`, nil, true, []string{"k1"}},
		{`emails.value eq "a2@x.io"`, at("k0"), false, []string{"k1"}},
		{`emails.value eq "a2@x.io"`, at("k1"), false, []string{}},
		{`emails.value eq "a2@x.io"`, at("k2"), false, []string{}},
		{`emails.value eq "a2@x.io"`, at("k2"), true, []string{"k1"}},
		{`emails.value eq "a2@x.io"`, at("k1"), true, []string{}},
		{`emails.value eq "a2@x.io"`, at("k0"), true, []string{}},
		{`name eq "BOB"`, nil, false, []string{"k2"}},
		{`emails.value eq "nobody@x.io"`, nil, false, []string{}},
		{`emails.value eq "cy@x.io"`, nil, false, []string{}}, // another tenant's
		// One key narrows the filter but does not answer it: the rest is
		// still checked.
		{`emails.value eq "ann@x.io" and name co "zz"`, nil, false, []string{}},
		{`emails.value eq "ann@x.io" and name co "nn"`, nil, false, []string{"k1"}},
	}
	for _, tt := range tests {
		q := backend.Query{Kind: tkind, Filter: bind(t, tt.filter), After: tt.after, Reverse: tt.reverse}
		got := collect(t, s, "t", q)
		assert.Equal(t, tt.want, ids(got), "%s after %v reverse %v", tt.filter, tt.after, tt.reverse)
	}
}
