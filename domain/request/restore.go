package request

import "github.com/google/uuid"

// State is everything the aggregate knows about a request, in plain fields: what a read model
// stores so that it can put the request back together later and ask the domain's own rules
// (TechnicianActions, CustomerActions) about it, instead of repeating them.
type State struct {
	ID            uuid.UUID
	CompanyID     uuid.UUID
	PortalID      uuid.UUID
	Customer      Customer
	Description   string
	Source        Source
	Assignee      uuid.UUID
	Chat          ChatState
	ScreenSharing ScreenSharing
	// Session is the running screen-sharing session, zero unless ScreenSharing is
	// ScreenSharingInSession.
	Session ScreenSession
	Closed  bool
	// Breached are the service-level targets the request breached (SLABreached).
	Breached Breaches
	// Assignments is how many times the request was assigned (Assigned events), whoever
	// holds it now.
	Assignments int
}

// State returns the request's state.
func (r *Request) State() State { return r.state }

// Restore puts a request back together from a stored State, as FromHistory would from the
// events that led to it. The restored request has no pending changes. It is meant for reading
// (actions, status); commands load the stream, so that they append with the right version.
func Restore(s State) *Request { return &Request{state: s} }

// Breaches are which service-level targets a request breached.
type Breaches struct {
	Assign     bool
	FirstReply bool
	Resolution bool
}
