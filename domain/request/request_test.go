package request_test

// The request aggregate's tests: the fixtures every test here shares (fixed IDs, technicians,
// states reached by replay, expected outcomes), then submission and replay, then the matrix of
// every command in every state.

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
	"github.com/helpstream/helpstream/domain/text"
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

func validSubmission() request.Submission {
	return request.Submission{
		RequestID:   requestID,
		CompanyID:   companyID,
		PortalID:    portalID,
		Customer:    request.Customer{Name: "Ann Customer", Email: "ann@example.com"},
		Description: "My printer is on fire",
		Source:      request.Source{IP: "192.0.2.1", Platform: "windows", OS: "Windows", OSVersion: "11", Browser: "Edge 120"},
	}
}

func TestSubmitValidation(t *testing.T) {
	invalidUTF8 := string([]byte{0xff, 0xfe, 'a'})
	tests := []struct {
		name   string
		change func(s *request.Submission)
		want   error
	}{
		{"valid", func(s *request.Submission) {}, nil},

		{"missing request ID", func(s *request.Submission) { s.RequestID = uuid.Nil }, request.ErrMissingID},
		{"missing company ID", func(s *request.Submission) { s.CompanyID = uuid.Nil }, request.ErrMissingID},
		{"missing portal ID", func(s *request.Submission) { s.PortalID = uuid.Nil }, request.ErrMissingID},
		{"all IDs missing", func(s *request.Submission) { s.RequestID, s.CompanyID, s.PortalID = uuid.Nil, uuid.Nil, uuid.Nil }, request.ErrMissingID},

		{"empty name", func(s *request.Submission) { s.Customer.Name = "" }, request.ErrInvalidCustomerName},
		{"blank name", func(s *request.Submission) { s.Customer.Name = " \t\n " }, request.ErrInvalidCustomerName},
		{"name of 201 characters", func(s *request.Submission) { s.Customer.Name = strings.Repeat("a", 201) }, request.ErrInvalidCustomerName},
		{"name of 200 characters", func(s *request.Submission) { s.Customer.Name = strings.Repeat("a", 200) }, nil},
		{"name of 200 multi-byte characters", func(s *request.Submission) { s.Customer.Name = strings.Repeat("é", 200) }, nil},
		{"name of 201 multi-byte characters", func(s *request.Submission) { s.Customer.Name = strings.Repeat("é", 201) }, request.ErrInvalidCustomerName},
		{"name of 200 characters padded with spaces", func(s *request.Submission) { s.Customer.Name = "  " + strings.Repeat("a", 200) + "  " }, nil},
		{"name not UTF-8", func(s *request.Submission) { s.Customer.Name = invalidUTF8 }, request.ErrInvalidCustomerName},

		{"empty e-mail", func(s *request.Submission) { s.Customer.Email = "" }, request.ErrInvalidEmail},
		{"blank e-mail", func(s *request.Submission) { s.Customer.Email = "   " }, request.ErrInvalidEmail},
		{"e-mail without @", func(s *request.Submission) { s.Customer.Email = "ann.example.com" }, request.ErrInvalidEmail},
		{"e-mail without domain", func(s *request.Submission) { s.Customer.Email = "ann@" }, request.ErrInvalidEmail},
		{"e-mail without local part", func(s *request.Submission) { s.Customer.Email = "@example.com" }, request.ErrInvalidEmail},
		{"e-mail with display name", func(s *request.Submission) { s.Customer.Email = "Ann <ann@example.com>" }, request.ErrInvalidEmail},
		{"e-mail in angle brackets", func(s *request.Submission) { s.Customer.Email = "<ann@example.com>" }, request.ErrInvalidEmail},
		{"two e-mails", func(s *request.Submission) { s.Customer.Email = "ann@example.com, bob@example.com" }, request.ErrInvalidEmail},
		{"e-mail with space", func(s *request.Submission) { s.Customer.Email = "ann smith@example.com" }, request.ErrInvalidEmail},
		{"e-mail with header injection", func(s *request.Submission) { s.Customer.Email = "ann@example.com\r\nBcc: x@y.z" }, request.ErrInvalidEmail},
		{"e-mail of 255 characters", func(s *request.Submission) {
			s.Customer.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 58) + ".com"
		}, request.ErrInvalidEmail},
		{"e-mail of 254 characters", func(s *request.Submission) {
			s.Customer.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 57) + ".com"
		}, nil},
		{"e-mail with plus and subdomain", func(s *request.Submission) { s.Customer.Email = "ann+help@mail.example.co.uk" }, nil},

		{"empty description", func(s *request.Submission) { s.Description = "" }, request.ErrInvalidDescription},
		{"blank description", func(s *request.Submission) { s.Description = "\n\n  \t" }, request.ErrInvalidDescription},
		{"description of 10001 characters", func(s *request.Submission) { s.Description = strings.Repeat("x", 10_001) }, request.ErrInvalidDescription},
		{"description of 10000 characters", func(s *request.Submission) { s.Description = strings.Repeat("x", 10_000) }, nil},
		{"description of 10000 multi-byte characters", func(s *request.Submission) { s.Description = strings.Repeat("ß", 10_000) }, nil},
		{"description not UTF-8", func(s *request.Submission) { s.Description = invalidUTF8 }, request.ErrInvalidDescription},

		{"empty platform", func(s *request.Submission) { s.Source.Platform = "" }, request.ErrInvalidPlatform},
		{"linux platform", func(s *request.Submission) { s.Source.Platform = "linux" }, request.ErrInvalidPlatform},
		{"mac spelled macOS", func(s *request.Submission) { s.Source.Platform = "macOS" }, nil},
		{"ios spelled iPhone", func(s *request.Submission) { s.Source.Platform = "iPhone" }, nil},

		{"IP of 201 characters", func(s *request.Submission) { s.Source.IP = strings.Repeat("1", 201) }, request.ErrInvalidSource},
		{"OS of 201 characters", func(s *request.Submission) { s.Source.OS = strings.Repeat("o", 201) }, request.ErrInvalidSource},
		{"OS version of 201 characters", func(s *request.Submission) { s.Source.OSVersion = strings.Repeat("9", 201) }, request.ErrInvalidSource},
		{"browser of 201 characters", func(s *request.Submission) { s.Source.Browser = strings.Repeat("b", 201) }, request.ErrInvalidSource},
		{"IP not UTF-8", func(s *request.Submission) { s.Source.IP = invalidUTF8 }, request.ErrInvalidSource},
		{"OS not UTF-8", func(s *request.Submission) { s.Source.OS = invalidUTF8 }, request.ErrInvalidSource},
		{"OS version not UTF-8", func(s *request.Submission) { s.Source.OSVersion = invalidUTF8 }, request.ErrInvalidSource},
		{"browser not UTF-8", func(s *request.Submission) { s.Source.Browser = invalidUTF8 }, request.ErrInvalidSource},
		{"every source field of 200 characters", func(s *request.Submission) {
			s.Source.IP, s.Source.OS = strings.Repeat("1", 200), strings.Repeat("o", 200)
			s.Source.OSVersion, s.Source.Browser = strings.Repeat("9", 200), strings.Repeat("b", 200)
		}, nil},
		{"browser of 200 multi-byte characters", func(s *request.Submission) { s.Source.Browser = strings.Repeat("ü", 200) }, nil},
		{"empty source fields besides the platform", func(s *request.Submission) {
			s.Source = request.Source{Platform: "android"}
		}, nil},

		// The first invalid field in R1 order is the one reported.
		{"missing ID reported before bad name", func(s *request.Submission) { s.RequestID, s.Customer.Name = uuid.Nil, "" }, request.ErrMissingID},
		{"bad name reported before bad e-mail", func(s *request.Submission) { s.Customer.Name, s.Customer.Email = "", "x" }, request.ErrInvalidCustomerName},
		{"bad e-mail reported before bad description", func(s *request.Submission) { s.Customer.Email, s.Description = "x", "" }, request.ErrInvalidEmail},
		{"bad description reported before bad platform", func(s *request.Submission) { s.Description, s.Source.Platform = "", "beos" }, request.ErrInvalidDescription},
		{"bad platform reported before bad source", func(s *request.Submission) {
			s.Source.Platform, s.Source.IP = "beos", strings.Repeat("1", 300)
		}, request.ErrInvalidPlatform},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSubmission()
			tt.change(&s)
			r, err := request.Submit(s)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Submit: %v", err)
				}
				if len(r.Changes()) != 1 {
					t.Fatalf("Submit recorded %d events, want 1", len(r.Changes()))
				}
				if _, ok := r.Changes()[0].(*request.Submitted); !ok {
					t.Fatalf("Submit recorded %T, want *request.Submitted", r.Changes()[0])
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Submit error = %v, want %v", err, tt.want)
			}
			if r != nil {
				t.Fatalf("Submit returned a request together with error %v", err)
			}
		})
	}
}

func TestSubmitRecordsSubmitted(t *testing.T) {
	tests := []struct {
		name string
		in   request.Submission
		want request.Submitted
	}{
		{
			// A submission that needs no cleaning is recorded as it was sent.
			name: "already clean",
			in:   validSubmission(),
			want: *submittedFrom(validSubmission()),
		},
		{
			name: "trimmed name and description, lower-cased e-mail, canonical platform",
			in: request.Submission{
				RequestID: requestID, CompanyID: companyID, PortalID: portalID,
				Customer:    request.Customer{Name: "  Ann  Customer \n", Email: "  Ann.Customer@Example.COM "},
				Description: "\n  It hangs at boot.\n\nPlease help.  \t",
				Source:      request.Source{IP: "2001:db8::1", Platform: " MacOS ", OS: "macOS", OSVersion: "14.2", Browser: "Safari"},
			},
			want: request.Submitted{
				RequestID: requestID, CompanyID: companyID, PortalID: portalID,
				Customer:    request.Customer{Name: "Ann  Customer", Email: "ann.customer@example.com"},
				Description: "It hangs at boot.\n\nPlease help.",
				Source:      request.Source{IP: "2001:db8::1", Platform: request.Mac, OS: "macOS", OSVersion: "14.2", Browser: "Safari"},
			},
		},
		{
			name: "iPad becomes ios",
			in: func() request.Submission {
				s := validSubmission()
				s.Source.Platform = "iPad"
				return s
			}(),
			want: func() request.Submitted {
				e := *submittedFrom(validSubmission())
				e.Source.Platform = request.IOS
				return e
			}(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := request.Submit(tt.in)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			got := r.Changes()
			if len(got) != 1 {
				t.Fatalf("Submit recorded %d events, want 1", len(got))
			}
			if !reflect.DeepEqual(got[0], &tt.want) {
				t.Fatalf("Submitted =\n%+v\nwant\n%+v", got[0], &tt.want)
			}
			if got[0].EventType() != "request.submitted.v1" {
				t.Fatalf("event type = %q", got[0].EventType())
			}
			// The aggregate reflects the event.
			if r.ID() != tt.want.RequestID || r.CompanyID() != tt.want.CompanyID || r.PortalID() != tt.want.PortalID {
				t.Fatalf("IDs = %v %v %v", r.ID(), r.CompanyID(), r.PortalID())
			}
			if r.Customer() != tt.want.Customer || r.Description() != tt.want.Description || r.Source() != tt.want.Source {
				t.Fatalf("customer/description/source = %+v %q %+v", r.Customer(), r.Description(), r.Source())
			}
			if r.Platform() != tt.want.Source.Platform {
				t.Fatalf("Platform() = %q", r.Platform())
			}
			if r.Status() != request.StatusNew || r.IsAssigned() || r.IsClosed() || r.Assignee() != uuid.Nil {
				t.Fatalf("new request: status %q assigned %v closed %v", r.Status(), r.IsAssigned(), r.IsClosed())
			}
			if r.Chat() != request.ChatNotJoined || r.ScreenSharing() != request.ScreenSharingNone {
				t.Fatalf("new request: chat %q screen sharing %q", r.Chat(), r.ScreenSharing())
			}
			// Replaying what Submit recorded gives the same request.
			again, err := request.FromHistory(got)
			if err != nil {
				t.Fatalf("FromHistory: %v", err)
			}
			if again.Customer() != r.Customer() || again.Source() != r.Source() || again.Description() != r.Description() {
				t.Fatalf("replayed request differs")
			}
		})
	}
}

func submittedFrom(s request.Submission) *request.Submitted {
	return &request.Submitted{
		RequestID: s.RequestID, CompanyID: s.CompanyID, PortalID: s.PortalID,
		Customer: s.Customer, Description: s.Description,
		Source: request.Source{IP: s.Source.IP, Platform: request.Platform(s.Source.Platform), OS: s.Source.OS, OSVersion: s.Source.OSVersion, Browser: s.Source.Browser},
	}
}

func TestFromHistory(t *testing.T) {
	tests := []struct {
		name    string
		history []eventlog.Event
		wantErr error
	}{
		{"nil history", nil, request.ErrNotARequestStream},
		{"empty history", []eventlog.Event{}, request.ErrNotARequestStream},
		{"starts with Assigned", []eventlog.Event{assigned(meID), submitted(win)}, request.ErrNotARequestStream},
		{"starts with Closed", []eventlog.Event{closed(meID)}, request.ErrNotARequestStream},
		{"starts with a directory event", []eventlog.Event{&directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}}, request.ErrNotARequestStream},
		{"starts with a nil event", []eventlog.Event{nil}, request.ErrNotARequestStream},
		{"submitted only", []eventlog.Event{submitted(win)}, nil},
		{"events of other streams are ignored", []eventlog.Event{submitted(win), &directory.AccessGranted{TechnicianID: meID, CompanyID: companyID}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := request.FromHistory(tt.history)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("FromHistory error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				if r != nil {
					t.Fatal("FromHistory returned a request with an error")
				}
				return
			}
			if r.ID() != requestID || r.Status() != request.StatusNew || len(r.Changes()) != 0 {
				t.Fatalf("FromHistory: id %v status %v changes %d", r.ID(), r.Status(), len(r.Changes()))
			}
		})
	}
}

// Replaying each state's history leaves the request exactly in that state.
func TestReplayedState(t *testing.T) {
	tests := []struct {
		state         state
		status        request.Status
		assignee      uuid.UUID
		chat          request.ChatState
		screenSharing request.ScreenSharing
	}{
		{stNew, request.StatusNew, uuid.Nil, request.ChatNotJoined, request.ScreenSharingNone},
		{stAssigned, request.StatusActive, meID, request.ChatNotJoined, request.ScreenSharingNone},
		{stColleague, request.StatusActive, colleagueID, request.ChatNotJoined, request.ScreenSharingNone},
		{stInChat, request.StatusActive, meID, request.ChatJoinedIn, request.ScreenSharingNone},
		{stChatEnded, request.StatusActive, meID, request.ChatEndedOut, request.ScreenSharingNone},
		{stSSPending, request.StatusActive, meID, request.ChatJoinedIn, request.ScreenSharingPending},
		{stSSAccepted, request.StatusActive, meID, request.ChatJoinedIn, request.ScreenSharingOn},
		{stSSDeclined, request.StatusActive, meID, request.ChatJoinedIn, request.ScreenSharingRefused},
		{stClosed, request.StatusCompleted, meID, request.ChatEndedOut, request.ScreenSharingNone},
		{stUnassignedAgn, request.StatusNew, uuid.Nil, request.ChatNotJoined, request.ScreenSharingNone},
		{stTransferred, request.StatusActive, meID, request.ChatNotJoined, request.ScreenSharingNone},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			r := load(t, tt.state, win)
			if r.Status() != tt.status {
				t.Errorf("Status = %q, want %q", r.Status(), tt.status)
			}
			if r.Assignee() != tt.assignee {
				t.Errorf("Assignee = %v, want %v", r.Assignee(), tt.assignee)
			}
			if r.IsAssigned() != (tt.assignee != uuid.Nil) {
				t.Errorf("IsAssigned = %v", r.IsAssigned())
			}
			if r.IsClosed() != (tt.status == request.StatusCompleted) {
				t.Errorf("IsClosed = %v", r.IsClosed())
			}
			if r.Chat() != tt.chat {
				t.Errorf("Chat = %q, want %q", r.Chat(), tt.chat)
			}
			if r.ScreenSharing() != tt.screenSharing {
				t.Errorf("ScreenSharing = %q, want %q", r.ScreenSharing(), tt.screenSharing)
			}
		})
	}
}

func TestStreamName(t *testing.T) {
	id := uuid.MustParse("6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60")
	if got, want := request.Stream(id), "request-6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60"; got != want {
		t.Fatalf("Stream = %q, want %q", got, want)
	}
	if !strings.HasPrefix(request.Stream(id), request.StreamPrefix) {
		t.Fatalf("Stream does not start with StreamPrefix %q", request.StreamPrefix)
	}
}

// Every text a person or a browser sends into a request's events goes through the one text
// rule: NUL, bytes that are not UTF-8 and control characters are refused with the field's own
// error, which wraps the rule's *text.Error saying what and where.
func TestTextRuleOnEveryField(t *testing.T) {
	valid := request.Submission{
		RequestID: requestID, CompanyID: companyID, PortalID: portalID,
		Customer:    request.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		Description: "My printer is on fire\nsince this morning",
		Source:      request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Chrome"},
	}
	submit := func(change func(*request.Submission)) func() error {
		return func() error {
			s := valid
			change(&s)
			_, err := request.Submit(s)
			return err
		}
	}
	inChat := func(act func(r *request.Request, me *directory.Technician) error) func() error {
		return func() error {
			r := load(t, stInChat, request.Windows)
			return act(r, me.tech(t))
		}
	}
	bad := map[string]struct {
		value string
		rule  error
	}{
		"NUL":          {"ab\x00cd", text.ErrNUL},
		"invalid UTF8": {"caf\xe9", text.ErrInvalidUTF8},
		"escape":       {"a\x1b[2Jb", text.ErrControl},
	}
	for name, b := range bad {
		v := b.value
		fields := []struct {
			field string
			run   func() error
			want  error
		}{
			{"customer name", submit(func(s *request.Submission) { s.Customer.Name = v }), request.ErrInvalidCustomerName},
			{"customer e-mail", submit(func(s *request.Submission) { s.Customer.Email = "ad" + v + "@example.com" }), request.ErrInvalidEmail},
			{"description", submit(func(s *request.Submission) { s.Description = v }), request.ErrInvalidDescription},
			{"OS", submit(func(s *request.Submission) { s.Source.OS = v }), request.ErrInvalidSource},
			{"OS version", submit(func(s *request.Submission) { s.Source.OSVersion = v }), request.ErrInvalidSource},
			{"browser", submit(func(s *request.Submission) { s.Source.Browser = v }), request.ErrInvalidSource},
			{"IP", submit(func(s *request.Submission) { s.Source.IP = v }), request.ErrInvalidSource},
			{"technician message", inChat(func(r *request.Request, me *directory.Technician) error {
				return r.SendTechnicianMessage(me, messageID, v)
			}), request.ErrInvalidMessage},
			{"customer message", inChat(func(r *request.Request, _ *directory.Technician) error {
				return r.SendCustomerMessage(messageID, v)
			}), request.ErrInvalidMessage},
			{"note", inChat(func(r *request.Request, me *directory.Technician) error {
				return r.AddNote(me, noteID, v)
			}), request.ErrInvalidMessage},
			{"file name", inChat(func(r *request.Request, me *directory.Technician) error {
				return r.ShareTechnicianFile(me, request.File{ID: fileID, Name: v + ".txt", Size: 1, ContentType: "text/plain", SHA256: sha})
			}), request.ErrInvalidFile},
		}
		for _, f := range fields {
			t.Run(name+" in "+f.field, func(t *testing.T) {
				err := f.run()
				if !errors.Is(err, f.want) {
					t.Fatalf("got %v, want %v", err, f.want)
				}
				// The e-mail is checked by the directory's rule, which wraps it too.
				if !errors.Is(err, b.rule) {
					t.Errorf("got %v, which does not say %v", err, b.rule)
				}
			})
		}
	}
	// Multi-line fields keep their line breaks and tabs; one-line fields refuse them.
	if _, err := request.Submit(valid); err != nil {
		t.Fatalf("a description with a line break was refused: %v", err)
	}
	s := valid
	s.Customer.Name = "Ada\nLovelace"
	if _, err := request.Submit(s); !errors.Is(err, text.ErrControl) {
		t.Errorf("a name with a line break: got %v, want %v", err, text.ErrControl)
	}
}

// techRow gives, for one state, what each technician with access gets. The technician without
// access always gets ErrNoAccess (R2).
type techRow struct {
	state     state
	platform  request.Platform
	me        outcome
	meBusy    outcome
	colleague outcome
	busy      outcome
}

func (r techRow) want(a actor) outcome {
	switch a {
	case me:
		return r.me
	case meBusy:
		return r.meBusy
	case colleague:
		return r.colleague
	case busy:
		return r.busy
	}
	return fails(request.ErrNoAccess)
}

// everyoneRow is a state's row in which every technician with access gets want.
func everyoneRow(s state, p request.Platform, want outcome) techRow {
	return techRow{s, p, want, want, want, want}
}

// assigneeRow is a state's row for a command only the assignee may give: me, busy or not, get
// want; the colleagues, who are not the assignee, are refused.
func assigneeRow(s state, p request.Platform, want outcome) techRow {
	return techRow{s, p, want, want, notAssignee, notAssignee}
}

// outsideChatRows are the rows of a command the assignee gives in the chat (R8–R13), for every
// state in which no chat is going on: the same refusals for every such command.
func outsideChatRows(p request.Platform) []techRow {
	return []techRow{
		everyoneRow(stNew, p, notAssignee),
		{stAssigned, p, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
		{stColleague, p, notAssignee, notAssignee, chatNotJoined, notAssignee},
		{stChatEnded, p, chatEnded, chatEnded, notAssignee, notAssignee},
		everyoneRow(stClosed, p, isClosed),
		everyoneRow(stUnassignedAgn, p, notAssignee),
		{stTransferred, p, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
	}
}

// chatRows are the rows of a command the assignee gives in the chat, succeeding with want in
// every state of an ongoing chat.
func chatRows(p request.Platform, want outcome) []techRow {
	return append(outsideChatRows(p),
		assigneeRow(stInChat, p, want),
		assigneeRow(stSSPending, p, want),
		assigneeRow(stSSAccepted, p, want),
		assigneeRow(stSSDeclined, p, want),
	)
}

// assigneeCommandRows are the rows of a command only the assignee gives, whatever the chat:
// in the open states nobody holds, everyone gets unassigned; in those I hold, I get mine
// outside a chat and inChat during one; where the colleague holds it, the colleague gets
// colleagues.
func assigneeCommandRows(unassigned, mine, colleagues, inChat outcome) []techRow {
	return []techRow{
		everyoneRow(stNew, win, unassigned),
		assigneeRow(stAssigned, win, mine),
		{stColleague, win, notAssignee, notAssignee, colleagues, notAssignee},
		assigneeRow(stInChat, win, inChat),
		assigneeRow(stChatEnded, win, mine),
		assigneeRow(stSSPending, win, inChat),
		assigneeRow(stSSAccepted, win, inChat),
		assigneeRow(stSSDeclined, win, inChat),
		everyoneRow(stClosed, win, isClosed),
		everyoneRow(stUnassignedAgn, win, unassigned),
		assigneeRow(stTransferred, win, mine),
	}
}

// giveBackRows are the rows of a command by which the assignee gives the request up (Unassign,
// Transfer): me and the colleague record their own event in the states where each is the
// assignee, whatever the chat.
func giveBackRows(mine, colleagues outcome) []techRow {
	return assigneeCommandRows(notAssigned, mine, colleagues, mine)
}

// anyTechnicianRows are the rows of a command every technician with access may give while the
// request is open, each recording their own event.
func anyTechnicianRows(event func(id uuid.UUID) eventlog.Event) []techRow {
	var rows []techRow
	for _, s := range states {
		if s == stClosed {
			rows = append(rows, everyoneRow(s, win, isClosed))
			continue
		}
		rows = append(rows, techRow{s, win, records(event(meID)), records(event(meID)), records(event(colleagueID)), records(event(busyID))})
	}
	return rows
}

type techCommand struct {
	name string
	run  func(r *request.Request, t *directory.Technician) error
	rows []techRow
}

// technicianCommands are every technician command with the matrix of what it gives in every
// state; Transfer hands the request to peer.
func technicianCommands(peer *directory.Technician) []techCommand {
	return []techCommand{
		{
			name: "Assign",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Assign(t) },
			rows: []techRow{
				{stNew, win, records(assigned(meID)), notAvailable, records(assigned(colleagueID)), notAvailable},
				everyoneRow(stAssigned, win, alreadyAssigned),
				everyoneRow(stColleague, win, alreadyAssigned),
				everyoneRow(stInChat, win, alreadyAssigned),
				everyoneRow(stChatEnded, win, alreadyAssigned),
				everyoneRow(stSSPending, win, alreadyAssigned),
				everyoneRow(stSSAccepted, win, alreadyAssigned),
				everyoneRow(stSSDeclined, win, alreadyAssigned),
				everyoneRow(stClosed, win, isClosed),
				{stUnassignedAgn, win, records(assigned(meID)), notAvailable, records(assigned(colleagueID)), notAvailable},
				everyoneRow(stTransferred, win, alreadyAssigned),
			},
		},
		{
			name: "Unassign",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Unassign(t) },
			rows: giveBackRows(records(unassigned(meID)), records(unassigned(colleagueID))),
		},
		{
			name: "Transfer to an available peer",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) },
			rows: giveBackRows(records(transferred(meID)), records(transferred(colleagueID))),
		},
		{
			name: "JoinChat",
			run:  func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) },
			rows: assigneeCommandRows(notAssignee, records(joined(meID)), records(joined(colleagueID)), alreadyInChat),
		},
		{
			name: "SendTechnicianMessage",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.SendTechnicianMessage(t, messageID, "  Hello, I am here to help.\n")
			},
			rows: chatRows(win, records(techMessage(meID))),
		},
		{
			name: "AddNote",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.AddNote(t, noteID, "\tCustomer sounds upset. ")
			},
			rows: anyTechnicianRows(func(id uuid.UUID) eventlog.Event { return note(id) }),
		},
		{
			name: "ShareTechnicianFile",
			run:  func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) },
			rows: chatRows(win, records(techFile(meID))),
		},
		{
			name: "CheckTechnicianCanShareFile",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.CheckTechnicianCanShareFile(t, "report.pdf")
			},
			rows: chatRows(win, succeeds()),
		},
		{
			name: "RequestScreenSharing",
			run:  func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) },
			rows: append(outsideChatRows(win),
				assigneeRow(stInChat, win, records(screenSharingRequested(meID))),
				assigneeRow(stSSPending, win, ssPending),
				assigneeRow(stSSAccepted, win, records(screenSharingRequested(meID))),
				assigneeRow(stSSDeclined, win, records(screenSharingRequested(meID))),
			),
		},
		{
			name: "SendMobileProfile",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.SendMobileProfile(t, " Corporate Wi-Fi ")
			},
			rows: append(outsideChatRows(android),
				assigneeRow(stInChat, android, records(profileSent(meID))),
				assigneeRow(stInChat, win, noMobileProfiles),
				assigneeRow(stSSPending, win, noMobileProfiles),
				assigneeRow(stSSAccepted, win, noMobileProfiles),
				assigneeRow(stSSDeclined, win, noMobileProfiles),
			),
		},
		{
			name: "EndChat",
			run:  func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) },
			rows: chatRows(win, records(ended(meID))),
		},
		{
			name: "Close",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Close(t) },
			rows: assigneeCommandRows(notAssignee, records(closed(meID)), records(closed(colleagueID)), records(ended(meID), closed(meID))),
		},
	}
}

func TestTechnicianCommandsInEveryState(t *testing.T) {
	commands := technicianCommands(technician(t, peerID, directory.Available, companyID))
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			covered := map[state]bool{}
			for _, row := range c.rows {
				covered[row.state] = true
				for _, a := range actors {
					t.Run(string(row.state)+"/"+string(row.platform)+"/"+string(a), func(t *testing.T) {
						r := load(t, row.state, row.platform)
						err := c.run(r, a.tech(t))
						check(t, r, err, row.want(a))
					})
				}
			}
			for _, s := range states {
				if !covered[s] {
					t.Errorf("table misses state %q", s)
				}
			}
		})
	}
}

type customerRow struct {
	state    state
	platform request.Platform
	want     outcome
}

// customerFileRows are the rows of a customer's file command: files are shared in a chat a
// technician has joined (R10), and the command gives want there, on any platform.
func customerFileRows(want outcome) []customerRow {
	return []customerRow{
		{stNew, win, chatNotJoined},
		{stAssigned, win, chatNotJoined},
		{stColleague, win, chatNotJoined},
		{stInChat, win, want},
		{stInChat, request.IOS, want},
		{stChatEnded, win, chatEnded},
		{stSSPending, win, want},
		{stSSAccepted, win, want},
		{stSSDeclined, win, want},
		{stClosed, win, isClosed},
		{stUnassignedAgn, win, chatNotJoined},
		{stTransferred, win, chatNotJoined},
	}
}

// screenSharingAnswerRows are the rows of the customer's answer to a screen-sharing request
// (R11): only a pending request can be answered, and the answer records answer.
func screenSharingAnswerRows(answer eventlog.Event) []customerRow {
	var rows []customerRow
	for _, s := range states {
		want := noSSRequest
		switch s {
		case stSSPending:
			want = records(answer)
		case stClosed:
			want = isClosed
		}
		rows = append(rows, customerRow{s, win, want})
	}
	return rows
}

type customerCommand struct {
	name string
	run  func(r *request.Request) error
	rows []customerRow
}

// customerCommands are every customer command with the matrix of what it gives in every state.
func customerCommands() []customerCommand {
	return []customerCommand{
		{
			name: "SendCustomerMessage",
			run:  func(r *request.Request) error { return r.SendCustomerMessage(messageID, " Thanks! ") },
			rows: []customerRow{
				{stNew, win, records(customerMessage())},
				{stAssigned, win, records(customerMessage())},
				{stColleague, win, records(customerMessage())},
				{stInChat, win, records(customerMessage())},
				{stChatEnded, win, chatEnded},
				{stSSPending, win, records(customerMessage())},
				{stSSAccepted, win, records(customerMessage())},
				{stSSDeclined, win, records(customerMessage())},
				{stClosed, win, isClosed},
				{stUnassignedAgn, win, records(customerMessage())},
				{stTransferred, win, records(customerMessage())},
			},
		},
		{
			name: "CheckCustomerCanShareFile",
			run:  func(r *request.Request) error { return r.CheckCustomerCanShareFile("photo.png") },
			rows: customerFileRows(succeeds()),
		},
		{
			name: "ShareCustomerFile",
			run:  func(r *request.Request) error { return r.ShareCustomerFile(png) },
			rows: customerFileRows(records(customerFile())),
		},
		{
			name: "AcceptScreenSharing",
			run:  func(r *request.Request) error { return r.AcceptScreenSharing() },
			rows: screenSharingAnswerRows(&request.ScreenSharingAccepted{}),
		},
		{
			name: "DeclineScreenSharing",
			run:  func(r *request.Request) error { return r.DeclineScreenSharing() },
			rows: screenSharingAnswerRows(&request.ScreenSharingDeclined{}),
		},
	}
}

func TestCustomerCommandsInEveryState(t *testing.T) {
	commands := customerCommands()
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			covered := map[state]bool{}
			for _, row := range c.rows {
				covered[row.state] = true
				t.Run(string(row.state)+"/"+string(row.platform), func(t *testing.T) {
					r := load(t, row.state, row.platform)
					check(t, r, c.run(r), row.want)
				})
			}
			for _, s := range states {
				if !covered[s] {
					t.Errorf("table misses state %q", s)
				}
			}
		})
	}
}

// A closed request refuses every command from everyone, including its own assignee and the
// customer (R13), and a technician without access still cannot tell it exists (R2).
func TestClosedRequestRefusesEverything(t *testing.T) {
	assignee := technician(t, meID, directory.Available, companyID)
	stranger := technician(t, outsiderID, directory.Available, otherCompanyID)
	techCommands := technicianCommands(technician(t, peerID, directory.Available, companyID))
	// Closed in every way a request can be closed, on every platform.
	closings := []struct {
		name    string
		history func(p request.Platform) []eventlog.Event
	}{
		{"closed while in chat", func(p request.Platform) []eventlog.Event { return history(stClosed, p) }},
		{"closed without chat", func(p request.Platform) []eventlog.Event {
			return append(history(stAssigned, p), closed(meID))
		}},
		{"closed with screen sharing pending", func(p request.Platform) []eventlog.Event {
			return append(history(stSSPending, p), ended(meID), closed(meID))
		}},
		{"closed by a Closed event alone", func(p request.Platform) []eventlog.Event {
			// A Closed event on its own (no ChatEnded) still closes the request.
			return append(history(stInChat, p), closed(meID))
		}},
	}
	for _, cl := range closings {
		for _, p := range request.Platforms {
			for _, c := range techCommands {
				t.Run(cl.name+"/"+string(p)+"/"+c.name, func(t *testing.T) {
					r, err := request.FromHistory(cl.history(p))
					if err != nil {
						t.Fatal(err)
					}
					check(t, r, c.run(r, assignee), fails(request.ErrClosed))
					check(t, r, c.run(r, stranger), fails(request.ErrNoAccess))
				})
			}
			for _, c := range customerCommands() {
				t.Run(cl.name+"/"+string(p)+"/"+c.name, func(t *testing.T) {
					r, err := request.FromHistory(cl.history(p))
					if err != nil {
						t.Fatal(err)
					}
					check(t, r, c.run(r), fails(request.ErrClosed))
				})
			}
		}
	}
}

// R6: the loser of a race is told who has the request.
func TestAssignAlreadyAssignedNamesTheAssignee(t *testing.T) {
	tests := []struct {
		name     string
		state    state
		actor    actor
		assignee uuid.UUID
	}{
		{"colleague tries my request", stAssigned, colleague, meID},
		{"I try the colleague's request", stColleague, me, colleagueID},
		{"I try my own request again", stInChat, me, meID},
		{"busy technician tries an assigned request", stAssigned, busy, meID},
		{"after a transfer", stTransferred, colleague, meID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.state, win)
			err := r.Assign(tt.actor.tech(t))
			var aae *request.AlreadyAssignedError
			if !errors.As(err, &aae) {
				t.Fatalf("Assign error = %v (%T), want *AlreadyAssignedError", err, err)
			}
			if aae.Assignee != tt.assignee {
				t.Fatalf("AlreadyAssignedError.Assignee = %v, want %v", aae.Assignee, tt.assignee)
			}
			if !errors.Is(err, request.ErrAlreadyAssigned) {
				t.Fatal("errors.Is(err, ErrAlreadyAssigned) = false")
			}
			if !strings.Contains(err.Error(), tt.assignee.String()) {
				t.Fatalf("message %q does not name the assignee", err)
			}
			if len(r.Changes()) != 0 {
				t.Fatal("a refused assignment recorded events")
			}
		})
	}
}

// R6 race: two technicians load the same history; both decisions succeed locally (the event
// store's expected version picks one), and whoever loads the winner's history is refused.
func TestAssignRace(t *testing.T) {
	a, b := load(t, stNew, win), load(t, stNew, win)
	if err := a.Assign(me.tech(t)); err != nil {
		t.Fatal(err)
	}
	if err := b.Assign(colleague.tech(t)); err != nil {
		t.Fatal(err)
	}
	after, err := request.FromHistory(append(history(stNew, win), a.Changes()...))
	if err != nil {
		t.Fatal(err)
	}
	err = after.Assign(colleague.tech(t))
	var aae *request.AlreadyAssignedError
	if !errors.As(err, &aae) || aae.Assignee != meID {
		t.Fatalf("loser got %v, want AlreadyAssignedError naming %v", err, meID)
	}
}

// R7: the assignee can unassign after joining and after ending the chat; the request is New,
// its chat and screen sharing are reset, and another technician can take it and must join.
func TestUnassignReturnsToNew(t *testing.T) {
	tests := []struct {
		name  string
		state state
	}{
		{"before joining", stAssigned},
		{"after joining", stInChat},
		{"after ending the chat", stChatEnded},
		{"with screen sharing pending", stSSPending},
		{"with screen sharing accepted", stSSAccepted},
		{"after a transfer to me", stTransferred},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.state, win)
			if err := r.Unassign(me.tech(t)); err != nil {
				t.Fatalf("Unassign: %v", err)
			}
			if r.Status() != request.StatusNew || r.IsAssigned() || r.Assignee() != uuid.Nil {
				t.Fatalf("after Unassign: status %q assignee %v", r.Status(), r.Assignee())
			}
			if r.Chat() != request.ChatNotJoined || r.ScreenSharing() != request.ScreenSharingNone {
				t.Fatalf("after Unassign: chat %q screen sharing %q, want reset", r.Chat(), r.ScreenSharing())
			}
			if err := r.AcceptScreenSharing(); !errors.Is(err, request.ErrNoScreenSharingRequest) {
				t.Fatalf("customer answered a screen sharing request of the old assignee: %v", err)
			}
			col := colleague.tech(t)
			if err := r.SendTechnicianMessage(col, messageID, "hi"); !errors.Is(err, request.ErrNotAssignee) {
				t.Fatalf("message before taking: %v", err)
			}
			if err := r.Assign(col); err != nil {
				t.Fatalf("colleague Assign: %v", err)
			}
			if err := r.SendTechnicianMessage(col, messageID, "hi"); !errors.Is(err, request.ErrChatNotJoined) {
				t.Fatalf("message before joining: %v", err)
			}
			if err := r.JoinChat(col); err != nil {
				t.Fatalf("colleague JoinChat: %v", err)
			}
			if err := r.SendTechnicianMessage(me.tech(t), messageID, "hi"); !errors.Is(err, request.ErrNotAssignee) {
				t.Fatalf("old assignee still writes: %v", err)
			}
			want := []eventlog.Event{unassigned(meID), assigned(colleagueID), joined(colleagueID)}
			check(t, r, nil, records(want...))
		})
	}
}

// R8: only the assignee joins; the event names who joined, which is what the customer sees.
func TestJoinChatOnlyAssignee(t *testing.T) {
	tests := []struct {
		name  string
		actor actor
		want  outcome
	}{
		{"assignee", me, records(joined(meID))},
		{"assignee while busy", meBusy, records(joined(meID))},
		{"colleague with access", colleague, notAssignee},
		{"busy colleague", busy, notAssignee},
		{"technician without access", outsider, fails(request.ErrNoAccess)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, stAssigned, win)
			check(t, r, r.JoinChat(tt.actor.tech(t)), tt.want)
		})
	}
	t.Run("nil technician", func(t *testing.T) {
		r := load(t, stAssigned, win)
		check(t, r, r.JoinChat(nil), fails(request.ErrNoAccess))
	})
}

func TestTransferTargets(t *testing.T) {
	tests := []struct {
		name string
		to   *directory.Technician
		want outcome
	}{
		{"available peer", technician(t, peerID, directory.Available, companyID), records(transferred(meID))},
		{"busy peer", technician(t, peerID, directory.Busy, companyID), records(transferred(meID))},
		{"away peer", technician(t, peerID, directory.Away, companyID), records(transferred(meID))},
		{"offline peer", technician(t, peerID, directory.Offline, companyID), fails(request.ErrTargetOffline)},
		{"peer without access", technician(t, peerID, directory.Available, otherCompanyID), fails(request.ErrTargetNoAccess)},
		{"peer with no company at all", technician(t, peerID, directory.Available), fails(request.ErrTargetNoAccess)},
		{"offline peer without access", technician(t, peerID, directory.Offline, otherCompanyID), fails(request.ErrTargetNoAccess)},
		{"myself", technician(t, meID, directory.Available, companyID), fails(request.ErrSameTechnician)},
		{"myself while busy", technician(t, meID, directory.Busy, companyID), fails(request.ErrSameTechnician)},
		{"no technician", nil, fails(request.ErrTargetNoAccess)},
	}
	for _, tt := range tests {
		for _, s := range []state{stAssigned, stInChat, stChatEnded, stSSPending} {
			t.Run(tt.name+"/"+string(s), func(t *testing.T) {
				r := load(t, s, win)
				check(t, r, r.Transfer(me.tech(t), tt.to), tt.want)
				if tt.want.err != nil {
					return
				}
				// The new assignee holds the request and must join the chat themselves.
				if r.Assignee() != peerID || r.Status() != request.StatusActive {
					t.Fatalf("after Transfer: assignee %v status %q", r.Assignee(), r.Status())
				}
				if r.Chat() != request.ChatNotJoined || r.ScreenSharing() != request.ScreenSharingNone {
					t.Fatalf("after Transfer: chat %q screen sharing %q, want reset", r.Chat(), r.ScreenSharing())
				}
				if err := r.EndChat(tt.to); !errors.Is(err, request.ErrChatNotJoined) {
					t.Fatalf("new assignee EndChat before joining: %v", err)
				}
				if err := r.Unassign(me.tech(t)); !errors.Is(err, request.ErrNotAssignee) {
					t.Fatalf("old assignee Unassign after transfer: %v", err)
				}
			})
		}
	}
}

// R2 before everything else: someone who cannot see the request learns nothing about it from a
// transfer, whatever the target.
func TestTransferByTechnicianWithoutAccess(t *testing.T) {
	targets := []struct {
		name string
		to   *directory.Technician
	}{
		{"available peer", technician(t, peerID, directory.Available, companyID)},
		{"offline peer", technician(t, peerID, directory.Offline, companyID)},
		{"peer without access", technician(t, peerID, directory.Available, otherCompanyID)},
		{"no technician", nil},
	}
	for _, tt := range targets {
		for _, s := range []state{stNew, stAssigned, stClosed} {
			t.Run(tt.name+"/"+string(s), func(t *testing.T) {
				r := load(t, s, win)
				check(t, r, r.Transfer(outsider.tech(t), tt.to), fails(request.ErrNoAccess))
				check(t, r, r.Transfer(nil, tt.to), fails(request.ErrNoAccess))
			})
		}
	}
	t.Run("closed request to no technician", func(t *testing.T) {
		r := load(t, stClosed, win)
		check(t, r, r.Transfer(me.tech(t), nil), fails(request.ErrClosed))
	})
}

// Every technician command treats a nil technician as one without access (R2).
func TestNilTechnicianHasNoAccess(t *testing.T) {
	commands := map[string]func(r *request.Request) error{
		"Assign":                      func(r *request.Request) error { return r.Assign(nil) },
		"Unassign":                    func(r *request.Request) error { return r.Unassign(nil) },
		"JoinChat":                    func(r *request.Request) error { return r.JoinChat(nil) },
		"SendTechnicianMessage":       func(r *request.Request) error { return r.SendTechnicianMessage(nil, messageID, "x") },
		"AddNote":                     func(r *request.Request) error { return r.AddNote(nil, noteID, "x") },
		"ShareTechnicianFile":         func(r *request.Request) error { return r.ShareTechnicianFile(nil, pdf) },
		"CheckTechnicianCanShareFile": func(r *request.Request) error { return r.CheckTechnicianCanShareFile(nil, "a.txt") },
		"RequestScreenSharing":        func(r *request.Request) error { return r.RequestScreenSharing(nil) },
		"SendMobileProfile":           func(r *request.Request) error { return r.SendMobileProfile(nil, "p") },
		"EndChat":                     func(r *request.Request) error { return r.EndChat(nil) },
		"Close":                       func(r *request.Request) error { return r.Close(nil) },
	}
	for name, run := range commands {
		for _, s := range []state{stNew, stInChat, stClosed} {
			t.Run(name+"/"+string(s), func(t *testing.T) {
				r := load(t, s, win)
				check(t, r, run(r), fails(request.ErrNoAccess))
			})
		}
	}
}

func TestMessageAndNoteBodies(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // "" means ErrInvalidMessage
	}{
		{"plain", "hello", "hello"},
		{"trimmed", "\n  hello there \t\n", "hello there"},
		{"inner new lines kept", "line 1\nline 2", "line 1\nline 2"},
		{"one character", "?", "?"},
		{"10000 characters", strings.Repeat("m", 10_000), strings.Repeat("m", 10_000)},
		{"10000 multi-byte characters", strings.Repeat("€", 10_000), strings.Repeat("€", 10_000)},
		{"10000 characters plus spaces", "  " + strings.Repeat("m", 10_000) + "  ", strings.Repeat("m", 10_000)},
		{"markup is kept verbatim", "<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"empty", "", ""},
		{"blank", " \t\r\n ", ""},
		{"10001 characters", strings.Repeat("m", 10_001), ""},
		{"10001 multi-byte characters", strings.Repeat("€", 10_001), ""},
		{"not UTF-8", "\xc3\x28", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := func(e eventlog.Event) outcome {
				if tt.want == "" {
					return fails(request.ErrInvalidMessage)
				}
				return records(e)
			}
			t.Run("technician message", func(t *testing.T) {
				r := load(t, stInChat, win)
				err := r.SendTechnicianMessage(me.tech(t), messageID, tt.body)
				check(t, r, err, want(&request.MessageSent{MessageID: messageID, From: request.TechnicianSide, TechnicianID: meID, Body: tt.want}))
			})
			t.Run("customer message", func(t *testing.T) {
				r := load(t, stInChat, win)
				err := r.SendCustomerMessage(messageID, tt.body)
				check(t, r, err, want(&request.MessageSent{MessageID: messageID, From: request.CustomerSide, Body: tt.want}))
			})
			t.Run("note", func(t *testing.T) {
				r := load(t, stColleague, win)
				err := r.AddNote(me.tech(t), noteID, tt.body)
				check(t, r, err, want(&request.NoteAdded{NoteID: noteID, TechnicianID: meID, Body: tt.want}))
			})
		})
	}
}

// State errors come before body errors: a person is told to join before being told the
// message is empty.
func TestStateCheckedBeforeInput(t *testing.T) {
	tests := []struct {
		name  string
		state state
		run   func(r *request.Request) error
		want  error
	}{
		{"empty message before joining", stAssigned, func(r *request.Request) error {
			return r.SendTechnicianMessage(me.tech(t), messageID, "")
		}, request.ErrChatNotJoined},
		{"empty customer message after chat ended", stChatEnded, func(r *request.Request) error {
			return r.SendCustomerMessage(messageID, "")
		}, request.ErrChatEnded},
		{"empty note on closed request", stClosed, func(r *request.Request) error {
			return r.AddNote(me.tech(t), noteID, "")
		}, request.ErrClosed},
		{"invalid file before joining", stAssigned, func(r *request.Request) error {
			return r.ShareTechnicianFile(me.tech(t), request.File{})
		}, request.ErrChatNotJoined},
		{"exe from customer before joining", stNew, func(r *request.Request) error {
			return r.CheckCustomerCanShareFile("x.exe")
		}, request.ErrChatNotJoined},
		{"blank profile to a Windows customer", stInChat, func(r *request.Request) error {
			return r.SendMobileProfile(me.tech(t), "")
		}, request.ErrMobileProfilesUnsupported},
		{"exe by a colleague", stInChat, func(r *request.Request) error {
			return r.CheckTechnicianCanShareFile(colleague.tech(t), "x.exe")
		}, request.ErrNotAssignee},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, tt.state, win)
			check(t, r, tt.run(r), fails(tt.want))
		})
	}
}

func TestFileValidation(t *testing.T) {
	good := request.File{ID: fileID, Name: "photo.png", Size: 1, ContentType: "image/png", SHA256: sha}
	tests := []struct {
		name   string
		change func(f *request.File)
		want   error
	}{
		{"valid", func(f *request.File) {}, nil},
		{"empty content type is allowed", func(f *request.File) { f.ContentType = "" }, nil},
		{"name of 255 characters", func(f *request.File) { f.Name = strings.Repeat("n", 251) + ".png" }, nil},
		{"large file", func(f *request.File) { f.Size = 1 << 40 }, nil},
		{"missing ID", func(f *request.File) { f.ID = uuid.Nil }, request.ErrInvalidFile},
		{"empty name", func(f *request.File) { f.Name = "" }, request.ErrInvalidFile},
		{"name of 256 characters", func(f *request.File) { f.Name = strings.Repeat("n", 252) + ".png" }, request.ErrInvalidFile},
		{"name not UTF-8", func(f *request.File) { f.Name = "\xff.png" }, request.ErrInvalidFile},
		{"zero size", func(f *request.File) { f.Size = 0 }, request.ErrInvalidFile},
		{"negative size", func(f *request.File) { f.Size = -1 }, request.ErrInvalidFile},
		{"missing SHA-256", func(f *request.File) { f.SHA256 = "" }, request.ErrInvalidFile},
		{"short SHA-256", func(f *request.File) { f.SHA256 = sha[:63] }, request.ErrInvalidFile},
		{"long SHA-256", func(f *request.File) { f.SHA256 = sha + "0" }, request.ErrInvalidFile},
		{"forbidden type", func(f *request.File) { f.Name = "virus.exe" }, request.ErrFileTypeNotAllowed},
		{"no extension", func(f *request.File) { f.Name = "photo" }, request.ErrFileTypeNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := good
			tt.change(&f)
			for _, side := range []request.Side{request.TechnicianSide, request.CustomerSide} {
				t.Run(string(side), func(t *testing.T) {
					r := load(t, stInChat, win)
					var err error
					want := &request.FileShared{FileID: f.ID, From: side, Name: f.Name, Size: f.Size, ContentType: f.ContentType, SHA256: f.SHA256}
					if side == request.TechnicianSide {
						err = r.ShareTechnicianFile(me.tech(t), f)
						want.TechnicianID = meID
					} else {
						err = r.ShareCustomerFile(f)
					}
					if tt.want != nil {
						check(t, r, err, fails(tt.want))
						return
					}
					check(t, r, err, records(want))
				})
			}
		})
	}
}

// R10 through the aggregate: each side on each platform, every allowed type and a set of
// forbidden ones, in Share… and Check….
func TestShareFileTypesByPlatform(t *testing.T) {
	forbidden := []string{"setup.exe", "run.sh", "README", "page.html", "vector.svg", "photo.heic"}
	for _, p := range request.Platforms {
		for _, side := range []request.Side{request.TechnicianSide, request.CustomerSide} {
			allowed := r10All
			if side == request.CustomerSide && p == request.IOS {
				allowed = r10Images
			}
			var names []string
			for _, ext := range r10All {
				names = append(names, "file"+ext, "FILE"+strings.ToUpper(ext))
			}
			names = append(names, forbidden...)
			for _, name := range names {
				t.Run(string(p)+"/"+string(side)+"/"+name, func(t *testing.T) {
					ext := strings.ToLower(name[strings.LastIndexByte(name, '.')+1:])
					if !strings.Contains(name, ".") {
						ext = ""
					} else {
						ext = "." + ext
					}
					ok := ext != "" && contains(allowed, ext)
					f := request.File{ID: fileID, Name: name, Size: 10, SHA256: sha}
					r := load(t, stInChat, p)
					var shareErr, checkErr error
					if side == request.TechnicianSide {
						checkErr = r.CheckTechnicianCanShareFile(me.tech(t), name)
						shareErr = r.ShareTechnicianFile(me.tech(t), f)
					} else {
						checkErr = r.CheckCustomerCanShareFile(name)
						shareErr = r.ShareCustomerFile(f)
					}
					if ok {
						if checkErr != nil || shareErr != nil {
							t.Fatalf("check %v, share %v; want allowed", checkErr, shareErr)
						}
						if len(r.Changes()) != 1 {
							t.Fatalf("share recorded %d events", len(r.Changes()))
						}
						return
					}
					assertFileTypeError(t, checkErr, ext, allowed)
					assertFileTypeError(t, shareErr, ext, allowed)
					if len(r.Changes()) != 0 {
						t.Fatal("a refused file was recorded")
					}
				})
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// R11: screen sharing only for Windows and Mac customers.
func TestScreenSharingByPlatform(t *testing.T) {
	tests := []struct {
		platform request.Platform
		want     outcome
	}{
		{request.Windows, records(screenSharingRequested(meID))},
		{request.Mac, records(screenSharingRequested(meID))},
		{request.IOS, fails(request.ErrScreenSharingUnsupported)},
		{request.Android, fails(request.ErrScreenSharingUnsupported)},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			r := load(t, stInChat, tt.platform)
			check(t, r, r.RequestScreenSharing(me.tech(t)), tt.want)
		})
	}
}

// R11: request, then the customer answers; after an answer the technician may ask again.
func TestScreenSharingConversation(t *testing.T) {
	tests := []struct {
		name   string
		answer func(r *request.Request) error
		event  eventlog.Event
		state  request.ScreenSharing
	}{
		{"accept", (*request.Request).AcceptScreenSharing, &request.ScreenSharingAccepted{}, request.ScreenSharingOn},
		{"decline", (*request.Request).DeclineScreenSharing, &request.ScreenSharingDeclined{}, request.ScreenSharingRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, stInChat, request.Mac)
			tech := me.tech(t)
			if err := r.RequestScreenSharing(tech); err != nil {
				t.Fatal(err)
			}
			if r.ScreenSharing() != request.ScreenSharingPending {
				t.Fatalf("after request: %q", r.ScreenSharing())
			}
			if err := r.RequestScreenSharing(tech); !errors.Is(err, request.ErrScreenSharingPending) {
				t.Fatalf("second request while pending: %v", err)
			}
			if err := tt.answer(r); err != nil {
				t.Fatal(err)
			}
			if r.ScreenSharing() != tt.state {
				t.Fatalf("after answer: %q, want %q", r.ScreenSharing(), tt.state)
			}
			if err := r.AcceptScreenSharing(); !errors.Is(err, request.ErrNoScreenSharingRequest) {
				t.Fatalf("second answer: %v", err)
			}
			if err := r.DeclineScreenSharing(); !errors.Is(err, request.ErrNoScreenSharingRequest) {
				t.Fatalf("second answer: %v", err)
			}
			if err := r.RequestScreenSharing(tech); err != nil {
				t.Fatalf("asking again after an answer: %v", err)
			}
			if err := r.EndChat(tech); err != nil {
				t.Fatal(err)
			}
			if err := r.AcceptScreenSharing(); !errors.Is(err, request.ErrNoScreenSharingRequest) {
				t.Fatalf("answer after chat ended: %v", err)
			}
			check(t, r, nil, records(screenSharingRequested(meID), tt.event, screenSharingRequested(meID), ended(meID)))
		})
	}
}

// R12: mobile profiles only for iOS and Android customers; the profile name is validated.
func TestSendMobileProfile(t *testing.T) {
	tests := []struct {
		name     string
		platform request.Platform
		profile  string
		want     outcome
	}{
		{"iOS", request.IOS, "Corporate Wi-Fi", records(profileSent(meID))},
		{"Android", request.Android, "Corporate Wi-Fi", records(profileSent(meID))},
		{"trimmed", request.IOS, "\t Corporate Wi-Fi \n", records(profileSent(meID))},
		{"200 characters", request.Android, strings.Repeat("p", 200), records(&request.MobileProfileSent{TechnicianID: meID, Profile: strings.Repeat("p", 200)})},
		{"Windows", request.Windows, "Corporate Wi-Fi", fails(request.ErrMobileProfilesUnsupported)},
		{"Mac", request.Mac, "Corporate Wi-Fi", fails(request.ErrMobileProfilesUnsupported)},
		{"empty", request.IOS, "", fails(request.ErrInvalidProfile)},
		{"blank", request.Android, "   ", fails(request.ErrInvalidProfile)},
		{"201 characters", request.IOS, strings.Repeat("p", 201), fails(request.ErrInvalidProfile)},
		{"not UTF-8", request.IOS, "\xff", fails(request.ErrInvalidProfile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, stInChat, tt.platform)
			check(t, r, r.SendMobileProfile(me.tech(t), tt.profile), tt.want)
		})
	}
}

// R13: Close while in chat ends the chat first; the request is then Completed.
func TestCloseEndsChatFirst(t *testing.T) {
	tests := []struct {
		state state
		want  []eventlog.Event
	}{
		{stAssigned, []eventlog.Event{closed(meID)}},
		{stInChat, []eventlog.Event{ended(meID), closed(meID)}},
		{stSSPending, []eventlog.Event{ended(meID), closed(meID)}},
		{stChatEnded, []eventlog.Event{closed(meID)}},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			r := load(t, tt.state, win)
			check(t, r, r.Close(me.tech(t)), records(tt.want...))
			if r.Status() != request.StatusCompleted || !r.IsClosed() {
				t.Fatalf("after Close: status %q closed %v", r.Status(), r.IsClosed())
			}
			if r.Assignee() != meID {
				t.Fatalf("after Close the assignee is %v, want kept %v", r.Assignee(), meID)
			}
			if r.Chat() == request.ChatJoinedIn {
				t.Fatal("chat still joined after Close")
			}
			if err := r.Close(me.tech(t)); !errors.Is(err, request.ErrClosed) {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// A whole life, decided command by command, replays to the same state.
func TestFullLifecycleReplays(t *testing.T) {
	r, err := request.Submit(validSubmission())
	if err != nil {
		t.Fatal(err)
	}
	tech, col := me.tech(t), colleague.tech(t)
	steps := []struct {
		name string
		do   func() error
	}{
		{"customer writes first", func() error { return r.SendCustomerMessage(uuid.New(), "anyone?") }},
		{"colleague notes", func() error { return r.AddNote(col, uuid.New(), "VIP") }},
		{"I take it", func() error { return r.Assign(tech) }},
		{"I join", func() error { return r.JoinChat(tech) }},
		{"I write", func() error { return r.SendTechnicianMessage(tech, uuid.New(), "hello") }},
		{"customer sends a log", func() error {
			return r.ShareCustomerFile(request.File{ID: uuid.New(), Name: "app.log", Size: 5, SHA256: sha})
		}},
		{"I ask for the screen", func() error { return r.RequestScreenSharing(tech) }},
		{"customer accepts", func() error { return r.AcceptScreenSharing() }},
		{"I end the chat", func() error { return r.EndChat(tech) }},
		{"I unassign", func() error { return r.Unassign(tech) }},
		{"colleague takes it", func() error { return r.Assign(col) }},
		{"colleague transfers it to me", func() error { return r.Transfer(col, tech) }},
		{"I join again", func() error { return r.JoinChat(tech) }},
		{"I close", func() error { return r.Close(tech) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if n := len(r.Changes()); n != 16 {
		t.Fatalf("recorded %d events, want 16 (submitted + 14 steps + chat ended by close)", n)
	}
	replayed, err := request.FromHistory(r.Changes())
	if err != nil {
		t.Fatal(err)
	}
	if replayed.Status() != request.StatusCompleted || replayed.Assignee() != meID || replayed.Chat() != request.ChatEndedOut ||
		replayed.ScreenSharing() != request.ScreenSharingNone || replayed.ID() != requestID {
		t.Fatalf("replayed: status %q assignee %v chat %q screen %q", replayed.Status(), replayed.Assignee(), replayed.Chat(), replayed.ScreenSharing())
	}
}

// The system gives a request back on its assignee's behalf (reassignment): only the assignee it
// names, only while open and assigned, and always with a reason.
func TestGiveBack(t *testing.T) {
	const reason = "away_limit: Me was Away 10m0s with 1 unanswered request"
	tests := []struct {
		state    state
		assignee uuid.UUID
		reason   string
		want     outcome
	}{
		{stAssigned, meID, reason, records(&request.Unassigned{TechnicianID: meID, Reason: reason})},
		{stInChat, meID, "  " + reason + " ", records(&request.Unassigned{TechnicianID: meID, Reason: reason})},
		{stTransferred, meID, reason, records(&request.Unassigned{TechnicianID: meID, Reason: reason})},
		{stColleague, meID, reason, fails(request.ErrNotAssignee)},
		{stNew, meID, reason, fails(request.ErrNotAssigned)},
		{stUnassignedAgn, meID, reason, fails(request.ErrNotAssigned)},
		{stClosed, meID, reason, fails(request.ErrClosed)},
		{stAssigned, meID, "", fails(request.ErrInvalidReason)},
		{stAssigned, meID, strings.Repeat("x", request.MaxReasonLength+1), fails(request.ErrInvalidReason)},
		{stAssigned, meID, "two\nlines", fails(request.ErrInvalidReason)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%.20q", tt.state, tt.reason), func(t *testing.T) {
			r := load(t, tt.state, win)
			check(t, r, r.GiveBack(tt.assignee, tt.reason), tt.want)
			if tt.want.err == nil && (r.Status() != request.StatusNew || r.IsAssigned()) {
				t.Fatalf("after GiveBack: status %s", r.Status())
			}
		})
	}
}

// An automatic assignment holds only while the request has not been assigned since the
// decision: a request taken and given back meanwhile refuses it as stale.
func TestAutoAssign(t *testing.T) {
	tests := []struct {
		state state
		seen  int
		who   actor
		want  outcome
	}{
		{stNew, 0, me, records(&request.Assigned{TechnicianID: meID})},
		{stNew, 1, me, fails(request.ErrStaleDecision)},
		{stUnassignedAgn, 0, me, fails(request.ErrStaleDecision)},
		{stUnassignedAgn, 1, me, records(&request.Assigned{TechnicianID: meID})},
		{stUnassignedAgn, 1, meBusy, fails(request.ErrNotAvailable)},
		{stColleague, 0, me, fails(request.ErrAlreadyAssigned)},
		{stUnassignedAgn, 0, outsider, fails(request.ErrNoAccess)},
		{stColleague, 1, me, fails(request.ErrAlreadyAssigned)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/seen %d/%s", tt.state, tt.seen, tt.who), func(t *testing.T) {
			r := load(t, tt.state, win)
			before := r.State().Assignments
			check(t, r, r.AutoAssign(tt.who.tech(t), tt.seen), tt.want)
			if tt.want.err == nil && r.State().Assignments != before+1 {
				t.Fatalf("assignments %d after an assignment, want %d", r.State().Assignments, before+1)
			}
		})
	}
}
