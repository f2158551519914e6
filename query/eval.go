package query

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Eval reports whether the resource r satisfies the bound filter e. It is
// the reference semantics every backend's pushdown must agree with (DESIGN
// §3 rules 5–11):
//
//   - a multi-valued attribute matches when any of its values does, and
//     lists are flattened at every level of a path;
//   - ne is existential: it holds when some assigned value differs, so an
//     unassigned attribute never satisfies ne (nor eq); not is plain
//     negation;
//   - pr is false for an unassigned attribute, null, "", an empty list or
//     object, and an object whose members are all empty; false and 0 are
//     present; eq null is the negation of pr and ne null is pr;
//   - an empty string counts as unassigned everywhere, as typed fields
//     normalize it (DESIGN §2): it satisfies no comparison, so `x eq ""`
//     matches nothing and `x ne "a"` does not hold for it;
//   - strings compare after Fold unless the attribute is caseExact (strings
//     under claims are never caseExact), and order by code point; numbers
//     compare exactly; dateTimes as instants (a dateTime attribute also
//     accepts an RFC 3339 string from the Resource);
//   - a value of another type than the literal (possible under claims, or
//     when a Resource hands out a value of an unexpected Go type) matches
//     nothing, for every operator including ne.
//
// A nil e matches every resource. A node that was not bound by Bind
// matches nothing. Eval never panics on the values a Resource returns.
func Eval(e Expr, r Resource) bool {
	if e == nil {
		return true
	}
	var root any
	if r != nil {
		root = r
	}
	return eval(e, root)
}

// eval evaluates e against ctx: the resource at the top level, or one
// element of a value filter's attribute.
func eval(e Expr, ctx any) bool {
	switch n := e.(type) {
	case *And:
		return n != nil && n.Left != nil && n.Right != nil && eval(n.Left, ctx) && eval(n.Right, ctx)
	case *Or:
		return n != nil && n.Left != nil && n.Right != nil && (eval(n.Left, ctx) || eval(n.Right, ctx))
	case *Not:
		return n != nil && n.X != nil && !eval(n.X, ctx)
	case *Compare:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 {
			return false
		}
		if n.Value.Kind == KindNull {
			p := present(ctx, n.Attr.rel, n.Attr.def)
			return p == (n.Op == OpNe)
		}
		return n.any(ctx, n.Attr.rel)
	case *Present:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 {
			return false
		}
		return present(ctx, n.Attr.rel, n.Attr.def)
	case *ValueFilter:
		if n == nil || n.Attr == nil || len(n.Attr.rel) == 0 || n.Filter == nil {
			return false
		}
		return anyElement(n.Filter, ctx, n.Attr.rel)
	}
	return false
}

// lookup finds a map member: exactly under claims, otherwise preferring
// the declared spelling and falling back to a case-insensitive match.
func lookup(m map[string]any, s seg) any {
	if v, ok := m[s.name]; ok || s.exact {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, s.name) {
			return v
		}
	}
	return nil
}

// anyElement reports whether some element at segs below v satisfies f.
// A []string is not flattened: its strings have no members to filter.
func anyElement(f Expr, v any, segs []seg) bool {
	return walk(v, segs, false, func(x any) bool { return eval(f, x) })
}

// any reports whether some scalar value at segs below v matches c.
func (c *Compare) any(v any, segs []seg) bool {
	return walk(v, segs, true, c.match)
}

// walk reports whether leaf holds for some value at segs below v. Lists
// ([]any, []map[string]any, List) are flattened at every level of the
// path; a []string is flattened only when strs is set, and only at the end
// of the path, since a string has no members. Its strings reach leaf as
// *string, which every leaf reads as the string: a pointer into the slice
// fits in an interface without allocating. Below a value that is neither a
// list nor complex (a Resource or a map) nothing is assigned.
func walk(v any, segs []seg, strs bool, leaf func(any) bool) bool {
	for {
		switch x := v.(type) {
		case nil:
			return false
		case string, *string, json.Number, bool, int, int64, float64, time.Time, *time.Time:
			// The common scalars, first, so that they skip the interface
			// cases below.
			return len(segs) == 0 && leaf(v)
		case []any:
			for _, e := range x {
				if walk(e, segs, strs, leaf) {
					return true
				}
			}
			return false
		case []string:
			if !strs {
				break
			}
			if len(segs) > 0 {
				return false
			}
			for i := range x {
				if leaf(&x[i]) {
					return true
				}
			}
			return false
		case []map[string]any:
			for _, e := range x {
				if walk(e, segs, strs, leaf) {
					return true
				}
			}
			return false
		case map[string]any:
			if len(segs) == 0 {
				return leaf(v)
			}
			v, segs = lookup(x, segs[0]), segs[1:]
			continue
		case List:
			for i, n := 0, x.Len(); i < n; i++ {
				if walk(x.At(i), segs, strs, leaf) {
					return true
				}
			}
			return false
		case Resource:
			if len(segs) == 0 {
				return leaf(v)
			}
			v, segs = x.Attr(segs[0].name), segs[1:]
			continue
		}
		return len(segs) == 0 && leaf(v)
	}
}

// match compares one scalar data value with the literal.
func (c *Compare) match(v any) bool {
	switch c.Value.Kind {
	case KindString:
		s, ok := stringOf(v)
		return ok && c.matchString(s)
	case KindBool:
		b, ok := v.(bool)
		return ok && boolHolds(c.Op, b, c.Value.Bool)
	case KindNumber:
		li, isInt := c.Value.Num.Int64()
		return numberHolds(c.Op, v, c.Value.Num, li, isInt)
	case KindTime:
		t, ok := toTime(v, c.Attr.Type == TypeDateTime)
		return ok && c.Op.holds(t.Compare(c.Value.Time))
	}
	return false
}

// boolHolds reports whether the boolean b satisfies op against lit: only
// eq and ne apply to booleans.
func boolHolds(op Op, b, lit bool) bool {
	switch op {
	case OpEq:
		return b == lit
	case OpNe:
		return b != lit
	}
	return false
}

// holds reports whether a three-way comparison result satisfies an
// equality or ordering operator.
func (o Op) holds(cmp int) bool {
	switch o {
	case OpEq:
		return cmp == 0
	case OpNe:
		return cmp != 0
	case OpGt:
		return cmp > 0
	case OpGe:
		return cmp >= 0
	case OpLt:
		return cmp < 0
	case OpLe:
		return cmp <= 0
	}
	return false
}

func (c *Compare) matchString(s string) bool {
	if s == "" {
		// An empty string is unassigned (DESIGN §2 normalization, rule 11).
		return false
	}
	if c.Attr.CaseExact {
		return stringOp(c.Op, s, c.Value.Str)
	}
	return foldOp(c.Op, s, c.folded())
}

// folded returns the folded string literal: the one Bind computed, or the
// literal folded now for a node given an Attribute without going through
// Bind.
func (c *Compare) folded() string {
	if c.foldSrc != c.Value.Str {
		return Fold(c.Value.Str)
	}
	return c.fold
}

// foldOp is stringOp(op, Fold(d), lit) for a folded literal.
func foldOp(op Op, d, lit string) bool {
	if isASCII(d) {
		// Folding ASCII is lower-casing, done byte by byte here so that
		// matching allocates nothing.
		return asciiFoldOp(op, d, lit)
	}
	return stringOp(op, Fold(d), lit)
}

func stringOp(op Op, d, lit string) bool {
	switch op {
	case OpCo:
		return strings.Contains(d, lit)
	case OpSw:
		return strings.HasPrefix(d, lit)
	case OpEw:
		return strings.HasSuffix(d, lit)
	}
	return op.holds(strings.Compare(d, lit))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// asciiFoldOp is stringOp(op, Fold(d), lit) for an ASCII d.
func asciiFoldOp(op Op, d, lit string) bool {
	switch op {
	case OpCo:
		if !hasUpperASCII(d) {
			return strings.Contains(d, lit)
		}
		if len(d) > 64 && len(lit) > 8 {
			// The byte-by-byte scan below is O(len(d)·len(lit)).
			return strings.Contains(strings.ToLower(d), lit)
		}
		for i := 0; i+len(lit) <= len(d); i++ {
			if asciiFoldPrefix(d[i:], lit) {
				return true
			}
		}
		return false
	case OpSw:
		return asciiFoldPrefix(d, lit)
	case OpEw:
		return len(d) >= len(lit) && asciiFoldPrefix(d[len(d)-len(lit):], lit)
	}
	return op.holds(asciiFoldCompare(d, lit))
}

// asciiFoldPrefix reports whether the lower-cased ASCII d starts with lit.
func asciiFoldPrefix(d, lit string) bool {
	if len(d) < len(lit) {
		return false
	}
	for i := 0; i < len(lit); i++ {
		if lowerASCII(d[i]) != lit[i] {
			return false
		}
	}
	return true
}

// asciiFoldCompare is strings.Compare of the lower-cased ASCII d and lit.
func asciiFoldCompare(d, lit string) int {
	n := min(len(d), len(lit))
	for i := 0; i < n; i++ {
		a, b := lowerASCII(d[i]), lit[i]
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(d) < len(lit):
		return -1
	case len(d) > len(lit):
		return 1
	}
	return 0
}

// numberHolds reports whether the numeric data value v satisfies op
// against lit; li is lit as an int64 when isInt. Integers, the common
// case, compare without building a Number when the literal is an integer
// too.
func numberHolds(op Op, v any, lit Number, li int64, isInt bool) bool {
	if isInt {
		if i, ok := toInt64(v); ok {
			return op.holds(cmpInt64(i, li))
		}
	}
	n, ok := toNumber(v)
	return ok && op.holds(n.Cmp(lit))
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxExactFloatInt is 2^53: every integer of at most this magnitude is
// exactly representable as a float64.
const maxExactFloatInt = 1 << 53

// toInt64 converts the integer Go types, float64 values that are exactly
// small integers, and json.Number text of a short integer to int64.
func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		return shortInt(string(x))
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint:
		return int64(x), uint64(x) <= math.MaxInt64
	case uint64:
		return int64(x), x <= math.MaxInt64
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= maxExactFloatInt {
			return int64(x), true
		}
	}
	return 0, false
}

// shortInt parses JSON integer text of at most 18 digits, which cannot
// overflow: claims hold their numbers as json.Number, and parsing the
// common small integer here spares building a Number. Other text
// (fractions, exponents, longer integers, anything invalid) reports false
// and is left to ParseNumber.
func shortInt(s string) (int64, bool) {
	digits := s
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(s) {
		n = -n
	}
	return n, true
}

// toNumber converts a numeric data value to an exact Number (DESIGN §3
// rule 7). A float64 converts through its shortest decimal representation,
// the text encoding/json would write for it; NaN and infinities are not
// numbers and match nothing.
func toNumber(v any) (Number, bool) {
	switch x := v.(type) {
	case Number:
		return x, true
	case json.Number:
		// Parsed, not taken through toInt64: NumberFromInt64 formats the
		// digits anew, where ParseNumber keeps a substring of the text.
		n, err := ParseNumber(string(x))
		return n, err == nil
	}
	if i, ok := toInt64(v); ok {
		return NumberFromInt64(i), true
	}
	var s string
	switch x := v.(type) {
	case uint:
		s = strconv.FormatUint(uint64(x), 10)
	case uint64:
		s = strconv.FormatUint(x, 10)
	case float64:
		return NumberFromFloat64(x)
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Number{}, false
		}
		s = strconv.FormatFloat(f, 'g', -1, 32)
	default:
		return Number{}, false
	}
	n, err := ParseNumber(s)
	return n, err == nil
}

// toTime converts a data value to an instant. Strings are parsed only for
// dateTime attributes (a Resource should hand out time.Time, but a string
// in RFC 3339 form is accepted there); under claims strings stay strings.
func toTime(v any, parseStrings bool) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case *time.Time:
		if x != nil {
			return *x, true
		}
	case string, *string:
		if s, ok := stringOf(x); ok && parseStrings {
			t, err := parseDateTime(s)
			return t, err == nil
		}
	}
	return time.Time{}, false
}

// stringOf returns a data value that is a string, handed out as a string
// or a non-nil *string.
func stringOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case *string:
		if x != nil {
			return *x, true
		}
	}
	return "", false
}

// present reports whether some value at segs below v is non-empty. def is
// the declaration of the attribute (nil under claims), needed to look into
// complex values handed out as a Resource, whose members cannot be listed.
func present(v any, segs []seg, def *AttrDef) bool {
	return walk(v, segs, true, presentLeaf(def))
}

// subsOf returns the sub-attributes of a declaration, nil for none.
func subsOf(def *AttrDef) []AttrDef {
	if def == nil {
		return nil
	}
	return def.Sub
}

// nonEmpty implements pr for one value (DESIGN §3 rule 11). subs are the
// sub-attributes of a complex value, if declared.
func nonEmpty(v any, subs []AttrDef) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case *string:
		return x != nil && *x != ""
	case *time.Time:
		return x != nil
	case json.Number:
		return x != ""
	case bool, time.Time, Number, int, int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		return true
	case float64:
		// NaN and infinities have no JSON form: they are not values.
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0)
	case []string:
		for _, s := range x {
			if s != "" {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if nonEmpty(e, subs) {
				return true
			}
		}
		return false
	case []map[string]any:
		for _, e := range x {
			if nonEmpty(e, subs) {
				return true
			}
		}
		return false
	case List:
		for i, n := 0, x.Len(); i < n; i++ {
			if nonEmpty(x.At(i), subs) {
				return true
			}
		}
		return false
	case map[string]any:
		for k, m := range x {
			var sub []AttrDef
			if d := findDef(subs, k); d != nil {
				sub = d.Sub
			}
			if nonEmpty(m, sub) {
				return true
			}
		}
		return false
	case Resource:
		if subs == nil {
			// A complex value whose members are unknown (under claims):
			// it was handed out, so it is present.
			return true
		}
		for i := range subs {
			if nonEmpty(x.Attr(subs[i].Name), subs[i].Sub) {
				return true
			}
		}
		return false
	}
	return false
}

// Values returns every scalar value of the attribute in r, flattening
// multi-valued attributes, in the order the resource holds them: strings,
// booleans, Numbers (from any numeric Go type) and instants (from time.Time,
// or from an RFC 3339 string at a dateTime attribute). Null, complex values
// and values of unexpected Go types are skipped. Values returns nil when
// there are none.
func (a *Attribute) Values(r Resource) []Value {
	if a == nil || r == nil || len(a.segs) == 0 {
		return nil
	}
	var out []Value
	a.walkValues(r, a.segs, func(v Value) bool {
		out = append(out, v)
		return true
	})
	return out
}

// firstValue returns the first scalar value of the attribute in r.
func (a *Attribute) firstValue(r Resource) (Value, bool) {
	var first Value
	found := false
	if a == nil || r == nil || len(a.segs) == 0 {
		return first, false
	}
	a.walkValues(r, a.segs, func(v Value) bool {
		first, found = v, true
		return false
	})
	return first, found
}

// walkValues calls yield for each scalar value at segs below v until it
// returns false; it reports whether to continue.
func (a *Attribute) walkValues(v any, segs []seg, yield func(Value) bool) bool {
	return !walk(v, segs, true, func(x any) bool {
		cv, ok := a.scalar(x)
		return ok && !yield(cv)
	})
}

// scalar converts one data value of the attribute to a Value.
func (a *Attribute) scalar(v any) (Value, bool) {
	switch x := v.(type) {
	case string, *string:
		s, ok := stringOf(x)
		if !ok || s == "" {
			return Value{}, false
		}
		if a.Type == TypeDateTime {
			t, err := parseDateTime(s)
			return Value{Kind: KindTime, Time: t}, err == nil
		}
		return Value{Kind: KindString, Str: s}, true
	case bool:
		return Value{Kind: KindBool, Bool: x}, true
	case time.Time, *time.Time:
		t, ok := toTime(x, false)
		return Value{Kind: KindTime, Time: t}, ok
	}
	if n, ok := toNumber(v); ok {
		return Value{Kind: KindNumber, Num: n}, true
	}
	return Value{}, false
}

func hasUpperASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
