package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// InvitationStatus is the state of an invitation.
type InvitationStatus string

// The states of an invitation. An invitation is pending until it is
// accepted or cancelled; a pending invitation past its expiry reads as
// expired (the expiry is enforced on every read, not by a store's TTL
// index, which not every store has), and Resend makes it pending again.
const (
	InvitationPending   InvitationStatus = "pending"
	InvitationAccepted  InvitationStatus = "accepted"
	InvitationCancelled InvitationStatus = "cancelled"
	InvitationExpired   InvitationStatus = "expired"
)

// DefaultInvitationTTL is how long an invitation stays valid by default.
const DefaultInvitationTTL = 7 * 24 * time.Hour

// Invitation is an invitation of an email address to a tenant. Sending it
// creates the invited user (status invited); accepting it makes the user
// active.
type Invitation struct {
	ID        string           `json:"id,omitempty"`
	Email     string           `json:"email,omitempty"`
	UserID    string           `json:"userId,omitempty"` // the invited user
	Roles     []string         `json:"roles,omitempty"`  // role ids given to the invited user
	InvitedBy string           `json:"invitedBy,omitempty"`
	Status    InvitationStatus `json:"status,omitempty"`
	Created   time.Time        `json:"created,omitzero"`
	Expires   time.Time        `json:"expires,omitzero"`
	Accepted  time.Time        `json:"accepted,omitzero"`
	Version   int64            `json:"version,omitempty"`
}

// Clone returns a deep copy of inv.
func (inv Invitation) Clone() Invitation {
	inv.Roles = slices.Clone(inv.Roles)
	return inv
}

func (inv Invitation) recordID() string { return inv.ID }

// Attr exposes the invitation's attributes to the query package: id,
// email, userId, roles, invitedBy, status, created, expires, accepted and
// version.
func (inv *Invitation) Attr(name string) any {
	switch name {
	case "id":
		return str(&inv.ID)
	case "email":
		return str(&inv.Email)
	case "userId":
		return str(&inv.UserID)
	case "roles":
		if len(inv.Roles) == 0 {
			return nil
		}
		return inv.Roles
	case "invitedBy":
		return str(&inv.InvitedBy)
	case "status":
		return str((*string)(&inv.Status))
	case "created":
		return inv.Created
	case "expires":
		return inv.Expires
	case "accepted":
		if inv.Accepted.IsZero() {
			return nil
		}
		return inv.Accepted
	case "version":
		return inv.Version
	}
	return nil
}

// InvitationURN is the schema URN of invitations.
const InvitationURN = "urn:userdir:schemas:Invitation"

var invitationSchema = query.NewSchema(InvitationURN, []query.AttrDef{
	idAttr(),
	{Name: "email", Type: query.TypeString, Required: true},
	exactAttr("userId", false),
	{Name: "roles", Type: query.TypeString, Multi: true, CaseExact: true},
	strAttr("invitedBy"),
	{Name: "status", Type: query.TypeString, Required: true},
	timeAttr("created", true),
	timeAttr("expires", true),
	timeAttr("accepted", false),
	{Name: "version", Type: query.TypeNumber, CaseExact: true},
})

var invitationsKind = backend.Kind{
	Name:   invitationsKindName,
	Schema: invitationSchema,
	Codec:  jsonCodec[Invitation, *Invitation]{name: "invitation"},
	Indexes: []backend.Index{
		{Name: "email", Attr: "email"},
		{Name: "userId", Attr: "userId"},
		{Name: "created", Attr: "created"},
		{Name: "expires", Attr: "expires"},
	},
}

// invitationView shows a pending invitation past its expiry as expired.
func invitationView(now time.Time, r backend.Record) backend.Record {
	inv, ok := r.Doc.(*Invitation)
	if !ok || inv.Status != InvitationPending || now.Before(inv.Expires) {
		return r
	}
	c := inv.Clone()
	c.Status = InvitationExpired
	r.Doc = &c
	return r
}

func toInvitation(rec backend.Record) Invitation {
	inv := rec.Doc.(*Invitation).Clone()
	inv.Version = rec.Version
	return inv
}

// InviteOutcome is what sending an invitation to one address did.
type InviteOutcome string

// The outcomes of sending an invitation to one address.
const (
	// InviteInvited: an invitation was sent; the invited user was created
	// (or, with Resend, already waited for one).
	InviteInvited InviteOutcome = "invited"
	// InviteExists: a user already has the address (invited without
	// Resend, provisioned, or deleted) or its userName; nothing was sent.
	InviteExists InviteOutcome = "exists"
	// InviteActive and InviteDisabled: the address is an active or a
	// disabled user's; nothing was sent.
	InviteActive   InviteOutcome = "active"
	InviteDisabled InviteOutcome = "disabled"
	// InviteInvalid: the address is not valid (Err says why).
	InviteInvalid InviteOutcome = "invalid"
)

// InviteResult is the outcome of sending an invitation to one address.
type InviteResult struct {
	Email        string
	Outcome      InviteOutcome
	UserID       string // the user with the address, when there is one
	InvitationID string // the invitation sent, with InviteInvited
	Err          error  // why the address is invalid, or a storage error
}

// InviteOptions adjusts Send.
type InviteOptions struct {
	// Roles are role ids given to the users the invitations create; each
	// must exist.
	Roles []string
	// TTL is how long the invitations stay valid; zero means the
	// directory's (WithInvitationTTL).
	TTL time.Duration
	// Resend sends a new expiry to addresses whose users are already
	// invited, instead of reporting InviteExists.
	Resend bool
}

// MaxInvitations bounds the addresses of one Send.
const MaxInvitations = MaxLimit

// Invitations is the handle for the invitations of one tenant.
type Invitations struct {
	d      *Directory
	tenant string
}

// Invitations returns the handle for the invitations of one tenant.
func (d *Directory) Invitations(tenant string) *Invitations {
	return &Invitations{d: d, tenant: tenant}
}

// Send invites every address at once, each on its own: the result for an
// address says what happened to it (InviteInvited, InviteExists,
// InviteActive, InviteDisabled, InviteInvalid), so one bad or known
// address never fails the others. An invitation creates its user with
// status invited, userName and primary email the address, and the roles
// of opts; the user is stored before its invitation, so a Send cut short
// leaves an invited user that Send with Resend invites. The error is for
// the whole call: an invalid tenant or option, a role that does not
// exist, or ctx ending (the results then cover the addresses done).
func (h *Invitations) Send(ctx context.Context, emails []string, opts InviteOptions) ([]InviteResult, error) {
	return observe(ctx, h.d, OpInvitationSend, h.tenant, "", func() ([]InviteResult, error) {
		if err := validTenant(h.tenant); err != nil {
			return nil, err
		}
		if len(emails) > MaxInvitations {
			return nil, fieldErr("emails", "more than %d addresses at once", MaxInvitations)
		}
		if opts.TTL < 0 {
			return nil, fieldErr("ttl", "negative")
		}
		if err := checkNames("roles", opts.Roles, MaxListLen, MaxIDLen); err != nil {
			return nil, err
		}
		refs := make([]RoleRef, len(opts.Roles))
		for i, r := range opts.Roles {
			if err := validID(fmt.Sprintf("roles[%d]", i), r); err != nil {
				return nil, err
			}
			refs[i] = RoleRef{Value: r}
		}
		if err := h.d.checkRoles(ctx, h.tenant, refs, nil); err != nil {
			return nil, err
		}
		out := make([]InviteResult, len(emails))
		for i, e := range emails {
			out[i] = h.sendOne(ctx, e, refs, opts)
			if err := ctx.Err(); err != nil {
				return out[:i+1], err
			}
		}
		return out, nil
	})
}

func (h *Invitations) sendOne(ctx context.Context, email string, refs []RoleRef, opts InviteOptions) InviteResult {
	res := InviteResult{Email: email}
	if err := validEmail("email", email); err != nil {
		res.Outcome, res.Err = InviteInvalid, err
		return res
	}
	users := h.d.Users(h.tenant)
	found, err := h.d.find(ctx, h.tenant, h.d.k.users, eq("emails.value", email))
	if err != nil {
		res.Outcome, res.Err = InviteExists, err
		return res
	}
	if len(found) == 0 {
		now := h.d.now().UTC()
		doc := &userDoc{User: User{
			ID: h.d.newID(), UserName: email, Emails: []Email{{Value: email, Primary: true}},
			Status: StatusInvited, Roles: slices.Clone(refs), Meta: Meta{Created: now, LastModified: now, Version: 1},
		}}
		u, err := users.create(ctx, doc, OpInvitationSend)
		var ae *AuditError
		if err != nil && !errors.As(err, &ae) {
			res.Outcome, res.Err = InviteExists, err
			return res
		}
		res.UserID = u.ID
		return h.invite(ctx, res, u.ID, opts)
	}
	u := found[0].Doc.(*userDoc)
	res.UserID = u.ID
	switch u.Status {
	case StatusActive:
		res.Outcome = InviteActive
	case StatusDisabled:
		res.Outcome = InviteDisabled
	case StatusInvited:
		if opts.Resend {
			return h.invite(ctx, res, u.ID, opts)
		}
		res.Outcome = InviteExists
	default:
		res.Outcome = InviteExists
	}
	return res
}

// invite sends the invited user uid an invitation: a new expiry for its
// latest unanswered one, or a new one.
func (h *Invitations) invite(ctx context.Context, res InviteResult, uid string, opts InviteOptions) InviteResult {
	res.Outcome = InviteInvited
	ttl := opts.TTL
	if ttl == 0 {
		ttl = h.d.inviteTTL
	}
	open, err := h.d.find(ctx, h.tenant, h.d.k.invitations, allOf(eq("userId", uid), anyOf(eq("status", string(InvitationPending)), eq("status", string(InvitationExpired)))))
	if err != nil {
		res.Err = err
		return res
	}
	if len(open) > 0 {
		inv, err := h.resend(ctx, open[len(open)-1].ID, 0, ttl)
		res.InvitationID, res.Err = inv.ID, err
		return res
	}
	now := h.d.now().UTC()
	inv := &Invitation{
		ID: h.d.newID(), Email: res.Email, UserID: uid, Roles: slices.Clone(opts.Roles), InvitedBy: ActorFrom(ctx),
		Status: InvitationPending, Created: now, Expires: now.Add(ttl),
	}
	if len(inv.Roles) == 0 {
		inv.Roles = nil
	}
	if _, err := h.d.create(ctx, h.tenant, invitationsKindName, inv.ID, inv); err != nil {
		res.Err = err
		return res
	}
	res.InvitationID = inv.ID
	res.Err = h.d.audit(ctx, h.tenant, AuditEntry{Action: OpInvitationSend, Kind: invitationsKindName, Target: inv.ID, User: uid, Changes: h.d.changes(nil, inv)})
	return res
}

// Get returns the invitation with the given id; a pending invitation past
// its expiry reads as expired.
func (h *Invitations) Get(ctx context.Context, id string) (Invitation, error) {
	return getOne[Invitation, *Invitation](ctx, h.d, h.tenant, h.d.k.invitations, OpInvitationGet, id, toInvitation)
}

// List returns one page of the tenant's invitations that match opts
// (filters and sorts name the attributes of Invitation; a filter on status
// sees expired invitations as expired, and is evaluated by the directory
// rather than the store for that reason).
func (h *Invitations) List(ctx context.Context, opts ListOptions) (PageOf[Invitation], error) {
	return observe(ctx, h.d, OpInvitationList, h.tenant, "", func() (PageOf[Invitation], error) {
		return listKind(ctx, h.d, h.tenant, h.d.k.invitations, opts, toInvitation, Invitation.Clone)
	})
}

// Resend gives a pending or expired invitation a new expiry (the
// directory's invitation TTL from now) and makes it pending. An accepted
// or cancelled invitation cannot be resent.
func (h *Invitations) Resend(ctx context.Context, id string, opts ...WriteOption) (Invitation, error) {
	return observe(ctx, h.d, OpInvitationResend, h.tenant, id, func() (Invitation, error) {
		if err := validTenant(h.tenant); err != nil {
			return Invitation{}, err
		}
		return h.resend(ctx, id, writeOptions(opts).ifVersion, h.d.inviteTTL)
	})
}

func (h *Invitations) resend(ctx context.Context, id string, ifVersion int64, ttl time.Duration) (Invitation, error) {
	return h.setStatus(ctx, id, ifVersion, OpInvitationResend, func(inv *Invitation) error {
		if inv.Status != InvitationPending && inv.Status != InvitationExpired {
			return &TransitionError{Of: "invitation", From: Status(inv.Status), To: Status(InvitationPending)}
		}
		inv.Status, inv.Expires = InvitationPending, h.d.now().UTC().Add(ttl)
		return nil
	})
}

// setStatus is the audited read-modify-write of an invitation. When fn
// returns errNoChange, nothing is written and setStatus returns it.
func (h *Invitations) setStatus(ctx context.Context, id string, ifVersion int64, op Op, fn func(*Invitation) error) (Invitation, error) {
	cur, out, err := h.d.update(ctx, h.tenant, h.d.k.invitations, id, ifVersion, func(rec backend.Record) (backend.Document, error) {
		inv := toInvitation(rec)
		if err := fn(&inv); err != nil {
			return nil, err
		}
		inv.Version = 0
		return &inv, nil
	})
	if err != nil {
		return Invitation{}, err
	}
	inv := toInvitation(out)
	if cur.Version == out.Version {
		return inv, errNoChange
	}
	return inv, h.d.audit(ctx, h.tenant, AuditEntry{Action: op, Kind: invitationsKindName, Target: id, User: inv.UserID, Changes: h.d.changes(cur.Doc, out.Doc)})
}

// CancelPending cancels every pending invitation of the user and returns
// how many it cancelled (expired ones are left as they are).
func (h *Invitations) CancelPending(ctx context.Context, userID string) (int, error) {
	return observe(ctx, h.d, OpInvitationCancel, h.tenant, userID, func() (int, error) {
		if err := validTenant(h.tenant); err != nil {
			return 0, err
		}
		if err := validID("id", userID); err != nil {
			return 0, err
		}
		open, err := h.d.find(ctx, h.tenant, h.d.k.invitations, allOf(eq("userId", userID), eq("status", string(InvitationPending))))
		if err != nil {
			return 0, err
		}
		n := 0
		for _, r := range open {
			_, err := h.setStatus(ctx, r.ID, 0, OpInvitationCancel, func(inv *Invitation) error {
				if inv.Status != InvitationPending {
					return errNoChange
				}
				inv.Status = InvitationCancelled
				return nil
			})
			switch {
			case errors.Is(err, errNoChange), isNotFound(err):
			case err != nil:
				return n, err
			default:
				n++
			}
		}
		return n, nil
	})
}

// Accept accepts a pending invitation: its user becomes active (from
// invited or provisioned; an active user stays so) and the invitation
// accepted. The user is written first, so an Accept cut short leaves an
// active user whose invitation a second Accept completes. An expired,
// cancelled or accepted invitation, or a user in another status, is an
// ErrInvalidTransition. It returns the user.
func (h *Invitations) Accept(ctx context.Context, id string) (User, error) {
	return observe(ctx, h.d, OpInvitationAccept, h.tenant, id, func() (User, error) {
		if err := validTenant(h.tenant); err != nil {
			return User{}, err
		}
		_, inv, err := getRecord[*Invitation](ctx, h.d, h.tenant, h.d.k.invitations, id)
		if err != nil {
			return User{}, err
		}
		if inv.Status != InvitationPending {
			return User{}, &TransitionError{Of: "invitation", From: Status(inv.Status), To: Status(InvitationAccepted)}
		}
		users := h.d.Users(h.tenant)
		u, err := users.modify(ctx, inv.UserID, 0, OpInvitationAccept, func(doc *userDoc) error {
			switch {
			case doc.Anonymized:
				return &TransitionError{From: StatusAnonymized, To: StatusActive}
			case doc.Status == StatusActive:
				return errNoChange
			case doc.Status != StatusInvited && doc.Status != StatusProvisioned:
				return &TransitionError{From: doc.Status, To: StatusActive}
			}
			doc.Status = StatusActive
			return nil
		})
		if err != nil {
			return User{}, err
		}
		_, err = h.setStatus(ctx, id, 0, OpInvitationAccept, func(inv *Invitation) error {
			if inv.Status != InvitationPending {
				return &TransitionError{Of: "invitation", From: Status(inv.Status), To: Status(InvitationAccepted)}
			}
			inv.Status, inv.Accepted = InvitationAccepted, h.d.now().UTC()
			return nil
		})
		return u, err
	})
}
