package query_test

import (
	"errors"
	"testing"

	"github.com/userdir/userdir/query"
)

// fuzzSeeds add to the tables inputs that fuzzing found or that probe
// the edges of the canonical round trip.
var fuzzSeeds = []string{
	// Found by fuzzing: the value's exponent (1e1000000000) was out of
	// range though the written one was not.
	`A eq 10e999999999`,
	`emails[a pr or b pr].c pr`,
	"a eq \"\\ud83d\\ude00\\u0000\"",
	`a eq 1e-7 or a eq 1e21 or a eq 12e20`,
	`not(not(a pr))`,
}

// FuzzParse checks, for any input, that the parser does not panic, that
// what parses has a canonical text that parses back to an Equal expression
// and is a fixed point, and that what fails reports a *SyntaxError or a
// *LimitError inside the input.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.in)
	}
	for _, tc := range parseErrCases {
		f.Add(tc.in)
	}
	for _, tc := range canonicalCases {
		f.Add(tc.in)
	}
	for _, s := range benchFilters {
		f.Add(s)
	}
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		e, err := query.Parse(in)
		if err != nil {
			if e != nil {
				t.Fatalf("Parse(%q) returned both %s and %v", in, sexpr(e), err)
			}
			checkParseError(t, "Parse", in, err)
			return
		}
		c := query.Canonical(e)
		// Canonical text keeps depth and terms but may be a little longer
		// than the input (see Canonical), so only length is relaxed.
		again, err := query.ParseWithLimits(c, query.Limits{MaxLength: max(len(c), query.DefaultLimits().MaxLength)})
		if err != nil {
			t.Fatalf("Parse(%q) = %s, but its canonical text %q does not parse: %v", in, sexpr(e), c, err)
		}
		if !query.Equal(e, again) {
			t.Fatalf("Parse(%q) = %s, canonical %q parses as %s", in, sexpr(e), c, sexpr(again))
		}
		if c2 := query.Canonical(again); c2 != c {
			t.Fatalf("canonical text is not a fixed point: %q -> %q -> %q", in, c, c2)
		}
	})
}

// checkParseError fails t unless err, returned by the parser fn for in,
// is a *SyntaxError matching ErrInvalidFilter or a *LimitError matching
// ErrQueryTooComplex, at an offset inside in.
func checkParseError(t *testing.T, fn, in string, err error) {
	t.Helper()
	var se *query.SyntaxError
	var le *query.LimitError
	switch {
	case errors.As(err, &se):
		if se.Offset < 0 || se.Offset > len(in) {
			t.Fatalf("%s(%q): offset %d outside the input: %v", fn, in, se.Offset, err)
		}
		if !errors.Is(err, query.ErrInvalidFilter) {
			t.Fatalf("%s(%q): %v is not ErrInvalidFilter", fn, in, err)
		}
	case errors.As(err, &le):
		if le.Offset < 0 || le.Offset > len(in) {
			t.Fatalf("%s(%q): offset %d outside the input: %v", fn, in, le.Offset, err)
		}
		if !errors.Is(err, query.ErrQueryTooComplex) {
			t.Fatalf("%s(%q): %v is not ErrQueryTooComplex", fn, in, err)
		}
	default:
		t.Fatalf("%s(%q): unexpected error type %T: %v", fn, in, err, err)
	}
}

// FuzzParsePath checks, for any input, that the PATCH path parser does not
// panic, that what fails reports an error inside the input, and that what
// parses, written back from its parts, parses to the same parts.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		`emails[type eq "work"].value`, `name.familyName`, `members[value eq "x"]`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`,
		`emails[type eq "work" and not (primary eq true)]`, ` userName `, `emails[]`, `a[b eq 1].c.d`,
		`claims.x[y pr]`, `emails[type eq "work"]value`, `[`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pp, err := query.ParsePath(in)
		if err != nil {
			if pp != nil {
				t.Fatalf("ParsePath(%q) returned both a path and %v", in, err)
			}
			checkParseError(t, "ParsePath", in, err)
			return
		}
		text := pp.Path.String()
		if pp.Filter != nil {
			text += "[" + query.Canonical(pp.Filter) + "]"
		}
		if pp.Sub != "" {
			text += "." + pp.Sub
		}
		again, err := query.ParsePath(text)
		if err != nil {
			t.Fatalf("ParsePath(%q) written back as %q does not parse: %v", in, text, err)
		}
		if again.Path.String() != pp.Path.String() || again.Sub != pp.Sub || !query.Equal(again.Filter, pp.Filter) {
			t.Fatalf("ParsePath(%q) written back as %q parses to other parts", in, text)
		}
	})
}

// FuzzParseSort checks, for any input, that ParseSort does not panic, that
// its errors match ErrInvalidFilter, and that a sort's text parses back to
// the same sort.
func FuzzParseSort(f *testing.F) {
	for _, s := range []string{
		"userName", "-meta.created,userName", " +name.familyName , -claims.level ", "emails.value",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "department,",
		",", "-", "--userName", "claims", "name", "unknown",
	} {
		f.Add(s)
	}
	schema := query.UserSchema()
	f.Fuzz(func(t *testing.T, in string) {
		s, err := query.ParseSort(in, schema)
		if err != nil {
			if !errors.Is(err, query.ErrInvalidFilter) {
				t.Fatalf("ParseSort(%q): %v is not ErrInvalidFilter", in, err)
			}
			return
		}
		again, err := query.ParseSort(s.String(), schema)
		if err != nil {
			t.Fatalf("ParseSort(%q) = %q, which does not parse: %v", in, s.String(), err)
		}
		if again.String() != s.String() {
			t.Fatalf("ParseSort(%q) = %q, which parses as %q", in, s.String(), again.String())
		}
	})
}

// FuzzParseProjection checks, for any input, that ParseProjection does not
// panic and that its errors match ErrInvalidFilter.
func FuzzParseProjection(f *testing.F) {
	for _, s := range []string{
		"userName,emails", " name.familyName , meta ", "claims.a.b", "", ",", "emails[type eq \"x\"]",
		"urn:ietf:params:scim:schemas:core:2.0:User:userName", "nope",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	schema := query.UserSchema()
	f.Fuzz(func(t *testing.T, in string, excluded bool) {
		attributes, excludedAttributes := in, ""
		if excluded {
			attributes, excludedAttributes = "", in
		}
		p, err := query.ParseProjection(attributes, excludedAttributes, schema)
		if err != nil {
			if !errors.Is(err, query.ErrInvalidFilter) {
				t.Fatalf("ParseProjection(%q, %v): %v is not ErrInvalidFilter", in, excluded, err)
			}
			return
		}
		for _, name := range []string{"id", "userName", "name.familyName", "claims", in} {
			p.Includes(name)
		}
	})
}
