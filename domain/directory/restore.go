package directory

import (
	"slices"

	"github.com/google/uuid"
)

// TechnicianState is everything the aggregate knows about a technician, in plain fields: what
// a read model stores so that it can put the technician back together and ask the domain's
// rules (HasAccess, IsAvailable, and the request rules that take a *Technician) about them.
type TechnicianState struct {
	ID    uuid.UUID
	Name  string
	Email string
	// Companies are the companies the technician has access to, in the order access was granted.
	Companies     []uuid.UUID
	Availability  Availability
	Notifications NotificationSettings
}

// State returns the technician's state.
func (t *Technician) State() TechnicianState { return t.state.clone() }

// RestoreTechnician puts a technician back together from a stored state, as
// TechnicianFromHistory would from the events that led to it. The restored technician has no
// pending changes.
func RestoreTechnician(s TechnicianState) *Technician { return &Technician{state: s.clone()} }

// clone returns a copy that shares no slice with s, so that neither the caller nor the
// technician changes what the other holds.
func (s TechnicianState) clone() TechnicianState {
	s.Companies = slices.Clone(s.Companies)
	return s
}
