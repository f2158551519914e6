package memory

import (
	"context"
	"fmt"

	"github.com/userdir/userdir/backend"
)

var _ backend.Batcher = (*Store)(nil)

// CreateBatch creates each item as Create would, in order and each on its
// own, under one hold of the tenant's lock and with one published
// snapshot: the trees and tries a batch changes are copied once, not once
// per record, and a reader sees all of the batch or none of it.
func (s *Store) CreateBatch(ctx context.Context, tenant, kind string, items []backend.BatchItem) ([]error, error) {
	const op = "create"
	kd, err := s.begin(ctx, op, kind, "")
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(items))
	rows := make([]*row, len(items))
	for i, it := range items {
		if it.Doc == nil {
			errs[i] = fmt.Errorf("memory: %s %s %q: nil document", op, kind, it.ID)
			continue
		}
		keys, at := kd.rowKeys(it.Doc)
		rows[i] = &row{rec: backend.Record{ID: it.ID, Version: 1, Doc: it.Doc}, keys: keys, at: at}
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
