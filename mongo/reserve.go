package mongo

import (
	"context"
	"errors"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
)

// Unique keys are enforced with reservation documents, because FerretDB
// has no transactions and compares arrays as a whole in unique indexes, and
// because a record's keys live in several documents' worth of values. A
// kind's reservations live in "<kind>_unique", one document per key:
//
//	{_id: reservationID(tenant, k), t: tenant, k: "<index>\x00<key hex>", o: owner id, n: nonce, s: "pending"|"held", e: lease expiry}
//
// The _id index makes a key's reservation unique, and every change of a
// reservation is a compare-and-swap on (owner, nonce), the one atomic step
// MongoDB offers across writers (swapReservation). A write that needs keys:
//
//  1. claims each key it does not hold yet, in one global order (index
//     position, then key bytes), as "pending" under a fresh nonce: by
//     inserting the reservation, or by taking over an existing one that
//     no record holds (see claimOne);
//  2. writes the record (version-guarded), whose "u" field lists its keys;
//  3. confirms its claims ("held"), a compare-and-swap on its nonce;
//  4. releases the keys its record no longer holds.
//
// A failure before 3 deletes the pending claims (matched by nonce, so never
// anyone else's) and the write reports its error; nothing else changed.
//
// Races, and why each is safe:
//
//   - Two creates of one key: one insert wins. The loser reads the winner's
//     reservation; if the winner's record already lists the key, the loser
//     fails with ErrAlreadyExists. If not, the winner may still be between
//     1 and 3, so the loser waits (polling) until the claim is confirmed or
//     abandoned or its lease expires; it never reports a clash with a write
//     that then fails, and waits form no cycle because claims follow one
//     global order.
//   - A held reservation whose owner's record does not list the key is an
//     orphan (a crash between a delete or replace and its release). It is
//     taken over by a compare-and-swap on the (owner, nonce) that was read.
//     The owner cannot come to hold the key again without claiming it anew,
//     which changes the nonce, so the swap cannot take a key back from
//     under a write that re-claimed it (no ABA).
//   - A pending reservation past its lease (its writer died between 1 and
//     3) is taken over the same way, unless the writer's record lists the
//     key (it died between 2 and 3): then the key is the record's. If the
//     writer was merely slow, its confirmation in 3 fails because the nonce
//     changed, and it undoes its record write (a version-guarded delete or
//     restore) and reports ErrAlreadyExists. Between its record write and
//     the undo, readers may see two records with the key; only a writer
//     stalled for longer than the lease opens that window, and Verify
//     reports it if the undo never happens.
//   - Releases re-check that the owner's record no longer lists the key
//     and delete by (owner, nonce), so a release never removes a
//     reservation a later write of the same record re-claimed.
//
// A crash leaves at worst orphan reservations (taken over on demand, or
// removed by Verify) or a pending reservation that blocks its key for one
// lease; never two records holding one key.
//
// On FerretDB the compare-and-swap updates and deletes above are not
// atomic, while inserts are. FerretDB evaluates a filter with more than
// _id in Go, after reading the whole collection, and then writes by _id;
// so on FerretDB swapReservation reads the one reservation by _id (a
// filter FerretDB finds by its index), compares it in Go and writes it by
// _id: the same check-then-write, without the scan. Claims of free keys,
// the common case, are inserts and stay exact. Takeovers, confirmations
// and releases race only over orphaned or expired reservations: a release
// racing a takeover can delete the takeover's claim, whose confirmation
// then fails (a spurious ErrAlreadyExists, nothing inconsistent); two
// takeovers of one orphan can both pass their check, and the confirmation
// of the one overwritten fails, unless it confirmed before the other's
// write landed, in which narrow interleaving both records keep the key and
// Verify reports it as ProblemDuplicate. MongoDB has none of these races.

// Reservation states.
const (
	statePending = "pending"
	stateHeld    = "held"
)

// reservation is the decoded state of a reservation document.
type reservation struct {
	Owner  string    `bson:"o"`
	Nonce  string    `bson:"n"`
	State  string    `bson:"s"`
	Expiry time.Time `bson:"e"`
}

// errMoved reports that a replace found its own record holding a key that
// the version it read did not: the record changed since it was read.
var errMoved = errors.New("mongo: record changed since it was read")

// cleanupTimeout bounds the operations that undo or tidy up after a write,
// which run even when the write's context is done so as to leave as little
// behind as possible.
const cleanupTimeout = 10 * time.Second

// writer carries one write's reservation work.
type writer struct {
	s       *Store
	kd      *kindDef
	op      string
	tenant  string
	id      string
	nonce   string
	claimed []string // reservation keys claimed pending under nonce
}

func (s *Store) newWriter(kd *kindDef, op, tenant, id string) *writer {
	return &writer{s: s, kd: kd, op: op, tenant: tenant, id: id, nonce: bson.NewObjectID().Hex()}
}

func (w *writer) err(sentinel error, index string, cause error) error {
	return &backend.Error{Op: w.op, Kind: w.kd.kind.Name, ID: w.id, Index: index, Err: sentinel, Cause: cause}
}

// claim claims keys in order. On failure it abandons what it claimed.
func (w *writer) claim(ctx context.Context, keys []string, create bool) error {
	for _, k := range keys {
		if err := w.claimOne(ctx, k, create); err != nil {
			w.abandon(ctx)
			return err
		}
	}
	return nil
}

// claimOne claims one key pending under w's nonce (see the comment at the
// top of this file).
func (w *writer) claimOne(ctx context.Context, key string, create bool) error {
	index, _ := splitReservationKey(key)
	delay := time.Millisecond
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := w.kd.res.insertOne(ctx, w.pending(key))
		if err == nil {
			w.claimed = append(w.claimed, key)
			return nil
		}
		if !isDuplicate(err) {
			return mapError(w.op, w.kd.kind.Name, w.id, err)
		}
		clash := err
		var r reservation
		err = w.kd.res.findDecode(ctx, w.kd.reservationFilter(w.tenant, key), &r)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			continue // released meanwhile: insert again
		}
		if err != nil {
			return mapError(w.op, w.kd.kind.Name, w.id, err)
		}
		holds, err := w.holds(ctx, r.Owner, key)
		if err != nil {
			return err
		}
		switch {
		case holds && r.Owner == w.id && create:
			// The record itself exists: creating it again is the clash.
			return w.err(backend.ErrAlreadyExists, "", clash)
		case holds && r.Owner == w.id:
			return errMoved
		case holds:
			return w.err(backend.ErrAlreadyExists, index, clash)
		case r.State == statePending && time.Now().Before(r.Expiry):
			// A write is between its claim and its confirmation: its
			// outcome decides ours.
			if err := sleep(ctx, delay); err != nil {
				return err
			}
			delay = min(2*delay, 50*time.Millisecond)
			continue
		}
		// No record holds the key: an orphan, or an expired claim. Take it
		// over if it is still what was read.
		ok, err := w.kd.swapReservation(ctx, w.tenant, key, r.expect(),
			bson.D{{Key: "$set", Value: w.claimFields(statePending)}})
		if err != nil {
			return mapError(w.op, w.kd.kind.Name, w.id, err)
		}
		if ok {
			w.claimed = append(w.claimed, key)
			return nil
		}
	}
}

// pending returns the reservation document of a fresh claim.
func (w *writer) pending(key string) bson.D {
	return append(bson.D{
		{Key: fieldID, Value: reservationID(w.tenant, key)},
		{Key: fieldTenant, Value: w.tenant},
		{Key: fieldKey, Value: key},
	}, w.claimFields(statePending)...)
}

// claimFields are the fields a claim sets: w as owner with its nonce, the
// state, and for a pending claim the end of its lease.
func (w *writer) claimFields(state string) bson.D {
	d := bson.D{
		{Key: fieldOwner, Value: w.id},
		{Key: fieldNonce, Value: w.nonce},
		{Key: fieldState, Value: state},
	}
	if state == statePending {
		d = append(d, bson.E{Key: fieldExpiry, Value: time.Now().Add(w.s.lease)})
	}
	return d
}

// holds reports whether the owner's record lists the key.
func (w *writer) holds(ctx context.Context, owner, key string) (bool, error) {
	return w.kd.holds(ctx, w.tenant, owner, key)
}

// holds reports whether owner's record lists key. It reads the record by
// its point filter and looks for the key in Go, on every server alike.
func (kd *kindDef) holds(ctx context.Context, tenant, owner, key string) (bool, error) {
	raw, err := kd.coll.findOne(ctx, kd.recordFilter(tenant, owner), options.FindOne().SetProjection(bson.D{{Key: fieldUnique, Value: 1}}))
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, mapError("reserve", kd.kind.Name, owner, err)
	}
	return slices.Contains(uniqueKeys(raw), key), nil
}

// expect is the state a compare-and-swap of a reservation expects: its
// owner and nonce, and its state unless state is "".
type expect struct {
	owner, nonce, state string
}

// expect returns r's state, for a compare-and-swap of r as read.
func (r reservation) expect() expect {
	return expect{owner: r.Owner, nonce: r.Nonce, state: r.State}
}

// swapReservation applies update to the reservation of key, or deletes the
// reservation when update is nil, if it is in the state want; it reports
// whether it did.
//
// On MongoDB the state is part of the filter, {t, _id, o, n[, s]}, and
// the swap is atomic. On FerretDB the filter would make it read and decode
// the whole collection, and the swap would still not be atomic (it checks
// the filter, then writes by _id): there the reservation is read by _id,
// compared in Go and written by _id, the same check-then-write with a
// filter FerretDB finds by its index; the comment at the top of this file
// says what that leaves open. No ticket guards reservations: their
// transitions out of a live claim are the claim's owner's alone, and the
// races are over orphans and expired claims.
func (kd *kindDef) swapReservation(ctx context.Context, tenant, key string, want expect, update bson.D) (bool, error) {
	state := bson.D{{Key: fieldOwner, Value: want.owner}, {Key: fieldNonce, Value: want.nonce}}
	if want.state != "" {
		state = append(state, bson.E{Key: fieldState, Value: want.state})
	}
	var write func(bson.D) (*mongodrv.UpdateResult, error)
	if update != nil {
		write = func(f bson.D) (*mongodrv.UpdateResult, error) { return kd.res.updateOne(ctx, f, update) }
	}
	return kd.res.swapOne(ctx, kd.reservationFilter(tenant, key), state, !kd.idOnly, write)
}

// claimedFilter selects, on MongoDB, the reservations w claimed that are
// still its own, so that one round trip confirms or abandons them all. On
// FerretDB, where {_id: {$in: ...}} is a scan, w swaps them one by one
// (swapClaims).
func (w *writer) claimedFilter() bson.D {
	ids := make(bson.A, len(w.claimed))
	for i, k := range w.claimed {
		ids[i] = reservationID(w.tenant, k)
	}
	return bson.D{
		{Key: fieldTenant, Value: w.tenant},
		{Key: fieldID, Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: fieldOwner, Value: w.id},
		{Key: fieldNonce, Value: w.nonce},
	}
}

// swapClaims applies update (nil: delete) to each reservation w claimed
// that is still its own and, unless state is "", in that state; it returns
// how many it changed.
func (w *writer) swapClaims(ctx context.Context, state string, update bson.D) (int, error) {
	if !w.kd.idOnly {
		f := w.claimedFilter()
		if state != "" {
			f = append(f, bson.E{Key: fieldState, Value: state})
		}
		if update == nil {
			n, err := w.kd.res.deleteMany(ctx, f)
			return int(n), err
		}
		res, err := w.kd.res.updateMany(ctx, f, update)
		if err != nil {
			return 0, err
		}
		return int(res.MatchedCount), nil
	}
	n := 0
	for _, k := range w.claimed {
		ok, err := w.kd.swapReservation(ctx, w.tenant, k, expect{owner: w.id, nonce: w.nonce, state: state}, update)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// abandon deletes w's claims. It runs even when ctx is done; a claim it
// fails to delete expires with its lease.
func (w *writer) abandon(ctx context.Context) {
	if len(w.claimed) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, _ = w.swapClaims(ctx, "", nil)
	w.claimed = nil
}

// confirm turns w's claims into held reservations after its record write.
// It fails with ErrAlreadyExists when a claim was taken over meanwhile
// (its lease expired); the caller must then undo its record write, and the
// claims still w's are abandoned.
func (w *writer) confirm(ctx context.Context) error {
	if len(w.claimed) == 0 {
		return nil
	}
	n, err := w.swapClaims(ctx, statePending, bson.D{
		{Key: "$set", Value: bson.D{{Key: fieldState, Value: stateHeld}}},
		{Key: "$unset", Value: bson.D{{Key: fieldExpiry, Value: ""}}},
	})
	if err != nil {
		w.abandon(ctx)
		return mapError(w.op, w.kd.kind.Name, w.id, err)
	}
	if n == len(w.claimed) {
		return nil
	}
	lost := w.lostIndex(ctx)
	w.abandon(ctx)
	return w.err(backend.ErrAlreadyExists, lost, errLeaseLost)
}

// errLeaseLost is the cause of a write that lost a reservation because it
// took longer than the lease.
var errLeaseLost = errors.New("mongo: unique key reservation taken over after its lease expired")

// lostIndex names the index of a claim that is no longer w's. It reads
// the claims one by one: it runs only after a lease was lost.
func (w *writer) lostIndex(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, k := range w.claimed {
		var r reservation
		err := w.kd.res.findDecode(ctx, w.kd.reservationFilter(w.tenant, k), &r)
		if (err == nil && (r.Owner != w.id || r.Nonce != w.nonce)) || errors.Is(err, mongodrv.ErrNoDocuments) {
			index, _ := splitReservationKey(k)
			return index
		}
	}
	return ""
}

// release removes the held reservations of keys the record no longer
// lists. It is best effort: the write has committed, and a reservation it
// leaves behind is an orphan that the next claim of the key takes over.
func (w *writer) release(ctx context.Context, keys []string) {
	if len(keys) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, k := range keys {
		_ = w.kd.releaseOne(ctx, w.tenant, w.id, k)
	}
}

// releaseOne deletes owner's held reservation of key unless owner's record
// lists the key. The reservation is read before the record, and deleted
// only with the nonce read, so a re-claim in between survives.
func (kd *kindDef) releaseOne(ctx context.Context, tenant, owner, key string) error {
	var r reservation
	err := kd.res.findDecode(ctx, kd.reservationFilter(tenant, key), &r)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.Owner != owner || r.State != stateHeld {
		return nil
	}
	holds, err := kd.holds(ctx, tenant, owner, key)
	if err != nil || holds {
		return err
	}
	_, err = kd.swapReservation(ctx, tenant, key, r.expect(), nil)
	return err
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
