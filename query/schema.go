package query

import "strings"

// Type is the SCIM type of an attribute.
type Type uint8

// Attribute types. TypeAny is the type of free-form claims, whose JSON type
// comes from the data.
const (
	TypeString Type = iota + 1
	TypeBoolean
	TypeNumber
	TypeDateTime
	TypeComplex
	TypeAny
)

var typeNames = [...]string{TypeString: "string", TypeBoolean: "boolean", TypeNumber: "number", TypeDateTime: "dateTime", TypeComplex: "complex", TypeAny: "any"}

// String returns the SCIM name of the type.
func (t Type) String() string {
	if t == 0 || int(t) >= len(typeNames) {
		return "type?"
	}
	return typeNames[t]
}

// AttrDef declares one attribute of a schema.
type AttrDef struct {
	Name      string
	Type      Type
	Multi     bool      // multi-valued
	CaseExact bool      // strings compare exactly (rule 5); otherwise folded
	Sub       []AttrDef // sub-attributes of a complex attribute
	Free      bool      // free-form JSON object searchable at any depth (claims)
	Required  bool      // always assigned on every stored record (sortable by index)
}

// Schema is an attribute catalogue: a core schema and its extensions.
// A Schema is immutable once built by NewSchema.
type Schema struct {
	urn        string
	attrs      []AttrDef
	extensions []Extension
	byName     map[string]*AttrDef  // folded core attribute name
	extByName  map[string]*AttrDef  // folded extension attribute name (unqualified), nil when ambiguous
	extURN     map[string]Extension // folded URN
	// known holds the unqualified names of attributes, as declared and
	// folded, resolved once by NewSchema with their sub-attributes, so
	// that Bind resolves the usual paths without allocating. Bound trees
	// share these attributes, which nothing changes.
	known map[string]*knownAttr
}

// knownAttr is an unqualified attribute name resolved, with the names of
// its sub-attributes, as declared and folded, resolved below it.
type knownAttr struct {
	attr *Attribute
	subs map[string]*Attribute
}

// Extension is a schema extension: attributes that live under a URN key.
type Extension struct {
	URN   string
	Attrs []AttrDef
}

// NewSchema builds a catalogue from the core schema's URN and attributes and
// its extensions.
func NewSchema(urn string, attrs []AttrDef, extensions ...Extension) *Schema {
	s := &Schema{
		urn:        urn,
		attrs:      attrs,
		extensions: extensions,
		byName:     make(map[string]*AttrDef, len(attrs)),
		extByName:  map[string]*AttrDef{},
		extURN:     map[string]Extension{},
	}
	for i := range s.attrs {
		s.byName[strings.ToLower(s.attrs[i].Name)] = &s.attrs[i]
	}
	seen := map[string]int{}
	for _, e := range extensions {
		s.extURN[strings.ToLower(e.URN)] = e
		for i := range e.Attrs {
			k := strings.ToLower(e.Attrs[i].Name)
			seen[k]++
			s.extByName[k] = &e.Attrs[i]
		}
	}
	for k, n := range seen {
		if n > 1 {
			s.extByName[k] = nil
		}
	}
	s.known = s.resolveKnown()
	return s
}

// resolveKnown resolves every unqualified name of a core or extension
// attribute and of its sub-attributes, as declared and folded, the way
// Bind would, for Schema.known. A name that does not resolve (an
// extension attribute's name shared by two extensions) is left out.
func (s *Schema) resolveKnown() map[string]*knownAttr {
	known := map[string]*knownAttr{}
	add := func(defs []AttrDef) {
		for i := range defs {
			name := defs[i].Name
			if k := known[strings.ToLower(name)]; k != nil {
				// Another spelling of a name resolved already (a core and
				// an extension attribute may share a name): names resolve
				// case-insensitively, so to the same attribute.
				if known[name] == nil {
					known[name] = k
				}
				continue
			}
			a, err := s.resolve("", []string{name}, name)
			if err != nil {
				continue
			}
			k := &knownAttr{attr: a}
			if a.def != nil && a.def.Type == TypeComplex && !a.def.Free {
				k.subs = map[string]*Attribute{}
				for _, sub := range a.def.Sub {
					sa, err := s.resolve("", []string{name, sub.Name}, name+"."+sub.Name)
					if err != nil {
						continue
					}
					putSpellings(k.subs, sub.Name, sa)
				}
			}
			putSpellings(known, name, k)
		}
	}
	add(s.attrs)
	for _, e := range s.extensions {
		add(e.Attrs)
	}
	return known
}

// lookupKnown returns the attribute of an unqualified path of one or two
// names that NewSchema resolved, or nil.
func (s *Schema) lookupKnown(names []string) *Attribute {
	if len(names) == 0 || len(names) > 2 {
		return nil
	}
	k := getSpelling(s.known, names[0])
	if k == nil {
		return nil
	}
	if len(names) == 1 {
		return k.attr
	}
	return getSpelling(k.subs, names[1])
}

// putSpellings sets m's entries for name as declared and folded to v.
func putSpellings[V any](m map[string]V, name string, v V) {
	m[name] = v
	m[strings.ToLower(name)] = v
}

// getSpelling returns m's entry for name, looked up as written and then
// folded (folding allocates, so only a name spelt otherwise than declared
// pays for it).
func getSpelling[V any](m map[string]V, name string) V {
	if v, ok := m[name]; ok {
		return v
	}
	return m[strings.ToLower(name)]
}

// URN returns the core schema URN.
func (s *Schema) URN() string { return s.urn }

// Attrs returns the core attribute definitions. The slice must not be modified.
func (s *Schema) Attrs() []AttrDef { return s.attrs }

// Extensions returns the schema extensions. The slice must not be modified.
func (s *Schema) Extensions() []Extension { return s.extensions }

// Schema URNs of the user catalogue.
const (
	UserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	EnterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// UserSchema returns the attribute catalogue of a userdir User (DESIGN §2):
// the SCIM core User attributes userdir keeps, free-form claims, and the
// enterprise extension.
func UserSchema() *Schema {
	str := func(name string) AttrDef { return AttrDef{Name: name, Type: TypeString} }
	exact := func(name string) AttrDef { return AttrDef{Name: name, Type: TypeString, CaseExact: true} }
	return NewSchema(UserURN, []AttrDef{
		{Name: "id", Type: TypeString, CaseExact: true, Required: true},
		exact("externalId"),
		exact("subject"),
		{Name: "userName", Type: TypeString, Required: true},
		{Name: "name", Type: TypeComplex, Sub: []AttrDef{str("givenName"), str("familyName"), str("middleName"), str("formatted")}},
		str("displayName"),
		str("nickName"),
		str("title"),
		str("userType"),
		str("locale"),
		str("timezone"),
		{Name: "emails", Type: TypeComplex, Multi: true, Sub: []AttrDef{str("value"), str("type"), {Name: "primary", Type: TypeBoolean}, {Name: "verified", Type: TypeBoolean}}},
		{Name: "phoneNumbers", Type: TypeComplex, Multi: true, Sub: []AttrDef{str("value"), str("type")}},
		{Name: "status", Type: TypeString, Required: true},
		{Name: "active", Type: TypeBoolean, Required: true},
		{Name: "roles", Type: TypeComplex, Multi: true, Sub: []AttrDef{str("value"), str("display"), str("type"), {Name: "primary", Type: TypeBoolean}}},
		{Name: "groups", Type: TypeComplex, Multi: true, Sub: []AttrDef{exact("value"), str("display")}},
		{Name: "claims", Type: TypeComplex, Free: true},
		{Name: "schemas", Type: TypeString, Multi: true, CaseExact: true, Required: true},
		{Name: "lastLoginAt", Type: TypeDateTime},
		{Name: "meta", Type: TypeComplex, Required: true, Sub: []AttrDef{
			{Name: "created", Type: TypeDateTime, Required: true},
			{Name: "lastModified", Type: TypeDateTime, Required: true},
			{Name: "version", Type: TypeNumber, CaseExact: true, Required: true},
		}},
	}, Extension{URN: EnterpriseURN, Attrs: []AttrDef{
		str("employeeNumber"), str("costCenter"), str("organization"), str("division"), str("department"),
		{Name: "manager", Type: TypeComplex, Sub: []AttrDef{exact("value"), str("displayName")}},
	}})
}
