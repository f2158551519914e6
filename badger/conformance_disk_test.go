//go:build !race

package badger

import (
	"testing"

	badgerdb "github.com/dgraph-io/badger/v4"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/conformance"
)

// The second run of the suite, on disk, is left out under the race
// detector: it doubles the package's longest test (the lost-update group
// of the suite takes minutes there) and adds no concurrency that the
// in-memory run lacks. The on-disk paths are covered under the race
// detector by TestCompactErases, TestOpenOnDisk, TestRedefine,
// TestDirectorySmoke and TestCrashRecovery.

// TestConformanceOnDisk runs the conformance suite again, against stores
// in temporary directories, where records go through the write-ahead log
// and the on-disk tables, and the search for erased data reads the files.
func TestConformanceOnDisk(t *testing.T) {
	conformance.Run(t, func(t *testing.T) backend.Backend {
		s, err := Open(t.TempDir(), Options{Tune: func(o badgerdb.Options) badgerdb.Options {
			// Small preallocated files keep the dumps short.
			return o.WithMemTableSize(8 << 20).WithValueLogFileSize(8 << 20)
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return dumper{s, t}
	})
}
