package directory

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

func TestCursorRoundTrip(t *testing.T) {
	s := cursorSigner{key: []byte("0123456789abcdef0123456789abcdef")}
	fp := fingerprint("acme", "users", `userName eq "x"`, "-meta.created")
	n, err := query.ParseNumber("9007199254740993")
	require.NoError(t, err)
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	vals := []query.Value{
		{Kind: query.KindString, Str: "Straße"}, {Kind: query.KindNumber, Num: n},
		{Kind: query.KindTime, Time: ts}, {Kind: query.KindBool, Bool: true}, {},
	}
	c := s.encode(fp, true, vals, "id-1")
	st, got, err := s.decode(c, fp)
	require.NoError(t, err)
	assert.True(t, st.Back)
	assert.Equal(t, "id-1", st.ID)
	require.Len(t, got, len(vals))
	assert.Equal(t, "Straße", got[0].Str)
	assert.Equal(t, 0, got[1].Num.Cmp(n))
	assert.True(t, got[2].Time.Equal(ts))
	assert.True(t, got[3].Bool)
	assert.Equal(t, query.KindNull, got[4].Kind)
}

func TestCursorRejects(t *testing.T) {
	s := cursorSigner{key: []byte("0123456789abcdef0123456789abcdef")}
	fp := fingerprint("acme", "users", "", "")
	good := s.encode(fp, false, nil, "id-1")
	raw, err := base64.RawURLEncoding.DecodeString(good)
	require.NoError(t, err)
	flipped := append([]byte(nil), raw...)
	flipped[3] ^= 1
	tests := []struct {
		name   string
		cursor string
		fp     []byte
		signer cursorSigner
	}{
		{"garbage", "%%%", fp, s},
		{"empty payload", base64.RawURLEncoding.EncodeToString([]byte("short")), fp, s},
		{"flipped byte", base64.RawURLEncoding.EncodeToString(flipped), fp, s},
		{"other filter", good, fingerprint("acme", "users", `userName eq "x"`, ""), s},
		{"other tenant", good, fingerprint("globex", "users", "", ""), s},
		{"other key", good, fp, cursorSigner{key: []byte("another key of sufficient length!")}},
		{"too long", string(make([]byte, maxCursorLen+1)), fp, s},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.signer.decode(tt.cursor, tt.fp)
			assert.ErrorIs(t, err, ErrInvalidCursor)
		})
	}
}
