package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
)

// Write tickets make conditional writes atomic on FerretDB.
//
// MongoDB applies an update or delete whose filter names the expected
// state ({t, _id, v, g}) atomically, which is all a compare-and-swap needs.
// FerretDB v1 does not: it selects the matching documents, evaluates the
// filter in Go and then writes by _id, so two writers that read one version
// both "match" and one update is lost (measured: 632 successful guarded
// updates advanced a version by 136). Its inserts are atomic, though, since
// _id is a SQLite primary key. So on FerretDB a write that moves a record
// from version v to v+1 (a replace, a delete, or the undo of a write at v)
// first inserts a ticket
//
//	{_id: ticketID(tenant, id, g, v+1, a), t, i, g, v: v+1, a, e: lease expiry, r: released}
//
// into "<kind>_writes": one writer per transition wins, and only it runs
// the guarded write (writeAt in write.go), whose check then has no
// competitor. A writer whose ticket is taken reports a conflict (the
// winner's write goes first). The generation g is a nonce of the record's
// incarnation, so the tickets of a deleted record never block a new record
// with its id.
//
// A writer that fails after taking its ticket marks it released, and the
// next writer takes the transition with the next attempt number: it tries
// the attempts in order, 0 first, and moves past one only after reading it
// released or expired, so attempt numbers are never reused and a released
// or expired ticket never lets two writers in. A writer that dies holding a
// ticket blocks the record's writes for one lease, after which the next
// writer takes the next attempt. (A live writer stalled longer than the
// lease could then race the one that took over: the lease bounds that, as
// it bounds reservations.) A successful writer leaves its ticket in place
// (it keeps writers that read the old version out without a lookup), and
// tickets of older transitions are deleted every few writes and when the
// record is deleted.
//
// Every ticket operation names one ticket by its string _id, the one filter
// FerretDB pushes down: taking a ticket is an insert and, on a clash, the
// read of that attempt; releasing is an update by _id; collecting is a
// batch of deletes by _id of the attempts a record's recent transitions
// can have. A ticket that collection misses (an attempt past
// ticketGCAttempts, or one a crash left) only takes space: tickets are
// never scanned, and the guarded write's check turns away a writer that
// wins a transition the record has passed.
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

// ticketGCAttempts is how many attempts per transition the deletion of old
// tickets covers.
const ticketGCAttempts = 4

// errBusyTicket reports that another write holds the transition.
var errBusyTicket = errors.New("mongo: another write of the record is in progress")

// takeTicket takes the transition of a record to version v.
func (kd *kindDef) takeTicket(ctx context.Context, lease time.Duration, tenant, id, gen string, v int64) (*ticket, error) {
	t := &ticket{kd: kd, tenant: tenant, id: id, gen: gen, v: v}
	for {
		err := kd.tix.insertOne(ctx, bson.D{
			{Key: fieldID, Value: t.docID()},
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
		var held struct {
			Expiry   time.Time `bson:"e"`
			Released bool      `bson:"r"`
		}
		err = kd.tix.findDecode(ctx, t.filter(), &held)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			// Collected meanwhile: the record has moved past this
			// transition, which the guarded write will find out.
			continue
		}
		if err != nil {
			return nil, err
		}
		if !held.Released && time.Now().Before(held.Expiry) {
			return nil, errBusyTicket
		}
		t.a++
	}
}

// docID is the _id of t.
func (t *ticket) docID() string { return ticketID(t.tenant, t.id, t.gen, t.v, t.a) }

// filter selects t.
func (t *ticket) filter() bson.D { return bson.D{{Key: fieldID, Value: t.docID()}} }

// release gives the transition up after a failed write. A nil ticket (on
// MongoDB) does nothing.
func (t *ticket) release(ctx context.Context) {
	if t == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = t.kd.tix.updateOne(ctx, t.filter(), bson.D{{Key: "$set", Value: bson.D{{Key: "r", Value: true}}}})
}

// done tidies up after a successful write: every ticketGCEvery versions it
// deletes the tickets of the transitions since the last such deletion, and
// when the record is gone, all of its generation's that can be left.
func (t *ticket) done(ctx context.Context, deleted bool) {
	if t == nil || (!deleted && t.v%ticketGCEvery != 0) {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	// The last deletion ran at the last multiple of ticketGCEvery below
	// t.v and kept that version's tickets; versions start at 1, so the
	// first transition is to 2.
	from, to := max((t.v-1)/ticketGCEvery*ticketGCEvery, 2), t.v-1
	if deleted {
		to = t.v
	}
	var ids []string
	for v := from; v <= to; v++ {
		for a := range int64(ticketGCAttempts) {
			ids = append(ids, ticketID(t.tenant, t.id, t.gen, v, a))
		}
	}
	_ = t.kd.tix.deleteIDs(ctx, ids)
}
