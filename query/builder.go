package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Builder is a filter under construction from Go values, the second front
// end to the AST besides Parse: programs build queries with it instead of
// formatting filter text, so no value can inject syntax. Values become
// literals as they are; attribute paths are checked against the path
// grammar of filters.
//
//	query.Attr("emails.value").Co("@x.io").And(query.Attr("active").Eq(true))
//	query.Attr("emails").Where(query.Attr("type").Eq("work").And(query.Attr("value").Ew(".org")))
//
// A Builder that went wrong carries the first error and passes it through
// every combination, so errors are checked once, at Expr. A Builder is an
// immutable value; the zero Builder is empty and Expr reports an error for
// it. The expressions it makes are unbound, like those of Parse, and their
// canonical text parses back to an Equal expression, except that a
// time.Time value becomes a KindTime literal, which reads back as the string
// it prints as (Bind turns either into a dateTime). Limits are not applied,
// since the program that builds a query is trusted to size it.
type Builder struct {
	e   Expr
	err error
}

// AttrBuilder is an attribute path waiting for its operator. Attr makes
// one.
type AttrBuilder struct {
	path Path
	err  error
}

// Attr starts a condition on the attribute at path, written as in a filter:
// "userName", "emails.value", "claims.address.city",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
// An invalid path makes every Builder built from it fail with a
// *SyntaxError whose Offset is into path.
func Attr(path string) AttrBuilder {
	p, err := parsePathText(path)
	if err != nil {
		return AttrBuilder{err: fmt.Errorf("query: attribute path %s: %w", quoteShort(path), err)}
	}
	return AttrBuilder{path: p}
}

// Eq is "attr eq v". Eq(nil) is "attr eq null", which means unassigned.
func (a AttrBuilder) Eq(v any) Builder { return a.compare(OpEq, v) }

// Ne is "attr ne v". Ne(nil) is "attr ne null", which means assigned.
func (a AttrBuilder) Ne(v any) Builder { return a.compare(OpNe, v) }

// Co is "attr co v" (contains).
func (a AttrBuilder) Co(v any) Builder { return a.compare(OpCo, v) }

// Sw is "attr sw v" (starts with).
func (a AttrBuilder) Sw(v any) Builder { return a.compare(OpSw, v) }

// Ew is "attr ew v" (ends with).
func (a AttrBuilder) Ew(v any) Builder { return a.compare(OpEw, v) }

// Gt is "attr gt v".
func (a AttrBuilder) Gt(v any) Builder { return a.compare(OpGt, v) }

// Ge is "attr ge v".
func (a AttrBuilder) Ge(v any) Builder { return a.compare(OpGe, v) }

// Lt is "attr lt v".
func (a AttrBuilder) Lt(v any) Builder { return a.compare(OpLt, v) }

// Le is "attr le v".
func (a AttrBuilder) Le(v any) Builder { return a.compare(OpLe, v) }

// Compare is "attr op v" for an operator chosen at run time.
//
// The value v may be nil (null), a string (valid UTF-8), a bool, any Go
// integer type, a finite float32 or float64 (as the shortest decimal that
// reads back as it), a Number, a json.Number or a time.Time (a KindTime
// literal). Anything else makes the Builder fail.
func (a AttrBuilder) Compare(op Op, v any) Builder {
	return a.compare(op, v)
}

func (a AttrBuilder) compare(op Op, v any) Builder {
	if err := a.check(); err != nil {
		return Builder{err: err}
	}
	if op < OpEq || op > OpLe {
		return Builder{err: fmt.Errorf("%w: invalid operator %d for %s", ErrInvalidFilter, op, a.path)}
	}
	val, err := builderValue(v)
	if err != nil {
		return Builder{err: fmt.Errorf("%w: value for %s: %v", ErrInvalidFilter, a.path, err)}
	}
	return Builder{e: &Compare{Path: a.path, Op: op, Value: val}}
}

// Pr is "attr pr": the attribute has a value.
func (a AttrBuilder) Pr() Builder {
	if err := a.check(); err != nil {
		return Builder{err: err}
	}
	return Builder{e: &Present{Path: a.path}}
}

// Where is the value filter "attr[filter]": the conditions of filter, whose
// paths are relative to the attribute, hold for one and the same element.
// Value filters cannot be nested.
func (a AttrBuilder) Where(filter Builder) Builder {
	if err := a.check(); err != nil {
		return Builder{err: err}
	}
	if err := filter.check(); err != nil {
		return Builder{err: err}
	}
	if hasValueFilter(filter.e) {
		return Builder{err: fmt.Errorf("%w: value filters cannot be nested (in %s[...])", ErrInvalidFilter, a.path)}
	}
	return Builder{e: &ValueFilter{Path: a.path, Filter: filter.e}}
}

func (a AttrBuilder) check() error {
	if a.err != nil {
		return a.err
	}
	if len(a.path.Names) == 0 {
		return fmt.Errorf("%w: attribute builder not made by Attr", ErrInvalidFilter)
	}
	return nil
}

// And is "b and o".
func (b Builder) And(o Builder) Builder {
	if err := firstError(b, o); err != nil {
		return Builder{err: err}
	}
	return Builder{e: &And{Left: b.e, Right: o.e}}
}

// Or is "b or o".
func (b Builder) Or(o Builder) Builder {
	if err := firstError(b, o); err != nil {
		return Builder{err: err}
	}
	return Builder{e: &Or{Left: b.e, Right: o.e}}
}

// NoneOf is "not (b1 or b2 or ...)"; NoneOf(b) is "not (b)". (The name
// Not belongs to the AST node.) It needs at least one Builder.
func NoneOf(bs ...Builder) Builder {
	b := chain(bs, "NoneOf", func(l, r Expr) Expr { return &Or{Left: l, Right: r} })
	if b.err != nil {
		return b
	}
	return Builder{e: &Not{X: b.e}}
}

// AllOf is "b1 and b2 and ...", associated to the left as a filter would
// parse it. It needs at least one Builder.
func AllOf(bs ...Builder) Builder {
	return chain(bs, "AllOf", func(l, r Expr) Expr { return &And{Left: l, Right: r} })
}

// AnyOf is "b1 or b2 or ...", associated to the left as a filter would parse
// it. It needs at least one Builder.
func AnyOf(bs ...Builder) Builder {
	return chain(bs, "AnyOf", func(l, r Expr) Expr { return &Or{Left: l, Right: r} })
}

func chain(bs []Builder, name string, join func(l, r Expr) Expr) Builder {
	if len(bs) == 0 {
		return Builder{err: fmt.Errorf("%w: %s of no conditions", ErrInvalidFilter, name)}
	}
	if err := firstError(bs...); err != nil {
		return Builder{err: err}
	}
	e := bs[0].e
	for _, b := range bs[1:] {
		e = join(e, b.e)
	}
	return Builder{e: e}
}

// Expr returns the built expression, or the first error met while building
// it.
func (b Builder) Expr() (Expr, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	return b.e, nil
}

func (b Builder) check() error {
	if b.err != nil {
		return b.err
	}
	if b.e == nil {
		return fmt.Errorf("%w: empty filter builder", ErrInvalidFilter)
	}
	return nil
}

func firstError(bs ...Builder) error {
	for _, b := range bs {
		if err := b.check(); err != nil {
			return err
		}
	}
	return nil
}

func hasValueFilter(e Expr) bool {
	switch x := e.(type) {
	case *ValueFilter:
		return true
	case *And:
		return hasValueFilter(x.Left) || hasValueFilter(x.Right)
	case *Or:
		return hasValueFilter(x.Left) || hasValueFilter(x.Right)
	case *Not:
		return hasValueFilter(x.X)
	}
	return false
}

// builderValue turns a Go value into a literal.
func builderValue(v any) (Value, error) {
	switch x := v.(type) {
	case nil:
		return Value{}, nil
	case string:
		if !utf8.ValidString(x) {
			return Value{}, errors.New("string is not valid UTF-8")
		}
		return Value{Kind: KindString, Str: x}, nil
	case bool:
		return Value{Kind: KindBool, Bool: x}, nil
	case int:
		return intValue(int64(x)), nil
	case int8:
		return intValue(int64(x)), nil
	case int16:
		return intValue(int64(x)), nil
	case int32:
		return intValue(int64(x)), nil
	case int64:
		return intValue(x), nil
	case uint:
		return uintValue(uint64(x)), nil
	case uint8:
		return uintValue(uint64(x)), nil
	case uint16:
		return uintValue(uint64(x)), nil
	case uint32:
		return uintValue(uint64(x)), nil
	case uint64:
		return uintValue(x), nil
	case uintptr:
		return uintValue(uint64(x)), nil
	case float32:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return Value{}, errors.New("number is not finite")
		}
		n, err := ParseNumber(strconv.FormatFloat(f, 'g', -1, 32))
		return Value{Kind: KindNumber, Num: n}, err
	case float64:
		n, ok := NumberFromFloat64(x)
		if !ok {
			return Value{}, errors.New("number is not finite")
		}
		return Value{Kind: KindNumber, Num: n}, nil
	case Number:
		return Value{Kind: KindNumber, Num: x}, nil
	case json.Number:
		n, err := ParseNumber(string(x))
		return Value{Kind: KindNumber, Num: n}, err
	case time.Time:
		// Round(0) drops the monotonic reading, which is no part of the
		// instant.
		return Value{Kind: KindTime, Time: x.Round(0)}, nil
	}
	return Value{}, fmt.Errorf("unsupported type %T", v)
}

func intValue(i int64) Value { return Value{Kind: KindNumber, Num: NumberFromInt64(i)} }

func uintValue(u uint64) Value {
	if u <= math.MaxInt64 {
		return intValue(int64(u))
	}
	n, _, _, _ := scanNumber(strconv.FormatUint(u, 10))
	return Value{Kind: KindNumber, Num: n}
}
