package request_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

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
