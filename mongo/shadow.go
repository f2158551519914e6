package mongo

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Type letters of a claims entry: "<path>\x00<letter><payload>".
const (
	claimString  = 's' // payload: the folded string
	claimNumber  = 'n' // payload: keyString of the number
	claimBool    = 'b' // payload: "0" or "1"
	claimPresent = 'p' // no payload: something non-empty lies below, under keys no filter can name
)

// keyString is the shadow form of a number or an instant: the hex digits
// of query.AppendKey, a string whose byte order is the value order (BSON
// binary data will not do: MongoDB and FerretDB order it by length first).
func keyString(v query.Value) string {
	return hex.EncodeToString(query.AppendKey(nil, v, true))
}

// encode returns the shadow form of a value of the node's attribute, and
// false when the value's kind is not the attribute's type (the evaluator
// never matches such a value, so it is not stored).
func (n *node) encode(v query.Value) (any, bool) {
	switch n.typ {
	case query.TypeString:
		if v.Kind != query.KindString {
			return nil, false
		}
		if n.attr.CaseExact {
			return v.Str, true
		}
		return query.Fold(v.Str), true
	case query.TypeBoolean:
		return v.Bool, v.Kind == query.KindBool
	case query.TypeNumber:
		return keyString(v), v.Kind == query.KindNumber
	case query.TypeDateTime:
		return keyString(v), v.Kind == query.KindTime
	}
	return nil, false
}

// shadow is everything a record document holds besides its data: the
// comparable forms the native queries run on.
type shadow struct {
	x      bson.D   // per-attribute shadow fields
	claims []string // claims entries
	unique []string // reservation keys of the unique indexes
}

// shadowOf computes the shadow of doc.
func (kd *kindDef) shadowOf(doc backend.Document) shadow {
	var sh shadow
	sh.x = kd.element(kd.tree, doc)
	for name := range kd.free {
		sh.claims = kd.claimEntries(name, doc, sh.claims)
	}
	slices.Sort(sh.claims)
	sh.claims = slices.Compact(sh.claims)
	for _, ix := range kd.unique {
		for _, k := range ix.Keys(doc) {
			sh.unique = append(sh.unique, reservationKey(ix.Name, k))
		}
	}
	return sh
}

// reservationKey names one unique index key: the index name, NUL, and the
// key's hex digits. Index names have no NUL, so the split is unambiguous.
func reservationKey(index string, key []byte) string {
	return index + "\x00" + hex.EncodeToString(key)
}

// splitReservationKey returns the index name and key of a reservation key.
func splitReservationKey(k string) (index string, key []byte) {
	index, h, _ := strings.Cut(k, "\x00")
	key, _ = hex.DecodeString(h)
	return index, key
}

// element returns the shadow sub-document of one element: the fields of
// the nodes below it. e is the resource itself at the top level.
func (kd *kindDef) element(nodes []*node, e any) bson.D {
	var d bson.D
	for _, n := range nodes {
		if n.typ == query.TypeComplex {
			var subs []any
			flatten(child(e, n.name), func(el any) {
				subs = append(subs, kd.element(n.kids, el))
			})
			switch {
			case len(subs) == 0:
			case n.anyMulti || len(subs) > 1:
				d = append(d, bson.E{Key: n.key, Value: bson.A(subs)})
			default:
				d = append(d, bson.E{Key: n.key, Value: subs[0]})
			}
			continue
		}
		var vals []any
		for _, v := range n.attr.Values(at(n.prefix, e)) {
			if sv, ok := n.encode(v); ok {
				vals = append(vals, sv)
			}
		}
		switch {
		case len(vals) == 0:
		case n.multi || len(vals) > 1:
			d = append(d, bson.E{Key: n.key, Value: bson.A(vals)})
		default:
			d = append(d, bson.E{Key: n.key, Value: vals[0]})
		}
	}
	return d
}

// at returns a resource that holds e at the path prefix and nothing else,
// so that an attribute's Values, which walk from the resource root, read
// the values of that one element with the evaluator's own lookups and
// conversions.
func at(prefix []string, e any) query.Resource {
	if len(prefix) == 0 {
		if r, ok := e.(query.Resource); ok {
			return r
		}
		return mapResource{e}
	}
	return chain{names: prefix, leaf: e}
}

// chain is a resource holding one element at a path of names.
type chain struct {
	names []string
	leaf  any
}

func (c chain) Attr(name string) any {
	if len(c.names) == 0 || name != c.names[0] {
		return nil
	}
	if len(c.names) == 1 {
		return c.leaf
	}
	return chain{names: c.names[1:], leaf: c.leaf}
}

// mapResource exposes a top-level value that is not a Resource (never the
// case for a Document, which is one) with the lookup the evaluator uses.
type mapResource struct{ v any }

func (m mapResource) Attr(name string) any { return child(m.v, name) }

// child returns the member name of a complex value as the evaluator looks
// it up: through Resource.Attr, or in a map by exact name and then
// case-insensitively, since schema names are case-insensitive.
func child(v any, name string) any {
	switch x := v.(type) {
	case query.Resource:
		return x.Attr(name)
	case map[string]any:
		if e, ok := x[name]; ok {
			return e
		}
		for k, e := range x {
			if strings.EqualFold(k, name) {
				return e
			}
		}
	}
	return nil
}

// flatten calls fn for each element of a complex attribute's value,
// flattening lists at any depth as the evaluator does.
func flatten(v any, fn func(any)) {
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			flatten(e, fn)
		}
	case []map[string]any:
		for _, e := range x {
			flatten(e, fn)
		}
	case query.List:
		for i, n := 0, x.Len(); i < n; i++ {
			flatten(x.At(i), fn)
		}
	default:
		fn(v)
	}
}

// claimEntries appends the entries of the free-form attribute name:
// "<attribute path>\x00<type letter><payload>" for every scalar at every
// path a filter can name, so that `claims.department eq "ops"` is the
// equality {c: "claims.department\x00sops"} on one indexed array, with the
// JSON type in the entry (3 and "3" never meet, as rule 9 wants).
//
// Paths a filter cannot name (a key that is not a filter name, such as
// "first name" or "a.b") get no entries, except a presence marker on the
// nearest nameable ancestor, which pr needs. Values are read with the
// evaluator's own Values, so conversions agree with it.
func (kd *kindDef) claimEntries(name string, doc backend.Document, out []string) []string {
	root := doc.Attr(name)
	paths := map[string]bool{}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !filterName(k) {
					if path != name && nonEmpty(e) {
						out = append(out, path+"\x00"+string(claimPresent))
					}
					continue
				}
				p := path + "." + k
				paths[p] = true
				walk(e, p)
			}
		case []any:
			for _, e := range x {
				walk(e, path)
			}
		case []map[string]any:
			for _, e := range x {
				walk(e, path)
			}
		}
	}
	walk(root, name)
	for p := range paths {
		a, err := kd.kind.Schema.Resolve(p)
		if err != nil || !a.Claims {
			continue
		}
		for _, v := range a.Values(doc) {
			pre := p + "\x00"
			switch v.Kind {
			case query.KindString:
				out = append(out, pre+string(claimString)+query.Fold(v.Str))
			case query.KindNumber:
				out = append(out, pre+string(claimNumber)+keyString(v))
			case query.KindBool:
				b := "0"
				if v.Bool {
					b = "1"
				}
				out = append(out, pre+string(claimBool)+b)
			case query.KindTime:
				// JSON has no instants; a Resource that hands one out
				// under claims makes it present but equal to nothing.
				out = append(out, pre+string(claimPresent))
			}
		}
	}
	return out
}

// filterName reports whether s is an attribute name the filter grammar
// accepts: ALPHA *(ALPHA / DIGIT / "-" / "_").
func filterName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c|0x20 && c|0x20 <= 'z'
		if !alpha && (i == 0 || !('0' <= c && c <= '9' || c == '-' || c == '_')) {
			return false
		}
	}
	return true
}

// nonEmpty reports whether a claims value holds something pr counts as
// present: a non-empty string, any number or boolean, or a list or object
// holding one.
func nonEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case json.Number:
		return x != ""
	case bool, time.Time, query.Number, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8, float64, float32:
		return true
	case []any:
		return slices.ContainsFunc(x, nonEmpty)
	case []string:
		return slices.ContainsFunc(x, func(s string) bool { return s != "" })
	case []map[string]any:
		for _, m := range x {
			if nonEmpty(m) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if nonEmpty(e) {
				return true
			}
		}
	}
	return false
}
