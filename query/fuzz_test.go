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
			var se *query.SyntaxError
			var le *query.LimitError
			switch {
			case errors.As(err, &se):
				if se.Offset < 0 || se.Offset > len(in) {
					t.Fatalf("Parse(%q): offset %d outside the input: %v", in, se.Offset, err)
				}
				if !errors.Is(err, query.ErrInvalidFilter) {
					t.Fatalf("Parse(%q): %v is not ErrInvalidFilter", in, err)
				}
			case errors.As(err, &le):
				if le.Offset < 0 || le.Offset > len(in) {
					t.Fatalf("Parse(%q): offset %d outside the input: %v", in, le.Offset, err)
				}
				if !errors.Is(err, query.ErrQueryTooComplex) {
					t.Fatalf("Parse(%q): %v is not ErrQueryTooComplex", in, err)
				}
			default:
				t.Fatalf("Parse(%q): unexpected error type %T: %v", in, err, err)
			}
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
