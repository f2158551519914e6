package query_test

import (
	"encoding/json"
	"fmt"

	"github.com/userdir/userdir/query"
)

// evalDoc exposes a decoded JSON document to the evaluator.
type evalDoc map[string]any

func (d evalDoc) Attr(name string) any { return d[name] }

func ExampleEval() {
	f, err := query.Parse(`EMAILS[type eq "work" and value ew "@EXAMPLE.COM"] and claims.level gt 2 and not (active eq false)`)
	if err != nil {
		fmt.Println(err)
		return
	}
	bound, err := query.Bind(f, query.UserSchema())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bound) // canonical text: the cache key

	var ann evalDoc
	_ = json.Unmarshal([]byte(`{
		"userName": "ann",
		"active": true,
		"emails": [{"value": "ann@home.org", "type": "home"}, {"value": "Ann@Example.com", "type": "work"}],
		"claims": {"level": 3}
	}`), &ann)
	fmt.Println(query.Eval(bound, ann))

	// The work address must itself end with the domain: a home address
	// that does is not enough.
	bob := evalDoc{
		"active": true,
		"emails": []any{map[string]any{"value": "bob@example.com", "type": "home"}, map[string]any{"value": "bob@corp.io", "type": "work"}},
		"claims": map[string]any{"level": json.Number("3")},
	}
	fmt.Println(query.Eval(bound, bob))

	// A type error is found before any data is read.
	f, _ = query.Parse(`userName eq "x" or active gt false`)
	_, err = query.Bind(f, query.UserSchema())
	fmt.Println(err)
	// Output:
	// emails[type eq "work" and value ew "@EXAMPLE.COM"] and claims.level gt 2 and not (active eq false)
	// true
	// false
	// invalid attribute "active": gt cannot order booleans
}

func ExampleCompile() {
	bound, err := query.Parse(`name.familyName co "son" and claims.level gt 3`)
	if err == nil {
		bound, err = query.Bind(bound, query.UserSchema())
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	// Compile once, then match each resource of a scan.
	m := query.Compile(bound)
	for _, u := range []evalDoc{
		{"userName": "ann", "name": map[string]any{"familyName": "Johnson"}, "claims": map[string]any{"level": 5}},
		{"userName": "bob", "name": map[string]any{"familyName": "Wilson"}, "claims": map[string]any{"level": json.Number("2")}},
		{"userName": "cy", "name": map[string]any{"familyName": "Smith"}, "claims": map[string]any{"level": 9}},
	} {
		fmt.Println(u["userName"], m.Match(u))
	}
	// Output:
	// ann true
	// bob false
	// cy false
}
