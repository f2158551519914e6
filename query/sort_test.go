package query

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSort(t *testing.T) {
	s := UserSchema()
	ok := []struct{ in, canon string }{
		{"userName", "userName"},
		{"+userName", "userName"},
		{"-meta.created,userName", "-meta.created,userName"},
		{" USERNAME , -Meta.Created ", "userName,-meta.created"},
		{"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "name.familyName"},
		{"-department", "-" + entURN + ":department"},
		{"-" + entURN + ":manager.value", "-" + entURN + ":manager.value"},
		{"claims.level,-claims.Dept", "claims.level,-claims.Dept"},
		{"-id", "-id"},
		{"meta.version,active,lastLoginAt", "meta.version,active,lastLoginAt"},
	}
	for _, tc := range ok {
		got, err := ParseSort(tc.in, s)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.canon, got.String(), tc.in)
		again, err := ParseSort(got.String(), s)
		require.NoError(t, err)
		assert.Equal(t, got.String(), again.String())
	}
	for _, in := range []string{"", " ", "  "} {
		got, err := ParseSort(in, s)
		assert.NoError(t, err)
		assert.Nil(t, got)
	}
	for in, msg := range map[string]string{
		"emails":         "complex",
		"emails.value":   "multi-valued",
		"schemas":        "multi-valued",
		"groups.display": "multi-valued",
		"name":           "complex",
		"claims":         "complex",
		entURN:           "complex",
		"foo":            msgUnknown,
		"userName,,id":   msgEmptyName,
		"-":              msgEmptyName,
		"--userName":     msgUnknown,
		"userName.x":     msgSimpleSub,
	} {
		_, err := ParseSort(in, s)
		assert.ErrorIs(t, err, ErrInvalidFilter, in)
		assert.ErrorContains(t, err, msg, in)
	}
}

func TestSortFromSCIM(t *testing.T) {
	s := UserSchema()
	for _, tc := range []struct{ by, order, want string }{
		{"userName", "", "userName"},
		{"userName", "ascending", "userName"},
		{"userName", "descending", "-userName"},
		{"meta.created", "DESCENDING", "-meta.created"},
		{"", "descending", ""},
	} {
		got, err := SortFromSCIM(tc.by, tc.order, s)
		require.NoError(t, err)
		assert.Equal(t, tc.want, got.String())
	}
	_, err := SortFromSCIM("userName", "up", s)
	assert.ErrorIs(t, err, ErrInvalidFilter)
	_, err = SortFromSCIM("-userName", "", s)
	assert.ErrorIs(t, err, ErrInvalidFilter, "sortBy has no direction prefix")
	_, err = SortFromSCIM("emails", "", s)
	assert.ErrorIs(t, err, ErrInvalidFilter)
}

func TestSortValues(t *testing.T) {
	s := UserSchema()
	srt, err := ParseSort("userName,-meta.created,claims.level,department,claims.tags,lastLoginAt,meta.version", s)
	require.NoError(t, err)
	users := fxUsers()
	v := srt.Values(users[0])
	require.Len(t, v, 7)
	assert.Equal(t, Value{Kind: KindString, Str: "alice"}, v[0])
	assert.True(t, v[1].Time.Equal(fxTime("2024-01-01T00:00:00Z")))
	assert.Equal(t, "3", v[2].Num.String())
	assert.Equal(t, "Engineering", v[3].Str)
	assert.Equal(t, "a", v[4].Str, "first value of an array")
	assert.Equal(t, KindTime, v[5].Kind)
	assert.Equal(t, KindNumber, v[6].Kind)
	v = srt.Values(users[5]) // u06: minimal
	assert.Equal(t, KindNull, v[2].Kind)
	assert.Equal(t, KindNull, v[3].Kind)
	assert.Equal(t, KindNull, v[5].Kind)
	v = srt.Values(users[11]) // u12: a created date that is not a time
	assert.Equal(t, KindNull, v[1].Kind)
	assert.Len(t, Sort(nil).Values(users[0]), 0)
}

func TestSortCompare(t *testing.T) {
	s := UserSchema()
	str := func(x string) Value { return Value{Kind: KindString, Str: x} }
	num := func(x string) Value { return Value{Kind: KindNumber, Num: fxNum(x)} }
	null := Value{}
	asc, err := ParseSort("userName", s)
	require.NoError(t, err)
	desc, err := ParseSort("-userName", s)
	require.NoError(t, err)
	two, err := ParseSort("-meta.version,id", s)
	require.NoError(t, err)
	cases := []struct {
		s    Sort
		a, b []Value
		want int
	}{
		{asc, []Value{str("a")}, []Value{str("B")}, -1},
		{desc, []Value{str("a")}, []Value{str("B")}, 1},
		{asc, []Value{str("STRASSE")}, []Value{str("straße")}, 0},
		{asc, []Value{null}, []Value{str("a")}, 1},
		{desc, []Value{null}, []Value{str("a")}, 1},
		{asc, []Value{str("zzz")}, []Value{null}, -1},
		{desc, []Value{str("zzz")}, []Value{null}, -1},
		{desc, []Value{null}, []Value{null}, 0},
		{asc, nil, []Value{str("a")}, 1},
		{two, []Value{num("2"), str("a")}, []Value{num("2.0"), str("b")}, -1},
		{two, []Value{num("9007199254740993"), str("b")}, []Value{num("9007199254740992"), str("a")}, -1},
		{two, []Value{null, str("a")}, []Value{num("1"), str("b")}, 1},
		{two, []Value{num("1"), str("B")}, []Value{num("1"), str("a")}, -1}, // id is caseExact
		{Sort(nil), []Value{str("a")}, []Value{str("b")}, 0},
	}
	for i, tc := range cases {
		assert.Equal(t, tc.want, tc.s.Compare(tc.a, tc.b), "case %d", i)
		assert.Equal(t, -tc.want, tc.s.Compare(tc.b, tc.a), "case %d reversed", i)
	}
}

// TestSortKeyOrder is the property test of Sort.AppendKey: bytes.Compare of
// two records' keys is Compare, then id in the direction of the last key.
func TestSortKeyOrder(t *testing.T) {
	s := UserSchema()
	paths := []string{"userName", "id", "meta.version", "meta.created", "active", "claims.x", "externalId"}
	r := rand.New(rand.NewPCG(5, 6))
	valueFor := func(a *Attribute) Value {
		if r.IntN(4) == 0 {
			return Value{}
		}
		switch a.Type {
		case TypeString:
			return Value{Kind: KindString, Str: randString(r)}
		case TypeNumber:
			return Value{Kind: KindNumber, Num: randNumber(r)}
		case TypeDateTime:
			return Value{Kind: KindTime, Time: randTime(r)}
		case TypeBoolean:
			return Value{Kind: KindBool, Bool: r.IntN(2) == 0}
		}
		return randValue(r)
	}
	for range 3000 {
		var srt Sort
		for range r.IntN(4) {
			a, err := s.Resolve(paths[r.IntN(len(paths))])
			require.NoError(t, err)
			srt = append(srt, SortKey{Attr: a, Desc: r.IntN(2) == 0})
		}
		for range 30 {
			va, vb := make([]Value, len(srt)), make([]Value, len(srt))
			for i, k := range srt {
				va[i], vb[i] = valueFor(k.Attr), valueFor(k.Attr)
				if r.IntN(3) == 0 {
					vb[i] = va[i]
				}
			}
			ida, idb := randString(r), randString(r)
			if r.IntN(4) == 0 {
				idb = ida
			}
			want := srt.Compare(va, vb)
			if want == 0 {
				want = strings.Compare(ida, idb)
				if len(srt) > 0 && srt[len(srt)-1].Desc {
					want = -want
				}
			}
			ka, kb := srt.AppendKey(nil, va, ida), srt.AppendKey(nil, vb, idb)
			require.Equal(t, want, sign(bytes.Compare(ka, kb)), "%s: %v %q vs %v %q", srt, va, ida, vb, idb)
		}
	}
}

// TestSortFixtures sorts the fixtures by Compare and by key bytes and
// checks the orders agree, missing values last.
func TestSortFixtures(t *testing.T) {
	s := UserSchema()
	users := fxUsers()
	for _, spec := range []string{"userName", "-userName", "-meta.created", "claims.level", "-claims.level", "lastLoginAt,-meta.version", "department,-displayName", ""} {
		srt, err := ParseSort(spec, s)
		require.NoError(t, err)
		byCompare := slices.Clone(users)
		slices.SortStableFunc(byCompare, func(a, b Resource) int {
			if c := srt.Compare(srt.Values(a), srt.Values(b)); c != 0 {
				return c
			}
			c := strings.Compare(fxID(a), fxID(b))
			if len(srt) > 0 && srt[len(srt)-1].Desc {
				c = -c
			}
			return c
		})
		byKey := slices.Clone(users)
		slices.SortStableFunc(byKey, func(a, b Resource) int {
			return bytes.Compare(srt.AppendKey(nil, srt.Values(a), fxID(a)), srt.AppendKey(nil, srt.Values(b), fxID(b)))
		})
		ids := func(rs []Resource) []string {
			var out []string
			for _, r := range rs {
				out = append(out, fxID(r))
			}
			return out
		}
		assert.Equal(t, ids(byCompare), ids(byKey), spec)
		if len(srt) > 0 {
			// Missing values come last in both directions.
			seenMissing := false
			for _, u := range byKey {
				missing := srt.Values(u)[0].Kind == KindNull
				assert.False(t, seenMissing && !missing, "%s: %s after a missing value", spec, fxID(u))
				seenMissing = seenMissing || missing
			}
		}
	}
	srt, err := ParseSort("-claims.level", s)
	require.NoError(t, err)
	slices.SortStableFunc(users, func(a, b Resource) int {
		return bytes.Compare(srt.AppendKey(nil, srt.Values(a), fxID(a)), srt.AppendKey(nil, srt.Values(b), fxID(b)))
	})
	var got []string
	for _, u := range users {
		got = append(got, fxID(u))
	}
	// Kinds order numbers before strings, so descending puts the string
	// "3" first; equal numbers tie-break by id descending; missing values
	// come last, by id descending too.
	assert.Equal(t, []string{"u04", "u12", "u10", "u08", "u02", "u09", "u05", "u03", "u01", "u07", "u11", "u06"}, got)
}
