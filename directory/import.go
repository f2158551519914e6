package directory

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/userdir/userdir/backend"
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
//
// Where the backend is a backend.Batcher, users without groups or a
// subject are stored in batches of up to 1,024 (one backend call each),
// each on a goroutine of its own while the next items are read and
// validated; items are still decided in order, as if stored one by one
// (of two items with one userName the first is stored and the second
// refused). ctx is checked between items: an item read before it ended is
// stored.
func (h *Users) Import(ctx context.Context, users iter.Seq[User]) (ImportReport, error) {
	return observe(ctx, h.d, OpUserImport, h.tenant, "", func() (ImportReport, error) {
		return h.importAll(ctx, users)
	})
}

// importChunk is the most users Import hands a backend.Batcher at once:
// enough for the backend to share the cost of its writes (badger
// pipelines transactions of 128), few enough that a pending batch holds
// little memory and little work is left when ctx ends.
const importChunk = 1024

func (h *Users) importAll(ctx context.Context, users iter.Seq[User]) (ImportReport, error) {
	var rep ImportReport
	if err := validTenant(h.tenant); err != nil {
		return rep, err
	}
	_, batched := h.d.b.(backend.Batcher)
	// pending are the items waiting for a batch. A full batch is stored
	// on a goroutine of its own while the next items are read and
	// validated (flush); a batch is stored only once the one before it is
	// (wait), and before any later item is stored one by one, so that
	// items are decided in order. A batch is stored even when ctx has
	// ended: an item read before it ended is stored, as it was when every
	// item was stored as soon as it was read.
	var (
		pending []importItem
		running *importRun
	)
	wait := func() {
		if running == nil {
			return
		}
		errs := running.wait()
		for j, it := range running.items {
			rep.settle(it.at, it.doc, errs[j])
		}
		running = nil
	}
	flush := func() {
		wait()
		if len(pending) > 0 {
			running = h.startBatch(context.WithoutCancel(ctx), pending)
			pending = nil
		}
	}
	// When the caller's iterator panics (or exits its goroutine), Import
	// still returns only once the batch it started is stored; the batch's
	// own outcome is then lost with the report.
	defer func() {
		if running != nil {
			<-running.done
		}
	}()
	for u := range users {
		if err := ctx.Err(); err != nil {
			flush()
			wait()
			return rep, err
		}
		at := len(rep.Results)
		rep.Results = append(rep.Results, ImportResult{Index: at, ID: u.ID})
		it, err := h.importDoc(ctx, u)
		if err == nil && batched && len(it.doc.Groups) == 0 && it.doc.Subject == "" {
			it.at = at
			if pending = append(pending, it); len(pending) == importChunk {
				flush()
			}
			continue
		}
		if err == nil {
			flush()
			wait()
			err = h.importOne(ctx, it)
		}
		rep.settle(at, it.doc, err)
	}
	flush()
	wait()
	return rep, nil
}

// importRun is a batch of imported users being stored on a goroutine of
// its own.
type importRun struct {
	items []importItem
	done  chan struct{}
	errs  []error
	panic any // what storing the batch panicked with, raised again by wait
}

// startBatch starts storing items on a goroutine of its own.
func (h *Users) startBatch(ctx context.Context, items []importItem) *importRun {
	r := &importRun{items: items, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer func() { r.panic = recover() }()
		r.errs = h.importBatch(ctx, items)
	}()
	return r
}

// wait returns the outcome of each item once the batch is stored. A panic
// while storing it is raised again here, on the caller's goroutine.
func (r *importRun) wait() []error {
	<-r.done
	if r.panic != nil {
		panic(r.panic)
	}
	return r.errs
}

// settle records the outcome of the item at place i of the results: the
// id it was stored under, or its error.
func (r *ImportReport) settle(i int, doc *userDoc, err error) {
	if err != nil {
		r.Results[i].Err = err
		r.Failed++
		return
	}
	r.Results[i].ID = doc.ID
	r.Created++
}

// importItem is an imported user ready to be stored.
type importItem struct {
	doc *userDoc
	now time.Time // the clock's reading for the item
	at  int       // its place in the report, while it waits for a batch
}

// importDoc validates an imported user and makes its document, with an
// id, its status and meta. It reads the roles and groups the user names.
func (h *Users) importDoc(ctx context.Context, in User) (importItem, error) {
	u := in.Clone()
	if err := validate(&u); err != nil {
		return importItem{}, err
	}
	if u.ID == "" {
		u.ID = h.d.newID()
	} else if err := validID("id", u.ID); err != nil {
		return importItem{}, err
	}
	if err := h.d.checkRoles(ctx, h.tenant, u.Roles, nil); err != nil {
		return importItem{}, err
	}
	groups, err := h.importGroups(ctx, u.Groups)
	if err != nil {
		return importItem{}, err
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
		return importItem{}, fieldErr("meta.lastModified", "before meta.created")
	}
	u.Meta = Meta{Created: created, LastModified: modified, Version: 1}
	doc.User = u
	return importItem{doc: doc, now: now}, nil
}

// importOne stores one imported user with its memberships, as Create
// stores a user.
func (h *Users) importOne(ctx context.Context, it importItem) error {
	u := &it.doc.User
	// The membership records go first, as AddMembers writes them; they
	// are taken back when the user cannot be stored.
	var added []string
	for _, g := range u.Groups {
		m := &Member{ID: memberID(g.Value, u.ID), GroupID: g.Value, UserID: u.ID, Added: it.now}
		_, err := h.d.create(ctx, h.tenant, membersKindName, m.ID, m)
		if err != nil && !errors.Is(err, ErrAlreadyExists) {
			h.dropMembers(ctx, added)
			return err
		}
		if err == nil {
			added = append(added, m.ID)
		}
	}
	_, err := h.create(ctx, it.doc, OpUserImport)
	var ae *AuditError
	if err != nil && !errors.As(err, &ae) {
		h.dropMembers(ctx, added)
	}
	return err
}

// importBatch stores imported users that have neither groups nor a
// subject in one batch, audits those stored, and returns the outcome of
// each.
func (h *Users) importBatch(ctx context.Context, items []importItem) []error {
	batch := make([]backend.BatchItem, len(items))
	for j, it := range items {
		seal(it.doc)
		batch[j] = backend.BatchItem{ID: it.doc.ID, Doc: it.doc}
	}
	errs := h.d.createBatch(ctx, h.tenant, usersKindName, batch)
	var (
		entries []AuditEntry
		audited []int // the item of each entry
	)
	if h.d.auditOn {
		for j, it := range items {
			if errs[j] == nil {
				entries = append(entries, h.created(it.doc, OpUserImport))
				audited = append(audited, j)
			}
		}
	}
	for k, err := range h.d.auditAll(ctx, h.tenant, entries) {
		errs[audited[k]] = err
	}
	return errs
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
