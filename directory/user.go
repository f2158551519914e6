package directory

import (
	"maps"
	"slices"
	"time"

	"github.com/userdir/userdir/query"
)

// Status is a user's lifecycle state.
type Status string

// The lifecycle states (DESIGN §2).
const (
	StatusInvited     Status = "invited"
	StatusProvisioned Status = "provisioned"
	StatusActive      Status = "active"
	StatusDisabled    Status = "disabled"
	StatusDeleted     Status = "deleted"
)

// StatusAnonymized is not a status a user has: an anonymized user is
// deleted for good (its status reads deleted). A *TransitionError names it
// as From when a call would change an anonymized user.
const StatusAnonymized Status = "anonymized"

// User is a member of a tenant. Its JSON form uses the SCIM core User
// attribute names, so a SCIM client's JSON round-trips; the enterprise
// extension lives under its URN key.
//
// Read-only fields (Schemas, Active, Groups, Meta) are computed by the
// directory; values a caller sets in them are ignored on write, except
// that Create and Import read Active when Status is empty.
type User struct {
	Schemas      []string        `json:"schemas,omitempty"`
	ID           string          `json:"id,omitempty"`
	ExternalID   string          `json:"externalId,omitempty"`
	Subject      string          `json:"subject,omitempty"`
	UserName     string          `json:"userName,omitempty"`
	Name         Name            `json:"name,omitzero"`
	DisplayName  string          `json:"displayName,omitempty"`
	NickName     string          `json:"nickName,omitempty"`
	Title        string          `json:"title,omitempty"`
	UserType     string          `json:"userType,omitempty"`
	Locale       string          `json:"locale,omitempty"`
	Timezone     string          `json:"timezone,omitempty"`
	Emails       []Email         `json:"emails,omitempty"`
	PhoneNumbers []PhoneNumber   `json:"phoneNumbers,omitempty"`
	Status       Status          `json:"status,omitempty"`
	Active       *bool           `json:"active,omitempty"`
	Roles        []RoleRef       `json:"roles,omitempty"`
	Groups       []GroupRef      `json:"groups,omitempty"`
	Claims       map[string]any  `json:"claims,omitempty"`
	Enterprise   *EnterpriseUser `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	LastLoginAt  time.Time       `json:"lastLoginAt,omitzero"`
	Meta         Meta            `json:"meta,omitzero"`
}

// Name is the components of a user's name.
type Name struct {
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	MiddleName string `json:"middleName,omitempty"`
	Formatted  string `json:"formatted,omitempty"`
}

// Email is one of a user's email addresses.
type Email struct {
	Value    string `json:"value,omitempty"`
	Type     string `json:"type,omitempty"`
	Primary  bool   `json:"primary,omitempty"`
	Verified bool   `json:"verified,omitempty"`
}

// PhoneNumber is one of a user's phone numbers.
type PhoneNumber struct {
	Value string `json:"value,omitempty"`
	Type  string `json:"type,omitempty"`
}

// RoleRef assigns a role of the tenant to a user. Value is the role's id.
type RoleRef struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// GroupRef is a group the user is a member of. It is read-only on the
// user: membership is managed through groups, and Display is the group's
// display name.
type GroupRef struct {
	Value   string `json:"value,omitempty"`
	Display string `json:"display,omitempty"`
}

// EnterpriseUser is the SCIM enterprise extension.
type EnterpriseUser struct {
	EmployeeNumber string  `json:"employeeNumber,omitempty"`
	CostCenter     string  `json:"costCenter,omitempty"`
	Organization   string  `json:"organization,omitempty"`
	Division       string  `json:"division,omitempty"`
	Department     string  `json:"department,omitempty"`
	Manager        Manager `json:"manager,omitzero"`
}

// Manager is a reference to a user's manager.
type Manager struct {
	Value       string `json:"value,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// Meta is the record's bookkeeping, maintained by the directory.
type Meta struct {
	Created      time.Time `json:"created,omitzero"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Version      int64     `json:"version,omitempty"`
}

func (u User) recordID() string { return u.ID }

// IsActive reports whether the user's status is active.
func (u *User) IsActive() bool { return u.Status == StatusActive }

// Clone returns a deep copy of u: no slice, map or pointer is shared.
func (u User) Clone() User {
	var c User
	u.cloneInto(&c, false)
	return c
}

// cloneInto sets *c to a deep copy of *u, without copying the User on
// the way. scalarClaims says that no claim holds an object or an array
// (see userDoc), so that a shallow copy of the claims is a deep one.
func (u *User) cloneInto(c *User, scalarClaims bool) {
	*c = *u
	c.Schemas = slices.Clone(u.Schemas)
	c.Emails = slices.Clone(u.Emails)
	c.PhoneNumbers = slices.Clone(u.PhoneNumbers)
	c.Roles = slices.Clone(u.Roles)
	c.Groups = slices.Clone(u.Groups)
	if u.Active != nil {
		a := *u.Active
		c.Active = &a
	}
	if u.Enterprise != nil {
		e := *u.Enterprise
		c.Enterprise = &e
	}
	if scalarClaims {
		c.Claims = maps.Clone(u.Claims)
	} else {
		c.Claims = cloneClaims(u.Claims)
	}
}

// hasScalarClaims reports whether no claim of m holds an object or an
// array.
func hasScalarClaims(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func cloneClaims(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneJSON(v)
	}
	return c
}

func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return cloneClaims(v)
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = cloneJSON(e)
		}
		return c
	default:
		return v
	}
}

// hasEnterprise reports whether u has enterprise extension attributes.
func hasEnterprise(u *User) bool {
	return u.Enterprise != nil && *u.Enterprise != (EnterpriseUser{})
}

// schemasOf computes the read-only schemas attribute.
func schemasOf(u *User) []string {
	if hasEnterprise(u) {
		return []string{query.UserURN, query.EnterpriseURN}
	}
	return []string{query.UserURN}
}

// userDoc is the document the directory stores for a user: the user as
// validated and normalized, plus the status to restore after a soft delete.
// Stored documents are immutable.
type userDoc struct {
	User
	// RestoreTo is the status a deleted user had before Delete.
	RestoreTo Status `json:"restoreTo,omitempty"`
	// Anonymized marks a user Anonymize erased: deleted for good.
	Anonymized bool `json:"anonymized,omitempty"`
	// scalarClaims is set by seal when no claim holds an object or an
	// array, so that a copy for a caller copies the claims map as it is
	// (maps.Clone) instead of rebuilding it entry by entry. It is left
	// false wherever it is unknown, which only costs that speed.
	scalarClaims bool
}

var (
	_ query.Resource = (*userDoc)(nil)
	_ query.Resource = (*User)(nil)
)

// Attr exposes the user's attributes to the query package by their SCIM
// names, so query.Eval can evaluate a filter on a User. Empty strings and
// empty lists read as unassigned.
func (u *User) Attr(name string) any {
	switch name {
	case "id":
		return str(&u.ID)
	case "externalId":
		return str(&u.ExternalID)
	case "subject":
		return str(&u.Subject)
	case "userName":
		return str(&u.UserName)
	case "name":
		if u.Name == (Name{}) {
			return nil
		}
		return nameAttrs{&u.Name}
	case "displayName":
		return str(&u.DisplayName)
	case "nickName":
		return str(&u.NickName)
	case "title":
		return str(&u.Title)
	case "userType":
		return str(&u.UserType)
	case "locale":
		return str(&u.Locale)
	case "timezone":
		return str(&u.Timezone)
	case "emails":
		if len(u.Emails) == 0 {
			return nil
		}
		return emailList(u.Emails)
	case "phoneNumbers":
		if len(u.PhoneNumbers) == 0 {
			return nil
		}
		return phoneList(u.PhoneNumbers)
	case "status":
		return str((*string)(&u.Status))
	case "active":
		return u.Status == StatusActive
	case "roles":
		if len(u.Roles) == 0 {
			return nil
		}
		return roleList(u.Roles)
	case "groups":
		if len(u.Groups) == 0 {
			return nil
		}
		return groupList(u.Groups)
	case "claims":
		if len(u.Claims) == 0 {
			return nil
		}
		return u.Claims
	case "schemas":
		return schemasOf(u)
	case "lastLoginAt":
		return instant(&u.LastLoginAt)
	case "meta":
		return metaAttrs{&u.Meta}
	case query.EnterpriseURN:
		if u.Enterprise == nil {
			return nil
		}
		return enterpriseAttrs{u.Enterprise}
	}
	return nil
}

// str hands out a string field, by pointer so that no copy is boxed; the
// empty string is unassigned, the normalization of DESIGN §2.
func str(s *string) any {
	if *s == "" {
		return nil
	}
	return s
}

// instant hands out a time field by pointer; the zero time is unassigned.
func instant(t *time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

type nameAttrs struct{ n *Name }

func (a nameAttrs) Attr(name string) any {
	switch name {
	case "givenName":
		return str(&a.n.GivenName)
	case "familyName":
		return str(&a.n.FamilyName)
	case "middleName":
		return str(&a.n.MiddleName)
	case "formatted":
		return str(&a.n.Formatted)
	}
	return nil
}

type metaAttrs struct{ m *Meta }

func (a metaAttrs) Attr(name string) any {
	switch name {
	case "created":
		return instant(&a.m.Created)
	case "lastModified":
		return instant(&a.m.LastModified)
	case "version":
		return a.m.Version
	}
	return nil
}

type emailList []Email

func (l emailList) Len() int { return len(l) }
func (l emailList) At(i int) any {
	return emailAttrs{&l[i]}
}

type emailAttrs struct{ e *Email }

func (a emailAttrs) Attr(name string) any {
	switch name {
	case "value":
		return str(&a.e.Value)
	case "type":
		return str(&a.e.Type)
	case "primary":
		return a.e.Primary
	case "verified":
		return a.e.Verified
	}
	return nil
}

type phoneList []PhoneNumber

func (l phoneList) Len() int { return len(l) }
func (l phoneList) At(i int) any {
	return phoneAttrs{&l[i]}
}

type phoneAttrs struct{ p *PhoneNumber }

func (a phoneAttrs) Attr(name string) any {
	switch name {
	case "value":
		return str(&a.p.Value)
	case "type":
		return str(&a.p.Type)
	}
	return nil
}

type roleList []RoleRef

func (l roleList) Len() int { return len(l) }
func (l roleList) At(i int) any {
	return roleAttrs{&l[i]}
}

type roleAttrs struct{ r *RoleRef }

func (a roleAttrs) Attr(name string) any {
	switch name {
	case "value":
		return str(&a.r.Value)
	case "display":
		return str(&a.r.Display)
	case "type":
		return str(&a.r.Type)
	case "primary":
		return a.r.Primary
	}
	return nil
}

type groupList []GroupRef

func (l groupList) Len() int { return len(l) }
func (l groupList) At(i int) any {
	return groupAttrs{&l[i]}
}

type groupAttrs struct{ g *GroupRef }

func (a groupAttrs) Attr(name string) any {
	switch name {
	case "value":
		return str(&a.g.Value)
	case "display":
		return str(&a.g.Display)
	}
	return nil
}

type enterpriseAttrs struct{ e *EnterpriseUser }

func (a enterpriseAttrs) Attr(name string) any {
	switch name {
	case "employeeNumber":
		return str(&a.e.EmployeeNumber)
	case "costCenter":
		return str(&a.e.CostCenter)
	case "organization":
		return str(&a.e.Organization)
	case "division":
		return str(&a.e.Division)
	case "department":
		return str(&a.e.Department)
	case "manager":
		if a.e.Manager == (Manager{}) {
			return nil
		}
		return managerAttrs{&a.e.Manager}
	}
	return nil
}

type managerAttrs struct{ m *Manager }

func (a managerAttrs) Attr(name string) any {
	switch name {
	case "value":
		return str(&a.m.Value)
	case "displayName":
		return str(&a.m.DisplayName)
	}
	return nil
}
