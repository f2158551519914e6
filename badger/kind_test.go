package badger

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// tdoc is the document type of the adapter-level tests: small, but with
// every kind of indexed value (folded and case-exact strings, a
// multi-valued attribute, numbers, instants, booleans).
type tdoc struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Emails  []string  `json:"emails,omitempty"`
	Score   int64     `json:"score"`
	Created time.Time `json:"created"`
	Code    string    `json:"code,omitempty"`
	Active  bool      `json:"active"`
	N       int64     `json:"n"`
}

func (d *tdoc) Attr(name string) any {
	switch name {
	case "id":
		return d.ID
	case "name":
		if d.Name == "" {
			return nil
		}
		return d.Name
	case "emails":
		if len(d.Emails) == 0 {
			return nil
		}
		out := make([]any, len(d.Emails))
		for i, e := range d.Emails {
			out[i] = map[string]any{"value": e}
		}
		return out
	case "score":
		return d.Score
	case "created":
		return d.Created
	case "code":
		if d.Code == "" {
			return nil
		}
		return d.Code
	case "active":
		return d.Active
	case "n":
		return d.N
	}
	return nil
}

type tcodec struct{}

func (tcodec) Marshal(doc backend.Document) ([]byte, error) {
	d, ok := doc.(*tdoc)
	if !ok {
		return nil, fmt.Errorf("tcodec: unexpected %T", doc)
	}
	return json.Marshal(d)
}

func (tcodec) Unmarshal(b []byte) (backend.Document, error) {
	d := new(tdoc)
	if err := json.Unmarshal(b, d); err != nil {
		return nil, err
	}
	return d, nil
}

var tschema = query.NewSchema("urn:test:Doc", []query.AttrDef{
	{Name: "id", Type: query.TypeString, CaseExact: true, Required: true},
	{Name: "name", Type: query.TypeString, Required: true},
	{Name: "emails", Type: query.TypeComplex, Multi: true, Sub: []query.AttrDef{{Name: "value", Type: query.TypeString}}},
	{Name: "score", Type: query.TypeNumber, Required: true},
	{Name: "created", Type: query.TypeDateTime, Required: true},
	{Name: "code", Type: query.TypeString, CaseExact: true},
	{Name: "active", Type: query.TypeBoolean},
	{Name: "n", Type: query.TypeNumber},
})

const tkind = "docs"

func testKind() backend.Kind {
	return backend.Kind{
		Name:   tkind,
		Schema: tschema,
		Codec:  tcodec{},
		Indexes: []backend.Index{
			{Name: "name", Attr: "name", Unique: true},
			{Name: "emails", Attr: "emails.value", Unique: true},
			{Name: "score", Attr: "score"},
			{Name: "created", Attr: "created"},
			{Name: "code", Attr: "code"},
			{Name: "active", Attr: "active"},
		},
	}
}

// openTest opens an in-memory store with the test kind defined, closed
// when the test ends.
func openTest(t testing.TB) *Store {
	t.Helper()
	return openTestWith(t, Options{InMemory: true})
}

// openTestWith is openTest with the given options.
func openTestWith(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open("", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Define(context.Background(), testKind()); err != nil {
		t.Fatal(err)
	}
	return s
}

// bind parses and binds a filter against the test schema.
func bind(t testing.TB, filter string) query.Expr {
	t.Helper()
	e, err := query.Parse(filter)
	if err != nil {
		t.Fatalf("parse %q: %v", filter, err)
	}
	b, err := query.Bind(e, tschema)
	if err != nil {
		t.Fatalf("bind %q: %v", filter, err)
	}
	return b
}

// mustVerify fails the test unless Verify finds the store consistent.
func mustVerify(t testing.TB, s *Store) Report {
	t.Helper()
	rep, err := s.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		for _, p := range rep.Problems {
			t.Error(p)
		}
		t.Fatalf("verify: %d problems", len(rep.Problems))
	}
	return rep
}

// mustSort parses a sort against the test schema.
func mustSort(t testing.TB, s string) query.Sort {
	t.Helper()
	srt, err := query.ParseSort(s, tschema)
	if err != nil {
		t.Fatal(err)
	}
	return srt
}
