package request_test

import (
	"errors"
	"testing"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
)

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
