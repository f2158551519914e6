package main

import (
	"fmt"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/userdir/userdir/query"
)

// minFilters is the least number of filters P6 parses.
const minFilters = 100

// filterCorpus returns SCIM filters of every shape (RFC 7644 §3.4.2.2):
// each operator on string, number, boolean, dateTime and null literals,
// presence, and/or/not with grouping, value filters, URN-qualified paths,
// nested claims paths and escapes.
func filterCorpus() []string {
	out := []string{
		`userName eq "bjensen"`,
		`name.familyName co "O'Malley"`,
		`userName sw "J"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`meta.lastModified ge "2011-05-13T04:42:34Z"`,
		`meta.lastModified lt "2011-05-13T04:42:34Z"`,
		`meta.lastModified le "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`,
		`title pr or userType eq "Intern"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and (emails.type eq "work")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`emails[type eq "work" and (value ew ".org" or not (primary eq true))]`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"`,
		`displayName eq "Babs Jensen \"the first\""`,
		`displayName eq "caf\u00e9 \\ \/ \b\f\n\r\t"`,
		`displayName eq "\ud83d\ude00 smile"`,
		`active eq true`,
		`active eq false and status eq "disabled"`,
		`externalId eq null`,
		`externalId ne null`,
		`claims.level gt 3`,
		`claims.level ge 3.5`,
		`claims.level lt -2`,
		`claims.level le 1e3`,
		`claims.score eq 0.25E-2`,
		`claims.address.city eq "Zürich"`,
		`claims.department eq "ops" and claims.level gt 3`,
		`name.familyName co "son" and claims.level gt 3`,
		`not (userName eq "root")`,
		`not (userName eq "root") and not (userName eq "admin")`,
		`((userName eq "a") or (userName eq "b")) and active eq true`,
		`(((title pr)))`,
		`USERNAME EQ "Ann" AND NAME.FAMILYNAME SW "m"`,
		`userName Eq "ann" Or displayName Co "ann"`,
		`id eq "2819c223-7f76-453a-919d-413861904646"`,
		`meta.created gt "2024-01-01T00:00:00.123456789+02:00"`,
		`meta.version eq "W/\"3694e05e9dff590\""`,
		`groups.value eq "e9e30dba-f08f-4109-8486-d5c6a331660a"`,
		`roles[value eq "admin" or primary eq true]`,
		`phoneNumbers[type eq "mobile" and value sw "+1"]`,
		`addresses[type eq "work" and postalCode eq "91608"]`,
		`x509Certificates pr`,
		`name[givenName eq "Ann" and familyName eq "Lee"]`,
		`userName eq "a" or userName eq "b" or userName eq "c" or userName eq "d"`,
		`userName eq "a" and displayName eq "b" and nickName eq "c" and title eq "d"`,
		`(userName sw "a" or userName sw "b") and (displayName ew "c" or displayName ew "d")`,
		`not (active eq true) or not (title pr)`,
		`meta.created ge "2022-01-01T00:00:00Z" and meta.created lt "2023-01-01T00:00:00Z"`,
		`meta.lastModified gt "2024-06-30T23:59:59.999Z" and status ne "deleted"`,
		`emails[primary eq true and verified eq true]`,
		`emails[not (type eq "home")]`,
		`emails[value sw "ann" or value ew ".io"] and active eq true`,
		`phoneNumbers[type eq "work"] or phoneNumbers[type eq "mobile"]`,
		`claims.level eq 0`,
		`claims.level ne 9`,
		`claims.level ge -1.5e+10`,
		`claims.tags eq "beta"`,
		`claims.flags.beta eq true`,
		`claims.manager eq null`,
		`claims.department sw "eng" or claims.department sw "ops"`,
		`userType eq "Employee" and claims.level gt 3 and claims.level lt 8`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter eq "4130"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department co "sales"`,
		`employeeNumber eq "42" and organization eq "Universal Studios"`,
		`division sw "West" or costCenter pr`,
		`subject eq "auth0|5f7c8ec7c33c6c004bbafe82"`,
		`externalId eq "701984" and userName ne "bjensen"`,
		`nickName ew "ie" and locale eq "en-US" and timezone eq "America/Los_Angeles"`,
		`preferredLanguage eq "en" or profileUrl pr`,
		`lastLoginAt lt "2020-01-01T00:00:00Z"`,
		`groups[value eq "eng"] and roles[value eq "admin"]`,
		`userName   eq   "spaces"`,
		`   title pr   `,
	}
	attrs := []string{"userName", "displayName", "nickName", "title", "name.givenName", "name.familyName", "emails.value", "locale"}
	ops := []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
	values := []string{`"ann"`, `"Jensen"`, `"@example.com"`, `"x y z"`, `"Straße"`, `"é"`, `"a\"b"`, `"0042"`}
	k := 0
	for _, a := range attrs {
		for j, op := range ops {
			if (k+j)%3 == 0 {
				out = append(out, fmt.Sprintf("%s %s %s", a, op, values[(k+j)%len(values)]))
			}
		}
		k++
	}
	for i := range 30 {
		a, b := attrs[i%len(attrs)], attrs[(i*3+1)%len(attrs)]
		o1, o2 := ops[i%len(ops)], ops[(i*5+2)%len(ops)]
		v1, v2 := values[i%len(values)], values[(i*7+3)%len(values)]
		switch i % 5 {
		case 0:
			out = append(out, fmt.Sprintf("%s %s %s and %s %s %s", a, o1, v1, b, o2, v2))
		case 1:
			out = append(out, fmt.Sprintf("%s %s %s or %s %s %s or %s pr", a, o1, v1, b, o2, v2, a))
		case 2:
			out = append(out, fmt.Sprintf("not (%s %s %s) and (%s %s %s or %s pr)", a, o1, v1, b, o2, v2, b))
		case 3:
			out = append(out, fmt.Sprintf("emails[type eq %s and value %s %s] and %s pr", v1, o2, v2, a))
		case 4:
			out = append(out, fmt.Sprintf("claims.level gt %d and (%s %s %s or claims.department eq %s)", i, a, o1, v1, v2))
		}
	}
	return out
}

// commonFilters returns the corpus filters that both parsers accept.
func commonFilters() (ours []string, peer [][]byte, rejected []string) {
	for _, f := range filterCorpus() {
		if _, err := query.Parse(f); err != nil {
			rejected = append(rejected, fmt.Sprintf("userdir: %s: %v", f, err))
			continue
		}
		if _, err := filter.ParseFilter([]byte(f)); err != nil {
			rejected = append(rejected, fmt.Sprintf("peer: %s: %v", f, err))
			continue
		}
		ours = append(ours, f)
		peer = append(peer, []byte(f))
	}
	return ours, peer, rejected
}

// parseRows measures P6: query.Parse against the peer parser
// github.com/scim2/filter-parser/v2 on the same valid filters, parse only
// (the peer does not bind or evaluate).
func (b *bench) parseRows() {
	ours, peer, rejected := commonFilters()
	for _, r := range rejected {
		b.log.Printf("P6: left out (not accepted by both): %s", r)
	}
	r := row{id: "P6", backend: "—", clock: b.clk.name,
		what:     fmt.Sprintf("`query.Parse` of %d filters (time for all)", len(ours)),
		baseline: "`filter.ParseFilter` (scim2/filter-parser v2.2.0)",
		target:   target{atLeast: true, value: 50, faster: true}}
	if len(ours) < minFilters {
		r.err = fmt.Errorf("only %d filters both parsers accept; want %d", len(ours), minFilters)
		b.add(r)
		return
	}
	// One operation parses the whole corpus, so every batch has the same
	// mix of filters.
	a := func(int) error {
		for _, f := range ours {
			if _, err := query.Parse(f); err != nil {
				return err
			}
		}
		return nil
	}
	p := func(int) error {
		for _, f := range peer {
			if _, err := filter.ParseFilter(f); err != nil {
				return err
			}
		}
		return nil
	}
	r.m, r.err = b.compare("P6", b.clk.loop(a), b.clk.loop(p), true)
	b.add(r)
}
