package request_test

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

var sessionID = uuid.MustParse("00000000-0000-0000-0000-0000000000e1")

const sessionLink = "https://meet.example/00000000-0000-0000-0000-0000000000a1"

func sessionStarted() *request.ScreenSharingSessionStarted {
	return &request.ScreenSharingSessionStarted{SessionID: sessionID, Link: sessionLink}
}

func sessionEnded(by uuid.UUID, reason string) *request.ScreenSharingSessionEnded {
	return &request.ScreenSharingSessionEnded{SessionID: sessionID, TechnicianID: by, Reason: reason}
}

// inSession is a Windows request whose customer accepted screen sharing, with a session
// running, plus more events.
func inSession(t *testing.T, more ...eventlog.Event) *request.Request {
	t.Helper()
	h := append(history(stSSPending, request.Windows), &request.ScreenSharingAccepted{}, sessionStarted())
	r, err := request.FromHistory(append(h, more...))
	if err != nil {
		t.Fatalf("FromHistory: %v", err)
	}
	return r
}

func fromState(t *testing.T, s state) func(*testing.T) *request.Request {
	return func(t *testing.T) *request.Request { return load(t, s, request.Windows) }
}

func TestAcceptScreenSharingSession(t *testing.T) {
	good := request.ScreenSession{ID: sessionID, Link: sessionLink}
	tests := []struct {
		name    string
		load    func(*testing.T) *request.Request
		session request.ScreenSession
		want    outcome
	}{
		{"pending request starts a session", fromState(t, stSSPending), good, records(&request.ScreenSharingAccepted{}, sessionStarted())},
		{"nothing pending", fromState(t, stInChat), good, fails(request.ErrNoScreenSharingRequest)},
		{"already declined", fromState(t, stSSDeclined), good, fails(request.ErrNoScreenSharingRequest)},
		{"closed", fromState(t, stClosed), good, fails(request.ErrClosed)},
		{"session already running", func(t *testing.T) *request.Request { return inSession(t) }, good, fails(request.ErrNoScreenSharingRequest)},
		{"no session ID", fromState(t, stSSPending), request.ScreenSession{Link: sessionLink}, fails(request.ErrInvalidScreenSession)},
		{"not an http link", fromState(t, stSSPending), request.ScreenSession{ID: sessionID, Link: "javascript:alert(1)"}, fails(request.ErrInvalidScreenSession)},
		{"link with a newline", fromState(t, stSSPending), request.ScreenSession{ID: sessionID, Link: "https://a.example/\nx"}, fails(request.ErrInvalidScreenSession)},
		{"link too long", fromState(t, stSSPending), request.ScreenSession{ID: sessionID, Link: "https://a.example/" + longText(2000)}, fails(request.ErrInvalidScreenSession)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.load(t)
			check(t, r, r.AcceptScreenSharingSession(tt.session), tt.want)
		})
	}
}

func longText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestScreenSharingSessionCommands(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	tests := []struct {
		name  string
		load  func(*testing.T) *request.Request
		actor actor
		run   func(*request.Request, *directory.Technician) error
		want  outcome
	}{
		{"assignee ends the session", func(t *testing.T) *request.Request { return inSession(t) }, me,
			(*request.Request).EndScreenSharingSession, records(sessionEnded(meID, request.SessionEndedByTechnician))},
		{"colleague cannot end it", func(t *testing.T) *request.Request { return inSession(t) }, colleague,
			(*request.Request).EndScreenSharingSession, fails(request.ErrNotAssignee)},
		{"outsider does not see it", func(t *testing.T) *request.Request { return inSession(t) }, outsider,
			(*request.Request).EndScreenSharingSession, fails(request.ErrNoAccess)},
		{"no session to end", fromState(t, stSSAccepted), me,
			(*request.Request).EndScreenSharingSession, fails(request.ErrNoScreenSharingSession)},
		{"nothing after the end", func(t *testing.T) *request.Request {
			return inSession(t, sessionEnded(meID, request.SessionEndedByTechnician))
		}, me, (*request.Request).EndScreenSharingSession, fails(request.ErrNoScreenSharingSession)},
		{"not requested again while running", func(t *testing.T) *request.Request { return inSession(t) }, me,
			(*request.Request).RequestScreenSharing, fails(request.ErrScreenSharingSessionRunning)},
		{"requested again once ended", func(t *testing.T) *request.Request {
			return inSession(t, sessionEnded(meID, request.SessionEndedByTechnician))
		}, me, (*request.Request).RequestScreenSharing, records(screenSharingRequested(meID))},
		{"ending the chat ends the session first", func(t *testing.T) *request.Request { return inSession(t) }, me,
			(*request.Request).EndChat, records(sessionEnded(meID, request.SessionEndedWithChat), ended(meID))},
		{"closing ends the session and the chat", func(t *testing.T) *request.Request { return inSession(t) }, me,
			(*request.Request).Close, records(sessionEnded(meID, request.SessionEndedWithChat), ended(meID), closed(meID))},
		{"giving the request back ends the session", func(t *testing.T) *request.Request { return inSession(t) }, me,
			(*request.Request).Unassign, records(sessionEnded(meID, request.SessionEndedUnassigned), unassigned(meID))},
		{"transferring ends the session", func(t *testing.T) *request.Request { return inSession(t) }, me,
			func(r *request.Request, t *directory.Technician) error {
				return r.Transfer(t, peer)
			}, records(sessionEnded(meID, request.SessionEndedTransferred), &request.Transferred{From: meID, To: peerID})},
		{"ending the chat without a session records only that", fromState(t, stSSAccepted), me,
			(*request.Request).EndChat, records(ended(meID))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.load(t)
			check(t, r, tt.run(r, tt.actor.tech(t)), tt.want)
		})
	}
}

func TestScreenSharingSessionStateAndActions(t *testing.T) {
	tests := []struct {
		name        string
		r           func(*testing.T) *request.Request
		state       request.ScreenSharing
		running     bool
		offered     []request.Action
		notOffered  []request.Action
		customerAns bool
	}{
		{"pending", fromState(t, stSSPending), request.ScreenSharingPending, false,
			nil, []request.Action{request.ActionRequestScreenSharing, request.ActionEndScreenSharingSession}, true},
		{"running", func(t *testing.T) *request.Request { return inSession(t) }, request.ScreenSharingInSession, true,
			[]request.Action{request.ActionEndScreenSharingSession}, []request.Action{request.ActionRequestScreenSharing}, false},
		{"ended by the technician", func(t *testing.T) *request.Request {
			return inSession(t, sessionEnded(meID, request.SessionEndedByTechnician))
		}, request.ScreenSharingNone, false,
			[]request.Action{request.ActionRequestScreenSharing}, []request.Action{request.ActionEndScreenSharingSession}, false},
		{"ended with the chat", func(t *testing.T) *request.Request {
			return inSession(t, sessionEnded(meID, request.SessionEndedWithChat), ended(meID))
		}, request.ScreenSharingNone, false,
			nil, []request.Action{request.ActionRequestScreenSharing, request.ActionEndScreenSharingSession}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.r(t)
			if r.ScreenSharing() != tt.state {
				t.Fatalf("ScreenSharing = %q, want %q", r.ScreenSharing(), tt.state)
			}
			s, running := r.Session()
			if running != tt.running {
				t.Fatalf("Session running = %v, want %v", running, tt.running)
			}
			if running && (s.ID != sessionID || s.Link != sessionLink) {
				t.Fatalf("Session = %+v", s)
			}
			if !running && s != (request.ScreenSession{}) {
				t.Fatalf("Session after the end = %+v, want zero", s)
			}
			actions := r.TechnicianActions(me.tech(t))
			for _, a := range tt.offered {
				if !slices.Contains(actions, a) {
					t.Errorf("actions %v lack %s", actions, a)
				}
			}
			for _, a := range tt.notOffered {
				if slices.Contains(actions, a) {
					t.Errorf("actions %v offer %s", actions, a)
				}
			}
			if got := slices.Contains(r.CustomerActions(), request.ActionAcceptScreenSharing); got != tt.customerAns {
				t.Errorf("customer may answer = %v, want %v", got, tt.customerAns)
			}
			if got := request.Restore(r.State()); got.ScreenSharing() != tt.state {
				t.Errorf("Restore lost the session state")
			}
		})
	}
}

func profileFileSent(id uuid.UUID) *request.MobileProfileFileSent {
	return &request.MobileProfileFileSent{TechnicianID: id, Template: "Corporate Wi-Fi", Platform: request.IOS, Version: 3}
}
