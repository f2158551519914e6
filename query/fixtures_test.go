package query

import (
	"encoding/json"
	"math"
	"sort"
	"time"
)

// fxDoc is a test Resource backed by a map, as a decoded JSON document
// would be.
type fxDoc map[string]any

func (d fxDoc) Attr(name string) any { return d[name] }

// fxList is a multi-valued attribute exposed through the List interface.
type fxList []any

func (l fxList) Len() int     { return len(l) }
func (l fxList) At(i int) any { return l[i] }

// fxUser is a test Resource backed by a Go struct, as directory.User is:
// complex values are Resources, multi-valued ones Lists.
type fxUser struct {
	id, userName, status string
	active               bool
	name                 fxDoc
	emails               List // an interface, so that handing it out does not allocate
	claims               map[string]any
	meta                 fxDoc
	enterprise           fxDoc
}

func (u *fxUser) Attr(name string) any {
	switch name {
	case "id":
		return u.id
	case "userName":
		return u.userName
	case "status":
		return u.status
	case "active":
		return u.active
	case "name":
		if u.name == nil {
			return nil
		}
		return u.name
	case "emails":
		if u.emails == nil {
			return nil
		}
		return u.emails
	case "claims":
		if u.claims == nil {
			return nil
		}
		return u.claims
	case "meta":
		return u.meta
	case EnterpriseURN:
		if u.enterprise == nil {
			return nil
		}
		return u.enterprise
	}
	return nil
}

func fxTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func fxNum(s string) Number {
	n, err := ParseNumber(s)
	if err != nil {
		panic(err)
	}
	return n
}

type obj = map[string]any

// fxUsers returns the evaluator fixtures: twelve users covering every
// attribute type, Go representation and edge case the matrix tests.
func fxUsers() []Resource {
	return []Resource{
		fxDoc{
			"id": "u01", "externalId": "EXT-1", "subject": "sub|alice", "userName": "alice",
			"name":        obj{"givenName": "Alice", "familyName": "Johnson", "formatted": "Alice Johnson"},
			"displayName": "Alice Johnson", "title": "Engineer", "locale": "en-US",
			"emails": []any{
				obj{"value": "alice@example.com", "type": "work", "primary": true, "verified": true},
				obj{"value": "alice@home.org", "type": "home", "primary": false},
			},
			"phoneNumbers": []any{obj{"value": "+49 30 1234", "type": "work"}},
			"status":       "active", "active": true,
			"roles":  []any{obj{"value": "admin", "display": "Admin", "primary": true}},
			"groups": []any{obj{"value": "eng", "display": "Engineering"}},
			"claims": obj{
				"level": json.Number("3"), "department": "ops", "vip": true,
				"tags": []any{"a", "b"}, "address": obj{"city": "Berlin", "zip": "10115"},
				"score": json.Number("2.50"),
			},
			"schemas":     []string{UserURN, EnterpriseURN},
			"lastLoginAt": fxTime("2024-03-01T10:00:00.123456789Z"),
			"meta":        obj{"created": fxTime("2024-01-01T00:00:00Z"), "lastModified": fxTime("2024-02-01T00:00:00Z"), "version": fxNum("3")},
			EnterpriseURN: fxDoc{"employeeNumber": "1001", "department": "Engineering", "manager": obj{"value": "u02", "displayName": "Bob Smith"}},
		},
		fxDoc{
			"id": "u02", "externalId": "ext-1", "subject": "sub|bob", "userName": "Bob",
			"name":        obj{"givenName": "Bob", "familyName": "Smith"},
			"displayName": "Bob Smith", "title": "Sales Lead",
			"emails": []any{
				obj{"value": "BOB@Example.COM", "type": "work", "primary": false, "verified": false},
				obj{"value": "bob@example.org", "type": "Home", "primary": true},
			},
			"status": "disabled", "active": false,
			"roles":  []any{obj{"value": "sales", "display": "Sales"}},
			"groups": []any{obj{"value": "ENG", "display": "eng (upper)"}, obj{"value": "sales", "display": "Sales"}},
			"claims": obj{
				"level": 5, "department": "OPS", "vip": false,
				"nested": obj{"deep": obj{"x": "y"}}, "Dept": "x",
			},
			"schemas": []any{UserURN, EnterpriseURN},
			"meta": obj{
				"created":      time.Date(2024, 1, 1, 1, 0, 0, 0, time.FixedZone("CET", 3600)),
				"lastModified": fxTime("2024-02-02T00:00:00Z"), "version": int64(1),
			},
			EnterpriseURN: obj{"department": "Sales", "costCenter": "CC-7"},
		},
		fxDoc{
			"id": "u03", "userName": "carol",
			"name":        obj{"givenName": "Carol", "familyName": "M\u00fcller"},
			"displayName": "STRASSE",
			"emails":      []map[string]any{{"value": "carol@example.com", "type": "work", "primary": true}},
			"status":      "active", "active": true,
			"claims":      obj{"level": 3.0, "department": "Ops", "tags": []any{"b", "c"}, "score": 2.5},
			"schemas":     []string{UserURN},
			"lastLoginAt": time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("EET", 7200)),
			"meta":        obj{"created": fxTime("2024-01-02T03:04:05.123456789Z"), "version": 2},
		},
		fxDoc{
			"id": "u04", "userName": "\u0130lker",
			"name":        obj{"givenName": "\u0130lker", "familyName": "Mu\u0308ller"},
			"displayName": "Stra\u00dfe",
			"status":      "invited", "active": false,
			"claims":  obj{"level": "3", "big": json.Number("9007199254740993")},
			"schemas": []string{UserURN},
			"meta":    obj{"created": fxTime("2024-01-02T03:04:05.12345678Z"), "version": 1},
		},
		fxDoc{
			"id": "u05", "userName": "ilker",
			"name":        obj{"givenName": "ilker"},
			"displayName": "strasse",
			"status":      "active", "active": true,
			"claims": obj{"big": json.Number("9007199254740992"), "level": json.Number("3.0e0")},
			"meta":   obj{"created": fxTime("2024-01-03T00:00:00Z"), "version": 10},
		},
		fxDoc{
			"id": "u06", "userName": "dave", "status": "active", "active": true,
			"meta": obj{"created": fxTime("2024-01-04T00:00:00Z"), "version": 1},
		},
		fxDoc{
			"id": "u07", "userName": "erin",
			"name":     obj{"givenName": "", "familyName": ""},
			"nickName": "",
			"emails":   []any{},
			"status":   "provisioned", "active": false,
			"claims": obj{
				"nothing": nil, "empty": "", "list": []any{}, "obj": obj{},
				"zero": json.Number("0"), "no": false, "level": json.Number("-1.5"),
			},
			EnterpriseURN: obj{},
			"meta":        obj{"created": fxTime("2024-01-05T00:00:00Z"), "version": 1},
		},
		&fxUser{
			id: "u08", userName: "frank", status: "active", active: true,
			name:   fxDoc{"givenName": "Frank", "familyName": "Anderson"},
			emails: fxList{fxDoc{"value": "frank@example.com", "type": "work", "primary": true}},
			claims: obj{"level": int64(7), "department": "ops", "tags": []string{"x"}},
			meta:   fxDoc{"created": fxTime("2024-01-06T00:00:00Z"), "version": NumberFromInt64(2)},
			enterprise: fxDoc{
				"department": "Engineering", "manager": fxDoc{"value": "u01"},
			},
		},
		fxDoc{
			"id": "u09", "userName": "grace", "status": "deleted", "active": false,
			"emails": []any{obj{"value": "grace@EXAMPLE.com", "type": "work"}},
			"claims": obj{"level": 3.5, "big": float64(1 << 53), "score": json.Number("2.5")},
			"meta":   obj{"created": fxTime("2023-12-31T23:59:59.999999999Z"), "version": json.Number("4")},
		},
		fxDoc{
			"id": "u10", "userName": "heidi", "status": "active", "active": true,
			"emails": []any{
				obj{"value": "heidi@work.example.com", "type": "work", "primary": false},
				obj{"value": "heidi@example.com", "type": "home", "primary": true},
			},
			"claims": obj{
				"addresses": []any{obj{"city": "Paris", "zip": "75001"}, obj{"city": "Berlin", "zip": "10117"}},
				"level":     json.Number("10"),
			},
			"meta": obj{"created": fxTime("2024-02-01T00:00:00Z"), "version": 1},
		},
		fxDoc{
			"id": "u11", "externalId": "EXT-2", "subject": "SUB|ALICE", "userName": "ivan",
			"title": "engineer", "nickName": "\u212a", // KELVIN SIGN folds to "k"
			"status": "active", "active": true,
			"claims":      obj{"department": "Stra\u00dfe"},
			"lastLoginAt": "2024-03-01T10:00:00Z",
			"meta":        obj{"created": fxTime("2024-01-01T00:00:00Z"), "version": 1},
		},
		fxDoc{
			// Values of unexpected Go types: they match nothing.
			"id": "u12", "userName": "judy", "status": "active", "active": "true",
			"roles":  "oops",
			"emails": obj{"value": "judy@example.net"},
			"claims": obj{
				"level": json.Number("9007199254740993"), "ch": make(chan int),
				"f": math.NaN(), "inf": math.Inf(1), "fn": func() {},
			},
			"meta": obj{"created": "not a time", "version": "3"},
		},
	}
}

// fxID returns the id of a fixture.
func fxID(r Resource) string {
	id, _ := r.Attr("id").(string)
	return id
}

// fxMatch returns the sorted ids of the fixtures that satisfy e.
func fxMatch(e Expr, users []Resource) []string {
	return fxMatchWith(func(r Resource) bool { return Eval(e, r) }, users)
}

// fxMatchWith returns the sorted ids of the fixtures that match.
func fxMatchWith(match func(Resource) bool, users []Resource) []string {
	ids := []string{}
	for _, u := range users {
		if match(u) {
			ids = append(ids, fxID(u))
		}
	}
	sort.Strings(ids)
	return ids
}
