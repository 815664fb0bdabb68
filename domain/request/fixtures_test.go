package request_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Fixed IDs so that expected events can be written as literals.
var (
	requestID      = uuid.MustParse("00000000-0000-0000-0000-0000000000a1")
	companyID      = uuid.MustParse("00000000-0000-0000-0000-0000000000c1")
	otherCompanyID = uuid.MustParse("00000000-0000-0000-0000-0000000000c2")
	portalID       = uuid.MustParse("00000000-0000-0000-0000-0000000000b1")

	meID        = uuid.MustParse("00000000-0000-0000-0000-000000000001")
	colleagueID = uuid.MustParse("00000000-0000-0000-0000-000000000002")
	busyID      = uuid.MustParse("00000000-0000-0000-0000-000000000003")
	outsiderID  = uuid.MustParse("00000000-0000-0000-0000-000000000004")
	peerID      = uuid.MustParse("00000000-0000-0000-0000-000000000005")

	messageID = uuid.MustParse("00000000-0000-0000-0000-0000000000d1")
	noteID    = uuid.MustParse("00000000-0000-0000-0000-0000000000d2")
	fileID    = uuid.MustParse("00000000-0000-0000-0000-0000000000d3")
)

const sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// technician builds a technician through its own event history, so the tests depend only on
// the directory package's public behaviour.
func technician(t testing.TB, id uuid.UUID, availability directory.Availability, companies ...uuid.UUID) *directory.Technician {
	t.Helper()
	history := []eventlog.Event{&directory.TechnicianRegistered{TechnicianID: id, Name: "Tech " + id.String()[30:], Email: "tech" + id.String()[30:] + "@example.com"}}
	for _, c := range companies {
		history = append(history, &directory.AccessGranted{TechnicianID: id, CompanyID: c})
	}
	history = append(history, &directory.AvailabilityChanged{TechnicianID: id, Availability: availability})
	tech, err := directory.TechnicianFromHistory(history)
	if err != nil {
		t.Fatalf("technician: %v", err)
	}
	return tech
}

// actor names the technicians who try each command.
type actor string

const (
	me        actor = "me (available)"
	meBusy    actor = "me (busy)"
	colleague actor = "colleague (available)"
	busy      actor = "colleague (busy)"
	outsider  actor = "technician without access"
)

var actors = []actor{me, meBusy, colleague, busy, outsider}

func (a actor) tech(t testing.TB) *directory.Technician {
	switch a {
	case me:
		return technician(t, meID, directory.Available, companyID)
	case meBusy:
		return technician(t, meID, directory.Busy, companyID)
	case colleague:
		return technician(t, colleagueID, directory.Available, companyID, otherCompanyID)
	case busy:
		return technician(t, busyID, directory.Busy, companyID)
	case outsider:
		return technician(t, outsiderID, directory.Available, otherCompanyID)
	}
	t.Fatalf("unknown actor %q", a)
	return nil
}

func submitted(p request.Platform) *request.Submitted {
	return &request.Submitted{
		RequestID:   requestID,
		CompanyID:   companyID,
		PortalID:    portalID,
		Customer:    request.Customer{Name: "Ann Customer", Email: "ann@example.com"},
		Description: "My printer is on fire",
		Source:      request.Source{IP: "192.0.2.1", Platform: p, OS: "Some OS", OSVersion: "1.0", Browser: "Some Browser"},
	}
}

// state names a point in a request's life, reached by replaying events.
type state string

const (
	stNew           state = "new"
	stAssigned      state = "assigned to me"
	stColleague     state = "assigned to colleague"
	stInChat        state = "chat joined"
	stChatEnded     state = "chat ended"
	stSSPending     state = "screen sharing pending"
	stSSAccepted    state = "screen sharing accepted"
	stSSDeclined    state = "screen sharing declined"
	stClosed        state = "closed"
	stUnassignedAgn state = "unassigned after chat"
	stTransferred   state = "transferred to me"
)

var states = []state{stNew, stAssigned, stColleague, stInChat, stChatEnded, stSSPending, stSSAccepted, stSSDeclined, stClosed, stUnassignedAgn, stTransferred}

func history(s state, p request.Platform) []eventlog.Event {
	h := []eventlog.Event{submitted(p)}
	joined := []eventlog.Event{&request.Assigned{TechnicianID: meID}, &request.ChatJoined{TechnicianID: meID}}
	switch s {
	case stNew:
	case stAssigned:
		h = append(h, &request.Assigned{TechnicianID: meID})
	case stColleague:
		h = append(h, &request.Assigned{TechnicianID: colleagueID})
	case stInChat:
		h = append(h, joined...)
	case stChatEnded:
		h = append(h, joined...)
		h = append(h, &request.ChatEnded{TechnicianID: meID})
	case stSSPending:
		h = append(h, joined...)
		h = append(h, &request.ScreenSharingRequested{TechnicianID: meID})
	case stSSAccepted:
		h = append(h, joined...)
		h = append(h, &request.ScreenSharingRequested{TechnicianID: meID}, &request.ScreenSharingAccepted{})
	case stSSDeclined:
		h = append(h, joined...)
		h = append(h, &request.ScreenSharingRequested{TechnicianID: meID}, &request.ScreenSharingDeclined{})
	case stClosed:
		h = append(h, joined...)
		h = append(h, &request.ChatEnded{TechnicianID: meID}, &request.Closed{TechnicianID: meID})
	case stUnassignedAgn:
		h = append(h, joined...)
		h = append(h, &request.ScreenSharingRequested{TechnicianID: meID}, &request.Unassigned{TechnicianID: meID})
	case stTransferred:
		h = append(h, &request.Assigned{TechnicianID: colleagueID}, &request.ChatJoined{TechnicianID: colleagueID},
			&request.ScreenSharingRequested{TechnicianID: colleagueID},
			&request.Transferred{From: colleagueID, To: meID})
	default:
		panic("unknown state " + string(s))
	}
	return h
}

func load(t testing.TB, s state, p request.Platform) *request.Request {
	t.Helper()
	r, err := request.FromHistory(history(s, p))
	if err != nil {
		t.Fatalf("FromHistory(%s): %v", s, err)
	}
	if len(r.Changes()) != 0 {
		t.Fatalf("FromHistory(%s) left changes %v", s, r.Changes())
	}
	return r
}

// Shorthands for the events the tests expect.
func assigned(id uuid.UUID) *request.Assigned     { return &request.Assigned{TechnicianID: id} }
func unassigned(id uuid.UUID) *request.Unassigned { return &request.Unassigned{TechnicianID: id} }
func joined(id uuid.UUID) *request.ChatJoined     { return &request.ChatJoined{TechnicianID: id} }
func ended(id uuid.UUID) *request.ChatEnded       { return &request.ChatEnded{TechnicianID: id} }
func closed(id uuid.UUID) *request.Closed         { return &request.Closed{TechnicianID: id} }
func transferred(from uuid.UUID) *request.Transferred {
	return &request.Transferred{From: from, To: peerID}
}
func techMessage(id uuid.UUID) *request.MessageSent {
	return &request.MessageSent{MessageID: messageID, From: request.TechnicianSide, TechnicianID: id, Body: "Hello, I am here to help."}
}
func customerMessage() *request.MessageSent {
	return &request.MessageSent{MessageID: messageID, From: request.CustomerSide, Body: "Thanks!"}
}
func note(id uuid.UUID) *request.NoteAdded {
	return &request.NoteAdded{NoteID: noteID, TechnicianID: id, Body: "Customer sounds upset."}
}
func techFile(id uuid.UUID) *request.FileShared {
	return &request.FileShared{FileID: fileID, From: request.TechnicianSide, TechnicianID: id, Name: "report.pdf", Size: 1234, ContentType: "application/pdf", SHA256: sha}
}
func customerFile() *request.FileShared {
	return &request.FileShared{FileID: fileID, From: request.CustomerSide, Name: "photo.png", Size: 99, ContentType: "image/png", SHA256: sha}
}
func screenSharingRequested(id uuid.UUID) *request.ScreenSharingRequested {
	return &request.ScreenSharingRequested{TechnicianID: id}
}
func profileSent(id uuid.UUID) *request.MobileProfileSent {
	return &request.MobileProfileSent{TechnicianID: id, Profile: "Corporate Wi-Fi"}
}

var (
	pdf = request.File{ID: fileID, Name: "report.pdf", Size: 1234, ContentType: "application/pdf", SHA256: sha}
	png = request.File{ID: fileID, Name: "photo.png", Size: 99, ContentType: "image/png", SHA256: sha}
)

// Shorthands for the errors the tests expect.
var (
	notAssignee      = fails(request.ErrNotAssignee)
	notAssigned      = fails(request.ErrNotAssigned)
	isClosed         = fails(request.ErrClosed)
	alreadyAssigned  = fails(request.ErrAlreadyAssigned)
	notAvailable     = fails(request.ErrNotAvailable)
	chatNotJoined    = fails(request.ErrChatNotJoined)
	chatEnded        = fails(request.ErrChatEnded)
	alreadyInChat    = fails(request.ErrChatAlreadyJoined)
	ssPending        = fails(request.ErrScreenSharingPending)
	noSSRequest      = fails(request.ErrNoScreenSharingRequest)
	noMobileProfiles = fails(request.ErrMobileProfilesUnsupported)
)

const (
	win     = request.Windows
	android = request.Android
)

// outcome is what a command must do: fail with err, or succeed recording exactly events.
type outcome struct {
	set    bool
	err    error
	events []eventlog.Event
}

func fails(err error) outcome             { return outcome{set: true, err: err} }
func records(e ...eventlog.Event) outcome { return outcome{set: true, events: e} }

// succeeds is a success that records nothing (the Check… queries).
func succeeds() outcome { return outcome{set: true} }

func (o outcome) String() string {
	if o.err != nil {
		return "error " + o.err.Error()
	}
	var types []string
	for _, e := range o.events {
		types = append(types, e.EventType())
	}
	return "events [" + strings.Join(types, " ") + "]"
}

// check asserts that err and r.Changes() match want. A failed command must record nothing.
func check(t *testing.T, r *request.Request, err error, want outcome) {
	t.Helper()
	if !want.set {
		t.Fatal("test table leaves this outcome unspecified")
	}
	if want.err != nil {
		if !errors.Is(err, want.err) {
			t.Fatalf("error = %v, want %v", err, want.err)
		}
		if len(r.Changes()) != 0 {
			t.Fatalf("failed command recorded %d events: %#v", len(r.Changes()), r.Changes())
		}
		return
	}
	if err != nil {
		t.Fatalf("error = %v, want %s", err, want)
	}
	got := r.Changes()
	if len(got) == 0 && len(want.events) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want.events) {
		t.Fatalf("changes =\n%s\nwant\n%s", dump(got), dump(want.events))
	}
}

func dump(events []eventlog.Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("  ")
		b.WriteString(e.EventType())
		b.WriteString(" ")
		b.WriteString(fmt.Sprintf("%+v", e))
		b.WriteString("\n")
	}
	return b.String()
}
