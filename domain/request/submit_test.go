package request_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
)

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
			name: "already clean",
			in:   validSubmission(),
			want: request.Submitted{
				RequestID: requestID, CompanyID: companyID, PortalID: portalID,
				Customer:    request.Customer{Name: "Ann Customer", Email: "ann@example.com"},
				Description: "My printer is on fire",
				Source:      request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge 120"},
			},
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
