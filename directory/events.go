package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/userdir/userdir/backend"
)

// Op names an operation of the directory. Events report it, and audit
// entries record it as their action.
type Op string

// The operations that emit events. Reads emit events too; only writes are
// audited.
const (
	OpUserCreate      Op = "users.create"
	OpUserGet         Op = "users.get"
	OpUserList        Op = "users.list"
	OpUserCount       Op = "users.count"
	OpUserUpdate      Op = "users.update"
	OpUserPatch       Op = "users.patch"
	OpUserDisable     Op = "users.disable"
	OpUserEnable      Op = "users.enable"
	OpUserDelete      Op = "users.delete"
	OpUserRestore     Op = "users.restore"
	OpUserPurge       Op = "users.purge"
	OpUserAnonymize   Op = "users.anonymize"
	OpUserImport      Op = "users.import"
	OpUserMe          Op = "users.me"
	OpUserPermissions Op = "users.permissions"

	OpRoleCreate Op = "roles.create"
	OpRoleGet    Op = "roles.get"
	OpRoleList   Op = "roles.list"
	OpRoleCount  Op = "roles.count"
	OpRoleUpdate Op = "roles.update"
	OpRoleDelete Op = "roles.delete"

	OpGroupCreate        Op = "groups.create"
	OpGroupGet           Op = "groups.get"
	OpGroupList          Op = "groups.list"
	OpGroupCount         Op = "groups.count"
	OpGroupUpdate        Op = "groups.update"
	OpGroupDelete        Op = "groups.delete"
	OpGroupAddMembers    Op = "groups.add_members"
	OpGroupRemoveMembers Op = "groups.remove_members"
	OpGroupMembers       Op = "groups.members"

	OpInvitationSend   Op = "invitations.send"
	OpInvitationGet    Op = "invitations.get"
	OpInvitationList   Op = "invitations.list"
	OpInvitationResend Op = "invitations.resend"
	OpInvitationCancel Op = "invitations.cancel"
	OpInvitationAccept Op = "invitations.accept"

	OpCredentialAdd    Op = "credentials.add"
	OpCredentialGet    Op = "credentials.get"
	OpCredentialList   Op = "credentials.list"
	OpCredentialUsed   Op = "credentials.used"
	OpCredentialRemove Op = "credentials.remove"

	OpAuditList Op = "audit.list"

	OpTenantsOf Op = "directory.tenants_of"
	OpCompact   Op = "directory.compact"
)

// Phase is the stage of an operation an Event reports.
type Phase string

// The phases of an operation: every operation reports PhaseStart and then
// exactly one of PhaseSuccess and PhaseFail.
const (
	PhaseStart   Phase = "start"
	PhaseSuccess Phase = "success"
	PhaseFail    Phase = "fail"
)

// Event reports one phase of an operation to the observers.
//
// By default an event carries no personal data: ids only, and an Err whose
// message names the kind of failure (and the invalid field) but no value;
// it still matches the same sentinels with errors.Is. An observer that
// implements FullPayloadObserver and returns true gets the operation's
// result in Data and the unredacted error in Err.
type Event struct {
	Op     Op
	Phase  Phase
	Tenant string
	// ID is the id of the record the operation concerns, when it has one:
	// the argument of a Get or Update, the new id after a Create.
	ID string
	// Err is the failure, with PhaseFail.
	Err error
	// Data is the operation's result (a User, Role, Page, ...), only for
	// observers that ask for full payloads and only with PhaseSuccess. It
	// is the value returned to the caller: an observer must not modify it.
	Data any
}

// Observer receives the events of every operation of a Directory. Observe
// is called synchronously on the goroutine of the operation, so it should
// return quickly; it must be safe for concurrent use.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// FullPayloadObserver is an Observer that may ask for full payloads: when
// FullPayload returns true its events carry Data and unredacted errors,
// which may hold personal data.
type FullPayloadObserver interface {
	Observer
	FullPayload() bool
}

// WithObserver registers an observer of every operation's events. It may be
// given several times; observers are called in the order given.
func WithObserver(o Observer) Option {
	return func(c *config) error {
		if o == nil {
			return fmt.Errorf("%w: nil observer", ErrInvalid)
		}
		c.observers = append(c.observers, o)
		return nil
	}
}

// recordID is implemented by results whose id an event reports.
type recordID interface{ recordID() string }

// observe runs fn as the operation op of tenant on the record id (which
// may be empty) and reports its start and its outcome to the observers.
// Without observers it only runs fn.
func observe[T any](ctx context.Context, d *Directory, op Op, tenant, id string, fn func() (T, error)) (T, error) {
	if len(d.observers) == 0 {
		return fn()
	}
	for _, o := range d.observers {
		o.Observe(ctx, Event{Op: op, Phase: PhaseStart, Tenant: tenant, ID: id})
	}
	v, err := fn()
	if id == "" && err == nil {
		if r, ok := any(v).(recordID); ok {
			id = r.recordID()
		}
	}
	var redacted error
	for _, o := range d.observers {
		e := Event{Op: op, Phase: PhaseSuccess, Tenant: tenant, ID: id}
		full := false
		if f, ok := o.(FullPayloadObserver); ok {
			full = f.FullPayload()
		}
		switch {
		case err != nil && full:
			e.Phase, e.Err = PhaseFail, err
		case err != nil:
			if redacted == nil {
				redacted = redact(err)
			}
			e.Phase, e.Err = PhaseFail, redacted
		case full:
			e.Data = v
		}
		o.Observe(ctx, e)
	}
	return v, err
}

// observeErr is observe for an operation that returns only an error.
func observeErr(ctx context.Context, d *Directory, op Op, tenant, id string, fn func() error) error {
	_, err := observe(ctx, d, op, tenant, id, func() (struct{}, error) { return struct{}{}, fn() })
	return err
}

// redactedError is an error with its message reduced to what carries no
// personal data. errors.Is still sees through it; errors.As does not, so
// no detail type (whose fields may hold values) leaks.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }

// redactable lists the sentinels whose names a redacted error keeps, most
// specific first.
var redactable = []error{
	ErrInvalidTransition, ErrInvalidCursor, ErrQueryTooComplex, ErrInvalidFilter, ErrInvalid,
	ErrNotFound, ErrAlreadyExists, ErrConflict, ErrUnsupported, backend.ErrClosed,
	context.Canceled, context.DeadlineExceeded,
}

// redact returns err without values: a *FieldError keeps its field name, a
// *TransitionError its statuses, anything else the name of its sentinel.
func redact(err error) error {
	var fe *FieldError
	var te *TransitionError
	switch {
	case errors.As(err, &te):
		return &redactedError{msg: te.Error(), err: err}
	case errors.As(err, &fe):
		return &redactedError{msg: "invalid " + fe.Field, err: err}
	}
	for _, s := range redactable {
		if errors.Is(err, s) {
			return &redactedError{msg: s.Error(), err: err}
		}
	}
	return &redactedError{msg: "internal error", err: err}
}

// SlogObserver logs every event to a *slog.Logger: starts at Debug,
// successes at Info and failures at Warn, with the attributes op, tenant,
// id and error. It never asks for full payloads, so its records hold ids
// but no personal data.
type SlogObserver struct {
	log *slog.Logger
}

// NewSlogObserver returns an observer that logs to l (slog.Default() when
// l is nil).
func NewSlogObserver(l *slog.Logger) *SlogObserver {
	if l == nil {
		l = slog.Default()
	}
	return &SlogObserver{log: l}
}

// Observe logs e.
func (s *SlogObserver) Observe(ctx context.Context, e Event) {
	level := slog.LevelInfo
	switch e.Phase {
	case PhaseStart:
		level = slog.LevelDebug
	case PhaseFail:
		level = slog.LevelWarn
	}
	if !s.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("op", string(e.Op)), slog.String("phase", string(e.Phase)), slog.String("tenant", e.Tenant)}
	if e.ID != "" {
		attrs = append(attrs, slog.String("id", e.ID))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	s.log.LogAttrs(ctx, level, "userdir "+string(e.Op)+" "+string(e.Phase), attrs...)
}
