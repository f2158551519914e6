package query

import (
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
	f := cases.Fold().String(norm.NFC.String(s))
	if !norm.NFC.IsNormalString(f) {
		f = norm.NFC.String(f)
	}
	return f
}
