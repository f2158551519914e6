package query

// Attribute is an attribute path resolved against a Schema: what Bind
// records on each node and what Schema.Resolve returns.
type Attribute struct {
	// Name is the canonical dotted name: "userName", "emails.value",
	// "claims.address.city", or for the enterprise extension
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
	Name string
	// Local is the canonical spelling relative to the enclosing value
	// filter ("value" inside emails[...]); equal to Name elsewhere. It is
	// what canonical text prints for a bound node.
	Local     string
	Type      Type
	Multi     bool // the attribute or an ancestor is multi-valued
	CaseExact bool
	Required  bool // assigned on every stored record (the attribute and all ancestors are Required)
	Claims    bool // under the free-form claims object: JSON type comes from the data

	// Lookup data filled by Schema.Resolve and Bind.
	def  *AttrDef // the declaration; nil under claims
	segs []seg    // names to look up from the resource root
	rel  []seg    // the tail of segs below the enclosing value filter's element (all of segs outside one)
}

// seg is one step of an attribute lookup: a name handed to Resource.Attr or
// looked up in a map. Schema names match map keys case-insensitively;
// claims keys (exact) match only as stored, since they are JSON object keys.
type seg struct {
	name  string
	exact bool
}
