package directory

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/userdir/userdir/query"
)

// Limits on user fields. They bound what one record can cost every
// backend, and they are part of the documented contract.
const (
	MaxTenantLen    = 64
	MaxIDLen        = 128
	MaxUserNameLen  = 256
	MaxStringLen    = 1024
	MaxEmailLen     = 254
	MaxListLen      = 100      // emails, phone numbers, roles per user
	MaxClaimsDepth  = 8        // nesting of objects and arrays inside claims
	MaxClaimsSize   = 16 << 10 // bytes of claims as compact JSON
	maxClaimKeyLen  = 256
	maxEmailLocal   = 64
	maxDomainLabel  = 63
	maxPhoneNumbers = MaxListLen
)

// validTenant reports whether t is 1–64 characters of [A-Za-z0-9._-] and
// not the reserved GlobalTenant.
func validTenant(t string) error {
	if t == "" || len(t) > MaxTenantLen {
		return fieldErr("tenant", "must be 1 to %d characters", MaxTenantLen)
	}
	if t == GlobalTenant {
		return fieldErr("tenant", "%s is reserved for the directory's own records", GlobalTenant)
	}
	for i := 0; i < len(t); i++ {
		if !isIDByte(t[i]) || t[i] == '~' {
			return fieldErr("tenant", "character %q at %d is not one of [A-Za-z0-9._-]", t[i], i)
		}
	}
	return nil
}

// The bytes of [A-Za-z0-9._~-] as bit sets: idBytesLo has bit c set for
// such a byte c below 64, idBytesHi bit c-64 for one from 64 to 127.
const (
	idBytesLo = 1<<'-' | 1<<'.' | (1<<10-1)<<'0'
	idBytesHi = (1<<26-1)<<('A'-64) | 1<<('_'-64) | (1<<26-1)<<('a'-64) | 1<<('~'-64)
)

// isIDByte reports whether c is one of [A-Za-z0-9._~-]. It tests a bit
// rather than ranges: ids mix digits and letters, whose range tests the
// processor cannot predict.
func isIDByte(c byte) bool {
	mask := uint64(idBytesLo)
	if c >= 64 {
		mask = idBytesHi
	}
	return c < 128 && mask>>(c&63)&1 != 0
}

// validID checks a record id supplied by a caller: 1–128 characters of
// [A-Za-z0-9._~-], so ids are safe in keys, URLs and cursors.
func validID(field, id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fieldErr(field, "must be 1 to %d characters", MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !isIDByte(id[i]) {
			return fieldErr(field, "character %q at %d is not one of [A-Za-z0-9._~-]", id[i], i)
		}
	}
	return nil
}

// checkString checks a typed string field: valid UTF-8, no NUL or other
// control characters, at most max bytes.
func checkString(field, s string, max int) error {
	if len(s) > max {
		return fieldErr(field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "not valid UTF-8")
	}
	for i, r := range s {
		if r == 0 {
			return fieldErr(field, "NUL byte at %d", i)
		}
		if unicode.IsControl(r) {
			return fieldErr(field, "control character %U at %d", r, i)
		}
	}
	return nil
}

// validEmail checks the addr-spec of RFC 5322 in the form mail systems
// accept today: a dot-atom local part and a domain of at least two labels.
func validEmail(field, e string) error {
	if err := checkString(field, e, MaxEmailLen); err != nil {
		return err
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return fieldErr(field, "%q is not an email address", e)
	}
	local, domain := e[:at], e[at+1:]
	if len(local) > maxEmailLocal {
		return fieldErr(field, "local part longer than %d bytes", maxEmailLocal)
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return fieldErr(field, "%q has a misplaced dot in its local part", e)
	}
	for _, r := range local {
		if !(r > 0x7f || r < 0x7f && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r))) {
			return fieldErr(field, "%q: character %q not allowed in the local part", e, r)
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fieldErr(field, "%q: domain needs at least two labels", e)
	}
	for _, l := range labels {
		if l == "" || len(l) > maxDomainLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return fieldErr(field, "%q: invalid domain label %q", e, l)
		}
		for _, r := range l {
			if !(r > 0x7f && unicode.IsLetter(r) || r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-')) {
				return fieldErr(field, "%q: character %q not allowed in the domain", e, r)
			}
		}
	}
	return nil
}

var validStatus = map[Status]bool{
	StatusInvited: true, StatusProvisioned: true, StatusActive: true, StatusDisabled: true, StatusDeleted: true,
}

// validate checks every caller-writable field of u. It does not look at
// read-only fields (id, meta, schemas, active, groups).
func validate(u *User) error {
	type field struct {
		name string
		v    string
		max  int
	}
	fields := []field{
		{"externalId", u.ExternalID, MaxStringLen},
		{"subject", u.Subject, MaxStringLen},
		{"userName", u.UserName, MaxUserNameLen},
		{"name.givenName", u.Name.GivenName, MaxStringLen},
		{"name.familyName", u.Name.FamilyName, MaxStringLen},
		{"name.middleName", u.Name.MiddleName, MaxStringLen},
		{"name.formatted", u.Name.Formatted, MaxStringLen},
		{"displayName", u.DisplayName, MaxStringLen},
		{"nickName", u.NickName, MaxStringLen},
		{"title", u.Title, MaxStringLen},
		{"userType", u.UserType, MaxStringLen},
		{"locale", u.Locale, MaxStringLen},
		{"timezone", u.Timezone, MaxStringLen},
	}
	if e := u.Enterprise; e != nil {
		const p = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
		fields = append(fields,
			field{p + "employeeNumber", e.EmployeeNumber, MaxStringLen},
			field{p + "costCenter", e.CostCenter, MaxStringLen},
			field{p + "organization", e.Organization, MaxStringLen},
			field{p + "division", e.Division, MaxStringLen},
			field{p + "department", e.Department, MaxStringLen},
			field{p + "manager.value", e.Manager.Value, MaxStringLen},
			field{p + "manager.displayName", e.Manager.DisplayName, MaxStringLen},
		)
	}
	for _, f := range fields {
		if err := checkString(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if strings.TrimSpace(u.UserName) == "" {
		return fieldErr("userName", "required")
	}
	if u.Status != "" && !validStatus[u.Status] {
		return fieldErr("status", "unknown status %q", u.Status)
	}
	if err := validateEmails(u.Emails); err != nil {
		return err
	}
	if len(u.PhoneNumbers) > maxPhoneNumbers {
		return fieldErr("phoneNumbers", "more than %d values", maxPhoneNumbers)
	}
	for i, p := range u.PhoneNumbers {
		f := fmt.Sprintf("phoneNumbers[%d]", i)
		if p.Value == "" {
			return fieldErr(f+".value", "required")
		}
		if err := checkString(f+".value", p.Value, MaxStringLen); err != nil {
			return err
		}
		if err := checkString(f+".type", p.Type, MaxStringLen); err != nil {
			return err
		}
	}
	if len(u.Roles) > MaxListLen {
		return fieldErr("roles", "more than %d values", MaxListLen)
	}
	seenRole := map[string]bool{}
	for i, r := range u.Roles {
		f := fmt.Sprintf("roles[%d]", i)
		if err := validID(f+".value", r.Value); err != nil {
			return err
		}
		if seenRole[r.Value] {
			return fieldErr(f+".value", "role %q listed twice", r.Value)
		}
		seenRole[r.Value] = true
		if err := checkString(f+".display", r.Display, MaxStringLen); err != nil {
			return err
		}
		if err := checkString(f+".type", r.Type, MaxStringLen); err != nil {
			return err
		}
	}
	return validateClaims(u.Claims)
}

func validateEmails(emails []Email) error {
	if len(emails) > MaxListLen {
		return fieldErr("emails", "more than %d values", MaxListLen)
	}
	seen := make(map[string]int, len(emails))
	primaries := 0
	for i, e := range emails {
		f := fmt.Sprintf("emails[%d]", i)
		if e.Value == "" {
			return fieldErr(f+".value", "required")
		}
		if err := validEmail(f+".value", e.Value); err != nil {
			return err
		}
		if err := checkString(f+".type", e.Type, MaxStringLen); err != nil {
			return err
		}
		k := query.Fold(e.Value)
		if j, dup := seen[k]; dup {
			return fieldErr(f+".value", "repeats emails[%d]", j)
		}
		seen[k] = i
		if e.Primary {
			primaries++
		}
	}
	if primaries > 1 {
		return fieldErr("emails", "more than one primary")
	}
	return nil
}

// validateClaims checks the free-form claims: keys non-empty, not starting
// with '$' and without '.' (so every claim is addressable by a filter path
// and no store can read a key as an operator), JSON values only, bounded
// depth and size.
func validateClaims(c map[string]any) error {
	if c == nil {
		return nil
	}
	if err := checkClaimValue("claims", c, 0); err != nil {
		return err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return fieldErr("claims", "not JSON: %v", err)
	}
	if len(b) > MaxClaimsSize {
		return fieldErr("claims", "larger than %d bytes as JSON", MaxClaimsSize)
	}
	return nil
}

func checkClaimValue(path string, v any, depth int) error {
	switch v := v.(type) {
	case nil, bool, string, json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		if s, ok := v.(string); ok {
			if !utf8.ValidString(s) {
				return fieldErr(path, "not valid UTF-8")
			}
			if strings.IndexByte(s, 0) >= 0 {
				return fieldErr(path, "contains a NUL byte")
			}
		}
		if n, ok := v.(json.Number); ok {
			if _, err := query.ParseNumber(string(n)); err != nil {
				return fieldErr(path, "invalid number %q", string(n))
			}
		}
		return nil
	case float32:
		return checkFloat(path, float64(v))
	case float64:
		return checkFloat(path, v)
	case map[string]any:
		if depth >= MaxClaimsDepth {
			return fieldErr(path, "nested deeper than %d", MaxClaimsDepth)
		}
		for k, e := range v {
			if err := checkClaimKey(path, k); err != nil {
				return err
			}
			if err := checkClaimValue(path+"."+k, e, depth+1); err != nil {
				return err
			}
		}
		return nil
	case []any:
		if depth >= MaxClaimsDepth {
			return fieldErr(path, "nested deeper than %d", MaxClaimsDepth)
		}
		for i, e := range v {
			if err := checkClaimValue(fmt.Sprintf("%s[%d]", path, i), e, depth+1); err != nil {
				return err
			}
		}
		return nil
	default:
		return fieldErr(path, "value of Go type %T is not JSON", v)
	}
}

func checkFloat(path string, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fieldErr(path, "number %v is not JSON", f)
	}
	return nil
}

func checkClaimKey(path, k string) error {
	switch {
	case k == "":
		return fieldErr(path, "empty claim key")
	case k[0] == '$':
		return fieldErr(path+"."+k, "claim key starts with '$'")
	case strings.Contains(k, "."):
		return fieldErr(path+"."+k, "claim key contains '.'")
	case len(k) > maxClaimKeyLen:
		return fieldErr(path, "claim key longer than %d bytes", maxClaimKeyLen)
	case !utf8.ValidString(k):
		return fieldErr(path, "claim key not valid UTF-8")
	case strings.IndexFunc(k, unicode.IsControl) >= 0:
		return fieldErr(path, "claim key contains a control character")
	}
	return nil
}

// normalizeClaims returns claims with every number as a json.Number, so a
// claim reads back the same from every backend ("numbers kept exactly, as
// given"). It copies; the caller's map is not touched.
func normalizeClaims(c map[string]any) map[string]any {
	if len(c) == 0 {
		return nil
	}
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = normalizeClaim(v)
	}
	return out
}

func normalizeClaim(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = normalizeClaim(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeClaim(e)
		}
		return out
	case int:
		return intNumber(int64(v))
	case int8:
		return intNumber(int64(v))
	case int16:
		return intNumber(int64(v))
	case int32:
		return intNumber(int64(v))
	case int64:
		return intNumber(v)
	case uint:
		return uintNumber(uint64(v))
	case uint8:
		return uintNumber(uint64(v))
	case uint16:
		return uintNumber(uint64(v))
	case uint32:
		return uintNumber(uint64(v))
	case uint64:
		return uintNumber(v)
	case json.Number:
		return textNumber(string(v))
	case float32:
		return json.Number(strconv.FormatFloat(float64(v), 'g', -1, 32))
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	default:
		return v
	}
}

// smallNumbers holds the claim numbers 0 to 255, each a json.Number
// already boxed in an interface. Claims so often hold small counts and
// levels that a box of "3" per user would cost an allocation each, and a
// cache miss each when a filter reads them in a scan; a shared box is as
// immutable as any other interface value. It is never written after
// initialization.
var smallNumbers = func() (t [256]any) {
	for i := range t {
		t[i] = json.Number(strconv.Itoa(i))
	}
	return t
}()

// intNumber returns v as a claim number.
func intNumber(v int64) any {
	if v >= 0 && v < int64(len(smallNumbers)) {
		return smallNumbers[v]
	}
	return json.Number(strconv.FormatInt(v, 10))
}

// uintNumber returns v as a claim number.
func uintNumber(v uint64) any {
	if v < uint64(len(smallNumbers)) {
		return smallNumbers[v]
	}
	return json.Number(strconv.FormatUint(v, 10))
}

// textNumber returns the claim number whose text is n, a valid JSON
// number, with that text: the shared box when there is one.
func textNumber(n string) any {
	if v, ok := smallNumber(n); ok {
		return v
	}
	return json.Number(n)
}

// smallNumber returns the shared box of the claim number whose text is n,
// when n is the canonical text of one of smallNumbers, so that the number
// reads back with the same text.
func smallNumber(n string) (any, bool) {
	if len(n) == 0 || len(n) > 3 || (n[0] == '0' && len(n) > 1) {
		return nil, false
	}
	v := 0
	for i := 0; i < len(n); i++ {
		if !isDigit(n[i]) {
			return nil, false
		}
		v = v*10 + int(n[i]-'0')
	}
	if v >= len(smallNumbers) {
		return nil, false
	}
	return smallNumbers[v], true
}

// normalize applies DESIGN §2's write normalization to u in place: the
// status from status/active, time precision, derived fields.
func normalize(u *User) {
	u.Claims = normalizeClaims(u.Claims)
	if u.Enterprise != nil && *u.Enterprise == (EnterpriseUser{}) {
		u.Enterprise = nil
	}
	if !u.LastLoginAt.IsZero() {
		u.LastLoginAt = u.LastLoginAt.UTC()
	}
	if len(u.Emails) == 0 {
		u.Emails = nil
	}
	if len(u.PhoneNumbers) == 0 {
		u.PhoneNumbers = nil
	}
	if len(u.Roles) == 0 {
		u.Roles = nil
	}
	if len(u.Groups) == 0 {
		u.Groups = nil
	}
}

// inputStatus resolves the status of a new user: status wins; if only
// active is given, false means disabled; with neither the user is active.
func inputStatus(u *User) Status {
	switch {
	case u.Status != "":
		return u.Status
	case u.Active != nil && !*u.Active:
		return StatusDisabled
	default:
		return StatusActive
	}
}

// finish sets the read-only computed fields on a user handed to a caller.
func finish(u *User) {
	// One allocation holds both computed fields.
	c := &struct {
		schemas [2]string
		active  bool
	}{active: u.Status == StatusActive}
	c.schemas[0] = query.UserURN
	if hasEnterprise(u) {
		c.schemas[1] = query.EnterpriseURN
		u.Schemas = c.schemas[:2:2]
	} else {
		u.Schemas = c.schemas[:1:1]
	}
	u.Active = &c.active
}
