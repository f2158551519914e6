package directory

import (
	"context"
	"fmt"
	"iter"
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
// ones. Import returns an error only when it cannot go on (an invalid
// tenant, or ctx ended); the report then covers the items seen so far.
func (h *Users) Import(ctx context.Context, users iter.Seq[User]) (ImportReport, error) {
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
	// Group membership is managed through groups; an imported user can
	// only name groups the tenant has.
	for j, g := range u.Groups {
		return User{}, fieldErr(fmt.Sprintf("groups[%d].value", j), "group %q does not exist", g.Value)
	}
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
	return h.create(ctx, doc)
}
