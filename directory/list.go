package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// DeletedMode says whether a list includes soft-deleted users.
type DeletedMode int

// The deleted-user modes of a list.
const (
	ExcludeDeleted DeletedMode = iota // the default: deleted users are hidden
	IncludeDeleted                    // deleted users are listed with the others
	OnlyDeleted                       // only deleted users are listed
)

// Page sizes (DESIGN §3).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// ListOptions selects, orders and pages users, and every other list of
// the directory (roles, groups, members, invitations, credentials, audit
// entries), whose filters and sorts name the attributes of their own
// kind. Deleted, IncludeRoles and projection apply to users only.
type ListOptions struct {
	// Filter is a SCIM filter (RFC 7644 §3.4.2.2), "" for every user.
	Filter string
	// Where is a filter built with the query package's builder; when both
	// are set a user must match both.
	Where query.Expr
	// Sort is a comma-separated list of attributes, each optionally
	// prefixed by '-' for descending ("-meta.created,userName"). Ties are
	// broken by id. The default order is by id, which for generated ids is
	// creation order.
	Sort string
	// Limit is the page size, 1 to 1000; 0 means 100.
	Limit int
	// Cursor continues from a page's Next or Prev.
	Cursor string
	// StartIndex selects SCIM offset paging (1-based); it cannot be
	// combined with Cursor. Offset paging skips or repeats users when
	// others are written between pages; cursors never do.
	StartIndex int
	// Attributes and ExcludedAttributes project the returned users (at
	// most one may be set). id and schemas are always returned.
	Attributes, ExcludedAttributes string
	// Total asks for the number of all matching users, which costs a
	// second pass over them.
	Total bool
	// Deleted says whether deleted users are listed.
	Deleted DeletedMode
	// IncludeRoles side-loads the roles the page's users name, with their
	// permissions, into Page.Roles: one more query per page, whatever the
	// number of users (no N+1).
	IncludeRoles bool
}

// Page is one page of a list.
type Page struct {
	Users []User
	// Next and Prev continue the list forwards and backwards; empty at
	// the ends (and always empty with offset paging).
	Next, Prev string
	// Total is the number of all matching users, when asked for.
	Total *int
	// Roles are the roles the page's users name, by id, when
	// ListOptions.IncludeRoles asked for them. A role a user names that no
	// longer exists is left out.
	Roles []Role
}

// PageOf is one page of a list of roles, groups, members, invitations,
// credentials or audit entries.
type PageOf[T any] struct {
	Items []T
	// Next and Prev continue the list forwards and backwards; empty at
	// the ends (and always empty with offset paging).
	Next, Prev string
	// Total is the number of all matching items, when asked for.
	Total *int
}

// prepared is a list request parsed, bound and planned once. What only
// some lists need (the canonical form for the result cache and cursors, a
// cursor's fingerprint, the whole filter compiled) is made on first use,
// so a request that never needs it, such as a lookup whose plan is not
// cached, does not pay for it.
//
// A prepared request belongs to no tenant: the plan cache shares it among
// every tenant that sends the same request, and the tenant is given with
// each use.
type prepared struct {
	ki     *kindInfo
	filter query.Expr // bound, with the mandatory conditions
	sort   query.Sort
	plan   query.Plan
	// residual is plan.Residual compiled, checked on every record the
	// backend returns.
	residual *query.Matcher
	query    backend.Query // what the backend runs: the pushed filter and sort, prepared
	proj     query.Projection

	canonOnce sync.Once
	canon     string                      // see canonical
	fp        atomic.Pointer[tenantPrint] // see fingerprint
	matchOnce sync.Once
	match     *query.Matcher // see matcher
}

// canonical returns the canonical form of the request's filter and sort,
// which keys its cached results and its cursors' fingerprint.
func (p *prepared) canonical() string {
	p.canonOnce.Do(func() { p.canon = query.Canonical(p.filter) + "\x00" + p.sort.String() })
	return p.canon
}

// tenantPrint is a request's cursor fingerprint in one tenant.
type tenantPrint struct {
	tenant string
	fp     []byte
}

// fingerprint returns the cursor fingerprint of the request in tenant: the
// tenant, kind and canonical form, hashed. The last tenant's is kept, so
// that the pages of one tenant's list hash it once.
func (p *prepared) fingerprint(tenant string) []byte {
	if t := p.fp.Load(); t != nil && t.tenant == tenant {
		return t.fp
	}
	t := &tenantPrint{tenant: tenant, fp: fingerprint(tenant, p.ki.kind.Name, p.canonical())}
	p.fp.Store(t)
	return t.fp
}

// matcher returns the whole filter compiled, for the one record a cursor
// position names.
func (p *prepared) matcher() *query.Matcher {
	p.matchOnce.Do(func() { p.match = query.Compile(p.filter) })
	return p.match
}

// prepare parses, binds and plans a list of the kind ki. The
// mandatory conditions in extra (unbound; the deleted-users mode, the user
// whose credentials are listed) are and-ed with the caller's filter, and
// are part of the canonical query, so cursors and cache entries are bound
// to them too.
//
// Requests given as text (no Where) go through the plan cache, whatever
// their tenant: one prepared twice lately is kept and then taken from it.
// A prepared request is shared, and what it makes on first use (see
// prepared) it makes once.
func (d *Directory) prepare(ki *kindInfo, opts ListOptions, extra ...query.Expr) (*prepared, error) {
	if opts.Where != nil {
		return d.prepareNew(ki, opts, condition{expr: allOf(extra...)})
	}
	return d.prepareCached(ki, opts, conditionOf(allOf(extra...)))
}

// condition is a mandatory condition of a list, unbound (nil for none),
// with its canonical form, which names it in the plan cache. bound, when
// set, is expr already bound against the kind's schema, so that preparing
// a request binds only the caller's filter: binding is compositional, so
// the bound filter is the same tree either way.
type condition struct {
	expr  query.Expr
	canon string
	bound query.Expr
}

func conditionOf(e query.Expr) condition {
	return condition{expr: e, canon: query.Canonical(e)}
}

// prepareCached is prepare for a request given as text, through the plan
// cache, with the mandatory condition cond. A hit costs no parsing, no
// canonical form and no allocation.
func (d *Directory) prepareCached(ki *kindInfo, opts ListOptions, cond condition) (*prepared, error) {
	key := planKey{kind: ki.kind.Name, filter: opts.Filter, sort: opts.Sort,
		attributes: opts.Attributes, excluded: opts.ExcludedAttributes, conditions: cond.canon}
	if p, ok := d.cache.plans.get(key); ok {
		return p, nil
	}
	p, err := d.prepareNew(ki, opts, cond)
	if err != nil {
		return nil, err
	}
	d.cache.plans.offer(key, p)
	return p, nil
}

// prepareNew is prepare without the plan cache, with the mandatory
// condition cond.
func (d *Directory) prepareNew(ki *kindInfo, opts ListOptions, cond condition) (*prepared, error) {
	var exprs []query.Expr
	if opts.Filter != "" {
		e, err := query.ParseWithLimits(opts.Filter, d.limits)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
	}
	if opts.Where != nil {
		exprs = append(exprs, opts.Where)
	}
	if cond.bound == nil {
		exprs = append(exprs, cond.expr)
	}
	p := &prepared{ki: ki}
	if filter := allOf(exprs...); filter != nil {
		b, err := query.Bind(filter, ki.schema)
		if err != nil {
			return nil, err
		}
		p.filter = b
	}
	if cond.bound != nil {
		p.filter = allOf(p.filter, cond.bound)
	}
	if opts.Sort != "" {
		s, err := query.ParseSort(opts.Sort, ki.schema)
		if err != nil {
			return nil, err
		}
		p.sort = s
	}
	if opts.Attributes != "" || opts.ExcludedAttributes != "" {
		if !ki.projectable {
			return nil, fieldErr("attributes", "%s cannot be projected", ki.kind.Name)
		}
		pr, err := query.ParseProjection(opts.Attributes, opts.ExcludedAttributes, ki.schema)
		if err != nil {
			return nil, err
		}
		p.proj = pr
	}
	p.plan = query.PlanQuery(p.filter, p.sort, d.pushdown(ki))
	p.residual = query.Compile(p.plan.Residual)
	p.query = backend.Query{Kind: ki.kind.Name, Filter: p.plan.Pushed}
	if p.plan.SortPushed {
		p.query.Sort = p.sort
	}
	if b, ok := d.b.(backend.Preparer); ok {
		p.query = b.Prepare(p.query)
	}
	return p, nil
}

// allOf and-s exprs together, left to right; nil when there are none.
func allOf(exprs ...query.Expr) query.Expr {
	var out query.Expr
	for _, e := range exprs {
		switch {
		case e == nil:
		case out == nil:
			out = e
		default:
			out = &query.And{Left: out, Right: e}
		}
	}
	return out
}

// anyOf or-s exprs together as a balanced tree, so that a long list of
// alternatives (ids of the roles a page names) nests only logarithmically;
// nil when there are none.
func anyOf(exprs ...query.Expr) query.Expr {
	switch len(exprs) {
	case 0:
		return nil
	case 1:
		return exprs[0]
	}
	mid := len(exprs) / 2
	return &query.Or{Left: anyOf(exprs[:mid]...), Right: anyOf(exprs[mid:]...)}
}

// eq is the unbound condition "attr eq value" for a string value. attr is
// a dotted path of the kind's schema.
func eq(attr, value string) query.Expr {
	return &query.Compare{Path: query.Path{Names: strings.Split(attr, ".")}, Op: query.OpEq, Value: query.Value{Kind: query.KindString, Str: value}}
}

// ne is the unbound condition "attr ne value" for a string value.
func ne(attr, value string) query.Expr {
	return &query.Compare{Path: query.Path{Names: strings.Split(attr, ".")}, Op: query.OpNe, Value: query.Value{Kind: query.KindString, Str: value}}
}

// in is the unbound condition that attr equals one of values.
func in(attr string, values []string) query.Expr {
	exprs := make([]query.Expr, len(values))
	for i, v := range values {
		exprs[i] = eq(attr, v)
	}
	return anyOf(exprs...)
}

// pushdown is what the backend executes for ki: the backend's own
// Pushdown, except that a kind's computed attributes (an invitation's
// status, which depends on the clock) are never pushed, since the stored
// value is not the value a reader sees.
func (d *Directory) pushdown(ki *kindInfo) query.Pushdown {
	p := d.b.Pushdown(ki.kind.Name)
	if len(ki.computed) == 0 {
		return p
	}
	return maskedPushdown{p: p, computed: ki.computed}
}

type maskedPushdown struct {
	p        query.Pushdown
	computed map[string]bool
}

func (m maskedPushdown) Filter(e query.Expr) query.Support {
	if refersTo(e, m.computed) {
		return query.Unsupported
	}
	return m.p.Filter(e)
}

func (m maskedPushdown) Sort(s query.Sort) bool {
	for _, k := range s {
		if m.computed[k.Attr.Name] {
			return false
		}
	}
	return m.p.Sort(s)
}

// refersTo reports whether the bound expression e names one of attrs.
func refersTo(e query.Expr, attrs map[string]bool) bool {
	switch n := e.(type) {
	case *query.Compare:
		return n.Attr != nil && attrs[n.Attr.Name]
	case *query.Present:
		return n.Attr != nil && attrs[n.Attr.Name]
	case *query.Not:
		return refersTo(n.X, attrs)
	case *query.And:
		return refersTo(n.Left, attrs) || refersTo(n.Right, attrs)
	case *query.Or:
		return refersTo(n.Left, attrs) || refersTo(n.Right, attrs)
	case *query.ValueFilter:
		return (n.Attr != nil && attrs[n.Attr.Name]) || refersTo(n.Filter, attrs)
	}
	return false
}

// checkPaging checks the paging fields of opts and returns the page size.
func checkPaging(opts ListOptions) (int, error) {
	limit := opts.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return 0, fieldErr("limit", "must be 1 to %d, not %d", MaxLimit, limit)
	}
	if opts.StartIndex < 0 {
		return 0, fieldErr("startIndex", "must be 1 or more, not %d", opts.StartIndex)
	}
	if opts.StartIndex > 0 && opts.Cursor != "" {
		return 0, fieldErr("startIndex", "cannot be combined with a cursor")
	}
	return limit, nil
}

// listPage returns one page of the records p selects, each converted by
// conv into its place in the page (applying p's projection), through the
// query cache: a hit hands out a copy made by clone, and so does a miss,
// after storing its own.
func listPage[T any](ctx context.Context, d *Directory, tenant string, p *prepared, opts ListOptions, conv func(*T, backend.Record), clone func(T) T) (PageOf[T], error) {
	limit, err := checkPaging(opts)
	if err != nil {
		return PageOf[T]{}, err
	}
	// The request's fingerprint in the tenant, made at most once a page.
	var fp []byte
	cursorFP := func() []byte {
		if fp == nil {
			fp = p.fingerprint(tenant)
		}
		return fp
	}
	var pos *position
	back := false
	if opts.Cursor != "" {
		st, vals, err := d.cursor.decode(opts.Cursor, cursorFP())
		if err != nil {
			return PageOf[T]{}, err
		}
		if len(vals) != len(p.sort) {
			return PageOf[T]{}, fmt.Errorf("%w: position does not fit the sort", ErrInvalidCursor)
		}
		back, pos = st.Back, &position{Position: backend.Position{Values: vals, ID: st.ID}, inclusive: st.Inc}
	}
	copyPage := func(pg PageOf[T]) PageOf[T] {
		c := pg
		c.Items = make([]T, len(pg.Items))
		for i, it := range pg.Items {
			c.Items[i] = clone(it)
		}
		if pg.Total != nil {
			n := *pg.Total
			c.Total = &n
		}
		return c
	}
	var key string
	if d.cacheable(p) {
		key = d.cache.key(tenant, p.ki.kind.Name, "list", p.canonical(), strconv.Itoa(limit), opts.Cursor,
			strconv.Itoa(opts.StartIndex), strconv.FormatBool(opts.Total), opts.Attributes, opts.ExcludedAttributes)
		if v, ok := d.cache.get(key); ok {
			return copyPage(v.(PageOf[T])), nil
		}
	}

	var page PageOf[T]
	g := d.pager(p)
	defer d.release(g)
	if opts.StartIndex > 0 {
		g.want = limit
		if skip := opts.StartIndex - 1; skip > 0 {
			g.out = &skipper{n: skip, out: g}
		}
		err = g.scan(ctx, tenant, nil, false)
	} else {
		g.want = limit + 1
		err = g.scan(ctx, tenant, pos, back)
	}
	if err != nil {
		return PageOf[T]{}, err
	}
	recs := g.recs
	if opts.StartIndex == 0 {
		more := len(recs) > limit
		if more {
			recs = recs[:limit]
		}
		if back {
			slices.Reverse(recs)
		}
		switch {
		case len(recs) == 0 && pos != nil:
			// Everything past the position went away; the way back starts
			// at the position and includes its row, if it is still there.
			page.Prev = d.cursor.encodeState(cursorState{V: cursorVersion, Back: !back, Inc: true, FP: cursorFP(), ID: pos.ID}, pos.Values)
			if back {
				page.Next, page.Prev = page.Prev, ""
			}
		case len(recs) > 0:
			first, last := recs[0], recs[len(recs)-1]
			if (!back && more) || (back && pos != nil) {
				page.Next = d.cursor.encode(cursorFP(), false, p.sort.Values(last.Doc), last.ID)
			}
			if (back && more) || (!back && pos != nil) {
				page.Prev = d.cursor.encode(cursorFP(), true, p.sort.Values(first.Doc), first.ID)
			}
		}
	}
	page.Items = make([]T, len(recs))
	for i, r := range recs {
		conv(&page.Items[i], r)
	}
	if opts.Total {
		n, err := d.count(ctx, tenant, p)
		if err != nil {
			return PageOf[T]{}, err
		}
		page.Total = &n
	}
	if key != "" {
		d.cache.put(key, copyPage(page))
	}
	return page, nil
}

// countCached returns the number of records p selects, through the cache.
func (d *Directory) countCached(ctx context.Context, tenant string, p *prepared) (int, error) {
	var key string
	if d.cacheable(p) {
		key = d.cache.key(tenant, p.ki.kind.Name, "count", p.canonical())
		if v, ok := d.cache.get(key); ok {
			return v.(int), nil
		}
	}
	n, err := d.count(ctx, tenant, p)
	if err != nil {
		return 0, err
	}
	d.cache.put(key, n)
	return n, nil
}

// cacheable reports whether lists and counts of p go through the result
// cache: not when it is off, nor for a kind whose attributes depend on the
// clock (an invitation expires without a write to bump the generation).
// The key must be read before the query runs.
func (d *Directory) cacheable(p *prepared) bool {
	return d.cache.lru != nil && p.ki.view == nil
}

// count returns the number of records matching a prepared filter:
// natively when the backend executes the whole filter exactly, else by a
// scan.
func (d *Directory) count(ctx context.Context, tenant string, p *prepared) (int, error) {
	if p.plan.Residual == nil && (p.plan.Exact || p.plan.Pushed == nil) {
		q := p.query
		q.Sort = nil
		return d.b.Count(ctx, tenant, q)
	}
	n := 0
	err := d.scan(ctx, tenant, p, nil, false, func(backend.Record) bool { n++; return true })
	return n, err
}

// find returns every record of ki in tenant that matches the unbound
// filter where, in id order, read in full before it returns so that the
// caller may write them.
func (d *Directory) find(ctx context.Context, tenant string, ki *kindInfo, where query.Expr) ([]backend.Record, error) {
	p, err := d.prepare(ki, ListOptions{Where: where})
	if err != nil {
		return nil, err
	}
	var out []backend.Record
	err = d.scan(ctx, tenant, p, nil, false, func(r backend.Record) bool {
		out = append(out, r)
		return true
	})
	return out, err
}

// pager collects the records of one page from its scanner until it holds
// want. The first record is kept in one, so a page of one record needs no
// array of its own. Pagers are reused, through Directory.pagers, with the
// scanner's method values made once: a list then allocates nothing here.
type pager struct {
	scanner
	recs []backend.Record
	one  [1]backend.Record
	want int
}

// pager returns a pager for a list of p, reused when one is free.
func (d *Directory) pager(p *prepared) *pager {
	g, _ := d.pagers.Get().(*pager)
	if g == nil {
		g = &pager{}
		g.takeFn, g.yieldFn = g.take, g.yield
	}
	g.d, g.p, g.out = d, p, g
	return g
}

// release empties g and frees it for another list.
func (d *Directory) release(g *pager) {
	g.reset()
	d.pagers.Put(g)
}

// reset drops what the pager holds, records included (no personal data
// may stay in a free pager), and keeps its method values.
func (g *pager) reset() {
	*g = pager{scanner: scanner{takeFn: g.takeFn, yieldFn: g.yieldFn}}
}

func (g *pager) add(r backend.Record) bool {
	if g.recs == nil {
		g.recs = g.one[:0]
	}
	g.recs = append(g.recs, r)
	return len(g.recs) < g.want
}

// skipper passes over n records, then hands the others to out: the start
// of an offset page.
type skipper struct {
	n   int
	out sink
}

func (k *skipper) add(r backend.Record) bool {
	if k.n > 0 {
		k.n--
		return true
	}
	return k.out.add(r)
}

// position is where a cursor continues: strictly after (or before) a
// place in the sort order, or from it when inclusive.
type position struct {
	backend.Position
	inclusive bool
}

// scan calls fn with the records matching p in sort order (ties by id),
// strictly after pos (before it when back, walking backwards), until fn
// returns false. The backend sorts when the plan pushed the sort;
// otherwise the matches are sorted here by their encoded sort keys, which
// order exactly as query.Sort.Compare says. Every record goes through the
// kind's view (computed attributes) before it is matched or handed out.
func (d *Directory) scan(ctx context.Context, tenant string, p *prepared, pos *position, back bool, fn func(backend.Record) bool) error {
	s := &scanner{d: d, p: p, out: sinkFunc(fn)}
	return s.scan(ctx, tenant, pos, back)
}

// A sink receives the records of a scan until add returns false.
type sink interface {
	add(backend.Record) bool
}

// sinkFunc is a function as a sink.
type sinkFunc func(backend.Record) bool

func (f sinkFunc) add(r backend.Record) bool { return f(r) }

// scanner is one scan of the records of p for out. A caller with state
// of its own embeds it, and is its sink, so that one allocation (or none,
// for a reused pager) holds both.
type scanner struct {
	d   *Directory
	p   *prepared
	out sink
	err error // the backend's error, which ended the scan
	// takeFn and yieldFn are take and yield as func values, when the
	// scanner keeps them made ahead (a pager); nil otherwise.
	takeFn  func(backend.Record) bool
	yieldFn func(backend.Record, error) bool
}

// scan is Directory.scan for s.out.
func (s *scanner) scan(ctx context.Context, tenant string, pos *position, back bool) error {
	d, p := s.d, s.p
	kind := p.ki.kind.Name
	q := p.query
	var after *backend.Position
	if pos != nil {
		after = &pos.Position
		if pos.inclusive {
			// The row at the position comes first, when it is still
			// there, still matches and still sorts at the position.
			r, err := d.b.Get(ctx, tenant, kind, pos.ID)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return err
			default:
				r = p.ki.see(d, r)
				if p.matcher().Match(r.Doc) &&
					bytes.Equal(p.sort.AppendKey(nil, p.sort.Values(r.Doc), r.ID), p.sort.AppendKey(nil, pos.Values, pos.ID)) {
					if !s.out.add(r) {
						return nil
					}
				}
			}
		}
	}
	if p.plan.SortPushed {
		q.After, q.Reverse = after, back
		return s.each(ctx, tenant, q)
	}
	var from []byte
	if after != nil {
		from = p.sort.AppendKey(nil, after.Values, after.ID)
	}
	type keyed struct {
		key []byte
		rec backend.Record
	}
	var rows []keyed
	out := s.out
	s.out = sinkFunc(func(r backend.Record) bool {
		k := p.sort.AppendKey(nil, p.sort.Values(r.Doc), r.ID)
		if from != nil {
			c := bytes.Compare(k, from)
			if !back && c <= 0 || back && c >= 0 {
				return true
			}
		}
		rows = append(rows, keyed{k, r})
		return true
	})
	err := s.each(ctx, tenant, q)
	s.out = out
	if err != nil {
		return err
	}
	slices.SortFunc(rows, func(a, b keyed) int {
		if back {
			return bytes.Compare(b.key, a.key)
		}
		return bytes.Compare(a.key, b.key)
	})
	for _, r := range rows {
		if !out.add(r.rec) {
			return nil
		}
	}
	return nil
}

// each runs q and hands s.out, until it returns false, the records the
// backend returns, as readers see them, that satisfy p's residual.
// A backend that is a Visitor runs it without a sequence.
func (s *scanner) each(ctx context.Context, tenant string, q backend.Query) error {
	if v := s.d.visit; v != nil {
		take := s.takeFn
		if take == nil {
			take = s.take
		}
		return v.Visit(ctx, tenant, q, take)
	}
	s.err = nil
	yield := s.yieldFn
	if yield == nil {
		yield = s.yield
	}
	s.d.b.Query(ctx, tenant, q)(yield)
	return s.err
}

// yield is the consumer of the backend's sequence. It and take are
// methods, so that a scan costs the one closure of a method value rather
// than a closure and a heap cell per variable it captures.
func (s *scanner) yield(r backend.Record, err error) bool {
	if err != nil {
		s.err = err
		return false
	}
	return s.take(r)
}

// take hands s.out a record the backend returned, as readers see it, when
// it satisfies p's residual, and reports whether to go on.
func (s *scanner) take(r backend.Record) bool {
	r = s.p.ki.see(s.d, r)
	if !s.p.residual.Match(r.Doc) {
		return true
	}
	return s.out.add(r)
}

// explain describes how a prepared list would run.
func (d *Directory) explain(tenant string, p *prepared) string {
	return p.plan.String() + "\nbackend: " + d.b.Explain(tenant, p.query)
}

// deletedConditions are the conditions a users list adds for each deleted
// mode, indexed by the mode.
func deletedConditions(schema *query.Schema) [OnlyDeleted + 1]condition {
	var c [OnlyDeleted + 1]condition
	c[ExcludeDeleted] = conditionOf(ne("status", string(StatusDeleted)))
	c[IncludeDeleted] = conditionOf(nil)
	c[OnlyDeleted] = conditionOf(eq("status", string(StatusDeleted)))
	for i := range c {
		// The conditions are the directory's own and bind; one that did
		// not would be bound, and refused, with each request.
		c[i].bound, _ = query.Bind(c[i].expr, schema)
	}
	return c
}

// prepare plans a list of the tenant's users. The deleted-users condition
// of each mode and its canonical form are made once, in New.
func (h *Users) prepare(opts ListOptions) (*prepared, error) {
	if opts.Deleted < 0 || int(opts.Deleted) >= len(h.d.deleted) {
		return nil, fieldErr("deleted", "unknown mode %d", opts.Deleted)
	}
	cond := h.d.deleted[opts.Deleted]
	if opts.Where != nil {
		return h.d.prepareNew(h.d.k.users, opts, cond)
	}
	return h.d.prepareCached(h.d.k.users, opts, cond)
}

// List returns one page of the tenant's users that match opts. With
// IncludeRoles the page also holds the roles its users name, with their
// permissions, read in one query.
func (h *Users) List(ctx context.Context, opts ListOptions) (Page, error) {
	return observe(ctx, h.d, OpUserList, h.tenant, "", func() (Page, error) {
		if err := validTenant(h.tenant); err != nil {
			return Page{}, err
		}
		if _, err := checkPaging(opts); err != nil {
			return Page{}, err
		}
		p, err := h.prepare(opts)
		if err != nil {
			return Page{}, err
		}
		conv := func(u *User, r backend.Record) { projectInto(u, r, p.proj) }
		pg, err := listPage(ctx, h.d, h.tenant, p, opts, conv, User.Clone)
		if err != nil {
			return Page{}, err
		}
		page := Page{Users: pg.Items, Next: pg.Next, Prev: pg.Prev, Total: pg.Total}
		if opts.IncludeRoles {
			if page.Roles, err = h.rolesOf(ctx, page.Users); err != nil {
				return Page{}, err
			}
		}
		return page, nil
	})
}

// Explain describes how a list would run: what the backend executes (and
// with which index) and what the directory evaluates itself.
func (h *Users) Explain(opts ListOptions) (string, error) {
	if err := validTenant(h.tenant); err != nil {
		return "", err
	}
	p, err := h.prepare(opts)
	if err != nil {
		return "", err
	}
	return h.d.explain(h.tenant, p), nil
}
