package mongo

import (
	"testing"

	"github.com/userdir/userdir/backend"
	"github.com/userdir/userdir/conformance"
)

func TestConformance(t *testing.T) {
	testURI(t)
	conformance.Run(t, func(t *testing.T) backend.Backend { return testStore(t, Options{}) })
}
