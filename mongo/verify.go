package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The problems Verify reports.
const (
	// ProblemOrphan is a reservation whose owner's record does not list
	// the key: a crash between a delete or replace and its release, or
	// between a claim and the record write. Repair deletes it.
	ProblemOrphan = "orphan reservation"
	// ProblemUnconfirmed is a pending reservation past its lease whose
	// owner's record lists the key: a crash between the record write and
	// the confirmation. Repair confirms it.
	ProblemUnconfirmed = "unconfirmed reservation"
	// ProblemMissing is a key a record lists with no reservation of its
	// own. Repair reserves it for the record, taking over an orphan.
	ProblemMissing = "missing reservation"
	// ProblemDuplicate is a key two records list. Verify cannot choose
	// between them; the records must be fixed by hand.
	ProblemDuplicate = "duplicate key"
)

// Issue is one inconsistency between records and reservations.
type Issue struct {
	Kind     string
	Tenant   string
	Index    string // the unique index
	Key      []byte // the index key, as query.AppendKey encodes it
	ID       string // the record concerned: the reservation's owner, or the record that lists the key
	Problem  string // one of the Problem constants
	Repaired bool
}

// String describes the issue on one line.
func (i Issue) String() string {
	s := fmt.Sprintf("%s: %s/%s %q index %s key %x", i.Problem, i.Tenant, i.Kind, i.ID, i.Index, i.Key)
	if i.Repaired {
		s += " (repaired)"
	}
	return s
}

// Verify checks every defined kind's unique-key reservations against its
// records, across all tenants, and reports each inconsistency; with repair
// it also fixes those it can (see the Problem constants). A healthy store
// reports none. Pending reservations within their lease belong to writes
// in flight and are left alone; Verify may run while the store is in use,
// and its repairs are compare-and-swaps that never undo a concurrent
// write's reservation.
func (s *Store) Verify(ctx context.Context, repair bool) ([]Issue, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, errors.New("mongo: verify: store closed")
	}
	kinds := *s.kinds.Load()
	names := make([]string, 0, len(kinds))
	for name := range kinds {
		names = append(names, name)
	}
	slices.Sort(names)
	var issues []Issue
	for _, name := range names {
		kd := kinds[name]
		found, err := s.verifyReservations(ctx, kd, repair)
		issues = append(issues, found...)
		if err != nil {
			return issues, fmt.Errorf("mongo: verify %s: %w", name, err)
		}
		found, err = s.verifyRecords(ctx, kd, repair)
		issues = append(issues, found...)
		if err != nil {
			return issues, fmt.Errorf("mongo: verify %s: %w", name, err)
		}
	}
	return issues, nil
}

// storedReservation is a reservation document as Verify reads it.
type storedReservation struct {
	Tenant string    `bson:"t"`
	Key    string    `bson:"k"`
	Owner  string    `bson:"o"`
	Nonce  string    `bson:"n"`
	State  string    `bson:"s"`
	Expiry time.Time `bson:"e"`
}

// verifyReservations finds reservations that no record backs.
func (s *Store) verifyReservations(ctx context.Context, kd *kindDef, repair bool) ([]Issue, error) {
	cur, err := kd.res.find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: fieldID, Value: 1}}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var issues []Issue
	for cur.Next(ctx) {
		var r storedReservation
		if err := cur.Decode(&r); err != nil {
			return issues, err
		}
		if r.State == statePending && time.Now().Before(r.Expiry) {
			continue
		}
		holds, err := kd.holds(ctx, r.Tenant, r.Owner, r.Key)
		if err != nil {
			return issues, err
		}
		if holds && r.State == stateHeld {
			continue
		}
		index, key := splitReservationKey(r.Key)
		is := Issue{Kind: kd.kind.Name, Tenant: r.Tenant, Index: index, Key: key, ID: r.Owner, Problem: ProblemOrphan}
		same := expect{owner: r.Owner, nonce: r.Nonce, state: r.State}
		if holds {
			is.Problem = ProblemUnconfirmed
			if repair {
				is.Repaired, err = kd.swapReservation(ctx, r.Tenant, r.Key, same, bson.D{
					{Key: "$set", Value: bson.D{{Key: fieldState, Value: stateHeld}}},
					{Key: "$unset", Value: bson.D{{Key: fieldExpiry, Value: ""}}},
				})
				if err != nil {
					return issues, err
				}
			}
		} else if repair {
			is.Repaired, err = kd.swapReservation(ctx, r.Tenant, r.Key, same, nil)
			if err != nil {
				return issues, err
			}
		}
		issues = append(issues, is)
	}
	return issues, cur.Err()
}

// verifyRecords finds keys that records list without a reservation.
func (s *Store) verifyRecords(ctx context.Context, kd *kindDef, repair bool) ([]Issue, error) {
	cur, err := kd.coll.find(ctx, bson.D{{Key: fieldUnique, Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: fieldTenant, Value: 1}, {Key: fieldRecID, Value: 1}, {Key: fieldUnique, Value: 1}}).
			SetSort(bson.D{{Key: fieldID, Value: 1}}))
	if err != nil {
		return nil, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	var issues []Issue
	for cur.Next(ctx) {
		tenant, _ := cur.Current.Lookup(fieldTenant).StringValueOK()
		id, _ := cur.Current.Lookup(fieldRecID).StringValueOK()
		w := s.newWriter(kd, "verify", tenant, id)
		for _, k := range uniqueKeys(cur.Current) {
			var r reservation
			err := kd.res.findDecode(ctx, kd.reservationFilter(tenant, k), &r)
			missing := errors.Is(err, mongodrv.ErrNoDocuments)
			if err != nil && !missing {
				return issues, err
			}
			if !missing && r.Owner == id {
				continue
			}
			index, key := splitReservationKey(k)
			is := Issue{Kind: kd.kind.Name, Tenant: tenant, Index: index, Key: key, ID: id, Problem: ProblemMissing}
			if !missing {
				holds, err := kd.holds(ctx, tenant, r.Owner, k)
				if err != nil {
					return issues, err
				}
				if holds {
					is.Problem = ProblemDuplicate
					issues = append(issues, is)
					continue
				}
			}
			if repair {
				held := w.claimFields(stateHeld)
				if missing {
					doc := append(bson.D{{Key: fieldID, Value: reservationID(tenant, k)}, {Key: fieldTenant, Value: tenant}, {Key: fieldKey, Value: k}}, held...)
					err = kd.res.insertOne(ctx, doc)
					is.Repaired = err == nil
				} else {
					is.Repaired, err = kd.swapReservation(ctx, tenant, k, expect{owner: r.Owner, nonce: r.Nonce},
						bson.D{{Key: "$set", Value: held}, {Key: "$unset", Value: bson.D{{Key: fieldExpiry, Value: ""}}}})
				}
				if err != nil && !isDuplicate(err) {
					return issues, err
				}
			}
			issues = append(issues, is)
		}
	}
	return issues, cur.Err()
}
