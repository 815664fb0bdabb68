package analytics

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
)

// RequestFacts is what the job knows of one request: a row of analytics_requests. It is also
// the change a batch of events makes to a row, as the facts combine (Merge) in any order.
type RequestFacts struct {
	RequestID uuid.UUID
	CompanyID uuid.UUID // uuid.Nil until request.submitted is folded
	// The least occurred_at of the events that set them; nil: none yet.
	SubmittedAt, FirstAssignedAt, FirstReplyAt, ClosedAt *time.Time
	// ChatEndedAt is the LAST time the chat ended: an assignee may join again after ending it.
	ChatEndedAt *time.Time
	// Assignee is the assignee now (uuid.Nil: none), as the assigned, unassigned, transferred or
	// closed event of version AssigneeVersion left it; 0: no such event yet.
	Assignee        uuid.UUID
	AssigneeVersion int64
	// LastTechnician is the last technician the request had, as the event of version
	// LastTechnicianVersion left it; an unassignment keeps it.
	LastTechnician        uuid.UUID
	LastTechnicianVersion int64
	CustomerMessages      int
	TechnicianMessages    int
	Files                 int
	Transfers             int
	// Escalations counts request.screen_sharing_requested: a chat escalated to a screen-sharing
	// session.
	Escalations int
	Notes       int
	Events      int
	LastEventAt *time.Time
	// Breached are the service-level targets the request breached (request.sla_breached):
	// never undone, so merged by OR.
	Breached request.Breaches
}

// Merge folds other's facts (of the same request) into f. Merge is commutative and
// associative, so events may be folded in any order and any grouping.
func (f *RequestFacts) Merge(other RequestFacts) {
	if f.CompanyID == uuid.Nil {
		f.CompanyID = other.CompanyID
	}
	f.SubmittedAt = least(f.SubmittedAt, other.SubmittedAt)
	f.FirstAssignedAt = least(f.FirstAssignedAt, other.FirstAssignedAt)
	f.FirstReplyAt = least(f.FirstReplyAt, other.FirstReplyAt)
	f.ChatEndedAt = latest(f.ChatEndedAt, other.ChatEndedAt)
	f.ClosedAt = least(f.ClosedAt, other.ClosedAt)
	if other.AssigneeVersion > f.AssigneeVersion {
		f.Assignee, f.AssigneeVersion = other.Assignee, other.AssigneeVersion
	}
	if other.LastTechnicianVersion > f.LastTechnicianVersion {
		f.LastTechnician, f.LastTechnicianVersion = other.LastTechnician, other.LastTechnicianVersion
	}
	f.CustomerMessages += other.CustomerMessages
	f.TechnicianMessages += other.TechnicianMessages
	f.Files += other.Files
	f.Transfers += other.Transfers
	f.Escalations += other.Escalations
	f.Notes += other.Notes
	f.Events += other.Events
	f.LastEventAt = latest(f.LastEventAt, other.LastEventAt)
	f.Breached = request.Breaches{
		Assign:     f.Breached.Assign || other.Breached.Assign,
		FirstReply: f.Breached.FirstReply || other.Breached.FirstReply,
		Resolution: f.Breached.Resolution || other.Breached.Resolution,
	}
}

func latest(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.After(*a)) {
		return b
	}
	return a
}

func least(a, b *time.Time) *time.Time {
	if a == nil || (b != nil && b.Before(*a)) {
		return b
	}
	return a
}

// CompanyFacts is a row of analytics_companies: a company's name and time zone.
type CompanyFacts struct {
	CompanyID uuid.UUID
	Name      string // "" when company.created was not folded yet
	// TimeZone is the IANA name set by the company.time_zone_set of version TimeZoneVersion;
	// 0: none set, the company's days are UTC days.
	TimeZone        string
	TimeZoneVersion int64
}

// Merge folds other's facts (of the same company) into c, in any order.
func (c *CompanyFacts) Merge(other CompanyFacts) {
	if c.Name == "" {
		c.Name = other.Name
	}
	if other.TimeZoneVersion > c.TimeZoneVersion {
		c.TimeZone, c.TimeZoneVersion = other.TimeZone, other.TimeZoneVersion
	}
}

// Facts is the change a batch of events makes to the tables.
type Facts struct {
	Requests    map[uuid.UUID]*RequestFacts
	Companies   map[uuid.UUID]*CompanyFacts
	Technicians map[uuid.UUID]string
}

// NewFacts returns an empty change.
func NewFacts() *Facts {
	return &Facts{Requests: map[uuid.UUID]*RequestFacts{}, Companies: map[uuid.UUID]*CompanyFacts{}, Technicians: map[uuid.UUID]string{}}
}

// Add folds one event into the change. Events of no interest (or of a type the job does not
// know) change nothing.
func (fs *Facts) Add(e Event) {
	switch d := e.Data.(type) {
	case *directory.CompanyCreated:
		fs.company(d.CompanyID).Merge(CompanyFacts{CompanyID: d.CompanyID, Name: d.Name})
		return
	case *directory.CompanyTimeZoneSet:
		fs.company(d.CompanyID).Merge(CompanyFacts{CompanyID: d.CompanyID, TimeZone: d.TimeZone, TimeZoneVersion: e.Version})
		return
	case *directory.TechnicianRegistered:
		fs.Technicians[d.TechnicianID] = d.Name
		return
	}
	id, ok := requestID(e.StreamID)
	if !ok {
		return
	}
	at := e.OccurredAt
	f := RequestFacts{RequestID: id, Events: 1, LastEventAt: &at}
	// assignee records the assignee an event leaves (uuid.Nil: none).
	assignee := func(t uuid.UUID) {
		f.Assignee, f.AssigneeVersion = t, e.Version
		if t != uuid.Nil {
			f.LastTechnician, f.LastTechnicianVersion = t, e.Version
		}
	}
	switch d := e.Data.(type) {
	case *request.Submitted:
		f.CompanyID, f.SubmittedAt = d.CompanyID, &at
	case *request.Assigned:
		f.FirstAssignedAt = &at
		assignee(d.TechnicianID)
	case *request.Unassigned:
		assignee(uuid.Nil)
	case *request.Transferred:
		f.Transfers = 1
		assignee(d.To)
	case *request.MessageSent:
		if d.From == request.TechnicianSide {
			f.TechnicianMessages, f.FirstReplyAt = 1, &at
		} else {
			f.CustomerMessages = 1
		}
	case *request.FileShared:
		f.Files = 1
	case *request.NoteAdded:
		f.Notes = 1
	case *request.ScreenSharingRequested:
		f.Escalations = 1
	case *request.ChatEnded:
		f.ChatEndedAt = &at
	case *request.Closed:
		f.ClosedAt = &at
		assignee(d.TechnicianID)
	case *request.SLABreached:
		f.Breached = f.Breached.With(d.Target)
	}
	r := fs.Requests[id]
	if r == nil {
		r = &RequestFacts{RequestID: id}
		fs.Requests[id] = r
	}
	r.Merge(f)
}

func (fs *Facts) company(id uuid.UUID) *CompanyFacts {
	c := fs.Companies[id]
	if c == nil {
		c = &CompanyFacts{CompanyID: id}
		fs.Companies[id] = c
	}
	return c
}

// requestID reads a request stream's ID: "request-<uuid>".
func requestID(stream string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(stream, request.StreamPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}
