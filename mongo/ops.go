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

// collection wraps a driver collection with the operations the store uses,
// each retried while FerretDB reports SQLite lock contention.
type collection struct {
	c *mongodrv.Collection
}

// busy reports whether err is FerretDB's "database is locked"
// (SQLITE_BUSY): the statement did not run, and running it again is safe.
func busy(err error) bool {
	var se mongodrv.ServerError
	return errors.As(err, &se) && (se.HasErrorMessage("SQLITE_BUSY") || se.HasErrorMessage("database is locked"))
}

// maxBusyRetries bounds the retries of one operation under lock contention.
const maxBusyRetries = 50

// retry runs f until it does not fail with busy, waiting a little longer
// each time.
func retry[T any](ctx context.Context, f func() (T, error)) (T, error) {
	delay := time.Millisecond
	for i := 0; ; i++ {
		v, err := f()
		if err == nil || !busy(err) || i == maxBusyRetries {
			return v, err
		}
		if err := sleep(ctx, delay); err != nil {
			return v, err
		}
		delay = min(2*delay, 50*time.Millisecond)
	}
}

func (c collection) name() string { return c.c.Name() }

func (c collection) insertOne(ctx context.Context, doc any) error {
	_, err := retry(ctx, func() (*mongodrv.InsertOneResult, error) { return c.c.InsertOne(ctx, doc) })
	return err
}

// findOne returns the first matching document; mongodrv.ErrNoDocuments
// when there is none.
func (c collection) findOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) (bson.Raw, error) {
	return retry(ctx, func() (bson.Raw, error) { return c.c.FindOne(ctx, filter, opts...).Raw() })
}

// findDecode decodes the first matching document into v.
func (c collection) findDecode(ctx context.Context, filter, v any) error {
	raw, err := c.findOne(ctx, filter)
	if err != nil {
		return err
	}
	return bson.Unmarshal(raw, v)
}

func (c collection) find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongodrv.Cursor, error) {
	return retry(ctx, func() (*mongodrv.Cursor, error) { return c.c.Find(ctx, filter, opts...) })
}

func (c collection) count(ctx context.Context, filter any) (int64, error) {
	return retry(ctx, func() (int64, error) { return c.c.CountDocuments(ctx, filter) })
}

func (c collection) updateOne(ctx context.Context, filter, update any) (*mongodrv.UpdateResult, error) {
	return retry(ctx, func() (*mongodrv.UpdateResult, error) { return c.c.UpdateOne(ctx, filter, update) })
}

func (c collection) updateMany(ctx context.Context, filter, update any) (*mongodrv.UpdateResult, error) {
	return retry(ctx, func() (*mongodrv.UpdateResult, error) { return c.c.UpdateMany(ctx, filter, update) })
}

func (c collection) replaceOne(ctx context.Context, filter, doc any) (*mongodrv.UpdateResult, error) {
	return retry(ctx, func() (*mongodrv.UpdateResult, error) { return c.c.ReplaceOne(ctx, filter, doc) })
}

func (c collection) deleteOne(ctx context.Context, filter any) (int64, error) {
	res, err := retry(ctx, func() (*mongodrv.DeleteResult, error) { return c.c.DeleteOne(ctx, filter) })
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

func (c collection) deleteMany(ctx context.Context, filter any) (int64, error) {
	res, err := retry(ctx, func() (*mongodrv.DeleteResult, error) { return c.c.DeleteMany(ctx, filter) })
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

// deleteIDs deletes the documents with the given _ids, in one round trip
// of one delete statement per _id: a filter {_id: <string>} each, which
// FerretDB finds by its index, where {_id: {$in: [...]}} would make it
// scan the collection.
func (c collection) deleteIDs(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	models := make([]mongodrv.WriteModel, len(ids))
	for i, id := range ids {
		models[i] = mongodrv.NewDeleteOneModel().SetFilter(bson.D{{Key: fieldID, Value: id}})
	}
	_, err := retry(ctx, func() (*mongodrv.BulkWriteResult, error) {
		return c.c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	})
	return err
}

// ensureIndexes creates the indexes that do not exist yet, in one
// command; an index whose name exists with other keys fails with the
// server's error. It sends nothing when every index exists, because
// FerretDB v1 drops the connection when a createIndexes command names
// several indexes that all exist already.
func (c collection) ensureIndexes(ctx context.Context, models []mongodrv.IndexModel) error {
	cur, err := retry(ctx, func() (*mongodrv.Cursor, error) { return c.c.Indexes().List(ctx) })
	if err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.name(), err)
	}
	var existing []struct {
		Key bson.D `bson:"key"`
	}
	if err := cur.All(ctx, &existing); err != nil {
		return fmt.Errorf("list indexes of %s: %w", c.name(), err)
	}
	exists := func(keys bson.D) bool {
		for _, e := range existing {
			if sameKeys(e.Key, keys) {
				return true
			}
		}
		return false
	}
	missing := slices.ContainsFunc(models, func(m mongodrv.IndexModel) bool {
		keys, _ := m.Keys.(bson.D)
		return !exists(keys)
	})
	if !missing {
		return nil
	}
	if _, err := retry(ctx, func() ([]string, error) { return c.c.Indexes().CreateMany(ctx, models) }); err != nil {
		return fmt.Errorf("create indexes of %s: %w", c.name(), err)
	}
	return nil
}

// sameKeys reports whether an existing index's key (whose directions the
// server may report as any numeric type) is keys.
func sameKeys(existing, keys bson.D) bool {
	if len(existing) != len(keys) {
		return false
	}
	for i := range keys {
		if existing[i].Key != keys[i].Key || fmt.Sprint(existing[i].Value) != fmt.Sprint(keys[i].Value) {
			return false
		}
	}
	return true
}

// swapOne is a compare-and-swap of the one document f selects: when its
// fields hold the values of state, write changes it (given the filter to
// write by) or, when write is nil, it is deleted; swapOne reports whether
// it was. With inFilter the state is part of the filter and the server
// applies filter and write atomically (MongoDB). Otherwise the document
// is read by f, its state compared in Go and the write made by f: a
// check-then-write, whose safety the caller provides (see writeAt and
// swapReservation). A field the document lacks compares as its zero value.
func (c collection) swapOne(ctx context.Context, f, state bson.D, inFilter bool, write func(f bson.D) (*mongodrv.UpdateResult, error)) (bool, error) {
	if inFilter {
		f = append(f, state...)
	} else {
		proj := make(bson.D, len(state))
		for i, e := range state {
			proj[i] = bson.E{Key: e.Key, Value: 1}
		}
		raw, err := c.findOne(ctx, f, options.FindOne().SetProjection(proj))
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if !holds(raw, state) {
			return false, nil
		}
	}
	if write == nil {
		n, err := c.deleteOne(ctx, f)
		return n == 1, err
	}
	res, err := write(f)
	if err != nil {
		return false, err
	}
	return res.MatchedCount == 1, nil
}

// holds reports whether the fields of raw have the values of state, each
// a string or an int64; a missing field has its zero value.
func holds(raw bson.Raw, state bson.D) bool {
	for _, e := range state {
		v := raw.Lookup(e.Key)
		switch want := e.Value.(type) {
		case string:
			if got, _ := v.StringValueOK(); got != want {
				return false
			}
		case int64:
			if got, _ := v.AsInt64OK(); got != want {
				return false
			}
		default:
			return false
		}
	}
	return true
}
