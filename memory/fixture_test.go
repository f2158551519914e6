package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// doc is a tiny document type: just enough attributes of each type, single
// and multi-valued, case-exact and folded, to exercise every index path.
// Like the directory's documents, it is never modified once stored.
type doc struct {
	userName string
	emails   []email
	age      any // nil, or a number of any Go type the evaluator accepts
	created  time.Time
	active   bool
	title    string
	code     string         // case-exact
	claims   map[string]any // free-form
}

type email struct{ value, typ string }

func (d *doc) Attr(name string) any {
	switch name {
	case "userName":
		return d.userName
	case "emails":
		if len(d.emails) == 0 {
			return nil
		}
		out := make([]map[string]any, len(d.emails))
		for i, e := range d.emails {
			out[i] = map[string]any{"value": e.value, "type": e.typ}
		}
		return out
	case "age":
		return d.age
	case "created":
		return d.created
	case "active":
		return d.active
	case "title":
		if d.title == "" {
			return nil
		}
		return d.title
	case "code":
		if d.code == "" {
			return nil
		}
		return d.code
	case "claims":
		if d.claims == nil {
			return nil
		}
		return d.claims
	}
	return nil
}

// with returns a copy of d changed by fn, so stored documents stay
// untouched.
func (d *doc) with(fn func(*doc)) *doc {
	c := *d
	fn(&c)
	return &c
}

const kindName = "docs"

func testSchema() *query.Schema {
	return query.NewSchema("urn:test:Doc", []query.AttrDef{
		{Name: "userName", Type: query.TypeString, Required: true},
		{Name: "emails", Type: query.TypeComplex, Multi: true, Sub: []query.AttrDef{
			{Name: "value", Type: query.TypeString},
			{Name: "type", Type: query.TypeString},
		}},
		{Name: "age", Type: query.TypeNumber},
		{Name: "created", Type: query.TypeDateTime, Required: true},
		{Name: "active", Type: query.TypeBoolean, Required: true},
		{Name: "title", Type: query.TypeString},
		{Name: "code", Type: query.TypeString, CaseExact: true},
		{Name: "claims", Type: query.TypeComplex, Free: true},
	})
}

func testKind() backend.Kind {
	return backend.Kind{
		Name:   kindName,
		Schema: testSchema(),
		Indexes: []backend.Index{
			{Name: "userName", Attr: "userName", Unique: true},
			{Name: "email", Attr: "emails.value", Unique: true},
			{Name: "created", Attr: "created"},
			{Name: "age", Attr: "age"},
			{Name: "active", Attr: "active"},
			{Name: "title", Attr: "title"},
			{Name: "code", Attr: "code"},
			{Name: "level", Attr: "claims.level"},
		},
	}
}

// newStore returns a store with the test kind defined, closed when the test
// ends.
func newStore(tb testing.TB) *memory.Store {
	tb.Helper()
	s := memory.New()
	require.NoError(tb, s.Define(context.Background(), testKind()))
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// bind parses and binds a filter against the test schema.
func bind(tb testing.TB, schema *query.Schema, filter string) query.Expr {
	tb.Helper()
	e, err := query.Parse(filter)
	require.NoError(tb, err, filter)
	b, err := query.Bind(e, schema)
	require.NoError(tb, err, filter)
	return b
}

// collect drains a query, failing the test on an error.
func collect(tb testing.TB, seq func(func(backend.Record, error) bool)) []backend.Record {
	tb.Helper()
	var out []backend.Record
	for r, err := range seq {
		require.NoError(tb, err)
		out = append(out, r)
	}
	return out
}

func ids(recs []backend.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func user(name string, emails ...string) *doc {
	d := &doc{userName: name, created: t0, active: true}
	for _, e := range emails {
		d.emails = append(d.emails, email{value: e, typ: "work"})
	}
	return d
}
