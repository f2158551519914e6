// Package directory is userdir's domain layer: a multi-tenant user
// directory with users, lifecycle, uniqueness rules, SCIM filters, sorting,
// keyset cursors, PATCH, import, roles and permissions, groups,
// invitations, credentials metadata, an audit trail, events, erasure and a
// query cache, over any backend.Backend (memory, badger, mongo).
//
// All business rules live here, once: validation, the lifecycle
// (invited → active | deleted; provisioned → active | disabled | deleted;
// active ⇄ disabled; any → deleted; deleted → restored or purged; any →
// anonymized, which is final), the
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
// # The rest of the domain
//
// Each tenant has roles (Directory.Roles: named permission sets that users
// and groups name by id), groups (Directory.Groups: members are users, who
// show their groups in the read-only groups[]; Users.Permissions is the
// union over a user's roles and its groups' roles), invitations
// (Directory.Invitations: Send creates invited users and reports one
// outcome per address; expiry is enforced on read), credentials metadata
// (Directory.Credentials: never secrets) and an audit trail
// (Directory.Audit: actor from WithActor, action, time and the changed
// fields with old and new values). Users.Me resolves a verified token's
// claims; Directory.TenantsOf finds every tenant of a subject through an
// index kept under the reserved GlobalTenant. Users.Anonymize erases a
// user's personal data everywhere; Directory.Compact has a store drop the
// old bytes. Every list uses the same filters, sorts, cursors, offset
// paging and totals, with the attributes of its own kind, and every
// operation reports START then SUCCESS or FAIL to the observers given with
// WithObserver (NewSlogObserver logs them); events carry ids only unless an
// observer asks for full payloads.
//
// # Writes of several records
//
// Backends offer no transactions across records, so a call that writes
// several records orders them so that a crash or error in between leaves
// a state reads tolerate or the same call repairs: references go before
// what they name is removed (Roles.Delete and Groups.Delete strip users
// and groups first and delete the role or group last; Purge and Anonymize
// remove a user's records before the user); an index entry goes in before
// the record it points to and out after it (a group membership before the
// member's groups[] entry, a subject's TenantsOf entry before the user);
// and readers derive from the authoritative side (membership records for
// permissions, the user record for TenantsOf). Each call documents its
// order. Audit entries are written after the change commits; an
// *AuditError reports one that could not be.
//
// # Query cache
//
// Lists and counts are cached in an LRU keyed by tenant, the tenant's
// generation read before the query, and the canonical query; every write
// bumps the tenant's generation after it commits, so a read that starts
// after a write returned never sees a result from before it. Hits hand out
// copies. WithCache sizes the cache (and bounds entries' age); it is off
// by default over a backend shared across processes (Capabilities.Shared:
// mongo), since writes by other processes cannot bump the generation.
// Invitations are not cached (they expire with the clock).
//
// # Errors
//
// Every error matches one of ErrNotFound, ErrAlreadyExists, ErrConflict,
// ErrInvalid, ErrInvalidFilter, ErrInvalidCursor, ErrInvalidTransition,
// ErrQueryTooComplex or ErrUnsupported with errors.Is; *FieldError names
// the invalid field and *query.SyntaxError the offset in a filter.
package directory
