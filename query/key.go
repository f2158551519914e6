package query

import (
	"encoding/binary"
	"slices"
	"strings"
)

// Type tags of AppendKey. Their order is the order of values of different
// kinds: null < boolean < number < dateTime < string. Values of different
// kinds only meet under claims, where the JSON type comes from the data.
const (
	tagNull   byte = 0x01
	tagBool   byte = 0x10
	tagNumber byte = 0x20
	tagTime   byte = 0x30
	tagString byte = 0x40
)

// Sign classes of an encoded number.
const (
	numNeg  byte = 0x01
	numZero byte = 0x02
	numPos  byte = 0x03
)

// AppendKey appends to dst an encoding of v whose byte order is the order
// of the values, for index keys and keyset cursors: for any two values a
// and b, bytes.Compare of their encodings is the comparison of a and b —
// by kind first (null < boolean < number < dateTime < string), then false <
// true, numbers by exact value, dateTimes by instant, and strings by code
// point after Fold (or as they are when caseExact). The encoding is
// prefix-free, so keys can be concatenated into tuples that still compare
// component by component.
//
// Layout after the one-byte kind tag:
//
//   - boolean: one byte, 0 or 1;
//   - number: a sign class byte (negative < zero < positive); for non-zero
//     numbers the decimal exponent of the leading digit as a big-endian
//     int64 with its sign bit flipped, the significant digits as ASCII and a
//     0x00 terminator, every byte after the class inverted for negative
//     numbers so that larger magnitudes sort first;
//   - dateTime: Unix seconds as a big-endian int64 with its sign bit
//     flipped, then nanoseconds as a big-endian uint32 (instants in any
//     zone encode alike);
//   - string: the bytes, with 0x00 escaped as 0x00 0xFF, terminated by
//     0x00 0x01.
func AppendKey(dst []byte, v Value, caseExact bool) []byte {
	switch v.Kind {
	case KindBool:
		b := byte(0)
		if v.Bool {
			b = 1
		}
		return append(dst, tagBool, b)
	case KindNumber:
		return appendNumberKey(append(dst, tagNumber), v.Num)
	case KindTime:
		dst = append(dst, tagTime)
		dst = binary.BigEndian.AppendUint64(dst, uint64(v.Time.Unix())^(1<<63))
		return binary.BigEndian.AppendUint32(dst, uint32(v.Time.Nanosecond()))
	case KindString:
		s := v.Str
		if !caseExact {
			s = Fold(s)
		}
		// The tag, the bytes and the terminator, in one allocation at
		// most (a NUL byte, rare, costs one more).
		dst = slices.Grow(dst, len(s)+3)
		return appendStringKey(append(dst, tagString), s)
	}
	return append(dst, tagNull)
}

// appendNumberKey encodes n (see AppendKey). Number keeps its value as
// digits × 10^exp with no leading or trailing zeros in digits, so the
// exponent of the leading digit and the digits themselves order
// magnitudes: a higher leading exponent is larger, and for equal ones the
// digit strings compare lexicographically, a shorter one (a prefix) being
// smaller, which the 0x00 terminator below every digit ensures.
func appendNumberKey(dst []byte, n Number) []byte {
	switch n.Sign() {
	case 0:
		return append(dst, numZero)
	case -1:
		dst = append(dst, numNeg)
	default:
		dst = append(dst, numPos)
	}
	start := len(dst)
	lead := n.exp + int64(len(n.digits))
	dst = binary.BigEndian.AppendUint64(dst, uint64(lead)^(1<<63))
	dst = append(dst, n.digits...)
	dst = append(dst, 0)
	if n.neg {
		invert(dst[start:])
	}
	return dst
}

// appendStringKey appends s escaped and terminated (see AppendKey).
func appendStringKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0, 1)
}

// invert flips every bit of b, reversing the order of prefix-free
// encodings.
func invert(b []byte) {
	for i := range b {
		b[i] = ^b[i]
	}
}

// compareValues compares two values in the order AppendKey encodes: by
// kind, then by value; strings after Fold unless caseExact.
func compareValues(a, b Value, caseExact bool) int {
	if ka, kb := kindRank(a.Kind), kindRank(b.Kind); ka != kb {
		return cmpInt64(int64(ka), int64(kb))
	}
	switch a.Kind {
	case KindBool:
		switch {
		case a.Bool == b.Bool:
			return 0
		case b.Bool:
			return -1
		}
		return 1
	case KindNumber:
		return a.Num.Cmp(b.Num)
	case KindTime:
		return a.Time.Compare(b.Time)
	case KindString:
		if caseExact {
			return strings.Compare(a.Str, b.Str)
		}
		return strings.Compare(Fold(a.Str), Fold(b.Str))
	}
	return 0
}

// kindRank orders kinds as the AppendKey tags do; an unknown kind ranks
// as null.
func kindRank(k Kind) byte {
	switch k {
	case KindBool:
		return tagBool
	case KindNumber:
		return tagNumber
	case KindTime:
		return tagTime
	case KindString:
		return tagString
	}
	return tagNull
}
