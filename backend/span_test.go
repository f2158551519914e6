package backend

import (
	"bytes"
	"math/rand/v2"
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
			k := query.AppendKey(nil, query.Value{Kind: query.KindString, Str: p}, exact)
			pk := k[:len(k)-stringTerminatorLen]
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
		lo, hi := k[:1], Successor(k[:1])
		assert.NotNil(t, hi)
		for _, w := range vals {
			wk := query.AppendKey(nil, w, true)
			assert.Equal(t, v.Kind == w.Kind, bytes.Compare(lo, wk) <= 0 && bytes.Compare(wk, hi) < 0)
		}
	}
}

func TestSuccessor(t *testing.T) {
	tests := []struct {
		in   []byte
		want []byte
	}{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{nil, nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Successor(tt.in), "%x", tt.in)
	}
}

// TestSuccessorOrders checks on random keys that Successor(p) is above
// every key that starts with p and that nothing else lies between p and it.
func TestSuccessorOrders(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	key := func() []byte {
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = []byte{0, 1, 0x7f, 0xfe, 0xff}[r.IntN(5)]
		}
		return b
	}
	for range 5000 {
		p := key()
		s := Successor(p)
		if s == nil {
			assert.Equal(t, len(p), bytes.Count(p, []byte{0xFF}), "Successor(%x) = nil", p)
			continue
		}
		k := append(append([]byte(nil), p...), key()...)
		assert.Negative(t, bytes.Compare(k, s), "Successor(%x) = %x is not above %x", p, s, k)
		assert.Negative(t, bytes.Compare(p, s), "Successor(%x) = %x is not above it", p, s)
		if other := key(); !bytes.HasPrefix(other, p) && bytes.Compare(other, p) > 0 {
			assert.GreaterOrEqual(t, bytes.Compare(other, s), 0, "%x lies between %x and its successor %x", other, p, s)
		}
	}
}

// TestSpanOfPushdown checks which comparisons an index answers exactly
// (eq with a non-null literal, sw with a string, the ordering operators
// with anything but a boolean, on an indexed attribute), and that
// IndexPushdown, which decides it without building keys, agrees with
// SpanOf.
func TestSpanOfPushdown(t *testing.T) {
	schema := query.NewSchema("urn:test:Span", []query.AttrDef{
		{Name: "id", Type: query.TypeString, CaseExact: true, Required: true},
		{Name: "name", Type: query.TypeString},
		{Name: "score", Type: query.TypeNumber},
		{Name: "active", Type: query.TypeBoolean},
		{Name: "title", Type: query.TypeString},
	})
	indexes, err := CompileIndexes(Kind{Name: "docs", Schema: schema, Indexes: []Index{
		{Name: "name", Attr: "name", Unique: true},
		{Name: "score", Attr: "score"},
		{Name: "active", Attr: "active"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	pd := IndexPushdown(indexes)
	tests := []struct {
		filter string
		want   bool
	}{
		{`name eq "a"`, true},
		{`name sw "a"`, true},
		{`name gt "a"`, true},
		{`name le "a"`, true},
		{`name ne "a"`, false},
		{`name co "a"`, false},
		{`name ew "a"`, false},
		{`name pr`, false},
		{`name eq null`, false},
		{`score ge 3`, true},
		{`score lt 3`, true},
		{`active eq true`, true},
		{`title eq "x"`, false},
		{`not (name eq "a")`, false},
		{`name eq "a" and score gt 1`, false},
	}
	for _, tt := range tests {
		e, err := query.Parse(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		b, err := query.Bind(e, schema)
		if err != nil {
			t.Fatalf("bind %s: %v", tt.filter, err)
		}
		assert.Equal(t, tt.want, pd.Filter(b) == query.Exact, "%s: pushdown", tt.filter)
		if c, ok := b.(*query.Compare); ok {
			_, spans := SpanOf(indexes, c)
			assert.Equal(t, tt.want, spans, "%s: SpanOf", tt.filter)
		}
	}
	// Bind refuses to order booleans; a tree made by hand can ask.
	a, err := query.Parse(`active eq true`)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := query.Bind(a, schema)
	if err != nil {
		t.Fatal(err)
	}
	gt := *ab.(*query.Compare)
	gt.Op = query.OpGt
	_, spans := SpanOf(indexes, &gt)
	assert.False(t, spans, "active gt true: SpanOf")
	assert.NotEqual(t, query.Exact, pd.Filter(&gt), "active gt true: pushdown")

	e, err := query.Parse(`name eq "a"`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := query.Bind(e, schema)
	if err != nil {
		t.Fatal(err)
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = pd.Filter(b) }), "deciding builds no key")
}
