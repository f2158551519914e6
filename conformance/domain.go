package conformance

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// Helpers of the groups that test the rest of the user domain: roles,
// groups, invitations, credentials, audit, the current user, erasure and
// the query cache.

// walkAll walks a list of any kind forwards with Next and returns every
// item of every page, failing the test on error or on a list that never
// ends.
func walkAll[T any](t *testing.T, opts directory.ListOptions, list func(directory.ListOptions) (directory.PageOf[T], error)) []T {
	t.Helper()
	var out []T
	opts.Cursor = ""
	for range maxPages {
		page, err := list(opts)
		require.NoErrorf(t, err, "list %+v", opts)
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		opts.Cursor = page.Next
	}
	require.FailNow(t, "list never ended", "more than %d pages for %+v", maxPages, opts)
	return nil
}

// role creates a role of tenant acme and fails the test on error.
func (e *env) role(r directory.Role) directory.Role {
	e.t.Helper()
	got, err := e.dir.Roles(tenant).Create(e.ctx, r)
	require.NoErrorf(e.t, err, "create role %q", r.Name)
	return got
}

// group creates a group of tenant acme and fails the test on error.
func (e *env) group(g directory.Group) directory.Group {
	e.t.Helper()
	got, err := e.dir.Groups(tenant).Create(e.ctx, g)
	require.NoErrorf(e.t, err, "create group %q", g.DisplayName)
	return got
}

// join adds users to a group of tenant acme and fails the test unless
// every one is added.
func (e *env) join(groupID string, userIDs ...string) {
	e.t.Helper()
	res, err := e.dir.Groups(tenant).AddMembers(e.ctx, groupID, userIDs...)
	require.NoError(e.t, err)
	for _, r := range res {
		require.NoErrorf(e.t, r.Err, "add %s to %s", r.ID, groupID)
	}
}

// auditOf returns every audit entry about a user of tenant acme, oldest
// first.
func (e *env) auditOf(userID string) []directory.AuditEntry {
	e.t.Helper()
	return walkAll(e.t, directory.ListOptions{Sort: "time"}, func(o directory.ListOptions) (directory.PageOf[directory.AuditEntry], error) {
		return e.dir.Audit(tenant).ForUser(e.ctx, userID, o)
	})
}

// actions returns the actions of entries, in order.
func actions(entries []directory.AuditEntry) []directory.Op {
	out := make([]directory.Op, len(entries))
	for i, a := range entries {
		out[i] = a.Action
	}
	return out
}

// changeOf returns the change of field in entry, or false.
func changeOf(entry directory.AuditEntry, field string) (directory.Change, bool) {
	for _, c := range entry.Changes {
		if c.Field == field {
			return c, true
		}
	}
	return directory.Change{}, false
}

// bulkOK fails the test unless every result of a bulk call succeeded.
func bulkOK(t *testing.T, res []directory.BulkResult, err error) {
	t.Helper()
	require.NoError(t, err)
	for _, r := range res {
		require.NoErrorf(t, r.Err, "item %s", r.ID)
	}
}

// withActor is the context of a test with an actor.
func withActor(ctx context.Context, actor string) context.Context {
	return directory.WithActor(ctx, actor)
}
