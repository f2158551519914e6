package memory

import (
	"bytes"
	"context"
	"iter"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// ctxEvery is how many rows a scan visits between checks of its context:
// often enough to stop a long scan promptly, rarely enough to cost nothing.
const ctxEvery = 256

// A filter is served in one of two ways. When its index ranges are
// selective, its rows are collected from the indexes and then ordered.
// Otherwise the primary or the sort index is walked in order and each row
// is tested against the ranges with the index keys it keeps, which costs no
// tree lookups and stops as soon as the consumer does. sparse bounds the
// share of the table a selective filter may select: a larger share is
// cheaper to walk than to collect.
const sparse = 8

// selective reports whether a's ranges hold fewer than limit entries,
// counting no further than that. limit is at least 1.
func (t *table) selective(a *access, limit int) bool {
	return t.estimate(a, max(limit, 1)) < max(limit, 1)
}

// estimate returns an upper bound of the rows a selects, or limit when
// that is at least limit. A multi-valued attribute's entries are counted
// once per value.
func (t *table) estimate(a *access, limit int) int {
	if a.l == nil {
		n := 0
		t.ascend(a.leaf, func(*row) bool {
			n++
			return n < limit
		})
		return n
	}
	l := t.estimate(a.l, limit)
	if a.and {
		if l < limit {
			return l
		}
		return t.estimate(a.r, limit)
	}
	if l >= limit {
		return limit
	}
	return l + t.estimate(a.r, limit-l)
}

// pageLimit is the selectivity limit for a Query, which usually stops after
// a page: walking finds a page among n rows of which k match in about
// page*n/k steps, collecting costs about k steps and a sort, so collecting
// pays off only below about the square root of n.
func pageLimit(n int) int {
	return min(n/sparse, 8*int(math.Sqrt(float64(n))))
}

// access is how a filter is answered from the indexes: a leaf range, or
// the intersection (and) or union (or) of two accesses.
type access struct {
	leaf leaf
	and  bool
	l, r *access // nil for a leaf
}

// plan returns how to narrow e with the indexes, or nil when e needs a
// scan, and the residual: what the rows the access finds must still be
// checked against (nil when the access answers e exactly, as for a nil e:
// every row). query.PlanQuery splits e between what the indexes answer
// exactly and the rest. Every way a run uses an access (its rows
// collected, or each row tested with matches) keeps exactly the rows in
// its ranges, so `emails.value eq "x" and status ne "deleted"` checks only
// the status of the one row the index finds.
func (kd *kindDef) plan(e query.Expr) (*access, query.Expr) {
	pl := query.PlanQuery(e, nil, kd.ranges)
	if a, ok := kd.access(pl.Pushed); ok {
		return a, pl.Residual
	}
	return nil, e
}

// access returns the index ranges that select exactly the rows matching
// e, an and/or of comparisons an index answers (what query.PlanQuery
// pushes to backend.IndexPushdown), or nil for a nil e. It reports false
// for anything else.
func (kd *kindDef) access(e query.Expr) (*access, bool) {
	switch n := e.(type) {
	case nil:
		return nil, true
	case *query.Compare:
		l, ok := kd.leaf(n)
		return &access{leaf: l}, ok
	case *query.And:
		if n != nil {
			return kd.pair(true, n.Left, n.Right)
		}
	case *query.Or:
		if n != nil {
			return kd.pair(false, n.Left, n.Right)
		}
	}
	return nil, false
}

// pair returns the intersection (and) or union of the accesses of l and r.
func (kd *kindDef) pair(and bool, l, r query.Expr) (*access, bool) {
	la, lok := kd.access(l)
	ra, rok := kd.access(r)
	if !lok || !rok || la == nil || ra == nil {
		return nil, false
	}
	return &access{and: and, l: la, r: ra}, true
}

var _ backend.Preparer = (*Store)(nil)

// prepared is a query's filter and sort with the filter's plan, made
// against one definition of its kind. It is immutable.
type prepared struct {
	kd     *kindDef
	filter query.Expr
	sort   query.Sort
	a      *access        // see plan
	rest   query.Expr     // the plan's residual; nil when a answers the filter exactly
	m      *query.Matcher // rest compiled
}

// Prepare returns q with its filter's plan (the index ranges, their
// value keys encoded) in q.Prepared, for Query, Visit and Count to reuse.
// The plan depends only on the kind's definition and the filter, never on
// a tenant's data.
func (s *Store) Prepare(q backend.Query) backend.Query {
	if kd := (*s.kinds.Load())[q.Kind]; kd != nil {
		q.Prepared = kd.prepare(&q)
	}
	return q
}

// prepare returns q's prepared plan when Prepare made it for kd, q's
// filter and a sort with the same keys as q's, and a new one otherwise.
func (kd *kindDef) prepare(q *backend.Query) *prepared {
	if p, ok := kd.prepared(q); ok && slices.Equal(p.sort, q.Sort) {
		return p
	}
	p := &prepared{kd: kd, filter: q.Filter, sort: slices.Clone(q.Sort)}
	p.a, p.rest = kd.plan(q.Filter)
	if p.rest != nil {
		p.m = query.Compile(p.rest)
	}
	return p
}

// prepared returns q's prepared plan when Prepare made it for kd and q's
// filter, whatever its sort: what Count needs, since a count is the same
// in any order.
func (kd *kindDef) prepared(q *backend.Query) (*prepared, bool) {
	p, ok := q.Prepared.(*prepared)
	return p, ok && p.kd == kd && p.filter == q.Filter
}

// rows returns the rows a access selects, ordered by id. An and collects
// its more selective side (as estimated up to limit entries) and keeps the
// rows the other side matches, so that a narrow condition next to a broad
// one costs what the narrow one costs.
func (t *table) rows(ctx context.Context, a *access, limit int) ([]*row, error) {
	if a.l == nil {
		return t.scan(ctx, a.leaf)
	}
	if a.and {
		small, other := a.l, a.r
		if t.estimate(a.r, limit) < t.estimate(a.l, limit) {
			small, other = a.r, a.l
		}
		rows, err := t.rows(ctx, small, limit)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(rows, func(w *row) bool { return !other.matches(w) }), nil
	}
	l, err := t.rows(ctx, a.l, limit)
	if err != nil {
		return nil, err
	}
	r, err := t.rows(ctx, a.r, limit)
	if err != nil {
		return nil, err
	}
	return union(l, r), nil
}

// scan returns the rows with an entry in the leaf's range, ordered by id
// and each once (a multi-valued attribute gives a row several entries).
func (t *table) scan(ctx context.Context, l leaf) ([]*row, error) {
	out, _, err := t.collect(ctx, l, -1)
	return out, err
}

// collect is scan stopping at limit entries (none when limit < 0); it
// reports whether it saw the whole range, and returns no rows when it did
// not.
func (t *table) collect(ctx context.Context, l leaf, limit int) ([]*row, bool, error) {
	var (
		out []*row
		err error
		n   int
	)
	complete := true
	visit := func(w *row) bool {
		if n == limit {
			complete = false
			return false
		}
		if n++; n%ctxEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		out = append(out, w)
		return true
	}
	t.ascend(l, visit)
	if err != nil {
		return nil, false, err
	}
	if !complete {
		return nil, false, nil
	}
	if !l.point {
		// Entries of one value come in id order; across values they do not.
		slices.SortFunc(out, byID)
		out = slices.CompactFunc(out, sameID)
	}
	return out, true, nil
}

// ascend visits the rows of the entries in the leaf's range, in entry
// order. One value of a unique index is found through its hash trie.
func (t *table) ascend(l leaf, visit func(*row) bool) {
	if w, ok := t.holder(l); ok {
		if w != nil {
			visit(w)
		}
		return
	}
	tree := t.indexes[l.ix]
	switch {
	case l.point:
		tree.AscendGreaterOrEqual(entry{key: l.lo}, func(e entry) bool { return e.key == l.lo && visit(e.r) })
	case l.open:
		tree.AscendGreaterOrEqual(entry{key: l.lo}, func(e entry) bool { return visit(e.r) })
	case l.lo < l.hi:
		tree.AscendRange(entry{key: l.lo}, entry{key: l.hi}, func(e entry) bool { return visit(e.r) })
	}
}

// holder returns, when the leaf is one value of a unique index, the row
// holding it (nil for none), found through the index's hash trie, and
// whether it is.
func (t *table) holder(l leaf) (w *row, ok bool) {
	if !l.point || t.unique[l.ix].empty() {
		return nil, false
	}
	return t.owner(l.ix, l.lo), true
}

// matches reports whether the row has an entry in a's ranges, from the
// keys the row keeps: the answer the index scans give, without them.
func (a *access) matches(w *row) bool {
	if a.l == nil {
		l := a.leaf
		for k := range w.keysAt(l.ix).all {
			if l.holds(k) {
				return true
			}
		}
		return false
	}
	if a.and {
		return a.l.matches(w) && a.r.matches(w)
	}
	return a.l.matches(w) || a.r.matches(w)
}

func byID(a, b *row) int { return strings.Compare(a.rec.ID, b.rec.ID) }

func sameID(a, b *row) bool { return a.rec.ID == b.rec.ID }

// union returns the rows in either id-ordered list, each once.
func union(a, b []*row) []*row {
	out := make([]*row, 0, max(len(a), len(b)))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := byID(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// Query returns the records of q.Kind that satisfy q.Filter from the
// tenant's snapshot at the time of the call, in q.Sort order when set and
// in id order otherwise; q.After and q.Reverse apply to the id order too.
func (s *Store) Query(ctx context.Context, tenant string, q backend.Query) iter.Seq2[backend.Record, error] {
	kd, err := s.begin(ctx, "query", q.Kind, "")
	if err != nil {
		return func(yield func(backend.Record, error) bool) { yield(backend.Record{}, err) }
	}
	tb := s.table(tenant, kd)
	if tb == nil {
		return func(yield func(backend.Record, error) bool) {
			if err := ctx.Err(); err != nil {
				yield(backend.Record{}, err)
			}
		}
	}
	// The sequence keeps what it needs of q in few words, its prepared
	// plan and q.After, since every list allocates it; q.Reverse chooses
	// the function rather than take a word of its own.
	p, after := kd.prepare(&q), q.After
	if q.Reverse {
		return func(yield func(backend.Record, error) bool) { execute(ctx, tb, p, after, true, yield) }
	}
	return func(yield func(backend.Record, error) bool) { execute(ctx, tb, p, after, false, yield) }
}

// execute runs a query over the table tb, calling yield with its records
// and then with the error that ended it, if any.
func execute(ctx context.Context, tb *table, p *prepared, after *backend.Position, reverse bool, yield func(backend.Record, error) bool) {
	if err := ctx.Err(); err != nil {
		yield(backend.Record{}, err)
		return
	}
	r := &run{ctx: ctx, p: p, tb: tb, after: after, reverse: reverse, yield: yield}
	r.exec()
	if r.err != nil {
		yield(backend.Record{}, r.err)
	}
}

var _ backend.Visitor = (*Store)(nil)

// Visit runs q as Query does, calling fn with each record, and returns
// the error that ended the query, if any. It allocates no sequence.
func (s *Store) Visit(ctx context.Context, tenant string, q backend.Query, fn func(backend.Record) bool) error {
	kd, err := s.begin(ctx, "query", q.Kind, "")
	if err != nil {
		return err
	}
	tb := s.table(tenant, kd)
	if tb == nil {
		return nil
	}
	r := &run{ctx: ctx, p: kd.prepare(&q), tb: tb, after: q.After, reverse: q.Reverse, fn: fn}
	r.exec()
	return r.err
}

// run is one execution of a Query or Visit over one table snapshot.
type run struct {
	ctx     context.Context
	p       *prepared
	tb      *table
	after   *backend.Position
	reverse bool
	// The consumer: yield for a sequence, fn for a visit.
	yield func(backend.Record, error) bool
	fn    func(backend.Record) bool

	match *access // when set, rows are tested against its ranges
	check bool    // evaluate the plan's residual on each row: the indexes only narrowed it
	n     int     // rows visited, for the periodic context check
	done  bool    // the consumer stopped, or the run failed
	err   error   // why the run failed
}

func (r *run) exec() {
	a := r.p.a
	r.check = r.p.rest != nil
	var (
		cand []*row
		have bool // cand holds the candidate rows, in id order
		one  [1]*row
		w    *row
		held bool // a is one value of a unique index, held by w (or none)
	)
	if a != nil && a.l == nil {
		w, held = r.tb.holder(a.leaf)
	}
	switch {
	case held && w == nil:
		return
	case held:
		one[0] = w
		cand, have = one[:], true
	case a != nil && a.l == nil:
		// One range: collect it, unless it turns out not to be selective
		// (it holds pageLimit entries or more);
		// counting it first would walk it twice.
		c, ok, err := r.tb.collect(r.ctx, a.leaf, max(pageLimit(r.tb.len()), 1)-1)
		switch {
		case err != nil:
			r.fail(err)
			return
		case !ok:
			r.match = a
		case len(c) == 0:
			return
		default:
			cand, have = c, true
		}
	case a != nil:
		if limit := pageLimit(r.tb.len()); r.tb.selective(a, limit) {
			var err error
			if cand, err = r.tb.rows(r.ctx, a, limit); err != nil {
				r.fail(err)
				return
			}
			if len(cand) == 0 {
				return
			}
			have = true
		} else {
			r.match = a
		}
	}
	ix, indexed := r.p.kd.sortIndex(r.p.sort)
	switch {
	case len(r.p.sort) == 0:
		r.byID(have, cand)
	case indexed && r.tb.keyless[ix] == 0 && !have:
		r.byIndex(ix)
	default:
		// A few rows, or rows without a value that the index does not
		// list, or a sort no index gives: sort in memory, with the
		// evaluator's own order.
		r.inMemory(have, cand)
	}
}

// tick counts a visited row and checks the context now and then. It
// reports whether to go on.
func (r *run) tick() bool {
	if r.n++; r.n%ctxEvery == 0 {
		if err := r.ctx.Err(); err != nil {
			r.fail(err)
			return false
		}
	}
	return true
}

// fail ends the run with err, unless the consumer stopped it first.
func (r *run) fail(err error) {
	if !r.done {
		r.done = true
		r.err = err
	}
}

// keep reports whether a visited row satisfies the filter.
func (r *run) keep(w *row) bool {
	return (r.match == nil || r.match.matches(w)) && (!r.check || r.p.m.Match(w.rec.Doc))
}

// emit offers a visited row to the consumer when it satisfies the filter.
// It reports whether to go on.
func (r *run) emit(w *row) bool {
	if r.done || !r.tick() {
		return false
	}
	if !r.keep(w) {
		return true
	}
	if !r.give(w.rec) {
		r.done = true
		return false
	}
	return true
}

// give hands a record to the consumer and reports whether it wants more.
func (r *run) give(rec backend.Record) bool {
	if r.fn != nil {
		return r.fn(rec)
	}
	return r.yield(rec, nil)
}

// byID yields the matching rows in id order from q.After, backwards when
// q.Reverse: the candidates when have, else a walk of the primary tree.
func (r *run) byID(have bool, cand []*row) {
	after, hasAfter := "", r.after != nil
	if hasAfter {
		after = r.after.ID
	}
	if !have {
		cand = r.tb.flatRows()
		have = cand != nil
	}
	if have {
		if !r.reverse {
			i := 0
			if hasAfter {
				i = sort.Search(len(cand), func(i int) bool { return cand[i].rec.ID > after })
			}
			for ; i < len(cand) && r.emit(cand[i]); i++ {
			}
			return
		}
		j := len(cand)
		if hasAfter {
			j = sort.Search(len(cand), func(i int) bool { return cand[i].rec.ID >= after })
		}
		for j--; j >= 0 && r.emit(cand[j]); j-- {
		}
		return
	}
	visit := func(it rowItem) bool {
		if hasAfter && it.id == after {
			return true
		}
		return r.emit(it.r)
	}
	switch {
	case !r.reverse && hasAfter:
		r.tb.primary.AscendGreaterOrEqual(rowItem{id: after}, visit)
	case !r.reverse:
		r.tb.primary.Ascend(visit)
	case hasAfter:
		r.tb.primary.DescendLessOrEqual(rowItem{id: after}, visit)
	default:
		r.tb.primary.Descend(visit)
	}
	if !hasAfter && !r.done {
		r.tb.walked.Store(true)
	}
}

// byIndex walks the sort index, which lists every row exactly once in
// (value, id) order: forwards for an ascending sort, backwards for a
// descending one, and the other way when q.Reverse.
func (r *run) byIndex(ix int) {
	backward := r.p.sort[0].Desc != r.reverse
	var pivot entry
	hasPivot := false
	if p := r.after; p != nil {
		if len(p.Values) == 0 || p.Values[0].Kind == query.KindNull {
			// A position among rows without a value, which sort last in
			// both directions; the index holds none of them now, so every
			// row comes before the position and none after it.
			if !r.reverse {
				return
			}
		} else {
			k := query.AppendKey(nil, p.Values[0], r.p.kd.indexes[ix].Attr.CaseExact)
			pivot = entry{key: string(k), r: &row{rec: backend.Record{ID: p.ID}}}
			hasPivot = true
		}
	}
	visit := func(e entry) bool {
		if hasPivot && e.key == pivot.key && e.r.rec.ID == pivot.r.rec.ID {
			return true
		}
		return r.emit(e.r)
	}
	tree := r.tb.indexes[ix]
	switch {
	case !backward && hasPivot:
		tree.AscendGreaterOrEqual(pivot, visit)
	case !backward:
		tree.Ascend(visit)
	case hasPivot:
		tree.DescendLessOrEqual(pivot, visit)
	default:
		tree.Descend(visit)
	}
}

// inMemory sorts the matching rows by q.Sort's own key encoding, which
// orders exactly as query.Sort.Compare with ties broken by id, and yields
// them from q.After.
func (r *run) inMemory(have bool, cand []*row) {
	type keyed struct {
		key []byte
		r   *row
	}
	var ks []keyed
	if !have {
		var err error
		if cand, err = r.tb.flatten(r.ctx); err != nil {
			r.fail(err)
			return
		}
		have = cand != nil
	}
	add := func(w *row) bool {
		if !r.tick() {
			return false
		}
		if r.keep(w) {
			ks = append(ks, keyed{key: r.p.sort.AppendKey(nil, r.p.sort.Values(w.rec.Doc), w.rec.ID), r: w})
		}
		return true
	}
	if have {
		for _, w := range cand {
			if !add(w) {
				return
			}
		}
	} else {
		r.tb.primary.Ascend(func(it rowItem) bool { return add(it.r) })
		if r.done {
			return
		}
		r.tb.walked.Store(true)
	}
	slices.SortFunc(ks, func(a, b keyed) int { return bytes.Compare(a.key, b.key) })
	r.match, r.check = nil, false

	var pk []byte
	if p := r.after; p != nil {
		pk = r.p.sort.AppendKey(nil, p.Values, p.ID)
	}
	if !r.reverse {
		i := 0
		if pk != nil {
			i = sort.Search(len(ks), func(i int) bool { return bytes.Compare(ks[i].key, pk) > 0 })
		}
		for ; i < len(ks) && r.emit(ks[i].r); i++ {
		}
		return
	}
	j := len(ks)
	if pk != nil {
		j = sort.Search(len(ks), func(i int) bool { return bytes.Compare(ks[i].key, pk) >= 0 })
	}
	for j--; j >= 0 && r.emit(ks[j].r); j-- {
	}
}

// Count returns how many records of q.Kind satisfy q.Filter, from the
// index entries alone when the filter is answered exactly.
func (s *Store) Count(ctx context.Context, tenant string, q backend.Query) (int, error) {
	kd, err := s.begin(ctx, "count", q.Kind, "")
	if err != nil {
		return 0, err
	}
	tb := s.table(tenant, kd)
	if tb == nil {
		return 0, nil
	}
	p, ok := kd.prepared(&q)
	if !ok {
		p = kd.prepare(&q)
	}
	a, exact := p.a, p.rest == nil
	if a == nil && exact {
		return tb.len(), nil
	}
	// Counting visits every match, so collecting pays off up to a larger
	// share of the table than for a page.
	if limit := tb.len() / sparse; a != nil && tb.selective(a, limit) {
		rows, err := tb.rows(ctx, a, limit)
		if err != nil {
			return 0, err
		}
		if exact {
			return len(rows), nil
		}
		return p.count(ctx, rows, nil)
	}
	rows, err := tb.flatten(ctx)
	switch {
	case err != nil:
		return 0, err
	case rows != nil:
		return p.count(ctx, rows, a)
	}
	n, visited := 0, 0
	tb.primary.Ascend(func(it rowItem) bool {
		if visited++; visited%ctxEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		if p.holds(a, it.r) {
			n++
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	tb.walked.Store(true)
	return n, nil
}

// count returns how many of rows satisfy the filter (see holds).
func (p *prepared) count(ctx context.Context, rows []*row, match *access) (int, error) {
	n := 0
	for i, w := range rows {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		if p.holds(match, w) {
			n++
		}
	}
	return n, nil
}

// holds reports whether the row w satisfies the filter, where match is
// the plan's access when w may lie outside its ranges and nil when w was
// found through them.
func (p *prepared) holds(match *access, w *row) bool {
	return (match == nil || match.matches(w)) && p.m.Match(w.rec.Doc)
}
