package query

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AttrError reports an attribute path that does not resolve against a
// Schema, or a literal or operator that does not fit the attribute's type
// (DESIGN §3 rules 4–11). It matches ErrInvalidFilter with errors.Is.
type AttrError struct {
	Attr string // the attribute path as written
	Msg  string // what is wrong with it
}

// Error returns `invalid attribute "path": msg`.
func (e *AttrError) Error() string {
	return "invalid attribute " + strconv.Quote(e.Attr) + ": " + e.Msg
}

// Is reports whether target is ErrInvalidFilter.
func (e *AttrError) Is(target error) bool { return target == ErrInvalidFilter }

// Messages shared by several checks, so callers and tests can rely on one
// wording per kind of failure.
const (
	msgUnknown     = "unknown attribute"
	msgUnknownURN  = "unknown schema URN"
	msgSimpleSub   = "invalid path: a simple attribute has no sub-attributes"
	msgSimpleVF    = "invalid path: a value filter needs a complex attribute"
	msgNestedVF    = "invalid path: value filters cannot be nested"
	msgURNInVF     = "invalid path: a schema URN is not allowed inside a value filter"
	msgEmptyName   = "invalid path: empty attribute name"
	msgComplexComp = "a complex attribute can only be tested with pr, eq null, ne null or a value filter"
	msgBareClaims  = "claims as a whole can only be tested with pr"
)

// Resolve resolves a dotted attribute path as used by sort keys,
// projections and index declarations: "emails.value", "EMAILS.Value",
// "urn:ietf:params:scim:schemas:core:2.0:User:userName",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
// the unqualified "department", or "claims.address.city". A path naming an
// extension's URN alone resolves to the extension object.
//
// Names are matched case-insensitively (DESIGN §3 rule 4), except the keys
// below claims: claims is stored as given, so "claims.Dept" and
// "claims.dept" are different JSON members. Resolve does not apply the
// rule 10 rewrite: "emails" is the emails attribute itself.
func (s *Schema) Resolve(path string) (*Attribute, error) {
	if s == nil {
		return nil, &AttrError{Attr: path, Msg: "no schema"}
	}
	if path == "" {
		return nil, &AttrError{Attr: path, Msg: msgEmptyName}
	}
	urn, rest, ok := s.splitURN(path)
	if !ok {
		return nil, &AttrError{Attr: path, Msg: msgUnknownURN}
	}
	var names []string
	if rest != "" || urn == "" {
		names = strings.Split(rest, ".")
	}
	return s.resolve(urn, names, path)
}

// splitURN splits a path that starts with "urn:" into the longest schema URN
// of s it starts with and the rest after the ':'. A path that is exactly an
// extension's URN has an empty rest. A path without "urn:" is returned whole.
func (s *Schema) splitURN(path string) (urn, rest string, ok bool) {
	if len(path) < 4 || !strings.EqualFold(path[:4], "urn:") {
		return "", path, true
	}
	try := func(u string) {
		if len(u) <= len(urn) || len(path) < len(u) || !strings.EqualFold(path[:len(u)], u) {
			return
		}
		switch {
		case len(path) == len(u):
			urn, rest, ok = u, "", true
		case path[len(u)] == ':' && len(path) > len(u)+1:
			urn, rest, ok = u, path[len(u)+1:], true
		}
	}
	try(s.urn)
	for i := range s.extensions {
		try(s.extensions[i].URN)
	}
	return urn, rest, ok
}

// extension returns the extension whose URN is urn (case-insensitively).
func (s *Schema) extension(urn string) *Extension {
	for i := range s.extensions {
		if strings.EqualFold(s.extensions[i].URN, urn) {
			return &s.extensions[i]
		}
	}
	return nil
}

// extensionOf returns the extension that declares def.
func (s *Schema) extensionOf(def *AttrDef) *Extension {
	for i := range s.extensions {
		attrs := s.extensions[i].Attrs
		for j := range attrs {
			if &attrs[j] == def {
				return &s.extensions[i]
			}
		}
	}
	return nil
}

// findDef returns the definition named name (case-insensitively) in defs.
func findDef(defs []AttrDef, name string) *AttrDef {
	for i := range defs {
		if strings.EqualFold(defs[i].Name, name) {
			return &defs[i]
		}
	}
	return nil
}

// resolve resolves names below the schema urn ("" for unqualified) from the
// resource root. written is the path as the caller spelled it, for errors.
func (s *Schema) resolve(urn string, names []string, written string) (*Attribute, error) {
	var (
		def *AttrDef
		ext *Extension
	)
	switch {
	case urn == "":
		if len(names) == 0 || names[0] == "" {
			return nil, &AttrError{Attr: written, Msg: msgEmptyName}
		}
		key := strings.ToLower(names[0])
		def = s.byName[key]
		if def == nil {
			d, found := s.extByName[key]
			if found && d == nil {
				return nil, &AttrError{Attr: written, Msg: "ambiguous: more than one schema extension defines it; qualify it with the extension's URN"}
			}
			if d != nil {
				def, ext = d, s.extensionOf(d)
			}
		}
	case strings.EqualFold(urn, s.urn):
		if len(names) == 0 || names[0] == "" {
			return nil, &AttrError{Attr: written, Msg: msgEmptyName}
		}
		def = s.byName[strings.ToLower(names[0])]
	default:
		ext = s.extension(urn)
		if ext == nil {
			return nil, &AttrError{Attr: written, Msg: msgUnknownURN}
		}
		if len(names) == 0 {
			// The extension object itself, as a complex attribute whose
			// sub-attributes are the extension's attributes.
			def = &AttrDef{Name: ext.URN, Type: TypeComplex, Sub: ext.Attrs}
			return &Attribute{
				Name: ext.URN, Local: ext.URN, Type: TypeComplex,
				def: def, segs: []seg{{name: ext.URN}}, rel: []seg{{name: ext.URN}},
			}, nil
		}
		if names[0] == "" {
			return nil, &AttrError{Attr: written, Msg: msgEmptyName}
		}
		def = findDef(ext.Attrs, names[0])
	}
	if def == nil {
		return nil, &AttrError{Attr: written, Msg: msgUnknown}
	}
	a := &Attribute{Type: def.Type, Multi: def.Multi, CaseExact: def.CaseExact, Required: def.Required, def: def}
	var segs []seg
	name := def.Name
	if ext != nil {
		// The extension object may be absent, so nothing in it is Required.
		a.Required = false
		name = ext.URN + ":" + def.Name
		segs = append(segs, seg{name: ext.URN})
	}
	segs = append(segs, seg{name: def.Name})
	rel, err := descend(a, names[1:], written)
	if err != nil {
		return nil, err
	}
	if rel.name != "" {
		name += "." + rel.name
	}
	a.Name, a.Local = name, name
	a.segs = append(segs, rel.segs...)
	a.rel = a.segs
	return a, nil
}

// relPath is the part of an attribute path below its starting point.
type relPath struct {
	name string // canonical dotted spelling
	segs []seg
}

// descend walks names below a's current definition, updating a's type and
// flags; a.def is the starting definition and becomes the final one (nil
// under claims).
func descend(a *Attribute, names []string, written string) (relPath, error) {
	var rel relPath
	var b strings.Builder
	for i, n := range names {
		if n == "" {
			return relPath{}, &AttrError{Attr: written, Msg: msgEmptyName}
		}
		if a.Claims || (a.def != nil && a.def.Free) {
			// Free-form JSON from here down: keys are matched exactly and
			// the type comes from the data.
			a.def, a.Claims, a.Type, a.CaseExact, a.Required = nil, true, TypeAny, false, false
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(n)
			rel.segs = append(rel.segs, seg{name: n, exact: true})
			continue
		}
		if a.def == nil || a.def.Type != TypeComplex {
			return relPath{}, &AttrError{Attr: written, Msg: msgSimpleSub}
		}
		sub := findDef(a.def.Sub, n)
		if sub == nil {
			return relPath{}, &AttrError{Attr: written, Msg: msgUnknown}
		}
		a.def = sub
		a.Type = sub.Type
		a.Multi = a.Multi || sub.Multi
		a.CaseExact = sub.CaseExact
		a.Required = a.Required && sub.Required
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(sub.Name)
		rel.segs = append(rel.segs, seg{name: sub.Name})
	}
	rel.name = b.String()
	return rel, nil
}

// pathText spells a path as written, for error messages.
func pathText(p Path) string {
	n := strings.Join(p.Names, ".")
	if p.URN != "" {
		return p.URN + ":" + n
	}
	return n
}

// resolvePath resolves a filter path from the resource root. The parser
// splits a URN-qualified path at the last ':', which for a path naming an
// extension object alone leaves the URN's last component among the names;
// resolvePath re-splits such a path against the known URNs.
func (s *Schema) resolvePath(p Path) (*Attribute, error) {
	if p.URN == "" {
		if a := s.lookupKnown(p.Names); a != nil {
			return a, nil
		}
	}
	written := pathText(p)
	urn, names := p.URN, p.Names
	if urn != "" && !strings.EqualFold(urn, s.urn) && s.extension(urn) == nil {
		u, rest, ok := s.splitURN(written)
		if !ok || u == "" {
			return nil, &AttrError{Attr: written, Msg: msgUnknownURN}
		}
		urn, names = u, nil
		if rest != "" {
			names = strings.Split(rest, ".")
		}
	}
	return s.resolve(urn, names, written)
}

// resolveIn resolves a path inside the value filter of the attribute vf:
// it names a sub-attribute of vf's elements.
func resolveIn(vf *Attribute, p Path) (*Attribute, error) {
	written := pathText(p)
	if p.URN != "" {
		return nil, &AttrError{Attr: written, Msg: msgURNInVF}
	}
	if len(p.Names) == 0 {
		return nil, &AttrError{Attr: written, Msg: msgEmptyName}
	}
	a := &Attribute{Type: vf.Type, Multi: vf.Multi, Required: vf.Required, Claims: vf.Claims, def: vf.def}
	rel, err := descend(a, p.Names, written)
	if err != nil {
		return nil, err
	}
	sep := "."
	if len(vf.segs) == 1 && vf.Name == vf.segs[0].name && len(vf.Name) > 4 && strings.EqualFold(vf.Name[:4], "urn:") {
		// Inside a value filter on an extension object itself.
		sep = ":"
	}
	a.Name = vf.Name + sep + rel.name
	a.Local = rel.name
	a.segs = append(append(make([]seg, 0, len(vf.segs)+len(rel.segs)), vf.segs...), rel.segs...)
	a.rel = rel.segs
	return a, nil
}

// Bind resolves every path of e against s and returns a copy of e that can
// be evaluated, planned and keyed (DESIGN §3 rules 4–11):
//
//   - each node's Attr is set; a comparison on a multi-valued complex
//     attribute with a "value" sub-attribute is rewritten to that
//     sub-attribute (`emails co "x"` binds as `emails.value co "x"`);
//   - a string literal compared with a dateTime attribute becomes a KindTime
//     instant in UTC (a literal without a zone is UTC; a date alone, a
//     fraction finer than nanoseconds or any other form is an error);
//   - literals of the wrong type for a schema-typed attribute, ordering
//     operators on booleans (attribute or literal), co/sw/ew on anything but
//     strings, and null with any operator but eq and ne are errors;
//   - under claims the type comes from the data, so any literal is
//     accepted except a boolean with an ordering operator and a non-string
//     with co/sw/ew; a time.Time literal (from the builder) becomes its
//     RFC 3339 text in UTC, as canonical text prints it, since claims hold
//     JSON, where times are strings.
//
// The whole tree is checked before anything is evaluated, so an error in a
// branch that evaluation would skip is still reported. Errors match
// ErrInvalidFilter; path and type errors are *AttrError naming the
// attribute as written. A nil e binds to nil.
//
// Binding is compositional: the bound form of an and or an or is the two
// bound operands joined, so parts may be bound apart and joined after. No
// function of this module changes a bound tree, so one may be shared by
// many queries and goroutines; a caller must not change it either. Trees
// bound against one schema share the Attribute of a declared attribute.
func Bind(e Expr, s *Schema) (Expr, error) {
	if e == nil {
		return nil, nil
	}
	if s == nil {
		return nil, errors.New("query: Bind with a nil schema")
	}
	return bindExpr(e, s, nil)
}

// bindExpr binds e; vf is the attribute of the enclosing value filter.
func bindExpr(e Expr, s *Schema, vf *Attribute) (Expr, error) {
	switch n := e.(type) {
	case *And:
		if n == nil || n.Left == nil || n.Right == nil {
			return nil, fmt.Errorf("%w: and needs two operands", ErrInvalidFilter)
		}
		l, err := bindExpr(n.Left, s, vf)
		if err != nil {
			return nil, err
		}
		r, err := bindExpr(n.Right, s, vf)
		if err != nil {
			return nil, err
		}
		return &And{Left: l, Right: r}, nil
	case *Or:
		if n == nil || n.Left == nil || n.Right == nil {
			return nil, fmt.Errorf("%w: or needs two operands", ErrInvalidFilter)
		}
		l, err := bindExpr(n.Left, s, vf)
		if err != nil {
			return nil, err
		}
		r, err := bindExpr(n.Right, s, vf)
		if err != nil {
			return nil, err
		}
		return &Or{Left: l, Right: r}, nil
	case *Not:
		if n == nil || n.X == nil {
			return nil, fmt.Errorf("%w: not needs an operand", ErrInvalidFilter)
		}
		x, err := bindExpr(n.X, s, vf)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case *Compare:
		if n == nil {
			return nil, fmt.Errorf("%w: nil comparison", ErrInvalidFilter)
		}
		return bindCompare(n, s, vf)
	case *Present:
		if n == nil {
			return nil, fmt.Errorf("%w: nil presence test", ErrInvalidFilter)
		}
		a, err := bindPath(n.Path, s, vf)
		if err != nil {
			return nil, err
		}
		return &Present{Path: n.Path, Attr: a}, nil
	case *ValueFilter:
		if n == nil || n.Filter == nil {
			return nil, fmt.Errorf("%w: value filter without a filter", ErrInvalidFilter)
		}
		if vf != nil {
			return nil, &AttrError{Attr: pathText(n.Path), Msg: msgNestedVF}
		}
		a, err := s.resolvePath(n.Path)
		if err != nil {
			return nil, err
		}
		if a.Type != TypeComplex && !a.Claims {
			return nil, &AttrError{Attr: pathText(n.Path), Msg: msgSimpleVF}
		}
		f, err := bindExpr(n.Filter, s, a)
		if err != nil {
			return nil, err
		}
		return &ValueFilter{Path: n.Path, Filter: f, Attr: a}, nil
	}
	return nil, fmt.Errorf("%w: unknown expression node %T", ErrInvalidFilter, e)
}

func bindPath(p Path, s *Schema, vf *Attribute) (*Attribute, error) {
	if vf != nil {
		return resolveIn(vf, p)
	}
	return s.resolvePath(p)
}

func isOrdering(op Op) bool { return op >= OpGt && op <= OpLe }

func isSubstring(op Op) bool { return op == OpCo || op == OpSw || op == OpEw }

var kindNames = [...]string{KindNull: "null", KindString: "string", KindNumber: "number", KindBool: "boolean", KindTime: "dateTime"}

func kindName(k Kind) string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

func bindCompare(n *Compare, s *Schema, vf *Attribute) (*Compare, error) {
	written := pathText(n.Path)
	bad := func(msg string) (*Compare, error) { return nil, &AttrError{Attr: written, Msg: msg} }
	if n.Op < OpEq || n.Op > OpLe {
		return bad("unknown operator")
	}
	a, err := bindPath(n.Path, s, vf)
	if err != nil {
		return nil, err
	}
	// Rule 10: a comparison on a multi-valued complex attribute that has a
	// "value" sub-attribute compares that sub-attribute.
	if d := a.def; n.Value.Kind != KindNull && d != nil && d.Type == TypeComplex && d.Multi && !d.Free && findDef(d.Sub, "value") != nil {
		p := Path{URN: n.Path.URN, Names: append(append(make([]string, 0, len(n.Path.Names)+1), n.Path.Names...), "value")}
		if a, err = bindPath(p, s, vf); err != nil {
			return nil, err
		}
	}
	op, v := n.Op, n.Value
	switch {
	case v.Kind > KindTime:
		return bad("unknown literal kind")
	case v.Kind == KindNull:
		if op != OpEq && op != OpNe {
			return bad("null can only be compared with eq or ne")
		}
		// eq null is "not pr" and ne null is "pr", which apply to
		// complex attributes (claims included) too.
		return &Compare{Path: n.Path, Op: op, Value: Value{}, Attr: a}, nil
	case a.def != nil && a.def.Free:
		return bad(msgBareClaims)
	case a.Type == TypeComplex:
		return bad(msgComplexComp)
	case v.Kind == KindBool && isOrdering(op):
		return bad(op.String() + " cannot order booleans")
	case isSubstring(op) && v.Kind != KindString:
		return bad(op.String() + " needs a string literal, not a " + kindName(v.Kind))
	}
	mismatch := func() (*Compare, error) {
		return bad(a.Type.String() + " attribute compared with a " + kindName(v.Kind) + " literal")
	}
	switch a.Type {
	case TypeString:
		if v.Kind != KindString {
			return mismatch()
		}
	case TypeBoolean:
		if isSubstring(op) {
			return bad(op.String() + " is not allowed on a boolean attribute")
		}
		if op != OpEq && op != OpNe {
			return bad(op.String() + " cannot order booleans")
		}
		if v.Kind != KindBool {
			return mismatch()
		}
	case TypeNumber:
		if isSubstring(op) {
			return bad(op.String() + " is not allowed on a number attribute")
		}
		if v.Kind != KindNumber {
			return mismatch()
		}
	case TypeDateTime:
		if isSubstring(op) {
			return bad(op.String() + " is not allowed on a dateTime attribute")
		}
		switch v.Kind {
		case KindString:
			t, err := parseDateTime(v.Str)
			if err != nil {
				return bad(err.Error())
			}
			v = Value{Kind: KindTime, Time: t.UTC()}
		case KindTime:
			// UTC also drops any monotonic clock reading.
			v = Value{Kind: KindTime, Time: v.Time.UTC()}
		default:
			return mismatch()
		}
	case TypeAny:
		if v.Kind == KindTime {
			v = Value{Kind: KindString, Str: v.Time.UTC().Format(time.RFC3339Nano)}
		}
	default:
		return bad("attribute of type " + a.Type.String() + " cannot be compared")
	}
	c := &Compare{Path: n.Path, Op: op, Value: v, Attr: a}
	if v.Kind == KindString && !a.CaseExact {
		c.fold, c.foldSrc = Fold(v.Str), v.Str
	}
	return c, nil
}

// parseDateTime parses an RFC 3339 date-time with an optional fraction of
// up to nine digits. A literal without a zone is UTC. A date alone, a
// fraction finer than a nanosecond (which time.Parse would silently
// truncate) and a comma as decimal mark are errors.
func parseDateTime(s string) (time.Time, error) {
	const layoutNoZone = "2006-01-02T15:04:05.999999999"
	// "2006-01-02T15:04:05" is 19 bytes; what follows is an optional
	// fraction and an optional zone.
	if len(s) < 19 || s[10] != 'T' {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	rest := s[19:]
	if rest != "" && rest[0] != '.' && rest[0] != 'Z' && rest[0] != '+' && rest[0] != '-' {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	if rest != "" && rest[0] == '.' {
		d := 1
		for d < len(rest) && rest[d] >= '0' && rest[d] <= '9' {
			d++
		}
		if d == 1 || d > 10 {
			return time.Time{}, fmt.Errorf("%q: the fraction of a second needs 1 to 9 digits", s)
		}
		rest = rest[d:]
	}
	var (
		t   time.Time
		err error
	)
	if rest == "" {
		t, err = time.ParseInLocation(layoutNoZone, s, time.UTC)
	} else {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 date-time", s)
	}
	// time.Parse accepts offsets up to +24:60; RFC 3339 time-numoffset is
	// 00-23 ":" 00-59.
	if z := rest; len(z) == 6 && (z[0] == '+' || z[0] == '-') && (z[1:3] > "23" || z[4:6] > "59") {
		return time.Time{}, fmt.Errorf("%q: zone offset out of range", s)
	}
	// Canonical text writes the instant in UTC, which RFC 3339 can only
	// write for the years 0000 to 9999: "0000-01-01T00:00:00+01:00" is in
	// year -1 there.
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%q: in UTC the instant falls outside the years 0000 to 9999", s)
	}
	return t, nil
}
