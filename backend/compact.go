package backend

import "context"

// Compactor is implemented by a backend whose files keep the bytes of
// overwritten or deleted records until some maintenance runs (an LSM
// store's compaction and value-log garbage collection, a database's
// vacuum). Compact runs that maintenance and returns once the bytes of
// every record overwritten or deleted before the call are gone from the
// backend's files, so that data the directory erased (Users.Anonymize)
// no longer sits on disk. It may take long and may block writers; the
// directory runs it only when asked (Directory.Compact).
//
// A backend that never keeps such bytes (memory: an overwritten record is
// unreachable once no reader holds its snapshot) need not implement it.
type Compactor interface {
	Compact(ctx context.Context) error
}
