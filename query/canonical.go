package query

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Canonical returns the canonical text of e: lower-case keywords and
// operators, one space between tokens, parentheses only where precedence
// and left-associativity need them (`not (x)` always has its own), string
// literals escaped one fixed way, numbers as Number.String prints them and
// KindTime values as JSON strings in RFC 3339 UTC with nanoseconds. Two
// filters that parse to Equal expressions have the same canonical text, and
// for an unbound e, Parse(Canonical(e)) is Equal to e.
//
// A bound node (one whose Attr is set) prints its Attr.Local instead of its
// path as written, so that every spelling of one query has one canonical
// text: the key under which results are cached.
//
// The canonical text keeps the depth and the number of terms of the filter
// it came from, but it may be a few bytes longer (`not(x)` gains a space,
// `1e9` spells out its zeros).
//
// Canonical(nil) is "".
func Canonical(e Expr) string {
	if e == nil {
		return ""
	}
	var b strings.Builder
	b.Grow(64)
	writeExpr(&b, e)
	return b.String()
}

// String returns the canonical text of the expression.
func (x *Compare) String() string { return Canonical(x) }

// String returns the canonical text of the expression.
func (x *Present) String() string { return Canonical(x) }

// String returns the canonical text of the expression.
func (x *And) String() string { return Canonical(x) }

// String returns the canonical text of the expression.
func (x *Or) String() string { return Canonical(x) }

// String returns the canonical text of the expression.
func (x *Not) String() string { return Canonical(x) }

// String returns the canonical text of the expression.
func (x *ValueFilter) String() string { return Canonical(x) }

// String returns the path as a filter spells it:
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
// "emails.value".
func (p Path) String() string {
	var b strings.Builder
	writePath(&b, p)
	return b.String()
}

// String returns the canonical JSON literal of v: null, true, false, a
// number as Number.String prints it, a string escaped as Canonical escapes
// it, and a KindTime value as a JSON string in RFC 3339 UTC with
// nanoseconds ("2011-05-13T04:42:34.5Z").
func (v Value) String() string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// Binding strengths for parenthesization; anything else is an operand that
// never needs parentheses of its own.
const (
	precOr = iota + 1
	precAnd
	precTerm
)

func precedence(e Expr) int {
	switch e.(type) {
	case *Or:
		return precOr
	case *And:
		return precAnd
	}
	return precTerm
}

func writeExpr(b *strings.Builder, e Expr) {
	switch x := e.(type) {
	case *Compare:
		if x == nil {
			return
		}
		writeNodePath(b, x.Path, x.Attr)
		b.WriteByte(' ')
		b.WriteString(x.Op.String())
		b.WriteByte(' ')
		writeValue(b, x.Value)
	case *Present:
		if x == nil {
			return
		}
		writeNodePath(b, x.Path, x.Attr)
		b.WriteString(" pr")
	case *And:
		if x == nil {
			return
		}
		// Left-associative: only an "or" needs parentheses on the left,
		// while on the right an "and" needs them too, or it would
		// re-associate.
		writeOperand(b, x.Left, precedence(x.Left) < precAnd)
		b.WriteString(" and ")
		writeOperand(b, x.Right, precedence(x.Right) <= precAnd)
	case *Or:
		if x == nil {
			return
		}
		writeOperand(b, x.Left, false)
		b.WriteString(" or ")
		writeOperand(b, x.Right, precedence(x.Right) <= precOr)
	case *Not:
		if x == nil {
			return
		}
		b.WriteString("not (")
		writeExpr(b, x.X)
		b.WriteByte(')')
	case *ValueFilter:
		if x == nil {
			return
		}
		writeNodePath(b, x.Path, x.Attr)
		b.WriteByte('[')
		writeExpr(b, x.Filter)
		b.WriteByte(']')
	}
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	writeExpr(b, e)
	if paren {
		b.WriteByte(')')
	}
}

// writeNodePath writes the path of a node: the bound attribute's local
// canonical name when there is one, the path as written otherwise.
func writeNodePath(b *strings.Builder, p Path, a *Attribute) {
	if a != nil && a.Local != "" {
		b.WriteString(a.Local)
		return
	}
	writePath(b, p)
}

func writePath(b *strings.Builder, p Path) {
	if p.URN != "" {
		b.WriteString(p.URN)
		b.WriteByte(':')
	}
	for i, n := range p.Names {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(n)
	}
}

func writeValue(b *strings.Builder, v Value) {
	var buf [64]byte
	switch v.Kind {
	case KindString:
		writeQuoted(b, v.Str)
	case KindNumber:
		b.Write(v.Num.appendText(buf[:0]))
	case KindBool:
		if v.Bool {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindTime:
		b.WriteByte('"')
		b.Write(v.Time.UTC().AppendFormat(buf[:0], time.RFC3339Nano))
		b.WriteByte('"')
	default:
		b.WriteString("null")
	}
}

// writeQuoted writes s as a JSON string. Only what JSON requires is
// escaped ('"', '\\' and control characters, the latter in their short
// form where JSON has one); everything else stays UTF-8, so the text is
// readable and has one spelling per string. Invalid UTF-8, which no parsed
// literal contains, is written as U+FFFD.
func writeQuoted(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString("\uFFFD")
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xF])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}
