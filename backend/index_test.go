package backend

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

// mapDoc is a document whose attributes are the entries of a map.
type mapDoc map[string]any

func (d mapDoc) Attr(name string) any { return d[name] }

// TestHasKey checks that HasKey agrees with Keys for every candidate key,
// on folded and case-exact, single- and multi-valued attributes.
func TestHasKey(t *testing.T) {
	schema := query.NewSchema("urn:test:Doc", []query.AttrDef{
		{Name: "name", Type: query.TypeString},
		{Name: "code", Type: query.TypeString, CaseExact: true},
		{Name: "n", Type: query.TypeNumber},
		{Name: "emails", Type: query.TypeComplex, Multi: true, Sub: []query.AttrDef{{Name: "value", Type: query.TypeString}}},
	})
	kind := Kind{Name: "docs", Schema: schema, Indexes: []Index{
		{Name: "name", Attr: "name"}, {Name: "code", Attr: "code"}, {Name: "n", Attr: "n"}, {Name: "emails", Attr: "emails.value"},
	}}
	indexes, err := CompileIndexes(kind)
	require.NoError(t, err)
	docs := []mapDoc{
		{},
		{"name": "Straße", "code": "Ab", "n": 3, "emails": []any{map[string]any{"value": "A@x.io"}, map[string]any{"value": "b@x.io"}}},
		{"name": "strasse", "code": "ab", "n": 3.0, "emails": []any{map[string]any{"value": nil}}},
		{"name": "", "emails": []any{}},
	}
	var candidates [][]byte
	for _, ix := range indexes {
		require.NotEmpty(t, ix.Keys(docs[1]), "index %s", ix.Name)
		for _, d := range docs {
			candidates = append(candidates, ix.Keys(d)...)
		}
	}
	candidates = append(candidates, nil, []byte{}, []byte("x"))
	for _, ix := range indexes {
		for i, d := range docs {
			keys := ix.Keys(d)
			for _, k := range candidates {
				want := false
				for _, dk := range keys {
					want = want || string(dk) == string(k)
				}
				assert.Equal(t, want, ix.HasKey(d, k), "index %s, doc %d, key %x", ix.Name, i, k)
			}
		}
	}
}
