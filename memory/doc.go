// Package memory is an in-process backend.Backend: fast, not durable, and
// faithful to the contract, so tests written against it hold for the
// durable adapters too.
//
// # Storage
//
// Each tenant owns an immutable snapshot of its kinds. A kind is a table of
// records ordered by id plus one ordered index per declared backend.Index,
// all of them copy-on-write B-trees (github.com/google/btree). An index
// entry is a value key computed by backend.CompiledIndex.Keys and its
// record, ordered by (value key, id), so non-unique indexes hold one entry
// per (value, record) and scans come out in (value, id) order. Beside the
// trees, persistent hash tries find a record by id and by the value of a
// unique index in a few steps and one string comparison, where a B-tree
// of a million records compares about twenty.
//
// # Concurrency
//
// Writes to one tenant are serialized by that tenant's mutex: the writer
// checks versions and unique keys against the current snapshot, clones the
// trees it touches (a lazy, constant-time clone), mutates the clones and
// publishes the new snapshot with an atomic store. Readers load the current
// snapshot and never take a lock, so they neither block writers nor observe
// a half-applied write, and a Query iterates one snapshot from start to end
// however long the consumer takes. Writers of different tenants do not
// contend.
//
// # Queries
//
// Pushdown accepts every filter, and sorts on a single indexed, required,
// single-valued attribute. Query turns the comparisons an index answers
// exactly (eq, sw and the ordering operators on an indexed attribute),
// combined with and/or, into index range scans, intersected and united by
// record id, and walks the sort index from the cursor position. The rest of
// the filter, compiled once by query.Compile, is checked on each row those
// scans find, or on every row when they find none to narrow it.
//
// A walk of every row reads a B-tree's nodes wherever the writes that made
// them left them in memory. Once a table has been walked in full, the next
// full walk of it (a Count, or a list sorted in memory, that reads every
// row) copies its rows, in id order, into an array that later walks and
// pages of that table read instead; a page that stops early only reads an
// array already made. At 300,000 users an unindexed Count takes about a
// fifth less time. The array costs 8 bytes a record and is dropped with
// its table, at the tenant's next write of that kind, so a kind written
// between its scans never makes one.
package memory
