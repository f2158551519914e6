package directory

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/userdir/userdir/query"
)

// A cursor is base64url(payload || mac), where payload is the JSON of
// cursorState and mac the first 16 bytes of HMAC-SHA256(key, payload). The
// state names the position (the sort key values and id of the last row
// seen), the direction, and a fingerprint of the query it belongs to, so a
// cursor is refused by any other tenant, filter or sort.
const (
	cursorVersion = 1
	macLen        = 16
	maxCursorLen  = 8 << 10
)

type cursorState struct {
	V    int           `json:"v"`
	Back bool          `json:"b,omitempty"` // continue backwards (a Prev cursor)
	Inc  bool          `json:"n,omitempty"` // the position's own row is included
	FP   []byte        `json:"f"`
	Keys []cursorValue `json:"k,omitempty"`
	ID   string        `json:"i"`
}

type cursorValue struct {
	K query.Kind `json:"k"`
	S string     `json:"s,omitempty"`
	B bool       `json:"b,omitempty"`
}

type cursorSigner struct{ key []byte }

func (c cursorSigner) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// encode returns the opaque cursor for a position in the query with
// fingerprint fp.
func (c cursorSigner) encode(fp []byte, back bool, vals []query.Value, id string) string {
	return c.encodeState(cursorState{V: cursorVersion, Back: back, FP: fp, ID: id}, vals)
}

func (c cursorSigner) encodeState(st cursorState, vals []query.Value) string {
	for _, v := range vals {
		cv := cursorValue{K: v.Kind}
		switch v.Kind {
		case query.KindString:
			cv.S = v.Str
		case query.KindNumber:
			cv.S = v.Num.String()
		case query.KindBool:
			cv.B = v.Bool
		case query.KindTime:
			cv.S = v.Time.UTC().Format(time.RFC3339Nano)
		}
		st.Keys = append(st.Keys, cv)
	}
	payload, _ := json.Marshal(st) // cannot fail: plain types only
	return base64.RawURLEncoding.EncodeToString(append(payload, c.mac(payload)...))
}

// decode checks a cursor's MAC, version and fingerprint and returns its
// position. Every failure is ErrInvalidCursor.
func (c cursorSigner) decode(cursor string, fp []byte) (cursorState, []query.Value, error) {
	var vals []query.Value
	fail := func(why string) error { return fmt.Errorf("%w: %s", ErrInvalidCursor, why) }
	if len(cursor) > maxCursorLen {
		return cursorState{}, nil, fail("too long")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	if err != nil || len(raw) <= macLen {
		return cursorState{}, nil, fail("malformed")
	}
	payload, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(mac, c.mac(payload)) {
		return cursorState{}, nil, fail("not issued by this directory or altered")
	}
	var st cursorState
	if err = json.Unmarshal(payload, &st); err != nil {
		return cursorState{}, nil, fail("malformed")
	}
	if st.V != cursorVersion {
		return cursorState{}, nil, fail(fmt.Sprintf("version %d not supported", st.V))
	}
	if !hmac.Equal(st.FP, fp) {
		return cursorState{}, nil, fail("issued for another tenant, filter or sort")
	}
	for _, cv := range st.Keys {
		v := query.Value{Kind: cv.K}
		switch cv.K {
		case query.KindNull:
		case query.KindString:
			v.Str = cv.S
		case query.KindNumber:
			if v.Num, err = query.ParseNumber(cv.S); err != nil {
				return cursorState{}, nil, fail("malformed number")
			}
		case query.KindBool:
			v.Bool = cv.B
		case query.KindTime:
			if v.Time, err = time.Parse(time.RFC3339Nano, cv.S); err != nil {
				return cursorState{}, nil, fail("malformed time")
			}
		default:
			return cursorState{}, nil, fail("malformed value")
		}
		vals = append(vals, v)
	}
	return st, vals, nil
}

// fingerprint identifies a query for cursor binding: the tenant, kind,
// canonical filter, sort and deleted-users mode.
func fingerprint(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:16]
}
