package query

// Resource exposes a record's attributes to the evaluator, to sort keys and
// to index extraction, without the query package knowing the record's Go
// type.
//
// Attr returns the value of the attribute with the given name, or nil when
// it is unassigned. At the top level the name is the attribute's name as the
// Schema declares it ("userName", "emails", "meta") or, for an extension, the
// extension's URN, whose value is a Resource of the extension's attributes.
// A value is one of:
//
//   - nil (unassigned)
//   - string, bool, time.Time, Number, json.Number, int, int64, float64
//   - *string or *time.Time, read as the value they point to (nil: unassigned),
//     so that a Resource can hand out its fields without boxing a copy
//   - Resource or map[string]any (a complex value; map keys are matched
//     case-insensitively only for schema attributes, exactly under claims)
//   - List, []any, []string or []map[string]any (a multi-valued attribute)
//
// Implementations must not retain or modify what the evaluator hands them.
type Resource interface {
	Attr(name string) any
}

// List is a multi-valued attribute exposed without copying it into a []any.
type List interface {
	Len() int
	At(i int) any
}
