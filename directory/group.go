package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Group is a named set of users of one tenant, which may hold roles: its
// members get the permissions of its roles. Membership is kept apart from
// the group (one record per member, so a group of any size costs one
// small write per change) and mirrored on each member as a read-only
// groups[] entry {value: group id, display: group displayName}, which user
// filters can name (`groups.display eq "Engineering"`).
type Group struct {
	ID          string   `json:"id,omitempty"`          // no '~'
	DisplayName string   `json:"displayName,omitempty"` // unique per tenant, case-insensitively
	Roles       []string `json:"roles,omitempty"`       // role ids
	Meta        Meta     `json:"meta,omitzero"`
}

// Clone returns a deep copy of g.
func (g Group) Clone() Group {
	g.Roles = slices.Clone(g.Roles)
	return g
}

func (g Group) recordID() string { return g.ID }

// Attr exposes the group's attributes to the query package: id,
// displayName, roles and meta.
func (g *Group) Attr(name string) any {
	switch name {
	case "id":
		return str(&g.ID)
	case "displayName":
		return str(&g.DisplayName)
	case "roles":
		if len(g.Roles) == 0 {
			return nil
		}
		return g.Roles
	case "meta":
		return metaAttrs{&g.Meta}
	}
	return nil
}

// Member is one user's membership of one group.
type Member struct {
	ID      string    `json:"id"` // groupID "~" userID
	GroupID string    `json:"group"`
	UserID  string    `json:"user"`
	Added   time.Time `json:"added"`
}

// Clone returns a copy of m.
func (m Member) Clone() Member { return m }

func (m Member) recordID() string { return m.ID }

// Attr exposes the membership's attributes to the query package: id,
// group, user and added.
func (m *Member) Attr(name string) any {
	switch name {
	case "id":
		return str(&m.ID)
	case "group":
		return str(&m.GroupID)
	case "user":
		return str(&m.UserID)
	case "added":
		return m.Added
	}
	return nil
}

// GroupURN is the schema URN of groups: SCIM's core Group.
const GroupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"

// memberURN is the schema URN of memberships.
const memberURN = "urn:userdir:schemas:Member"

var groupSchema = query.NewSchema(GroupURN, []query.AttrDef{
	idAttr(),
	{Name: "displayName", Type: query.TypeString, Required: true},
	{Name: "roles", Type: query.TypeString, Multi: true, CaseExact: true},
	metaSchema,
})

var groupsKind = backend.Kind{
	Name:   groupsKindName,
	Schema: groupSchema,
	Codec:  jsonCodec[Group, *Group]{name: "group"},
	Indexes: []backend.Index{
		{Name: "displayName", Attr: "displayName", Unique: true},
		{Name: "roles", Attr: "roles"},
		{Name: "created", Attr: "meta.created"},
	},
}

var memberSchema = query.NewSchema(memberURN, []query.AttrDef{
	idAttr(), exactAttr("group", true), exactAttr("user", true), timeAttr("added", true),
})

var membersKind = backend.Kind{
	Name:   membersKindName,
	Schema: memberSchema,
	Codec:  jsonCodec[Member, *Member]{name: "member"},
	Indexes: []backend.Index{
		{Name: "group", Attr: "group"},
		{Name: "user", Attr: "user"},
	},
}

// memberID is the id of the membership of user in group. Group ids have
// no '~', so the id names one pair.
func memberID(group, user string) string { return group + "~" + user }

func validGroupID(id string) error {
	if err := validID("id", id); err != nil {
		return err
	}
	if strings.IndexByte(id, '~') >= 0 {
		return fieldErr("id", "a group id cannot contain '~'")
	}
	return nil
}

func toGroup(rec backend.Record) Group {
	g := rec.Doc.(*Group).Clone()
	g.Meta.Version = rec.Version
	return g
}

func toMember(rec backend.Record) Member { return *rec.Doc.(*Member) }

// BulkResult is the outcome of a bulk operation for one of its items.
type BulkResult struct {
	ID  string // the item: a user id
	Err error  // nil on success
}

// Groups is the handle for the groups of one tenant.
type Groups struct {
	d      *Directory
	tenant string
}

// Groups returns the handle for the groups of one tenant.
func (d *Directory) Groups(tenant string) *Groups { return &Groups{d: d, tenant: tenant} }

// checkGroup validates the caller-writable fields of a group and that the
// roles it adds (those not in had) exist.
func (h *Groups) checkGroup(ctx context.Context, g *Group, had []string) error {
	if g.ID != "" {
		if err := validGroupID(g.ID); err != nil {
			return err
		}
	}
	if err := checkString("displayName", g.DisplayName, MaxStringLen); err != nil {
		return err
	}
	if strings.TrimSpace(g.DisplayName) == "" {
		return fieldErr("displayName", "required")
	}
	if err := checkNames("roles", g.Roles, MaxListLen, MaxIDLen); err != nil {
		return err
	}
	refs := make([]RoleRef, len(g.Roles))
	for i, r := range g.Roles {
		if err := validID(fmt.Sprintf("roles[%d]", i), r); err != nil {
			return err
		}
		refs[i] = RoleRef{Value: r}
	}
	old := make([]RoleRef, len(had))
	for i, r := range had {
		old[i] = RoleRef{Value: r}
	}
	if err := h.d.checkRoles(ctx, h.tenant, refs, old); err != nil {
		// The roles of a group are ids, not references with a value.
		var fe *FieldError
		if errors.As(err, &fe) {
			return &FieldError{Field: strings.TrimSuffix(fe.Field, ".value"), Msg: fe.Msg}
		}
		return err
	}
	if len(g.Roles) == 0 {
		g.Roles = nil
	}
	return nil
}

// Create validates g and stores it as a new group, with the id given or a
// new one. Its roles must exist. A displayName or id already taken is
// ErrAlreadyExists.
func (h *Groups) Create(ctx context.Context, g Group) (Group, error) {
	return observe(ctx, h.d, OpGroupCreate, h.tenant, g.ID, func() (Group, error) {
		if err := validTenant(h.tenant); err != nil {
			return Group{}, err
		}
		ng := g.Clone()
		if err := h.checkGroup(ctx, &ng, nil); err != nil {
			return Group{}, err
		}
		if ng.ID == "" {
			ng.ID = h.d.newID()
		}
		ng.Meta = newMeta(h.d.now().UTC())
		rec, err := h.d.create(ctx, h.tenant, groupsKindName, ng.ID, &ng)
		if err != nil {
			return Group{}, err
		}
		out := toGroup(rec)
		return out, h.d.audit(ctx, h.tenant, AuditEntry{Action: OpGroupCreate, Kind: groupsKindName, Target: out.ID, Changes: h.d.changes(nil, &ng)})
	})
}

// Get returns the group with the given id.
func (h *Groups) Get(ctx context.Context, id string) (Group, error) {
	return getOne[Group, *Group](ctx, h.d, h.tenant, h.d.k.groups, OpGroupGet, id, toGroup)
}

// List returns one page of the tenant's groups that match opts (filters
// and sorts name id, displayName, roles and meta).
func (h *Groups) List(ctx context.Context, opts ListOptions) (PageOf[Group], error) {
	return observe(ctx, h.d, OpGroupList, h.tenant, "", func() (PageOf[Group], error) {
		return listKind(ctx, h.d, h.tenant, h.d.k.groups, opts, toGroup, Group.Clone)
	})
}

// Count returns how many groups match filter ("" for all).
func (h *Groups) Count(ctx context.Context, filter string) (int, error) {
	return observe(ctx, h.d, OpGroupCount, h.tenant, "", func() (int, error) {
		return countKind(ctx, h.d, h.tenant, h.d.k.groups, filter)
	})
}

// Update reads the group, calls fn with a copy, validates the result and
// writes it back, like Users.Update. Roles it adds must exist. Renaming
// the group then updates the groups[].display of every member: the group
// is written first, so a rename cut short leaves members showing the old
// name until AddMembers or another rename reaches them.
func (h *Groups) Update(ctx context.Context, id string, fn func(*Group) error, opts ...WriteOption) (Group, error) {
	return observe(ctx, h.d, OpGroupUpdate, h.tenant, id, func() (Group, error) {
		if err := validTenant(h.tenant); err != nil {
			return Group{}, err
		}
		var before string
		g, err := h.modify(ctx, id, writeOptions(opts).ifVersion, OpGroupUpdate, func(g *Group) error {
			before = g.DisplayName
			had := slices.Clone(g.Roles)
			if err := fn(g); err != nil {
				return err
			}
			return h.checkGroup(ctx, g, had)
		})
		if err != nil || g.DisplayName == before {
			return g, err
		}
		return g, h.syncDisplay(ctx, g)
	})
}

// modify is the read-modify-write of a group, audited as op.
func (h *Groups) modify(ctx context.Context, id string, ifVersion int64, op Op, fn func(*Group) error) (Group, error) {
	cur, out, err := h.d.update(ctx, h.tenant, h.d.k.groups, id, ifVersion, func(rec backend.Record) (backend.Document, error) {
		old := toGroup(rec)
		g := old.Clone()
		if err := fn(&g); err != nil {
			return nil, err
		}
		g.ID, g.Meta = old.ID, old.Meta
		g.Meta.Version = rec.Version + 1
		g.Meta.LastModified = h.d.now().UTC()
		return &g, nil
	})
	if err != nil {
		return Group{}, err
	}
	return toGroup(out), h.d.audit(ctx, h.tenant, AuditEntry{Action: op, Kind: groupsKindName, Target: id, Changes: h.d.changes(cur.Doc, out.Doc)})
}

// syncDisplay sets the groups[].display of every member of g to g's
// displayName.
func (h *Groups) syncDisplay(ctx context.Context, g Group) error {
	members, err := h.d.find(ctx, h.tenant, h.d.k.members, eq("group", g.ID))
	if err != nil {
		return err
	}
	users := h.d.Users(h.tenant)
	for _, m := range members {
		err := users.setGroupRef(ctx, toMember(m).UserID, g.ID, g.DisplayName)
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// Delete removes the group: every membership first (each member's
// groups[] entry, then its membership record), then the group itself, so
// a Delete cut short leaves the group in place and calling it again
// finishes the work.
func (h *Groups) Delete(ctx context.Context, id string, opts ...WriteOption) error {
	return observeErr(ctx, h.d, OpGroupDelete, h.tenant, id, func() error {
		if err := validTenant(h.tenant); err != nil {
			return err
		}
		rec, _, err := getRecord[*Group](ctx, h.d, h.tenant, h.d.k.groups, id)
		if err != nil {
			return err
		}
		if v := writeOptions(opts).ifVersion; v != 0 && rec.Version != v {
			return &backend.Error{Op: "delete", Kind: groupsKindName, ID: id, Err: ErrConflict}
		}
		members, err := h.d.find(ctx, h.tenant, h.d.k.members, eq("group", id))
		if err != nil {
			return err
		}
		for _, m := range members {
			if _, err := h.removeMember(ctx, id, toMember(m).UserID); err != nil && !isNotFound(err) {
				return err
			}
		}
		if err := h.d.delete(ctx, h.tenant, groupsKindName, id, rec.Version); err != nil {
			return err
		}
		return h.d.audit(ctx, h.tenant, AuditEntry{Action: OpGroupDelete, Kind: groupsKindName, Target: id, Changes: h.d.changes(rec.Doc, nil)})
	})
}

// AddMembers adds users to the group, each on its own: the result for a
// user is nil when it is a member afterwards (adding a member again is
// not an error), ErrNotFound when there is no such user, and an
// ErrInvalidTransition when the user is deleted. The error is for the
// whole call (no such group, an invalid tenant).
//
// For each user the membership record is written first and the user's
// groups[] entry second, so a failure in between leaves a membership the
// user does not show yet, which adding the user again repairs.
func (h *Groups) AddMembers(ctx context.Context, groupID string, userIDs ...string) ([]BulkResult, error) {
	return observe(ctx, h.d, OpGroupAddMembers, h.tenant, groupID, func() ([]BulkResult, error) {
		if err := validTenant(h.tenant); err != nil {
			return nil, err
		}
		if len(userIDs) > MaxLimit {
			return nil, fieldErr("members", "more than %d users at once", MaxLimit)
		}
		_, g, err := getRecord[*Group](ctx, h.d, h.tenant, h.d.k.groups, groupID)
		if err != nil {
			return nil, err
		}
		out := make([]BulkResult, len(userIDs))
		for i, uid := range userIDs {
			out[i] = BulkResult{ID: uid, Err: h.addMember(ctx, g, uid)}
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		return out, nil
	})
}

func (h *Groups) addMember(ctx context.Context, g *Group, uid string) error {
	if err := validID("id", uid); err != nil {
		return err
	}
	users := h.d.Users(h.tenant)
	rec, err := users.get(ctx, uid)
	if err != nil {
		return err
	}
	if s := rec.Doc.(*userDoc).Status; s == StatusDeleted {
		return &TransitionError{From: s, To: "member"}
	}
	m := &Member{ID: memberID(g.ID, uid), GroupID: g.ID, UserID: uid, Added: h.d.now().UTC()}
	_, err = h.d.create(ctx, h.tenant, membersKindName, m.ID, m)
	added := err == nil
	if err != nil && !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	if err := users.setGroupRef(ctx, uid, g.ID, g.DisplayName); err != nil {
		return err
	}
	if !added {
		return nil
	}
	return h.d.audit(ctx, h.tenant, AuditEntry{Action: OpGroupAddMembers, Kind: groupsKindName, Target: g.ID, User: uid,
		Changes: []Change{{Field: "members", New: jsonValue(uid)}}})
}

// RemoveMembers removes users from the group, each on its own: the result
// for a user is nil when it is no longer a member, and ErrNotFound when it
// was not one. It does not need the group to exist, so it can finish a
// Delete cut short.
//
// For each user the groups[] entry goes first and the membership record
// second, so every entry a user shows has its membership record.
func (h *Groups) RemoveMembers(ctx context.Context, groupID string, userIDs ...string) ([]BulkResult, error) {
	return observe(ctx, h.d, OpGroupRemoveMembers, h.tenant, groupID, func() ([]BulkResult, error) {
		if err := validTenant(h.tenant); err != nil {
			return nil, err
		}
		if err := validGroupID(groupID); err != nil {
			return nil, err
		}
		if len(userIDs) > MaxLimit {
			return nil, fieldErr("members", "more than %d users at once", MaxLimit)
		}
		out := make([]BulkResult, len(userIDs))
		for i, uid := range userIDs {
			removed, err := h.removeMember(ctx, groupID, uid)
			if err == nil && !removed {
				err = &backend.Error{Op: "remove member", Kind: membersKindName, ID: memberID(groupID, uid), Err: ErrNotFound}
			}
			out[i] = BulkResult{ID: uid, Err: err}
			if err := ctx.Err(); err != nil {
				return out, err
			}
		}
		return out, nil
	})
}

// removeMember takes uid out of the group and reports whether it was a
// member (by record or by entry).
func (h *Groups) removeMember(ctx context.Context, groupID, uid string) (bool, error) {
	if err := validID("id", uid); err != nil {
		return false, err
	}
	hadRef, err := h.d.Users(h.tenant).dropGroupRef(ctx, uid, groupID)
	if err != nil && !isNotFound(err) {
		return false, err
	}
	err = h.d.delete(ctx, h.tenant, membersKindName, memberID(groupID, uid), 0)
	switch {
	case isNotFound(err):
		return hadRef, nil
	case err != nil:
		return hadRef, err
	}
	return true, h.d.audit(ctx, h.tenant, AuditEntry{Action: OpGroupRemoveMembers, Kind: groupsKindName, Target: groupID, User: uid,
		Changes: []Change{{Field: "members", Old: jsonValue(uid)}}})
}

// Members returns one page of the group's memberships (filters and sorts
// name id, group, user and added). ErrNotFound when there is no such
// group.
func (h *Groups) Members(ctx context.Context, groupID string, opts ListOptions) (PageOf[Member], error) {
	return observe(ctx, h.d, OpGroupMembers, h.tenant, groupID, func() (PageOf[Member], error) {
		if err := validTenant(h.tenant); err != nil {
			return PageOf[Member]{}, err
		}
		if _, _, err := getRecord[*Group](ctx, h.d, h.tenant, h.d.k.groups, groupID); err != nil {
			return PageOf[Member]{}, err
		}
		return listKind(ctx, h.d, h.tenant, h.d.k.members, opts, toMember, Member.Clone, eq("group", groupID))
	})
}

// groupsOf returns the ids of the groups a user is a member of, from its
// membership records (the authoritative side), in id order.
func (d *Directory) groupsOf(ctx context.Context, tenant, uid string) ([]string, error) {
	recs, err := d.find(ctx, tenant, d.k.members, eq("user", uid))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = toMember(r).GroupID
	}
	return out, nil
}
