package memory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// The oracle tests compare Query and Count on random data with what
// query.Eval and query.Sort.Compare say, for random filters, sorts and
// positions, in both directions. They cover the index range scans (eq,
// prefix and ranges, folded and case-exact, single and multi-valued, and
// across JSON types under claims), their intersections and unions, the
// fallback scans, and the three ways of sorting.

var (
	userBases  = []string{"ann", "Ann", "ANNA", "bob", "Bob", "straße", "STRASSE", "zoë", "Zoe\u0308", "émile", "E\u0301MILE", "a\x00b", "ß"}
	emailLocal = []string{"ann", "ANN", "bob", "x", "Émile", "a\x00"}
	domains    = []string{"example.com", "Example.COM", "x.io"}
	titles     = []string{"Eng", "eng", "Engineer", "Sales", "sales lead", "ÉCOLE", "école", "ecole"}
	codes      = []string{"A1", "a1", "B2", "b\x00c", "Ab", "ab"}
	levels     = []any{3, "3", 2.5, true, false, "high", "HIGH", json.Number("10"), int64(-1), "h\x00"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

// randomDoc returns a document whose unique keys carry c, so that distinct
// c never clash, while everything else repeats often enough for ties.
func randomDoc(rng *rand.Rand, c int) *doc {
	d := &doc{userName: fmt.Sprintf("%s%04d", pick(rng, userBases), c)}
	for j := range rng.IntN(3) {
		d.emails = append(d.emails, email{
			value: fmt.Sprintf("%s.%d.%d@%s", pick(rng, emailLocal), c, j, pick(rng, domains)),
			typ:   pick(rng, []string{"work", "home"}),
		})
	}
	switch rng.IntN(6) {
	case 1:
		d.age = rng.IntN(10)
	case 2:
		d.age = int64(rng.IntN(10) - 3)
	case 3:
		d.age = float64(rng.IntN(10)) + 0.5
	case 4:
		n, _ := query.ParseNumber(pick(rng, []string{"3.0", "30e-1", "1e1", "2.50"}))
		d.age = n
	case 5:
		d.age = json.Number(pick(rng, []string{"7", "7.0", "-2"}))
	}
	d.created = t0.Add(time.Duration(rng.IntN(20))*time.Hour + time.Duration(rng.IntN(3)))
	if rng.IntN(4) == 0 {
		d.created = d.created.In(time.FixedZone("plus5", 5*3600))
	}
	d.active = rng.IntN(2) == 0
	if rng.IntN(3) > 0 {
		d.title = pick(rng, titles)
	}
	if rng.IntN(2) == 0 {
		d.code = pick(rng, codes)
	}
	if rng.IntN(3) > 0 {
		d.claims = map[string]any{"level": pick(rng, levels)}
	}
	return d
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func randomLeaf(rng *rand.Rand) string {
	ordering := []string{"gt", "ge", "lt", "le"}
	all := []string{"eq", "eq", "sw", "gt", "ge", "lt", "le", "ne", "co", "ew"}
	strs := func(xs ...string) string { return jsonString(pick(rng, xs)) }
	switch rng.IntN(10) {
	case 0:
		return "userName " + pick(rng, all) + " " + strs("ann", "ANN", "ann0003", "STRAS", "strasse", "zoë", "zoe\u0308", "b", "", "émile0", "a\x00", "ß", "ss")
	case 1:
		path := pick(rng, []string{"emails.value", "emails"})
		return path + " " + pick(rng, all) + " " + strs("ann", "ANN.", "x.1", "bob.2.0@example.com", "émile", "a\x00", "")
	case 2:
		return "age " + pick(rng, append([]string{"eq", "ne"}, ordering...)) + " " + pick(rng, []string{"3", "3.0", "2.5", "7", "-1", "1e1", "0"})
	case 3:
		tm := t0.Add(time.Duration(rng.IntN(22)-1) * time.Hour).Format(time.RFC3339Nano)
		if rng.IntN(3) == 0 {
			tm = t0.Add(time.Duration(rng.IntN(22)-1) * time.Hour).In(time.FixedZone("minus3", -3*3600)).Format(time.RFC3339Nano)
		}
		return "created " + pick(rng, append([]string{"eq", "ne"}, ordering...)) + " " + jsonString(tm)
	case 4:
		return "active " + pick(rng, []string{"eq", "ne"}) + " " + pick(rng, []string{"true", "false"})
	case 5:
		return "title " + pick(rng, all) + " " + strs("eng", "ENG", "Sales", "école", "ECOLE", "e", "")
	case 6:
		return "code " + pick(rng, all) + " " + strs("A", "a1", "A1", "b\x00", "B2", "")
	case 7:
		ops := all
		lit := pick(rng, []string{"3", `"3"`, "2.5", "true", `"high"`, `"h"`, "10", "-1", `"H"`})
		if lit == "true" {
			ops = []string{"eq", "ne"}
		} else if !strings.HasPrefix(lit, `"`) {
			ops = append([]string{"eq", "ne"}, ordering...)
		}
		return "claims.level " + pick(rng, ops) + " " + lit
	case 8:
		return pick(rng, []string{`title pr`, `title eq null`, `code ne null`, `emails pr`, `claims.level pr`})
	default:
		return pick(rng, []string{`emails[type eq "work" and value sw "ann"]`, `emails[type eq "home"]`, `emails.type eq "work"`})
	}
}

func randomFilter(rng *rand.Rand, depth int) string {
	if depth == 0 || rng.IntN(3) == 0 {
		return randomLeaf(rng)
	}
	switch rng.IntN(5) {
	case 0, 1:
		return "(" + randomFilter(rng, depth-1) + ") and (" + randomFilter(rng, depth-1) + ")"
	case 2, 3:
		return "(" + randomFilter(rng, depth-1) + ") or (" + randomFilter(rng, depth-1) + ")"
	}
	return "not (" + randomFilter(rng, depth-1) + ")"
}

// model is what the store should hold.
type model struct {
	recs map[string]backend.Record
	gone []backend.Record // deleted records, for positions that no longer exist
}

func (m *model) sorted() []backend.Record {
	out := make([]backend.Record, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b backend.Record) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// matching returns the records e matches, in id order.
func (m *model) matching(e query.Expr) []backend.Record {
	var out []backend.Record
	for _, r := range m.sorted() {
		if query.Eval(e, r.Doc) {
			out = append(out, r)
		}
	}
	return out
}

// ordered returns recs in the order of s with ties broken by id in the
// direction of the last key, from strictly after the position when given,
// backwards when reverse: the contract, written with Sort.Compare alone.
func ordered(s query.Sort, recs []backend.Record, after *backend.Position, reverse bool) []backend.Record {
	type item struct {
		vals []query.Value
		rec  backend.Record
	}
	cmpItems := func(av []query.Value, aid string, bv []query.Value, bid string) int {
		if c := s.Compare(av, bv); c != 0 {
			return c
		}
		c := strings.Compare(aid, bid)
		if len(s) > 0 && s[len(s)-1].Desc {
			c = -c
		}
		return c
	}
	items := make([]item, len(recs))
	for i, r := range recs {
		items[i] = item{vals: s.Values(r.Doc), rec: r}
	}
	slices.SortFunc(items, func(a, b item) int { return cmpItems(a.vals, a.rec.ID, b.vals, b.rec.ID) })
	if reverse {
		slices.Reverse(items)
	}
	var out []backend.Record
	for _, it := range items {
		if after != nil {
			c := cmpItems(it.vals, it.rec.ID, after.Values, after.ID)
			if (!reverse && c <= 0) || (reverse && c >= 0) {
				continue
			}
		}
		out = append(out, it.rec)
	}
	return out
}

func TestQueryMatchesOracle(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { testOracle(t, seed) })
	}
}

func testOracle(t *testing.T, seed uint64) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 42))
	schema := testSchema()
	s := newStore(t)
	m := &model{recs: map[string]backend.Record{}}

	const n = 400
	c := 0
	for _, i := range rng.Perm(n) {
		id := fmt.Sprintf("%s%04d", pick(rng, []string{"a", "B", "c"}), i)
		c++
		rec, err := s.Create(ctx, "acme", kindName, id, randomDoc(rng, c))
		require.NoError(t, err)
		m.recs[id] = rec
	}
	// Rewrite and delete some, so that the indexes have seen changes.
	for range n / 2 {
		all := m.sorted()
		r := pick(rng, all)
		if rng.IntN(3) == 0 {
			require.NoError(t, s.Delete(ctx, "acme", kindName, r.ID, r.Version))
			delete(m.recs, r.ID)
			m.gone = append(m.gone, r)
			continue
		}
		c++
		rec, err := s.Replace(ctx, "acme", kindName, r.ID, randomDoc(rng, c), r.Version)
		require.NoError(t, err)
		m.recs[r.ID] = rec
	}
	// Another tenant's records must never show.
	for i := range 50 {
		c++
		_, err := s.Create(ctx, "other", kindName, fmt.Sprintf("a%04d", i), randomDoc(rng, c))
		require.NoError(t, err)
	}

	sorts := []string{"userName", "-userName", "created", "-created", "title", "-title", "age", "-code", "claims.level", "active", "userName,-created", ""}
	pd := s.Pushdown(kindName)
	for range 400 {
		text := randomFilter(rng, 3)
		e, err := query.Parse(text)
		require.NoError(t, err, text)
		f, err := query.Bind(e, schema)
		if err != nil {
			continue // a random combination the binder rejects
		}
		want := m.matching(f)

		got := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: f}))
		require.Equal(t, ids(want), ids(got), "filter %s", text)
		require.Equal(t, want, got, "filter %s", text)

		cnt, err := s.Count(ctx, "acme", backend.Query{Kind: kindName, Filter: f})
		require.NoError(t, err)
		require.Equal(t, len(want), cnt, "count %s", text)

		// What the planner would push down returns exactly the records
		// the pushed part matches.
		plan := query.PlanQuery(f, nil, pd)
		pushed := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: plan.Pushed}))
		require.Equal(t, ids(m.matching(plan.Pushed)), ids(pushed), "pushed %s of %s", query.Canonical(plan.Pushed), text)
		if plan.Exact {
			require.Equal(t, ids(want), ids(pushed), "exact pushed %s of %s", query.Canonical(plan.Pushed), text)
			cnt, err := s.Count(ctx, "acme", backend.Query{Kind: kindName, Filter: plan.Pushed})
			require.NoError(t, err)
			require.Equal(t, len(want), cnt, "count pushed %s", text)
		}

		for range 4 {
			spec := pick(rng, sorts)
			srt, err := query.ParseSort(spec, schema)
			require.NoError(t, err)
			var after *backend.Position
			switch rng.IntN(4) {
			case 1, 2:
				r := pick(rng, m.sorted())
				if len(m.gone) > 0 && rng.IntN(3) == 0 {
					r = pick(rng, m.gone)
				}
				after = &backend.Position{Values: srt.Values(r.Doc), ID: r.ID}
			case 3:
				after = &backend.Position{Values: make([]query.Value, len(srt)), ID: pick(rng, []string{"a0100", "zzz", ""})}
			}
			reverse := rng.IntN(2) == 0
			q := backend.Query{Kind: kindName, Filter: f, Sort: srt, After: after, Reverse: reverse}
			got := collect(t, s.Query(ctx, "acme", q))
			require.Equal(t, ids(ordered(srt, want, after, reverse)), ids(got),
				"filter %s sort %q after %v reverse %v: %s", text, spec, after, reverse, s.Explain("acme", q))

			// The same query prepared, and run by Visit.
			pq := s.Prepare(backend.Query{Kind: kindName, Filter: f, Sort: srt})
			pq.After, pq.Reverse = after, reverse
			var visited []backend.Record
			require.NoError(t, s.Visit(ctx, "acme", pq, func(r backend.Record) bool {
				visited = append(visited, r)
				return true
			}))
			require.Equal(t, ids(got), ids(visited), "visit: filter %s sort %q after %v reverse %v", text, spec, after, reverse)
		}
	}
}

// TestSortedPaging pages through every sort in both directions with
// keyset positions, as the directory does, and checks that the pages join
// up to the whole order.
func TestSortedPaging(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	schema := testSchema()
	s := newStore(t)
	m := &model{recs: map[string]backend.Record{}}
	for i := range 300 {
		rec, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%04d", rng.IntN(1_000_000)*1000+i), randomDoc(rng, i))
		require.NoError(t, err)
		m.recs[rec.ID] = rec
	}
	filters := []string{"", `userName sw "a"`, `active eq true`, `created ge "2024-05-01T15:00:00Z"`, `title co "e"`}
	for _, spec := range []string{"", "userName", "-userName", "created", "-created", "title"} {
		srt, err := query.ParseSort(spec, schema)
		require.NoError(t, err)
		for _, ftext := range filters {
			var f query.Expr
			if ftext != "" {
				f = bind(t, schema, ftext)
			}
			want := ordered(srt, m.matching(f), nil, false)
			for _, reverse := range []bool{false, true} {
				var (
					all   []backend.Record
					after *backend.Position
				)
				for {
					var page []backend.Record
					for r, err := range s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: f, Sort: srt, After: after, Reverse: reverse}) {
						require.NoError(t, err)
						page = append(page, r)
						if len(page) == 7 {
							break
						}
					}
					all = append(all, page...)
					if len(page) < 7 {
						break
					}
					last := page[len(page)-1]
					after = &backend.Position{Values: srt.Values(last.Doc), ID: last.ID}
				}
				w := slices.Clone(want)
				if reverse {
					slices.Reverse(w)
				}
				require.Equal(t, ids(w), ids(all), "sort %q filter %q reverse %v", spec, ftext, reverse)
			}
		}
	}
}

// TestFoldedPrefix checks prefix scans on folded and case-exact strings
// with characters that fold to several, decomposed accents and NUL bytes.
func TestFoldedPrefix(t *testing.T) {
	ctx := context.Background()
	schema := testSchema()
	s := newStore(t)
	names := []string{"Straße", "STRASSER", "strasbourg", "Zoë", "Zoe\u0308y", "zoe", "a\x00b", "a\x00", "a", "ab", "É", "e"}
	for i, n := range names {
		d := user(n)
		d.code = n
		_, err := s.Create(ctx, "acme", kindName, fmt.Sprintf("u%02d", i), d)
		require.NoError(t, err)
	}
	m := &model{recs: map[string]backend.Record{}}
	for _, r := range collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName})) {
		m.recs[r.ID] = r
	}
	pd := s.Pushdown(kindName)
	for _, attr := range []string{"userName", "code"} {
		for _, p := range []string{"", "STRASS", "strasse", "straß", "zoë", "ZOE\u0308", "zoe", "a\x00", "a\x00b", "a", "é", "e\u0301", "E"} {
			for _, op := range []string{"sw", "eq", "gt", "le"} {
				text := attr + " " + op + " " + jsonString(p)
				f := bind(t, schema, text)
				require.Equal(t, query.Exact, pd.Filter(f), text)
				got := collect(t, s.Query(ctx, "acme", backend.Query{Kind: kindName, Filter: f}))
				require.Equal(t, ids(m.matching(f)), ids(got), text)
			}
		}
	}
}

var _ backend.Backend = memory.New()
