package directory

// The binary form of a stored user.
//
// userCodec writes a userDoc in a compact binary form and reads it back
// with one string allocation for all of its text. It still reads the JSON
// form that earlier versions of the library wrote (jsonCodec), so stores
// written before the binary form existed keep working; it never writes
// JSON.
//
// In the grammar below, uvarint and varint are encoding/binary's (varint
// is zig-zag encoded), and a string is uvarint(length) followed by its
// bytes, kept exactly as given.
//
//	record  = 0x01 uvarint(present) field...
//
// The first byte is the format version. It can never be '{', the first
// byte of the legacy JSON form (which may be preceded by JSON white space).
// present is a bitmap of the fields that follow; they follow in the order
// of their bits, and a field whose bit is clear is its zero value (a nil
// slice, map or pointer, the zero time). A bit the reader does not know is
// an error: a record from a newer writer is refused, not read without its
// new fields. The record ends with its last field; trailing bytes are an
// error.
//
//	bit  field              payload
//	 0   Schemas            uvarint(n ≥ 1) string×n
//	 1   ID                 string
//	 2   ExternalID         string
//	 3   Subject            string
//	 4   UserName           string
//	 5   Name.GivenName     string
//	 6   Name.FamilyName    string
//	 7   Name.MiddleName    string
//	 8   Name.Formatted     string
//	 9   DisplayName        string
//	10   NickName           string
//	11   Title              string
//	12   UserType           string
//	13   Locale             string
//	14   Timezone           string
//	15   Emails             uvarint(n ≥ 1) (flags [value] [type])×n
//	16   PhoneNumbers       uvarint(n ≥ 1) (flags [value] [type])×n
//	17   Status             string
//	18   Active             byte: 0 false, 1 true (the pointer is non-nil)
//	19   Roles              uvarint(n ≥ 1) (flags [value] [display] [type])×n
//	20   Groups             uvarint(n ≥ 1) (flags [value] [display])×n
//	21   Claims             object with n ≥ 1
//	22   Enterprise         uvarint(present) string... (the pointer is non-nil)
//	23   LastLoginAt        time
//	24   Meta.Created       time
//	25   Meta.LastModified  time
//	26   Meta.Version       varint
//	27   RestoreTo          string
//	28   Anonymized         none: the bit is the value
//
// An element of a list starts with a flags byte: bit 0 says the first
// string follows, bit 1 the second, bit 2 the third (roles); for emails bit
// 2 is Primary and bit 3 Verified, for roles bit 3 is Primary. Other bits
// are an error. The enterprise extension's own bitmap has, in order,
// EmployeeNumber, CostCenter, Organization, Division, Department,
// Manager.Value and Manager.DisplayName, each a string.
//
//	time    = varint(unix seconds) uvarint(nanoseconds<<1 | zoned) [varint(offset)]
//
// A time in UTC (zoned 0) costs no offset. Any other time (zoned 1) stores
// its offset east of UTC in seconds: non-zero and less than a day. A time
// decodes where encoding/json's RFC 3339 parsing puts it: in UTC when its
// offset is zero, in time.Local when Local has its offset at that instant,
// otherwise in time.FixedZone("", offset). As in JSON, a time's year in its
// own zone is within 0–9999, and the zero time is never stored.
//
//	value   = 0x00                   null
//	        | 0x01 | 0x02            false, true
//	        | 0x03 string            a string
//	        | 0x04 string            a json.Number: a JSON number's exact text
//	        | 0x05 object
//	        | 0x06 array
//	object  = uvarint(n) (string value)×n    keys in strictly increasing order
//	array   = uvarint(n) value×n
//
// Claims nest at most maxCodecDepth objects and arrays deep.
//
// A document has one record, which decodes to it. Unmarshal also accepts
// a few other forms of that record, which decode to the same document: a
// varint longer than it needs to be, a present field or element string
// that is empty, a present Meta.Version of 0.
//
// Decoding a record gives the document that a JSON round trip of the
// encoded document gives (what jsonCodec would read back after writing
// it), with two deliberate differences: strings keep their bytes exactly
// where encoding/json would replace invalid UTF-8 (the directory stores
// only valid UTF-8), and an offset that is not a whole number of minutes
// is kept where RFC 3339 would truncate it.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/userdir/userdir/backend"
)

// userFormatV1 is the version byte that starts a binary user record.
const userFormatV1 = 0x01

// The bits of a user record's presence bitmap, in the order the fields
// are written.
const (
	ufSchemas = iota
	ufID
	ufExternalID
	ufSubject
	ufUserName
	ufGivenName
	ufFamilyName
	ufMiddleName
	ufFormatted
	ufDisplayName
	ufNickName
	ufTitle
	ufUserType
	ufLocale
	ufTimezone
	ufEmails
	ufPhoneNumbers
	ufStatus
	ufActive
	ufRoles
	ufGroups
	ufClaims
	ufEnterprise
	ufLastLoginAt
	ufCreated
	ufLastModified
	ufVersion
	ufRestoreTo
	ufAnonymized
	ufCount // the number of fields; not a field

	ufKnown = 1<<ufCount - 1
)

// The bits of the enterprise extension's presence bitmap.
const (
	efEmployeeNumber = iota
	efCostCenter
	efOrganization
	efDivision
	efDepartment
	efManagerValue
	efManagerDisplayName
	efCount // the number of fields; not a field

	efKnown = 1<<efCount - 1
)

// The flags that start an element of a list. elemFirst, elemSecond and
// elemThird say which of the element's strings follow.
const (
	elemFirst    = 1 << 0
	elemSecond   = 1 << 1
	elemThird    = 1 << 2 // roles' type
	emailPrimary = 1 << 2
	emailVerify  = 1 << 3
	rolePrimary  = 1 << 3
)

// The tags of a claim value.
const (
	tagNull = iota
	tagFalse
	tagTrue
	tagString
	tagNumber
	tagObject
	tagArray
)

// maxCodecDepth bounds the nesting of objects and arrays in claims, so a
// corrupt record cannot exhaust the stack. The claims object itself is
// level 1. The directory accepts far less (MaxClaimsDepth).
const maxCodecDepth = 64

// The range of the unix seconds of a time whose year, in its own zone, is
// within 0–9999: what a JSON time can hold.
const (
	minTimeSec = -62167219200 // 0000-01-01T00:00:00Z
	maxTimeSec = 253402300800 // 10000-01-01T00:00:00Z
	maxOffset  = 24 * 60 * 60 // exclusive bound on a zone offset, seconds
)

// userCodec stores users in the binary form described at the top of this
// file, and reads both that form and the legacy JSON form.
type userCodec struct{ name string }

var _ backend.Codec = userCodec{}

// Marshal encodes doc, which must be a *userDoc, in the binary form.
func (c userCodec) Marshal(doc backend.Document) ([]byte, error) {
	u, ok := doc.(*userDoc)
	if !ok || u == nil {
		return nil, fmt.Errorf("%s codec: unexpected document %T", c.name, doc)
	}
	b, err := appendUser(make([]byte, 0, userSize(u)), u)
	if err != nil {
		return nil, fmt.Errorf("%s codec: %w", c.name, err)
	}
	return b, nil
}

// Unmarshal decodes a record in the binary form, or in the legacy JSON
// form when its first non-space byte is '{'. The document is a *userDoc.
func (c userCodec) Unmarshal(data []byte) (backend.Document, error) {
	if len(data) > 0 && data[0] == userFormatV1 {
		u, err := c.decode(data)
		if err != nil {
			return nil, err // not a typed nil
		}
		return u, nil
	}
	for i, b := range data {
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return jsonCodec[userDoc, *userDoc](c).Unmarshal(data)
		}
		return nil, fmt.Errorf("%s codec: unknown format version 0x%02x at offset %d", c.name, b, i)
	}
	return nil, fmt.Errorf("%s codec: empty record", c.name)
}

// decode decodes a record in the binary form. Every string of the
// document is a substring of one copy of data.
func (c userCodec) decode(data []byte) (*userDoc, error) {
	d := userDecoder{s: string(data), off: 1, name: c.name}
	u := new(userDoc)
	d.user(u)
	if d.err == nil && d.off != len(d.s) {
		d.fail("%d trailing bytes", len(d.s)-d.off)
	}
	if d.err != nil {
		return nil, d.err
	}
	return u, nil
}

// Encoding.

// userSize estimates the length of u's record, so that encoding it
// usually allocates once.
func userSize(u *userDoc) int {
	n := 2 + binary.MaxVarintLen64 + 3*16 + binary.MaxVarintLen64 + 2
	for _, s := range [...]string{
		u.ID, u.ExternalID, u.Subject, u.UserName,
		u.Name.GivenName, u.Name.FamilyName, u.Name.MiddleName, u.Name.Formatted,
		u.DisplayName, u.NickName, u.Title, u.UserType, u.Locale, u.Timezone,
		string(u.Status), string(u.RestoreTo),
	} {
		n += len(s) + 1
	}
	n += 4
	for _, s := range u.Schemas {
		n += len(s) + 1
	}
	n += 4
	for _, e := range u.Emails {
		n += 3 + len(e.Value) + len(e.Type)
	}
	n += 4
	for _, p := range u.PhoneNumbers {
		n += 3 + len(p.Value) + len(p.Type)
	}
	n += 4
	for _, r := range u.Roles {
		n += 4 + len(r.Value) + len(r.Display) + len(r.Type)
	}
	n += 4
	for _, g := range u.Groups {
		n += 3 + len(g.Value) + len(g.Display)
	}
	if e := u.Enterprise; e != nil {
		n += 8 + len(e.EmployeeNumber) + len(e.CostCenter) + len(e.Organization) +
			len(e.Division) + len(e.Department) + len(e.Manager.Value) + len(e.Manager.DisplayName)
	}
	if len(u.Claims) > 0 {
		n += objectSize(u.Claims, 1)
	}
	return n
}

// objectSize estimates the encoded length of a claims object.
func objectSize(m map[string]any, depth int) int {
	n := 2
	for k, v := range m {
		n += 1 + len(k) + valueSize(v, depth)
	}
	return n
}

// valueSize estimates the encoded length of a claim value.
func valueSize(v any, depth int) int {
	if depth > maxCodecDepth {
		return 0 // appendValue fails
	}
	switch v := v.(type) {
	case string:
		return 3 + len(v)
	case json.Number:
		return 3 + len(v)
	case map[string]any:
		return objectSize(v, depth+1)
	case []any:
		n := 2
		for _, e := range v {
			n += valueSize(e, depth+1)
		}
		return n
	default:
		return 24 // a literal or a Go number
	}
}

// presence returns the presence bitmap of u's record.
func presence(u *userDoc) uint64 {
	var m uint64
	set := func(bit int, present bool) {
		if present {
			m |= 1 << bit
		}
	}
	set(ufSchemas, len(u.Schemas) > 0)
	set(ufID, u.ID != "")
	set(ufExternalID, u.ExternalID != "")
	set(ufSubject, u.Subject != "")
	set(ufUserName, u.UserName != "")
	set(ufGivenName, u.Name.GivenName != "")
	set(ufFamilyName, u.Name.FamilyName != "")
	set(ufMiddleName, u.Name.MiddleName != "")
	set(ufFormatted, u.Name.Formatted != "")
	set(ufDisplayName, u.DisplayName != "")
	set(ufNickName, u.NickName != "")
	set(ufTitle, u.Title != "")
	set(ufUserType, u.UserType != "")
	set(ufLocale, u.Locale != "")
	set(ufTimezone, u.Timezone != "")
	set(ufEmails, len(u.Emails) > 0)
	set(ufPhoneNumbers, len(u.PhoneNumbers) > 0)
	set(ufStatus, u.Status != "")
	set(ufActive, u.Active != nil)
	set(ufRoles, len(u.Roles) > 0)
	set(ufGroups, len(u.Groups) > 0)
	set(ufClaims, len(u.Claims) > 0)
	set(ufEnterprise, u.Enterprise != nil)
	set(ufLastLoginAt, !u.LastLoginAt.IsZero())
	set(ufCreated, !u.Meta.Created.IsZero())
	set(ufLastModified, !u.Meta.LastModified.IsZero())
	set(ufVersion, u.Meta.Version != 0)
	set(ufRestoreTo, u.RestoreTo != "")
	set(ufAnonymized, u.Anonymized)
	return m
}

// appendUser appends u's record to b.
func appendUser(b []byte, u *userDoc) ([]byte, error) {
	m := presence(u)
	b = append(b, userFormatV1)
	b = binary.AppendUvarint(b, m)
	has := func(bit int) bool { return m&(1<<bit) != 0 }
	if has(ufSchemas) {
		b = binary.AppendUvarint(b, uint64(len(u.Schemas)))
		for _, s := range u.Schemas {
			b = appendString(b, s)
		}
	}
	for _, f := range [...]struct {
		bit int
		s   string
	}{
		{ufID, u.ID},
		{ufExternalID, u.ExternalID},
		{ufSubject, u.Subject},
		{ufUserName, u.UserName},
		{ufGivenName, u.Name.GivenName},
		{ufFamilyName, u.Name.FamilyName},
		{ufMiddleName, u.Name.MiddleName},
		{ufFormatted, u.Name.Formatted},
		{ufDisplayName, u.DisplayName},
		{ufNickName, u.NickName},
		{ufTitle, u.Title},
		{ufUserType, u.UserType},
		{ufLocale, u.Locale},
		{ufTimezone, u.Timezone},
	} {
		if has(f.bit) {
			b = appendString(b, f.s)
		}
	}
	if has(ufEmails) {
		b = binary.AppendUvarint(b, uint64(len(u.Emails)))
		for _, e := range u.Emails {
			var f byte
			if e.Primary {
				f |= emailPrimary
			}
			if e.Verified {
				f |= emailVerify
			}
			b = appendElem(b, f, e.Value, e.Type, "")
		}
	}
	if has(ufPhoneNumbers) {
		b = binary.AppendUvarint(b, uint64(len(u.PhoneNumbers)))
		for _, p := range u.PhoneNumbers {
			b = appendElem(b, 0, p.Value, p.Type, "")
		}
	}
	if has(ufStatus) {
		b = appendString(b, string(u.Status))
	}
	if has(ufActive) {
		if *u.Active {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	}
	if has(ufRoles) {
		b = binary.AppendUvarint(b, uint64(len(u.Roles)))
		for _, r := range u.Roles {
			var f byte
			if r.Primary {
				f |= rolePrimary
			}
			b = appendElem(b, f, r.Value, r.Display, r.Type)
		}
	}
	if has(ufGroups) {
		b = binary.AppendUvarint(b, uint64(len(u.Groups)))
		for _, g := range u.Groups {
			b = appendElem(b, 0, g.Value, g.Display, "")
		}
	}
	if has(ufClaims) {
		var err error
		if b, err = appendObject(b, u.Claims, 1); err != nil {
			return nil, fmt.Errorf("claims: %w", err)
		}
	}
	if has(ufEnterprise) {
		b = appendEnterprise(b, u.Enterprise)
	}
	for _, f := range [...]struct {
		bit  int
		name string
		t    time.Time
	}{
		{ufLastLoginAt, "lastLoginAt", u.LastLoginAt},
		{ufCreated, "meta.created", u.Meta.Created},
		{ufLastModified, "meta.lastModified", u.Meta.LastModified},
	} {
		if has(f.bit) {
			var err error
			if b, err = appendTime(b, f.t); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
		}
	}
	if has(ufVersion) {
		b = binary.AppendVarint(b, u.Meta.Version)
	}
	if has(ufRestoreTo) {
		b = appendString(b, string(u.RestoreTo))
	}
	return b, nil
}

// appendString appends s as uvarint(length) and its bytes.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendElem appends an element of a list: flags, with the presence bits
// of s1, s2 and s3 added (elemFirst, elemSecond, elemThird), then the
// non-empty strings.
func appendElem(b []byte, flags byte, s1, s2, s3 string) []byte {
	strs := [...]string{s1, s2, s3}
	for i, s := range strs {
		if s != "" {
			flags |= 1 << i
		}
	}
	b = append(b, flags)
	for _, s := range strs {
		if s != "" {
			b = appendString(b, s)
		}
	}
	return b
}

// appendEnterprise appends the enterprise extension: its presence bitmap
// and its non-empty strings.
func appendEnterprise(b []byte, e *EnterpriseUser) []byte {
	fields := [...]string{
		efEmployeeNumber:     e.EmployeeNumber,
		efCostCenter:         e.CostCenter,
		efOrganization:       e.Organization,
		efDivision:           e.Division,
		efDepartment:         e.Department,
		efManagerValue:       e.Manager.Value,
		efManagerDisplayName: e.Manager.DisplayName,
	}
	var m uint64
	for i, s := range fields {
		if s != "" {
			m |= 1 << i
		}
	}
	b = binary.AppendUvarint(b, m)
	for _, s := range fields {
		if s != "" {
			b = appendString(b, s)
		}
	}
	return b
}

// appendTime appends a non-zero time: UTC when its offset is zero,
// otherwise with its offset. Like JSON, it refuses a time whose year in
// its zone is outside 0–9999 and an offset of a day or more.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	_, offset := t.Zone()
	sec := t.Unix()
	if offset <= -maxOffset || offset >= maxOffset {
		return nil, fmt.Errorf("zone offset %ds is not within a day", offset)
	}
	if local := sec + int64(offset); local < minTimeSec || local >= maxTimeSec {
		return nil, errors.New("year outside of range [0,9999]")
	}
	b = binary.AppendVarint(b, sec)
	ns := uint64(t.Nanosecond()) << 1
	if offset == 0 {
		return binary.AppendUvarint(b, ns), nil
	}
	b = binary.AppendUvarint(b, ns|1)
	return binary.AppendVarint(b, int64(offset)), nil
}

// appendObject appends a claims object, its keys sorted so that a
// document always has the same record. depth is the object's level.
func appendObject(b []byte, m map[string]any, depth int) ([]byte, error) {
	if depth > maxCodecDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxCodecDepth)
	}
	var buf [16]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		var err error
		if b, err = appendValue(b, m[k], depth); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// appendValue appends a claim value held in an object or array at level
// depth. A nil map or slice is null, and a Go number is its JSON text, as
// in JSON.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, tagNull), nil
	case bool:
		if v {
			return append(b, tagTrue), nil
		}
		return append(b, tagFalse), nil
	case string:
		return appendString(append(b, tagString), v), nil
	case json.Number:
		if v == "" {
			v = "0" // as encoding/json writes the zero Number
		}
		if !validNumber(string(v)) {
			return nil, fmt.Errorf("invalid number literal %q", string(v))
		}
		return appendString(append(b, tagNumber), string(v)), nil
	case map[string]any:
		if v == nil {
			return append(b, tagNull), nil
		}
		return appendObject(append(b, tagObject), v, depth+1)
	case []any:
		if v == nil {
			return append(b, tagNull), nil
		}
		if depth+1 > maxCodecDepth {
			return nil, fmt.Errorf("nested deeper than %d", maxCodecDepth)
		}
		b = binary.AppendUvarint(append(b, tagArray), uint64(len(v)))
		for _, e := range v {
			var err error
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return b, nil
	}
	var buf [32]byte
	n, err := appendGoNumber(buf[:0], v)
	if err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(append(b, tagNumber), uint64(len(n)))
	return append(b, n...), nil
}

// appendGoNumber appends the JSON text of a Go number, as encoding/json
// writes it. Claims hold json.Number once normalized; this keeps a record
// the same as its JSON form when they do not.
func appendGoNumber(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case uint:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float32:
		return appendFloat(b, float64(v), 32)
	case float64:
		return appendFloat(b, v, 64)
	}
	return nil, fmt.Errorf("unsupported claim value of type %T", v)
}

// appendFloat appends f as encoding/json writes a float of the given bit
// size: the shortest text that reads back as f, in exponent form only for
// very small and very large magnitudes.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("unsupported claim value %v", f)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if format == 'e' {
		// Like encoding/json, e-09 becomes e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// validNumber reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i == len(s):
		return false
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return false
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return i == len(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Decoding.

// userDecoder reads a binary user record. Its strings are substrings of
// s. The first error is kept in err; after it every read finds no bytes
// left and returns a zero value, so decoding ends quickly and allocates
// nothing more.
type userDecoder struct {
	s    string
	off  int
	err  error
	name string // the codec's, for errors
}

// fail records the first error, at the current offset, and leaves no
// bytes to read.
func (d *userDecoder) fail(format string, args ...any) {
	d.failAt(d.off, format, args...)
}

// failAt records the first error, at offset at, and leaves no bytes to
// read.
func (d *userDecoder) failAt(at int, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s codec: %s at offset %d", d.name, fmt.Sprintf(format, args...), at)
	}
	d.off = len(d.s)
}

// uvarint reads a uvarint; what names it for an error.
func (d *userDecoder) uvarint(what string) uint64 {
	if i := d.off; i < len(d.s) && d.s[i] < 0x80 {
		d.off = i + 1
		return uint64(d.s[i])
	}
	return d.uvarintSlow(what)
}

// uvarintSlow reads a uvarint of more than one byte.
func (d *userDecoder) uvarintSlow(what string) uint64 {
	var x uint64
	var shift uint
	for i := d.off; i < len(d.s); i++ {
		c := d.s[i]
		if i-d.off == binary.MaxVarintLen64-1 && c > 1 {
			d.fail("%s overflows 64 bits", what)
			return 0
		}
		if c < 0x80 {
			d.off = i + 1
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	d.fail("truncated %s", what)
	return 0
}

// varint reads a zig-zag encoded varint.
func (d *userDecoder) varint(what string) int64 {
	ux := d.uvarint(what)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// readByte reads one byte.
func (d *userDecoder) readByte(what string) byte {
	if d.off >= len(d.s) {
		d.fail("truncated %s", what)
		return 0
	}
	c := d.s[d.off]
	d.off++
	return c
}

// str reads a string: a substring of d.s, no copy.
func (d *userDecoder) str(what string) string {
	at := d.off
	n := d.uvarint(what)
	if rest := len(d.s) - d.off; n > uint64(rest) {
		d.failAt(at, "%s length %d exceeds the %d bytes left", what, n, rest)
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

// strIf reads a string when bit is set in the flags f of a list element,
// and returns "" when it is not.
func (d *userDecoder) strIf(f, bit byte, what string) string {
	if f&bit == 0 {
		return ""
	}
	return d.str(what)
}

// count reads the length of a list whose elements take at least min bytes
// each, checked against the bytes left before anything is allocated. A
// list that must not be empty (nonEmpty) is an error when it is.
func (d *userDecoder) count(what string, min int, nonEmpty bool) int {
	at := d.off
	n := d.uvarint(what)
	if d.err != nil {
		return 0
	}
	if rest := len(d.s) - d.off; n > uint64(rest/min) {
		d.failAt(at, "%s count %d exceeds what the %d bytes left can hold", what, n, rest)
		return 0
	}
	if n == 0 && nonEmpty {
		d.failAt(at, "empty %s", what)
	}
	return int(n)
}

// flags reads the flags byte of a list element; bits outside known are an
// error.
func (d *userDecoder) flags(what string, known byte) byte {
	f := d.readByte(what)
	if f&^known != 0 {
		d.failAt(d.off-1, "unknown %s flags 0x%02x", what, f)
		return 0
	}
	return f
}

// user reads the fields of a record, after its version byte, into u.
func (d *userDecoder) user(u *userDoc) {
	at := d.off
	m := d.uvarint("field bitmap")
	if m&^ufKnown != 0 {
		d.failAt(at, "unknown fields 0x%x", m&^ufKnown)
		return
	}
	has := func(bit int) bool { return m&(1<<bit) != 0 }
	if has(ufSchemas) {
		n := d.count("schemas", 1, true)
		if n > 0 {
			u.Schemas = make([]string, n)
			for i := range u.Schemas {
				u.Schemas[i] = d.str("schema")
			}
		}
	}
	if has(ufID) {
		u.ID = d.str("id")
	}
	if has(ufExternalID) {
		u.ExternalID = d.str("externalId")
	}
	if has(ufSubject) {
		u.Subject = d.str("subject")
	}
	if has(ufUserName) {
		u.UserName = d.str("userName")
	}
	if has(ufGivenName) {
		u.Name.GivenName = d.str("name.givenName")
	}
	if has(ufFamilyName) {
		u.Name.FamilyName = d.str("name.familyName")
	}
	if has(ufMiddleName) {
		u.Name.MiddleName = d.str("name.middleName")
	}
	if has(ufFormatted) {
		u.Name.Formatted = d.str("name.formatted")
	}
	if has(ufDisplayName) {
		u.DisplayName = d.str("displayName")
	}
	if has(ufNickName) {
		u.NickName = d.str("nickName")
	}
	if has(ufTitle) {
		u.Title = d.str("title")
	}
	if has(ufUserType) {
		u.UserType = d.str("userType")
	}
	if has(ufLocale) {
		u.Locale = d.str("locale")
	}
	if has(ufTimezone) {
		u.Timezone = d.str("timezone")
	}
	if has(ufEmails) {
		d.emails(u)
	}
	if has(ufPhoneNumbers) {
		d.phoneNumbers(u)
	}
	if has(ufStatus) {
		u.Status = Status(d.str("status"))
	}
	if has(ufActive) {
		switch c := d.readByte("active"); c {
		case 0, 1:
			a := c == 1
			u.Active = &a
		default:
			d.failAt(d.off-1, "active byte 0x%02x is not 0 or 1", c)
		}
	}
	if has(ufRoles) {
		d.roles(u)
	}
	if has(ufGroups) {
		d.groups(u)
	}
	if has(ufClaims) {
		u.Claims = d.object(1, true)
	}
	if has(ufEnterprise) {
		u.Enterprise = d.enterprise()
	}
	if has(ufLastLoginAt) {
		u.LastLoginAt = d.readTime("lastLoginAt")
	}
	if has(ufCreated) {
		u.Meta.Created = d.readTime("meta.created")
	}
	if has(ufLastModified) {
		u.Meta.LastModified = d.readTime("meta.lastModified")
	}
	if has(ufVersion) {
		u.Meta.Version = d.varint("meta.version")
	}
	if has(ufRestoreTo) {
		u.RestoreTo = Status(d.str("restoreTo"))
	}
	u.Anonymized = has(ufAnonymized)
}

// emails reads the emails list.
func (d *userDecoder) emails(u *userDoc) {
	n := d.count("emails", 1, true)
	if n == 0 {
		return
	}
	u.Emails = make([]Email, n)
	for i := range u.Emails {
		e := &u.Emails[i]
		f := d.flags("email", elemFirst|elemSecond|emailPrimary|emailVerify)
		e.Value = d.strIf(f, elemFirst, "email value")
		e.Type = d.strIf(f, elemSecond, "email type")
		e.Primary = f&emailPrimary != 0
		e.Verified = f&emailVerify != 0
	}
}

// phoneNumbers reads the phone numbers list.
func (d *userDecoder) phoneNumbers(u *userDoc) {
	n := d.count("phoneNumbers", 1, true)
	if n == 0 {
		return
	}
	u.PhoneNumbers = make([]PhoneNumber, n)
	for i := range u.PhoneNumbers {
		p := &u.PhoneNumbers[i]
		f := d.flags("phone number", elemFirst|elemSecond)
		p.Value = d.strIf(f, elemFirst, "phone number value")
		p.Type = d.strIf(f, elemSecond, "phone number type")
	}
}

// roles reads the roles list.
func (d *userDecoder) roles(u *userDoc) {
	n := d.count("roles", 1, true)
	if n == 0 {
		return
	}
	u.Roles = make([]RoleRef, n)
	for i := range u.Roles {
		r := &u.Roles[i]
		f := d.flags("role", elemFirst|elemSecond|elemThird|rolePrimary)
		r.Value = d.strIf(f, elemFirst, "role value")
		r.Display = d.strIf(f, elemSecond, "role display")
		r.Type = d.strIf(f, elemThird, "role type")
		r.Primary = f&rolePrimary != 0
	}
}

// groups reads the groups list.
func (d *userDecoder) groups(u *userDoc) {
	n := d.count("groups", 1, true)
	if n == 0 {
		return
	}
	u.Groups = make([]GroupRef, n)
	for i := range u.Groups {
		g := &u.Groups[i]
		f := d.flags("group", elemFirst|elemSecond)
		g.Value = d.strIf(f, elemFirst, "group value")
		g.Display = d.strIf(f, elemSecond, "group display")
	}
}

// enterprise reads the enterprise extension.
func (d *userDecoder) enterprise() *EnterpriseUser {
	at := d.off
	m := d.uvarint("enterprise field bitmap")
	if m&^efKnown != 0 {
		d.failAt(at, "unknown enterprise fields 0x%x", m&^efKnown)
		return nil
	}
	e := new(EnterpriseUser)
	for _, f := range [...]struct {
		bit  int
		what string
		s    *string
	}{
		{efEmployeeNumber, "enterprise employeeNumber", &e.EmployeeNumber},
		{efCostCenter, "enterprise costCenter", &e.CostCenter},
		{efOrganization, "enterprise organization", &e.Organization},
		{efDivision, "enterprise division", &e.Division},
		{efDepartment, "enterprise department", &e.Department},
		{efManagerValue, "enterprise manager.value", &e.Manager.Value},
		{efManagerDisplayName, "enterprise manager.displayName", &e.Manager.DisplayName},
	} {
		if m&(1<<f.bit) != 0 {
			*f.s = d.str(f.what)
		}
	}
	return e
}

// readTime reads a non-zero time.
func (d *userDecoder) readTime(what string) time.Time {
	at := d.off
	sec := d.varint(what)
	ns := d.uvarint(what)
	var offset int64
	if ns&1 != 0 {
		offset = d.varint(what)
		if d.err == nil && (offset == 0 || offset <= -maxOffset || offset >= maxOffset) {
			d.failAt(at, "%s zone offset %d is not a non-zero offset within a day", what, offset)
		}
	}
	ns >>= 1
	switch {
	case d.err != nil:
		return time.Time{}
	case ns >= 1e9:
		d.failAt(at, "%s nanoseconds %d out of range", what, ns)
		return time.Time{}
	case sec < minTimeSec-maxOffset || sec >= maxTimeSec+maxOffset ||
		sec+offset < minTimeSec || sec+offset >= maxTimeSec:
		d.failAt(at, "%s year outside of range [0,9999]", what)
		return time.Time{}
	}
	t := time.Unix(sec, int64(ns))
	if offset == 0 {
		t = t.UTC()
	} else {
		t = t.In(zoneAt(sec, int(offset)))
	}
	if t.IsZero() {
		// The zero instant is written as an absent field.
		d.failAt(at, "zero %s", what)
		return time.Time{}
	}
	return t
}

// zoneAt returns the location that time.Parse gives a time at unix second
// sec with a numeric zone offset: time.Local if Local has that offset then,
// else a fixed zone without a name.
func zoneAt(sec int64, offset int) *time.Location {
	if _, o := time.Unix(sec, 0).In(time.Local).Zone(); o == offset {
		return time.Local
	}
	return time.FixedZone("", offset)
}

// object reads a claims object at level depth. The claims themselves
// (nonEmpty) are never an empty object.
func (d *userDecoder) object(depth int, nonEmpty bool) map[string]any {
	n := d.count("claims object", 2, nonEmpty)
	if d.err != nil {
		return nil
	}
	m := make(map[string]any, n)
	var prev string
	for i := range n {
		at := d.off
		k := d.str("claim key")
		if i > 0 && d.err == nil && k <= prev {
			// Sorted keys are distinct keys.
			d.failAt(at, "claim key %q out of order", k)
		}
		prev = k
		v := d.value(depth)
		if d.err != nil {
			return nil
		}
		m[k] = v
	}
	return m
}

// value reads a claim value held by an object or array at level depth.
func (d *userDecoder) value(depth int) any {
	at := d.off
	switch tag := d.readByte("claim value"); tag {
	case tagNull:
		return nil
	case tagFalse:
		return false
	case tagTrue:
		return true
	case tagString:
		return d.str("claim string")
	case tagNumber:
		n := d.str("claim number")
		if d.err == nil && !validNumber(n) {
			d.failAt(at, "invalid claim number %q", n)
			return nil
		}
		return textNumber(n)
	case tagObject:
		if depth+1 > maxCodecDepth {
			d.failAt(at, "claims nested deeper than %d", maxCodecDepth)
			return nil
		}
		return d.object(depth+1, false)
	case tagArray:
		if depth+1 > maxCodecDepth {
			d.failAt(at, "claims nested deeper than %d", maxCodecDepth)
			return nil
		}
		n := d.count("claims array", 1, false)
		if d.err != nil {
			return nil
		}
		a := make([]any, n)
		for i := range a {
			a[i] = d.value(depth + 1)
		}
		return a
	default:
		if d.err == nil {
			d.failAt(at, "unknown claim value tag 0x%02x", tag)
		}
		return nil
	}
}
