package query

import (
	"fmt"
	"strings"
)

// Projection selects the attributes a response returns: the SCIM
// attributes and excludedAttributes parameters (RFC 7644 §3.4.2.5). The
// zero Projection returns everything.
type Projection struct {
	names   []string // canonical attribute names
	exclude bool     // names are excluded rather than the only ones included
}

// ParseProjection parses comma-separated attribute paths (spaces around
// items ignored), resolved with Schema.Resolve, into a Projection:
// attributes lists the only attributes to return, excluded the ones to
// leave out. Setting both is an error; setting neither returns everything.
// Errors match ErrInvalidFilter.
func ParseProjection(attributes, excluded string, s *Schema) (Projection, error) {
	attributes, excluded = strings.Trim(attributes, " "), strings.Trim(excluded, " ")
	switch {
	case attributes != "" && excluded != "":
		return Projection{}, fmt.Errorf("%w: attributes and excludedAttributes cannot both be given", ErrInvalidFilter)
	case attributes == "" && excluded == "":
		return Projection{}, nil
	}
	list, exclude := attributes, false
	if excluded != "" {
		list, exclude = excluded, true
	}
	items := strings.Split(list, ",")
	p := Projection{names: make([]string, 0, len(items)), exclude: exclude}
	for _, item := range items {
		a, err := s.Resolve(strings.Trim(item, " "))
		if err != nil {
			return Projection{}, err
		}
		p.names = append(p.names, a.Name)
	}
	return p, nil
}

// IsZero reports whether p returns every attribute.
func (p Projection) IsZero() bool { return len(p.names) == 0 }

// Includes reports whether the attribute with the canonical dotted name
// (as Attribute.Name spells it: "name.givenName", "claims.address.city",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
// is returned, in whole or in part:
//
//   - id and schemas are always returned (SCIM returns them "always");
//   - a listed attribute includes its sub-attributes: "name" includes
//     "name.givenName";
//   - a listed sub-attribute includes its parent partially: with
//     attributes "name.givenName", Includes("name") is true, so a caller
//     walking the tree descends into name, where Includes("name.familyName")
//     is false;
//   - with excludedAttributes, an attribute is returned unless it or an
//     ancestor is listed; the parent of an excluded sub-attribute is still
//     (partly) returned.
//
// Names are compared exactly, as canonical names are spelled.
func (p Projection) Includes(name string) bool {
	if len(p.names) == 0 || name == "id" || name == "schemas" {
		return true
	}
	for _, n := range p.names {
		if n == name || isAncestor(n, name) {
			return !p.exclude
		}
		if !p.exclude && isAncestor(name, n) {
			return true
		}
	}
	return p.exclude
}

// isAncestor reports whether the canonical name a is a proper ancestor of
// b: "name" of "name.givenName", or an extension URN of its attributes.
func isAncestor(a, b string) bool {
	if len(b) <= len(a) || b[:len(a)] != a {
		return false
	}
	switch b[len(a)] {
	case '.':
		return true
	case ':':
		// Only an extension URN is followed by ':'; a claims key may
		// contain one.
		return len(a) >= 4 && strings.EqualFold(a[:4], "urn:")
	}
	return false
}
