package conformance

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
	"github.com/userdir/userdir/query"
)

// testProjection checks attributes and excludedAttributes on Get and List:
// only what is asked for comes back, plus id and schemas.
func testProjection(t *testing.T, s *suite) {
	const ent = query.EnterpriseURN
	cases := []struct {
		name                string
		attributes, exclude string
		want                func(full directory.User) directory.User
	}{
		{"userName,emails", "userName,emails", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, UserName: f.UserName, Emails: f.Emails}
		}},
		{"case-insensitive names", "USERNAME, Emails.Value", "", func(f directory.User) directory.User {
			emails := make([]directory.Email, len(f.Emails))
			for i, e := range f.Emails {
				emails[i] = directory.Email{Value: e.Value}
			}
			return directory.User{ID: f.ID, Schemas: f.Schemas, UserName: f.UserName, Emails: emails}
		}},
		{"name.givenName", "name.givenName", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Name: directory.Name{GivenName: f.Name.GivenName}}
		}},
		{"name", "name", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Name: f.Name}
		}},
		{"meta", "meta", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Meta: f.Meta}
		}},
		{"id only", "id", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas}
		}},
		{"claims and status", "claims,status,active", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Claims: f.Claims, Status: f.Status, Active: f.Active}
		}},
		{"enterprise department", ent + ":department", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Enterprise: &directory.EnterpriseUser{Department: f.Enterprise.Department}}
		}},
		{"enterprise unqualified", "costCenter", "", func(f directory.User) directory.User {
			return directory.User{ID: f.ID, Schemas: f.Schemas, Enterprise: &directory.EnterpriseUser{CostCenter: f.Enterprise.CostCenter}}
		}},
		{"exclude emails,claims", "", "emails,claims", func(f directory.User) directory.User {
			f.Emails, f.Claims = nil, nil
			return f
		}},
		{"exclude meta.version,lastLoginAt", "", "meta.version,lastLoginAt", func(f directory.User) directory.User {
			f.Meta.Version, f.LastLoginAt = 0, time.Time{}
			return f
		}},
		{"exclude enterprise", "", ent, func(f directory.User) directory.User {
			f.Enterprise = nil
			return f
		}},
		{"exclude id is ignored", "", "id,schemas,title", func(f directory.User) directory.User {
			f.Title = ""
			return f
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := s.newEnv(t)
			full := e.create(e.users, fullUser())
			e.create(e.users, directory.User{UserName: "other"})
			want := c.want(full.Clone())
			got, err := e.users.Get(e.ctx, full.ID, directory.Project(c.attributes, c.exclude))
			require.NoError(t, err)
			assert.Equal(t, want, got, "Get projected")
			listed := listAll(t, e.ctx, e.users, directory.ListOptions{
				Filter: `userName eq "ada.lovelace"`, Attributes: c.attributes, ExcludedAttributes: c.exclude,
			})
			if assert.Len(t, listed, 1) {
				assert.Equal(t, want, listed[0], "List projected")
			}
			// Projection does not change what is stored or matched.
			assert.Equal(t, full, e.get(e.users, full.ID))
			page, err := e.users.List(e.ctx, directory.ListOptions{Sort: "userName", Limit: 1, Attributes: c.attributes, ExcludedAttributes: c.exclude})
			require.NoError(t, err)
			next, err := e.users.List(e.ctx, directory.ListOptions{Sort: "userName", Limit: 1, Cursor: page.Next, Attributes: c.attributes, ExcludedAttributes: c.exclude})
			require.NoError(t, err, "a cursor does not depend on the projection")
			require.Len(t, next.Users, 1)
			assert.Equal(t, full.ID, page.Users[0].ID)
		})
	}

	t.Run("Invalid", func(t *testing.T) {
		e := s.newEnv(t)
		u := e.create(e.users, directory.User{UserName: "p"})
		for _, c := range []struct{ attributes, exclude string }{
			{"nosuch", ""},
			{"", "nosuch"},
			{"userName,nosuch", ""},
			{"name.nosuch", ""},
			{"userName", "emails"},
		} {
			_, err := e.users.Get(e.ctx, u.ID, directory.Project(c.attributes, c.exclude))
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "Get with attributes %q excluded %q", c.attributes, c.exclude)
			_, err = e.users.List(e.ctx, directory.ListOptions{Attributes: c.attributes, ExcludedAttributes: c.exclude})
			assert.ErrorIsf(t, err, directory.ErrInvalidFilter, "List with attributes %q excluded %q", c.attributes, c.exclude)
		}
	})
}
