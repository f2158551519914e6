package mongo

import (
	"errors"
	"fmt"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/userdir/userdir/backend"
)

// isDuplicate reports whether err is a unique-index violation: code 11000
// from an insert on every server, or FerretDB's code 1 "UNIQUE constraint
// failed" from an update.
func isDuplicate(err error) bool {
	if mongodrv.IsDuplicateKeyError(err) {
		return true
	}
	var se mongodrv.ServerError
	return errors.As(err, &se) && se.HasErrorCodeWithMessage(1, "UNIQUE constraint failed")
}

// mapError maps a driver error to the portable errors: a unique-index
// violation is ErrAlreadyExists, a missing document ErrNotFound, both as
// *backend.Error with the driver's error as Cause. Any other failure
// (network, server, context) has no portable sentinel: it is wrapped with
// the operation, so errors.Is and errors.As still reach it.
func mapError(op, kind, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case isDuplicate(err):
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrAlreadyExists, Cause: err}
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return &backend.Error{Op: op, Kind: kind, ID: id, Err: backend.ErrNotFound, Cause: err}
	}
	var be *backend.Error
	if errors.As(err, &be) {
		return err
	}
	return fmt.Errorf("mongo: %s %s %q: %w", op, kind, id, err)
}
