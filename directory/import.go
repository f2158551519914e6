package directory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
)

// ImportResult is the outcome of one imported user.
type ImportResult struct {
	Index int    // position in the imported sequence
	ID    string // the user's id, when it has one
	Err   error  // nil when the user was stored
}

// ImportReport sums up an import.
type ImportReport struct {
	Created int
	Failed  int
	Results []ImportResult // one per item, in order
}

// Import stores a stream of users that come from another system, keeping
// their ids (a new one is made for a user without), their status and their
// meta.created and meta.lastModified. Each item is validated and stored on
// its own: a bad item is reported in its result and never stops the good
// ones. An item's roles and groups must exist in the tenant (the item
// fails otherwise); its groups[].display is taken from the group. Import
// returns an error only when it cannot go on (an invalid tenant, or ctx
// ended); the report then covers the items seen so far.
func (h *Users) Import(ctx context.Context, users iter.Seq[User]) (ImportReport, error) {
	return observe(ctx, h.d, OpUserImport, h.tenant, "", func() (ImportReport, error) {
		return h.importAll(ctx, users)
	})
}

func (h *Users) importAll(ctx context.Context, users iter.Seq[User]) (ImportReport, error) {
	var rep ImportReport
	if err := validTenant(h.tenant); err != nil {
		return rep, err
	}
	i := 0
	for u := range users {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		res := ImportResult{Index: i, ID: u.ID}
		stored, err := h.importOne(ctx, u)
		if err != nil {
			res.Err = err
			rep.Failed++
		} else {
			res.ID = stored.ID
			rep.Created++
		}
		rep.Results = append(rep.Results, res)
		i++
	}
	return rep, nil
}

func (h *Users) importOne(ctx context.Context, in User) (User, error) {
	u := in.Clone()
	if err := validate(&u); err != nil {
		return User{}, err
	}
	if u.ID == "" {
		u.ID = h.d.newID()
	} else if err := validID("id", u.ID); err != nil {
		return User{}, err
	}
	if err := h.d.checkRoles(ctx, h.tenant, u.Roles, nil); err != nil {
		return User{}, err
	}
	groups, err := h.importGroups(ctx, u.Groups)
	if err != nil {
		return User{}, err
	}
	u.Groups = groups
	doc := &userDoc{}
	u.Status = inputStatus(&u)
	if u.Status == StatusDeleted {
		doc.RestoreTo = StatusActive
	}
	now := h.d.now().UTC()
	created, modified := u.Meta.Created.UTC(), u.Meta.LastModified.UTC()
	if u.Meta.Created.IsZero() {
		created = now
	}
	if u.Meta.LastModified.IsZero() {
		modified = created
	}
	if modified.Before(created) {
		return User{}, fieldErr("meta.lastModified", "before meta.created")
	}
	u.Meta = Meta{Created: created, LastModified: modified, Version: 1}
	doc.User = u
	// The membership records go first, as AddMembers writes them; they
	// are taken back when the user cannot be stored.
	var added []string
	for _, g := range u.Groups {
		m := &Member{ID: memberID(g.Value, u.ID), GroupID: g.Value, UserID: u.ID, Added: now}
		_, err := h.d.create(ctx, h.tenant, membersKindName, m.ID, m)
		if err != nil && !errors.Is(err, ErrAlreadyExists) {
			h.dropMembers(ctx, added)
			return User{}, err
		}
		if err == nil {
			added = append(added, m.ID)
		}
	}
	out, err := h.create(ctx, doc, OpUserImport)
	var ae *AuditError
	if err != nil && !errors.As(err, &ae) {
		h.dropMembers(ctx, added)
	}
	return out, err
}

// importGroups checks that every group ref names a group of the tenant
// and returns the refs with the groups' display names.
func (h *Users) importGroups(ctx context.Context, refs []GroupRef) ([]GroupRef, error) {
	if len(refs) > MaxListLen {
		return nil, fieldErr("groups", "more than %d values", MaxListLen)
	}
	out := make([]GroupRef, 0, len(refs))
	for j, g := range refs {
		f := fmt.Sprintf("groups[%d].value", j)
		if err := validID(f, g.Value); err != nil {
			return nil, err
		}
		if slices.ContainsFunc(out, func(o GroupRef) bool { return o.Value == g.Value }) {
			return nil, fieldErr(f, "group %q listed twice", g.Value)
		}
		rec, err := h.d.b.Get(ctx, h.tenant, groupsKindName, g.Value)
		if isNotFound(err) {
			return nil, fieldErr(f, "group %q does not exist", g.Value)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, GroupRef{Value: g.Value, Display: rec.Doc.(*Group).DisplayName})
	}
	return out, nil
}

// dropMembers deletes membership records an import item wrote before it
// failed. The item's failure is what the caller reports; a record left
// behind names a user that does not exist, and importing that user again
// reuses it.
func (h *Users) dropMembers(ctx context.Context, ids []string) {
	for _, id := range ids {
		_ = h.d.deleteIfThere(context.WithoutCancel(ctx), h.tenant, membersKindName, id)
	}
}
