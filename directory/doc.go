// Package directory is userdir's domain layer: a multi-tenant user
// directory with users, lifecycle, uniqueness rules, SCIM filters, sorting,
// keyset cursors, PATCH, import and a query cache, over any
// backend.Backend (memory, badger, mongo).
//
// All business rules live here, once: validation, the lifecycle
// (invited → active | deleted; provisioned → active | disabled | deleted;
// active ⇄ disabled; any → deleted; deleted → restored or purged), the
// per-tenant case-insensitive uniqueness of userName and of each email
// across every status but purged, and the query semantics of the query
// package. Backends only store, index and execute the part of a query
// they can.
//
// A tenant handle scopes every call:
//
//	dir, err := directory.New(memory.New())
//	users := dir.Users("acme")
//	u, err := users.Create(ctx, directory.User{UserName: "ada", Emails: []directory.Email{{Value: "ada@example.com"}}})
//	page, err := users.List(ctx, directory.ListOptions{Filter: `emails co "@example.com"`, Sort: "-meta.created", Limit: 50})
//
// # Cursors
//
// page.Next and page.Prev are opaque, versioned cursors authenticated with
// HMAC-SHA256 and bound to the tenant, filter and sort that made them; any
// other use is ErrInvalidCursor. They hold the position of the last row
// seen (its sort key and id), so paging never skips or repeats a user
// while others are written. The key comes from WithCursorKey; without it a
// random key is drawn and cursors do not outlive the process.
//
// # Errors
//
// Every error matches one of ErrNotFound, ErrAlreadyExists, ErrConflict,
// ErrInvalid, ErrInvalidFilter, ErrInvalidCursor, ErrInvalidTransition,
// ErrQueryTooComplex or ErrUnsupported with errors.Is; *FieldError names
// the invalid field and *query.SyntaxError the offset in a filter.
package directory
