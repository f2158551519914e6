package directory

import (
	"encoding/base64"
	"errors"
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

// FuzzCursor checks that decoding any text as a cursor neither panics nor
// fails with anything but ErrInvalidCursor, and that any payload signed
// with the directory's key (what a forged key would reach) decodes to a
// position that encodes and decodes to itself, or fails the same way.
func FuzzCursor(f *testing.F) {
	s := cursorSigner{key: []byte("0123456789abcdef0123456789abcdef")}
	fp := fingerprint("acme", "users", "", "")
	n, _ := query.ParseNumber("-12.5e3")
	f.Add(s.encode(fp, false, nil, "id-1"), []byte(`{"v":1,"f":"AA==","i":"x"}`))
	f.Add(s.encode(fp, true, []query.Value{{Kind: query.KindString, Str: "a"}, {Kind: query.KindNumber, Num: n},
		{Kind: query.KindTime, Time: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)}, {Kind: query.KindBool, Bool: true}, {}}, "id-2"),
		[]byte(`{"v":1,"f":null,"k":[{"k":2,"s":"1e999999999"},{"k":4,"s":"2024-13-01T00:00:00Z"},{"k":9}],"i":""}`))
	f.Add("", []byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, cursor string, payload []byte) {
		for _, c := range []string{cursor, base64.RawURLEncoding.EncodeToString(append(payload, s.mac(payload)...))} {
			st, vals, err := s.decode(c, fp)
			if err != nil {
				if !errors.Is(err, ErrInvalidCursor) {
					t.Fatalf("decode(%q): %v is not ErrInvalidCursor", c, err)
				}
				continue
			}
			st2, vals2, err := s.decode(s.encodeState(cursorState{V: st.V, Back: st.Back, Inc: st.Inc, FP: st.FP, ID: st.ID}, vals), fp)
			if err != nil {
				t.Fatalf("decode(%q) = %+v, which does not encode and decode again: %v", c, st, err)
			}
			if st2.Back != st.Back || st2.Inc != st.Inc || st2.ID != st.ID || len(vals2) != len(vals) {
				t.Fatalf("decode(%q) = %+v, encoded and decoded as %+v", c, st, st2)
			}
			for i := range vals {
				if vals[i].Kind != vals2[i].Kind || vals[i].String() != vals2[i].String() {
					t.Fatalf("decode(%q): value %d is %v, encoded and decoded %v", c, i, vals[i], vals2[i])
				}
			}
		}
	})
}
