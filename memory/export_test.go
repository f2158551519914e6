package memory

// HasWalkArray reports whether the current table of kind in tenant keeps
// its rows in an array for walks (see table.flatten).
func HasWalkArray(s *Store, tenant, kind string) bool {
	kd := (*s.kinds.Load())[kind]
	if kd == nil {
		return false
	}
	tb := s.table(tenant, kd)
	return tb != nil && tb.flat.Load() != nil
}
