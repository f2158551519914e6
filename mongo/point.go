package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// On FerretDB every filter but {_id} reads and decodes the whole
// collection, so a query for one key of a unique index (`emails.value eq
// "ada@example.com"`, usually with the directory's status conditions
// beside it) would cost time linear in the collection. There the key's
// reservation names the record instead: one read of the reservation by
// _id for its owner, one read of the owner's record by _id. When that
// record lists the key, it is the one record that can hold it (reserve.go:
// every write of a key claims its reservation first, and two records list
// one key only in the windows reserve.go describes, which Verify reports),
// and the whole filter is checked on it in Go. When there is no
// reservation, or its owner does not list the key (an orphan, a pending
// claim, a key released meanwhile, or records written before the index
// was unique, which have no reservation), the lookup decides nothing and
// the query runs natively, as on MongoDB, where the native query is one
// indexed round trip and always runs.

// uniquePoint returns the reservation key of an eq on a unique index that
// e requires: e itself or a conjunct of its top-level ands.
func (kd *kindDef) uniquePoint(e query.Expr) (string, bool) {
	switch n := e.(type) {
	case *query.And:
		if n == nil {
			return "", false
		}
		if k, ok := kd.uniquePoint(n.Left); ok {
			return k, true
		}
		return kd.uniquePoint(n.Right)
	case *query.Compare:
		if n == nil || n.Op != query.OpEq {
			return "", false
		}
		sp, ok := backend.SpanOf(kd.indexes, n)
		if !ok || !sp.Point || !kd.indexes[sp.Index].Unique {
			return "", false
		}
		return reservationKey(kd.indexes[sp.Index].Name, sp.Lo), true
	}
	return "", false
}

// pointQuery reports whether q is answered by lookUp on this server: on
// FerretDB, a first page (any sort orders one record) of a filter that
// requires one unique key. It returns the key's reservation key.
func (kd *kindDef) pointQuery(q backend.Query) (string, bool) {
	if !kd.idOnly || q.After != nil {
		return "", false
	}
	return kd.uniquePoint(q.Filter)
}

// lookUp returns the record of the tenant that owns the reservation key
// and lists it, and whether it satisfies q.Filter; decided is false when
// there is no such record, and then the query must run natively.
func (kd *kindDef) lookUp(ctx context.Context, op, tenant, key string, q backend.Query) (rec backend.Record, match, decided bool, err error) {
	var res reservation
	err = kd.res.findDecode(ctx, kd.reservationFilter(tenant, key), &res)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return backend.Record{}, false, false, nil
	case err != nil:
		return backend.Record{}, false, false, mapError(op, q.Kind, "", err)
	}
	proj := append(dataProjection(), bson.E{Key: fieldUnique, Value: 1})
	raw, err := kd.coll.findOne(ctx, kd.recordFilter(tenant, res.Owner), options.FindOne().SetProjection(proj))
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return backend.Record{}, false, false, nil
	case err != nil:
		return backend.Record{}, false, false, mapError(op, q.Kind, res.Owner, err)
	}
	if !slices.Contains(uniqueKeys(raw), key) {
		return backend.Record{}, false, false, nil
	}
	rec, err = kd.decode(raw)
	if err != nil {
		return backend.Record{}, false, false, err
	}
	return rec, query.Eval(q.Filter, rec.Doc), true, nil
}

// explainPoint describes lookUp's reads of key, before native, the query
// that runs when they decide nothing.
func (kd *kindDef) explainPoint(tenant, key, native string) string {
	fj, err := bson.MarshalExtJSON(kd.reservationFilter(tenant, key), false, false)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%s.findOne(%s) then %s.findOne({\"_id\": <owner>}), filter checked in Go; when the owner does not hold the key: %s",
		kd.res.name(), fj, kd.coll.name(), native)
}
