package request_test

import (
	"testing"

	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/request"
)

// Every request event with its stable, versioned name and its exact JSON payload.
func TestEventWireFormat(t *testing.T) {
	tests := []codectest.Wire{
		{Event: submitted(request.IOS), Type: "request.submitted.v1",
			JSON: `{"request_id":"00000000-0000-0000-0000-0000000000a1","company_id":"00000000-0000-0000-0000-0000000000c1","portal_id":"00000000-0000-0000-0000-0000000000b1","customer":{"name":"Ann Customer","email":"ann@example.com"},"description":"My printer is on fire","source":{"ip":"192.0.2.1","device_type":"ios","os":"Some OS","os_version":"1.0","browser":"Some Browser"}}`},
		{Event: assigned(meID), Type: "request.assigned.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: unassigned(meID), Type: "request.unassigned.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: &request.Transferred{From: meID, To: peerID}, Type: "request.transferred.v1",
			JSON: `{"from_technician_id":"00000000-0000-0000-0000-000000000001","to_technician_id":"00000000-0000-0000-0000-000000000005"}`},
		{Event: joined(meID), Type: "request.chat_joined.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: techMessage(meID), Type: "request.message_sent.v1",
			JSON: `{"message_id":"00000000-0000-0000-0000-0000000000d1","from":"technician","technician_id":"00000000-0000-0000-0000-000000000001","body":"Hello, I am here to help."}`},
		{Event: customerMessage(), Type: "request.message_sent.v1",
			JSON: `{"message_id":"00000000-0000-0000-0000-0000000000d1","from":"customer","technician_id":"00000000-0000-0000-0000-000000000000","body":"Thanks!"}`},
		{Event: note(meID), Type: "request.note_added.v1",
			JSON: `{"note_id":"00000000-0000-0000-0000-0000000000d2","technician_id":"00000000-0000-0000-0000-000000000001","body":"Customer sounds upset."}`},
		{Event: techFile(meID), Type: "request.file_shared.v1",
			JSON: `{"file_id":"00000000-0000-0000-0000-0000000000d3","from":"technician","technician_id":"00000000-0000-0000-0000-000000000001","name":"report.pdf","size":1234,"content_type":"application/pdf","sha256":"` + sha + `"}`},
		{Event: screenSharingRequested(meID), Type: "request.screen_sharing_requested.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: &request.ScreenSharingAccepted{}, Type: "request.screen_sharing_accepted.v1", JSON: `{}`},
		{Event: &request.ScreenSharingDeclined{}, Type: "request.screen_sharing_declined.v1", JSON: `{}`},
		{Event: profileSent(meID), Type: "request.mobile_profile_sent.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","profile":"Corporate Wi-Fi"}`},
		{Event: ended(meID), Type: "request.chat_ended.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
		{Event: closed(meID), Type: "request.closed.v1", JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001"}`},
	}
	codectest.CheckWireFormat(t, request.Codec(), tests, 14)
}

func TestCodecRefusesUnknownTypes(t *testing.T) {
	codectest.CheckRefuses(t, request.Codec(), []string{"", "request.submitted", "request.submitted.v2", "company.created.v1", "technician.registered.v1", "request.deleted.v1"})
}
