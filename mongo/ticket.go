package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Write tickets make conditional writes atomic on FerretDB.
//
// MongoDB applies an update or delete whose filter names the expected
// version ({_id, v}) atomically, which is all a compare-and-swap needs.
// FerretDB v1 does not: it selects the matching documents, evaluates the
// filter in Go and then writes by _id, so two writers that read one version
// both "match" and one update is lost (measured: 632 successful guarded
// updates advanced a version by 136). Its inserts are atomic, though, since
// _id is a SQLite primary key. So on FerretDB a write that moves a record
// from version v to v+1 (a replace or a delete) first inserts a ticket
//
//	{_id: {t: tenant, i: id, g: generation, v: v+1, a: attempt}, t, i, g, v, a, e: lease expiry, r: released}
//
// into "<kind>_writes": one writer per transition wins, and only it runs
// the guarded write, whose non-atomic check then has no competitor. A
// writer whose ticket is taken reports a conflict (the winner's write goes
// first). The generation g is a nonce of the record's incarnation, so the
// tickets of a deleted record never block a new record with its id.
//
// A writer that fails after taking its ticket marks it released, and the
// next writer takes the transition with the next attempt number; attempt
// numbers are never reused, so a released or expired ticket never lets two
// writers in. A writer that dies holding a ticket blocks the record's
// writes for one lease, after which the next writer takes the next
// attempt. (A live writer stalled longer than the lease could then race the
// one that took over: the lease bounds that, as it bounds reservations.)
// A successful writer leaves its ticket in place (it keeps writers that
// read the old version out without a lookup), and tickets of older
// transitions are deleted every few writes and when the record is deleted.
type ticket struct {
	kd     *kindDef
	tenant string
	id     string
	gen    string
	v      int64
	a      int64
}

// ticketsSuffix names a kind's ticket collection: "users_writes".
const ticketsSuffix = "_writes"

// ticketGCEvery is how many versions pass between deletions of a record's
// old tickets.
const ticketGCEvery = 8

// errBusyTicket reports that another write holds the transition.
var errBusyTicket = errors.New("mongo: another write of the record is in progress")

// takeTicket takes the transition of a record to version v.
func (kd *kindDef) takeTicket(ctx context.Context, lease time.Duration, tenant, id, gen string, v int64) (*ticket, error) {
	t := &ticket{kd: kd, tenant: tenant, id: id, gen: gen, v: v}
	for {
		err := kd.tix.insertOne(ctx, bson.D{
			{Key: fieldID, Value: bson.D{{Key: fieldTenant, Value: tenant}, {Key: fieldRecID, Value: id}, {Key: fieldGen, Value: gen}, {Key: fieldVersion, Value: v}, {Key: "a", Value: t.a}}},
			{Key: fieldTenant, Value: tenant},
			{Key: fieldRecID, Value: id},
			{Key: fieldGen, Value: gen},
			{Key: fieldVersion, Value: v},
			{Key: "a", Value: t.a},
			{Key: fieldExpiry, Value: time.Now().Add(lease)},
		})
		if err == nil {
			return t, nil
		}
		if !isDuplicate(err) {
			return nil, err
		}
		var last struct {
			A        int64     `bson:"a"`
			Expiry   time.Time `bson:"e"`
			Released bool      `bson:"r"`
		}
		raw, err := kd.tix.findOne(ctx, t.transition(), options.FindOne().SetSort(bson.D{{Key: "a", Value: -1}}))
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			// Collected meanwhile: the record has moved past this
			// transition, which the guarded write will find out.
			continue
		}
		if err == nil {
			err = bson.Unmarshal(raw, &last)
		}
		if err != nil {
			return nil, err
		}
		if !last.Released && time.Now().Before(last.Expiry) {
			return nil, errBusyTicket
		}
		t.a = last.A + 1
	}
}

// transition selects the tickets of t's transition.
func (t *ticket) transition() bson.D {
	return bson.D{{Key: fieldTenant, Value: t.tenant}, {Key: fieldRecID, Value: t.id}, {Key: fieldGen, Value: t.gen}, {Key: fieldVersion, Value: t.v}}
}

// release gives the transition up after a failed write. A nil ticket (on
// MongoDB) does nothing.
func (t *ticket) release(ctx context.Context) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = t.kd.tix.updateOne(ctx, append(t.transition(), bson.E{Key: "a", Value: t.a}),
		bson.D{{Key: "$set", Value: bson.D{{Key: "r", Value: true}}}})
}

// done tidies up after a successful write: every few versions, or when the
// record is gone, the tickets no writer can need any more are deleted.
func (t *ticket) done(ctx context.Context, deleted bool) {
	if t == nil || (!deleted && t.v%ticketGCEvery != 0) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	f := bson.D{{Key: fieldTenant, Value: t.tenant}, {Key: fieldRecID, Value: t.id}, {Key: fieldGen, Value: t.gen}}
	if !deleted {
		f = append(f, bson.E{Key: fieldVersion, Value: bson.D{{Key: "$lt", Value: t.v}}})
	}
	_, _ = t.kd.tix.deleteMany(ctx, f)
}
