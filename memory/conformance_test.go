package memory_test

import (
	"testing"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/conformance"
	"github.com/userdir/userdir/memory"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) backend.Backend { return memory.New() })
}
