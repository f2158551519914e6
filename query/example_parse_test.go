package query_test

import (
	"errors"
	"fmt"

	"github.com/userdir/userdir/query"
)

func ExampleParse() {
	e, err := query.Parse(`userType EQ "Employee" and (emails co "example.com" or emails.value co "example.org")`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)

	// The Entra ID form is the value filter it stands for.
	e, _ = query.Parse(`emails[type eq "work"].value eq "bjensen@example.com"`)
	fmt.Println(e)

	_, err = query.Parse("title pr and\tuserType eq \"Employee\"")
	var se *query.SyntaxError
	fmt.Println(errors.As(err, &se), se.Offset, errors.Is(err, query.ErrInvalidFilter))
	fmt.Println(err)
	// Output:
	// userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")
	// emails[type eq "work" and value eq "bjensen@example.com"]
	// true 12 true
	// invalid filter at offset 12: tab character: only the space character separates tokens
}

func ExampleAttr() {
	b := query.Attr("emails").Where(query.Attr("type").Eq("work").And(query.Attr("value").Ew(".org"))).
		And(query.NoneOf(query.Attr("active").Eq(false)))
	e, err := b.Expr()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e)

	// Values are literals, never syntax.
	e, _ = query.Attr("userName").Eq(`x" or userName pr or userName eq "y`).Expr()
	fmt.Println(e)

	_, err = query.Attr("claims.$where").Eq(1).Expr()
	fmt.Println(err)
	// Output:
	// emails[type eq "work" and value ew ".org"] and not (active eq false)
	// userName eq "x\" or userName pr or userName eq \"y"
	// query: attribute path "claims.$where": invalid filter at offset 7: unexpected '$': expected an attribute name
}

func ExampleParsePath() {
	p, err := query.ParsePath(`emails[type eq "work"].value`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Path, "|", p.Filter, "|", p.Sub)
	// Output:
	// emails | type eq "work" | value
}

func ExampleNumber() {
	a, _ := query.ParseNumber("9007199254740993")
	b, _ := query.ParseNumber("9007199254740992.0")
	c, _ := query.ParseNumber("30e-1")
	fmt.Println(a.Cmp(b), c, c.Cmp(query.NumberFromInt64(3)))
	// Output:
	// 1 3 0
}
