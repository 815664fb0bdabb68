// Package request is the support-request aggregate: a customer's request for help from
// submission to close, and every rule about who may do what to it and when (R1–R14).
package request

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// Status is where a request is in its life (R3).
type Status string

const (
	// StatusNew is open and unassigned.
	StatusNew Status = "new"
	// StatusActive is open and assigned.
	StatusActive Status = "active"
	// StatusCompleted is closed.
	StatusCompleted Status = "completed"
)

// ChatState is the state of the assignee's chat with the customer.
type ChatState string

const (
	ChatNotJoined ChatState = "not_joined"
	ChatJoinedIn  ChatState = "joined"
	ChatEndedOut  ChatState = "ended"
)

// ScreenSharing is the state of the latest screen-sharing request (R11).
type ScreenSharing string

const (
	ScreenSharingNone    ScreenSharing = "none"
	ScreenSharingPending ScreenSharing = "requested"
	ScreenSharingOn      ScreenSharing = "accepted"
	ScreenSharingRefused ScreenSharing = "declined"
	// ScreenSharingInSession: the customer accepted and a provider session is running
	// (State.Session); it ends with EndScreenSharingSession, the chat's end, or the request
	// changing hands.
	ScreenSharingInSession ScreenSharing = "in_session"
)

// ScreenSession is a running screen-sharing session: its ID and the provider link both
// sides open.
type ScreenSession struct {
	ID   uuid.UUID
	Link string
}

// MaxSessionLinkLength bounds a screen-sharing session's link.
const MaxSessionLinkLength = 2000

// Limits on what people type.
const (
	MaxCustomerNameLength = 200
	MaxDescriptionLength  = 10_000
	MaxMessageLength      = 10_000
	MaxFileNameLength     = 255
	MaxProfileNameLength  = 200
	maxSourceFieldLength  = 200
)

// Request is one support request.
type Request struct {
	// state is all the aggregate knows: what its events set, and what Restore puts back.
	state State
	eventlog.Recorder
}

// Submission is what a customer sends through a portal (R1).
type Submission struct {
	RequestID   uuid.UUID
	CompanyID   uuid.UUID
	PortalID    uuid.UUID
	Customer    Customer
	Description string
	Source      Source
}

// Errors of Submit, each naming the field a person must fix.
var (
	ErrMissingID           = errors.New("request, company and portal IDs are required")
	ErrInvalidCustomerName = errors.New("customer name must be 1 to 200 characters")
	ErrInvalidEmail        = errors.New("customer e-mail must be a valid address")
	ErrInvalidDescription  = errors.New("description must be 1 to 10000 characters")
	ErrInvalidSource       = errors.New("source fields must be at most 200 characters each")
)

// Submit creates a request from a customer's submission (R1).
func Submit(s Submission) (*Request, error) {
	if s.RequestID == uuid.Nil || s.CompanyID == uuid.Nil || s.PortalID == uuid.Nil {
		return nil, ErrMissingID
	}
	name := strings.TrimSpace(s.Customer.Name)
	if err := text.Bounded(name, MaxCustomerNameLength, text.Line, ErrInvalidCustomerName); err != nil {
		return nil, err
	}
	email, err := directory.NormalizeEmail(s.Customer.Email)
	if err != nil {
		if te := (*text.Error)(nil); errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %w", ErrInvalidEmail, te)
		}
		return nil, ErrInvalidEmail
	}
	description := strings.TrimSpace(s.Description)
	if err := text.Bounded(description, MaxDescriptionLength, text.Multiline, ErrInvalidDescription); err != nil {
		return nil, err
	}
	platform, err := ParsePlatform(string(s.Source.Platform))
	if err != nil {
		return nil, err
	}
	src := s.Source
	src.Platform = platform
	for _, f := range []string{src.IP, src.OS, src.OSVersion, src.Browser} {
		if f == "" {
			continue
		}
		if err := text.Bounded(f, maxSourceFieldLength, text.Line, ErrInvalidSource); err != nil {
			return nil, err
		}
	}
	r := &Request{}
	r.record(&Submitted{
		RequestID:   s.RequestID,
		CompanyID:   s.CompanyID,
		PortalID:    s.PortalID,
		Customer:    Customer{Name: name, Email: email},
		Description: description,
		Source:      src,
	})
	return r, nil
}

// ErrNotARequestStream is returned when a history does not start with Submitted.
var ErrNotARequestStream = errors.New("history does not start with request.submitted")

// FromHistory rebuilds a request from its stream.
func FromHistory(history []eventlog.Event) (*Request, error) {
	return eventlog.Replay[*Submitted](&Request{}, history, ErrNotARequestStream)
}

// Clone returns a copy of the request's state without its uncommitted changes: a command
// decides on the copy while other goroutines may still read the original.
func (r *Request) Clone() *Request {
	return &Request{state: r.state}
}

// Fold brings the request up to date with events recorded after those it was built from (a
// stream's tail, read when another process wrote to it).
func (r *Request) Fold(later []eventlog.Event) {
	for _, e := range later {
		r.apply(e)
	}
}

func (r *Request) ID() uuid.UUID                { return r.state.ID }
func (r *Request) CompanyID() uuid.UUID         { return r.state.CompanyID }
func (r *Request) PortalID() uuid.UUID          { return r.state.PortalID }
func (r *Request) Customer() Customer           { return r.state.Customer }
func (r *Request) Description() string          { return r.state.Description }
func (r *Request) Source() Source               { return r.state.Source }
func (r *Request) Platform() Platform           { return r.state.Source.Platform }
func (r *Request) Assignee() uuid.UUID          { return r.state.Assignee }
func (r *Request) IsAssigned() bool             { return r.state.Assignee != uuid.Nil }
func (r *Request) IsClosed() bool               { return r.state.Closed }
func (r *Request) Chat() ChatState              { return r.state.Chat }
func (r *Request) ScreenSharing() ScreenSharing { return r.state.ScreenSharing }

// Session returns the running screen-sharing session, ok false when none runs.
func (r *Request) Session() (ScreenSession, bool) {
	return r.state.Session, r.state.ScreenSharing == ScreenSharingInSession
}

// Status is New, Active or Completed (R3).
func (r *Request) Status() Status {
	switch {
	case r.state.Closed:
		return StatusCompleted
	case r.IsAssigned():
		return StatusActive
	default:
		return StatusNew
	}
}

// VisibleTo reports whether the request exists for a technician at all (R2): only for those
// with access to its company. Elsewhere it must look exactly like an unknown request.
func (r *Request) VisibleTo(t *directory.Technician) bool {
	return t != nil && t.HasAccess(r.state.CompanyID)
}

// Errors of the technician and customer commands. AppErrors map them to HTTP statuses.
var (
	ErrNoAccess                  = errors.New("request not found")
	ErrClosed                    = errors.New("the request is closed and cannot change")
	ErrAlreadyAssigned           = errors.New("the request is already assigned")
	ErrNotAssigned               = errors.New("the request is not assigned to anyone")
	ErrNotAssignee               = errors.New("only the technician the request is assigned to can do that")
	ErrNotAvailable              = errors.New("set your status to Available to take requests")
	ErrSameTechnician            = errors.New("the request is already assigned to that technician")
	ErrTargetNoAccess            = errors.New("that technician has no access to the request's company")
	ErrTargetOffline             = errors.New("that technician is offline")
	ErrChatNotJoined             = errors.New("join the chat first")
	ErrChatAlreadyJoined         = errors.New("you are already in the chat")
	ErrChatEnded                 = errors.New("the chat has ended")
	ErrInvalidMessage            = errors.New("a message must be 1 to 10000 characters")
	ErrInvalidFile               = errors.New("a file needs a name of 1 to 255 characters, a size above zero and a SHA-256")
	ErrScreenSharingUnsupported  = errors.New("screen sharing is only for Windows and Mac customers")
	ErrScreenSharingPending      = errors.New("a screen sharing request is already waiting for the customer")
	ErrNoScreenSharingRequest    = errors.New("no screen sharing request is waiting for an answer")
	ErrMobileProfilesUnsupported = errors.New("mobile profiles are only for iOS and Android customers")
	ErrInvalidProfile            = errors.New("a profile name must be 1 to 200 characters")
)

// AlreadyAssignedError says who holds a request that someone else tried to take (R6).
type AlreadyAssignedError struct {
	Assignee uuid.UUID
}

func (e *AlreadyAssignedError) Error() string {
	return fmt.Sprintf("the request is already assigned to technician %s", e.Assignee)
}

func (e *AlreadyAssignedError) Is(target error) bool { return target == ErrAlreadyAssigned }

// checkOpen refuses every change to a closed request (R13), after R2's visibility check.
func (r *Request) checkOpen(t *directory.Technician) error {
	if !r.VisibleTo(t) {
		return ErrNoAccess
	}
	if r.state.Closed {
		return ErrClosed
	}
	return nil
}

func (r *Request) checkAssignee(t *directory.Technician) error {
	if err := r.checkOpen(t); err != nil {
		return err
	}
	if r.state.Assignee != t.ID() {
		return ErrNotAssignee
	}
	return nil
}

func (r *Request) checkInChat(t *directory.Technician) error {
	if err := r.checkAssignee(t); err != nil {
		return err
	}
	switch r.state.Chat {
	case ChatNotJoined:
		return ErrChatNotJoined
	case ChatEndedOut:
		return ErrChatEnded
	}
	return nil
}

func (r *Request) canAssign(t *directory.Technician) error {
	if err := r.checkOpen(t); err != nil {
		return err
	}
	if r.IsAssigned() {
		return &AlreadyAssignedError{Assignee: r.state.Assignee}
	}
	if !t.IsAvailable() {
		return ErrNotAvailable
	}
	return nil
}

// ErrStaleDecision is returned for an automatic assignment decided before the request was
// last assigned: whoever holds it now, the decision's accounting (the technician's load
// counted it as pending until someone else's assignment) no longer holds.
var ErrStaleDecision = errors.New("the request was assigned since the automatic decision was taken")

// AutoAssign assigns the request to t on an automatic decision taken when the request had
// been assigned seen times (State.Assignments): refused as Assign would be, and with
// ErrStaleDecision when it was assigned since, even if it is New again.
func (r *Request) AutoAssign(t *directory.Technician, seen int) error {
	if err := r.canAssign(t); err != nil {
		return err
	}
	if r.state.Assignments != seen {
		return ErrStaleDecision
	}
	return r.Assign(t)
}

// Assign gives the open, unassigned request to the technician, who must be Available (R6).
func (r *Request) Assign(t *directory.Technician) error {
	return r.decide(r.canAssign(t), func() (eventlog.Event, error) { return &Assigned{TechnicianID: t.ID()}, nil })
}

func (r *Request) canUnassign(t *directory.Technician) error {
	if err := r.checkOpen(t); err != nil {
		return err
	}
	if !r.IsAssigned() {
		return ErrNotAssigned
	}
	if r.state.Assignee != t.ID() {
		return ErrNotAssignee
	}
	return nil
}

// Unassign gives the request back: it is New again for others to take, whatever the state of
// the chat (R7).
func (r *Request) Unassign(t *directory.Technician) error {
	if err := r.canUnassign(t); err != nil {
		return err
	}
	r.endSessionFor(t, SessionEndedUnassigned)
	r.record(&Unassigned{TechnicianID: t.ID()})
	return nil
}

// MaxReasonLength bounds the reason of a request given back by the system.
const MaxReasonLength = 500

// ErrInvalidReason is returned for a give-back without a reason, or with a reason too long.
var ErrInvalidReason = errors.New("a reason of 1 to 500 characters is required")

// GiveBack gives the request back on its assignee's behalf (the system's reassignment, R7): it
// is New again, with reason recorded. It is refused when the request is closed, or no longer
// assigned to assignee (taken, transferred or given back meanwhile).
func (r *Request) GiveBack(assignee uuid.UUID, reason string) error {
	reason = strings.TrimSpace(reason)
	if err := text.Bounded(reason, MaxReasonLength, text.Line, ErrInvalidReason); err != nil {
		return err
	}
	if r.state.Closed {
		return ErrClosed
	}
	if !r.IsAssigned() {
		return ErrNotAssigned
	}
	if r.state.Assignee != assignee {
		return ErrNotAssignee
	}
	if r.state.ScreenSharing == ScreenSharingInSession {
		r.record(&ScreenSharingSessionEnded{SessionID: r.state.Session.ID, TechnicianID: assignee, Reason: SessionEndedUnassigned})
	}
	r.record(&Unassigned{TechnicianID: assignee, Reason: reason})
	return nil
}

func (r *Request) canTransfer(from, to *directory.Technician) error {
	if err := r.canUnassign(from); err != nil {
		return err
	}
	if to == nil {
		return nil // only checking whether a transfer is possible at all
	}
	if to.ID() == from.ID() {
		return ErrSameTechnician
	}
	if !to.HasAccess(r.state.CompanyID) {
		return ErrTargetNoAccess
	}
	if to.Availability() == directory.Offline {
		return ErrTargetOffline
	}
	return nil
}

// Transfer hands the request from its assignee to another technician with access to its
// company who is not offline. The new assignee joins the chat themselves.
func (r *Request) Transfer(from, to *directory.Technician) error {
	if to == nil {
		// R2 and R13 first: a caller who cannot see the request, or a closed request, must not
		// be told about the target.
		if err := r.canUnassign(from); err != nil {
			return err
		}
		return ErrTargetNoAccess
	}
	if err := r.canTransfer(from, to); err != nil {
		return err
	}
	r.endSessionFor(from, SessionEndedTransferred)
	r.record(&Transferred{From: from.ID(), To: to.ID()})
	return nil
}

func (r *Request) canJoinChat(t *directory.Technician) error {
	if err := r.checkAssignee(t); err != nil {
		return err
	}
	if r.state.Chat == ChatJoinedIn {
		return ErrChatAlreadyJoined
	}
	return nil
}

// JoinChat puts the assignee in the customer's chat; the customer sees who joined (R8).
// After the chat ended the assignee may join again.
func (r *Request) JoinChat(t *directory.Technician) error {
	return r.decide(r.canJoinChat(t), func() (eventlog.Event, error) { return &ChatJoined{TechnicianID: t.ID()}, nil })
}

func validMessage(body string) (string, error) {
	body = strings.TrimSpace(body)
	if err := text.Bounded(body, MaxMessageLength, text.Multiline, ErrInvalidMessage); err != nil {
		return "", err
	}
	return body, nil
}

// SendTechnicianMessage adds the assignee's message to the chat (R9).
func (r *Request) SendTechnicianMessage(t *directory.Technician, messageID uuid.UUID, body string) error {
	return r.decide(r.checkInChat(t), func() (eventlog.Event, error) {
		body, err := validMessage(body)
		return &MessageSent{MessageID: messageID, From: TechnicianSide, TechnicianID: t.ID(), Body: body}, err
	})
}

func (r *Request) canCustomerChat() error {
	if r.state.Closed {
		return ErrClosed
	}
	if r.state.Chat == ChatEndedOut {
		return ErrChatEnded
	}
	return nil
}

// SendCustomerMessage adds the customer's message to the chat (R9). Customers may write before
// a technician joins, so that the first one to join reads everything.
func (r *Request) SendCustomerMessage(messageID uuid.UUID, body string) error {
	return r.decide(r.canCustomerChat(), func() (eventlog.Event, error) {
		body, err := validMessage(body)
		return &MessageSent{MessageID: messageID, From: CustomerSide, Body: body}, err
	})
}

// AddNote adds a private note that only technicians see. Any technician with access to the
// company may add one while the request is open.
func (r *Request) AddNote(t *directory.Technician, noteID uuid.UUID, body string) error {
	return r.decide(r.checkOpen(t), func() (eventlog.Event, error) {
		body, err := validMessage(body)
		return &NoteAdded{NoteID: noteID, TechnicianID: t.ID(), Body: body}, err
	})
}

// File describes a file someone wants to share.
type File struct {
	ID          uuid.UUID
	Name        string
	Size        int64
	ContentType string
	SHA256      string
}

func (f File) validate(side Side, platform Platform) error {
	if f.ID == uuid.Nil || f.Size <= 0 || len(f.SHA256) != 64 {
		return ErrInvalidFile
	}
	if err := text.Bounded(f.Name, MaxFileNameLength, text.Line, ErrInvalidFile); err != nil {
		return err
	}
	return CheckFileType(side, platform, f.Name)
}

// validateWithheld checks a file whose name is sealed or erased: everything but the name.
func (f File) validateWithheld() error {
	if f.ID == uuid.Nil || f.Size <= 0 || len(f.SHA256) != 64 {
		return ErrInvalidFile
	}
	return nil
}

// CheckTechnicianCanShareFile says whether the technician could share a file now, before any
// bytes are stored.
func (r *Request) CheckTechnicianCanShareFile(t *directory.Technician, fileName string) error {
	if err := r.checkInChat(t); err != nil {
		return err
	}
	return CheckFileType(TechnicianSide, r.Platform(), fileName)
}

// ShareTechnicianFile shares the assignee's file in the chat (R10).
func (r *Request) ShareTechnicianFile(t *directory.Technician, f File) error {
	return r.decide(r.checkInChat(t), func() (eventlog.Event, error) {
		return &FileShared{FileID: f.ID, From: TechnicianSide, TechnicianID: t.ID(), Name: f.Name, Size: f.Size, ContentType: f.ContentType, SHA256: f.SHA256}, f.validate(TechnicianSide, r.Platform())
	})
}

func (r *Request) canCustomerShareFile() error {
	if err := r.canCustomerChat(); err != nil {
		return err
	}
	if r.state.Chat != ChatJoinedIn {
		return ErrChatNotJoined
	}
	return nil
}

// CheckCustomerCanShareFile says whether the customer could share a file now.
func (r *Request) CheckCustomerCanShareFile(fileName string) error {
	if err := r.canCustomerShareFile(); err != nil {
		return err
	}
	return CheckFileType(CustomerSide, r.Platform(), fileName)
}

// ShareCustomerFile shares the customer's file in the chat, within their platform's allowed
// types (R10). Files are shared during a chat, so a technician must have joined.
func (r *Request) ShareCustomerFile(f File) error {
	return r.decide(r.canCustomerShareFile(), func() (eventlog.Event, error) {
		return &FileShared{FileID: f.ID, From: CustomerSide, Name: f.Name, Size: f.Size, ContentType: f.ContentType, SHA256: f.SHA256}, f.validate(CustomerSide, r.Platform())
	})
}

func (r *Request) canRequestScreenSharing(t *directory.Technician) error {
	if err := r.checkInChat(t); err != nil {
		return err
	}
	if !r.Platform().SupportsScreenSharing() {
		return ErrScreenSharingUnsupported
	}
	switch r.state.ScreenSharing {
	case ScreenSharingPending:
		return ErrScreenSharingPending
	case ScreenSharingInSession:
		return ErrScreenSharingSessionRunning
	}
	return nil
}

// RequestScreenSharing asks a Windows or Mac customer to share their screen (R11).
func (r *Request) RequestScreenSharing(t *directory.Technician) error {
	return r.decide(r.canRequestScreenSharing(t), func() (eventlog.Event, error) { return &ScreenSharingRequested{TechnicianID: t.ID()}, nil })
}

func (r *Request) canAnswerScreenSharing() error {
	if r.state.Closed {
		return ErrClosed
	}
	if r.state.ScreenSharing != ScreenSharingPending {
		return ErrNoScreenSharingRequest
	}
	return nil
}

// AcceptScreenSharing is the customer's "Share My Screen" (R11).
func (r *Request) AcceptScreenSharing() error {
	return r.decide(r.canAnswerScreenSharing(), func() (eventlog.Event, error) { return &ScreenSharingAccepted{}, nil })
}

// Errors of the screen-sharing session commands.
var (
	ErrScreenSharingSessionRunning = errors.New("a screen sharing session is already running; end it first")
	ErrNoScreenSharingSession      = errors.New("no screen sharing session is running")
	ErrInvalidScreenSession        = errors.New("a screen sharing session needs an ID and an http(s) link of at most 2000 characters")
)

func (s ScreenSession) validate() error {
	if s.ID == uuid.Nil || !(strings.HasPrefix(s.Link, "https://") || strings.HasPrefix(s.Link, "http://")) {
		return ErrInvalidScreenSession
	}
	return text.Bounded(s.Link, MaxSessionLinkLength, text.Line, ErrInvalidScreenSession)
}

// AcceptScreenSharingSession is the customer's "Share My Screen" when a screen-sharing provider
// is configured: the acceptance and the start of the session the provider's link opens, in
// one decision, so that both sides get the link (R11).
func (r *Request) AcceptScreenSharingSession(s ScreenSession) error {
	if err := r.canAnswerScreenSharing(); err != nil {
		return err
	}
	if err := s.validate(); err != nil {
		return err
	}
	r.record(&ScreenSharingAccepted{})
	r.record(&ScreenSharingSessionStarted{SessionID: s.ID, Link: s.Link})
	return nil
}

func (r *Request) canEndScreenSharingSession(t *directory.Technician) error {
	if err := r.checkInChat(t); err != nil {
		return err
	}
	if r.state.ScreenSharing != ScreenSharingInSession {
		return ErrNoScreenSharingSession
	}
	return nil
}

// EndScreenSharingSession is the assignee's End Session: the running session is over and
// screen sharing may be requested again.
func (r *Request) EndScreenSharingSession(t *directory.Technician) error {
	return r.decide(r.canEndScreenSharingSession(t), func() (eventlog.Event, error) {
		return &ScreenSharingSessionEnded{SessionID: r.state.Session.ID, TechnicianID: t.ID(), Reason: SessionEndedByTechnician}, nil
	})
}

// endSessionFor records the end of a running session before an event that ends it (the
// chat's end, the request changing hands), so the history says the session is over.
func (r *Request) endSessionFor(t *directory.Technician, reason string) {
	if r.state.ScreenSharing == ScreenSharingInSession {
		r.record(&ScreenSharingSessionEnded{SessionID: r.state.Session.ID, TechnicianID: t.ID(), Reason: reason})
	}
}

// DeclineScreenSharing is the customer's refusal (R11).
func (r *Request) DeclineScreenSharing() error {
	return r.decide(r.canAnswerScreenSharing(), func() (eventlog.Event, error) { return &ScreenSharingDeclined{}, nil })
}

func (r *Request) canSendMobileProfile(t *directory.Technician) error {
	if err := r.checkInChat(t); err != nil {
		return err
	}
	if !r.Platform().SupportsMobileProfiles() {
		return ErrMobileProfilesUnsupported
	}
	return nil
}

// SendMobileProfile sends a configuration profile to an iOS or Android customer (R12).
func (r *Request) SendMobileProfile(t *directory.Technician, profile string) error {
	return r.decide(r.canSendMobileProfile(t), func() (eventlog.Event, error) {
		profile := strings.TrimSpace(profile)
		return &MobileProfileSent{TechnicianID: t.ID(), Profile: profile}, text.Bounded(profile, MaxProfileNameLength, text.Line, ErrInvalidProfile)
	})
}

// EndChat ends the assignee's chat with the customer (R13).
// A running screen-sharing session ends with it.
func (r *Request) EndChat(t *directory.Technician) error {
	if err := r.checkInChat(t); err != nil {
		return err
	}
	r.endSessionFor(t, SessionEndedWithChat)
	r.record(&ChatEnded{TechnicianID: t.ID()})
	return nil
}

// Close closes the request for good (R13). A chat still going is ended first, so the history
// says so.
func (r *Request) Close(t *directory.Technician) error {
	if err := r.checkAssignee(t); err != nil {
		return err
	}
	if r.state.Chat == ChatJoinedIn {
		r.endSessionFor(t, SessionEndedWithChat)
		r.record(&ChatEnded{TechnicianID: t.ID()})
	}
	r.record(&Closed{TechnicianID: t.ID()})
	return nil
}

// decide records the event a command makes once refusal is nil (the command's preconditions
// hold) and event returns no error (what the caller sent is valid). event runs only after the
// preconditions passed: a refused command may have no technician to name, and input is judged
// only once the caller may act at all.
func (r *Request) decide(refusal error, event func() (eventlog.Event, error)) error {
	if refusal != nil {
		return refusal
	}
	e, err := event()
	if err != nil {
		return err
	}
	r.record(e)
	return nil
}

func (r *Request) record(e eventlog.Event) { r.Record(r.apply, e) }

func (r *Request) apply(e eventlog.Event) {
	switch e := e.(type) {
	case *Submitted:
		r.state.ID, r.state.CompanyID, r.state.PortalID = e.RequestID, e.CompanyID, e.PortalID
		r.state.Customer, r.state.Description, r.state.Source = e.Customer, e.Description, e.Source
		r.state.Chat, r.state.ScreenSharing = ChatNotJoined, ScreenSharingNone
	case *Assigned:
		r.state.Assignee = e.TechnicianID
		r.state.Assignments++
	case *Unassigned:
		r.state.Assignee = uuid.Nil
		r.state.Chat, r.state.ScreenSharing, r.state.Session = ChatNotJoined, ScreenSharingNone, ScreenSession{}
	case *Transferred:
		r.state.Assignee = e.To
		r.state.Chat, r.state.ScreenSharing, r.state.Session = ChatNotJoined, ScreenSharingNone, ScreenSession{}
	case *ChatJoined:
		r.state.Chat = ChatJoinedIn
	case *ScreenSharingRequested:
		r.state.ScreenSharing = ScreenSharingPending
	case *ScreenSharingAccepted:
		r.state.ScreenSharing = ScreenSharingOn
	case *ScreenSharingDeclined:
		r.state.ScreenSharing = ScreenSharingRefused
	case *ScreenSharingSessionStarted:
		r.state.ScreenSharing, r.state.Session = ScreenSharingInSession, ScreenSession{ID: e.SessionID, Link: e.Link}
	case *ScreenSharingSessionEnded:
		r.state.ScreenSharing, r.state.Session = ScreenSharingNone, ScreenSession{}
	case *ChatEnded:
		r.state.Chat, r.state.ScreenSharing, r.state.Session = ChatEndedOut, ScreenSharingNone, ScreenSession{}
	case *Closed:
		r.state.Closed = true
	case *SLABreached:
		r.state.Breached = r.state.Breached.With(e.Target)
	}
}
