package query

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCompileNil checks that a nil filter, a nil *Matcher and the zero
// Matcher match every resource, the nil resource included, as Eval does
// for a nil filter. Every other Eval test holds the compiled form too (see
// evalBoth).
func TestCompileNil(t *testing.T) {
	u := fxUsers()[0]
	for name, m := range map[string]*Matcher{
		"Compile(nil)": Compile(nil),
		"nil":          nil,
		"zero":         {},
	} {
		assert.True(t, m.Match(u), name)
		assert.True(t, m.Match(nil), name)
	}
}

// TestCompileSharesNothingMutable checks that a Matcher may be used from
// many goroutines at once (run with -race).
func TestCompileSharesNothingMutable(t *testing.T) {
	m := Compile(mustBind(t, `name.familyName co "son" or emails[type eq "work" and value ew ".com"] or claims.level gt 3`))
	users := fxUsers()
	want := fxMatchWith(m.Match, users)
	done := make(chan []string)
	for range 4 {
		go func() { done <- fxMatchWith(m.Match, users) }()
	}
	for range 4 {
		assert.Equal(t, want, <-done)
	}
}
