// Package conformance is the contract every userdir storage backend must
// pass: memory, badger and mongo run it from their own tests, and so can a
// third party's backend.
//
// Run drives a fresh backend per subtest through directory.New and the
// directory's public API only, so passing it proves that the backend plus
// the directory behaves exactly like every other backend: CRUD and error
// identity, versions and conditional writes, case-folded uniqueness under
// racing creates, no lost updates, tenant isolation, the SCIM query
// language checked against an oracle (query.Eval and hand-written Go
// predicates, go-cloud's drivertest style), sorting, keyset and offset
// paging under concurrent writes, counts, projection, PATCH, import, and
// atomicity of refused writes.
//
// Two groups are the exception, and drive the backend directly with a
// kind of their own. Batch checks a backend that implements
// backend.Batcher with what the directory never hands a backend (nil and
// foreign documents) and the errors as the backend reports them; a
// backend without batches skips it. Prepare checks that a query a
// backend.Preparer prepared answers as the same query unprepared, as the
// data changes and from several goroutines, and that every backend
// ignores a Prepared value it did not make: for another filter or sort,
// by another backend whose kind declares its indexes in another order,
// or by no backend.
//
// # Running the suite for a backend
//
// Call Run from an ordinary test in the backend's package, with a factory
// that returns a new, empty backend each time it is called and registers
// its own cleanup:
//
//	package mystore_test
//
//	import (
//		"testing"
//
//		"github.com/userdir/userdir/backend"
//		"github.com/userdir/userdir/conformance"
//		"example.com/mystore"
//	)
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, func(t *testing.T) backend.Backend {
//			s, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Run it with the race detector: go test -race ./mystore/. The groups are
// named subtests, so -run selects one: go test -run 'TestConformance/Paging'.
//
// Randomness (fixture values, writer inputs) comes from one seed, logged
// at the start; set USERDIR_CONFORMANCE_SEED to replay or vary it. Nothing
// synchronizes by sleeping, so the suite is deterministic apart from the
// interleavings the concurrency groups exist to explore.
//
// Read-only groups (Query, Sort, the paging walks, Count) load one fixture
// set into a fresh backend and run many subtests against it; every group
// that writes asks the factory for a backend per subtest.
package conformance
