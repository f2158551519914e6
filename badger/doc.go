// Package badger is a backend.Backend over an embedded badger database
// (github.com/dgraph-io/badger/v4): one process, data that survives
// restarts and crashes.
//
//	s, err := badger.Open("/var/lib/myapp/users", badger.Options{})
//	...
//	dir, err := directory.New(s)
//	defer dir.Close() // closes s
//
// Open with an empty path (or Options.InMemory) gives a store that lives
// in memory only, for tests.
//
// # Keys
//
// Every record is one key and every index entry is one more; no value
// ever holds a list of ids, so a write touches only the keys of the one
// record it changes. Keys start with a keyspace byte (record, index entry,
// unique index entry, metadata) and the key format version, then the
// tenant, so no key exists without its tenant; the layout is drawn in
// keys.go. Components are escaped and terminated, so the keys of a
// keyspace sort by (tenant, kind, index, value, id), and an index's
// entries for one value, for values with one prefix or for a range of
// values are one contiguous run of keys. A record's value is its version (8 bytes, big-endian) followed
// by the bytes of the kind's backend.Codec.
//
// # Writes
//
// Each Create, Replace and Delete is one badger transaction: it reads the
// record (and, for a unique index, the key of each value it adds; but see
// below for the keys a create skips), checks the version and the unique
// values, and writes the record and its index entries together, or
// nothing. Badger detects conflicts between transactions from what they
// read: when two writers race for one id or one unique value, the second
// to commit fails with badger.ErrConflict, and the Store runs its
// transaction again (up to Options.MaxAttempts times), so that it now
// sees the winner's keys and reports
// ErrAlreadyExists or ErrConflict. Exactly one of any number of racing
// conflicting writers succeeds.
//
// A create skips reading a key that is certainly free: the Store keeps in
// memory a filter of every record key and unique key its database has had
// (learnt in the background from Open, about 3 bytes a key, and 8 more
// while it learns), and reading a key badger does not have costs a search
// of every memtable. A writer that skips a read holds the key until its
// transaction ends, and a writer that needs a held key runs again once the
// holder is done, so racing creators still store one record. A write made behind the Store's back, through
// Store.DB, is not in the filter (see Store.DB).
//
// CreateBatch (backend.Batcher, which Users.Import uses) writes many
// records in transactions of up to 128, each record read and written as
// Create does it, so a commit's fixed cost is shared. The transactions
// are pipelined: the next one reads and writes its records while badger
// applies the one before, and when they clash, badger's conflict check,
// or the key the earlier one holds, makes the later run again. A
// transaction too big for badger, or one that keeps conflicting with other
// writers, is split in halves.
//
// # Queries
//
// Pushdown and Explain describe what runs on the indexes: eq, sw and
// range comparisons on an indexed attribute, combined with and/or, become
// index scans whose record ids are intersected or united; whatever else a
// filter holds is evaluated on the records with the filter compiled by
// query.Compile, so every filter gets the evaluator's answer. A sort on
// one indexed, required attribute walks that index forwards or backwards
// from the cursor position, ties broken by id; a small set of candidates
// is instead fetched and sorted in memory. A Query reads one badger
// transaction, a consistent snapshot however slowly its consumer goes.
// The Store is a backend.Preparer: the index plan, the compiled filter
// and the sort index of a query the directory repeats are made once.
//
// A list by one unique value (emails.value eq "a@x.io") reads the unique
// index key, whose value is the record's id, and then the record. The
// Store remembers the id each such key held when it was last read
// (Options.LookupCache), and next time reads the record alone and checks
// that it has the value: a record that has it in the query's snapshot is
// the one the index names. An entry that has gone stale (the value moved
// to another user, the user deleted) costs one read more than no cache,
// and never a wrong answer, so writes need not update the cache; a lookup
// that finds no record forgets the key. The cache keeps
// ids and hashes of keys, not the values, and Compact empties it.
//
// Verify checks that the index entries and the records agree.
//
// # Durability
//
// Badger's Commit returns after the transaction's entries have been
// copied into the write-ahead log of the current memtable, a file badger
// maps into memory with MAP_SHARED (and values of 1 MiB or more into the
// value log, mapped alike). The pages of a shared file mapping belong to
// the kernel's page cache, not to the process, so once a write has been
// acknowledged it survives the process dying in any way (kill -9, a
// panic, the OOM killer): the next Open replays the log. TestCrashRecovery
// checks this by killing a writing process with SIGKILL at random moments.
//
// Without Options.SyncWrites nothing forces those pages to disk, so a
// power failure or a kernel crash loses what the kernel had not yet
// written back (Linux writes dirty pages back within
// vm.dirty_expire_centisecs, 30 seconds by default). With SyncWrites,
// every commit msyncs the log before it returns, which makes it survive
// those too. Badger v4 syncs once per transaction even when it commits
// several together, so concurrency amortizes the cost only a little.
// Measured with BenchmarkCreate and BenchmarkCreateParallel (a small
// record with five index entries; ext4 on a virtual disk shared with other
// work, 2 CPUs, so the ranges over several runs are wide):
//
//	one writer:             19–29 µs per Create without SyncWrites, 0.3–1.6 ms with (15 to 60 times slower)
//	32 concurrent writers:  26–42 µs per Create without SyncWrites, 0.24–1.3 ms with (8 to 30 times slower)
//
// # Disk space and erasure
//
// Badger keeps values smaller than its ValueThreshold (1 MiB by default,
// so every ordinary record) inside its LSM tree. Space held there by
// overwritten and deleted records is reclaimed by badger's background
// compaction, which drops versions no open transaction can see any more;
// nothing needs scheduling. Larger values live in the value log, whose
// files are rewritten only by value-log garbage collection:
// Options.GCInterval runs it on a schedule and CollectGarbage on demand
// (each run rewrites the files that are at least GCDiscardRatio garbage,
// until none is).
//
// Neither promises that the bytes of a deleted or overwritten record have
// left the files by any given time: the write-ahead log keeps them until
// its memtable is flushed, table files until a compaction happens to
// merge the old version with the new one (which an open read transaction
// can defer, and which never happens for data already merged into the
// last level while such a transaction was open), the head value-log file
// is never collected, and DB.Flatten stops once all tables share a level.
// So Compact (backend.Compactor, called by Directory.Compact after
// Users.Anonymize) does not rely on them: it copies the live keys into a
// new database next to the store's directory, syncs it and swaps the
// directories, so that every file holding an erased byte is deleted. It
// holds the store exclusively while it runs; Open completes or undoes a
// swap that a crash interrupted. What the file system does with the
// blocks of deleted files is beyond the store: where that matters, encrypt
// the store (Options.Tune with badger's WithEncryptionKey) or the disk.
package badger
