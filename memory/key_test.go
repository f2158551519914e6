package memory

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/userdir/userdir/query"
)

// TestPrefixKey pins the assumptions the prefix and range scans make about
// query.AppendKey: a string's key minus its terminator prefixes exactly the
// keys of the strings that start with it, and the first byte of a key is
// its type.
func TestPrefixKey(t *testing.T) {
	strs := []string{"", "a", "ab", "a\x00", "a\x00b", "a\x01", "\x00", "\xff", "b", "Straße", "STRASSE", "é", "e\u0301"}
	for _, exact := range []bool{false, true} {
		for _, p := range strs {
			pk := prefixKey(p, exact)
			for _, s := range strs {
				k := query.AppendKey(nil, query.Value{Kind: query.KindString, Str: s}, exact)
				fp, fs := p, s
				if !exact {
					fp, fs = query.Fold(p), query.Fold(s)
				}
				want := len(fs) >= len(fp) && fs[:len(fp)] == fp
				assert.Equal(t, want, bytes.HasPrefix(k, pk), "%q sw %q exact=%v", s, p, exact)
			}
		}
	}
	vals := []query.Value{
		{Kind: query.KindBool, Bool: true},
		{Kind: query.KindNumber, Num: query.NumberFromInt64(-5)},
		{Kind: query.KindString, Str: "x"},
	}
	for _, v := range vals {
		k := query.AppendKey(nil, v, true)
		lo, hi, open := typeSpan(k)
		assert.False(t, open)
		for _, w := range vals {
			wk := string(query.AppendKey(nil, w, true))
			assert.Equal(t, v.Kind == w.Kind, lo <= wk && wk < hi)
		}
	}
}

func TestSucc(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
		none bool
	}{
		{[]byte{1, 2}, "\x01\x03", false},
		{[]byte{1, 0xff}, "\x02", false},
		{[]byte{0xff, 0xff}, "", true},
		{nil, "", true},
	}
	for _, tt := range tests {
		got, none := succ(tt.in)
		assert.Equal(t, tt.want, got)
		assert.Equal(t, tt.none, none)
	}
}
