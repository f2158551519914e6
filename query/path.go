package query

import "strings"

// PatchPath is the path of a SCIM PATCH operation (RFC 7644 §3.5.2):
// an attribute path, optionally a value filter selecting elements of a
// multi-valued attribute, and optionally a sub-attribute of the selected
// elements, as in `emails[type eq "work"].value`.
type PatchPath struct {
	Path   Path   // the attribute, URN-qualified or not; sub-attributes included when there is no Filter
	Filter Expr   // the value filter between brackets, relative to Path; nil when absent
	Sub    string // the sub-attribute after the brackets; "" when absent
}

// ParsePath parses a PATCH path: attrPath [ "[" valFilter "]" [ "." subAttr ] ].
// Without brackets, sub-attributes belong to Path (`name.familyName`); Sub
// is set only after a value filter. Spaces may surround the path and pad the
// inside of the brackets, as in a filter; the value filter follows the
// filter grammar and DefaultLimits apply to the whole text.
func ParsePath(s string) (*PatchPath, error) {
	l := DefaultLimits()
	if len(s) > l.MaxLength {
		return nil, &LimitError{Limit: "length", Max: l.MaxLength, Got: len(s), Offset: l.MaxLength}
	}
	p := parser{s: s, lim: l}
	p.skipSpaces()
	if p.pos >= len(s) {
		return nil, p.errAt(p.pos, "empty path")
	}
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	pp := &PatchPath{Path: path}
	if p.pos < len(s) && s[p.pos] == '[' {
		if pp.Filter, _, err = p.parseBrackets(); err != nil {
			return nil, err
		}
		if p.pos < len(s) && s[p.pos] == '.' {
			p.pos++
			if pp.Sub, err = p.parseName(); err != nil {
				return nil, err
			}
		}
	}
	p.skipSpaces()
	if p.pos < len(s) {
		if pp.Filter != nil {
			return nil, p.unexpected("expected the end of the path")
		}
		return nil, p.unexpected(`expected "[" or the end of the path`)
	}
	return pp, nil
}

// String returns the canonical text of the path, with the filter in its
// canonical form.
func (p *PatchPath) String() string {
	if p == nil {
		return ""
	}
	var b strings.Builder
	writePath(&b, p.Path)
	if p.Filter != nil {
		b.WriteByte('[')
		writeExpr(&b, p.Filter)
		b.WriteByte(']')
	}
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
	return b.String()
}
