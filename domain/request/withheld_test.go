package request_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// An audit folds the log as stored, with personal fields sealed ("enc:v1:…", longer than the
// text they hide, with no file extension), and readers fold them erased ("[erased]"): Admit
// accepts both where it checks what a person typed, and still checks everything else.
func TestAdmitWithheldFields(t *testing.T) {
	tech := uuid.New()
	sealed := "enc:v1:" + uuid.NewString() + ":" + strings.Repeat("A", 2*request.MaxMessageLength)
	r := new(request.Request)
	for _, e := range []eventlog.Event{
		&request.Submitted{RequestID: uuid.New(), CompanyID: uuid.New(), PortalID: uuid.New(), Description: "Printer",
			Customer: request.Customer{Name: sealed, Email: sealed}, Source: request.Source{IP: sealed, Platform: request.IOS}},
		&request.Assigned{TechnicianID: tech},
		&request.ChatJoined{TechnicianID: tech},
		&request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: sealed},
		&request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech, Body: "[erased]"},
		&request.NoteAdded{NoteID: uuid.New(), TechnicianID: tech, Body: sealed},
		&request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: sealed, Size: 3, ContentType: "application/pdf", SHA256: strings.Repeat("a", 64)},
		&request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: "[erased]", Size: 3, ContentType: "application/pdf", SHA256: strings.Repeat("a", 64)},
	} {
		if err := r.Admit(e); err != nil {
			t.Fatalf("%s: %v", e.EventType(), err)
		}
	}
	for name, e := range map[string]eventlog.Event{
		"a withheld file without its size":   &request.FileShared{FileID: uuid.New(), From: request.CustomerSide, Name: sealed, SHA256: strings.Repeat("a", 64)},
		"a withheld message from a stranger": &request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: uuid.New(), Body: sealed},
		"a plain message too long":           &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: strings.Repeat("x", request.MaxMessageLength+1)},
	} {
		if err := r.Admit(e); err == nil {
			t.Errorf("%s was admitted", name)
		}
	}
}
