package directory

import (
	"context"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

// Credential is the metadata of one of a user's credentials (a passkey, a
// TOTP device, an API key, an issued verifiable credential): what it is
// and when it was made and last used. It holds no secret material: keys,
// hashes and seeds belong in the system that verifies them, never here.
// Credentials are removed with their user on Purge and Anonymize.
type Credential struct {
	ID       string    `json:"id,omitempty"`
	UserID   string    `json:"userId,omitempty"`
	Type     string    `json:"type,omitempty"` // "passkey", "totp", "api-key", ...
	Name     string    `json:"name,omitempty"` // the user's label for it
	Created  time.Time `json:"created,omitzero"`
	LastUsed time.Time `json:"lastUsed,omitzero"`
	Version  int64     `json:"version,omitempty"`
}

// Clone returns a copy of c.
func (c Credential) Clone() Credential { return c }

func (c Credential) recordID() string { return c.ID }

// Attr exposes the credential's attributes to the query package: id,
// userId, type, name, created, lastUsed and version.
func (c *Credential) Attr(name string) any {
	switch name {
	case "id":
		return str(&c.ID)
	case "userId":
		return str(&c.UserID)
	case "type":
		return str(&c.Type)
	case "name":
		return str(&c.Name)
	case "created":
		return c.Created
	case "lastUsed":
		if c.LastUsed.IsZero() {
			return nil
		}
		return c.LastUsed
	case "version":
		return c.Version
	}
	return nil
}

// CredentialURN is the schema URN of credentials metadata.
const CredentialURN = "urn:userdir:schemas:Credential"

var credentialSchema = query.NewSchema(CredentialURN, []query.AttrDef{
	idAttr(),
	exactAttr("userId", true),
	{Name: "type", Type: query.TypeString, Required: true},
	strAttr("name"),
	timeAttr("created", true),
	timeAttr("lastUsed", false),
	{Name: "version", Type: query.TypeNumber, CaseExact: true},
})

var credentialsKind = backend.Kind{
	Name:   credentialsKindName,
	Schema: credentialSchema,
	Codec:  jsonCodec[Credential, *Credential]{name: "credential"},
	Indexes: []backend.Index{
		{Name: "userId", Attr: "userId"},
		{Name: "created", Attr: "created"},
	},
}

func toCredential(rec backend.Record) Credential {
	c := *rec.Doc.(*Credential)
	c.Version = rec.Version
	return c
}

// Credentials is the handle for the credentials metadata of one tenant's
// users.
type Credentials struct {
	d      *Directory
	tenant string
}

// Credentials returns the handle for the credentials metadata of one
// tenant's users.
func (d *Directory) Credentials(tenant string) *Credentials {
	return &Credentials{d: d, tenant: tenant}
}

// Add records a credential of the user, which must exist and not be
// deleted. Type is required; ID, UserID, Created and Version are set by
// the directory (LastUsed is kept when given).
func (h *Credentials) Add(ctx context.Context, userID string, c Credential) (Credential, error) {
	return observe(ctx, h.d, OpCredentialAdd, h.tenant, "", func() (Credential, error) {
		if err := validTenant(h.tenant); err != nil {
			return Credential{}, err
		}
		if err := checkString("type", c.Type, MaxStringLen); err != nil {
			return Credential{}, err
		}
		if c.Type == "" {
			return Credential{}, fieldErr("type", "required")
		}
		if err := checkString("name", c.Name, MaxStringLen); err != nil {
			return Credential{}, err
		}
		rec, err := h.d.Users(h.tenant).get(ctx, userID)
		if err != nil {
			return Credential{}, err
		}
		if s := rec.Doc.(*userDoc).Status; s == StatusDeleted {
			return Credential{}, &TransitionError{From: s, To: "credential added"}
		}
		nc := &Credential{ID: h.d.newID(), UserID: userID, Type: c.Type, Name: c.Name, Created: h.d.now().UTC()}
		if !c.LastUsed.IsZero() {
			nc.LastUsed = c.LastUsed.UTC()
		}
		out, err := h.d.create(ctx, h.tenant, credentialsKindName, nc.ID, nc)
		if err != nil {
			return Credential{}, err
		}
		return toCredential(out), h.d.audit(ctx, h.tenant, AuditEntry{Action: OpCredentialAdd, Kind: credentialsKindName, Target: nc.ID, User: userID, Changes: h.d.changes(nil, nc)})
	})
}

// Get returns the credential with the given id.
func (h *Credentials) Get(ctx context.Context, id string) (Credential, error) {
	return getOne[Credential, *Credential](ctx, h.d, h.tenant, h.d.k.credentials, OpCredentialGet, id, toCredential)
}

// List returns one page of the user's credentials that match opts
// (filters and sorts name the attributes of Credential).
func (h *Credentials) List(ctx context.Context, userID string, opts ListOptions) (PageOf[Credential], error) {
	return observe(ctx, h.d, OpCredentialList, h.tenant, userID, func() (PageOf[Credential], error) {
		if err := validID("id", userID); err != nil {
			return PageOf[Credential]{}, err
		}
		return listKind(ctx, h.d, h.tenant, h.d.k.credentials, opts, toCredential, Credential.Clone, eq("userId", userID))
	})
}

// MarkUsed sets the credential's lastUsed time.
func (h *Credentials) MarkUsed(ctx context.Context, id string, at time.Time) (Credential, error) {
	return observe(ctx, h.d, OpCredentialUsed, h.tenant, id, func() (Credential, error) {
		if err := validTenant(h.tenant); err != nil {
			return Credential{}, err
		}
		cur, out, err := h.d.update(ctx, h.tenant, h.d.k.credentials, id, 0, func(rec backend.Record) (backend.Document, error) {
			c := toCredential(rec)
			c.LastUsed, c.Version = at.UTC(), 0
			return &c, nil
		})
		if err != nil {
			return Credential{}, err
		}
		c := toCredential(out)
		return c, h.d.audit(ctx, h.tenant, AuditEntry{Action: OpCredentialUsed, Kind: credentialsKindName, Target: id, User: c.UserID, Changes: h.d.changes(cur.Doc, out.Doc)})
	})
}

// Remove deletes the credential's metadata.
func (h *Credentials) Remove(ctx context.Context, id string, opts ...WriteOption) error {
	return observeErr(ctx, h.d, OpCredentialRemove, h.tenant, id, func() error {
		if err := validTenant(h.tenant); err != nil {
			return err
		}
		rec, c, err := getRecord[*Credential](ctx, h.d, h.tenant, h.d.k.credentials, id)
		if err != nil {
			return err
		}
		v := writeOptions(opts).ifVersion
		if v == 0 {
			v = rec.Version
		}
		if err := h.d.delete(ctx, h.tenant, credentialsKindName, id, v); err != nil {
			return err
		}
		return h.d.audit(ctx, h.tenant, AuditEntry{Action: OpCredentialRemove, Kind: credentialsKindName, Target: id, User: c.UserID, Changes: h.d.changes(c, nil)})
	})
}
