package request

import (
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Source is where a request came from (R1).
type Source struct {
	IP        string   `json:"ip"`
	Platform  Platform `json:"device_type"`
	OS        string   `json:"os"`
	OSVersion string   `json:"os_version"`
	Browser   string   `json:"browser"`
}

// Customer is who asked for help.
type Customer struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Submitted starts a request's stream (R1).
type Submitted struct {
	RequestID   uuid.UUID `json:"request_id"`
	CompanyID   uuid.UUID `json:"company_id"`
	PortalID    uuid.UUID `json:"portal_id"`
	Customer    Customer  `json:"customer"`
	Description string    `json:"description"`
	Source      Source    `json:"source"`
}

// Assigned: a technician took the request (R6).
type Assigned struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// Unassigned: the assignee gave the request back, or the system gave it back on their behalf
// (reassignment, with Reason); it is New again (R7).
type Unassigned struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	// Reason says why the system gave the request back, such as "away_limit: Alice was Away
	// 10m0s with 2 unanswered requests"; empty when the assignee did.
	Reason string `json:"reason,omitempty"`
}

// Transferred: the assignee handed the request to another technician.
type Transferred struct {
	From uuid.UUID `json:"from_technician_id"`
	To   uuid.UUID `json:"to_technician_id"`
}

// ChatJoined: the assignee joined the customer's chat (R8).
type ChatJoined struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// MessageSent: a chat message, from the customer or the assignee (R9).
type MessageSent struct {
	MessageID    uuid.UUID `json:"message_id"`
	From         Side      `json:"from"`
	TechnicianID uuid.UUID `json:"technician_id,omitempty"`
	Body         string    `json:"body"`
}

// NoteAdded: a private note, seen by technicians only.
type NoteAdded struct {
	NoteID       uuid.UUID `json:"note_id"`
	TechnicianID uuid.UUID `json:"technician_id"`
	Body         string    `json:"body"`
}

// FileShared: a file was shared in the chat (R10). The bytes live in the file store.
type FileShared struct {
	FileID       uuid.UUID `json:"file_id"`
	From         Side      `json:"from"`
	TechnicianID uuid.UUID `json:"technician_id,omitempty"`
	Name         string    `json:"name"`
	Size         int64     `json:"size"`
	ContentType  string    `json:"content_type"`
	SHA256       string    `json:"sha256"`
}

// ScreenSharingRequested: the assignee asked to see the customer's screen (R11).
type ScreenSharingRequested struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// ScreenSharingAccepted: the customer chose "Share My Screen".
type ScreenSharingAccepted struct{}

// ScreenSharingDeclined: the customer declined.
type ScreenSharingDeclined struct{}

// ScreenSharingSessionStarted: the customer accepted and a session with the screen-sharing
// provider is open; both sides get Link. Recorded right after ScreenSharingAccepted when a
// provider is configured.
type ScreenSharingSessionStarted struct {
	SessionID uuid.UUID `json:"session_id"`
	Link      string    `json:"link"`
}

// Why a screen-sharing session ended.
const (
	SessionEndedByTechnician = "ended"       // the assignee chose End Session
	SessionEndedWithChat     = "chat_ended"  // the chat ended (also on close)
	SessionEndedUnassigned   = "unassigned"  // the assignee gave the request back
	SessionEndedTransferred  = "transferred" // the request went to another technician
)

// ScreenSharingSessionEnded: the running session is over; "Request Screen Sharing" is
// offered again. TechnicianID is who ended it, or whose action (ending the chat, giving the
// request back) ended it.
type ScreenSharingSessionEnded struct {
	SessionID    uuid.UUID `json:"session_id"`
	TechnicianID uuid.UUID `json:"technician_id"`
	Reason       string    `json:"reason"`
}

// MobileProfileSent: the assignee sent a configuration profile to a mobile customer (R12).
type MobileProfileSent struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	Profile      string    `json:"profile"`
}

// MobileProfileFileSent: the assignee sent a mobile customer the profile file built from
// version Version of the company's template Template for Platform (R12). The file is built
// again from that template version whenever either side downloads it.
type MobileProfileFileSent struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	Template     string    `json:"template"`
	Platform     Platform  `json:"platform"`
	Version      int       `json:"template_version"`
}

// ChatEnded: the assignee ended the chat (R13).
type ChatEnded struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// Closed: the request is done; nothing changes it any more (R13).
type Closed struct {
	TechnicianID uuid.UUID `json:"technician_id"`
}

// SLABreached: a service-level target of the request's company ran out before the request met
// it (issue 16). Appended by the system (actor "system") through the service-level process
// manager, at most once per target.
type SLABreached struct {
	// Target is "assign", "first_reply" or "resolution" (servicelevel.Target).
	Target string `json:"target"`
	// DueAt is when the target ran out: the submission plus the target counted in the
	// company's business hours.
	DueAt time.Time `json:"due_at"`
	// TargetSeconds is the target's business time, as the company had set it when the
	// request was submitted.
	TargetSeconds int64 `json:"target_seconds"`
}

func (*Submitted) EventType() string              { return "request.submitted.v1" }
func (*Assigned) EventType() string               { return "request.assigned.v1" }
func (*Unassigned) EventType() string             { return "request.unassigned.v1" }
func (*Transferred) EventType() string            { return "request.transferred.v1" }
func (*ChatJoined) EventType() string             { return "request.chat_joined.v1" }
func (*MessageSent) EventType() string            { return "request.message_sent.v1" }
func (*NoteAdded) EventType() string              { return "request.note_added.v1" }
func (*FileShared) EventType() string             { return "request.file_shared.v1" }
func (*ScreenSharingRequested) EventType() string { return "request.screen_sharing_requested.v1" }
func (*ScreenSharingAccepted) EventType() string  { return "request.screen_sharing_accepted.v1" }
func (*ScreenSharingDeclined) EventType() string  { return "request.screen_sharing_declined.v1" }
func (*MobileProfileSent) EventType() string      { return "request.mobile_profile_sent.v1" }
func (*ScreenSharingSessionStarted) EventType() string {
	return "request.screen_sharing_session_started.v1"
}
func (*ScreenSharingSessionEnded) EventType() string {
	return "request.screen_sharing_session_ended.v1"
}
func (*MobileProfileFileSent) EventType() string { return "request.mobile_profile_file_sent.v1" }
func (*ChatEnded) EventType() string             { return "request.chat_ended.v1" }
func (*Closed) EventType() string                { return "request.closed.v1" }
func (*SLABreached) EventType() string           { return "request.sla_breached.v1" }

// Codec reads and writes every request event.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(
		func() eventlog.Event { return &Submitted{} },
		func() eventlog.Event { return &Assigned{} },
		func() eventlog.Event { return &Unassigned{} },
		func() eventlog.Event { return &Transferred{} },
		func() eventlog.Event { return &ChatJoined{} },
		func() eventlog.Event { return &MessageSent{} },
		func() eventlog.Event { return &NoteAdded{} },
		func() eventlog.Event { return &FileShared{} },
		func() eventlog.Event { return &ScreenSharingRequested{} },
		func() eventlog.Event { return &ScreenSharingAccepted{} },
		func() eventlog.Event { return &ScreenSharingDeclined{} },
		func() eventlog.Event { return &MobileProfileSent{} },
		func() eventlog.Event { return &ChatEnded{} },
		func() eventlog.Event { return &Closed{} },
		func() eventlog.Event { return &ScreenSharingSessionStarted{} },
		func() eventlog.Event { return &ScreenSharingSessionEnded{} },
		func() eventlog.Event { return &MobileProfileFileSent{} },
		func() eventlog.Event { return &SLABreached{} },
	)
}

// Stream is the stream of one request.
func Stream(id uuid.UUID) string { return "request-" + id.String() }

// StreamPrefix starts every request stream's name.
const StreamPrefix = "request-"
