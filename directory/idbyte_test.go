package directory

import "testing"

// TestIsIDByteTable checks the bit sets of isIDByte against the ranges
// they encode, for every byte.
func TestIsIDByteTable(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		want := b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '-' || b == '~'
		if got := isIDByte(b); got != want {
			t.Errorf("isIDByte(%q) = %v, want %v", b, got, want)
		}
	}
}
