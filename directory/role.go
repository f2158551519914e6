package directory

import (
	"context"
	"fmt"
	"slices"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Role is a named set of permissions of one tenant. Users name roles by id
// in roles[].value and groups in Roles; a user's effective permissions are
// the union over its roles and its groups' roles (Users.Permissions).
type Role struct {
	ID          string   `json:"id,omitempty"`
	Name        string   `json:"name,omitempty"` // unique per tenant, case-insensitively
	Description string   `json:"description,omitempty"`
	Permissions []string `json:"permissions,omitempty"` // compared exactly
	Meta        Meta     `json:"meta,omitzero"`
}

// MaxPermissions bounds the permissions of one role.
const MaxPermissions = 1000

// maxPermissionLen bounds one permission name.
const maxPermissionLen = 256

// Clone returns a deep copy of r.
func (r Role) Clone() Role {
	r.Permissions = slices.Clone(r.Permissions)
	return r
}

func (r Role) recordID() string { return r.ID }

// RoleURN is the schema URN of roles.
const RoleURN = "urn:userdir:schemas:Role"

var roleSchema = query.NewSchema(RoleURN, []query.AttrDef{
	idAttr(),
	{Name: "name", Type: query.TypeString, Required: true},
	strAttr("description"),
	{Name: "permissions", Type: query.TypeString, Multi: true, CaseExact: true},
	metaSchema,
})

var rolesKind = backend.Kind{
	Name:   rolesKindName,
	Schema: roleSchema,
	Codec:  jsonCodec[Role, *Role]{name: "role"},
	Indexes: []backend.Index{
		{Name: "name", Attr: "name", Unique: true},
		{Name: "permissions", Attr: "permissions"},
		{Name: "created", Attr: "meta.created"},
	},
}

// Attr exposes the role's attributes to the query package: id, name,
// description, permissions and meta.
func (r *Role) Attr(name string) any {
	switch name {
	case "id":
		return str(&r.ID)
	case "name":
		return str(&r.Name)
	case "description":
		return str(&r.Description)
	case "permissions":
		if len(r.Permissions) == 0 {
			return nil
		}
		return r.Permissions
	case "meta":
		return metaAttrs{&r.Meta}
	}
	return nil
}

// validateRole checks the caller-writable fields of a role.
func validateRole(r *Role) error {
	if r.ID != "" {
		if err := validID("id", r.ID); err != nil {
			return err
		}
	}
	if err := checkString("name", r.Name, MaxStringLen); err != nil {
		return err
	}
	if r.Name == "" {
		return fieldErr("name", "required")
	}
	if err := checkString("description", r.Description, MaxStringLen); err != nil {
		return err
	}
	return checkNames("permissions", r.Permissions, MaxPermissions, maxPermissionLen)
}

// checkNames checks a list of names: at most max, each 1 to maxLen bytes
// of text, none repeated.
func checkNames(field string, names []string, max, maxLen int) error {
	if len(names) > max {
		return fieldErr(field, "more than %d values", max)
	}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		f := fmt.Sprintf("%s[%d]", field, i)
		if n == "" {
			return fieldErr(f, "empty")
		}
		if err := checkString(f, n, maxLen); err != nil {
			return err
		}
		if seen[n] {
			return fieldErr(f, "%q listed twice", n)
		}
		seen[n] = true
	}
	return nil
}

func toRole(rec backend.Record) Role {
	r := rec.Doc.(*Role).Clone()
	r.Meta.Version = rec.Version
	return r
}

// Roles is the handle for the roles of one tenant.
type Roles struct {
	d      *Directory
	tenant string
}

// Roles returns the handle for the roles of one tenant.
func (d *Directory) Roles(tenant string) *Roles { return &Roles{d: d, tenant: tenant} }

// Create validates r and stores it as a new role, with the id given or a
// new one. A name or id already taken is ErrAlreadyExists.
func (h *Roles) Create(ctx context.Context, r Role) (Role, error) {
	return observe(ctx, h.d, OpRoleCreate, h.tenant, r.ID, func() (Role, error) {
		if err := validTenant(h.tenant); err != nil {
			return Role{}, err
		}
		nr := r.Clone()
		if err := validateRole(&nr); err != nil {
			return Role{}, err
		}
		if nr.ID == "" {
			nr.ID = h.d.newID()
		}
		if len(nr.Permissions) == 0 {
			nr.Permissions = nil
		}
		nr.Meta = newMeta(h.d.now().UTC())
		rec, err := h.d.create(ctx, h.tenant, rolesKindName, nr.ID, &nr)
		if err != nil {
			return Role{}, err
		}
		out := toRole(rec)
		return out, h.d.audit(ctx, h.tenant, AuditEntry{Action: OpRoleCreate, Kind: rolesKindName, Target: out.ID, Changes: h.d.changes(nil, &nr)})
	})
}

// Get returns the role with the given id.
func (h *Roles) Get(ctx context.Context, id string) (Role, error) {
	return getOne[Role, *Role](ctx, h.d, h.tenant, h.d.k.roles, OpRoleGet, id, toRole)
}

// List returns one page of the tenant's roles that match opts (filters
// and sorts name id, name, description, permissions and meta).
func (h *Roles) List(ctx context.Context, opts ListOptions) (PageOf[Role], error) {
	return observe(ctx, h.d, OpRoleList, h.tenant, "", func() (PageOf[Role], error) {
		return listKind(ctx, h.d, h.tenant, h.d.k.roles, opts, toRole, Role.Clone)
	})
}

// Count returns how many roles match filter ("" for all).
func (h *Roles) Count(ctx context.Context, filter string) (int, error) {
	return observe(ctx, h.d, OpRoleCount, h.tenant, "", func() (int, error) {
		return countKind(ctx, h.d, h.tenant, h.d.k.roles, filter)
	})
}

// Update reads the role, calls fn with a copy, validates the result and
// writes it back, like Users.Update: retried on a concurrent write unless
// IfVersion is given. id and meta are read-only.
func (h *Roles) Update(ctx context.Context, id string, fn func(*Role) error, opts ...WriteOption) (Role, error) {
	return observe(ctx, h.d, OpRoleUpdate, h.tenant, id, func() (Role, error) {
		if err := validTenant(h.tenant); err != nil {
			return Role{}, err
		}
		wc := writeOptions(opts)
		cur, out, err := h.d.update(ctx, h.tenant, h.d.k.roles, id, wc.ifVersion, func(rec backend.Record) (backend.Document, error) {
			old := toRole(rec)
			r := old.Clone()
			if err := fn(&r); err != nil {
				return nil, err
			}
			r.ID, r.Meta = old.ID, old.Meta
			if err := validateRole(&r); err != nil {
				return nil, err
			}
			if len(r.Permissions) == 0 {
				r.Permissions = nil
			}
			r.Meta.Version = rec.Version + 1
			r.Meta.LastModified = h.d.now().UTC()
			return &r, nil
		})
		if err != nil {
			return Role{}, err
		}
		return toRole(out), h.d.audit(ctx, h.tenant, AuditEntry{Action: OpRoleUpdate, Kind: rolesKindName, Target: id, Changes: h.d.changes(cur.Doc, out.Doc)})
	})
}

// Delete removes the role and takes it away from every user (deleted ones
// too) and every group that has it. The references go first and the role
// last, so a Delete cut short leaves the role in place and calling it
// again finishes the work; a user given the role while it is being
// deleted may keep a reference to it, which every read ignores.
func (h *Roles) Delete(ctx context.Context, id string, opts ...WriteOption) error {
	return observeErr(ctx, h.d, OpRoleDelete, h.tenant, id, func() error {
		if err := validTenant(h.tenant); err != nil {
			return err
		}
		wc := writeOptions(opts)
		rec, _, err := getRecord[*Role](ctx, h.d, h.tenant, h.d.k.roles, id)
		if err != nil {
			return err
		}
		if wc.ifVersion != 0 && rec.Version != wc.ifVersion {
			return &backend.Error{Op: "delete", Kind: rolesKindName, ID: id, Err: ErrConflict}
		}
		users := h.d.Users(h.tenant)
		holders, err := h.d.find(ctx, h.tenant, h.d.k.users, eq("roles.value", id))
		if err != nil {
			return err
		}
		for _, u := range holders {
			_, err := users.modify(ctx, u.ID, 0, OpRoleDelete, func(doc *userDoc) error {
				doc.Roles = slices.DeleteFunc(doc.Roles, func(r RoleRef) bool { return r.Value == id })
				return nil
			})
			if err != nil && !isNotFound(err) {
				return err
			}
		}
		groups, err := h.d.find(ctx, h.tenant, h.d.k.groups, eq("roles", id))
		if err != nil {
			return err
		}
		for _, g := range groups {
			_, err := h.d.Groups(h.tenant).modify(ctx, g.ID, 0, OpRoleDelete, func(gr *Group) error {
				gr.Roles = slices.DeleteFunc(gr.Roles, func(r string) bool { return r == id })
				return nil
			})
			if err != nil && !isNotFound(err) {
				return err
			}
		}
		if err := h.d.delete(ctx, h.tenant, rolesKindName, id, rec.Version); err != nil {
			return err
		}
		return h.d.audit(ctx, h.tenant, AuditEntry{Action: OpRoleDelete, Kind: rolesKindName, Target: id, Changes: h.d.changes(rec.Doc, nil)})
	})
}

// checkRoles reports a *FieldError unless every role refs name that is
// not in had exists in the tenant. Roles a user already had are not
// checked again: one deleted meanwhile does not block other changes.
func (d *Directory) checkRoles(ctx context.Context, tenant string, refs []RoleRef, had []RoleRef) error {
	for i, r := range refs {
		if slices.ContainsFunc(had, func(o RoleRef) bool { return o.Value == r.Value }) {
			continue
		}
		if _, err := d.b.Get(ctx, tenant, rolesKindName, r.Value); err != nil {
			if isNotFound(err) {
				return fieldErr(fmt.Sprintf("roles[%d].value", i), "role %q does not exist", r.Value)
			}
			return err
		}
	}
	return nil
}

// rolesByID reads the roles with the given ids in one query, in id order;
// ids that name no role are left out.
func (d *Directory) rolesByID(ctx context.Context, tenant string, ids []string) ([]Role, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	recs, err := d.find(ctx, tenant, d.k.roles, in("id", ids))
	if err != nil {
		return nil, err
	}
	out := make([]Role, len(recs))
	for i, r := range recs {
		out[i] = toRole(r)
	}
	return out, nil
}

// rolesOf returns the roles the users name, read in one query.
func (h *Users) rolesOf(ctx context.Context, users []User) ([]Role, error) {
	var ids []string
	for _, u := range users {
		for _, r := range u.Roles {
			ids = append(ids, r.Value)
		}
	}
	slices.Sort(ids)
	return h.d.rolesByID(ctx, h.tenant, slices.Compact(ids))
}
