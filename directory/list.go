package directory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

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

// ListOptions selects, orders and pages users.
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
}

// Page is one page of a list.
type Page struct {
	Users []User
	// Next and Prev continue the list forwards and backwards; empty at
	// the ends (and always empty with offset paging).
	Next, Prev string
	// Total is the number of all matching users, when asked for.
	Total *int
}

// prepared is a list request parsed, bound and planned once.
type prepared struct {
	filter query.Expr // bound, with the deleted-users condition
	sort   query.Sort
	plan   query.Plan
	proj   query.Projection
	fp     []byte // cursor fingerprint
	canon  string // canonical form of filter, sort and deleted mode
}

func (h *Users) prepare(opts ListOptions) (*prepared, error) {
	var exprs []query.Expr
	if opts.Filter != "" {
		e, err := query.ParseWithLimits(opts.Filter, h.d.limits)
		if err != nil {
			return nil, err
		}
		exprs = append(exprs, e)
	}
	if opts.Where != nil {
		exprs = append(exprs, opts.Where)
	}
	switch opts.Deleted {
	case ExcludeDeleted:
		exprs = append(exprs, &query.Compare{Path: query.Path{Names: []string{"status"}}, Op: query.OpNe, Value: query.Value{Kind: query.KindString, Str: string(StatusDeleted)}})
	case OnlyDeleted:
		exprs = append(exprs, &query.Compare{Path: query.Path{Names: []string{"status"}}, Op: query.OpEq, Value: query.Value{Kind: query.KindString, Str: string(StatusDeleted)}})
	case IncludeDeleted:
	default:
		return nil, fieldErr("deleted", "unknown mode %d", opts.Deleted)
	}
	var filter query.Expr
	for _, e := range exprs {
		if filter == nil {
			filter = e
		} else {
			filter = &query.And{Left: filter, Right: e}
		}
	}
	p := &prepared{}
	if filter != nil {
		b, err := query.Bind(filter, userSchema)
		if err != nil {
			return nil, err
		}
		p.filter = b
	}
	if opts.Sort != "" {
		s, err := query.ParseSort(opts.Sort, userSchema)
		if err != nil {
			return nil, err
		}
		p.sort = s
	}
	if opts.Attributes != "" || opts.ExcludedAttributes != "" {
		pr, err := query.ParseProjection(opts.Attributes, opts.ExcludedAttributes, userSchema)
		if err != nil {
			return nil, err
		}
		p.proj = pr
	}
	p.plan = query.PlanQuery(p.filter, p.sort, h.d.b.Pushdown(usersKindName))
	p.canon = query.Canonical(p.filter) + "\x00" + p.sort.String()
	p.fp = fingerprint(h.tenant, usersKindName, p.canon)
	return p, nil
}

// List returns one page of the tenant's users that match opts.
func (h *Users) List(ctx context.Context, opts ListOptions) (Page, error) {
	if err := validTenant(h.tenant); err != nil {
		return Page{}, err
	}
	limit := opts.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return Page{}, fieldErr("limit", "must be 1 to %d, not %d", MaxLimit, limit)
	}
	if opts.StartIndex < 0 {
		return Page{}, fieldErr("startIndex", "must be 1 or more, not %d", opts.StartIndex)
	}
	if opts.StartIndex > 0 && opts.Cursor != "" {
		return Page{}, fieldErr("startIndex", "cannot be combined with a cursor")
	}
	p, err := h.prepare(opts)
	if err != nil {
		return Page{}, err
	}
	var pos *position
	back := false
	if opts.Cursor != "" {
		st, vals, err := h.d.cursor.decode(opts.Cursor, p.fp)
		if err != nil {
			return Page{}, err
		}
		if len(vals) != len(p.sort) {
			return Page{}, fmt.Errorf("%w: position does not fit the sort", ErrInvalidCursor)
		}
		back, pos = st.Back, &position{Position: backend.Position{Values: vals, ID: st.ID}, inclusive: st.Inc}
	}
	key := h.d.cache.key(h.tenant, "list", p.canon, strconv.Itoa(limit), opts.Cursor,
		strconv.Itoa(opts.StartIndex), strconv.FormatBool(opts.Total), opts.Attributes, opts.ExcludedAttributes)
	if v, ok := h.d.cache.get(key); ok {
		return clonePage(v.(Page)), nil
	}

	var page Page
	var recs []backend.Record
	if opts.StartIndex > 0 {
		skip := opts.StartIndex - 1
		err = h.scan(ctx, p, nil, false, func(r backend.Record) bool {
			if skip > 0 {
				skip--
				return true
			}
			recs = append(recs, r)
			return len(recs) < limit
		})
		if err != nil {
			return Page{}, err
		}
	} else {
		err = h.scan(ctx, p, pos, back, func(r backend.Record) bool {
			recs = append(recs, r)
			return len(recs) <= limit
		})
		if err != nil {
			return Page{}, err
		}
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
			page.Prev = h.d.cursor.encodeState(cursorState{V: cursorVersion, Back: !back, Inc: true, FP: p.fp, ID: pos.ID}, pos.Values)
			if back {
				page.Next, page.Prev = page.Prev, ""
			}
		case len(recs) > 0:
			first, last := recs[0], recs[len(recs)-1]
			if (!back && more) || (back && pos != nil) {
				page.Next = h.d.cursor.encode(p.fp, false, p.sort.Values(last.Doc), last.ID)
			}
			if (back && more) || (!back && pos != nil) {
				page.Prev = h.d.cursor.encode(p.fp, true, p.sort.Values(first.Doc), first.ID)
			}
		}
	}
	page.Users = make([]User, len(recs))
	for i, r := range recs {
		page.Users[i] = toUser(r)
		if !p.proj.IsZero() {
			project(&page.Users[i], p.proj)
		}
	}
	if opts.Total {
		n, err := h.count(ctx, p)
		if err != nil {
			return Page{}, err
		}
		page.Total = &n
	}
	h.d.cache.put(key, clonePage(page))
	return page, nil
}

// count returns the number of users matching a prepared filter: natively
// when the backend executes the whole filter exactly, else by a scan.
func (h *Users) count(ctx context.Context, p *prepared) (int, error) {
	if p.plan.Residual == nil && (p.plan.Exact || p.plan.Pushed == nil) {
		return h.d.b.Count(ctx, h.tenant, backend.Query{Kind: usersKindName, Filter: p.plan.Pushed})
	}
	n := 0
	err := h.scan(ctx, p, nil, false, func(backend.Record) bool { n++; return true })
	return n, err
}

// position is where a cursor continues: strictly after (or before) a
// place in the sort order, or from it when inclusive.
type position struct {
	backend.Position
	inclusive bool
}

// scan calls fn with the users matching p in sort order (ties by id),
// strictly after pos (before it when back, walking backwards), until fn
// returns false. The backend sorts when the plan pushed the sort;
// otherwise the matches are sorted here by their encoded sort keys, which
// order exactly as query.Sort.Compare says.
func (h *Users) scan(ctx context.Context, p *prepared, pos *position, back bool, fn func(backend.Record) bool) error {
	q := backend.Query{Kind: usersKindName, Filter: p.plan.Pushed}
	match := func(r backend.Record) bool {
		return p.plan.Residual == nil || query.Eval(p.plan.Residual, r.Doc)
	}
	var after *backend.Position
	if pos != nil {
		after = &pos.Position
		if pos.inclusive {
			// The row at the position comes first, when it is still
			// there, still matches and still sorts at the position.
			r, err := h.d.b.Get(ctx, h.tenant, usersKindName, pos.ID)
			switch {
			case errors.Is(err, ErrNotFound):
			case err != nil:
				return err
			case (p.filter == nil || query.Eval(p.filter, r.Doc)) &&
				bytes.Equal(p.sort.AppendKey(nil, p.sort.Values(r.Doc), r.ID), p.sort.AppendKey(nil, pos.Values, pos.ID)):
				if !fn(r) {
					return nil
				}
			}
		}
	}
	if p.plan.SortPushed {
		q.Sort, q.After, q.Reverse = p.sort, after, back
		for r, err := range h.d.b.Query(ctx, h.tenant, q) {
			if err != nil {
				return err
			}
			if match(r) && !fn(r) {
				return nil
			}
		}
		return nil
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
	for r, err := range h.d.b.Query(ctx, h.tenant, q) {
		if err != nil {
			return err
		}
		if !match(r) {
			continue
		}
		k := p.sort.AppendKey(nil, p.sort.Values(r.Doc), r.ID)
		if from != nil {
			c := bytes.Compare(k, from)
			if !back && c <= 0 || back && c >= 0 {
				continue
			}
		}
		rows = append(rows, keyed{k, r})
	}
	slices.SortFunc(rows, func(a, b keyed) int {
		if back {
			return bytes.Compare(b.key, a.key)
		}
		return bytes.Compare(a.key, b.key)
	})
	for _, r := range rows {
		if !fn(r.rec) {
			return nil
		}
	}
	return nil
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
	q := backend.Query{Kind: usersKindName, Filter: p.plan.Pushed}
	if p.plan.SortPushed {
		q.Sort = p.sort
	}
	return p.plan.String() + "\nbackend: " + h.d.b.Explain(h.tenant, q), nil
}

func clonePage(p Page) Page {
	c := p
	c.Users = make([]User, len(p.Users))
	for i, u := range p.Users {
		c.Users[i] = u.Clone()
	}
	if p.Total != nil {
		n := *p.Total
		c.Total = &n
	}
	return c
}
