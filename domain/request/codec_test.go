package request_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
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
		{Event: &request.Unassigned{TechnicianID: meID, Reason: "away_limit: Me was Away 10m0s with 2 unanswered requests"}, Type: "request.unassigned.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","reason":"away_limit: Me was Away 10m0s with 2 unanswered requests"}`},
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
		{Event: sessionStarted(), Type: "request.screen_sharing_session_started.v1",
			JSON: `{"session_id":"00000000-0000-0000-0000-0000000000e1","link":"https://meet.example/00000000-0000-0000-0000-0000000000a1"}`},
		{Event: sessionEnded(meID, request.SessionEndedByTechnician), Type: "request.screen_sharing_session_ended.v1",
			JSON: `{"session_id":"00000000-0000-0000-0000-0000000000e1","technician_id":"00000000-0000-0000-0000-000000000001","reason":"ended"}`},
		{Event: profileFileSent(meID), Type: "request.mobile_profile_file_sent.v1",
			JSON: `{"technician_id":"00000000-0000-0000-0000-000000000001","template":"Corporate Wi-Fi","platform":"ios","template_version":3}`},
	}
	tests = append(tests, codectest.Wire{Event: breached("first_reply"), Type: "request.sla_breached.v1",
		JSON: `{"target":"first_reply","due_at":"2026-01-05T10:15:00Z","target_seconds":900}`})
	codectest.CheckWireFormat(t, request.Codec(), tests, 18)
}

func TestCodecRefusesUnknownTypes(t *testing.T) {
	codectest.CheckRefuses(t, request.Codec(), []string{"", "request.submitted", "request.submitted.v2", "company.created.v1", "technician.registered.v1", "request.deleted.v1"})
}

// FuzzDecodeAndFold reads any payload bytes as any event type with the request codec (and
// whatever upcasters it registers), as a reader of the log does: the codec answers an event or
// an error, never panics, and writes back what it decoded unchanged. An event it decodes is
// then folded into a request in one of its usual states, as loading a stream does, and the
// request's rules are asked about it: an event already in the log must never crash a command
// or a read model that loads its stream.
func FuzzDecodeAndFold(f *testing.F) {
	samples := []eventlog.Event{
		submitted(request.IOS), assigned(meID), unassigned(meID), &request.Transferred{From: meID, To: peerID},
		joined(meID), techMessage(meID), customerMessage(), note(meID), techFile(meID), customerFile(),
		screenSharingRequested(meID), &request.ScreenSharingAccepted{}, &request.ScreenSharingDeclined{},
		profileSent(meID), ended(meID), closed(meID), sessionStarted(), sessionEnded(meID, request.SessionEndedWithChat), profileFileSent(meID),
		breached("assign"),
	}
	for i, e := range samples {
		data, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(e.EventType(), data, uint8(i))
	}
	f.Add("request.submitted.v1", []byte(`{"source":{"device_type":"windows\u0000"},"customer":{"name":"\ud800"}}`), uint8(3))
	f.Add("request.submitted.v1", []byte(`{}`), uint8(0))
	f.Add("request.transferred.v1", []byte(`{"from_technician_id":"00000000-0000-0000-0000-000000000000"}`), uint8(7))
	f.Add("request.file_shared.v1", []byte(`{"size":-1,"from":"nobody"}`), uint8(4))
	f.Add("request.message_sent.v1", []byte(`{"from":"customer","body":null}`), uint8(255))
	f.Add("request.sla_breached.v1", []byte(`{"target":"nothing","due_at":"0001-01-01T00:00:00Z","target_seconds":-1}`), uint8(8))

	codec := request.Codec()
	f.Fuzz(func(t *testing.T, typ string, data []byte, at uint8) {
		e := codectest.CheckDecode(t, codec, typ, data)
		if e == nil {
			return
		}

		s := states[int(at)%len(states)]
		p := request.Platforms[int(at)/len(states)%len(request.Platforms)]
		histories := [][]eventlog.Event{append(history(s, p), e)}
		if _, ok := e.(*request.Submitted); ok {
			histories = append(histories, []eventlog.Event{e}) // a stream that starts with it
		}
		for _, h := range histories {
			r, err := request.FromHistory(h)
			if err != nil {
				t.Fatalf("FromHistory(%s on %s, then %s %s): %v", s, p, typ, data, err)
			}
			ask(t, r)
		}
	})
}

// ask calls every question the app and the read models ask a loaded request, and checks that
// Restore of its State is the same request.
func ask(t *testing.T, r *request.Request) {
	t.Helper()
	_ = r.Status()
	_ = r.CustomerActions()
	for _, a := range actors {
		tech := a.tech(t)
		_ = r.TechnicianActions(tech)
		_ = r.VisibleTo(tech)
		_ = request.ListingFor(tech, uuid.Nil).Lists(r)
	}
	_ = r.Platform().SupportsScreenSharing()
	_ = request.AllowedExtensions(request.CustomerSide, r.Platform())
	_ = request.AllowedExtensions(request.TechnicianSide, r.Platform())
	if got := request.Restore(r.State()).State(); !reflect.DeepEqual(got, r.State()) {
		t.Fatalf("Restore(State) = %#v, want %#v", got, r.State())
	}
}
