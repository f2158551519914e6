package query

import "time"

// Expr is a node of a filter expression. The set of node types is closed:
// *Compare, *Present, *And, *Or, *Not and *ValueFilter.
//
// An Expr returned by Parse or built with the Builder is unbound: its paths
// are as written. Bind returns a copy whose Attr fields are resolved against
// a Schema and whose literals are coerced to the attribute's type; only a
// bound Expr can be evaluated, planned or turned into index keys.
type Expr interface {
	// String returns the canonical text of the expression (see Canonical).
	String() string
	expr()
}

// Op is a comparison operator.
type Op uint8

// The comparison operators of RFC 7644 §3.4.2.2 (pr is the Present node).
const (
	OpEq Op = iota + 1
	OpNe
	OpCo
	OpSw
	OpEw
	OpGt
	OpGe
	OpLt
	OpLe
)

var opNames = [...]string{OpEq: "eq", OpNe: "ne", OpCo: "co", OpSw: "sw", OpEw: "ew", OpGt: "gt", OpGe: "ge", OpLt: "lt", OpLe: "le"}

// String returns the operator's lower-case SCIM keyword.
func (o Op) String() string {
	if o == 0 || int(o) >= len(opNames) {
		return "op?"
	}
	return opNames[o]
}

// Path is an attribute path as written in a filter: an optional schema URN
// followed by an attribute name and any sub-attribute names. Names under
// claims may go to any depth ("claims.address.city").
type Path struct {
	URN   string   // schema URN prefix as written, without the trailing ':'; "" when absent
	Names []string // attribute name, then sub-attribute names
}

// Compare is "path op value".
type Compare struct {
	Path  Path
	Op    Op
	Value Value
	Attr  *Attribute // set by Bind

	fold    string // Bind: the folded string literal, for attributes that are not caseExact
	foldSrc string // the Value.Str that fold was computed from
}

// Present is "path pr".
type Present struct {
	Path Path
	Attr *Attribute // set by Bind
}

// And is "left and right".
type And struct{ Left, Right Expr }

// Or is "left or right".
type Or struct{ Left, Right Expr }

// Not is "not (x)".
type Not struct{ X Expr }

// ValueFilter is "path[filter]": the conditions of Filter are tied to one
// element of the (complex) attribute at Path. Paths inside Filter are
// relative to that attribute. The Entra ID form `emails[type eq "work"].value
// eq "x"` is parsed as `emails[type eq "work" and value eq "x"]`.
type ValueFilter struct {
	Path   Path
	Filter Expr
	Attr   *Attribute // set by Bind
}

func (*Compare) expr()     {}
func (*Present) expr()     {}
func (*And) expr()         {}
func (*Or) expr()          {}
func (*Not) expr()         {}
func (*ValueFilter) expr() {}

// Kind is the type of a literal Value.
type Kind uint8

// The literal kinds. A filter literal is JSON: a string, number, true,
// false or null. Bind turns a string literal compared with a dateTime
// attribute into KindTime.
const (
	KindNull Kind = iota
	KindString
	KindNumber
	KindBool
	KindTime
)

// Value is a typed literal. The zero Value is null.
type Value struct {
	Kind Kind
	Str  string    // KindString
	Num  Number    // KindNumber
	Bool bool      // KindBool
	Time time.Time // KindTime
}

// Limits bound the size of a filter. Parse uses DefaultLimits.
type Limits struct {
	MaxLength int // bytes of filter text
	MaxDepth  int // nesting of parentheses, not and brackets
	MaxTerms  int // comparisons and presence tests
}

// DefaultLimits returns the limits Parse applies: 4096 bytes, depth 32,
// 100 terms.
func DefaultLimits() Limits { return Limits{MaxLength: 4096, MaxDepth: 32, MaxTerms: 100} }
