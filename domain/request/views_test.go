package request_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name    string
		history []eventlog.Event
		want    request.Status
	}{
		{"submitted", history(stNew, win), request.StatusNew},
		{"assigned", history(stAssigned, win), request.StatusActive},
		{"in chat", history(stInChat, win), request.StatusActive},
		{"chat ended", history(stChatEnded, win), request.StatusActive},
		{"unassigned again", history(stUnassignedAgn, win), request.StatusNew},
		{"transferred", history(stTransferred, win), request.StatusActive},
		{"closed", history(stClosed, win), request.StatusCompleted},
		{"closed without chat", append(history(stAssigned, win), closed(meID)), request.StatusCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := request.FromHistory(tt.history)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Status(); got != tt.want {
				t.Fatalf("Status = %q, want %q", got, tt.want)
			}
		})
	}
	// The names are what the console and the projections use (R3).
	for s, want := range map[request.Status]string{request.StatusNew: "new", request.StatusActive: "active", request.StatusCompleted: "completed"} {
		if string(s) != want {
			t.Errorf("status %q, want %q", s, want)
		}
	}
}

// R2: without access a request does not exist; unassigned requests are listed only for
// Available technicians; assigned and closed ones are listed whatever the availability.
func TestVisibleToAndListing(t *testing.T) {
	revoked := func() *directory.Technician {
		tech, err := directory.TechnicianFromHistory([]eventlog.Event{
			&directory.TechnicianRegistered{TechnicianID: peerID, Name: "Rev", Email: "rev@example.com"},
			&directory.AccessGranted{TechnicianID: peerID, CompanyID: companyID},
			&directory.AvailabilityChanged{TechnicianID: peerID, Availability: directory.Available},
			&directory.AccessRevoked{TechnicianID: peerID, CompanyID: companyID},
		})
		if err != nil {
			t.Fatal(err)
		}
		return tech
	}()
	techs := []struct {
		name    string
		tech    *directory.Technician
		access  bool
		isAvail bool
	}{
		{"available with access", technician(t, meID, directory.Available, companyID), true, true},
		{"available with access to several companies", technician(t, meID, directory.Available, otherCompanyID, companyID), true, true},
		{"busy with access", technician(t, meID, directory.Busy, companyID), true, false},
		{"away with access", technician(t, meID, directory.Away, companyID), true, false},
		{"offline with access", technician(t, meID, directory.Offline, companyID), true, false},
		{"available without access", technician(t, outsiderID, directory.Available, otherCompanyID), false, true},
		{"available with no company", technician(t, outsiderID, directory.Available), false, true},
		{"offline without access", technician(t, outsiderID, directory.Offline, otherCompanyID), false, false},
		{"access revoked", revoked, false, true},
		{"nil technician", nil, false, false},
	}
	for _, s := range []state{stNew, stUnassignedAgn, stAssigned, stColleague, stInChat, stClosed} {
		for _, tt := range techs {
			t.Run(string(s)+"/"+tt.name, func(t *testing.T) {
				r := load(t, s, win)
				wantVisible := tt.access
				wantListed := tt.access && (r.Status() != request.StatusNew || tt.isAvail)
				if got := r.VisibleTo(tt.tech); got != wantVisible {
					t.Errorf("VisibleTo = %v, want %v", got, wantVisible)
				}
				if got := request.ListingFor(tt.tech, uuid.Nil).Lists(r); got != wantListed {
					t.Errorf("ListingFor(all companies).Lists = %v, want %v", got, wantListed)
				}
			})
		}
	}
}

// The same rule as a plain table, so that a reader sees the R2 matrix at a glance.
func TestListingMatrix(t *testing.T) {
	tests := []struct {
		state        state
		availability directory.Availability
		want         bool
	}{
		{stNew, directory.Available, true},
		{stNew, directory.Busy, false},
		{stNew, directory.Away, false},
		{stNew, directory.Offline, false},
		{stAssigned, directory.Available, true},
		{stAssigned, directory.Offline, true},
		{stColleague, directory.Busy, true},
		{stColleague, directory.Offline, true},
		{stClosed, directory.Available, true},
		{stClosed, directory.Away, true},
		{stClosed, directory.Offline, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.state)+"/"+string(tt.availability), func(t *testing.T) {
			r := load(t, tt.state, win)
			if got := request.ListingFor(technician(t, meID, tt.availability, companyID), uuid.Nil).Lists(r); got != tt.want {
				t.Fatalf("Lists = %v, want %v", got, tt.want)
			}
			if request.ListingFor(technician(t, outsiderID, tt.availability, otherCompanyID), uuid.Nil).Lists(r) {
				t.Fatal("listed for a technician without access")
			}
		})
	}
}

// ListingFor is the filter a list query applies (R2): the technician's companies, or the one
// asked for when the technician has access to it, and New requests only while Available.
func TestListingFor(t *testing.T) {
	tests := []struct {
		name    string
		tech    *directory.Technician
		company uuid.UUID
		want    request.Listing
	}{
		{"available, every company", technician(t, meID, directory.Available, companyID, otherCompanyID), uuid.Nil,
			request.Listing{Companies: []uuid.UUID{companyID, otherCompanyID}, IncludeNew: true}},
		{"busy, every company", technician(t, meID, directory.Busy, companyID, otherCompanyID), uuid.Nil,
			request.Listing{Companies: []uuid.UUID{companyID, otherCompanyID}}},
		{"available, one of their companies", technician(t, meID, directory.Available, companyID, otherCompanyID), otherCompanyID,
			request.Listing{Companies: []uuid.UUID{otherCompanyID}, IncludeNew: true}},
		{"offline, one of their companies", technician(t, meID, directory.Offline, companyID), companyID,
			request.Listing{Companies: []uuid.UUID{companyID}}},
		{"a company without access", technician(t, meID, directory.Available, companyID), otherCompanyID,
			request.Listing{IncludeNew: true}},
		{"no company at all", technician(t, outsiderID, directory.Available), uuid.Nil,
			request.Listing{IncludeNew: true}},
		{"nil technician", nil, uuid.Nil, request.Listing{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := request.ListingFor(tt.tech, tt.company)
			if !slices.Equal(got.Companies, tt.want.Companies) || got.IncludeNew != tt.want.IncludeNew {
				t.Fatalf("ListingFor = %+v, want %+v", got, tt.want)
			}
			if len(got.Companies) == 0 && got.Lists(load(t, stAssigned, win)) {
				t.Fatal("a listing without companies lists a request")
			}
		})
	}
}

const (
	aAssign   = request.ActionAssign
	aUnassign = request.ActionUnassign
	aTransfer = request.ActionTransfer
	aJoin     = request.ActionJoinChat
	aMessage  = request.ActionSendMessage
	aNote     = request.ActionAddNote
	aUpload   = request.ActionUploadFile
	aScreen   = request.ActionRequestScreenSharing
	aProfile  = request.ActionSendMobileProfile
	aEnd      = request.ActionEndChat
	aClose    = request.ActionClose
	aAccept   = request.ActionAcceptScreenSharing
	aDecline  = request.ActionDeclineScreenSharing
)

func isDesktop(p request.Platform) bool { return p == request.Windows || p == request.Mac }

// R14: the Details panel offers exactly the actions allowed by state and platform, in order.
func TestTechnicianActions(t *testing.T) {
	none := []request.Action{}
	noteOnly := []request.Action{aNote}
	holding := []request.Action{aUnassign, aTransfer, aJoin, aNote, aClose}
	// The assignee in the chat: screen sharing on the desktop, profiles on mobile (R11, R12).
	chatting := []request.Action{aUnassign, aTransfer, aMessage, aNote, aUpload, aScreen, aEnd, aClose}
	chattingMobile := []request.Action{aUnassign, aTransfer, aMessage, aNote, aUpload, aProfile, aEnd, aClose}
	tests := []struct {
		state   state
		actor   actor
		desktop []request.Action // Windows and Mac
		mobile  []request.Action // iOS and Android; nil: same as desktop
	}{
		{stNew, me, []request.Action{aAssign, aNote}, nil},
		{stNew, meBusy, noteOnly, nil},
		{stNew, colleague, []request.Action{aAssign, aNote}, nil},
		{stNew, busy, noteOnly, nil},
		{stNew, outsider, none, nil},

		{stAssigned, me, holding, nil},
		{stAssigned, meBusy, holding, nil},
		{stAssigned, colleague, noteOnly, nil},
		{stAssigned, busy, noteOnly, nil},
		{stAssigned, outsider, none, nil},

		{stColleague, me, noteOnly, nil},
		{stColleague, meBusy, noteOnly, nil},
		{stColleague, colleague, holding, nil},
		{stColleague, busy, noteOnly, nil},
		{stColleague, outsider, none, nil},

		{stInChat, me, chatting, chattingMobile},
		{stInChat, meBusy, chatting, chattingMobile},
		{stInChat, colleague, noteOnly, nil},
		{stInChat, busy, noteOnly, nil},
		{stInChat, outsider, none, nil},

		{stChatEnded, me, holding, nil},
		{stChatEnded, meBusy, holding, nil},
		{stChatEnded, colleague, noteOnly, nil},
		{stChatEnded, outsider, none, nil},

		{stSSPending, me,
			[]request.Action{aUnassign, aTransfer, aMessage, aNote, aUpload, aEnd, aClose}, chattingMobile},
		{stSSPending, colleague, noteOnly, nil},
		{stSSPending, outsider, none, nil},

		{stSSAccepted, me, chatting, chattingMobile},
		{stSSAccepted, busy, noteOnly, nil},

		{stSSDeclined, me, chatting, chattingMobile},
		{stSSDeclined, colleague, noteOnly, nil},

		{stClosed, me, none, nil},
		{stClosed, meBusy, none, nil},
		{stClosed, colleague, none, nil},
		{stClosed, busy, none, nil},
		{stClosed, outsider, none, nil},

		{stUnassignedAgn, me, []request.Action{aAssign, aNote}, nil},
		{stUnassignedAgn, meBusy, noteOnly, nil},
		{stUnassignedAgn, colleague, []request.Action{aAssign, aNote}, nil},
		{stUnassignedAgn, outsider, none, nil},

		{stTransferred, me, holding, nil},
		{stTransferred, colleague, noteOnly, nil},
		{stTransferred, outsider, none, nil},
	}
	for _, tt := range tests {
		for _, p := range request.Platforms {
			t.Run(string(tt.state)+"/"+string(tt.actor)+"/"+string(p), func(t *testing.T) {
				want := tt.desktop
				if !isDesktop(p) && tt.mobile != nil {
					want = tt.mobile
				}
				r := load(t, tt.state, p)
				got := r.TechnicianActions(tt.actor.tech(t))
				if got == nil {
					t.Fatal("TechnicianActions returned nil, want an empty list (JSON [])")
				}
				if !slices.Equal(got, want) {
					t.Fatalf("TechnicianActions = %v, want %v", got, want)
				}
				if len(r.Changes()) != 0 {
					t.Fatal("listing actions recorded events")
				}
			})
		}
	}
	t.Run("nil technician", func(t *testing.T) {
		got := load(t, stNew, win).TechnicianActions(nil)
		if got == nil || len(got) != 0 {
			t.Fatalf("TechnicianActions(nil) = %#v, want empty", got)
		}
	})
}

func TestCustomerActions(t *testing.T) {
	tests := []struct {
		state state
		want  []request.Action
	}{
		{stNew, []request.Action{aMessage}},
		{stAssigned, []request.Action{aMessage}},
		{stColleague, []request.Action{aMessage}},
		{stInChat, []request.Action{aMessage, aUpload}},
		{stChatEnded, []request.Action{}},
		{stSSPending, []request.Action{aMessage, aUpload, aAccept, aDecline}},
		{stSSAccepted, []request.Action{aMessage, aUpload}},
		{stSSDeclined, []request.Action{aMessage, aUpload}},
		{stClosed, []request.Action{}},
		{stUnassignedAgn, []request.Action{aMessage}},
		{stTransferred, []request.Action{aMessage}},
	}
	for _, tt := range tests {
		for _, p := range request.Platforms {
			t.Run(string(tt.state)+"/"+string(p), func(t *testing.T) {
				got := load(t, tt.state, p).CustomerActions()
				if got == nil {
					t.Fatal("CustomerActions returned nil, want an empty list (JSON [])")
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("CustomerActions = %v, want %v", got, tt.want)
				}
			})
		}
	}
}

// R14 from the other side: an action is listed if and only if doing it succeeds.
func TestActionsAgreeWithCommands(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	techCommands := map[request.Action]func(r *request.Request, t *directory.Technician) error{
		aAssign:   func(r *request.Request, t *directory.Technician) error { return r.Assign(t) },
		aUnassign: func(r *request.Request, t *directory.Technician) error { return r.Unassign(t) },
		aTransfer: func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) },
		aJoin:     func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) },
		aMessage: func(r *request.Request, t *directory.Technician) error {
			return r.SendTechnicianMessage(t, messageID, "hi")
		},
		aNote:    func(r *request.Request, t *directory.Technician) error { return r.AddNote(t, noteID, "n") },
		aUpload:  func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) },
		aScreen:  func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) },
		aProfile: func(r *request.Request, t *directory.Technician) error { return r.SendMobileProfile(t, "profile") },
		aEnd:     func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) },
		aClose:   func(r *request.Request, t *directory.Technician) error { return r.Close(t) },
	}
	customerCommands := map[request.Action]func(r *request.Request) error{
		aMessage: func(r *request.Request) error { return r.SendCustomerMessage(messageID, "hi") },
		aUpload:  func(r *request.Request) error { return r.ShareCustomerFile(png) },
		aAccept:  (*request.Request).AcceptScreenSharing,
		aDecline: (*request.Request).DeclineScreenSharing,
	}
	for _, s := range states {
		for _, p := range request.Platforms {
			for _, a := range actors {
				t.Run(string(s)+"/"+string(p)+"/"+string(a), func(t *testing.T) {
					listed := load(t, s, p).TechnicianActions(a.tech(t))
					for action, run := range techCommands {
						err := run(load(t, s, p), a.tech(t))
						if slices.Contains(listed, action) != (err == nil) {
							t.Errorf("%s: listed %v, command error %v", action, slices.Contains(listed, action), err)
						}
					}
				})
			}
			t.Run(string(s)+"/"+string(p)+"/customer", func(t *testing.T) {
				listed := load(t, s, p).CustomerActions()
				for action, run := range customerCommands {
					err := run(load(t, s, p))
					if slices.Contains(listed, action) != (err == nil) {
						t.Errorf("%s: listed %v, command error %v", action, slices.Contains(listed, action), err)
					}
				}
			})
		}
	}
}

// TestRestoreEqualsFold walks many random lives of a request. At every step the request
// restored from the folded request's State must be the folded request: the same fields, the
// same actions for every technician and for the customer, and the same outcome for every
// command.
func TestRestoreEqualsFold(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	type techCommand func(r *request.Request, t *directory.Technician) error
	techCommands := []techCommand{
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
	}
	techs := []*directory.Technician{peer}
	for _, a := range actors {
		techs = append(techs, a.tech(t))
	}
	states := 0
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		p := request.Platforms[rng.IntN(len(request.Platforms))]
		events := []eventlog.Event{submitted(p)}
		for step := 0; step < 40; step++ {
			folded, err := request.FromHistory(events)
			if err != nil {
				t.Fatal(err)
			}
			restored := request.Restore(folded.State())
			states++
			if !reflect.DeepEqual(restored, folded) {
				t.Fatalf("seed %d step %d: restored %+v, folded %+v", seed, step, restored.State(), folded.State())
			}
			if restored.Status() != folded.Status() || !slices.Equal(restored.CustomerActions(), folded.CustomerActions()) {
				t.Fatalf("seed %d step %d: status or customer actions differ", seed, step)
			}
			for _, tech := range techs {
				if !slices.Equal(restored.TechnicianActions(tech), folded.TechnicianActions(tech)) {
					t.Fatalf("seed %d step %d: actions for %s differ", seed, step, tech.Name())
				}
			}
			// Every command does the same to both.
			for i, cmd := range techCommands {
				tech := techs[rng.IntN(len(techs))]
				f, _ := request.FromHistory(events)
				r := request.Restore(f.State())
				errF, errR := cmd(f, tech), cmd(r, tech)
				if (errF == nil) != (errR == nil) || (errF != nil && errF.Error() != errR.Error()) {
					t.Fatalf("seed %d step %d command %d: folded %v, restored %v", seed, step, i, errF, errR)
				}
				if !reflect.DeepEqual(f.Changes(), r.Changes()) {
					t.Fatalf("seed %d step %d command %d: changes differ", seed, step, i)
				}
			}
			// Move on with a command that succeeds, if a few random tries find one.
			for try := 0; try < 20; try++ {
				f, _ := request.FromHistory(events)
				if techCommands[rng.IntN(len(techCommands))](f, techs[rng.IntN(len(techs))]) == nil && len(f.Changes()) > 0 {
					events = append(events, f.Changes()...)
					break
				}
			}
		}
	}
	if states < 1000 {
		t.Fatalf("only %d states checked", states)
	}
}

func TestRestoreZeroState(t *testing.T) {
	r := request.Restore(request.State{})
	if r.Status() != request.StatusNew || len(r.Changes()) != 0 {
		t.Fatalf("zero state: status %s, changes %v", r.Status(), r.Changes())
	}
}
