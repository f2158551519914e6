package badger

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/userdir/userdir/query"
)

// randString returns a short string over an alphabet rich in the bytes the
// escaping treats specially.
func randString(r *rand.Rand) string {
	alphabet := []string{"\x00", "\x01", "\xff", "a", "b", "A", "é", "ß", "\x00\xff", ":"}
	var b strings.Builder
	for n := r.IntN(6); n > 0; n-- {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func randValue(r *rand.Rand) query.Value {
	switch r.IntN(5) {
	case 0:
		return query.Value{Kind: query.KindBool, Bool: r.IntN(2) == 0}
	case 1:
		return query.Value{Kind: query.KindNumber, Num: query.NumberFromInt64(r.Int64N(2000) - 1000)}
	case 2:
		return query.Value{Kind: query.KindTime, Time: time.Unix(r.Int64N(1<<34)-(1<<33), r.Int64N(1e9))}
	case 3:
		return query.Value{}
	}
	return query.Value{Kind: query.KindString, Str: randString(r)}
}

func TestStringRoundTripAndOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		a, b := randString(r), randString(r)
		ea, eb := appendString(nil, a), appendString(nil, b)
		got, rest, err := readString(append(ea, "tail"...))
		if err != nil || got != a || string(rest) != "tail" {
			t.Fatalf("readString(%q) = %q, %q, %v", ea, got, rest, err)
		}
		if c, want := bytes.Compare(ea, eb), strings.Compare(a, b); c != want {
			t.Fatalf("order of %q and %q: encoded %d, strings %d", a, b, c, want)
		}
		if a != b && (bytes.HasPrefix(ea, eb) || bytes.HasPrefix(eb, ea)) {
			t.Fatalf("encodings of %q and %q are not prefix-free", a, b)
		}
	}
	for _, bad := range []string{"", "a", "a\x00", "a\x00\x02", "\x00\xff"} {
		if _, _, err := readString([]byte(bad)); err == nil {
			t.Errorf("readString(%q) accepted a malformed string", bad)
		}
	}
}

func TestKeysRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		tenant, kind, index, id := randString(r), randString(r), randString(r), randString(r)
		vk := query.AppendKey(nil, randValue(r), r.IntN(2) == 0)

		p, err := parseKey(recordKey(tenant, kind, id))
		if err != nil || p.space != spaceRecord || p.tenant != tenant || p.kind != kind || p.id != id {
			t.Fatalf("record key: %+v, %v", p, err)
		}

		ek, err := entryKey(indexPrefix(spaceEntry, tenant, kind, index), vk, id)
		if err != nil {
			t.Fatal(err)
		}
		p, err = parseKey(ek)
		if err != nil || p.space != spaceEntry || p.tenant != tenant || p.kind != kind || p.index != index ||
			!bytes.Equal(p.vkey, vk) || p.id != id {
			t.Fatalf("entry key %x: %+v, %v", ek, p, err)
		}
		if !bytes.HasPrefix(ek, entryIDPrefix(indexPrefix(spaceEntry, tenant, kind, index), vk, id)) {
			t.Fatalf("entry key %x does not start with its position", ek)
		}

		uk := uniqueKey(indexPrefix(spaceUnique, tenant, kind, index), vk)
		p, err = parseKey(uk)
		if err != nil || p.space != spaceUnique || p.tenant != tenant || p.kind != kind || p.index != index ||
			!bytes.Equal(p.vkey, vk) {
			t.Fatalf("unique key %x: %+v, %v", uk, p, err)
		}

		p, err = parseKey(metaKey(metaKind, kind))
		if err != nil || p.space != spaceMeta || len(p.meta) != 2 || p.meta[0] != metaKind || p.meta[1] != kind {
			t.Fatalf("meta key: %+v, %v", p, err)
		}
	}
	for _, bad := range [][]byte{nil, {spaceRecord}, {spaceRecord, 9}, {0x7f, formatVersion}, {spaceRecord, formatVersion, 'a'}} {
		if _, err := parseKey(bad); err == nil {
			t.Errorf("parseKey(%x) accepted a malformed key", bad)
		}
	}
}

// TestEntryOrder checks that entry keys of one index order by value, then
// by id, whatever the tenant-independent parts hold, and that tenants and
// kinds never interleave.
func TestEntryOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	prefix := indexPrefix(spaceEntry, "t", "k", "ix")
	for range 20000 {
		va, vb := randValue(r), randValue(r)
		ida, idb := randString(r), randString(r)
		ka, _ := entryKey(prefix, query.AppendKey(nil, va, true), ida)
		kb, _ := entryKey(prefix, query.AppendKey(nil, vb, true), idb)
		want := bytes.Compare(query.AppendKey(nil, va, true), query.AppendKey(nil, vb, true))
		if want == 0 {
			want = strings.Compare(ida, idb)
		}
		if got := bytes.Compare(ka, kb); got != want {
			t.Fatalf("entries (%v, %q) and (%v, %q): got %d, want %d", va, ida, vb, idb, got, want)
		}

		ta, tb := randString(r), randString(r)
		ra, rb := recordKey(ta, "k", ida), recordKey(tb, "k", idb)
		want = strings.Compare(ta, tb)
		if want == 0 {
			want = strings.Compare(ida, idb)
		}
		if got := bytes.Compare(ra, rb); got != want {
			t.Fatalf("records (%q, %q) and (%q, %q): got %d, want %d", ta, ida, tb, idb, got, want)
		}
		if ta != tb && bytes.HasPrefix(ra, recordPrefix(tb, "k")) {
			t.Fatalf("record of tenant %q is under the prefix of tenant %q", ta, tb)
		}
	}
}

func TestRecordValue(t *testing.T) {
	v := appendRecordValue(nil, 42, []byte(`{"a":1}`))
	ver, doc, err := splitRecordValue(v)
	if err != nil || ver != 42 || string(doc) != `{"a":1}` {
		t.Fatalf("got %d %q %v", ver, doc, err)
	}
	if _, _, err := splitRecordValue([]byte{1, 2}); err == nil {
		t.Error("short value accepted")
	}
	if _, _, err := splitRecordValue(make([]byte, 8)); err == nil {
		t.Error("version 0 accepted")
	}
}

// FuzzParseKey checks that parseKey never panics on any bytes (Verify and
// the walks read keys from files that may be damaged), and that a key it
// accepts is the key its parts encode to.
func FuzzParseKey(f *testing.F) {
	vk := query.AppendKey(nil, query.Value{Kind: query.KindString, Str: "a\x00b"}, false)
	ek, _ := entryKey(indexPrefix(spaceEntry, "t", "users", "emails"), vk, "id\x00")
	for _, k := range [][]byte{
		recordKey("acme", "users", "id-1"), ek,
		uniqueKey(indexPrefix(spaceUnique, "acme", "users", "userName"), vk),
		metaKey(metaKind, "users"), nil, {spaceRecord, formatVersion, 0xff},
	} {
		f.Add(k)
	}
	f.Fuzz(func(t *testing.T, k []byte) {
		p, err := parseKey(k)
		if err != nil {
			return
		}
		var again []byte
		switch p.space {
		case spaceRecord:
			again = recordKey(p.tenant, p.kind, p.id)
		case spaceEntry:
			if again, err = entryKey(indexPrefix(spaceEntry, p.tenant, p.kind, p.index), p.vkey, p.id); err != nil {
				t.Fatalf("parseKey(%x) = %+v, which does not encode: %v", k, p, err)
			}
		case spaceUnique:
			again = uniqueKey(indexPrefix(spaceUnique, p.tenant, p.kind, p.index), p.vkey)
		case spaceMeta:
			again = metaKey(p.meta[0], p.meta[1:]...)
		default:
			t.Fatalf("parseKey(%x) accepted space %d", k, p.space)
		}
		if !bytes.Equal(again, k) {
			t.Fatalf("parseKey(%x) = %+v, which encodes to %x", k, p, again)
		}
	})
}
