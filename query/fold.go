package query

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold returns the case-insensitive comparison form of s (DESIGN §3 rule
// 5): Unicode NFC normalization followed by full Unicode case folding, so
// "STRASSE" and "Straße" fold alike, as do a decomposed and a precomposed
// "é", while "ilker" and "İlker" do not (the dotted capital I folds to "i"
// followed by a combining dot). Folding is locale-independent.
//
// The folded text is normalized to NFC once more, because case folding can
// produce a sequence that NFC would compose; that makes the result itself
// NFC and Fold idempotent, which index keys and prefix matches rely on.
//
// ASCII text takes a fast path that allocates only when s has an upper-case
// letter. Every backend that stores a case-insensitive shadow value must
// compute it with Fold so that pushed-down and in-memory matching agree.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return foldUnicode(s)
		}
		if 'A' <= c && c <= 'Z' {
			return foldASCII(s, i)
		}
	}
	return s
}

// foldASCII lower-cases s, whose first upper-case letter is at i; it falls
// back to the Unicode path if a non-ASCII byte follows.
func foldASCII(s string, i int) string {
	b := make([]byte, len(s))
	copy(b, s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return foldUnicode(s)
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return string(b)
}

func foldUnicode(s string) string {
	// cases.Fold is stateless and cheap to build, so no package-level Caser
	// is kept.
	f := foldCherokee(cases.Fold().String(nfc(s)))
	if !norm.NFC.IsNormalString(f) {
		f = nfc(f)
	}
	return f
}

// nfc is norm.NFC.String guarded against golang/go#81028: x/text's combine()
// truncates the starter to 16 bits, so a supplementary-plane starter followed
// by a combining mark composes as the BMP starter with the same low bits
// (U+10041 U+0301 becomes U+00C1). When the result is not canonically
// equivalent to s, compose each supplementary starter's run apart.
func nfc(s string) string {
	c := norm.NFC.String(s)
	if c == s || !hasSupplementary(s) || norm.NFD.String(c) == norm.NFD.String(s) {
		return c
	}
	var b strings.Builder
	start := 0
	for i, r := range s {
		if r >= 0x10000 && i > start {
			b.WriteString(norm.NFC.String(s[start:i]))
			start = i
		}
		if r >= 0x10000 {
			// the supplementary starter itself, then its marks on their own
			size := utf8.RuneLen(r)
			b.WriteString(s[i : i+size])
			start = i + size
		}
	}
	b.WriteString(norm.NFC.String(s[start:]))
	return b.String()
}

func hasSupplementary(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0xF0 {
			return true
		}
	}
	return false
}

// foldCherokee undoes x/text's cases.Fold mapping the Cherokee capitals
// U+13A0–U+13F5 to the small letters; CaseFolding.txt folds the small
// letters U+AB70–U+ABBF and U+13F8–U+13FD to the capitals.
func foldCherokee(s string) string {
	small := func(r rune) bool { return 0xAB70 <= r && r <= 0xABBF || 0x13F8 <= r && r <= 0x13FD }
	if !strings.ContainsFunc(s, small) {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch {
		case 0xAB70 <= r && r <= 0xABBF:
			return r - 0xAB70 + 0x13A0
		case 0x13F8 <= r && r <= 0x13FD:
			return r - 8
		}
		return r
	}, s)
}
