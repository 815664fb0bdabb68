package request

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
)

// ErrImpossibleEvent is matched by every refusal of Admit: no command of the aggregate could
// have recorded the event where the stream holds it.
var ErrImpossibleEvent = errors.New("no command could have recorded this event")

// Reasons of Admit's refusals that no command error says.
var (
	errNeverSubmitted  = errors.New("the request was never submitted")
	errSubmittedTwice  = errors.New("the request was submitted already")
	errUnknownSide     = errors.New("the event names neither the customer nor the technician side")
	errNotRequestEvent = errors.New("it is not a request event")
	errSessionRunning  = errors.New("a screen sharing session is running: its end comes first")
	errNotAccepted     = errors.New("a session starts right after the customer accepted screen sharing")
	errOtherSession    = errors.New("the event names another session than the running one")
	errUnknownReason   = errors.New("unknown reason for the end of a screen sharing session")
)

// Admit checks that e could follow the request's history, that is that the command recording e
// would have been allowed on the request as its events leave it, asked by the technician or
// the customer e names; then it folds e in. A request with no history (the zero Request)
// admits Submitted alone. The refusal wraps ErrImpossibleEvent and the command's own error.
//
// What the request's stream cannot show is taken as given: that the technician the event
// names had access to the company and was Available then (the technician's stream says that,
// elsewhere in the log). An auditor's verifier folds every request stream through Admit: an
// event it refuses was not decided by the domain.
func (r *Request) Admit(e eventlog.Event) error {
	if err := r.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	r.apply(e)
	return nil
}

func (r *Request) admits(e eventlog.Event) error {
	if _, first := e.(*Submitted); !first && r.state.ID == uuid.Nil {
		return errNeverSubmitted
	}
	// The technician the event names, as a command would have found them: serving the
	// request's company, Available.
	serving := func(id uuid.UUID) *directory.Technician {
		return directory.RestoreTechnician(directory.TechnicianState{ID: id, Companies: []uuid.UUID{r.state.CompanyID}, Availability: directory.Available})
	}
	switch e := e.(type) {
	case *Submitted:
		if r.state.ID != uuid.Nil {
			return errSubmittedTwice
		}
		return admitsSubmission(e)
	case *Assigned:
		return r.canAssign(serving(e.TechnicianID))
	case *Unassigned:
		if r.state.ScreenSharing == ScreenSharingInSession {
			return errSessionRunning
		}
		if e.Reason != "" {
			if err := text.Bounded(e.Reason, MaxReasonLength, text.Line, ErrInvalidReason); err != nil {
				return err
			}
		}
		return r.canUnassign(serving(e.TechnicianID))
	case *Transferred:
		if r.state.ScreenSharing == ScreenSharingInSession {
			return errSessionRunning
		}
		return r.canTransfer(serving(e.From), serving(e.To))
	case *ChatJoined:
		return r.canJoinChat(serving(e.TechnicianID))
	case *MessageSent:
		if err := r.canChat(e.From, e.TechnicianID, serving); err != nil {
			return err
		}
		if erasure.Withheld(e.Body) {
			return nil
		}
		_, err := validMessage(e.Body)
		return err
	case *NoteAdded:
		if err := r.checkOpen(serving(e.TechnicianID)); err != nil {
			return err
		}
		if erasure.Withheld(e.Body) {
			return nil
		}
		_, err := validMessage(e.Body)
		return err
	case *FileShared:
		var err error
		switch e.From {
		case TechnicianSide:
			err = r.checkInChat(serving(e.TechnicianID))
		case CustomerSide:
			err = r.canCustomerShareFile()
		default:
			err = errUnknownSide
		}
		if err != nil {
			return err
		}
		f := File{ID: e.FileID, Name: e.Name, Size: e.Size, ContentType: e.ContentType, SHA256: e.SHA256}
		if erasure.Withheld(e.Name) {
			return f.validateWithheld()
		}
		return f.validate(e.From, r.Platform())
	case *ScreenSharingRequested:
		return r.canRequestScreenSharing(serving(e.TechnicianID))
	case *ScreenSharingAccepted, *ScreenSharingDeclined:
		return r.canAnswerScreenSharing()
	case *MobileProfileSent:
		if err := r.canSendMobileProfile(serving(e.TechnicianID)); err != nil {
			return err
		}
		return text.Bounded(e.Profile, MaxProfileNameLength, text.Line, ErrInvalidProfile)
	case *MobileProfileFileSent:
		if err := r.canSendMobileProfile(serving(e.TechnicianID)); err != nil {
			return err
		}
		return ProfileTemplateRef{Name: e.Template, Platform: e.Platform, Version: e.Version}.validate(r.Platform())
	case *ScreenSharingSessionStarted:
		if r.state.Closed {
			return ErrClosed
		}
		if r.state.ScreenSharing != ScreenSharingOn {
			return errNotAccepted
		}
		return ScreenSession{ID: e.SessionID, Link: e.Link}.validate()
	case *ScreenSharingSessionEnded:
		return r.admitsSessionEnd(e, serving(e.TechnicianID))
	case *ChatEnded:
		if r.state.ScreenSharing == ScreenSharingInSession {
			return errSessionRunning
		}
		return r.checkInChat(serving(e.TechnicianID))
	case *Closed:
		return r.checkAssignee(serving(e.TechnicianID))
	case *SLABreached:
		return r.canRecordBreach(e.Target, e.DueAt, e.TargetSeconds)
	}
	return errNotRequestEvent
}

// admitsSessionEnd checks the end of a session by the command that records it: End Session,
// or ending the chat, giving the request back or transferring it.
func (r *Request) admitsSessionEnd(e *ScreenSharingSessionEnded, t *directory.Technician) error {
	var err error
	switch e.Reason {
	case SessionEndedByTechnician:
		err = r.canEndScreenSharingSession(t)
	case SessionEndedWithChat:
		err = r.checkInChat(t)
	case SessionEndedUnassigned, SessionEndedTransferred:
		err = r.canUnassign(t)
	default:
		return errUnknownReason
	}
	switch {
	case err != nil:
		return err
	case r.state.ScreenSharing != ScreenSharingInSession:
		return ErrNoScreenSharingSession
	case e.SessionID != r.state.Session.ID:
		return errOtherSession
	}
	return nil
}

// admitsSubmission checks what Submit stores: the IDs, the platform, and text a person could
// have typed within Submit's bounds. It does not parse the e-mail address again (Submit did,
// and stored it normalised): a verifier admits hundreds of thousands of submissions, and the
// address's syntax decides no transition.
func admitsSubmission(e *Submitted) error {
	if e.RequestID == uuid.Nil || e.CompanyID == uuid.Nil || e.PortalID == uuid.Nil {
		return ErrMissingID
	}
	if _, err := ParsePlatform(string(e.Source.Platform)); err != nil {
		return err
	}
	checks := []struct {
		value string
		max   int
		kind  func(string) error
		err   error
	}{
		{e.Customer.Name, MaxCustomerNameLength, text.Line, ErrInvalidCustomerName},
		{e.Customer.Email, 254, text.Line, ErrInvalidEmail},
		{e.Description, MaxDescriptionLength, text.Multiline, ErrInvalidDescription},
	}
	for i, c := range checks {
		if i < 2 && erasure.Withheld(c.value) {
			continue // the customer's name or address, sealed or erased: not what they typed
		}
		if err := text.Bounded(c.value, c.max, c.kind, c.err); err != nil {
			return err
		}
	}
	for _, f := range []string{e.Source.IP, e.Source.OS, e.Source.OSVersion, e.Source.Browser} {
		if f == "" || (f == e.Source.IP && erasure.Withheld(f)) {
			continue
		}
		if err := text.Bounded(f, maxSourceFieldLength, text.Line, ErrInvalidSource); err != nil {
			return err
		}
	}
	return nil
}

// canChat is whether a message from side (the technician's, technician) may be sent now.
func (r *Request) canChat(side Side, technician uuid.UUID, serving func(uuid.UUID) *directory.Technician) error {
	switch side {
	case TechnicianSide:
		return r.checkInChat(serving(technician))
	case CustomerSide:
		return r.canCustomerChat()
	}
	return errUnknownSide
}

// Slim drops what no rule reads of a request (the customer, the description, the source but
// for the platform), keeping all that Admit and the commands decide on: a verifier that holds
// every request of a log at once keeps a fraction of the memory. A slim request answers
// Customer, Description and Source with zero values.
func (r *Request) Slim() {
	platform, err := ParsePlatform(string(r.state.Source.Platform))
	if err != nil {
		platform = r.state.Source.Platform
	}
	r.state.Customer, r.state.Description, r.state.Source = Customer{}, "", Source{Platform: platform}
}
