package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
)

// sentFilter is one filter the store sent: the command, the collection and
// the filter document.
type sentFilter struct {
	cmd, coll string
	filter    bson.Raw
}

func (f sentFilter) String() string {
	return fmt.Sprintf("%s %s %s", f.cmd, f.coll, f.filter)
}

// filterRecorder collects the filters of the commands a client sends while
// it is on.
type filterRecorder struct {
	mu      sync.Mutex
	on      bool
	filters []sentFilter
	other   []string // commands with a filter of a kind not recorded
}

func (r *filterRecorder) set(on bool) {
	r.mu.Lock()
	r.on = on
	r.mu.Unlock()
}

// started is the client's CommandMonitor.Started.
func (r *filterRecorder) started(_ context.Context, e *event.CommandStartedEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.on {
		return
	}
	coll, _ := e.Command.Lookup(e.CommandName).StringValueOK()
	add := func(v bson.RawValue) {
		if d, ok := v.DocumentOK(); ok {
			r.filters = append(r.filters, sentFilter{cmd: e.CommandName, coll: coll, filter: d})
		}
	}
	statements := func(field string) {
		arr, ok := e.Command.Lookup(field).ArrayOK()
		if !ok {
			r.other = append(r.other, e.CommandName+" without "+field)
			return
		}
		vals, _ := arr.Values()
		for _, v := range vals {
			if d, ok := v.DocumentOK(); ok {
				add(d.Lookup("q"))
			}
		}
	}
	switch e.CommandName {
	case "find":
		add(e.Command.Lookup("filter"))
	case "update":
		statements("updates")
	case "delete":
		statements("deletes")
	case "insert", "endSessions", "hello", "isMaster", "ping", "killCursors", "getMore":
	default:
		r.other = append(r.other, e.CommandName)
	}
}

func (r *filterRecorder) sent() ([]sentFilter, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.filters, r.other
}

// TestPointOpsPushedDown records every filter the store sends for point
// operations, the reads and writes of Get, Create, Replace and Delete, the
// reservation claims, lookups, confirmations and releases, write tickets,
// and Verify's per-record lookups, and checks that the server finds each
// document by its _id index: on FerretDB, where only a filter {_id:
// <string>} alone is pushed down to SQLite (anything else reads and
// decodes the whole collection), each filter must be exactly that, and
// FerretDB's explain must report filterPushdown for it; on MongoDB each
// must lead with the tenant and name a string _id, and explain's winning
// plan must use the _id index.
func TestPointOpsPushedDown(t *testing.T) {
	uri := testURI(t)
	ctx := context.Background()
	rec := &filterRecorder{}
	client, err := mongodrv.Connect(options.Client().ApplyURI(uri).SetMonitor(&event.CommandMonitor{Started: rec.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = client.Disconnect(ctx)
	})
	db := testDatabase(t, client)
	s, err := New(ctx, client, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ferret := s.Server().FerretDB != ""
	users := testDirectory(t, s).Users("acme")
	ada := mustCreate(t, users, directory.User{UserName: "ada", Emails: []directory.Email{{Value: "ada@example.com"}}})
	bob := mustCreate(t, users, directory.User{UserName: "bob"})

	rec.set(true)
	// A Get.
	if _, err := users.Get(ctx, ada.ID); err != nil {
		t.Fatal(err)
	}
	// Versioned writes that claim a key, confirm it and release one, past
	// a collection of old tickets (every ticketGCEvery versions).
	for i := range ticketGCEvery + 1 {
		if _, err := users.Update(ctx, ada.ID, func(u *directory.User) error {
			u.Emails = []directory.Email{{Value: fmt.Sprintf("ada%d@example.com", i)}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// On FerretDB, lists and counts by one unique key that a record
	// holds, which read the key's reservation and then its owner's record.
	if ferret {
		for _, f := range []string{`userName eq "ADA"`, `userName eq "bob" and title pr`} {
			if _, err := users.List(ctx, directory.ListOptions{Filter: f, Total: true}); err != nil {
				t.Fatalf("list %s: %v", f, err)
			}
		}
	}
	// A reservation lookup: the clash of a taken userName, and of a taken
	// id.
	if _, err := users.Create(ctx, directory.User{UserName: "ADA"}); !errors.Is(err, directory.ErrAlreadyExists) {
		t.Fatalf("create with a taken userName: %v", err)
	}
	bobRec := mustRecord(t, s, "acme", bob.ID)
	if _, err := s.Create(ctx, "acme", "users", bob.ID, bobRec.Doc); !errors.Is(err, backend.ErrAlreadyExists) {
		t.Fatalf("create with a taken id: %v", err)
	}
	// A create that claims a released key.
	mustCreate(t, users, directory.User{UserName: "cy", Emails: []directory.Email{{Value: "ada@example.com"}}})
	// A write that takes its ticket and then fails on a taken key, which
	// releases the ticket.
	if _, err := users.Update(ctx, ada.ID, func(u *directory.User) error { u.UserName = "CY"; return nil }); !errors.Is(err, directory.ErrAlreadyExists) {
		t.Fatalf("update to a taken userName: %v", err)
	}
	// A write whose ticket clashes with the released one: it reads it and
	// takes the next attempt.
	if _, err := users.Update(ctx, ada.ID, func(u *directory.User) error { u.Title = "Countess"; return nil }); err != nil {
		t.Fatal(err)
	}
	// A stale conditional write, and a delete.
	if _, err := s.Replace(ctx, "acme", "users", bob.ID, bobRec.Doc, bobRec.Version+1); !errors.Is(err, backend.ErrConflict) {
		t.Fatalf("replace at a wrong version: %v", err)
	}
	if err := s.Delete(ctx, "acme", "users", bob.ID, bobRec.Version); err != nil {
		t.Fatal(err)
	}
	// Verify: two whole-collection passes, and a lookup per key.
	if issues, err := s.Verify(ctx, false); err != nil || len(issues) != 0 {
		t.Fatalf("verify: %v, %v", issues, err)
	}
	rec.set(false)

	filters, other := rec.sent()
	if len(other) > 0 {
		t.Errorf("commands other than find, update, delete and insert were sent: %q", other)
	}
	seen := map[string]bool{}
	perColl := map[string]int{}
	for _, f := range filters {
		if seen[f.String()] {
			continue
		}
		seen[f.String()] = true
		if verifyScan(f) {
			t.Logf("scan (Verify): %s", f)
			continue
		}
		perColl[f.coll+" "+f.cmd]++
		t.Logf("point: %s", f)
		checkPointFilter(t, s, f, ferret)
	}
	want := []string{"users find", "users update", "users delete", "users_unique find", "users_unique update", "users_unique delete"}
	if ferret {
		want = append(want, "users_writes find", "users_writes update", "users_writes delete")
	}
	for _, w := range want {
		if perColl[w] == 0 {
			t.Errorf("the workload sent no %s: %v", w, perColl)
		}
	}

	// What SQLite makes of a pushed-down Get. FerretDB v1.24 compares
	// _ferretdb_sjson->'$._id', an expression its own _id index (on
	// _ferretdb_sjson->"_id") does not serve, so SQLite still scans the
	// table, without FerretDB decoding each document in Go; a FerretDB
	// built to compare _ferretdb_sjson->'_id' searches the index. The plan
	// is logged, not asserted: the adapter's part is the filter.
	if ferret {
		get := sentFilter{cmd: "find", coll: "users", filter: mustRaw(t, (*s.kinds.Load())["users"].recordFilter("acme", ada.ID))}
		_, plan := explainPushdown(t, s, get)
		t.Logf("SQLite's plan for a Get: %s", plan)
	}

	// The check fails for the filters the store sent before _id was a
	// string: FerretDB scans for them.
	if ferret {
		old := sentFilter{cmd: "find", coll: "users", filter: mustRaw(t, bson.D{
			{Key: "t", Value: "acme"}, {Key: "_id", Value: bson.D{{Key: "t", Value: "acme"}, {Key: "i", Value: ada.ID}}},
		})}
		if pushed, plan := explainPushdown(t, s, old); pushed {
			t.Errorf("FerretDB reports the old filter %s pushed down: %s", old, plan)
		}
	}
}

// verifyScan reports whether f is one of Verify's passes over a whole
// collection, the only filters of the workload that are not point filters.
func verifyScan(f sentFilter) bool {
	if f.cmd != "find" {
		return false
	}
	elems, _ := f.filter.Elements()
	if len(elems) == 0 {
		return strings.HasSuffix(f.coll, reservationSuffix)
	}
	if len(elems) != 1 || elems[0].Key() != fieldUnique || strings.HasSuffix(f.coll, reservationSuffix) {
		return false
	}
	d, ok := elems[0].Value().DocumentOK()
	return ok && d.Lookup("$exists").Equal(bson.RawValue{Type: bson.TypeBoolean, Value: []byte{1}})
}

// checkPointFilter checks the shape of a point filter and that the server
// finds its document by the _id index.
func checkPointFilter(t *testing.T, s *Store, f sentFilter, ferret bool) {
	t.Helper()
	elems, err := f.filter.Elements()
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case !stringIDs(f.filter.Lookup(fieldID), !ferret):
		t.Errorf("%s: _id is not a string", f)
		return
	case ferret && len(elems) != 1:
		t.Errorf("%s: on FerretDB a point filter must be {_id} alone", f)
		return
	case !ferret && elems[0].Key() != fieldTenant:
		t.Errorf("%s: on MongoDB a point filter must lead with the tenant", f)
	}
	if ferret {
		if pushed, plan := explainPushdown(t, s, f); !pushed {
			t.Errorf("%s: FerretDB does not push the filter down: %s", f, plan)
		}
		return
	}
	plan := explainPlan(t, s, f)
	// IDHACK (before 8.0) and EXPRESS_IXSCAN (8.0) are the _id lookups of a
	// filter on _id alone; with the tenant too, the plan is an IXSCAN of
	// the _id index ("_id_") under a FETCH that checks the rest.
	if !strings.Contains(plan, "IDHACK") && !strings.Contains(plan, "EXPRESS") &&
		!(strings.Contains(plan, "IXSCAN") && strings.Contains(plan, `"_id_"`)) {
		t.Errorf("%s: MongoDB's plan does not use the _id index: %s", f, plan)
	}
}

// stringIDs reports whether v is a string _id, or with in also {$in:
// [strings]} (MongoDB confirms or abandons a write's claims in one
// statement).
func stringIDs(v bson.RawValue, in bool) bool {
	if id, ok := v.StringValueOK(); ok {
		return id != ""
	}
	d, ok := v.DocumentOK()
	if !in || !ok {
		return false
	}
	arr, ok := d.Lookup("$in").ArrayOK()
	if elems, _ := d.Elements(); !ok || len(elems) != 1 {
		return false
	}
	vals, err := arr.Values()
	if err != nil || len(vals) == 0 {
		return false
	}
	for _, x := range vals {
		if _, ok := x.StringValueOK(); !ok {
			return false
		}
	}
	return true
}

// explain runs the explain command of a find with f's filter.
func explain(t *testing.T, s *Store, f sentFilter) bson.Raw {
	t.Helper()
	raw, err := s.db.RunCommand(context.Background(), bson.D{{Key: "explain", Value: bson.D{
		{Key: "find", Value: f.coll}, {Key: "filter", Value: f.filter},
	}}}).Raw()
	if err != nil {
		t.Fatalf("explain %s: %v", f, err)
	}
	return raw
}

// explainPushdown returns FerretDB's filterPushdown for f, and the plan.
func explainPushdown(t *testing.T, s *Store, f sentFilter) (bool, string) {
	t.Helper()
	raw := explain(t, s, f)
	pushed, ok := raw.Lookup("filterPushdown").BooleanOK()
	if !ok {
		t.Fatalf("explain %s: no filterPushdown in %s", f, raw)
	}
	return pushed, raw.Lookup("queryPlanner").String()
}

// explainPlan returns MongoDB's winning plan for f as extended JSON.
func explainPlan(t *testing.T, s *Store, f sentFilter) string {
	t.Helper()
	return explain(t, s, f).Lookup("queryPlanner", "winningPlan").String()
}

func mustRaw(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	raw, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
