package request_test

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Admit agrees with the commands: in every state, on every platform, the event a command of
// mine (Available, with access) or of the customer would record is admitted exactly when the
// command succeeds.
func TestAdmitAgreesWithCommands(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	cases := []struct {
		name    string
		command func(r *request.Request, me *directory.Technician) error
		event   eventlog.Event
	}{
		{"assign", func(r *request.Request, me *directory.Technician) error { return r.Assign(me) }, assigned(meID)},
		{"unassign", func(r *request.Request, me *directory.Technician) error { return r.Unassign(me) }, unassigned(meID)},
		{"transfer", func(r *request.Request, me *directory.Technician) error { return r.Transfer(me, peer) }, transferred(meID)},
		{"join", func(r *request.Request, me *directory.Technician) error { return r.JoinChat(me) }, joined(meID)},
		{"technician message", func(r *request.Request, me *directory.Technician) error {
			return r.SendTechnicianMessage(me, messageID, "Hello, I am here to help.")
		}, techMessage(meID)},
		{"note", func(r *request.Request, me *directory.Technician) error {
			return r.AddNote(me, noteID, "Customer sounds upset.")
		}, note(meID)},
		{"technician file", func(r *request.Request, me *directory.Technician) error { return r.ShareTechnicianFile(me, pdf) }, techFile(meID)},
		{"screen sharing", func(r *request.Request, me *directory.Technician) error { return r.RequestScreenSharing(me) }, screenSharingRequested(meID)},
		{"mobile profile", func(r *request.Request, me *directory.Technician) error {
			return r.SendMobileProfile(me, "Corporate Wi-Fi")
		}, profileSent(meID)},
		{"end chat", func(r *request.Request, me *directory.Technician) error { return r.EndChat(me) }, ended(meID)},
		{"end session", func(r *request.Request, me *directory.Technician) error { return r.EndScreenSharingSession(me) },
			sessionEnded(meID, request.SessionEndedByTechnician)},
		{"close", func(r *request.Request, me *directory.Technician) error { return r.Close(me) }, closed(meID)},
		{"customer message", func(r *request.Request, _ *directory.Technician) error {
			return r.SendCustomerMessage(messageID, "Thanks!")
		}, customerMessage()},
		{"customer file", func(r *request.Request, _ *directory.Technician) error { return r.ShareCustomerFile(png) }, customerFile()},
		{"accept screen sharing", func(r *request.Request, _ *directory.Technician) error { return r.AcceptScreenSharing() }, &request.ScreenSharingAccepted{}},
		{"decline screen sharing", func(r *request.Request, _ *directory.Technician) error { return r.DeclineScreenSharing() }, &request.ScreenSharingDeclined{}},
	}
	admitted, refused := 0, 0
	for _, s := range states {
		for _, p := range request.Platforms {
			for _, c := range cases {
				commandErr := c.command(load(t, s, p), me.tech(t))
				r := load(t, s, p)
				before := r.State()
				admitErr := r.Admit(c.event)
				if (commandErr == nil) != (admitErr == nil) {
					t.Errorf("%s, %s, %s: the command answers %v, Admit %v", s, p, c.name, commandErr, admitErr)
					continue
				}
				if admitErr != nil {
					refused++
					if !errors.Is(admitErr, request.ErrImpossibleEvent) || !strings.HasSuffix(admitErr.Error(), commandErr.Error()) {
						t.Errorf("%s, %s, %s: Admit = %v, want ErrImpossibleEvent with the command's %v", s, p, c.name, admitErr, commandErr)
					}
					if r.State() != before {
						t.Errorf("%s, %s, %s: a refused event changed the state", s, p, c.name)
					}
					continue
				}
				admitted++
				folded, err := request.FromHistory(append(history(s, p), c.event))
				if err != nil {
					t.Fatal(err)
				}
				if r.State() != folded.State() {
					t.Errorf("%s, %s, %s: Admit left %+v, the fold %+v", s, p, c.name, r.State(), folded.State())
				}
			}
		}
	}
	if admitted < 50 || refused < 50 {
		t.Fatalf("only %d events admitted and %d refused: the matrix checked too little", admitted, refused)
	}
}

// Every event of any life the commands make is admitted, one after the other from nothing, and
// leaves the state the fold leaves.
func TestAdmitEveryHistoryCommandsWrite(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	techs := []*directory.Technician{peer}
	for _, a := range actors {
		techs = append(techs, a.tech(t))
	}
	commands := []func(r *request.Request, t *directory.Technician) error{
		func(r *request.Request, t *directory.Technician) error { return r.Assign(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Unassign(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) },
		func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) },
		func(r *request.Request, t *directory.Technician) error {
			return r.SendTechnicianMessage(t, messageID, "hi")
		},
		func(r *request.Request, t *directory.Technician) error { return r.AddNote(t, noteID, "n") },
		func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) },
		func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) },
		func(r *request.Request, t *directory.Technician) error { return r.SendMobileProfile(t, "profile") },
		func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) },
		func(r *request.Request, t *directory.Technician) error { return r.Close(t) },
		func(r *request.Request, _ *directory.Technician) error { return r.SendCustomerMessage(messageID, "hi") },
		func(r *request.Request, _ *directory.Technician) error { return r.ShareCustomerFile(png) },
		func(r *request.Request, _ *directory.Technician) error { return r.AcceptScreenSharing() },
		func(r *request.Request, _ *directory.Technician) error { return r.DeclineScreenSharing() },
		func(r *request.Request, _ *directory.Technician) error {
			return r.AcceptScreenSharingSession(request.ScreenSession{ID: uuid.New(), Link: sessionLink})
		},
		func(r *request.Request, t *directory.Technician) error { return r.EndScreenSharingSession(t) },
	}
	events := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 11))
		p := request.Platforms[rng.IntN(len(request.Platforms))]
		r, err := request.Submit(request.Submission{RequestID: requestID, CompanyID: companyID, PortalID: portalID,
			Customer: request.Customer{Name: "Ann", Email: "ann@example.com"}, Description: "Help", Source: request.Source{Platform: p}})
		if err != nil {
			t.Fatal(err)
		}
		for range 200 {
			_ = commands[rng.IntN(len(commands))](r, techs[rng.IntN(len(techs))])
		}
		var replayed, slim request.Request
		for i, e := range r.Changes() {
			if err := replayed.Admit(e); err != nil {
				t.Fatalf("seed %d: event %d (%s) written by a command: %v", seed, i, e.EventType(), err)
			}
			// A slim request admits the same, and offers the same actions.
			if err := slim.Admit(e); err != nil {
				t.Fatalf("seed %d: event %d (%s), slim: %v", seed, i, e.EventType(), err)
			}
			slim.Slim()
			for _, tech := range techs {
				if !reflect.DeepEqual(slim.TechnicianActions(tech), replayed.TechnicianActions(tech)) ||
					!reflect.DeepEqual(slim.CustomerActions(), replayed.CustomerActions()) || slim.Status() != replayed.Status() {
					t.Fatalf("seed %d: event %d: a slim request offers other actions", seed, i)
				}
			}
			events++
		}
		if slim.Customer() != (request.Customer{}) || slim.Description() != "" || slim.Platform() != replayed.Platform() {
			t.Fatalf("seed %d: slim request %+v", seed, slim.State())
		}
		folded, err := request.FromHistory(r.Changes())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(replayed.State(), folded.State()) {
			t.Fatalf("seed %d: Admit left %+v, the fold %+v", seed, replayed.State(), folded.State())
		}
	}
	if events < 2000 {
		t.Fatalf("only %d events admitted", events)
	}
}

func TestAdmitRefusesWhatNoCommandWrites(t *testing.T) {
	tests := []struct {
		name    string
		history []eventlog.Event
		event   eventlog.Event
	}{
		{"anything before the submission", nil, assigned(meID)},
		{"a second submission", []eventlog.Event{submitted(request.Windows)}, submitted(request.Windows)},
		{"an invalid submission", nil, &request.Submitted{RequestID: requestID, CompanyID: companyID, PortalID: portalID}},
		{"assigned twice", history(stAssigned, request.Windows), assigned(colleagueID)},
		{"anything after the close", history(stClosed, request.Windows), note(meID)},
		{"a message from nobody's side", history(stInChat, request.Windows), &request.MessageSent{MessageID: messageID, From: "bystander", Body: "hi"}},
		{"a file from nobody's side", history(stInChat, request.Windows), &request.FileShared{FileID: fileID, From: "", Name: "a.pdf", Size: 1, SHA256: sha}},
		{"an empty message", history(stInChat, request.Windows), &request.MessageSent{MessageID: messageID, From: request.CustomerSide, Body: "  "}},
		{"an iOS customer's PDF", history(stInChat, request.IOS), &request.FileShared{FileID: fileID, From: request.CustomerSide, Name: "a.pdf", Size: 1, SHA256: sha}},
		{"screen sharing on Android", history(stInChat, request.Android), screenSharingRequested(meID)},
		{"a transfer to oneself", history(stAssigned, request.Windows), &request.Transferred{From: meID, To: meID}},
		{"a session nobody accepted", history(stSSPending, request.Windows), sessionStarted()},
		{"a session after an old acceptance was declined", history(stSSDeclined, request.Windows), sessionStarted()},
		{"a session with a javascript link", history(stSSAccepted, request.Windows), &request.ScreenSharingSessionStarted{SessionID: sessionID, Link: "javascript:alert(1)"}},
		{"the end of no session", history(stSSAccepted, request.Windows), sessionEnded(meID, request.SessionEndedByTechnician)},
		{"the end of another session", append(history(stSSAccepted, request.Windows), sessionStarted()),
			&request.ScreenSharingSessionEnded{SessionID: uuid.New(), TechnicianID: meID, Reason: request.SessionEndedByTechnician}},
		{"a session ended for no known reason", append(history(stSSAccepted, request.Windows), sessionStarted()), sessionEnded(meID, "bored")},
		{"a session ended by a colleague", append(history(stSSAccepted, request.Windows), sessionStarted()), sessionEnded(colleagueID, request.SessionEndedByTechnician)},
		{"the chat's end while a session runs", append(history(stSSAccepted, request.Windows), sessionStarted()), ended(meID)},
		{"giving back while a session runs", append(history(stSSAccepted, request.Windows), sessionStarted()), unassigned(meID)},
		{"a directory event", history(stNew, request.Windows), &directory.CompanyCreated{CompanyID: companyID, Name: "Acme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r request.Request
			for _, e := range tt.history {
				if err := r.Admit(e); err != nil {
					t.Fatalf("history event %s: %v", e.EventType(), err)
				}
			}
			before := r.State()
			err := r.Admit(tt.event)
			if !errors.Is(err, request.ErrImpossibleEvent) {
				t.Fatalf("Admit = %v, want ErrImpossibleEvent", err)
			}
			if r.State() != before {
				t.Fatal("a refused event changed the state")
			}
		})
	}
}
