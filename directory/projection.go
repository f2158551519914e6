package directory

import (
	"time"

	"github.com/userdir/userdir/query"
)

// project clears the attributes of u that p leaves out. id and schemas are
// always kept.
func project(u *User, p query.Projection) {
	keep := p.Includes
	const ent = query.EnterpriseURN + ":"
	clear := func(name string, f func()) {
		if !keep(name) {
			f()
		}
	}
	clear("externalId", func() { u.ExternalID = "" })
	clear("subject", func() { u.Subject = "" })
	clear("userName", func() { u.UserName = "" })
	clear("name.givenName", func() { u.Name.GivenName = "" })
	clear("name.familyName", func() { u.Name.FamilyName = "" })
	clear("name.middleName", func() { u.Name.MiddleName = "" })
	clear("name.formatted", func() { u.Name.Formatted = "" })
	clear("displayName", func() { u.DisplayName = "" })
	clear("nickName", func() { u.NickName = "" })
	clear("title", func() { u.Title = "" })
	clear("userType", func() { u.UserType = "" })
	clear("locale", func() { u.Locale = "" })
	clear("timezone", func() { u.Timezone = "" })
	clear("emails", func() { u.Emails = nil })
	for i := range u.Emails {
		e := &u.Emails[i]
		clear("emails.value", func() { e.Value = "" })
		clear("emails.type", func() { e.Type = "" })
		clear("emails.primary", func() { e.Primary = false })
		clear("emails.verified", func() { e.Verified = false })
	}
	clear("phoneNumbers", func() { u.PhoneNumbers = nil })
	for i := range u.PhoneNumbers {
		p := &u.PhoneNumbers[i]
		clear("phoneNumbers.value", func() { p.Value = "" })
		clear("phoneNumbers.type", func() { p.Type = "" })
	}
	clear("status", func() { u.Status = "" })
	clear("active", func() { u.Active = nil })
	clear("roles", func() { u.Roles = nil })
	for i := range u.Roles {
		r := &u.Roles[i]
		clear("roles.value", func() { r.Value = "" })
		clear("roles.display", func() { r.Display = "" })
		clear("roles.type", func() { r.Type = "" })
		clear("roles.primary", func() { r.Primary = false })
	}
	clear("groups", func() { u.Groups = nil })
	for i := range u.Groups {
		g := &u.Groups[i]
		clear("groups.value", func() { g.Value = "" })
		clear("groups.display", func() { g.Display = "" })
	}
	clear("claims", func() { u.Claims = nil })
	clear("lastLoginAt", func() { u.LastLoginAt = time.Time{} })
	clear("meta.created", func() { u.Meta.Created = time.Time{} })
	clear("meta.lastModified", func() { u.Meta.LastModified = time.Time{} })
	clear("meta.version", func() { u.Meta.Version = 0 })
	if e := u.Enterprise; e != nil {
		clear(ent+"employeeNumber", func() { e.EmployeeNumber = "" })
		clear(ent+"costCenter", func() { e.CostCenter = "" })
		clear(ent+"organization", func() { e.Organization = "" })
		clear(ent+"division", func() { e.Division = "" })
		clear(ent+"department", func() { e.Department = "" })
		clear(ent+"manager.value", func() { e.Manager.Value = "" })
		clear(ent+"manager.displayName", func() { e.Manager.DisplayName = "" })
		if *e == (EnterpriseUser{}) {
			u.Enterprise = nil
		}
	}
}
