package memory_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/memory"
	"github.com/userdir/userdir/query"
)

// note is a document type: any value that exposes its attributes as a
// query.Resource can be stored.
type note map[string]any

func (n note) Attr(name string) any { return n[name] }

// The store is normally handed to directory.New, which defines its kinds.
// Used directly, it stores any kind of document.
func Example() {
	ctx := context.Background()
	schema := query.NewSchema("urn:example:Note", []query.AttrDef{
		{Name: "title", Type: query.TypeString, Required: true},
	})
	s := memory.New()
	defer s.Close()
	err := s.Define(ctx, backend.Kind{
		Name:    "notes",
		Schema:  schema,
		Indexes: []backend.Index{{Name: "title", Attr: "title", Unique: true}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	rec, _ := s.Create(ctx, "acme", "notes", "n1", note{"title": "Hello"})
	fmt.Println(rec.ID, rec.Version)

	// Titles are unique, case-insensitively.
	_, err = s.Create(ctx, "acme", "notes", "n2", note{"title": "HELLO"})
	fmt.Println(errors.Is(err, backend.ErrAlreadyExists))

	// Writes can be conditional on the version.
	rec, _ = s.Replace(ctx, "acme", "notes", "n1", note{"title": "Hello, world"}, rec.Version)
	fmt.Println(rec.ID, rec.Version)

	f, _ := query.Parse(`title sw "HELLO,"`)
	f, _ = query.Bind(f, schema)
	q := backend.Query{Kind: "notes", Filter: f}
	fmt.Println(s.Explain("acme", q))
	for r, err := range s.Query(ctx, "acme", q) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.ID, r.Doc.(note)["title"])
	}
	// Output:
	// n1 1
	// true
	// n1 2
	// index title sw "HELLO,"; id order
	// n1 Hello, world
}
