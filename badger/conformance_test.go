package badger

import (
	"io"
	"testing"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/conformance"
)

// dumper is a Store that writes what it holds for the conformance
// suite's search for erased data (conformance.Dumper): the bytes of its
// files, or of every version of every key in memory.
type dumper struct {
	*Store
	t testing.TB
}

func (d dumper) Dump(w io.Writer) error {
	_, err := w.Write(dumpBytes(d.t, d.Store))
	return err
}

// TestConformance runs the backend contract against in-memory stores.
func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) backend.Backend {
		s, err := Open("", Options{InMemory: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return dumper{s, t}
	})
}
