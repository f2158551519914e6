// Package backend defines the contract between the directory and a storage
// adapter (memory, badger, mongo, or a third party's).
//
// A backend stores records keyed by (tenant, kind, id). It knows nothing of
// users, lifecycles or policies: the directory declares each kind it stores
// (its attribute Schema, its indexes and a Codec) with Define, and hands the
// backend opaque, immutable Documents that expose their attributes through
// query.Resource. All validation and business rules live in the directory;
// a backend never re-validates.
//
// # Contract
//
// Tenant scoping: every method takes a tenant and reads and writes only that
// tenant's records. Keys, index entries and native queries carry the tenant
// by construction.
//
// Versions: a record's version is 1 after Create and rises by exactly one on
// every Replace. Replace and Delete take the version the caller expects and
// fail with ErrConflict when the stored version differs (0 means "any").
//
// Uniqueness: for each Index with Unique set, no two records of one tenant
// and kind may share an index key (IndexKeys computes them: folded for
// case-insensitive attributes). Create and Replace check it atomically with
// the write, under any concurrency, and fail with ErrAlreadyExists naming the
// index (see Error). Exactly one of any number of racing conflicting writes
// succeeds.
//
// Atomicity: a failed write changes nothing: no partial record, no orphan
// index entry.
//
// Batches: a backend may also implement Batcher, creating many records of
// one kind in one write. Each item of a batch keeps the contract of one
// Create (its own ErrAlreadyExists, against stored records and earlier
// items of the batch; atomicity; uniqueness under concurrency); only the
// cost is shared.
//
// Immutability: the backend never modifies a Document it is handed, and the
// caller never modifies a Document the backend returns. The directory copies
// documents before handing them to its callers.
//
// Queries: the directory plans a filter with query.Plan against the
// backend's Pushdown and passes the pushed part in Query.Filter; the backend
// returns every record of the kind that satisfies it (it may return more
// when the pushdown said Superset; the directory re-checks). When Query.Sort
// is set (only when Pushdown.Sort accepted it) records come in that order,
// ties broken by id in the direction of the sort; Query.After continues
// strictly after a position and Query.Reverse scans the order backwards.
//
// Prepared queries: a backend may also implement Preparer, doing once the
// work of a query that depends only on its Kind, Filter and Sort (choosing
// the indexes, encoding their keys), so that a caller running one query
// many times, with only After and Reverse changing, does that work once.
// The result travels in Query.Prepared; a backend that does not implement
// Preparer never sees one. A prepared query holds no data: it serves every
// tenant and every later state of the data, and a backend redoes the work
// when its definitions changed since (Define) rather than use a stale one.
//
// Visits: a backend may also implement Visitor, which runs a query by
// calling a function with the records Query's sequence would yield,
// without allocating the sequence.
//
// Errors: adapters map driver errors to the sentinels below, wrapping them
// in *Error so that errors.Is matches the sentinel and errors.As still
// reaches the driver's error.
package backend

import (
	"context"
	"errors"
	"iter"

	"github.com/userdir/userdir/query"
)

// The portable errors every backend returns.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
	ErrConflict      = errors.New("version conflict")
	ErrUnsupported   = errors.New("unsupported")
	ErrClosed        = errors.New("backend closed")
)

// Backend is the storage contract. All methods are safe for concurrent use.
type Backend interface {
	// Define declares the kinds the directory stores. It is called once,
	// before any other method; a durable backend creates its indexes here
	// and returns any error doing so.
	Define(ctx context.Context, kinds ...Kind) error

	// Get returns the record, or ErrNotFound.
	Get(ctx context.Context, tenant, kind, id string) (Record, error)

	// Create stores a new record with version 1. It fails with
	// ErrAlreadyExists when the id or a unique index key is taken.
	Create(ctx context.Context, tenant, kind, id string, doc Document) (Record, error)

	// Replace overwrites the record's document when its version is
	// ifVersion (or any version when ifVersion is 0), and returns the
	// record with its new version. ErrNotFound, ErrConflict, or
	// ErrAlreadyExists on a unique index clash.
	Replace(ctx context.Context, tenant, kind, id string, doc Document, ifVersion int64) (Record, error)

	// Delete removes the record and its index entries when its version is
	// ifVersion (or any version when 0). ErrNotFound or ErrConflict.
	Delete(ctx context.Context, tenant, kind, id string, ifVersion int64) error

	// Query returns the records of q.Kind that satisfy q.Filter, in q.Sort
	// order when set. The sequence stops at the first error. Records come
	// from one consistent snapshot where the backend has snapshots.
	Query(ctx context.Context, tenant string, q Query) iter.Seq2[Record, error]

	// Count returns how many records of q.Kind satisfy q.Filter. It is only
	// called with a filter the Pushdown reported as Exact.
	Count(ctx context.Context, tenant string, q Query) (int, error)

	// Pushdown reports what the backend executes natively for a kind.
	Pushdown(kind string) query.Pushdown

	// Explain describes how the backend would execute q: the index or
	// native query used.
	Explain(tenant string, q Query) string

	// Capabilities reports optional behaviour.
	Capabilities() Capabilities

	// Close releases the backend's resources. Calls after Close fail with
	// ErrClosed.
	Close() error
}

// Visitor is implemented by a backend that can run a query without
// allocating a sequence.
type Visitor interface {
	// Visit runs q as Query does and calls fn with each record Query's
	// sequence would yield, in the same order, until fn returns false. It
	// returns the error the sequence would end with, nil when none.
	Visit(ctx context.Context, tenant string, q Query, fn func(Record) bool) error
}

// Capabilities describes optional behaviour of a backend.
type Capabilities struct {
	// Shared is true when other processes may write the same data, so a
	// process-local cache cannot see every change.
	Shared bool
	// Durable is true when data outlives the process.
	Durable bool
}

// Document is a record's content: a value of the kind's Go type that
// exposes its attributes to the query package.
type Document interface {
	query.Resource
}

// Record is a stored document with its identity and version.
type Record struct {
	ID      string
	Version int64
	Doc     Document
	// Owned reports that Doc was made for this read alone (decoded from
	// stored bytes) and that the backend keeps no reference to it, so the
	// caller may hand it on without copying it. A backend that returns
	// documents it also keeps (the memory store) leaves it false.
	Owned bool
}

// Kind declares a kind of record.
type Kind struct {
	Name    string        // "users", "groups", ...
	Schema  *query.Schema // the attributes filters may name
	Indexes []Index
	Codec   Codec // how a durable backend turns documents into bytes
}

// Index declares a secondary index over one attribute.
type Index struct {
	Name   string // unique within the kind; reported in ErrAlreadyExists
	Attr   string // attribute path in the kind's Schema, e.g. "emails.value"
	Unique bool
}

// Codec encodes and decodes the documents of one kind. Unmarshal must not
// keep its argument, nor anything sharing its memory, after it returns: a
// backend may hand it memory it reuses (a Badger value is only valid
// inside its transaction).
type Codec interface {
	Marshal(Document) ([]byte, error)
	Unmarshal([]byte) (Document, error)
}

// Query is the part of a list request a backend executes.
type Query struct {
	Kind    string
	Filter  query.Expr // bound; nil means every record of the kind
	Sort    query.Sort // set only when Pushdown.Sort accepted it
	After   *Position  // with Sort: continue strictly after this position
	Reverse bool       // with Sort: scan the order backwards
	// Prepared is nil, or what this backend's Preparer.Prepare set for a
	// query of the same Kind, Filter and Sort. It is opaque to the caller,
	// who must not modify it; a backend ignores a value it did not make,
	// or made for another filter or sort or an earlier definition of the
	// kind.
	Prepared any
}

// Preparer is implemented by a backend that can do once the part of a
// Query's work that depends only on its Kind, Filter and Sort.
type Preparer interface {
	// Prepare returns q with Prepared set to the backend's work on q, for
	// Query, Count and Visit to reuse in every query of q's Kind, Filter
	// and Sort, whatever their tenant, After and Reverse; or q as it is
	// when there is nothing to prepare (an undefined kind: Query reports
	// it).
	// It reads no records. The result may be used by many goroutines at
	// once, and Filter must not be modified while it is in use.
	Prepare(q Query) Query
}

// Position is a place in a sort order: the sort key values of a record and
// its id.
type Position struct {
	Values []query.Value
	ID     string
}
