package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

func testDirectory(t *testing.T, s *Store) *directory.Directory {
	t.Helper()
	dir, err := directory.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func mustCreate(t *testing.T, users *directory.Users, u directory.User) directory.User {
	t.Helper()
	got, err := users.Create(context.Background(), u)
	if err != nil {
		t.Fatalf("create %q: %v", u.UserName, err)
	}
	return got
}

// listNames returns the userNames a filter lists, sorted.
func listNames(t *testing.T, users *directory.Users, filter string) []string {
	t.Helper()
	page, err := users.List(context.Background(), directory.ListOptions{Filter: filter, Limit: directory.MaxLimit})
	if err != nil {
		t.Fatalf("list %s: %v", filter, err)
	}
	var names []string
	for _, u := range page.Users {
		names = append(names, u.UserName)
	}
	slices.Sort(names)
	return names
}

// requirePushed fails unless the directory runs filter entirely natively.
func requirePushed(t *testing.T, users *directory.Users, filter string) string {
	t.Helper()
	plan, err := users.Explain(directory.ListOptions{Filter: filter})
	if err != nil {
		t.Fatalf("explain %s: %v", filter, err)
	}
	if !strings.Contains(plan, "residual: none") || strings.Contains(plan, "superset") {
		t.Fatalf("filter %s is not pushed down exactly:\n%s", filter, plan)
	}
	return plan
}

func TestOpen(t *testing.T) {
	uri := testURI(t)
	ctx := context.Background()
	client := testClient(t)
	db := testDatabase(t, client)

	s, err := Open(ctx, uri, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := s.Server()
	t.Logf("server: %+v", info)
	if info.Version == "" {
		t.Error("no server version detected")
	}
	if info.FerretDB != "" && (info.Transactions || info.ChangeStreams) {
		t.Errorf("FerretDB detected with transactions or change streams: %+v", info)
	}
	if got := s.Capabilities(); !got.Shared || !got.Durable {
		t.Errorf("Capabilities() = %+v, want shared and durable", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if _, err := s.Get(ctx, "t", "users", "x"); !errors.Is(err, backend.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}

	for _, bad := range []string{"", "a.b", "a/b", "a$b", strings.Repeat("x", 64)} {
		if _, err := Open(ctx, uri, bad, Options{}); err == nil {
			t.Errorf("Open with database %q succeeded", bad)
		}
	}
	if _, err := New(ctx, nil, db, Options{}); err == nil {
		t.Error("New with a nil client succeeded")
	}
	if _, err := New(ctx, client, db, Options{Lease: -time.Second}); err == nil {
		t.Error("New with a negative lease succeeded")
	}
}

func TestCloseKeepsCallersClient(t *testing.T) {
	client := testClient(t)
	db := testDatabase(t, client)
	ctx := context.Background()
	s, err := New(ctx, client, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("the caller's client was disconnected by Close: %v", err)
	}
}

// TestInjection stores values that would change a query if they were
// interpreted as operators or regular expressions, next to values such a
// misreading would match, and checks that filters match them literally,
// natively.
func TestInjection(t *testing.T) {
	s := testStore(t, Options{})
	users := testDirectory(t, s).Users("t")
	literals := []string{`{"$gt": ""}`, `.*`, `^`, `$where`, `\`, `a|b`, `(`, `[a]`, `a+`, `x{2}`}
	decoys := []string{"a", "b", "aa", "xx", "plain", "where", "gt", "line"}
	for i, name := range append(slices.Clone(literals), decoys...) {
		mustCreate(t, users, directory.User{
			UserName: name,
			Claims:   map[string]any{"op": []string{"$gt", "$where", "${x}", "plain", "$"}[i%5], "n": i},
		})
	}
	cases := []struct {
		filter string
		want   []string
	}{
		{`userName eq "{\"$gt\": \"\"}"`, []string{`{"$gt": ""}`}},
		{`userName co "$gt"`, []string{`{"$gt": ""}`}},
		{`userName eq ".*"`, []string{".*"}},
		{`userName co ".*"`, []string{".*"}},
		{`userName co "."`, []string{".*"}},
		{`userName co "*"`, []string{".*"}},
		{`userName sw "^"`, []string{"^"}},
		{`userName eq "^"`, []string{"^"}},
		{`userName eq "$where"`, []string{"$where"}},
		{`userName sw "$"`, []string{"$where"}},
		{`userName ew "where"`, []string{"$where", "where"}},
		{`userName co "\\"`, []string{`\`}},
		{`userName eq "\\"`, []string{`\`}},
		{`userName eq "a|b"`, []string{"a|b"}},
		{`userName co "|"`, []string{"a|b"}},
		{`userName co "("`, []string{"("}},
		{`userName ew "("`, []string{"("}},
		{`userName co "[a]"`, []string{"[a]"}},
		{`userName co "a+"`, []string{"a+"}},
		{`userName co "x{2}"`, []string{"x{2}"}},
		{`userName ew "line"`, []string{"line"}},
		{`userName sw "lin"`, []string{"line"}},
		{`claims.op eq "$gt"`, nil},
		// Filled in below from the claims given.
		{`claims.op sw "$"`, nil},
		{`claims.op eq "$"`, nil},
		{`claims.op co "{x}"`, nil},
	}
	all := append(slices.Clone(literals), decoys...)
	for i := range cases {
		if cases[i].want != nil {
			continue
		}
		for j, name := range all {
			op := []string{"$gt", "$where", "${x}", "plain", "$"}[j%5]
			var ok bool
			switch cases[i].filter {
			case `claims.op eq "$gt"`:
				ok = op == "$gt"
			case `claims.op sw "$"`:
				ok = strings.HasPrefix(op, "$")
			case `claims.op eq "$"`:
				ok = op == "$"
			case `claims.op co "{x}"`:
				ok = strings.Contains(op, "{x}")
			}
			if ok {
				cases[i].want = append(cases[i].want, name)
			}
		}
	}
	for _, c := range cases {
		requirePushed(t, users, c.filter)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if got := listNames(t, users, c.filter); !slices.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", c.filter, got, want)
		}
	}

	// Claim keys starting with '$' never reach the store.
	_, err := users.Create(context.Background(), directory.User{UserName: "evil", Claims: map[string]any{"$where": "1"}})
	if !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("claim key $where: %v, want ErrInvalid", err)
	}
	_, err = users.Create(context.Background(), directory.User{UserName: "evil2", Claims: map[string]any{"a": map[string]any{"$gt": ""}}})
	if !errors.Is(err, directory.ErrInvalid) {
		t.Errorf("nested claim key $gt: %v, want ErrInvalid", err)
	}
}

// TestExplainShowsNativePushdown checks that the filters users ask most
// often run as native MongoDB filters.
func TestExplainShowsNativePushdown(t *testing.T) {
	s := testStore(t, Options{})
	users := testDirectory(t, s).Users("acme")
	ferret := s.Server().FerretDB != ""
	cases := []struct {
		filter string
		want   []string
		exact  bool
	}{
		{`userName sw "Ad"`, []string{`{"t":"acme","x.userName":{"$regex":"^ad"`}, true},
		{`emails[type eq "work" and value co "x"]`, []string{`{"t":"acme",`, `"x.emails`, `"$regex":"x"`}, !ferret},
		{`claims.department eq "ops"`, []string{`{"t":"acme","c":"claims.department\u0000sops",`}, true},
		{`meta.created gt "2024-05-01T00:00:00.5Z"`, []string{`{"t":"acme","x.meta.created":{"$gt":"30`}, true},
	}
	for _, c := range cases {
		plan, err := users.Explain(directory.ListOptions{Filter: c.filter, Sort: "-meta.created"})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", c.filter, plan)
		for _, w := range c.want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %s", c.filter, w)
			}
		}
		if !strings.Contains(plan, `.sort({"x.meta.created":-1,"i":-1})`) {
			t.Errorf("%s: sort not pushed:\n%s", c.filter, plan)
		}
		if c.exact && !strings.Contains(plan, "residual: none") {
			t.Errorf("%s: expected an exact pushdown:\n%s", c.filter, plan)
		}
	}
	// One unique key: MongoDB's indexed query, or on FerretDB the key's
	// reservation by _id (point.go).
	plan, err := users.Explain(directory.ListOptions{Filter: `userName eq "Ada"`, Sort: "-meta.created"})
	require.NoError(t, err)
	want := `users.find({"t":"acme","x.userName":"ada",`
	if ferret {
		want = `users_unique.findOne({"_id":"4:acme:userName\u0000406164610001"})`
	}
	assert.Contains(t, plan, want)
	if ferret {
		plan, _ := users.Explain(directory.ListOptions{Filter: `emails[type eq "work" and value co "x"]`})
		if !strings.Contains(plan, "superset") {
			t.Errorf("FerretDB: a value filter on emails should be a superset:\n%s", plan)
		}
	}
}

// TestCompileElemMatch checks the filters compiled for a server whose
// $elemMatch works (MongoDB): value filters on multi-valued attributes and
// ranges on claims are tied to one element, and exact. It needs no server.
func TestCompileElemMatch(t *testing.T) {
	client, err := mongodrv.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1/"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	s := &Store{db: client.Database("unused")}
	kd, err := s.compileKind(backend.Kind{Name: "users", Schema: query.UserSchema(), Codec: nopCodec{},
		Indexes: []backend.Index{{Name: "userName", Attr: "userName", Unique: true}, {Name: "created", Attr: "meta.created"}}})
	if err != nil {
		t.Fatal(err)
	}
	two := keyString(query.Value{Kind: query.KindNumber, Num: query.NumberFromInt64(2)})
	mongo := compiler{kd: kd, elemMatch: true}
	ferret := compiler{kd: kd}
	cases := []struct {
		filter      string
		mongo       string
		mongoSup    query.Support
		ferret      string
		ferretSup   query.Support
		noPushdowns bool
	}{
		{
			filter:   `emails[type eq "work" and value co "x"]`,
			mongo:    `{"x.emails":{"$elemMatch":{"type":"work","value":{"$regex":"x"}}}}`,
			mongoSup: query.Exact,
			ferret:   `{"x.emails":{"$exists":true},"x.emails.type":"work","x.emails.value":{"$regex":"x"}}`, ferretSup: query.Superset,
		},
		{
			filter:   `emails[not (type eq "work")]`,
			mongo:    `{"x.emails":{"$elemMatch":{"$nor":[{"type":"work"}]}}}`,
			mongoSup: query.Exact,
			ferret:   `{"x.emails":{"$exists":true}}`, ferretSup: query.Superset,
		},
		{
			filter:   `name[givenName eq "Ann" and not (familyName pr)]`,
			mongo:    `{"x.name":{"$exists":true},"x.name.givenName":"ann","$nor":[{"x.name.familyName":{"$gt":""}}]}`,
			mongoSup: query.Exact,
			ferret:   `{"x.name":{"$exists":true},"x.name.givenName":"ann","$nor":[{"x.name.familyName":{"$gt":""}}]}`, ferretSup: query.Exact,
		},
		{
			filter:   `claims.level gt 2`,
			mongo:    `{"c":{"$elemMatch":{"$gt":"claims.level\u0000n` + two + `","$lt":"claims.level\u0000o"}}}`,
			mongoSup: query.Exact,
			ferret:   `{"$and":[{"c":{"$gt":"claims.level\u0000n` + two + `"}},{"c":{"$lt":"claims.level\u0000o"}}]}`, ferretSup: query.Superset,
		},
		{
			filter:    `claims.level ne "x"`,
			mongo:     `{"c":{"$elemMatch":{"$gte":"claims.level\u0000s","$lt":"claims.level\u0000t","$ne":"claims.level\u0000sx"}}}`,
			mongoSup:  query.Exact,
			ferretSup: query.Unsupported,
		},
		{
			filter:   `title ne "Boss"`,
			mongo:    `{"$or":[{"x.title":{"$lt":"boss"}},{"x.title":{"$gt":"boss"}}]}`,
			mongoSup: query.Exact,
			ferret:   `{"$or":[{"x.title":{"$lt":"boss"}},{"x.title":{"$gt":"boss"}}]}`, ferretSup: query.Exact,
		},
		{
			filter:   `active ne true`,
			mongo:    `{"x.active":false}`,
			mongoSup: query.Exact,
			ferret:   `{"x.active":false}`, ferretSup: query.Exact,
		},
		{
			filter:   `claims.address pr`,
			mongo:    `{"c":{"$regex":"^claims\\.address(?:\\.[^\\x00]*)?\\x00(?:[nbp]|s[\\s\\S])"}}`,
			mongoSup: query.Exact,
			ferret:   `{"c":{"$regex":"^claims\\.address(?:\\.[^\\x00]*)?\\x00(?:[nbp]|s[\\s\\S])"}}`, ferretSup: query.Exact,
		},
		{
			filter:   `userName ew "a.b$" or displayName sw "(x"`,
			mongo:    `{"$or":[{"x.userName":{"$regex":"a\\.b\\$\\z"}},{"x.displayName":{"$regex":"^\\(x"}}]}`,
			mongoSup: query.Exact,
			ferret:   `{"$or":[{"x.userName":{"$regex":"a\\.b\\$\\z"}},{"x.displayName":{"$regex":"^\\(x"}}]}`, ferretSup: query.Exact,
		},
		{filter: `emails pr`, noPushdowns: true},
		{filter: `claims pr`, noPushdowns: true},
	}
	for _, c := range cases {
		e, err := query.Parse(c.filter)
		if err != nil {
			t.Fatal(err)
		}
		b, err := query.Bind(e, query.UserSchema())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []struct {
			name string
			c    compiler
			want string
			sup  query.Support
		}{{"mongo", mongo, c.mongo, c.mongoSup}, {"ferret", ferret, c.ferret, c.ferretSup}} {
			f, sup := d.c.compile(b, scope{})
			if c.noPushdowns {
				if sup != query.Unsupported {
					t.Errorf("%s (%s): support %v, want unsupported", c.filter, d.name, sup)
				}
				continue
			}
			if sup != d.sup {
				t.Errorf("%s (%s): support %v, want %v", c.filter, d.name, sup, d.sup)
			}
			if sup == query.Unsupported {
				continue
			}
			j, err := bson.MarshalExtJSON(f, false, false)
			if err != nil {
				t.Fatal(err)
			}
			if string(j) != d.want {
				t.Errorf("%s (%s):\n got %s\nwant %s", c.filter, d.name, j, d.want)
			}
		}
	}
}

type nopCodec struct{}

func (nopCodec) Marshal(backend.Document) ([]byte, error)   { return nil, nil }
func (nopCodec) Unmarshal([]byte) (backend.Document, error) { return nil, nil }

// TestErrorMapping checks that driver errors map to the portable sentinels
// with the driver's error still reachable.
func TestErrorMapping(t *testing.T) {
	s := testStore(t, Options{})
	ctx := context.Background()
	dir := testDirectory(t, s)
	users := dir.Users("acme")
	ada := mustCreate(t, users, directory.User{UserName: "ada", Emails: []directory.Email{{Value: "ada@example.com"}}})

	// An id clash: the record insert's duplicate key.
	_, err := s.Create(ctx, "acme", "users", ada.ID, mustRecord(t, s, "acme", ada.ID).Doc)
	var be *backend.Error
	var we mongodrv.WriteException
	if !errors.Is(err, backend.ErrAlreadyExists) || !errors.As(err, &be) || !errors.As(err, &we) {
		t.Fatalf("create with a taken id: %v; want ErrAlreadyExists from a WriteException", err)
	}
	if be.Op != "create" || be.Kind != "users" || be.ID != ada.ID || be.Index != "" {
		t.Errorf("id clash error = %+v", be)
	}

	// A unique key clash: the reservation insert's duplicate key.
	_, err = users.Create(ctx, directory.User{UserName: "ADA"})
	if !errors.Is(err, directory.ErrAlreadyExists) || !errors.As(err, &be) || !errors.As(err, &we) || be.Index != "userName" {
		t.Fatalf("create with a taken userName: %v; want ErrAlreadyExists naming userName from a WriteException", err)
	}
	_, err = users.Create(ctx, directory.User{UserName: "bob", Emails: []directory.Email{{Value: "ADA@example.com"}}})
	if !errors.As(err, &be) || be.Index != "emails" {
		t.Fatalf("create with a taken email: %v; want the emails index", err)
	}

	// Missing records.
	_, err = s.Get(ctx, "acme", "users", "nobody")
	if !errors.Is(err, backend.ErrNotFound) || !errors.Is(err, mongodrv.ErrNoDocuments) {
		t.Errorf("get missing: %v", err)
	}
	if err := s.Delete(ctx, "acme", "users", "nobody", 0); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("delete missing: %v", err)
	}
	if _, err := s.Replace(ctx, "acme", "users", "nobody", mustRecord(t, s, "acme", ada.ID).Doc, 0); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("replace missing: %v", err)
	}
	// Other tenants' records are missing too.
	if _, err := s.Get(ctx, "other", "users", ada.ID); !errors.Is(err, backend.ErrNotFound) {
		t.Errorf("get from another tenant: %v", err)
	}

	// Version conflicts.
	rec := mustRecord(t, s, "acme", ada.ID)
	if _, err := s.Replace(ctx, "acme", "users", ada.ID, rec.Doc, rec.Version+1); !errors.Is(err, backend.ErrConflict) {
		t.Errorf("replace at a wrong version: %v", err)
	}
	if err := s.Delete(ctx, "acme", "users", ada.ID, rec.Version+1); !errors.Is(err, backend.ErrConflict) {
		t.Errorf("delete at a wrong version: %v", err)
	}

	// FerretDB's unique violation on update is a CommandError with code 1.
	cmd := mongodrv.CommandError{Code: 1, Name: "InternalError", Message: `constraint failed: UNIQUE constraint failed: index 'users_1' (2067)`}
	err = mapError("replace", "users", "x", fmt.Errorf("wrapped: %w", cmd))
	var ce mongodrv.CommandError
	if !errors.Is(err, backend.ErrAlreadyExists) || !errors.As(err, &ce) || ce.Code != 1 {
		t.Errorf("FerretDB unique violation: %v", err)
	}
	// Other server errors keep their identity but match no sentinel.
	err = mapError("get", "users", "x", mongodrv.CommandError{Code: 2, Name: "BadValue"})
	if !errors.As(err, &ce) || errors.Is(err, backend.ErrNotFound) || errors.Is(err, backend.ErrAlreadyExists) {
		t.Errorf("BadValue: %v", err)
	}

	// Define reports the server's error when an index cannot be created.
	client := testClient(t)
	db := testDatabase(t, client)
	if _, err := client.Database(db).Collection("users").Indexes().CreateOne(ctx, mongodrv.IndexModel{
		Keys: bson.D{{Key: "other", Value: 1}}, Options: options.Index().SetName("t_userName"),
	}); err != nil {
		t.Fatal(err)
	}
	s2, err := New(ctx, client, db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = directory.New(s2)
	if !errors.As(err, &ce) {
		t.Errorf("define over a conflicting index: %v; want a CommandError", err)
	}
}

func mustRecord(t *testing.T, s *Store, tenant, id string) backend.Record {
	t.Helper()
	rec, err := s.Get(context.Background(), tenant, "users", id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// reservationCount returns how many reservations the kind has.
func reservationCount(t *testing.T, s *Store) int64 {
	t.Helper()
	n, err := s.db.Collection("users"+reservationSuffix).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVerify simulates the crashes the reservation protocol tolerates and
// checks that Verify finds and repairs what they leave.
func TestVerify(t *testing.T) {
	s := testStore(t, Options{})
	ctx := context.Background()
	users := testDirectory(t, s).Users("acme")
	ann := mustCreate(t, users, directory.User{UserName: "ann", Emails: []directory.Email{{Value: "ann@example.com"}}})
	bob := mustCreate(t, users, directory.User{UserName: "bob"})

	issues, err := s.Verify(ctx, false)
	if err != nil || len(issues) != 0 {
		t.Fatalf("healthy store: %v, %v", issues, err)
	}
	if n := reservationCount(t, s); n != 3 {
		t.Fatalf("%d reservations, want 3 (two userNames, one email)", n)
	}

	res := s.db.Collection("users" + reservationSuffix)
	key := func(index, v string) string {
		return reservationKey(index, query.AppendKey(nil, query.Value{Kind: query.KindString, Str: v}, false))
	}
	// A crash between a delete and its release: a held reservation whose
	// owner no longer exists.
	if _, err := res.InsertOne(ctx, bson.D{
		{Key: "_id", Value: reservationID("acme", key("userName", "zed"))}, {Key: "t", Value: "acme"}, {Key: "k", Value: key("userName", "zed")},
		{Key: "o", Value: "ghost"}, {Key: "n", Value: "n1"}, {Key: "s", Value: stateHeld},
	}); err != nil {
		t.Fatal(err)
	}
	// A crash between bob's record write and its confirmation, a lease
	// ago.
	if _, err := res.UpdateOne(ctx, bson.D{{Key: "_id", Value: reservationID("acme", key("userName", "bob"))}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "s", Value: statePending}, {Key: "e", Value: time.Now().Add(-time.Hour)},
	}}}); err != nil {
		t.Fatal(err)
	}
	// A lost reservation: ann's email is reserved by nobody.
	if _, err := res.DeleteOne(ctx, bson.D{{Key: "_id", Value: reservationID("acme", key("emails", "ann@example.com"))}}); err != nil {
		t.Fatal(err)
	}

	issues, err = s.Verify(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, is := range issues {
		t.Log(is)
		if is.Repaired {
			t.Errorf("repaired without being asked: %v", is)
		}
		got[is.ID+" "+is.Index] = is.Problem
	}
	want := map[string]string{
		"ghost userName":     ProblemOrphan,
		bob.ID + " userName": ProblemUnconfirmed,
		ann.ID + " emails":   ProblemMissing,
	}
	if len(got) != len(want) || len(issues) != len(want) {
		t.Errorf("issues %v, want %v", got, want)
	}
	for k, p := range want {
		if got[k] != p {
			t.Errorf("%s: %q, want %q", k, got[k], p)
		}
	}

	issues, err = s.Verify(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, is := range issues {
		if !is.Repaired {
			t.Errorf("not repaired: %v", is)
		}
	}
	issues, err = s.Verify(ctx, false)
	if err != nil || len(issues) != 0 {
		t.Fatalf("after repair: %v, %v", issues, err)
	}
	// The repaired reservations hold: ann's email and bob's name are taken,
	// zed is free.
	if _, err := users.Create(ctx, directory.User{UserName: "x", Emails: []directory.Email{{Value: "ANN@example.com"}}}); !errors.Is(err, directory.ErrAlreadyExists) {
		t.Errorf("ann's email after repair: %v", err)
	}
	if _, err := users.Create(ctx, directory.User{UserName: "BOB"}); !errors.Is(err, directory.ErrAlreadyExists) {
		t.Errorf("bob's name after repair: %v", err)
	}
	mustCreate(t, users, directory.User{UserName: "zed"})
}

// TestTakeOver checks that a write takes over a reservation left by a
// crash instead of failing on it.
func TestTakeOver(t *testing.T) {
	s := testStore(t, Options{Lease: time.Second})
	ctx := context.Background()
	users := testDirectory(t, s).Users("acme")
	res := s.db.Collection("users" + reservationSuffix)
	key := func(v string) string {
		return reservationKey("userName", query.AppendKey(nil, query.Value{Kind: query.KindString, Str: v}, false))
	}
	// A held orphan (delete crashed before its release) is taken at once.
	if _, err := res.InsertOne(ctx, bson.D{
		{Key: "_id", Value: reservationID("acme", key("held"))}, {Key: "t", Value: "acme"}, {Key: "k", Value: key("held")},
		{Key: "o", Value: "ghost"}, {Key: "n", Value: "n"}, {Key: "s", Value: stateHeld},
	}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, users, directory.User{UserName: "held"})

	// A pending claim (create crashed before its record write) blocks the
	// key for its lease, then is taken.
	if _, err := res.InsertOne(ctx, bson.D{
		{Key: "_id", Value: reservationID("acme", key("pending"))}, {Key: "t", Value: "acme"}, {Key: "k", Value: key("pending")},
		{Key: "o", Value: "ghost"}, {Key: "n", Value: "n"}, {Key: "s", Value: statePending},
		{Key: "e", Value: time.Now().Add(500 * time.Millisecond)},
	}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	mustCreate(t, users, directory.User{UserName: "pending"})
	if d := time.Since(began); d < 300*time.Millisecond {
		t.Errorf("a live pending claim was taken over after %v", d)
	}
	issues, err := s.Verify(ctx, false)
	if err != nil || len(issues) != 0 {
		t.Fatalf("after takeovers: %v, %v", issues, err)
	}
}

// TestClaimsOracle checks native claims filters against the evaluator on
// data that mixes JSON types, nesting, arrays and unnameable keys.
func TestClaimsOracle(t *testing.T) {
	s := testStore(t, Options{})
	users := testDirectory(t, s).Users("acme")
	claims := []map[string]any{
		{"level": 3, "dept": "Ops"},
		{"level": "3", "dept": "ops", "tags": []any{"a", "b"}},
		{"level": 3.5, "dept": "OPS team", "address": map[string]any{"city": "Paris"}},
		{"level": 9007199254740993, "tags": []any{"b", []any{"c"}}, "address": map[string]any{"first name": "x"}},
		{"level": 9007199254740992, "flag": true, "address": map[string]any{"city": ""}},
		{"flag": false, "items": []any{map[string]any{"sku": "A1"}, map[string]any{"sku": "b2"}}},
		{"dept": "Straße", "items": []any{}},
		{"dept": "", "level": -1e3},
		{},
	}
	var all []directory.User
	for i, c := range claims {
		all = append(all, mustCreate(t, users, directory.User{UserName: fmt.Sprintf("u%d", i), Claims: c}))
	}
	filters := []string{
		`claims.level eq 3`, `claims.level eq "3"`, `claims.level eq 3.0`, `claims.level gt 3`, `claims.level ge 3`,
		`claims.level lt 3.5`, `claims.level le -1000`, `claims.level eq 9007199254740993`, `claims.level gt 9007199254740992`,
		`claims.level ne 3`, `claims.level ne "3"`, `claims.level pr`, `claims.level eq null`, `claims.level ne null`,
		`claims.dept eq "ops"`, `claims.dept sw "OP"`, `claims.dept co "S T"`, `claims.dept ew "team"`, `claims.dept eq "STRASSE"`,
		`claims.dept gt "ops"`, `claims.dept pr`, `claims.dept eq ""`, `claims.tags eq "c"`, `claims.tags eq "b"`,
		`claims.address pr`, `claims.address.city pr`, `claims.address.city eq "paris"`, `claims.flag eq false`, `claims.flag ne true`,
		`claims.items.sku eq "B2"`, `claims.items pr`, `not (claims.level eq 3)`, `claims.level eq 3 or claims.dept sw "s"`,
		`claims.tags co ""`, `claims.missing pr`, `not (claims.dept pr)`,
	}
	schema := query.UserSchema()
	for _, f := range filters {
		e, err := query.Parse(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := query.Bind(e, schema)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := range all {
			if query.Eval(b, &all[i]) {
				want = append(want, all[i].UserName)
			}
		}
		slices.Sort(want)
		got := listNames(t, users, f)
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", f, got, want)
		}
		// Bypass the directory's residual: the store alone must return at
		// least the matches, and exactly them when the pushdown is exact.
		pd := s.Pushdown("users")
		plan := query.PlanQuery(b, nil, pd)
		if plan.Pushed == nil {
			t.Logf("%s: evaluated in Go", f)
			continue
		}
		var native []string
		for rec, err := range s.Query(context.Background(), "acme", backend.Query{Kind: "users", Filter: plan.Pushed}) {
			if err != nil {
				t.Fatal(err)
			}
			u, _ := users.Get(context.Background(), rec.ID)
			native = append(native, u.UserName)
		}
		slices.Sort(native)
		if plan.Exact && !slices.Equal(native, want) {
			t.Errorf("%s: exact pushdown returned %v, want %v", f, native, want)
		}
		for _, w := range want {
			if !slices.Contains(native, w) {
				t.Errorf("%s: pushdown lost %s", f, w)
			}
		}
	}
}

// TestRefusesEarlierLayout checks that a database whose records or
// reservations have the earlier layout's sub-document _id is refused at
// Define, rather than read without finding them by _id.
func TestRefusesEarlierLayout(t *testing.T) {
	cases := []struct {
		name string
		coll string
		doc  bson.D
	}{
		{"record", "users", bson.D{{Key: "_id", Value: bson.D{{Key: "t", Value: "acme"}, {Key: "i", Value: "u1"}}}, {Key: "t", Value: "acme"}, {Key: "i", Value: "u1"}}},
		{"reservation", "users_unique", bson.D{{Key: "_id", Value: bson.D{{Key: "t", Value: "acme"}, {Key: "k", Value: "userName\x0061"}}}, {Key: "t", Value: "acme"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client := testClient(t)
			db := testDatabase(t, client)
			_, err := client.Database(db).Collection(c.coll).InsertOne(ctx, c.doc)
			require.NoError(t, err)
			s, err := New(ctx, client, db, Options{})
			require.NoError(t, err)
			defer s.Close()
			_, err = directory.New(s)
			require.Error(t, err)
			assert.ErrorIs(t, err, backend.ErrUnsupported)
			assert.Contains(t, err.Error(), c.coll)
		})
	}
	t.Run("current layout", func(t *testing.T) {
		s := testStore(t, Options{})
		d, err := directory.New(s)
		require.NoError(t, err)
		_, err = d.Users("acme").Create(context.Background(), directory.User{UserName: "ada"})
		require.NoError(t, err)
		_, err = directory.New(s)
		assert.NoError(t, err, "a database of the current layout opens again")
	})
}

// TestUniqueKeyQuery checks lists and counts of filters that require one
// key of a unique index, which FerretDB answers from the key's reservation
// (point.go) and MongoDB from its index: both give what the filter says,
// also for reservations that no record holding the key owns.
func TestUniqueKeyQuery(t *testing.T) {
	s := testStore(t, Options{})
	ctx := context.Background()
	users := testDirectory(t, s).Users("acme")
	mustCreate(t, users, directory.User{UserName: "ann", Title: "Dr", Emails: []directory.Email{{Value: "ann@example.com"}, {Value: "ann@work.example"}}})
	bob := mustCreate(t, users, directory.User{UserName: "bob", Emails: []directory.Email{{Value: "bob@example.com"}}})
	mustCreate(t, testDirectory(t, s).Users("other"), directory.User{UserName: "cy", Emails: []directory.Email{{Value: "cy@example.com"}}})
	gone := mustCreate(t, users, directory.User{UserName: "gone", Emails: []directory.Email{{Value: "gone@example.com"}}})
	require.NoError(t, users.Delete(ctx, gone.ID))
	mustCreate(t, users, directory.User{UserName: "dora", Emails: []directory.Email{{Value: "dora@example.com"}}})

	res := s.db.Collection("users" + reservationSuffix)
	key := func(v string) string {
		return reservationKey("userName", query.AppendKey(nil, query.Value{Kind: query.KindString, Str: v}, false))
	}
	// A lost reservation (Verify's ProblemMissing), as records written
	// before an index was unique have: the key is still found.
	email := reservationKey("emails", query.AppendKey(nil, query.Value{Kind: query.KindString, Str: "dora@example.com"}, false))
	_, err := res.DeleteOne(ctx, bson.D{{Key: "_id", Value: reservationID("acme", email)}})
	require.NoError(t, err)
	// An orphan (a crash between a delete and its release), and a
	// reservation whose owner exists but does not hold the key.
	for name, owner := range map[string]string{"zed": "ghost", "carl": bob.ID} {
		_, err = res.InsertOne(ctx, bson.D{
			{Key: "_id", Value: reservationID("acme", key(name))}, {Key: "t", Value: "acme"}, {Key: "k", Value: key(name)},
			{Key: "o", Value: owner}, {Key: "n", Value: "n1"}, {Key: "s", Value: stateHeld},
		})
		require.NoError(t, err)
	}

	cases := []struct {
		filter string
		want   []string
	}{
		{`emails.value eq "ANN@example.com"`, []string{"ann"}},
		{`emails.value eq "ann@work.example"`, []string{"ann"}},
		{`userName eq "Bob"`, []string{"bob"}},
		{`userName eq "ann" and title eq "dr"`, []string{"ann"}},
		{`title eq "dr" and emails.value eq "ann@example.com"`, []string{"ann"}},
		{`userName eq "ann" and title eq "Mr"`, nil},
		{`userName eq "ann" and userName eq "bob"`, nil},
		{`emails.value eq "nobody@example.com"`, nil},
		{`emails.value eq "cy@example.com"`, nil},   // another tenant's
		{`emails.value eq "gone@example.com"`, nil}, // a deleted user's
		{`userName eq "zed"`, nil},
		{`userName eq "carl"`, nil},
		{`emails.value eq "dora@example.com"`, []string{"dora"}},
		{`userName eq "ann" or userName eq "bob"`, []string{"ann", "bob"}},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, listNames(t, users, c.filter), c.filter)
		n, err := users.Count(ctx, c.filter)
		require.NoError(t, err, c.filter)
		assert.Equal(t, len(c.want), n, c.filter)
	}

	plan, err := users.Explain(directory.ListOptions{Filter: `emails.value eq "ann@example.com"`})
	require.NoError(t, err)
	t.Log(plan)
	if s.Server().FerretDB != "" {
		assert.Contains(t, plan, "users_unique.findOne(")
	} else {
		assert.Contains(t, plan, `users.find({"t":"acme","x.emails.value":"ann@example.com"`)
	}
}
