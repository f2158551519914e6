package query

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Parse parses a SCIM filter (RFC 7644 §3.4.2.2, as DESIGN §3 rules 1–3
// pin it down) under DefaultLimits. The result is unbound: its paths are as
// written and its literals are JSON values; Bind resolves them against a
// Schema.
//
// Errors are a *SyntaxError (errors.Is ErrInvalidFilter) carrying the byte
// offset of the problem, or a *LimitError (errors.Is ErrQueryTooComplex).
func Parse(s string) (Expr, error) { return ParseWithLimits(s, Limits{}) }

// ParseWithLimits is Parse under the limits l. A zero or negative field of
// l means the field of DefaultLimits.
//
// The length limit is checked before anything else is looked at. Depth
// counts the nesting of parenthesized groups, not (...) and value filters
// attr[...] (each one level; `not (x)` is one level, not two), and terms
// counts comparisons and presence tests (the Entra form
// `emails[type eq "work"].value eq "x"` has two); both are counted as the
// parser goes and it stops at the first excess, so its recursion is never
// deeper than the depth limit. The Entra form with an "or" at the top of its
// brackets counts one level deeper than written, for the parentheses its
// canonical text needs, so that canonical text never exceeds the depth
// limit that its filter met.
func ParseWithLimits(s string, l Limits) (Expr, error) {
	l = effectiveLimits(l)
	if len(s) > l.MaxLength {
		return nil, &LimitError{Limit: "length", Max: l.MaxLength, Got: len(s), Offset: l.MaxLength}
	}
	p := parser{s: s, lim: l}
	p.skipSpaces()
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpaces()
	if p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ')':
			return nil, p.errAt(p.pos, `unbalanced ")"`)
		case ']':
			return nil, p.errAt(p.pos, `unbalanced "]"`)
		}
		return nil, p.unexpected(`expected "and", "or" or the end of the filter`)
	}
	return e, nil
}

// effectiveLimits fills the unset fields of l from DefaultLimits.
func effectiveLimits(l Limits) Limits {
	d := DefaultLimits()
	if l.MaxLength <= 0 {
		l.MaxLength = d.MaxLength
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxTerms <= 0 {
		l.MaxTerms = d.MaxTerms
	}
	return l
}

// parser is a recursive-descent parser that scans the input directly: the
// grammar's tokens are simple enough that a separate token stream would
// only add allocations. Names and string literals without escapes are
// substrings of the input.
type parser struct {
	s        string
	pos      int
	lim      Limits
	depth    int      // current nesting of groups, not and value filters
	maxDepth int      // deepest nesting reached inside the current value filter
	terms    int      // comparisons and presence tests so far
	inFilter bool     // inside attr[...], where another '[' is an error
	names    []string // slab from which paths take their Names
}

func (p *parser) errAt(off int, msg string) error {
	return &SyntaxError{Offset: off, Msg: msg}
}

// unexpected reports the byte at p.pos (or the end of input), saying what
// was expected instead. Whitespace other than the space character and
// malformed UTF-8 get messages of their own, since they are easy to miss
// when reading the filter.
func (p *parser) unexpected(expected string) error {
	if p.pos >= len(p.s) {
		return p.errAt(p.pos, "unexpected end of filter: "+expected)
	}
	c := p.s[p.pos]
	switch {
	case c == '\t':
		return p.errAt(p.pos, "tab character: only the space character separates tokens")
	case c == '\n' || c == '\r':
		return p.errAt(p.pos, "line break: only the space character separates tokens")
	case c >= utf8.RuneSelf:
		r, size := utf8.DecodeRuneInString(p.s[p.pos:])
		if r == utf8.RuneError && size == 1 {
			return p.errAt(p.pos, "invalid UTF-8")
		}
		return p.errAt(p.pos, "unexpected "+strconv.QuoteRune(r)+": "+expected)
	}
	return p.errAt(p.pos, "unexpected "+strconv.QuoteRune(rune(c))+": "+expected)
}

func (p *parser) skipSpaces() {
	for p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
	}
}

// word returns the run of ASCII letters at p.pos without consuming it.
func (p *parser) word() string {
	i := p.pos
	for i < len(p.s) && isAlpha(p.s[i]) {
		i++
	}
	return p.s[p.pos:i]
}

// enter records one more level of nesting opened at offset off.
func (p *parser) enter(off int) error {
	p.depth++
	if p.depth > p.lim.MaxDepth {
		return &LimitError{Limit: "depth", Max: p.lim.MaxDepth, Got: p.depth, Offset: off}
	}
	p.maxDepth = max(p.maxDepth, p.depth)
	return nil
}

// countTerm records one more comparison or presence test, starting at off.
func (p *parser) countTerm(off int) error {
	p.terms++
	if p.terms > p.lim.MaxTerms {
		return &LimitError{Limit: "terms", Max: p.lim.MaxTerms, Got: p.terms, Offset: off}
	}
	return nil
}

// parseOr parses a left-associative chain of "or".
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		ok, err := p.connective("or")
		if err != nil {
			return nil, err
		}
		if !ok {
			return left, nil
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
}

// parseAnd parses a left-associative chain of "and", which binds tighter
// than "or".
func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		ok, err := p.connective("and")
		if err != nil {
			return nil, err
		}
		if !ok {
			return left, nil
		}
		right, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
}

// connective consumes spaces, the keyword kw and the spaces after it, if
// that is what follows, and reports whether it did. Otherwise it consumes
// nothing, leaving the caller to look for ')', ']' or the end.
//
// It is called right after a term, where only a space, ')', ']' or the
// end may follow: that rule is what requires a space before "and" and "or"
// and rejects text run into a literal (`x eq 3x`).
func (p *parser) connective(kw string) (bool, error) {
	if p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', ')', ']':
		default:
			return false, p.unexpected(`expected a space, ")", "]" or the end of the filter`)
		}
	}
	i := p.pos
	for i < len(p.s) && p.s[i] == ' ' {
		i++
	}
	j := i
	for j < len(p.s) && isAlpha(p.s[j]) {
		j++
	}
	if i == p.pos || !isKeyword(p.s[i:j], kw) {
		return false, nil
	}
	switch {
	case j == len(p.s):
		return false, p.errAt(j, `expected a filter after "`+kw+`"`)
	case p.s[j] != ' ':
		p.pos = j
		return false, p.unexpected(`expected a space after "` + kw + `"`)
	}
	p.pos = j
	p.skipSpaces()
	return true, nil
}

// parseTerm parses a group, a negation or an attribute expression.
func (p *parser) parseTerm() (Expr, error) {
	if p.pos >= len(p.s) {
		return nil, p.errAt(p.pos, "expected a filter")
	}
	c := p.s[p.pos]
	switch {
	case c == '(':
		return p.parseGroup()
	case isAlpha(c):
		if p.atNot() {
			return p.parseNot()
		}
		return p.parseAttrExp()
	}
	return nil, p.unexpected(`expected an attribute path, "(" or "not"`)
}

// parseGroup parses "(" filter ")". Grouping leaves no node of its own.
func (p *parser) parseGroup() (Expr, error) {
	open := p.pos
	p.pos++
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.skipSpaces()
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpaces()
	if p.pos >= len(p.s) || p.s[p.pos] != ')' {
		return nil, p.unexpected(`expected "and", "or" or ")" to close the "(" at offset ` + strconv.Itoa(open))
	}
	p.pos++
	p.depth--
	return e, nil
}

// atNot reports whether the input at p.pos is the keyword "not" rather than
// an attribute path that starts with those letters. The word must end
// there; "not.x", "not1" and "not[" are paths. That leaves a top-level
// attribute named "not" unusable, which is the price of rule 1's "not must
// be followed by (" giving a clear error for `not title pr`.
func (p *parser) atNot() bool {
	w := p.word()
	if !isKeyword(w, "not") {
		return false
	}
	end := p.pos + len(w)
	return end == len(p.s) || p.s[end] == ' ' || p.s[end] == '('
}

// parseNot parses "not" *SP "(" filter ")".
func (p *parser) parseNot() (Expr, error) {
	p.pos += len("not")
	p.skipSpaces()
	if p.pos >= len(p.s) || p.s[p.pos] != '(' {
		return nil, p.unexpected(`"not" must be followed by "("`)
	}
	x, err := p.parseGroup()
	if err != nil {
		return nil, err
	}
	return &Not{X: x}, nil
}

// parseAttrExp parses "path pr", "path op value" or a value filter
// "path[filter]", with the Entra ID suffix ".sub pr" or ".sub op value".
func (p *parser) parseAttrExp() (Expr, error) {
	start := p.pos
	path, err := p.parsePath()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		return p.parseValueFilter(path)
	}
	return p.parseOperation(path, start)
}

// parseOperation parses the operator and value that follow the attribute
// path that started at offset start.
func (p *parser) parseOperation(path Path, start int) (Expr, error) {
	if p.pos >= len(p.s) || p.s[p.pos] != ' ' {
		return nil, p.unexpected("expected a space and an operator after the attribute path")
	}
	spaces := p.pos
	p.skipSpaces()
	if p.pos < len(p.s) && p.s[p.pos] == '[' {
		return nil, p.errAt(spaces, `no space is allowed between an attribute path and "["`)
	}
	w := p.word()
	if w == "" {
		return nil, p.unexpected("expected an operator")
	}
	op, ok := lookupOp(w)
	if !ok {
		return nil, p.errAt(p.pos, "unknown operator "+quoteShort(w))
	}
	p.pos += len(w)
	if err := p.countTerm(start); err != nil {
		return nil, err
	}
	if op == 0 {
		return &Present{Path: path}, nil
	}
	if p.pos >= len(p.s) || p.s[p.pos] != ' ' {
		return nil, p.unexpected("expected a space and a value after " + strconv.Quote(op.String()))
	}
	p.skipSpaces()
	v, err := p.parseValue()
	if err != nil {
		return nil, err
	}
	return &Compare{Path: path, Op: op, Value: v}, nil
}

// lookupOp returns the comparison operator named by w (case-insensitively),
// or 0 for "pr".
func lookupOp(w string) (Op, bool) {
	if len(w) != 2 {
		return 0, false
	}
	// The word holds only ASCII letters, so setting bit 0x20 lowers it.
	switch uint16(w[0]|0x20)<<8 | uint16(w[1]|0x20) {
	case 'e'<<8 | 'q':
		return OpEq, true
	case 'n'<<8 | 'e':
		return OpNe, true
	case 'c'<<8 | 'o':
		return OpCo, true
	case 's'<<8 | 'w':
		return OpSw, true
	case 'e'<<8 | 'w':
		return OpEw, true
	case 'g'<<8 | 't':
		return OpGt, true
	case 'g'<<8 | 'e':
		return OpGe, true
	case 'l'<<8 | 't':
		return OpLt, true
	case 'l'<<8 | 'e':
		return OpLe, true
	case 'p'<<8 | 'r':
		return 0, true
	}
	return 0, false
}

// parseValueFilter parses "[" filter "]" after path, and the Entra ID
// suffix, which it folds into the filter: `emails[type eq "work"].value eq
// "x"` means `emails[type eq "work" and value eq "x"]`.
func (p *parser) parseValueFilter(path Path) (Expr, error) {
	open := p.pos
	filter, inner, err := p.parseBrackets()
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.s) || p.s[p.pos] != '.' {
		return &ValueFilter{Path: path, Filter: filter}, nil
	}
	p.pos++
	start := p.pos
	name, err := p.parseName()
	if err != nil {
		return nil, err
	}
	if isKeyword(name, "not") {
		// Canonical text puts the name inside the brackets, where it
		// would read as the keyword.
		return nil, p.errAt(start, `"not" cannot be the sub-attribute after a value filter`)
	}
	term, err := p.parseOperation(Path{Names: p.keep([]string{name})}, start)
	if err != nil {
		return nil, err
	}
	if _, ok := filter.(*Or); ok && inner+1 > p.lim.MaxDepth {
		// Canonical text must parenthesize the "or" next to the added
		// "and", one level deeper than written; refuse now what the
		// canonical text could not be parsed back from.
		return nil, &LimitError{Limit: "depth", Max: p.lim.MaxDepth, Got: inner + 1, Offset: open}
	}
	return &ValueFilter{Path: path, Filter: &And{Left: filter, Right: term}}, nil
}

// parseBrackets parses "[" filter "]" and returns the filter and the
// deepest nesting reached inside it (the brackets included).
func (p *parser) parseBrackets() (Expr, int, error) {
	open := p.pos
	if p.inFilter {
		return nil, 0, p.errAt(open, "value filters cannot be nested")
	}
	p.pos++
	outer := p.maxDepth
	p.maxDepth = 0
	if err := p.enter(open); err != nil {
		return nil, 0, err
	}
	p.inFilter = true
	p.skipSpaces()
	e, err := p.parseOr()
	if err != nil {
		return nil, 0, err
	}
	p.skipSpaces()
	if p.pos >= len(p.s) || p.s[p.pos] != ']' {
		return nil, 0, p.unexpected(`expected "and", "or" or "]" to close the "[" at offset ` + strconv.Itoa(open))
	}
	p.pos++
	p.inFilter = false
	p.depth--
	inner := p.maxDepth
	p.maxDepth = max(outer, inner)
	return e, inner, nil
}

// parsePath parses an attribute path: an optional schema URN, then
// ATTRNAME *("." ATTRNAME). A path that starts with "urn:" (in any case)
// has a URN prefix, which is everything up to its last ':'. Sub-attribute
// names are not limited to one level because claims go to any depth;
// Bind rejects deeper paths elsewhere.
func (p *parser) parsePath() (Path, error) {
	var path Path
	start := p.pos
	if hasPrefixFold(p.s[start:], "urn:") {
		end := start
		for end < len(p.s) && isURNChar(p.s[end]) {
			end++
		}
		colon := strings.LastIndexByte(p.s[start:end], ':')
		urn := p.s[start : start+colon]
		if len(urn) <= len("urn:") || strings.Contains(urn, "::") || urn[len(urn)-1] == ':' {
			return Path{}, p.errAt(start, "invalid schema URN "+quoteShort(urn))
		}
		path.URN = urn
		p.pos = start + colon + 1
	}
	var buf [8]string
	names := buf[:0]
	for {
		name, err := p.parseName()
		if err != nil {
			return Path{}, err
		}
		names = append(names, name)
		if p.pos >= len(p.s) || p.s[p.pos] != '.' {
			break
		}
		p.pos++
	}
	path.Names = p.keep(names)
	return path, nil
}

// parseName parses ATTRNAME = ALPHA *(ALPHA / DIGIT / "-" / "_").
func (p *parser) parseName() (string, error) {
	start := p.pos
	if p.pos >= len(p.s) || !isAlpha(p.s[p.pos]) {
		return "", p.unexpected("expected an attribute name")
	}
	p.pos++
	for p.pos < len(p.s) && isNameChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos], nil
}

// keep copies names into the parser's slab, so that a filter's paths share
// a few allocations instead of making one each. The result has no spare
// capacity, so appending to it cannot overwrite a neighbour.
func (p *parser) keep(names []string) []string {
	if cap(p.names)-len(p.names) < len(names) {
		p.names = make([]string, 0, max(8, len(names)))
	}
	i := len(p.names)
	p.names = append(p.names, names...)
	return p.names[i:len(p.names):len(p.names)]
}

// parseValue parses a JSON literal: a string, a number, true, false or
// null, the last three in lower case only.
func (p *parser) parseValue() (Value, error) {
	if p.pos >= len(p.s) {
		return Value{}, p.errAt(p.pos, "expected a value")
	}
	c := p.s[p.pos]
	switch {
	case c == '"':
		s, err := p.parseString()
		return Value{Kind: KindString, Str: s}, err
	case c == '-' || isDigit(c):
		n, size, off, msg := scanNumber(p.s[p.pos:])
		if msg != "" {
			return Value{}, p.errAt(p.pos+off, "invalid number: "+msg)
		}
		p.pos += size
		return Value{Kind: KindNumber, Num: n}, nil
	case c == '+' || c == '.':
		return Value{}, p.errAt(p.pos, "invalid number: a JSON number starts with '-' or a digit")
	case isAlpha(c):
		w := p.word()
		switch w {
		case "true", "false":
			p.pos += len(w)
			return Value{Kind: KindBool, Bool: w == "true"}, nil
		case "null":
			p.pos += len(w)
			return Value{}, nil
		}
		if isKeyword(w, "true") || isKeyword(w, "false") || isKeyword(w, "null") {
			return Value{}, p.errAt(p.pos, "the literal "+strconv.Quote(w)+" must be written in lower case")
		}
		return Value{}, p.errAt(p.pos, "expected a value (a JSON string, number, true, false or null), not "+quoteShort(w))
	}
	return Value{}, p.unexpected("expected a value (a JSON string, number, true, false or null)")
}

// parseString parses a JSON string literal at p.pos. A literal without
// escapes is returned as a substring of the input.
func (p *parser) parseString() (string, error) {
	start := p.pos
	for i := start + 1; i < len(p.s); {
		c := p.s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return p.s[start+1 : i], nil
		case c == '\\':
			return p.parseEscapedString(start, i)
		case c < 0x20:
			return "", p.errAt(i, "control character "+strconv.QuoteRune(rune(c))+" in a string: it must be escaped")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(p.s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(i, "invalid UTF-8 in a string")
			}
			i += size
		default:
			i++
		}
	}
	return "", p.errAt(start, "unterminated string")
}

// parseEscapedString continues parseString from the first backslash at
// offset i of the string literal that starts at offset start.
func (p *parser) parseEscapedString(start, i int) (string, error) {
	s := p.s
	b := make([]byte, 0, len(s)-start)
	b = append(b, s[start+1:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return string(b), nil
		case c < 0x20:
			return "", p.errAt(i, "control character "+strconv.QuoteRune(rune(c))+" in a string: it must be escaped")
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(i, "invalid UTF-8 in a string")
			}
			b = append(b, s[i:i+size]...)
			i += size
		case c != '\\':
			b = append(b, c)
			i++
		case i+1 >= len(s):
			return "", p.errAt(start, "unterminated string")
		default:
			var err error
			b, i, err = p.appendEscape(b, i)
			if err != nil {
				return "", err
			}
		}
	}
	return "", p.errAt(start, "unterminated string")
}

// appendEscape decodes the escape sequence at offset i (a backslash with at
// least one byte after it), appends what it stands for to b and returns the
// offset after it. A UTF-16 surrogate pair written as two \u escapes
// becomes one rune; a surrogate without its partner is an error rather than
// U+FFFD, so that no two different literals mean the same string.
func (p *parser) appendEscape(b []byte, i int) ([]byte, int, error) {
	s := p.s
	switch s[i+1] {
	case '"', '\\', '/':
		return append(b, s[i+1]), i + 2, nil
	case 'b':
		return append(b, '\b'), i + 2, nil
	case 'f':
		return append(b, '\f'), i + 2, nil
	case 'n':
		return append(b, '\n'), i + 2, nil
	case 'r':
		return append(b, '\r'), i + 2, nil
	case 't':
		return append(b, '\t'), i + 2, nil
	case 'u':
		r, ok := hex4(s, i+2)
		if !ok {
			return nil, 0, p.errAt(i, `invalid escape: \u must be followed by four hexadecimal digits`)
		}
		switch {
		case 0xDC00 <= r && r <= 0xDFFF:
			return nil, 0, p.errAt(i, "invalid escape: a low surrogate without a high surrogate before it")
		case 0xD800 <= r && r <= 0xDBFF:
			j := i + 6
			if j+1 < len(s) && s[j] == '\\' && s[j+1] == 'u' {
				if r2, ok := hex4(s, j+2); ok && 0xDC00 <= r2 && r2 <= 0xDFFF {
					return utf8.AppendRune(b, utf16.DecodeRune(r, r2)), j + 6, nil
				}
			}
			return nil, 0, p.errAt(i, "invalid escape: a high surrogate without a low surrogate after it")
		}
		return utf8.AppendRune(b, r), i + 6, nil
	}
	r, _ := utf8.DecodeRuneInString(s[i+1:])
	return nil, 0, p.errAt(i, `invalid escape \`+strings.Trim(strconv.QuoteRune(r), "'"))
}

// hex4 decodes the four hexadecimal digits (either case) at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// parsePathText parses text that must be exactly one attribute path, as
// the Builder's Attr takes it: the filter grammar's paths, URN prefix
// included, without surrounding spaces. A bare "not" is refused because a
// filter could not spell it.
func parsePathText(s string) (Path, error) {
	p := parser{s: s}
	if s == "" {
		return Path{}, p.errAt(0, "empty attribute path")
	}
	path, err := p.parsePath()
	if err != nil {
		return Path{}, err
	}
	if p.pos < len(s) {
		return Path{}, p.unexpected("expected the end of the attribute path")
	}
	if path.URN == "" && len(path.Names) == 1 && isKeyword(path.Names[0], "not") {
		return Path{}, p.errAt(0, `"not" is a keyword, not an attribute name`)
	}
	return path, nil
}

// isKeyword reports whether the letters w spell the lower-case keyword kw
// in any case.
func isKeyword(w, kw string) bool {
	if len(w) != len(kw) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i]|0x20 != kw[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix
// in any case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

func isNameChar(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' || c == '_' }

// isURNChar reports the bytes a schema URN prefix may hold. RFC 8141
// allows more, but SCIM schema URNs use only these, and refusing the rest
// keeps quoting and operator characters out of paths.
func isURNChar(c byte) bool { return isNameChar(c) || c == '.' || c == ':' }
