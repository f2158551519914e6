package conformance

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/directory"
)

// testExplain checks only that Explain works on every backend: which index
// a plan uses is the adapter's business, tested in the adapter.
func testExplain(t *testing.T, s *suite) {
	e := s.newEnv(t)
	e.create(e.users, directory.User{UserName: "x", Emails: []directory.Email{{Value: "x@example.com"}}})
	for _, opts := range []directory.ListOptions{
		{},
		{Filter: `userName eq "x"`},
		{Filter: `emails.value sw "x" and claims.level gt 2`, Sort: "-meta.created"},
		{Filter: `not (title pr) or emails[type eq "work"]`, Sort: "userName", Deleted: directory.OnlyDeleted},
	} {
		text, err := e.users.Explain(opts)
		require.NoErrorf(t, err, "Explain(%+v)", opts)
		assert.NotEmptyf(t, text, "Explain(%+v)", opts)
		t.Logf("Explain(%+v):\n%s", opts, text)
	}
	_, err := e.users.Explain(directory.ListOptions{Filter: `userName eq`})
	assert.ErrorIs(t, err, directory.ErrInvalidFilter)
	_, err = e.users.Explain(directory.ListOptions{Sort: "nosuch"})
	assert.ErrorIs(t, err, directory.ErrInvalidFilter)
}
