package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/mongo"
)

// importWorkers is how many Import calls build a mongo dataset at once:
// setup time on a server is mostly round trips, which overlap.
const importWorkers = 8

// mongoRows measures the mongo backend: P1, P2, P3 and P10. Each dataset
// lives in a database of its own, made for the run and dropped after it.
func (b *bench) mongoRows(ctx context.Context) error {
	n := b.cfg.users
	name := fmt.Sprintf("userdir_bench_%d", time.Now().UnixNano()%1_000_000_000)
	open := func(db string, users int) (*directory.Directory, *mongo.Store, error) {
		st, err := mongo.Open(ctx, b.cfg.mongoURI, db, mongo.Options{})
		if err != nil {
			return nil, nil, err
		}
		// The cache is off by default on a shared backend; say so anyway.
		d, err := b.directory(st, 0)
		if err != nil {
			return nil, nil, errors.Join(err, st.Close())
		}
		start := time.Now()
		err = importAll(ctx, d.Users(tenant), b.ds.all, 0, users, importWorkers)
		b.log.Printf("mongo: imported %d users into %s in %v", users, db, time.Since(start).Round(time.Millisecond))
		if err != nil {
			st.Database().Drop(context.WithoutCancel(ctx))
			d.Close()
			return nil, nil, err
		}
		return d, st, nil
	}
	drop := func(d *directory.Directory, st *mongo.Store) {
		if err := st.Database().Drop(context.WithoutCancel(ctx)); err != nil {
			b.log.Printf("mongo: drop %s: %v", st.Database().Name(), err)
		}
		d.Close()
	}
	b.log.Printf("mongo: importing %d users", n)
	dir, st, err := open(name, n)
	if err != nil {
		return err
	}
	defer drop(dir, st)
	users := dir.Users(tenant)
	s := b.ds.pick(n, 1)

	if b.want("P1") {
		// A record's _id is "<len(tenant)>:<tenant>:<id>" (see the mongo
		// package's layout).
		coll := st.Database().Collection("users")
		filters := make([]bson.D, len(s.ids))
		for i, id := range s.ids {
			filters[i] = bson.D{{Key: "_id", Value: fmt.Sprintf("%d:%s:%s", len(tenant), tenant, id)}}
			if _, err := coll.FindOne(ctx, filters[i]).Raw(); err != nil {
				return fmt.Errorf("P1: raw read of %s: %w (has the mongo document layout changed?)", id, err)
			}
		}
		base := func(i int) error {
			raw, err := coll.FindOne(ctx, filters[i%len(filters)]).Raw()
			if err == nil && len(raw) == 0 {
				err = errors.New("empty document")
			}
			return err
		}
		m, err := b.compare("P1-mongo", wallClock().loop(getOp(ctx, users, s)), wallClock().loop(base), false)
		b.add(row{id: "P1", backend: "mongo",
			what:     "`Users.Get` by id",
			baseline: "driver `FindOne` by `_id` into `bson.Raw`",
			target:   target{value: 1.1}, clock: "wall", m: m, err: err})
	}

	var small *directory.Users
	if b.want("P10") {
		sd, sst, err := open(name+"_small", n/10)
		if err != nil {
			return err
		}
		defer drop(sd, sst)
		small = sd.Users(tenant)
	}
	return b.queryRows(ctx, "mongo", users, small)
}
