package request

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
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
		_, err := Submit(Submission{RequestID: e.RequestID, CompanyID: e.CompanyID, PortalID: e.PortalID,
			Customer: e.Customer, Description: e.Description, Source: e.Source})
		return err
	case *Assigned:
		return r.canAssign(serving(e.TechnicianID))
	case *Unassigned:
		return r.canUnassign(serving(e.TechnicianID))
	case *Transferred:
		return r.canTransfer(serving(e.From), serving(e.To))
	case *ChatJoined:
		return r.canJoinChat(serving(e.TechnicianID))
	case *MessageSent:
		if err := r.canChat(e.From, e.TechnicianID, serving); err != nil {
			return err
		}
		_, err := validMessage(e.Body)
		return err
	case *NoteAdded:
		if err := r.checkOpen(serving(e.TechnicianID)); err != nil {
			return err
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
	case *ChatEnded:
		return r.checkInChat(serving(e.TechnicianID))
	case *Closed:
		return r.checkAssignee(serving(e.TechnicianID))
	}
	return errNotRequestEvent
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
