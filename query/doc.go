// Package query implements the SCIM 2.0 filter language (RFC 7644
// §3.4.2.2) with the one set of semantics that every userdir backend
// shares: a parser and a typed builder that produce one AST, a binder that
// resolves it against an attribute catalogue, the evaluator that defines
// what a filter means, a planner that splits it between a backend and Go,
// and canonical text.
//
// # Front ends
//
// Parse turns filter text into an unbound Expr; ParseWithLimits does so
// under explicit Limits. The Builder reaches the same AST from Go values,
// so a program never formats filter text:
//
//	query.Attr("emails").Where(query.Attr("type").Eq("work").And(query.Attr("value").Ew(".org")))
//
// Attr starts a condition; AllOf, AnyOf and NoneOf combine several, as do
// the And and Or methods. Builder values always become literals and Attr
// paths follow the filter grammar, so nothing a caller passes can change the
// structure of the query; errors wait for Builder.Expr. ParsePath parses the paths of SCIM PATCH operations
// (`emails[type eq "work"].value`).
//
// Canonical (also every node's String method) prints an expression in one
// deterministic form: lower-case keywords, single spaces, minimal
// parentheses, fixed string escapes and canonical numbers. Parsing the
// canonical text of an unbound expression gives an Equal expression. A
// bound node prints its canonical attribute name, so every spelling of a
// query has one canonical text, which is what results are cached under.
//
// # Binding, evaluation and planning
//
// Bind resolves every path against a Schema (UserSchema for users),
// records the Attribute on the node and coerces literals to the
// attribute's type, reporting every violation of rules 4–11 below as an
// error matching ErrInvalidFilter before any data is read. Eval evaluates a
// bound expression against a Resource; it is the reference semantics.
// PlanQuery splits a bound expression into the part a backend's Pushdown
// accepts and the residual evaluated with Eval, so every backend returns
// the same records for the same query.
//
// # Semantics
//
// These are the numbered rules of DESIGN §3.
//
//  1. Grammar: the RFC's ABNF with parenthesized sub-filters, value filters
//     attr[...] (which may hold and, or, not and parentheses, but not
//     another value filter) and the Microsoft Entra ID form
//     `emails[type eq "work"].value eq "x"`, which means
//     `emails[type eq "work" and value eq "x"]`. "not" must be followed by
//     "(" (spaces between are allowed); a bare attribute named "not" is
//     therefore not expressible. Precedence, tightest first: grouping,
//     attribute operators, not, and, or; and and or associate to the left.
//     Keywords and the operators eq ne co sw ew gt ge lt le pr are
//     case-insensitive. Attribute names are ALPHA *(ALPHA / DIGIT / "-" /
//     "_"), joined by "."; a path that starts with "urn:" has a schema URN
//     prefix, everything up to its last ':'.
//  2. Whitespace is the space character only. Runs of spaces are accepted
//     wherever one is, at both ends and just inside parentheses and
//     brackets; a space is required around and and or and between path,
//     operator and value; none is allowed between a path and "[". Tabs,
//     line breaks and other control characters outside string literals are
//     errors, and so is invalid UTF-8 anywhere.
//  3. Literals are JSON: lower-case true, false and null; JSON numbers only
//     (not 03, +3, .5 or 1.); JSON strings with every JSON escape, \uXXXX in
//     either case, surrogate pairs combined into one character. A lone
//     surrogate and a raw control character in a string are errors.
//  4. Attribute names, sub-attribute names and schema URN prefixes are
//     case-insensitive; the core URN prefix may be given or omitted; an
//     unqualified name that is not a core attribute resolves to the
//     enterprise extension when that is unambiguous. Unknown attributes are
//     errors, except under claims, which is free-form at any depth.
//  5. Strings compare case-insensitively (Unicode NFC then full case
//     folding, see Fold) except for the caseExact attributes id,
//     externalId, subject, schemas, groups.value and meta.version. Ordering
//     is by code point after folding.
//  6. dateTime values compare as instants at full precision; a literal
//     without a zone is UTC; a date-only or invalid literal, and co, sw or
//     ew on a dateTime, are errors.
//  7. Numbers compare by exact decimal value (see Number), never through
//     float64.
//  8. Booleans allow only eq and ne; an ordering operator with a boolean is
//     an error found at Bind, even in a branch that would short-circuit.
//  9. A literal of the wrong type for a typed attribute is an error; under
//     claims the type comes from the data and a mismatch does not match.
//  10. A multi-valued attribute matches if any value does, and separate
//     expressions are not tied to one element, while a value filter ties
//     its conditions to one element. A comparison on a multi-valued complex
//     attribute with a value sub-attribute means that sub-attribute
//     (`emails co "x"` is `emails.value co "x"`).
//  11. ne is existential, so an unassigned attribute never satisfies ne but
//     does satisfy not (attr eq v); not is plain two-valued negation; pr is
//     false for unassigned, null, "", [], {} and objects whose members are
//     all empty; eq null means unassigned and ne null assigned; null with
//     any other operator is an error.
//
// # Limits and errors
//
// Limits bound the text a parser accepts; a zero field means its default
// (DefaultLimits): 4096 bytes of filter text, a nesting depth of 32
// (parentheses, not (...) and value filters, one level each) and 100 terms
// (comparisons and presence tests). Exceeding one is a *LimitError, which
// matches ErrQueryTooComplex. Malformed text is a *SyntaxError with the byte
// offset of the problem, which matches ErrInvalidFilter. No input makes the
// parser panic or recurse deeper than the depth limit.
package query
