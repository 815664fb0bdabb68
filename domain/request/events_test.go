package request_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Every request event with its stable, versioned name and its exact JSON payload. Stored events
// are read back for ever: a change here is a new event version with an upcaster, never an edit.
func TestEventWireFormat(t *testing.T) {
	tests := []struct {
		event    eventlog.Event
		typeName string
		json     string
	}{
		{submitted(request.IOS), "request.submitted.v1",
			`{"request_id":"00000000-0000-0000-0000-0000000000a1","company_id":"00000000-0000-0000-0000-0000000000c1","portal_id":"00000000-0000-0000-0000-0000000000b1","customer":{"name":"Ann Customer","email":"ann@example.com"},"description":"My printer is on fire","source":{"ip":"192.0.2.1","device_type":"ios","os":"Some OS","os_version":"1.0","browser":"Some Browser"}}`},
		{assigned(meID), "request.assigned.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{unassigned(meID), "request.unassigned.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{&request.Transferred{From: meID, To: peerID}, "request.transferred.v1",
			`{"from_technician_id":"00000000-0000-0000-0000-000000000001","to_technician_id":"00000000-0000-0000-0000-000000000005"}`},
		{joined(meID), "request.chat_joined.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{techMessage(meID), "request.message_sent.v1",
			`{"message_id":"00000000-0000-0000-0000-0000000000d1","from":"technician","technician_id":"00000000-0000-0000-0000-000000000001","body":"Hello, I am here to help."}`},
		{customerMessage(), "request.message_sent.v1",
			`{"message_id":"00000000-0000-0000-0000-0000000000d1","from":"customer","technician_id":"00000000-0000-0000-0000-000000000000","body":"Thanks!"}`},
		{note(meID), "request.note_added.v1",
			`{"note_id":"00000000-0000-0000-0000-0000000000d2","technician_id":"00000000-0000-0000-0000-000000000001","body":"Customer sounds upset."}`},
		{techFile(meID), "request.file_shared.v1",
			`{"file_id":"00000000-0000-0000-0000-0000000000d3","from":"technician","technician_id":"00000000-0000-0000-0000-000000000001","name":"report.pdf","size":1234,"content_type":"application/pdf","sha256":"` + sha + `"}`},
		{screenSharingRequested(meID), "request.screen_sharing_requested.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{&request.ScreenSharingAccepted{}, "request.screen_sharing_accepted.v1", `{}`},
		{&request.ScreenSharingDeclined{}, "request.screen_sharing_declined.v1", `{}`},
		{profileSent(meID), "request.mobile_profile_sent.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001","profile":"Corporate Wi-Fi"}`},
		{ended(meID), "request.chat_ended.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{closed(meID), "request.closed.v1", `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
	}
	codec := request.Codec()
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.typeName+"/"+tt.json[:min(len(tt.json), 40)], func(t *testing.T) {
			seen[tt.typeName] = true
			if got := tt.event.EventType(); got != tt.typeName {
				t.Fatalf("EventType = %q, want %q", got, tt.typeName)
			}
			typ, data, err := codec.Encode(tt.event)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if typ != tt.typeName || string(data) != tt.json {
				t.Fatalf("Encode = %s %s\nwant      %s %s", typ, data, tt.typeName, tt.json)
			}
			if !codec.Knows(typ) {
				t.Fatalf("codec does not know %s", typ)
			}
			back, err := codec.Decode(typ, data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(back, tt.event) {
				t.Fatalf("Decode = %#v, want %#v", back, tt.event)
			}
		})
	}
	if len(seen) != 14 {
		t.Fatalf("table covers %d event types, want all 14 request events", len(seen))
	}
}

func TestCodecRefusesUnknownTypes(t *testing.T) {
	codec := request.Codec()
	for _, typ := range []string{"", "request.submitted", "request.submitted.v2", "company.created.v1", "technician.registered.v1", "request.deleted.v1"} {
		t.Run(typ, func(t *testing.T) {
			if codec.Knows(typ) {
				t.Fatalf("Knows(%q) = true", typ)
			}
			if _, err := codec.Decode(typ, json.RawMessage(`{}`)); !errors.Is(err, eventlog.ErrUnknownEventType) {
				t.Fatalf("Decode(%q) error = %v, want ErrUnknownEventType", typ, err)
			}
		})
	}
}
