package query

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keyPieces are string fragments that stress folding and escaping.
var keyPieces = []string{
	"", "\x00", "\x01", "\xff", "a", "A", "b", "z", "Z", "ß", "SS", "ss", "ẞ", "é", "e\u0301", "E\u0301",
	"İ", "i", "I", "ı", "\u0307", "K", "\u212a", "ﬃ", "ffi", "Σ", "σ", "ς", "\uffff", "\U0001F600", "ÿ", "Ÿ", "0", "~",
}

// keyNumbers are numbers around the edges of the encoding.
var keyNumbers = []string{
	"0", "-0", "1", "-1", "9", "10", "11", "0.1", "0.11", "0.12", "-0.1", "-0.11", "-0.12", "1e-400", "-1e-400",
	"1e400", "-1e400", "9007199254740992", "9007199254740993", "-9007199254740993", "123456789012345678901234567890",
	"1.5", "15e-1", "0.000001", "1e-7", "99999999999999999999", "1e20", "1e21", "-2.5", "-25", "2.5e1",
}

func randNumber(r *rand.Rand) Number {
	if r.IntN(3) == 0 {
		return fxNum(keyNumbers[r.IntN(len(keyNumbers))])
	}
	var b strings.Builder
	if r.IntN(2) == 0 {
		b.WriteByte('-')
	}
	b.WriteByte(byte('1' + r.IntN(9)))
	for range r.IntN(20) {
		b.WriteByte(byte('0' + r.IntN(10)))
	}
	b.WriteString("e" + strconv.Itoa(r.IntN(60)-30))
	return fxNum(b.String())
}

func randTime(r *rand.Rand) time.Time {
	var sec int64
	switch r.IntN(4) {
	case 0:
		sec = r.Int64N(1<<40) - 1<<39 // years around ±17000
	case 1:
		sec = 1704067200 + r.Int64N(3) // 2024-01-01, few distinct seconds
	default:
		sec = r.Int64N(4102444800) - 2208988800 // 1900..2100
	}
	zone := time.FixedZone("", (r.IntN(49)-24)*1800)
	return time.Unix(sec, r.Int64N(3)*r.Int64N(1e9)).In(zone)
}

func randString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(5) {
		b.WriteString(keyPieces[r.IntN(len(keyPieces))])
	}
	return b.String()
}

func randValue(r *rand.Rand) Value {
	switch r.IntN(9) {
	case 0:
		return Value{}
	case 1:
		return Value{Kind: KindBool, Bool: r.IntN(2) == 0}
	case 2, 3:
		return Value{Kind: KindNumber, Num: randNumber(r)}
	case 4, 5:
		return Value{Kind: KindTime, Time: randTime(r)}
	}
	return Value{Kind: KindString, Str: randString(r)}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// TestAppendKeyOrder is the property test of AppendKey: the byte order of
// encodings is the order of values, and no encoding is a proper prefix of
// another.
func TestAppendKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		a, b := randValue(r), randValue(r)
		if i%3 == 0 {
			b.Kind = a.Kind // more same-kind pairs
			if a.Kind == KindString && r.IntN(2) == 0 {
				b.Str = strings.ToUpper(a.Str)
			}
		}
		exact := r.IntN(2) == 0
		ka, kb := AppendKey(nil, a, exact), AppendKey(nil, b, exact)
		want := compareValues(a, b, exact)
		if !assert.Equal(t, want, sign(bytes.Compare(ka, kb)), "%#v vs %#v (caseExact %v)", a, b, exact) {
			return
		}
		if !bytes.Equal(ka, kb) && (bytes.HasPrefix(kb, ka) || bytes.HasPrefix(ka, kb)) {
			t.Fatalf("prefix: %x %x", ka, kb)
		}
		// Concatenated into tuples, keys still compare component-wise.
		c := randValue(r)
		ta := AppendKey(AppendKey(nil, a, exact), c, exact)
		tb := AppendKey(AppendKey(nil, b, exact), randValue(r), exact)
		if want != 0 {
			require.Equal(t, want, sign(bytes.Compare(ta, tb)))
		}
	}
}

func TestAppendKeyVectors(t *testing.T) {
	cases := []struct {
		v     Value
		exact bool
		want  []byte
	}{
		{Value{}, false, []byte{tagNull}},
		{Value{Kind: KindBool}, false, []byte{tagBool, 0}},
		{Value{Kind: KindBool, Bool: true}, false, []byte{tagBool, 1}},
		{Value{Kind: KindNumber}, false, []byte{tagNumber, numZero}},
		{Value{Kind: KindNumber, Num: fxNum("12")}, false, []byte{tagNumber, numPos, 0x80, 0, 0, 0, 0, 0, 0, 2, '1', '2', 0}},
		{Value{Kind: KindNumber, Num: fxNum("0.05")}, false, []byte{tagNumber, numPos, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '5', 0}},
		{Value{Kind: KindNumber, Num: fxNum("-12")}, false, []byte{tagNumber, numNeg, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd, ^byte('1'), ^byte('2'), 0xff}},
		{Value{Kind: KindTime, Time: time.Unix(1, 5)}, false, []byte{tagTime, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5}},
		{Value{Kind: KindTime, Time: time.Unix(-1, 0)}, false, []byte{tagTime, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
		{Value{Kind: KindString, Str: "Ab\x00"}, false, []byte{tagString, 'a', 'b', 0, 0xff, 0, 1}},
		{Value{Kind: KindString, Str: "Ab\x00"}, true, []byte{tagString, 'A', 'b', 0, 0xff, 0, 1}},
		{Value{Kind: KindString, Str: "Straße"}, false, []byte{tagString, 's', 't', 'r', 'a', 's', 's', 'e', 0, 1}},
		{Value{Kind: 99}, false, []byte{tagNull}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, AppendKey(nil, tc.v, tc.exact), "%#v", tc.v)
		// AppendKey appends: what dst holds is kept.
		assert.Equal(t, append([]byte("pre"), tc.want...), AppendKey([]byte("pre"), tc.v, tc.exact))
	}
	// Instants in different zones, and numbers written differently, key alike.
	t1 := fxTime("2024-01-01T01:00:00+01:00")
	t2 := fxTime("2024-01-01T00:00:00Z")
	assert.Equal(t, AppendKey(nil, Value{Kind: KindTime, Time: t1}, false), AppendKey(nil, Value{Kind: KindTime, Time: t2}, false))
	assert.Equal(t, AppendKey(nil, Value{Kind: KindNumber, Num: fxNum("3")}, false), AppendKey(nil, Value{Kind: KindNumber, Num: fxNum("30e-1")}, false))
	assert.Equal(t, AppendKey(nil, Value{Kind: KindString, Str: "e\u0301"}, false), AppendKey(nil, Value{Kind: KindString, Str: "\u00c9"}, false))
	assert.NotEqual(t, AppendKey(nil, Value{Kind: KindString, Str: "ilker"}, false), AppendKey(nil, Value{Kind: KindString, Str: "\u0130lker"}, false))
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"":              "",
		"abc":           "abc",
		"ABC":           "abc",
		"a\x00B":        "a\x00b",
		"STRASSE":       "strasse",
		"Straße":        "strasse",
		"ẞ":             "ss",
		"\u0130lker":    "i\u0307lker",
		"ILKER":         "ilker",
		"e\u0301":       "\u00e9",
		"\u00c9":        "\u00e9",
		"\u212a":        "k",
		"ΣΑΣ":           "σασ",
		"ς":             "σ",
		"ﬃ":             "ffi",
		"Mixed é ASCII": "mixed é ascii",
	} {
		assert.Equal(t, want, Fold(in), "%q", in)
	}
	// Idempotent, and the fast path returns its input unchanged.
	r := rand.New(rand.NewPCG(3, 4))
	for range 20000 {
		s := randString(r)
		f := Fold(s)
		assert.Equal(t, f, Fold(f), "%q", s)
	}
	s := "already lower ascii"
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = Fold(s) }))
}

func BenchmarkFold(b *testing.B) {
	for _, s := range []string{"lowercase@example.com", "Mixed.Case@Example.COM", "Müller-Straße"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Fold(s)
			}
		})
	}
}
