package backend

import "context"

// BatchItem is one record of a CreateBatch: the id and document Create
// would be given.
type BatchItem struct {
	ID  string
	Doc Document
}

// Batcher is implemented by a backend that can create many records of one
// kind in fewer writes than one Create each (one transaction per batch
// rather than per record). The directory uses it for bulk loads
// (Users.Import) and falls back to Create when a backend lacks it.
//
// CreateBatch behaves as if Create were called for each item in order,
// except that items share writes: each item is stored, with version 1,
// or refused on its own, and an item that is refused changes nothing (no
// partial record, no orphan index entry). An item whose id or unique
// index key is taken, by a stored record or by an earlier item of the
// same batch, fails with the *Error{Err: ErrAlreadyExists, Index: ...}
// Create would return. Uniqueness holds under any concurrency, as for
// Create: of racing writers of one id or one unique key, batched or not,
// exactly one succeeds.
//
// It returns one error per item, nil for each item stored; a stored
// item's record is Record{ID: item.ID, Version: 1, Doc: item.Doc}, as
// Create returns it. A failure of the storage itself (a write that cannot
// commit, ctx ending part way) is reported as the error of every item it
// kept from being stored. The second result is non-nil only when the call
// cannot run at all (ErrClosed, an undefined kind, ctx already done); the
// first is then nil and nothing was stored.
type Batcher interface {
	CreateBatch(ctx context.Context, tenant, kind string, items []BatchItem) ([]error, error)
}
