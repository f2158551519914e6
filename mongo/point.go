package mongo

import (
	"context"
	"errors"
	"fmt"

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
// _id for its owner, one read of the owner's record by _id, and the whole
// filter checked in Go. Every record that holds a unique key owns the
// key's reservation (reserve.go: a record lists a key only after its
// writer claimed it, and a reservation is released only once its owner's
// record no longer lists the key), so the owner is the only record that
// can match. A reservation whose owner's record does not hold the key
// (pending, orphaned or released meanwhile) yields nothing, which is also
// what the filter says. The windows in which two records may hold one key
// are reserve.go's, where Verify reports them; a record whose reservation
// was lost (Verify's ProblemMissing) is not found by that key until Verify
// repairs it.
//
// On MongoDB the native query is one indexed round trip, and stays.

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

// lookUp returns the record of the tenant that holds the reservation key
// and satisfies q.Filter, if there is one: the reservation's owner, read
// by _id, checked in Go.
func (kd *kindDef) lookUp(ctx context.Context, op, tenant, key string, q backend.Query) (backend.Record, bool, error) {
	var res struct {
		Owner string `bson:"o"`
	}
	raw, err := kd.res.findOne(ctx, kd.reservationFilter(tenant, key), options.FindOne().SetProjection(bson.D{{Key: fieldOwner, Value: 1}}))
	if err == nil {
		err = bson.Unmarshal(raw, &res)
	}
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return backend.Record{}, false, nil
	case err != nil:
		return backend.Record{}, false, mapError(op, q.Kind, "", err)
	}
	raw, err = kd.coll.findOne(ctx, kd.recordFilter(tenant, res.Owner), options.FindOne().SetProjection(dataProjection()))
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return backend.Record{}, false, nil
	case err != nil:
		return backend.Record{}, false, mapError(op, q.Kind, res.Owner, err)
	}
	rec, err := kd.decode(raw)
	if err != nil {
		return backend.Record{}, false, err
	}
	return rec, query.Eval(q.Filter, rec.Doc), nil
}

// explainPoint describes lookUp's reads of key.
func (kd *kindDef) explainPoint(tenant, key string) string {
	fj, err := bson.MarshalExtJSON(kd.reservationFilter(tenant, key), false, false)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("%s.findOne(%s) then %s.findOne({\"_id\": <owner>}), filter checked in Go", kd.res.name(), fj, kd.coll.name())
}
