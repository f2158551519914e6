package query

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Number is an exact decimal number: the value of a JSON number literal
// kept digit for digit, so that 2^53+1 and 2^53 stay different and 3, 3.0,
// 3e0 and 30e-1 are one value (DESIGN §3 rule 7). It never goes through
// float64.
//
// The zero value is 0. Numbers are normalized, so two Numbers have the same
// value exactly when they are == (and a Number may be used as a map key);
// Cmp orders them.
//
// A number's decimal exponent is kept as an integer and never expanded into
// digits, so 1e999999999 costs a few bytes. ParseNumber rejects exponents
// written with more than nine significant digits and values whose exponent
// in scientific notation is beyond ±999999999 (10e999999999 is out of
// range), which keeps exponent arithmetic well within int64.
type Number struct {
	// The value is (neg ? -1 : 1) × digits × 10^exp. digits is the decimal
	// coefficient with neither leading nor trailing zeros, "" for zero;
	// zero is never negative and has exp 0. These invariants make the
	// representation of a value unique.
	neg    bool
	digits string
	exp    int64
}

// maxExpDigits bounds the significant digits of a written exponent, and
// maxSciExp the exponent of a value in scientific notation: large enough for
// any real data, small enough that arithmetic on exponents cannot overflow,
// and matched so that every Number's String reads back.
const (
	maxExpDigits = 9
	maxSciExp    = 999_999_999
)

// ParseNumber parses JSON number text ("-12.5e3"): an optional minus sign,
// an integer part without leading zeros, an optional fraction and an
// optional exponent. Anything else ("+3", "03", ".5", "1.", "NaN", "0x1F")
// is an error.
func ParseNumber(s string) (Number, error) {
	n, size, off, msg := scanNumber(s)
	if msg == "" && size != len(s) {
		off, msg = size, "unexpected character after number"
	}
	if msg != "" {
		return Number{}, errors.New("query: invalid number " + quoteShort(s) + " at offset " + strconv.Itoa(off) + ": " + msg)
	}
	return n, nil
}

// quoteShort quotes s for an error message, eliding the middle of long
// text so that a hostile input cannot make the message huge.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max/2] + "…" + s[len(s)-max/2:]
	}
	return strconv.Quote(s)
}

// scanNumber parses the JSON number at the start of s and returns it with
// the length of its text. On error msg is non-empty and off is the offset in
// s of the problem. It stops at the first byte that cannot continue the
// number; the caller decides whether that byte may follow a number.
func scanNumber(s string) (n Number, size int, off int, msg string) {
	i := 0
	if i < len(s) && s[i] == '-' {
		n.neg = true
		i++
	}
	intStart := i
	switch {
	case i >= len(s) || !isDigit(s[i]):
		return Number{}, 0, i, "expected a digit"
	case s[i] == '0':
		i++
		if i < len(s) && isDigit(s[i]) {
			return Number{}, 0, intStart, "a number must not have leading zeros"
		}
	default:
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	intPart := s[intStart:i]

	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return Number{}, 0, i, "expected a digit after the decimal point"
		}
		frac = s[start:i]
	}

	var exp int64
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		start := i
		sig := 0
		for i < len(s) && isDigit(s[i]) {
			if sig > 0 || s[i] != '0' {
				sig++
				if sig > maxExpDigits {
					return Number{}, 0, start, "exponent out of range"
				}
				exp = exp*10 + int64(s[i]-'0')
			}
			i++
		}
		if i == start {
			return Number{}, 0, i, "expected a digit in the exponent"
		}
		if expNeg {
			exp = -exp
		}
	}

	// Normalize without allocating in the common cases: an integer, a
	// fraction of zero ("3.0") or a number below one ("0.25") all keep a
	// substring of s as their digits.
	frac = strings.TrimRight(frac, "0")
	switch {
	case frac == "" && intPart == "0":
		return Number{}, i, 0, ""
	case frac == "":
		n.digits = intPart
	case intPart == "0":
		t := strings.TrimLeft(frac, "0")
		n.digits = t
		exp -= int64(len(frac))
	default:
		n.digits = intPart + frac
		exp -= int64(len(frac))
	}
	t := strings.TrimRight(n.digits, "0")
	exp += int64(len(n.digits) - len(t))
	n.digits = t
	n.exp = exp
	if sci := n.sciExp(); sci > maxSciExp || sci < -maxSciExp {
		// String would have to write an exponent that ParseNumber
		// refuses.
		return Number{}, 0, 0, "exponent out of range"
	}
	return n, i, 0, ""
}

// sciExp returns the exponent of n in scientific notation (d.ddd × 10^sciExp),
// for a non-zero n.
func (n Number) sciExp() int64 { return n.exp + int64(len(n.digits)) - 1 }

// NumberFromInt64 returns the Number with the value i.
func NumberFromInt64(i int64) Number {
	if i == 0 {
		return Number{}
	}
	u := uint64(i)
	if i < 0 {
		u = -u
	}
	var exp int64
	for u%10 == 0 {
		u /= 10
		exp++
	}
	return Number{neg: i < 0, digits: strconv.FormatUint(u, 10), exp: exp}
}

// NumberFromFloat64 returns the Number with the shortest decimal text that
// reads back as f (as strconv.FormatFloat with precision -1 chooses it), so
// 0.1 is the decimal 0.1 rather than the binary fraction nearest to it. It
// reports false for NaN and infinities, which have no JSON form.
func NumberFromFloat64(f float64) (Number, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Number{}, false
	}
	n, _, _, msg := scanNumber(strconv.FormatFloat(f, 'g', -1, 64))
	return n, msg == ""
}

// Sign returns -1, 0 or +1 as n is negative, zero or positive.
func (n Number) Sign() int {
	switch {
	case n.digits == "":
		return 0
	case n.neg:
		return -1
	}
	return 1
}

// IsZero reports whether n is zero (whatever form it was written in: 0,
// -0, 0.0, 0e5).
func (n Number) IsZero() bool { return n.digits == "" }

// Cmp compares n and m exactly and returns -1, 0 or +1 as n is less than,
// equal to or greater than m.
func (n Number) Cmp(m Number) int {
	ns, ms := n.Sign(), m.Sign()
	if ns != ms {
		if ns < ms {
			return -1
		}
		return 1
	}
	if ns == 0 {
		return 0
	}
	c := cmpMagnitude(n, m)
	if ns < 0 {
		return -c
	}
	return c
}

// cmpMagnitude compares |n| and |m|, both non-zero.
func cmpMagnitude(n, m Number) int {
	// The position of the leading digit decides unless it is the same;
	// then the normalized coefficients compare as digit strings, a longer
	// one being larger when one is a prefix of the other.
	na, ma := n.sciExp(), m.sciExp()
	switch {
	case na < ma:
		return -1
	case na > ma:
		return 1
	}
	return strings.Compare(n.digits, m.digits)
}

// Int64 returns n as an int64 when n is an integer in the range of int64.
func (n Number) Int64() (int64, bool) {
	if n.digits == "" {
		return 0, true
	}
	if n.exp < 0 || int64(len(n.digits))+n.exp > 19 {
		return 0, false
	}
	var u uint64
	for i := 0; i < len(n.digits); i++ {
		u = u*10 + uint64(n.digits[i]-'0')
	}
	for range n.exp {
		if u > math.MaxUint64/10 {
			return 0, false
		}
		u *= 10
	}
	if n.neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// String returns the canonical JSON text of n: the same for every way of
// writing one value, and read back by ParseNumber as that value. Integers
// print plainly ("3", "100", "-12345678901234567890") unless they would need
// more than 20 trailing zeros; fractions print plainly ("0.5", "-1.25",
// "0.000001") unless they would need more than 5 zeros after the point.
// Other values use an exponent, with as many digits as the value has:
// "1e21", "1.5e-7", "-1.2345e300".
func (n Number) String() string {
	if n.digits == "" {
		return "0"
	}
	return string(n.appendText(make([]byte, 0, len(n.digits)+8)))
}

// appendText appends the canonical text of n to dst.
func (n Number) appendText(dst []byte) []byte {
	if n.digits == "" {
		return append(dst, '0')
	}
	if n.neg {
		dst = append(dst, '-')
	}
	d, e := n.digits, n.exp
	switch {
	case e >= 0 && e <= 20:
		dst = append(dst, d...)
		for range e {
			dst = append(dst, '0')
		}
	case e < 0 && -e < int64(len(d)):
		p := len(d) + int(e)
		dst = append(dst, d[:p]...)
		dst = append(dst, '.')
		dst = append(dst, d[p:]...)
	case e < 0 && -e-int64(len(d)) <= 5:
		dst = append(dst, "0."...)
		for range -e - int64(len(d)) {
			dst = append(dst, '0')
		}
		dst = append(dst, d...)
	default:
		dst = append(dst, d[0])
		if len(d) > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		dst = strconv.AppendInt(dst, n.sciExp(), 10)
	}
	return dst
}

// MarshalJSON returns the canonical text of n as a JSON number.
func (n Number) MarshalJSON() ([]byte, error) {
	return n.appendText(nil), nil
}

// UnmarshalJSON sets n from JSON number text. Like encoding/json for other
// types, it leaves n unchanged for null.
func (n *Number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := ParseNumber(string(b))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
