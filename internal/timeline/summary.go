package timeline

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// summary says in one line what an event changed, naming people as the timeline resolves them.
// It gives the length of a message or a note, never its text; names and file names are quoted
// by %q where they come from people, so no summary spans two lines.
func (n *names) summary(actor string, e eventlog.Event) string {
	switch e := e.(type) {
	case *request.Submitted:
		return fmt.Sprintf("customer %q <%s> submitted the request from %s (a description of %d characters)",
			e.Customer.Name, e.Customer.Email, e.Source.Platform, utf8.RuneCountInString(e.Description))
	case *request.Assigned:
		if n.actorIs(actor, e.TechnicianID.String()) {
			return n.technician(e.TechnicianID) + " took the request"
		}
		return fmt.Sprintf("%s assigned the request to %s", n.actor(actor), n.technician(e.TechnicianID))
	case *request.Unassigned:
		if e.Reason != "" {
			return fmt.Sprintf("the request was given back for %s (%s)", n.technician(e.TechnicianID), e.Reason)
		}
		return n.technician(e.TechnicianID) + " gave the request back"
	case *request.Transferred:
		return fmt.Sprintf("%s transferred the request to %s", n.technician(e.From), n.technician(e.To))
	case *request.ChatJoined:
		return n.technician(e.TechnicianID) + " joined the chat"
	case *request.MessageSent:
		// The most frequent event of a long history, said without fmt.
		return n.side(e.From, e.TechnicianID) + " sent a message (" + strconv.Itoa(utf8.RuneCountInString(e.Body)) + " characters)"
	case *request.NoteAdded:
		return fmt.Sprintf("%s added a private note (%d characters)", n.technician(e.TechnicianID), utf8.RuneCountInString(e.Body))
	case *request.FileShared:
		return fmt.Sprintf("%s shared the file %q (%d bytes, %s)", n.side(e.From, e.TechnicianID), e.Name, e.Size, e.ContentType)
	case *request.ScreenSharingRequested:
		return n.technician(e.TechnicianID) + " asked to see the customer's screen"
	case *request.ScreenSharingAccepted:
		return "customer accepted screen sharing"
	case *request.ScreenSharingDeclined:
		return "customer declined screen sharing"
	case *request.ScreenSharingSessionStarted:
		return fmt.Sprintf("screen sharing session %s started (%s)", e.SessionID, e.Link)
	case *request.ScreenSharingSessionEnded:
		switch e.Reason {
		case request.SessionEndedByTechnician:
			return fmt.Sprintf("%s ended the screen sharing session %s", n.technician(e.TechnicianID), e.SessionID)
		case request.SessionEndedWithChat:
			return fmt.Sprintf("the screen sharing session %s ended with the chat", e.SessionID)
		case request.SessionEndedUnassigned:
			return fmt.Sprintf("the screen sharing session %s ended: %s gave the request back", e.SessionID, n.technician(e.TechnicianID))
		case request.SessionEndedTransferred:
			return fmt.Sprintf("the screen sharing session %s ended: %s transferred the request", e.SessionID, n.technician(e.TechnicianID))
		}
		return fmt.Sprintf("the screen sharing session %s ended", e.SessionID)
	case *request.MobileProfileFileSent:
		return fmt.Sprintf("%s sent the %s mobile profile file %q (template version %d)", n.technician(e.TechnicianID), e.Platform, e.Template, e.Version)
	case *request.MobileProfileSent:
		return fmt.Sprintf("%s sent the mobile profile %q", n.technician(e.TechnicianID), e.Profile)
	case *request.ChatEnded:
		return n.technician(e.TechnicianID) + " ended the chat"
	case *request.Closed:
		return n.technician(e.TechnicianID) + " closed the request"
	case *request.SLABreached:
		return fmt.Sprintf("the %s service-level target (%s of business time) ran out at %s", strings.ReplaceAll(e.Target, "_", " "),
			time.Duration(e.TargetSeconds)*time.Second, e.DueAt.UTC().Format(time.RFC3339))
	}
	return e.EventType()
}

// side names who acted in the chat: the customer, or the technician.
func (n *names) side(side request.Side, technician uuid.UUID) string {
	if side == request.CustomerSide {
		return "customer"
	}
	return n.technician(technician)
}

func (n *names) actorIs(actor, technicianID string) bool {
	return actor == "technician:"+technicianID
}

// decided adds to a summary how a process manager decided the event, when one did:
// "… (auto-assignment, rule round-robin)".
func decided(summary string, d *eventlog.Decision) string {
	if d == nil {
		return summary
	}
	if d.Rule == "" {
		return summary + " (" + d.By + ")"
	}
	return summary + " (" + d.By + ", rule " + d.Rule + ")"
}
