package mongo

import (
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/userdir/userdir/query"
)

// Pushdown reports what Query executes natively for a kind: see
// pushdown.Filter and pushdown.Sort. An undefined kind pushes nothing down.
func (s *Store) Pushdown(kind string) query.Pushdown {
	return pushdown{s.compiler((*s.kinds.Load())[kind])}
}

type pushdown struct{ c compiler }

// Filter reports Exact for every node the compiler turns into a native
// filter that selects exactly what query.Eval would, Superset where the
// native filter is coarser (value filters on multi-valued attributes on
// FerretDB, ordering and ne on claims there), and Unsupported otherwise
// (complex attributes tested with pr, value filters on claims, claims
// paths no filter name can reach).
func (p pushdown) Filter(e query.Expr) query.Support {
	if p.c.kd == nil {
		return query.Unsupported
	}
	_, sup := p.c.compile(e, scope{})
	return sup
}

// Sort accepts the id order and a single key on an attribute that has a
// declared index, is single-valued and is Required (so every record has a
// value and the native order, which sorts missing values first, agrees
// with query.Sort, which sorts them last).
func (p pushdown) Sort(s query.Sort) bool {
	return len(s) == 0 || (p.c.kd != nil && p.c.kd.sortNode(s) != nil)
}

// sortNode returns the shadow field a pushed-down sort orders by, or nil.
func (kd *kindDef) sortNode(s query.Sort) *node {
	if len(s) != 1 || s[0].Attr == nil {
		return nil
	}
	a := s[0].Attr
	n := kd.fields[a.Name]
	if n == nil || !kd.sorted[a.Name] || a.Local != a.Name || n.attr.CaseExact != a.CaseExact {
		return nil
	}
	return n
}

// compiler turns bound filters into MongoDB filter documents. Literals only
// ever appear as values inside typed BSON values (never as keys or
// operators), and regular expressions quote every metacharacter, so no
// literal can change the structure of a query.
type compiler struct {
	kd        *kindDef
	elemMatch bool // the server evaluates $elemMatch over sub-documents correctly
}

// mode is where in a filter the compiler is.
type mode uint8

const (
	// modeTop: the filter's top level; paths from the record root.
	modeTop mode = iota
	// modeSingle: inside a value filter on a single-valued complex
	// attribute; its one element makes dotted paths exact.
	modeSingle
	// modeElem: inside $elemMatch; paths relative to the element.
	modeElem
	// modeLoose: inside a value filter on a multi-valued attribute where
	// $elemMatch cannot be used: each condition on its dotted path, which
	// selects a superset, so negations cannot be pushed.
	modeLoose
)

type scope struct {
	mode mode
	vf   *node // the value filter's attribute, outside modeTop
}

// compile returns the native filter of e and how exactly it selects the
// records that satisfy e. An Unsupported node has no filter.
func (c compiler) compile(e query.Expr, sc scope) (bson.D, query.Support) {
	switch n := e.(type) {
	case *query.And:
		if n == nil {
			return nil, query.Unsupported
		}
		l, ls := c.compile(n.Left, sc)
		r, rs := c.compile(n.Right, sc)
		switch {
		case ls == query.Unsupported && rs == query.Unsupported:
			return nil, query.Unsupported
		case ls == query.Unsupported:
			return r, query.Superset
		case rs == query.Unsupported:
			return l, query.Superset
		}
		return and(l, r), min(ls, rs)
	case *query.Or:
		if n == nil {
			return nil, query.Unsupported
		}
		l, ls := c.compile(n.Left, sc)
		r, rs := c.compile(n.Right, sc)
		if ls == query.Unsupported || rs == query.Unsupported {
			return nil, query.Unsupported
		}
		return or(l, r), min(ls, rs)
	case *query.Not:
		// Only an exact filter has an exact complement.
		if n == nil || sc.mode == modeLoose {
			return nil, query.Unsupported
		}
		x, xs := c.compile(n.X, sc)
		if xs != query.Exact {
			return nil, query.Unsupported
		}
		return nor(x), query.Exact
	case *query.Compare:
		if n == nil || n.Attr == nil {
			return nil, query.Unsupported
		}
		if n.Attr.Claims {
			return c.claimCompare(n, sc)
		}
		return c.compare(n, sc)
	case *query.Present:
		if n == nil || n.Attr == nil {
			return nil, query.Unsupported
		}
		if n.Attr.Claims {
			path, ok := c.claimPath(n.Attr, n.Path, sc)
			if !ok {
				return nil, query.Unsupported
			}
			return claimPresence(path), query.Exact
		}
		nd, path, ok := c.leaf(n.Attr, sc)
		if !ok {
			return nil, query.Unsupported
		}
		return present(nd, path), sc.leafSupport()
	case *query.ValueFilter:
		if n == nil || n.Attr == nil || n.Filter == nil || sc.mode != modeTop {
			return nil, query.Unsupported
		}
		return c.valueFilter(n)
	}
	return nil, query.Unsupported
}

// leafSupport is how exactly a leaf's filter selects in the scope.
func (sc scope) leafSupport() query.Support {
	if sc.mode == modeLoose {
		return query.Superset
	}
	return query.Exact
}

// leaf returns the shadow field of a scalar attribute and its path in the
// scope.
func (c compiler) leaf(a *query.Attribute, sc scope) (*node, string, bool) {
	n := c.kd.fields[a.Name]
	if n == nil || n.typ != a.Type || n.attr.CaseExact != a.CaseExact {
		return nil, "", false
	}
	if sc.mode == modeTop {
		return n, n.path, a.Local == a.Name
	}
	rel, ok := strings.CutPrefix(n.path, sc.vf.path+".")
	if !ok {
		return nil, "", false
	}
	if sc.mode == modeElem {
		return n, rel, true
	}
	return n, n.path, true
}

// compare compiles a comparison on a schema attribute. Shadow fields hold
// one type each (folded or exact strings, booleans, or the key strings of
// numbers and instants), and MongoDB compares values of one type only, so
// each operator maps to one native comparison:
//
//   - eq, gt, ge, lt, le: the same operator on the shadow; on an array it
//     holds when some element does, which is rule 10;
//   - ne (existential: some assigned value differs): some value below or
//     some value above, or for a boolean some value equal to the other
//     boolean; unlike $ne this is false when the attribute is unassigned;
//   - sw, co, ew: a regular expression over the folded shadow, the literal
//     quoted, anchored with ^ and \z (not $, which also matches before a
//     final newline);
//   - eq null and ne null: the negation of pr, and pr.
func (c compiler) compare(cmp *query.Compare, sc scope) (bson.D, query.Support) {
	n, path, ok := c.leaf(cmp.Attr, sc)
	if !ok {
		return nil, query.Unsupported
	}
	sup := sc.leafSupport()
	v := cmp.Value
	if v.Kind == query.KindNull {
		switch {
		case cmp.Op == query.OpNe:
			return present(n, path), sup
		case cmp.Op == query.OpEq && sc.mode != modeLoose:
			return nor(present(n, path)), query.Exact
		}
		return nil, query.Unsupported
	}
	lit, ok := n.encode(v)
	if !ok {
		return nil, query.Unsupported
	}
	switch cmp.Op {
	case query.OpEq:
		return bson.D{{Key: path, Value: lit}}, sup
	case query.OpNe:
		if b, ok := lit.(bool); ok {
			return bson.D{{Key: path, Value: !b}}, sup
		}
		return or(cond(path, "$lt", lit), cond(path, "$gt", lit)), sup
	case query.OpGt, query.OpGe, query.OpLt, query.OpLe:
		if n.typ == query.TypeBoolean {
			return nil, query.Unsupported
		}
		return cond(path, opName(cmp.Op), lit), sup
	case query.OpSw, query.OpCo, query.OpEw:
		s, ok := lit.(string)
		if !ok || n.typ != query.TypeString {
			return nil, query.Unsupported
		}
		return cond(path, "$regex", substring(cmp.Op, "", s)), sup
	}
	return nil, query.Unsupported
}

// opName returns the native operator of an ordering operator.
func opName(op query.Op) string {
	switch op {
	case query.OpGt:
		return "$gt"
	case query.OpGe:
		return "$gte"
	case query.OpLt:
		return "$lt"
	}
	return "$lte"
}

// present is pr on a shadow field: a non-empty string (strings are the
// only shadow values that can be empty), or any value.
func present(n *node, path string) bson.D {
	if n.typ == query.TypeString {
		return cond(path, "$gt", "")
	}
	return cond(path, "$exists", true)
}

// substring returns the regular expression of sw, co or ew with literal
// s, after a fixed (quoted) prefix that the matched string starts with.
func substring(op query.Op, prefix, s string) string {
	var b strings.Builder
	if prefix != "" || op == query.OpSw {
		b.WriteByte('^')
	}
	b.WriteString(quote(prefix))
	if prefix != "" && op != query.OpSw {
		b.WriteString(`[\s\S]*`)
	}
	b.WriteString(quote(s))
	if op == query.OpEw {
		b.WriteString(`\z`)
	}
	return b.String()
}

// quote quotes every regular expression metacharacter of s, for PCRE
// (MongoDB) and RE2 (FerretDB) alike. A NUL becomes \x00, since a BSON
// regular expression cannot hold a NUL byte.
func quote(s string) string {
	return strings.ReplaceAll(regexp.QuoteMeta(s), "\x00", `\x00`)
}

// claimPath returns the path of a claims attribute as claims entries spell
// it, if entries exist for it: at the top level of a filter, under a
// free-form attribute the store shadows, every name one a filter can
// spell.
func (c compiler) claimPath(a *query.Attribute, p query.Path, sc scope) (string, bool) {
	root, _, _ := strings.Cut(a.Name, ".")
	if sc.mode != modeTop || !c.kd.free[root] || len(p.Names) < 2 {
		return "", false
	}
	for _, name := range p.Names[1:] {
		if !filterName(name) {
			return "", false
		}
	}
	return a.Name, true
}

// claimCompare compiles a comparison on a claims path against the claims
// entries "<path>\x00<type letter><payload>". Equality, sw, co and ew match
// one entry (equality, or a regular expression anchored at the path and
// type), so they are exact everywhere. Ordering and ne need a range within
// one path and type, tied to one entry with $elemMatch over the scalar
// array; on FerretDB, whose $elemMatch does not tie ranges, the two bounds
// are separate conditions (a superset), and ne is not pushed.
func (c compiler) claimCompare(cmp *query.Compare, sc scope) (bson.D, query.Support) {
	path, ok := c.claimPath(cmp.Attr, cmp.Path, sc)
	if !ok {
		return nil, query.Unsupported
	}
	pre := path + "\x00"
	v := cmp.Value
	switch v.Kind {
	case query.KindNull:
		switch cmp.Op {
		case query.OpEq:
			return nor(claimPresence(path)), query.Exact
		case query.OpNe:
			return claimPresence(path), query.Exact
		}
	case query.KindBool:
		switch cmp.Op {
		case query.OpEq:
			return bson.D{{Key: fieldClaims, Value: pre + claimBit(v.Bool)}}, query.Exact
		case query.OpNe:
			return bson.D{{Key: fieldClaims, Value: pre + claimBit(!v.Bool)}}, query.Exact
		}
	case query.KindString:
		fold := query.Fold(v.Str)
		entry := pre + string(claimString) + fold
		switch cmp.Op {
		case query.OpEq:
			return bson.D{{Key: fieldClaims, Value: entry}}, query.Exact
		case query.OpSw:
			return cond(fieldClaims, "$regex", substring(cmp.Op, entry, "")), query.Exact
		case query.OpCo, query.OpEw:
			return cond(fieldClaims, "$regex", substring(cmp.Op, pre+string(claimString), fold)), query.Exact
		}
		return c.claimRange(cmp.Op, pre+string(claimString), pre+string(claimString+1), entry)
	case query.KindNumber:
		entry := pre + string(claimNumber) + keyString(v)
		if cmp.Op == query.OpEq {
			return bson.D{{Key: fieldClaims, Value: entry}}, query.Exact
		}
		return c.claimRange(cmp.Op, pre+string(claimNumber), pre+string(claimNumber+1), entry)
	}
	return nil, query.Unsupported
}

// claimRange compiles an ordering or ne against entry, within the entries
// [lo, hi) of one path and type.
func (c compiler) claimRange(op query.Op, lo, hi, entry string) (bson.D, query.Support) {
	var bounds bson.D
	switch op {
	case query.OpGt, query.OpGe:
		bounds = bson.D{{Key: opName(op), Value: entry}, {Key: "$lt", Value: hi}}
	case query.OpLt, query.OpLe:
		bounds = bson.D{{Key: "$gte", Value: lo}, {Key: opName(op), Value: entry}}
	case query.OpNe:
		if !c.elemMatch {
			return nil, query.Unsupported
		}
		bounds = bson.D{{Key: "$gte", Value: lo}, {Key: "$lt", Value: hi}, {Key: "$ne", Value: entry}}
	default:
		return nil, query.Unsupported
	}
	if c.elemMatch {
		return cond(fieldClaims, "$elemMatch", bounds), query.Exact
	}
	parts := make([]bson.D, len(bounds))
	for i, b := range bounds {
		parts[i] = cond(fieldClaims, b.Key, b.Value)
	}
	return and(parts...), query.Superset
}

func claimBit(b bool) string {
	if b {
		return string(claimBool) + "1"
	}
	return string(claimBool) + "0"
}

// claimPresence is pr on a claims path: an entry at the path or below it
// that is not an empty string.
func claimPresence(path string) bson.D {
	return cond(fieldClaims, "$regex", "^"+quote(path)+`(?:\.[^\x00]*)?\x00(?:[`+string(claimNumber)+string(claimBool)+string(claimPresent)+`]|`+string(claimString)+`[\s\S])`)
}

// valueFilter compiles attr[filter]. On a single-valued attribute the one
// element makes dotted paths exact. On a multi-valued one, $elemMatch ties
// the conditions to one element where the server evaluates it correctly;
// on FerretDB each condition goes on its dotted path (a superset that the
// directory re-checks).
func (c compiler) valueFilter(vf *query.ValueFilter) (bson.D, query.Support) {
	if vf.Attr.Claims {
		return nil, query.Unsupported
	}
	n := c.kd.groups[vf.Attr.Name]
	if n == nil {
		return nil, query.Unsupported
	}
	exists := cond(n.path, "$exists", true)
	var m mode
	switch {
	case !n.anyMulti:
		m = modeSingle
	case c.elemMatch:
		m = modeElem
	default:
		m = modeLoose
	}
	inner, sup := c.compile(vf.Filter, scope{mode: m, vf: n})
	switch {
	case sup == query.Unsupported:
		return exists, query.Superset
	case m == modeElem:
		return cond(n.path, "$elemMatch", inner), sup
	case m == modeLoose:
		return and(exists, inner), query.Superset
	}
	return and(exists, inner), sup
}

// cond is {path: {op: v}}.
func cond(path, op string, v any) bson.D {
	return bson.D{{Key: path, Value: bson.D{{Key: op, Value: v}}}}
}

// and returns a filter that holds when every part does: one document when
// the parts' keys are distinct (easier to read in Explain), else $and.
func and(parts ...bson.D) bson.D {
	var flat []bson.D
	for _, p := range parts {
		if len(p) == 1 && p[0].Key == "$and" {
			if arr, ok := p[0].Value.(bson.A); ok {
				for _, e := range arr {
					if d, ok := e.(bson.D); ok {
						flat = append(flat, d)
					}
				}
				continue
			}
		}
		if len(p) > 0 {
			flat = append(flat, p)
		}
	}
	seen := map[string]bool{}
	var merged bson.D
	for _, p := range flat {
		for _, e := range p {
			if seen[e.Key] {
				arr := make(bson.A, len(flat))
				for i, f := range flat {
					arr[i] = f
				}
				return bson.D{{Key: "$and", Value: arr}}
			}
			seen[e.Key] = true
			merged = append(merged, e)
		}
	}
	return merged
}

// or returns a filter that holds when some part does.
func or(parts ...bson.D) bson.D {
	var arr bson.A
	for _, p := range parts {
		if len(p) == 1 && p[0].Key == "$or" {
			if sub, ok := p[0].Value.(bson.A); ok {
				arr = append(arr, sub...)
				continue
			}
		}
		arr = append(arr, p)
	}
	return bson.D{{Key: "$or", Value: arr}}
}

// nor returns a filter that holds when x does not.
func nor(x bson.D) bson.D {
	return bson.D{{Key: "$nor", Value: bson.A{x}}}
}
