package directory

// transitions lists the only allowed status changes (DESIGN §2). A deleted
// user goes back, through Restore, to the status it had; purge and
// anonymize are irreversible and have no target status.
var transitions = map[Status][]Status{
	StatusInvited:     {StatusActive, StatusDeleted},
	StatusProvisioned: {StatusActive, StatusDisabled, StatusDeleted},
	StatusActive:      {StatusDisabled, StatusDeleted},
	StatusDisabled:    {StatusActive, StatusDeleted},
}

// checkTransition returns a *TransitionError unless from → to is allowed.
// Restoring a deleted user is checked by Restore itself.
func checkTransition(from, to Status) error {
	if from == to {
		return nil
	}
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	return &TransitionError{From: from, To: to}
}

// initialStatuses are the statuses a user may be created or imported with.
var initialStatuses = map[Status]bool{
	StatusInvited: true, StatusProvisioned: true, StatusActive: true, StatusDisabled: true,
}
