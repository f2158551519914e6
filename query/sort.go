package query

import (
	"fmt"
	"strings"
)

// SortKey is one key of a sort order.
type SortKey struct {
	Attr *Attribute
	Desc bool
}

// Sort is a sort order: keys compared in turn, ties broken by id (DESIGN
// §3). A nil Sort orders by id alone, ascending.
type Sort []SortKey

// Presence bytes of a sort key component. They are never inverted, so a
// record without a value sorts after every record with one whichever the
// direction.
const (
	sortPresent byte = 0x01
	sortMissing byte = 0x02
)

// ParseSort parses a comma-separated list of attribute paths, each with an
// optional "+" (ascending, the default) or "-" (descending) prefix:
// "-meta.created,userName". Spaces around the items are ignored. Only
// single-valued scalar attributes sort; a claims path is accepted and sorts
// by its first value when the data holds an array. An empty string is the
// nil Sort. Errors match ErrInvalidFilter.
func ParseSort(s string, schema *Schema) (Sort, error) {
	if strings.Trim(s, " ") == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	out := make(Sort, 0, len(items))
	for _, item := range items {
		item = strings.Trim(item, " ")
		desc := false
		if item != "" && (item[0] == '-' || item[0] == '+') {
			desc = item[0] == '-'
			item = item[1:]
		}
		k, err := sortKey(item, desc, schema)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// SortFromSCIM builds a Sort from the SCIM sortBy and sortOrder parameters
// (RFC 7644 §3.4.2.3): sortOrder is "ascending" (the default when empty) or
// "descending", case-insensitively. An empty sortBy is the nil Sort, and
// then sortOrder is ignored, as the RFC says.
func SortFromSCIM(sortBy, sortOrder string, schema *Schema) (Sort, error) {
	if sortBy == "" {
		return nil, nil
	}
	var desc bool
	switch {
	case sortOrder == "" || strings.EqualFold(sortOrder, "ascending"):
	case strings.EqualFold(sortOrder, "descending"):
		desc = true
	default:
		return nil, fmt.Errorf("%w: sortOrder %q is neither ascending nor descending", ErrInvalidFilter, sortOrder)
	}
	k, err := sortKey(sortBy, desc, schema)
	if err != nil {
		return nil, err
	}
	return Sort{k}, nil
}

func sortKey(path string, desc bool, schema *Schema) (SortKey, error) {
	a, err := schema.Resolve(path)
	if err != nil {
		return SortKey{}, err
	}
	switch {
	case a.Type == TypeComplex:
		return SortKey{}, &AttrError{Attr: path, Msg: "cannot sort by a complex attribute"}
	case a.Multi:
		return SortKey{}, &AttrError{Attr: path, Msg: "cannot sort by a multi-valued attribute"}
	}
	return SortKey{Attr: a, Desc: desc}, nil
}

// String returns the canonical text of s, which ParseSort reads back:
// canonical attribute names, "-" before descending keys.
func (s Sort) String() string {
	var b strings.Builder
	for i, k := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		if k.Desc {
			b.WriteByte('-')
		}
		if k.Attr != nil {
			b.WriteString(k.Attr.Name)
		}
	}
	return b.String()
}

// Values returns the sort key values of r, one per key: the attribute's
// first scalar value, or the null Value when it is unassigned.
func (s Sort) Values(r Resource) []Value {
	out := make([]Value, len(s))
	for i, k := range s {
		if v, ok := k.Attr.firstValue(r); ok {
			out[i] = v
		}
	}
	return out
}

// Compare compares two records' sort key values (as returned by Values),
// key by key: strings after Fold unless caseExact, numbers exactly,
// dateTimes as instants, values of different kinds (under claims) by kind
// as AppendKey orders them. A missing (null) value sorts after every
// present one in both directions. Equal values compare 0: the id
// tie-break is the caller's (AppendKey includes it).
func (s Sort) Compare(a, b []Value) int {
	for i, k := range s {
		va, vb := at(a, i), at(b, i)
		ma, mb := va.Kind == KindNull, vb.Kind == KindNull
		switch {
		case ma && mb:
			continue
		case ma:
			return 1
		case mb:
			return -1
		}
		c := compareValues(va, vb, k.Attr != nil && k.Attr.CaseExact)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func at(vals []Value, i int) Value {
	if i < len(vals) {
		return vals[i]
	}
	return Value{}
}

// AppendKey appends to dst a key for a record with sort key values vals
// and the given id, such that bytes.Compare of two records' keys orders
// them exactly as Compare does, ties broken by id (in the direction of the
// last key; ascending when s is empty). Each component is a presence byte
// (missing after present, never inverted) followed, when present, by the
// value's AppendKey encoding, inverted for a descending key; the id comes
// last as a caseExact string.
func (s Sort) AppendKey(dst []byte, vals []Value, id string) []byte {
	for i, k := range s {
		v := at(vals, i)
		if v.Kind == KindNull {
			dst = append(dst, sortMissing)
			continue
		}
		dst = append(dst, sortPresent)
		start := len(dst)
		dst = AppendKey(dst, v, k.Attr != nil && k.Attr.CaseExact)
		if k.Desc {
			invert(dst[start:])
		}
	}
	start := len(dst)
	dst = AppendKey(dst, Value{Kind: KindString, Str: id}, true)
	if len(s) > 0 && s[len(s)-1].Desc {
		invert(dst[start:])
	}
	return dst
}
