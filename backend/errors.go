package backend

import "fmt"

// Error is a backend failure: the portable sentinel (Err) for errors.Is, and
// the driver's error (Cause) for errors.As. Adapters return it for every
// failure of a stored record; Index names the unique index that clashed.
type Error struct {
	Op    string // "get", "create", "replace", "delete", "query"
	Kind  string
	ID    string
	Index string // the unique index that clashed, with ErrAlreadyExists
	Err   error  // one of the sentinels of this package
	Cause error  // the underlying driver error, if any
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s %s %q: %v", e.Op, e.Kind, e.ID, e.Err)
	if e.Index != "" {
		msg += " (index " + e.Index + ")"
	}
	if e.Cause != nil {
		msg += ": " + e.Cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel and the cause, so errors.Is and errors.As
// reach both.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
