package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/query"
)

type actorKey struct{}

// WithActor returns a context whose writes are audited as done by actor:
// who is acting, as the calling service names it (a user id, a service
// account, "system"). Prefer an id to an email address: an actor equal to
// a user's former userName, email, externalId or subject is scrubbed when
// that user is anonymized, but any other personal data in it stays.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// AuditEntry records one write: who (Actor, from the context), what
// (Action, and the record it changed: Kind and Target), when (Time) and
// how (Changes). User is the id of the user the write concerns, when one
// does: the target of a user write, the member of a membership change,
// the invitee of an invitation, the owner of a credential.
type AuditEntry struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor,omitempty"`
	Action  Op        `json:"action"`
	Kind    string    `json:"kind"` // "users", "roles", "groups", "invitations", "credentials"
	Target  string    `json:"target,omitempty"`
	User    string    `json:"user,omitempty"`
	Changes []Change  `json:"changes,omitempty"`
}

// Change is one changed field of an audited write: its path in the JSON
// form of the record ("title", "name.givenName", "claims.department",
// "emails"; lists change as a whole), with the JSON of its old and new
// values (nil when the field was or becomes unassigned). Email changes are
// always recorded, with both addresses.
type Change struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old,omitempty"`
	New   json.RawMessage `json:"new,omitempty"`
}

// Clone returns a deep copy of e.
func (e AuditEntry) Clone() AuditEntry {
	e.Changes = slices.Clone(e.Changes)
	for i, c := range e.Changes {
		e.Changes[i].Old, e.Changes[i].New = bytes.Clone(c.Old), bytes.Clone(c.New)
	}
	return e
}

func (e AuditEntry) recordID() string { return e.ID }

// Attr exposes the entry's attributes to the query package: id, time,
// actor, action, kind, target, user and changes.field.
func (e *AuditEntry) Attr(name string) any {
	switch name {
	case "id":
		return str(&e.ID)
	case "time":
		return e.Time
	case "actor":
		return str(&e.Actor)
	case "action":
		return str((*string)(&e.Action))
	case "kind":
		return str(&e.Kind)
	case "target":
		return str(&e.Target)
	case "user":
		return str(&e.User)
	case "changes":
		if len(e.Changes) == 0 {
			return nil
		}
		return changeList(e.Changes)
	}
	return nil
}

type changeList []Change

func (l changeList) Len() int     { return len(l) }
func (l changeList) At(i int) any { return changeAttrs{&l[i]} }

type changeAttrs struct{ c *Change }

func (a changeAttrs) Attr(name string) any {
	if name == "field" {
		return str(&a.c.Field)
	}
	return nil
}

// AuditURN is the schema URN of audit entries.
const AuditURN = "urn:userdir:schemas:AuditEntry"

// The values of old and new are not in the schema: they cannot be
// searched, so no backend keeps them in an index.
var auditSchema = query.NewSchema(AuditURN, []query.AttrDef{
	idAttr(),
	timeAttr("time", true),
	strAttr("actor"),
	{Name: "action", Type: query.TypeString, CaseExact: true, Required: true},
	{Name: "kind", Type: query.TypeString, CaseExact: true, Required: true},
	exactAttr("target", false),
	exactAttr("user", false),
	{Name: "changes", Type: query.TypeComplex, Multi: true, Sub: []query.AttrDef{{Name: "field", Type: query.TypeString, CaseExact: true}}},
})

var auditKind = backend.Kind{
	Name:   auditKindName,
	Schema: auditSchema,
	Codec:  jsonCodec[AuditEntry, *AuditEntry]{name: "audit"},
	Indexes: []backend.Index{
		{Name: "time", Attr: "time"},
		{Name: "user", Attr: "user"},
		{Name: "target", Attr: "target"},
		{Name: "actor", Attr: "actor"},
	},
}

func toAuditEntry(rec backend.Record) AuditEntry { return rec.Doc.(*AuditEntry).Clone() }

// AuditError reports that a write committed but its audit entry could not
// be stored. The call returns the written record along with it.
type AuditError struct {
	Err error
}

func (e *AuditError) Error() string {
	return "audit entry not written (the change itself committed): " + e.Err.Error()
}

// Unwrap returns the storage error.
func (e *AuditError) Unwrap() error { return e.Err }

// audit stores an entry for a write that committed, with a new id, the
// time and the actor of ctx. It runs even when ctx is cancelled, since
// the write it records has happened.
func (d *Directory) audit(ctx context.Context, tenant string, e AuditEntry) error {
	if !d.auditOn {
		return nil
	}
	d.stamp(ctx, &e)
	if _, err := d.create(context.WithoutCancel(ctx), tenant, auditKindName, e.ID, &e); err != nil {
		return &AuditError{Err: err}
	}
	return nil
}

// auditAll stores the entries of several writes that committed, as audit
// stores each but in one batch where the backend has batches, and returns
// each entry's error (an *AuditError; nil for an entry stored, and for
// every entry when the trail is off).
func (d *Directory) auditAll(ctx context.Context, tenant string, entries []AuditEntry) []error {
	errs := make([]error, len(entries))
	if !d.auditOn || len(entries) == 0 {
		return errs
	}
	items := make([]backend.BatchItem, len(entries))
	for i := range entries {
		e := &entries[i]
		d.stamp(ctx, e)
		items[i] = backend.BatchItem{ID: e.ID, Doc: e}
	}
	for i, err := range d.createBatch(context.WithoutCancel(ctx), tenant, auditKindName, items) {
		if err != nil {
			errs[i] = &AuditError{Err: err}
		}
	}
	return errs
}

// stamp gives an entry about to be stored a new id, the time and the
// actor of ctx.
func (d *Directory) stamp(ctx context.Context, e *AuditEntry) {
	e.ID = d.newID()
	e.Time = d.now().UTC()
	e.Actor = ActorFrom(ctx)
}

// changes is diff(old, new) when the audit trail is on, and nil when it
// is off: only audit entries keep a diff, and computing one costs two JSON
// round trips.
func (d *Directory) changes(old, new any) []Change {
	if !d.auditOn {
		return nil
	}
	return diff(old, new)
}

// jsonValue returns the JSON of v.
func jsonValue(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// unaudited are top-level fields a diff leaves out: identity and
// bookkeeping that every write changes or none may.
var unaudited = map[string]bool{"id": true, "meta": true, "schemas": true, "active": true}

// diff returns the fields that differ between the JSON forms of old and
// new (either may be nil: a create or a delete), in field order. Objects
// are compared member by member ("name.givenName", "claims.address.city",
// the enterprise extension's "urn:...:User:department"); any other value
// (lists included) as a whole.
func diff(old, new any) []Change {
	a, b := flatJSON(old), flatJSON(new)
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []Change
	for _, k := range keys {
		if !bytes.Equal(a[k], b[k]) {
			out = append(out, Change{Field: k, Old: a[k], New: b[k]})
		}
	}
	return out
}

// flatJSON returns the leaves of v's JSON form by path.
func flatJSON(v any) map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	if v == nil {
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return out
	}
	for k, e := range m {
		if !unaudited[k] {
			flatten(k, strings.HasPrefix(k, "urn:"), e, out)
		}
	}
	return out
}

func flatten(path string, urn bool, v any, out map[string]json.RawMessage) {
	if m, ok := v.(map[string]any); ok && len(m) > 0 {
		sep := "."
		if urn {
			sep = ":"
		}
		for k, e := range m {
			flatten(path+sep+k, false, e, out)
		}
		return
	}
	out[path] = jsonValue(v)
}

// Audit is the handle for the audit trail of one tenant.
type Audit struct {
	d      *Directory
	tenant string
}

// Audit returns the handle for the audit trail of one tenant.
func (d *Directory) Audit(tenant string) *Audit { return &Audit{d: d, tenant: tenant} }

// List returns one page of the tenant's audit entries that match opts
// (filters and sorts name id, time, actor, action, kind, target, user and
// changes.field). The default order is by id, which for generated ids is
// the order of the writes.
func (h *Audit) List(ctx context.Context, opts ListOptions) (PageOf[AuditEntry], error) {
	return observe(ctx, h.d, OpAuditList, h.tenant, "", func() (PageOf[AuditEntry], error) {
		return listKind(ctx, h.d, h.tenant, h.d.k.audit, opts, toAuditEntry, AuditEntry.Clone)
	})
}

// ForUser returns one page of the audit entries that concern one user
// and match opts.
func (h *Audit) ForUser(ctx context.Context, userID string, opts ListOptions) (PageOf[AuditEntry], error) {
	return observe(ctx, h.d, OpAuditList, h.tenant, userID, func() (PageOf[AuditEntry], error) {
		if err := validID("id", userID); err != nil {
			return PageOf[AuditEntry]{}, err
		}
		return listKind(ctx, h.d, h.tenant, h.d.k.audit, opts, toAuditEntry, AuditEntry.Clone, eq("user", userID))
	})
}

// Tombstone replaces every personal value Anonymize removes: in audit
// entries (old and new values, actors), and as the prefix of an anonymized
// user's userName ("anonymized-<id>").
const Tombstone = "anonymized"

var tombstoneJSON = jsonValue(Tombstone)

// scrubAudit removes personal data from the audit trail of a user: the
// values of every entry about the user, and the actor of every entry
// whose actor is one of the user's former identifiers (pii).
func (d *Directory) scrubAudit(ctx context.Context, tenant, uid string, pii []string) error {
	conds := []query.Expr{eq("user", uid), eq("target", uid)}
	for _, v := range pii {
		conds = append(conds, eq("actor", v))
	}
	recs, err := d.find(ctx, tenant, d.k.audit, anyOf(conds...))
	if err != nil {
		return err
	}
	folded := make(map[string]bool, len(pii))
	for _, v := range pii {
		folded[query.Fold(v)] = true
	}
	for _, rec := range recs {
		_, _, err := d.update(ctx, tenant, d.k.audit, rec.ID, 0, func(cur backend.Record) (backend.Document, error) {
			e := toAuditEntry(cur)
			changed := false
			if e.Actor != "" && folded[query.Fold(e.Actor)] {
				e.Actor, changed = Tombstone, true
			}
			if e.User == uid || (e.Target == uid && e.Kind == usersKindName) {
				for i := range e.Changes {
					c := &e.Changes[i]
					if c.Old != nil && !bytes.Equal(c.Old, tombstoneJSON) {
						c.Old, changed = tombstoneJSON, true
					}
					if c.New != nil && !bytes.Equal(c.New, tombstoneJSON) {
						c.New, changed = tombstoneJSON, true
					}
				}
			}
			if !changed {
				return nil, errNoChange
			}
			return &e, nil
		})
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}
