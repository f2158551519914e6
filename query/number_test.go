package query_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/userdir/userdir/query"
)

func num(t testing.TB, s string) query.Number {
	t.Helper()
	n, err := query.ParseNumber(s)
	require.NoError(t, err, s)
	return n
}

func TestParseNumber(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"0.0", "0"},
		{"-0.000", "0"},
		{"0e10", "0"},
		{"0E-10", "0"},
		{"3", "3"},
		{"3.0", "3"},
		{"3e0", "3"},
		{"30e-1", "3"},
		{"0.3e1", "3"},
		{"300e-2", "3"},
		{"-3", "-3"},
		{"100", "100"},
		{"1e2", "100"},
		{"1E+2", "100"},
		{"1e02", "100"},
		{"1e-0", "1"},
		{"0.5", "0.5"},
		{"5e-1", "0.5"},
		{"-1.25", "-1.25"},
		{"123.4500", "123.45"},
		{"0.000001", "0.000001"},
		{"0.0000001", "1e-7"},
		{"0.00000015", "1.5e-7"},
		{"1e20", "100000000000000000000"},
		{"1e21", "1e21"},
		{"12e20", "1200000000000000000000"},
		{"12e21", "1.2e22"},
		{"-1.2345e300", "-1.2345e300"},
		{"9007199254740993", "9007199254740993"},
		{"12345678901234567890123", "12345678901234567890123"},
		{"1234567890123456789012300000", "1234567890123456789012300000"},
		{"0.1234567890123456789", "0.1234567890123456789"},
		{"1e999999999", "1e999999999"},
		{"-1e-999999999", "-1e-999999999"},
		{"1e000000000000000005", "100000"},
		{"1.5e999999999", "1.5e999999999"},
		{"0.1e999999999", "1e999999998"},
		{"0.01e-999999997", "1e-999999999"},
		{"-9.99e999999999", "-9.99e999999999"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			n := num(t, tc.in)
			assert.Equal(t, tc.want, n.String())
			back := num(t, n.String())
			assert.Equal(t, n, back, "String reads back as the same Number")
			assert.Zero(t, n.Cmp(back))
		})
	}
}

func TestParseNumberErrors(t *testing.T) {
	for _, in := range []string{
		"", "-", "+3", "03", "-03", "00", ".5", "-.5", "1.", "1.e5", "1e", "1e+", "1e-", "--1", "0x1F",
		"NaN", "Infinity", "-Infinity", "1 ", " 1", "1_000", "1,5", "1e1000000000", "1e-1000000000",
		"١", "3\x00", "true", "10e999999999", "0.01e-999999998", "1e9999999999",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := query.ParseNumber(in)
			assert.Error(t, err)
		})
	}
	_, err := query.ParseNumber("1" + strings.Repeat("x", 1000))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 200, "long input is elided in the message")
}

func TestNumberCmp(t *testing.T) {
	// Strictly ascending; each group holds equal values written differently.
	groups := [][]string{
		{"-1e999999999"},
		{"-1e21", "-1000000000000000000000"},
		{"-9007199254740993"},
		{"-9007199254740992", "-9007199254740992.0", "-9.007199254740992e15"},
		{"-3.5"},
		{"-3", "-3.0", "-30e-1"},
		{"-2.9999999999999999999999"},
		{"-1e-999999999"},
		{"0", "-0", "0.0", "0e5", "-0e-5"},
		{"1e-999999999"},
		{"0.0000001", "1e-7"},
		{"0.1", "1e-1", "0.10"},
		{"0.12"},
		{"0.2"},
		{"1", "1.0", "10e-1", "0.1e1"},
		{"2.9999999999999999999999"},
		{"3", "3.0", "3e0", "30e-1", "0.3e1", "3.000"},
		{"3.0000000000000000000001"},
		{"10"},
		{"99"},
		{"100", "1e2"},
		{"9007199254740992", "9.007199254740992e15"},
		{"9007199254740993"},
		{"12345678901234567890"},
		{"1e21"},
		{"1.0000000000000000000001e21"},
		{"1e999999999"},
	}
	type item struct {
		text string
		n    query.Number
		rank int
	}
	var all []item
	for rank, g := range groups {
		for _, s := range g {
			all = append(all, item{s, num(t, s), rank})
		}
	}
	for _, a := range all {
		for _, b := range all {
			want := 0
			switch {
			case a.rank < b.rank:
				want = -1
			case a.rank > b.rank:
				want = 1
			}
			assert.Equal(t, want, a.n.Cmp(b.n), "%s vs %s", a.text, b.text)
			assert.Equal(t, want == 0, a.n == b.n, "== agrees with Cmp: %s vs %s", a.text, b.text)
		}
	}
	// Sorting with Cmp reproduces the ranks.
	shuffled := slices.Clone(all)
	slices.Reverse(shuffled)
	slices.SortStableFunc(shuffled, func(a, b item) int { return a.n.Cmp(b.n) })
	for i := 1; i < len(shuffled); i++ {
		assert.LessOrEqual(t, shuffled[i-1].rank, shuffled[i].rank)
	}
}

func TestNumberSignZero(t *testing.T) {
	var zero query.Number
	assert.True(t, zero.IsZero())
	assert.Equal(t, 0, zero.Sign())
	assert.Equal(t, "0", zero.String())
	assert.Equal(t, zero, num(t, "-0.0e7"))
	assert.Equal(t, 1, num(t, "1e-999999999").Sign())
	assert.Equal(t, -1, num(t, "-0.5").Sign())
	assert.False(t, num(t, "-0.5").IsZero())
}

func TestNumberInt64(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"-0.0", 0, true},
		{"42", 42, true},
		{"4.2e1", 42, true},
		{"-42", -42, true},
		{"1e18", 1e18, true},
		{"9223372036854775807", math.MaxInt64, true},
		{"-9223372036854775808", math.MinInt64, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"1e19", 0, false},
		{"1e999999999", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"4.5", 0, false},
		{"1e-999999999", 0, false},
	} {
		got, ok := num(t, tc.in).Int64()
		assert.Equal(t, tc.ok, ok, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestNumberFromInt64(t *testing.T) {
	for _, i := range []int64{0, 1, -1, 7, 10, -100, 1234500, 9007199254740993, math.MaxInt64, math.MinInt64} {
		n := query.NumberFromInt64(i)
		assert.Equal(t, num(t, n.String()), n)
		back, ok := n.Int64()
		assert.True(t, ok)
		assert.Equal(t, i, back)
	}
	assert.Equal(t, "-9223372036854775808", query.NumberFromInt64(math.MinInt64).String())
	assert.Equal(t, num(t, "1e2"), query.NumberFromInt64(100))
}

func TestNumberFromFloat64(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{0.1, "0.1"},
		{-2.5, "-2.5"},
		{3, "3"},
		{1e21, "1e21"},
		{1e300, "1e300"},
		{5e-324, "5e-324"},
		{9007199254740993, "9007199254740992"}, // not representable in float64
	} {
		n, ok := query.NumberFromFloat64(tc.f)
		assert.True(t, ok)
		assert.Equal(t, tc.want, n.String())
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, ok := query.NumberFromFloat64(f)
		assert.False(t, ok)
	}
}

func TestNumberJSON(t *testing.T) {
	var v struct {
		N query.Number  `json:"n"`
		P *query.Number `json:"p"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"n": 9007199254740993.0, "p": -1.50e1}`), &v))
	assert.Equal(t, "9007199254740993", v.N.String())
	require.NotNil(t, v.P)
	assert.Equal(t, "-15", v.P.String())
	out, err := json.Marshal(v)
	require.NoError(t, err)
	assert.JSONEq(t, `{"n": 9007199254740993, "p": -15}`, string(out))
	assert.Equal(t, `{"n":9007199254740993,"p":-15}`, string(out))

	n := query.NumberFromInt64(5)
	require.NoError(t, json.Unmarshal([]byte(`null`), &n))
	assert.Equal(t, "5", n.String(), "null leaves the Number unchanged")
	assert.Error(t, json.Unmarshal([]byte(`"5"`), &n))
	assert.Error(t, json.Unmarshal([]byte(`{"n": 05}`), &v))
}

// TestNumberHugeExponent checks that exponents are never expanded into
// digits: the work and memory do not depend on the exponent's size.
func TestNumberHugeExponent(t *testing.T) {
	big, tiny := num(t, "1e999999999"), num(t, "1e-999999999")
	allocs := testing.AllocsPerRun(100, func() {
		n, _ := query.ParseNumber("1e999999999")
		_ = n.Cmp(tiny)
		_, _ = n.Int64()
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 1, big.Cmp(tiny))
	assert.Equal(t, "1e999999999", big.String())
	assert.Equal(t, "1e-999999999", tiny.String())
}
