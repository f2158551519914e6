package badger

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// smallSet is the size up to which a sorted query fetches the records an
// index plan selected and sorts them in memory, rather than walking the
// whole sort index to find them in order.
const smallSet = 1024

// reader is the read transaction of one Query iteration and the iterator
// it walks while it hands records to its consumer.
type reader struct {
	txn *badgerdb.Txn
	it  *badgerdb.Iterator
	// ended is set when Close or Compact released txn and it while the
	// reader was parked: backend.ErrClosed, or errQueryCompacted.
	ended error
}

// release closes the iterator and discards the transaction. It is
// idempotent.
func (rd *reader) release() {
	if rd.it != nil {
		rd.it.Close()
		rd.it = nil
	}
	if rd.txn != nil {
		rd.txn.Discard()
		rd.txn = nil
	}
}

// runner is one execution of a Query or Count.
type runner struct {
	s      *Store
	ctx    context.Context
	kd     *kindDef
	tenant string
	rd     *reader
	// emit hands a record to the consumer and reports whether to go on.
	emit func(backend.Record) bool
	// held is false while the consumer runs, when the iteration holds no
	// share of the store's gate.
	held bool
}

// Query returns the records of q.Kind in tenant that satisfy q.Filter, in
// q.Sort order when set, from one read transaction: a consistent snapshot
// however long the consumer takes. The filter is narrowed with the index
// plan that Explain describes; what the plan does not answer exactly is
// evaluated with query.Eval on each record, so any filter is answered
// correctly. A sorted query walks the sort index forwards or backwards
// from q.After; an unsorted one returns records in id order.
//
// While the consumer's loop body runs, the iteration does not hold the
// store: the body may call the store, and Close does not wait for it (the
// iteration's next step then reports ErrClosed).
func (s *Store) Query(ctx context.Context, tenant string, q backend.Query) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		const op = "query"
		kd, err := s.begin(ctx, op, q.Kind, "")
		if err != nil {
			yield(backend.Record{}, err)
			return
		}
		x := &runner{s: s, ctx: ctx, kd: kd, tenant: tenant, rd: &reader{txn: s.db.NewTransaction(false)}, held: true}
		defer x.finish()
		x.emit = func(r backend.Record) bool {
			x.park()
			more := yield(r, nil)
			ended := x.unpark()
			if more && ended != nil {
				yield(backend.Record{}, endedError(op, q.Kind, ended))
			}
			return more && ended == nil
		}
		if err := x.query(q); err != nil {
			yield(backend.Record{}, mapErr(op, q.Kind, "", err))
		}
	}
}

// park lets go of the gate while the consumer runs, leaving the reader
// for Close to release.
func (x *runner) park() {
	x.s.parkMu.Lock()
	x.s.parked[x.rd] = struct{}{}
	x.s.parkMu.Unlock()
	x.held = false
	x.s.gate.RUnlock()
}

// unpark takes the gate back and reports why the reader was released
// meanwhile (by Close or Compact), or nil when it was not.
func (x *runner) unpark() error {
	x.s.gate.RLock()
	x.held = true
	x.s.parkMu.Lock()
	delete(x.s.parked, x.rd)
	ended := x.rd.ended
	x.s.parkMu.Unlock()
	return ended
}

// endedError is what a query released by Close or Compact reports.
func endedError(op, kind string, why error) error {
	if why == backend.ErrClosed {
		return &backend.Error{Op: op, Kind: kind, Err: backend.ErrClosed}
	}
	// Compact replaced the database the query was reading; running the
	// query again reads the new one, which is what ErrConflict asks for.
	return &backend.Error{Op: op, Kind: kind, Err: backend.ErrConflict, Cause: why}
}

// finish releases the reader and the gate. It also runs when the
// consumer panics, while the reader is parked.
func (x *runner) finish() {
	if !x.held {
		x.unpark()
	}
	x.rd.release()
	x.s.gate.RUnlock()
}

var _ backend.Preparer = (*Store)(nil)

// prepared is the work of a query that depends only on its kind's
// definition, its filter and its sort, made once by Prepare for a query
// that runs many times. It is immutable.
type prepared struct {
	kd     *kindDef
	filter query.Expr
	sort   query.Sort
	pl     *plan          // the index plan; nil when no index narrows the filter
	m      *query.Matcher // the filter compiled; nil when pl answers it exactly
	six    int            // the sort index; -1 when there is no sort, or no index for it
}

// uniquePoint returns the span of the filter when the filter is one
// comparison that a unique index answers with a single key (emails.value
// eq "a@x.io"): the plan is that one span and answers the filter exactly,
// so at most one record matches, found with two point reads.
func (p *prepared) uniquePoint() (backend.Span, bool) {
	if p.pl == nil || p.pl.op != 's' || p.m != nil || !p.pl.span.Point || !p.kd.indexes[p.pl.span.Index].Unique {
		return backend.Span{}, false
	}
	return p.pl.span, true
}

// Prepare returns q with its filter's index plan, its compiled filter and
// its sort index in q.Prepared, for Query and Count to reuse. They depend
// only on the kind's definition, the filter and the sort, never on a
// tenant's data.
func (s *Store) Prepare(q backend.Query) backend.Query {
	if kd := (*s.kinds.Load())[q.Kind]; kd != nil {
		q.Prepared = kd.prepare(&q)
	}
	return q
}

// prepare returns q's prepared work when Prepare made it for kd, q's
// filter and a sort with the same keys as q's, and new work otherwise.
func (kd *kindDef) prepare(q *backend.Query) *prepared {
	if p, ok := kd.prepared(q); ok && slices.Equal(p.sort, q.Sort) {
		return p
	}
	p := &prepared{kd: kd, filter: q.Filter, sort: slices.Clone(q.Sort), six: -1}
	pl, exact := kd.compile(q.Filter)
	p.pl = pl
	if !exact {
		p.m = query.Compile(q.Filter)
	}
	if len(q.Sort) > 0 {
		if ix, ok := kd.sortIndex(q.Sort); ok {
			p.six = ix
		}
	}
	return p
}

// prepared returns q's prepared work when Prepare made it for kd and q's
// filter, whatever its sort.
func (kd *kindDef) prepared(q *backend.Query) (*prepared, bool) {
	p, ok := q.Prepared.(*prepared)
	return p, ok && p.kd == kd && p.filter == q.Filter
}

// unsorted returns q's prepared work without its sort: what Count needs,
// since a count is the same in any order.
func (kd *kindDef) unsorted(q *backend.Query) *prepared {
	p, ok := kd.prepared(q)
	if !ok {
		return kd.prepare(&backend.Query{Kind: q.Kind, Filter: q.Filter})
	}
	if len(p.sort) == 0 {
		return p
	}
	c := *p
	c.sort, c.six = nil, -1
	return &c
}

// query runs q and emits its records.
func (x *runner) query(q backend.Query) error {
	return x.run(x.kd.prepare(&q), q.After, q.Reverse)
}

// run runs a prepared query from the position after (reversed when
// reverse) and emits its records.
func (x *runner) run(p *prepared, after *backend.Position, reverse bool) error {
	if sp, ok := p.uniquePoint(); ok && len(p.sort) == 0 {
		return x.byUnique(sp, after, reverse)
	}
	var set map[string]struct{}
	if p.pl != nil {
		var err error
		if set, err = x.ids(p.pl); err != nil {
			return err
		}
	}
	if len(p.sort) == 0 {
		if set != nil {
			return x.byIDs(set, after, reverse, p.m)
		}
		return x.walkRecords(after, reverse, p.m)
	}
	if p.six < 0 {
		return &backend.Error{Op: "query", Kind: x.kd.kind.Name, Err: backend.ErrUnsupported,
			Cause: fmt.Errorf("sort %s has no index that lists every record", p.sort)}
	}
	backward := p.sort[0].Desc != reverse
	if set != nil && len(set) <= smallSet {
		return x.sortSet(p.six, set, after, backward, p.m)
	}
	return x.walkIndex(p.six, set, after, backward, p.m)
}

// ids returns the ids of the records a plan selects.
func (x *runner) ids(pl *plan) (map[string]struct{}, error) {
	switch pl.op {
	case '&':
		l, err := x.ids(pl.l)
		if err != nil || len(l) == 0 {
			return l, err
		}
		r, err := x.ids(pl.r)
		if err != nil {
			return nil, err
		}
		if len(r) < len(l) {
			l, r = r, l
		}
		for id := range l {
			if _, ok := r[id]; !ok {
				delete(l, id)
			}
		}
		return l, nil
	case '|':
		l, err := x.ids(pl.l)
		if err != nil {
			return nil, err
		}
		r, err := x.ids(pl.r)
		if err != nil {
			return nil, err
		}
		if len(r) > len(l) {
			l, r = r, l
		}
		for id := range r {
			l[id] = struct{}{}
		}
		return l, nil
	}
	set := map[string]struct{}{}
	err := x.scanSpan(pl.span, func(id string) { set[id] = struct{}{} })
	return set, err
}

// scanSpan calls fn with the id of every entry in an index span, in index
// order.
func (x *runner) scanSpan(sp backend.Span, fn func(id string)) error {
	ix := x.kd.indexes[sp.Index]
	if ix.Unique && sp.Point {
		id, ok, err := x.uniqueID(x.pointKey(sp))
		if ok {
			fn(id)
		}
		return err
	}
	prefix := indexPrefix(x.kd.spaces[sp.Index], x.tenant, x.kd.kind.Name, ix.Name)
	opts := badgerdb.IteratorOptions{Prefix: append(prefix, sp.Prefix...)}
	it := x.rd.txn.NewIterator(opts)
	defer it.Close()
	lo := append(slices.Clip(prefix), sp.Lo...)
	var hi []byte
	if sp.Hi != nil {
		hi = append(slices.Clip(prefix), sp.Hi...)
	}
	n := 0
	for it.Seek(lo); it.Valid(); it.Next() {
		if n++; n%256 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		item := it.Item()
		k := item.Key()
		if hi != nil && bytes.Compare(k, hi) >= 0 {
			break
		}
		id, err := entryID(item, prefix, ix.Unique)
		if err != nil {
			return err
		}
		fn(id)
	}
	return nil
}

// pointKey returns the key of a unique index's point span. The prefix
// leaves room for a short value key: one allocation.
func (x *runner) pointKey(sp backend.Span) []byte {
	return append(indexPrefix(x.kd.spaces[sp.Index], x.tenant, x.kd.kind.Name, x.kd.indexes[sp.Index].Name), sp.Lo...)
}

// uniqueID returns the id a unique index key holds, and whether there is
// one: a point read, which badger answers from the bloom filters without
// an iterator.
func (x *runner) uniqueID(key []byte) (string, bool, error) {
	item, err := x.rd.txn.Get(key)
	if errors.Is(err, badgerdb.ErrKeyNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	var id string
	err = item.Value(func(v []byte) error { id = string(v); return nil })
	return id, err == nil, err
}

// beyond reports whether id lies strictly after the position's id in a
// walk in id order (before it when backward); every id does when there
// is no position.
func beyond(after *backend.Position, backward bool, id string) bool {
	return after == nil || (!backward && id > after.ID || backward && id < after.ID)
}

// byUnique emits the record a unique index's point span selects, when
// there is one and it lies beyond the position: a point read of the index
// key and one of the record, without an id set or an iterator, or only
// the read of the record when the store remembers the id the key held and
// the record still has the value (see lookups). The span is the whole
// filter, exactly.
func (x *runner) byUnique(sp backend.Span, after *backend.Position, backward bool) error {
	key := x.pointKey(sp)
	h := x.s.lookups.hash(key)
	if id, ok := x.s.lookups.get(h); ok && beyond(after, backward, id) {
		// A failure to read the remembered record is not this query's:
		// the index may name another record, or none.
		if r, ok, err := x.fetch(id); err == nil && ok && x.kd.indexes[sp.Index].HasKey(r.Doc, sp.Lo) {
			x.emit(r)
			return nil
		}
	}
	id, ok, err := x.uniqueID(key)
	if err != nil {
		return err
	}
	if !ok {
		// No record has the value: forget the id, which can only cost
		// reads, and leave nothing of the value behind.
		x.s.lookups.forget(h)
		return nil
	}
	x.s.lookups.put(h, id)
	if !beyond(after, backward, id) {
		return nil
	}
	r, ok, err := x.fetch(id)
	if err != nil || !ok {
		return err
	}
	x.emit(r)
	return nil
}

// entryID returns the id an index entry points to: its value for a unique
// index, the end of its key for the others.
func entryID(item *badgerdb.Item, prefix []byte, unique bool) (string, error) {
	if unique {
		v, err := item.ValueCopy(nil)
		return string(v), err
	}
	_, id, err := splitEntry(item.Key()[len(prefix):])
	if err != nil {
		return "", fmt.Errorf("index entry %x: %w", item.Key(), err)
	}
	return id, nil
}

// fetch reads a record by id in the query's snapshot. A missing record
// (an entry without its record, which Verify reports) is skipped.
func (x *runner) fetch(id string) (backend.Record, bool, error) {
	item, err := x.rd.txn.Get(recordKey(x.tenant, x.kd.kind.Name, id))
	if errors.Is(err, badgerdb.ErrKeyNotFound) {
		return backend.Record{}, false, nil
	}
	if err != nil {
		return backend.Record{}, false, err
	}
	ver, doc, err := decodeItem(x.kd, item)
	if err != nil {
		return backend.Record{}, false, fmt.Errorf("record %q: %w", id, err)
	}
	return backend.Record{ID: id, Version: ver, Doc: doc, Owned: true}, true, nil
}

// byIDs emits the records of a set that m matches (a nil m matches every
// record) in id order (descending when backward), strictly after the
// position's id.
func (x *runner) byIDs(set map[string]struct{}, after *backend.Position, backward bool, m *query.Matcher) error {
	ids := make([]string, 0, len(set))
	for id := range set {
		if !beyond(after, backward, id) {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if backward {
		slices.Reverse(ids)
	}
	for _, id := range ids {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		r, ok, err := x.fetch(id)
		if err != nil {
			return err
		}
		if ok && m.Match(r.Doc) && !x.emit(r) {
			return nil
		}
	}
	return nil
}

// walkRecords emits the kind's records that m matches (a nil m matches
// every record) in id order (descending when backward), strictly after the
// position's id.
func (x *runner) walkRecords(after *backend.Position, backward bool, m *query.Matcher) error {
	prefix := recordPrefix(x.tenant, x.kd.kind.Name)
	opts := badgerdb.IteratorOptions{PrefetchValues: true, PrefetchSize: 16, Reverse: backward}
	var seek []byte
	switch {
	case after != nil:
		seek = recordKey(x.tenant, x.kd.kind.Name, after.ID)
	case backward:
		seek = backend.Successor(prefix)
	default:
		seek = prefix
	}
	if !backward {
		// Forward scans may name their prefix, which lets badger skip the
		// tables that hold none of it. A backward scan seeks to a key
		// past the prefix, which such an iterator would not see.
		opts.Prefix = prefix
	}
	return x.walk(opts, prefix, seek, func(item *badgerdb.Item) (bool, error) {
		k := item.Key()
		if after != nil && bytes.Equal(k, seek) {
			return true, nil
		}
		ver, doc, err := decodeItem(x.kd, item)
		if err != nil {
			return false, fmt.Errorf("record %x: %w", k, err)
		}
		if !m.Match(doc) {
			return true, nil
		}
		id, err := x.recordID(k, prefix)
		if err != nil {
			return false, err
		}
		return x.emit(backend.Record{ID: id, Version: ver, Doc: doc, Owned: true}), nil
	})
}

func (x *runner) recordID(k, prefix []byte) (string, error) {
	id, rest, err := readString(k[len(prefix):])
	if err != nil || len(rest) != 0 {
		return "", fmt.Errorf("record key %x: %w", k, errMalformedKey)
	}
	return id, nil
}

// walk iterates the keys with prefix from seek, calling fn for each until
// it returns false. The iterator lives in the reader while the consumer
// runs, so that Close can release it.
func (x *runner) walk(opts badgerdb.IteratorOptions, prefix, seek []byte, fn func(*badgerdb.Item) (bool, error)) error {
	it := x.rd.txn.NewIterator(opts)
	x.rd.it = it
	defer func() {
		// After Close released the reader, rd.it is nil and it is closed.
		if x.rd.it == it {
			it.Close()
			x.rd.it = nil
		}
	}()
	it.Seek(seek)
	if opts.Reverse && it.Valid() && !bytes.HasPrefix(it.Item().Key(), prefix) && bytes.Equal(it.Item().Key(), seek) {
		// A backward seek to the key just past the prefix lands on that
		// key when it exists.
		it.Next()
	}
	n := 0
	for ; it.ValidForPrefix(prefix); it.Next() {
		if n++; n%256 == 0 {
			if err := x.ctx.Err(); err != nil {
				return err
			}
		}
		more, err := fn(it.Item())
		if err != nil || !more {
			return err
		}
		if x.rd.it != it {
			return nil // released by Close; emit has reported it
		}
	}
	return x.ctx.Err()
}

// walkIndex emits the records in the order of index ix, walking it
// forwards or backwards from after, skipping records outside set (when
// set) and those m does not match (a nil m matches every record).
func (x *runner) walkIndex(ix int, set map[string]struct{}, after *backend.Position, backward bool, m *query.Matcher) error {
	cix := x.kd.indexes[ix]
	prefix := indexPrefix(x.kd.spaces[ix], x.tenant, x.kd.kind.Name, cix.Name)
	// Every value key starts with a type tag below 0xFF, so prefix+0xFF
	// sorts after every key of the index and still has its prefix.
	seek := append(slices.Clip(prefix), 0xFF)
	if !backward {
		seek = prefix
	}
	skip := func([]byte, string) bool { return false }
	if after != nil {
		v := afterValue(after)
		if v.Kind == query.KindNull {
			// A missing value sorts after every present one, and the
			// index holds only present values.
			if !backward {
				return nil
			}
		} else {
			vk := query.AppendKey(nil, v, cix.Attr.CaseExact)
			if cix.Unique {
				seek = uniqueKey(prefix, vk)
				at := seek
				skip = func(k []byte, id string) bool {
					return bytes.Equal(k, at) && !beyond(after, backward, id)
				}
			} else {
				// The entry (vk, after.ID) is seek plus its trailer: a
				// forward seek lands on it and skips it; a backward one
				// lands before it.
				seek = entryIDPrefix(prefix, vk, after.ID)
				at := seek
				skip = func(k []byte, _ string) bool { return bytes.HasPrefix(k, at) }
			}
		}
	}
	opts := badgerdb.IteratorOptions{Prefix: prefix, Reverse: backward}
	return x.walk(opts, prefix, seek, func(item *badgerdb.Item) (bool, error) {
		id, err := entryID(item, prefix, cix.Unique)
		if err != nil {
			return false, err
		}
		if skip(item.Key(), id) {
			return true, nil
		}
		if set != nil {
			if _, ok := set[id]; !ok {
				return true, nil
			}
		}
		r, ok, err := x.fetch(id)
		if err != nil || !ok || !m.Match(r.Doc) {
			return err == nil, err
		}
		return x.emit(r), nil
	})
}

// afterValue returns the sort value of a position, null when it has none.
func afterValue(p *backend.Position) query.Value {
	if len(p.Values) == 0 {
		return query.Value{}
	}
	return p.Values[0]
}

// sortSet emits the records of a small set that m matches (a nil m
// matches every record) in the order of index ix: it fetches them and
// sorts them by the index keys their documents have, which is the order a
// walk of the index would produce.
func (x *runner) sortSet(ix int, set map[string]struct{}, after *backend.Position, backward bool, m *query.Matcher) error {
	cix := x.kd.indexes[ix]
	type row struct {
		vk  []byte
		rec backend.Record
	}
	var avk []byte // nil: the position has no value, which sorts last
	if after != nil {
		if v := afterValue(after); v.Kind != query.KindNull {
			avk = query.AppendKey(nil, v, cix.Attr.CaseExact)
		}
	}
	order := func(vk []byte, id string, wk []byte, wid string) int {
		if wk == nil {
			return -1
		}
		return cmp.Or(bytes.Compare(vk, wk), strings.Compare(id, wid))
	}
	rows := make([]row, 0, len(set))
	for id := range set {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		r, ok, err := x.fetch(id)
		if err != nil {
			return err
		}
		if !ok || !m.Match(r.Doc) {
			continue
		}
		// The walk lists a record under its index key; a record without
		// one is not in the index, so it is left out here too.
		keys := cix.Keys(r.Doc)
		if len(keys) == 0 {
			continue
		}
		if after != nil {
			c := order(keys[0], id, avk, after.ID)
			if !backward && c <= 0 || backward && c >= 0 {
				continue
			}
		}
		rows = append(rows, row{keys[0], r})
	}
	slices.SortFunc(rows, func(a, b row) int {
		return cmp.Or(bytes.Compare(a.vk, b.vk), strings.Compare(a.rec.ID, b.rec.ID))
	})
	if backward {
		slices.Reverse(rows)
	}
	for _, r := range rows {
		if !x.emit(r.rec) {
			return nil
		}
	}
	return nil
}

// Count returns how many records of q.Kind in tenant satisfy q.Filter. A
// filter the indexes answer exactly is counted from index keys alone;
// another is counted by evaluating it on every record.
func (s *Store) Count(ctx context.Context, tenant string, q backend.Query) (int, error) {
	const op = "count"
	kd, err := s.begin(ctx, op, q.Kind, "")
	if err != nil {
		return 0, err
	}
	defer s.leave()
	rd := &reader{txn: s.db.NewTransaction(false)}
	defer rd.release()
	x := &runner{s: s, ctx: ctx, kd: kd, tenant: tenant, rd: rd, held: true}
	n, err := x.count(q)
	if err != nil {
		return 0, mapErr(op, q.Kind, "", err)
	}
	return n, nil
}

func (x *runner) count(q backend.Query) (int, error) {
	if q.Filter == nil {
		prefix := recordPrefix(x.tenant, x.kd.kind.Name)
		n := 0
		it := x.rd.txn.NewIterator(badgerdb.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(prefix); it.Valid(); it.Next() {
			if n++; n%1024 == 0 {
				if err := x.ctx.Err(); err != nil {
					return 0, err
				}
			}
		}
		return n, nil
	}
	p := x.kd.unsorted(&q)
	if p.pl != nil && p.m == nil {
		// The plan answers the filter exactly: count its index entries.
		if p.pl.op == 's' && !x.kd.indexes[p.pl.span.Index].Attr.Multi {
			// A single-valued attribute has one entry per record.
			n := 0
			err := x.scanSpan(p.pl.span, func(string) { n++ })
			return n, err
		}
		set, err := x.ids(p.pl)
		return len(set), err
	}
	n := 0
	x.emit = func(backend.Record) bool { n++; return true }
	err := x.run(p, nil, false)
	return n, err
}
