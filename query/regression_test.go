package query

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func bindT(t *testing.T, s *Schema, f string) Expr {
	t.Helper()
	e, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Bind(e, s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type doc map[string]any

func (d doc) Attr(n string) any { return d[n] }

// Review finding 1: Cherokee upper/lower case never compare equal; Fold is not idempotent.
func TestF1CherokeeFold(t *testing.T) {
	if Fold("Ꭰ") != Fold("ꭰ") {
		t.Errorf("Fold(U+13A0)=%+q, Fold(U+AB70)=%+q: case pair does not fold alike", Fold("Ꭰ"), Fold("ꭰ"))
	}
	if f := Fold("Ꭰ"); Fold(f) != f {
		t.Errorf("Fold not idempotent: %+q -> %+q", f, Fold(f))
	}
	e := bindT(t, UserSchema(), `userName eq "ᏣᎳᎩ"`)
	if !evalBoth(t, e, doc{"userName": "ꮳꮃꭹ"}) {
		t.Error(`userName eq "ᏣᎳᎩ" does not match "ꮳꮃꭹ"`)
	}
}

// Review finding 2: x/text NFC aliases a supplementary starter onto a BMP one (golang/go#81028):
// LINEAR B SYLLABLE U+10041 + U+0301 "normalizes" to "Á".
func TestF2NFCAliasing(t *testing.T) {
	if Fold("\U00010041\u0301dam") == Fold("Ádam") {
		t.Errorf("Fold(%+q) == Fold(%q) == %+q", "\U00010041\u0301dam", "Ádam", Fold("Ádam"))
	}
	e := bindT(t, UserSchema(), `userName eq "Ádam"`)
	if evalBoth(t, e, doc{"userName": "\U00010041\u0301dam"}) {
		t.Error(`userName eq "Ádam" matches "\U00010041\u0301dam"`)
	}
}

// Review finding 3: co on ASCII data is O(len(data)*len(literal)).
func TestF3CoQuadratic(t *testing.T) {
	e := bindT(t, UserSchema(), `claims.x co "`+strings.Repeat("a", 4000)+`b"`)
	ascii := doc{"claims": map[string]any{"x": strings.Repeat("a", 16<<10-32)}}
	uni := doc{"claims": map[string]any{"x": strings.Repeat("a", 16<<10-32) + "é"}}
	t0 := time.Now()
	for range 5 {
		evalBoth(t, e, ascii)
	}
	ta := time.Since(t0)
	t0 = time.Now()
	for range 5 {
		evalBoth(t, e, uni)
	}
	tu := time.Since(t0)
	if ta > 10*tu {
		t.Errorf("ASCII co took %v, non-ASCII (strings.Contains) %v", ta/5, tu/5)
	}
}

// Review finding 4: Eval ignores a []string at a dateTime attribute, while Attribute.Values
// (index keys) reads it: an Exact index pushdown and Eval disagree.
func TestF4StringSliceDateTime(t *testing.T) {
	s := NewSchema("urn:x", []AttrDef{{Name: "id", Type: TypeString, CaseExact: true}, {Name: "dates", Type: TypeDateTime, Multi: true}})
	e := bindT(t, s, `dates eq "2020-01-01T00:00:00Z"`).(*Compare)
	d := doc{"dates": []string{"2020-01-01T00:00:00Z"}}
	inIndex := false
	for _, v := range e.Attr.Values(d) {
		inIndex = inIndex || bytes.Equal(AppendKey(nil, v, false), AppendKey(nil, e.Value, false))
	}
	if got := evalBoth(t, e, d); got != inIndex {
		t.Errorf("Eval=%v but index eq-range holds the record=%v", got, inIndex)
	}
}

// Review finding 5: out-of-range zone offsets are accepted (rule 6: invalid literal is an error).
func TestF5BadOffset(t *testing.T) {
	for _, f := range []string{`meta.created gt "2024-01-01T00:00:00+24:00"`, `meta.created gt "2024-01-01T00:00:00+23:60"`} {
		e, _ := Parse(f)
		if _, err := Bind(e, UserSchema()); err == nil {
			t.Errorf("%s: accepted", f)
		}
	}
}

// Review finding 6: rule 11 has no exception for claims, yet `claims eq null` is refused
// while `name eq null` (another complex attribute) is accepted.
func TestF6ClaimsEqNull(t *testing.T) {
	for _, f := range []string{`claims eq null`, `claims ne null`} {
		e, _ := Parse(f)
		if _, err := Bind(e, UserSchema()); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// Review finding 7: `emails eq null` is rewritten to `emails.value eq null`, so it is not
// the negation of `emails pr` (Eval's doc, bind's comment, rule 11).
func TestF7EmailsEqNull(t *testing.T) {
	d := doc{"emails": []any{map[string]any{"type": "work"}}}
	pr := evalBoth(t, bindT(t, UserSchema(), `emails pr`), d)
	eqNull := evalBoth(t, bindT(t, UserSchema(), `emails eq null`), d)
	neNull := evalBoth(t, bindT(t, UserSchema(), `emails ne null`), d)
	if eqNull == pr || neNull != pr {
		t.Errorf("emails pr=%v, emails eq null=%v, emails ne null=%v", pr, eqNull, neNull)
	}
}

// Review finding 8: a bound Compare keeps the folded literal in an unexported field; changing
// the exported Value afterwards makes Eval and Canonical disagree.
func TestF8StaleFold(t *testing.T) {
	c := bindT(t, UserSchema(), `userName eq "alice"`).(*Compare)
	c.Value.Str = "bob"
	if evalBoth(t, c, doc{"userName": "alice"}) || !evalBoth(t, c, doc{"userName": "bob"}) {
		t.Errorf("%s: evalBoth(t, alice)=%v evalBoth(t, bob)=%v", c, evalBoth(t, c, doc{"userName": "alice"}), evalBoth(t, c, doc{"userName": "bob"}))
	}
}
