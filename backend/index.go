package backend

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/userdir/userdir/query"
)

// CompiledIndex is an Index with its attribute resolved, ready to compute
// keys. Adapters compile a kind's indexes once, in Define.
type CompiledIndex struct {
	Index
	Attr *query.Attribute
}

// CompileIndexes resolves every index of k against its schema.
func CompileIndexes(k Kind) ([]CompiledIndex, error) {
	out := make([]CompiledIndex, 0, len(k.Indexes))
	for _, ix := range k.Indexes {
		a, err := k.Schema.Resolve(ix.Attr)
		if err != nil {
			return nil, fmt.Errorf("kind %s: index %s: %w", k.Name, ix.Name, err)
		}
		if a.Type == query.TypeComplex {
			return nil, fmt.Errorf("kind %s: index %s: %s is complex; index one of its sub-attributes", k.Name, ix.Name, a.Name)
		}
		out = append(out, CompiledIndex{Index: ix, Attr: a})
	}
	return out, nil
}

// Keys returns the index keys of doc, sorted and without duplicates: one
// per distinct value at the indexed attribute, encoded with
// query.AppendKey (folded unless the attribute is case-exact). A document
// with no value at the attribute has no keys.
func (c CompiledIndex) Keys(doc Document) [][]byte {
	vals := c.Attr.Values(doc)
	if len(vals) == 0 {
		return nil
	}
	keys := make([][]byte, 0, len(vals))
	for _, v := range vals {
		if v.Kind == query.KindNull {
			continue
		}
		keys = append(keys, query.AppendKey(nil, v, c.Attr.CaseExact))
	}
	slices.SortFunc(keys, bytes.Compare)
	return slices.CompactFunc(keys, bytes.Equal)
}

// HasKey reports whether key is one of the index keys of doc, as Keys
// would return them, without building the others.
func (c CompiledIndex) HasKey(doc Document, key []byte) bool {
	var buf []byte
	for _, v := range c.Attr.Values(doc) {
		if v.Kind == query.KindNull {
			continue
		}
		buf = query.AppendKey(buf[:0], v, c.Attr.CaseExact)
		if bytes.Equal(buf, key) {
			return true
		}
	}
	return false
}
