package query

// Equal reports whether a and b are the same expression structurally: the
// same node types in the same shape, paths spelled exactly alike (URN and
// names compared as strings, not case-insensitively), the same operators
// and equal literals. Literals of different kinds are never equal; numbers
// compare by value (3 and 3.0 are equal) and times as instants. Attr and
// any unexported fields are ignored, so a bound expression can be Equal to
// the unbound one it came from.
func Equal(a, b Expr) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *Compare:
		y, ok := b.(*Compare)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return x.Op == y.Op && pathsEqual(x.Path, y.Path) && literalsEqual(x.Value, y.Value)
	case *Present:
		y, ok := b.(*Present)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return pathsEqual(x.Path, y.Path)
	case *And:
		y, ok := b.(*And)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return Equal(x.Left, y.Left) && Equal(x.Right, y.Right)
	case *Or:
		y, ok := b.(*Or)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return Equal(x.Left, y.Left) && Equal(x.Right, y.Right)
	case *Not:
		y, ok := b.(*Not)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return Equal(x.X, y.X)
	case *ValueFilter:
		y, ok := b.(*ValueFilter)
		if !ok || x == nil || y == nil {
			return ok && x == y
		}
		return pathsEqual(x.Path, y.Path) && Equal(x.Filter, y.Filter)
	}
	return false
}

func pathsEqual(a, b Path) bool {
	if a.URN != b.URN || len(a.Names) != len(b.Names) {
		return false
	}
	for i := range a.Names {
		if a.Names[i] != b.Names[i] {
			return false
		}
	}
	return true
}

func literalsEqual(a, b Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case KindString:
		return a.Str == b.Str
	case KindNumber:
		return a.Num.Cmp(b.Num) == 0
	case KindBool:
		return a.Bool == b.Bool
	case KindTime:
		return a.Time.Equal(b.Time)
	}
	return true
}
