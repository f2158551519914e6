package mongo

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Query returns the records of q.Kind that satisfy q.Filter, from one
// cursor: in q.Sort order (ties by id in the sort's direction), or in id
// order when q.Sort is empty, continuing strictly after q.After and
// backwards when q.Reverse. The cursor is closed when the sequence ends or
// the consumer stops. Records are not a snapshot: a MongoDB cursor sees
// concurrent writes, which keyset paging tolerates by design. On FerretDB,
// a first page whose filter requires one key of a unique index is read
// through the key's reservation instead (see point.go).
func (s *Store) Query(ctx context.Context, tenant string, q backend.Query) iter.Seq2[backend.Record, error] {
	return func(yield func(backend.Record, error) bool) {
		const op = "query"
		kd, err := s.begin(ctx, op, q.Kind, "")
		if err != nil {
			yield(backend.Record{}, err)
			return
		}
		if key, ok := kd.pointQuery(q); ok {
			rec, match, decided, err := kd.lookUp(ctx, op, tenant, key, q)
			if err != nil || match {
				yield(rec, err)
			}
			if err != nil || decided {
				return
			}
		}
		f, sort, _, err := kd.find(s.compiler(kd), tenant, q)
		if err != nil {
			yield(backend.Record{}, err)
			return
		}
		cur, err := kd.coll.find(ctx, f, options.Find().SetSort(sort).SetProjection(dataProjection()))
		if err != nil {
			yield(backend.Record{}, mapError(op, q.Kind, "", err))
			return
		}
		defer func() {
			// Closing kills the server's cursor, which matters most when
			// ctx is the reason the loop stopped.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = cur.Close(ctx)
		}()
		for cur.Next(ctx) {
			rec, err := kd.decode(cur.Current)
			if err != nil {
				yield(backend.Record{}, err)
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
		if err := cur.Err(); err != nil {
			yield(backend.Record{}, mapError(op, q.Kind, "", err))
		}
	}
}

// Count returns how many records of q.Kind satisfy q.Filter.
func (s *Store) Count(ctx context.Context, tenant string, q backend.Query) (int, error) {
	const op = "count"
	kd, err := s.begin(ctx, op, q.Kind, "")
	if err != nil {
		return 0, err
	}
	q = backend.Query{Kind: q.Kind, Filter: q.Filter}
	if key, ok := kd.pointQuery(q); ok {
		_, match, decided, err := kd.lookUp(ctx, op, tenant, key, q)
		switch {
		case err != nil:
			return 0, err
		case match:
			return 1, nil
		case decided:
			return 0, nil
		}
	}
	f, _, _, err := kd.find(s.compiler(kd), tenant, backend.Query{Kind: q.Kind, Filter: q.Filter})
	if err != nil {
		return 0, err
	}
	n, err := kd.coll.count(ctx, f)
	if err != nil {
		return 0, mapError(op, q.Kind, "", err)
	}
	return int(n), nil
}

// Explain returns the native query Query would run: the filter and sort as
// MongoDB extended JSON, for example
//
//	users.find({"t": "acme","x.userName": "ada"}).sort({"i": 1})
//
// followed by " superset" when the filter selects more than q.Filter
// (the directory re-checks those records). On FerretDB a query by one
// unique key first reads the key's reservation (see point.go), which
// Explain shows before the native query.
func (s *Store) Explain(tenant string, q backend.Query) string {
	if s.closed.Load() {
		return "closed"
	}
	kd := (*s.kinds.Load())[q.Kind]
	if kd == nil {
		return "kind " + q.Kind + " not defined"
	}
	f, sort, sup, err := kd.find(s.compiler(kd), tenant, q)
	if err != nil {
		return "error: " + err.Error()
	}
	fj, err := bson.MarshalExtJSON(f, false, false)
	if err != nil {
		return "error: " + err.Error()
	}
	sj, err := bson.MarshalExtJSON(sort, false, false)
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s.find(%s).sort(%s)", kd.coll.name(), fj, sj)
	if key, ok := kd.pointQuery(q); ok {
		native := b.String()
		b.Reset()
		b.WriteString(kd.explainPoint(tenant, key, native))
	}
	if sup == query.Superset {
		b.WriteString(" superset")
	}
	if s.server.FerretDB != "" {
		b.WriteString(" [FerretDB " + s.server.FerretDB + "]")
	}
	return b.String()
}

func (s *Store) compiler(kd *kindDef) compiler {
	return compiler{kd: kd, elemMatch: s.server.FerretDB == ""}
}

// find builds the filter and sort of a query. The filter starts with the
// tenant, so the tenant is in every query by construction, and leads every
// index.
func (kd *kindDef) find(c compiler, tenant string, q backend.Query) (filter, sort bson.D, sup query.Support, err error) {
	fail := func(msg string) (bson.D, bson.D, query.Support, error) {
		return nil, nil, 0, &backend.Error{Op: "query", Kind: kd.kind.Name, Err: backend.ErrUnsupported,
			Cause: fmt.Errorf("mongo: %s", msg)}
	}
	var parts []bson.D
	sup = query.Exact
	if q.Filter != nil {
		var f bson.D
		f, sup = c.compile(q.Filter, scope{})
		if sup == query.Unsupported {
			return fail("filter " + q.Filter.String() + " cannot be executed natively")
		}
		parts = append(parts, f)
	}
	key := fieldRecID
	var n *node
	desc := false
	if len(q.Sort) > 0 {
		if n = kd.sortNode(q.Sort); n == nil {
			return fail("sort " + q.Sort.String() + " cannot be executed natively")
		}
		key, desc = n.path, q.Sort[0].Desc
	}
	dir, after := 1, "$gt"
	if desc != q.Reverse {
		dir, after = -1, "$lt"
	}
	sort = bson.D{{Key: key, Value: dir}}
	if n != nil {
		sort = append(sort, bson.E{Key: fieldRecID, Value: dir})
	}
	if p := q.After; p != nil {
		if n == nil {
			parts = append(parts, cond(fieldRecID, after, p.ID))
		} else {
			if len(p.Values) != 1 {
				return fail("position does not fit the sort")
			}
			v, ok := n.encode(p.Values[0])
			if !ok {
				return fail("position value does not fit the sort attribute")
			}
			// Strictly after (v, id) in scan order.
			parts = append(parts, or(
				cond(key, after, v),
				bson.D{{Key: key, Value: v}, {Key: fieldRecID, Value: bson.D{{Key: after, Value: p.ID}}}},
			))
		}
	}
	filter = append(bson.D{{Key: fieldTenant, Value: tenant}}, and(parts...)...)
	return filter, sort, sup, nil
}
