package directory

import (
	"errors"
	"fmt"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// The errors every call may return, matched with errors.Is. Storage errors
// are the backend's own sentinels, so errors.Is works whichever package the
// caller names; the driver's error stays reachable with errors.As.
var (
	ErrNotFound          = backend.ErrNotFound
	ErrAlreadyExists     = backend.ErrAlreadyExists
	ErrConflict          = backend.ErrConflict
	ErrUnsupported       = backend.ErrUnsupported
	ErrInvalid           = errors.New("invalid input")
	ErrInvalidFilter     = query.ErrInvalidFilter
	ErrInvalidCursor     = errors.New("invalid cursor")
	ErrInvalidTransition = errors.New("invalid status transition")
	ErrQueryTooComplex   = query.ErrQueryTooComplex
)

// FieldError reports an invalid field. Field is the JSON path of the field
// ("emails[1].value", "claims.address"); it matches ErrInvalid.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return fmt.Sprintf("invalid %s: %s", e.Field, e.Msg) }

// Is reports whether target is ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// TransitionError reports a lifecycle change the DESIGN does not allow; it
// matches ErrInvalidTransition. Of names what changes status when it is not
// a user ("invitation").
type TransitionError struct {
	From, To Status
	Of       string
}

func (e *TransitionError) Error() string {
	if e.Of != "" {
		return fmt.Sprintf("invalid %s status transition from %s to %s", e.Of, e.From, e.To)
	}
	return fmt.Sprintf("invalid status transition from %s to %s", e.From, e.To)
}

// Is reports whether target is ErrInvalidTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
