// Package mongo is a backend.Backend over MongoDB, for services that run
// many instances against one database; it also runs on FerretDB v1 (the
// test server), whose differences are listed below.
//
//	store, err := mongo.Open(ctx, "mongodb://localhost:27017", "userdir", mongo.Options{})
//	dir, err := directory.New(store)
//
// New does the same over a *mongo.Client the caller owns (Close then leaves
// it connected). Both ask the server what it is before returning (see
// ServerInfo): whether it runs transactions and change streams (a replica
// set or mongos) and whether it is FerretDB.
//
// # Layout
//
// Each kind is one collection named after it ("users"). A record is one
// document:
//
//	{
//	  _id: "<len(tenant)>:<tenant>:<id>",  // "4:acme:2b9f…"
//	  t: tenant, i: id,          // the tenant leads every index and query
//	  v: version,                // int64, the guard of conditional writes
//	  g: generation,             // nonce of this incarnation of the id
//	  d: <binary>,               // the kind's Codec bytes: the authoritative data
//	  x: {...},                  // shadow fields, for native queries
//	  c: [...],                  // claims entries, for native queries
//	  u: [...],                  // the record's unique keys
//	}
//
// _id is a string that encodes the tenant and the id, and t and i keep
// them as fields of their own for the indexes and queries. The tenant's
// length in bytes makes the encoding unambiguous for any tenant and id (NUL
// and all), a tenant's records form one contiguous _id range ordered by
// id, and the string is what FerretDB finds by its index (see FerretDB
// below). Reservations ("<kind>_unique", see Unique keys) and write tickets
// ("<kind>_writes") have string _ids of the same encoding (ids.go). Every
// read or write of one document (a Get, the reads and writes of Create,
// Replace and Delete, a reservation's insert, lookup, swap or release, a
// ticket, Verify's lookup of a record or a key) names it by _id: on
// FerretDB with the filter {_id} alone, the one filter FerretDB pushes
// down; on MongoDB with {t, _id}, which selects the same document and
// leads with the tenant like every other filter of the store, so that a
// deployment sharded on the tenant (or on {t, i}, the t_i index) routes it
// to one shard. Conditional writes add the state they expect, {v, g}, to
// the filter on MongoDB and check it in Go on FerretDB (see Conditional
// writes).
//
// This layout replaced one whose _id was the sub-document {t, i}: records,
// reservations and tickets written by that layout are not readable by this
// one, and Define refuses a kind whose collections hold them (ErrUnsupported).
//
// d is decoded with the kind's Codec on every read; x, c and u are derived
// from the document on every write and never read back as data.
//
// The shadow x mirrors the kind's schema so that MongoDB's comparison of a
// shadow value is the evaluator's comparison of the value: case-insensitive
// strings are stored folded with query.Fold, caseExact strings as they
// are, booleans as booleans, and numbers and dateTimes as the hex digits
// of query.AppendKey (exact decimals, instants at full nanosecond
// precision; BSON doubles and dates would lose both, and BSON binary
// orders by length first, on MongoDB and FerretDB alike). Multi-valued
// attributes are arrays, complex ones sub-documents, so a dotted path such
// as "x.emails.value" matches when any value does, as rule 10 says, and
// the enterprise extension lives under its URN with dots replaced
// ("x.urn:ietf:params:scim:schemas:extension:enterprise:2_0:User").
//
// Claims are free-form, so they are flattened into the one array c of
// "<path>\x00<type letter><value>" strings, the letter s (folded string),
// n (number, as AppendKey hex) or b (boolean); `claims.department eq
// "ops"` is the equality {c: "claims.department\x00sops"}, served by one
// index, and since the JSON type is part of the entry, `claims.level eq
// "3"` never matches the number 3 (rule 9). Keys that no filter can name
// (such as "first name") get no entries of their own.
//
// Indexes: {t, i}, {t, <shadow>, i} for every declared index, and {t, c}
// when the schema has claims.
//
// # Unique keys
//
// FerretDB has no transactions, and its unique indexes compare arrays as a
// whole, so per-element uniqueness (every email of every user) cannot be a
// unique index on the record. Instead each unique key has a reservation
// document in "<kind>_unique" whose _id encodes the tenant, the index name
// and the key: inserting it is the atomic uniqueness check. Writes reserve
// their new keys (pending), write the record, confirm the reservations and
// release the keys the record dropped; a crash leaves at worst orphan
// reservations, which the next write of the key takes over safely, and
// which Verify reports and removes. reserve.go explains the protocol and
// its races.
//
// # Conditional writes
//
// Replace and Delete are guarded by the generation and version they read:
// on MongoDB the filter {t, _id, v: expected, g: generation} makes them a
// compare-and-swap under MongoDB's single-document atomicity, so no update
// is lost however many writers race. FerretDB evaluates such a filter
// outside any lock (and reads the whole collection to do so), so there
// each such write first inserts a write ticket for its transition
// (ticket.go), whose atomic insert admits one writer per transition; that
// writer then reads the record by {_id}, checks the generation and version
// in Go, and writes it by {_id}, which the ticket makes as safe as the
// compare-and-swap (writeAt in write.go explains why).
//
// Within one process, writes of one record also queue behind each other,
// and concurrent Gets of one record share a round trip (locks.go). Neither
// is needed for correctness; they keep a hot record's contending writers,
// each re-reading after every success, from costing the server a round
// trip apiece.
//
// # Queries
//
// Pushdown reports, and Query compiles, a native filter for: eq, ne, gt,
// ge, lt, le, sw, co, ew and pr on every scalar attribute (sw, co and ew as
// regular expressions over folded strings with every metacharacter
// quoted), eq null and ne null, and, or and not (not only over an exact
// filter, since ne is existential and not is plain negation); the same on
// claims paths; and value filters (emails[type eq "work" and value co
// "x"]), tied to one element with $elemMatch. Filter values only ever
// travel as typed BSON values, never as keys or operators, so no value can
// change a query's structure. Query sorts natively by the id, or by a
// single declared, single-valued, Required attribute (userName,
// meta.created, meta.lastModified), and continues a keyset position with
// {$or: [{k: {$gt: v}}, {k: v, i: {$gt: id}}]}, in both directions.
// Explain shows the native filter and sort as extended JSON.
//
// # FerretDB
//
// FerretDB v1 (SQLite) differs from MongoDB, and the store adapts where it
// detects FerretDB:
//
//   - its SQLite backend pushes down exactly one filter, a document whose
//     one key is _id with a string (or ObjectID) value; for any other
//     filter it reads and decodes the whole collection, so a point
//     operation would take time linear in the collection. Every point
//     operation therefore sends {_id: <string>} alone there, and checks
//     the rest of what it would have filtered on in Go. (Stock FerretDB
//     v1.24 then compares _ferretdb_sjson->'$._id', an expression its own
//     _id index, on _ferretdb_sjson->"_id", does not serve, so SQLite
//     still scans the table, if some twenty times faster than decoding
//     every document in Go. scripts/mongo-test-server.sh builds FerretDB
//     with that expression as _ferretdb_sjson->'_id', which finds the
//     document by the index: a Get no longer depends on the collection's
//     size); for the same reason a query whose filter requires one key of
//     a unique index (`emails.value eq "ada@example.com"`) reads the
//     key's reservation by _id, then its owner's record by _id, and checks
//     the filter in Go (point.go), where MongoDB runs the indexed query;
//   - guarded updates and deletes are not atomic: writes take tickets, as
//     above;
//   - $elemMatch over sub-documents is wrong (it matches nothing or does
//     not tie conditions), so value filters on multi-valued attributes
//     push each condition on its dotted path, a superset the directory
//     re-checks in Go; ordering and ne on claims, which need a range tied
//     to one entry, are pushed as a superset or not at all;
//   - an update violating a unique index fails with code 1 "UNIQUE
//     constraint failed", not 11000; both map to ErrAlreadyExists;
//   - under load SQLite reports "database is locked"; such statements did
//     not run and are retried;
//   - createIndexes naming several existing indexes drops the connection,
//     so indexes are created one at a time.
//
// # Cache
//
// Capabilities reports Shared: other processes write the same data and the
// store offers no change signal, so the directory keeps its query cache
// off by default on this backend (directory.WithCache with a short TTL
// turns it on, bounding staleness).
package mongo
