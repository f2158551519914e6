package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/userdir/userdir/backend"
)

var _ backend.Batcher = (*Store)(nil)

// rowSlab is how many rows of a batch share one allocation: enough for a
// scan to read them as one run of memory, few enough that a slab kept
// alive by one surviving row (its others replaced or deleted) wastes
// little.
const rowSlab = 64

// CreateBatch creates each item as Create would, in order and each on its
// own, under one hold of the tenant's lock and with one published
// snapshot, so that a reader sees all of the batch or none of it. A tree
// node, or a trie node above the one a record adds a slot to, is copied
// once per batch rather than once per record. When ctx ends part way, the
// items stored so far are published and the rest fail with ctx's error.
func (s *Store) CreateBatch(ctx context.Context, tenant, kind string, items []backend.BatchItem) ([]error, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, "")
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(items))
	rows := make([]*row, len(items))
	// The rows are allocated together, a slab of up to rowSlab at a time,
	// so that rows created together (an import, in id order when the ids
	// are UUIDv7) lie together in memory and a scan reads them in order.
	var slab []row
	for i, it := range items {
		if it.Doc == nil {
			errs[i] = fmt.Errorf("memory: %s %s %q: nil document", op, kind, it.ID)
			continue
		}
		if len(slab) == 0 {
			slab = make([]row, min(rowSlab, len(items)-i))
		}
		slab[0] = row{rec: backend.Record{ID: it.ID, Version: 1, Doc: it.Doc}, keys: kd.keysOf(it.Doc)}
		rows[i], slab = &slab[0], slab[1:]
	}

	if !slices.ContainsFunc(rows, func(r *row) bool { return r != nil }) {
		return errs, nil
	}
	t := s.tenantFor(tenant)
	t.mu.Lock()
	defer t.mu.Unlock()
	if s.closed.Load() {
		return nil, &backend.Error{Op: op, Kind: kind, Err: backend.ErrClosed}
	}
	cur := t.snap.Load()
	w := cur.table(kd).write(kd)
	w.e = newEdit()
	stored := 0
	for i, r := range rows {
		if i%ctxEvery == 0 {
			if err := ctx.Err(); err != nil {
				for j := i; j < len(rows); j++ {
					if rows[j] != nil {
						errs[j] = err
					}
				}
				break
			}
		}
		if r == nil {
			continue
		}
		// Earlier items of the batch are in w.t: they clash like stored
		// records.
		if errs[i] = w.t.refuse(kd, op, r); errs[i] != nil {
			continue
		}
		w.insert(r)
		stored++
	}
	if stored > 0 {
		t.snap.Store(cur.with(kd, w.t))
	}
	return errs, nil
}
