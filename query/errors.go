package query

import (
	"errors"
	"strconv"
)

// ErrInvalidFilter is matched (with errors.Is) by every error that reports a
// filter, path or sort expression that is malformed or that does not fit the
// schema: *SyntaxError and the binder's attribute errors.
var ErrInvalidFilter = errors.New("invalid filter")

// ErrQueryTooComplex is matched (with errors.Is) by *LimitError: the filter
// is well formed so far but exceeds one of the Limits.
var ErrQueryTooComplex = errors.New("query too complex")

// SyntaxError reports filter text that does not follow the grammar of
// DESIGN §3 rules 1–3.
type SyntaxError struct {
	Offset int    // byte offset into the input where the problem was found
	Msg    string // what was wrong, without the offset
}

// Error returns "invalid filter at offset N: msg".
func (e *SyntaxError) Error() string {
	return "invalid filter at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Is reports whether target is ErrInvalidFilter.
func (e *SyntaxError) Is(target error) bool { return target == ErrInvalidFilter }

// LimitError reports a filter that exceeds one of the Limits.
//
// Length is checked before anything else, so Got is then the input's
// length. Depth and terms are counted while parsing, which stops at the
// first excess: Got is then Max+1, not the filter's full count.
type LimitError struct {
	Limit  string // "length", "depth" or "terms"
	Max    int    // the limit in force
	Got    int    // the count that exceeded it
	Offset int    // byte offset of the input where the limit was exceeded
}

// Error returns a message naming the limit, its maximum and what was found.
func (e *LimitError) Error() string {
	return "query too complex: " + e.Limit + " " + strconv.Itoa(e.Got) +
		" exceeds the maximum of " + strconv.Itoa(e.Max) + " (at offset " + strconv.Itoa(e.Offset) + ")"
}

// Is reports whether target is ErrQueryTooComplex.
func (e *LimitError) Is(target error) bool { return target == ErrQueryTooComplex }
