package request_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Shorthands for the events the matrix expects.
func assigned(id uuid.UUID) *request.Assigned     { return &request.Assigned{TechnicianID: id} }
func unassigned(id uuid.UUID) *request.Unassigned { return &request.Unassigned{TechnicianID: id} }
func joined(id uuid.UUID) *request.ChatJoined     { return &request.ChatJoined{TechnicianID: id} }
func ended(id uuid.UUID) *request.ChatEnded       { return &request.ChatEnded{TechnicianID: id} }
func closed(id uuid.UUID) *request.Closed         { return &request.Closed{TechnicianID: id} }
func transferred(from uuid.UUID) *request.Transferred {
	return &request.Transferred{From: from, To: peerID}
}
func techMessage(id uuid.UUID) *request.MessageSent {
	return &request.MessageSent{MessageID: messageID, From: request.TechnicianSide, TechnicianID: id, Body: "Hello, I am here to help."}
}
func customerMessage() *request.MessageSent {
	return &request.MessageSent{MessageID: messageID, From: request.CustomerSide, Body: "Thanks!"}
}
func note(id uuid.UUID) *request.NoteAdded {
	return &request.NoteAdded{NoteID: noteID, TechnicianID: id, Body: "Customer sounds upset."}
}
func techFile(id uuid.UUID) *request.FileShared {
	return &request.FileShared{FileID: fileID, From: request.TechnicianSide, TechnicianID: id, Name: "report.pdf", Size: 1234, ContentType: "application/pdf", SHA256: sha}
}
func customerFile() *request.FileShared {
	return &request.FileShared{FileID: fileID, From: request.CustomerSide, Name: "photo.png", Size: 99, ContentType: "image/png", SHA256: sha}
}
func screenSharingRequested(id uuid.UUID) *request.ScreenSharingRequested {
	return &request.ScreenSharingRequested{TechnicianID: id}
}
func profileSent(id uuid.UUID) *request.MobileProfileSent {
	return &request.MobileProfileSent{TechnicianID: id, Profile: "Corporate Wi-Fi"}
}

var (
	pdf = request.File{ID: fileID, Name: "report.pdf", Size: 1234, ContentType: "application/pdf", SHA256: sha}
	png = request.File{ID: fileID, Name: "photo.png", Size: 99, ContentType: "image/png", SHA256: sha}
)

// Shorthands for the errors the matrix expects.
var (
	notAssignee      = fails(request.ErrNotAssignee)
	notAssigned      = fails(request.ErrNotAssigned)
	isClosed         = fails(request.ErrClosed)
	alreadyAssigned  = fails(request.ErrAlreadyAssigned)
	notAvailable     = fails(request.ErrNotAvailable)
	chatNotJoined    = fails(request.ErrChatNotJoined)
	chatEnded        = fails(request.ErrChatEnded)
	alreadyInChat    = fails(request.ErrChatAlreadyJoined)
	ssPending        = fails(request.ErrScreenSharingPending)
	noSSRequest      = fails(request.ErrNoScreenSharingRequest)
	noMobileProfiles = fails(request.ErrMobileProfilesUnsupported)
)

const (
	win     = request.Windows
	android = request.Android
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

// assigneeRow is a state's row for a command only the assignee may give: me, busy or not, get
// want; the colleagues, who are not the assignee, are refused.
func assigneeRow(s state, p request.Platform, want outcome) techRow {
	return techRow{s, p, want, want, notAssignee, notAssignee}
}

// outsideChatRows are the rows of a command the assignee gives in the chat (R8–R13), for every
// state in which no chat is going on: the same refusals for every such command.
func outsideChatRows(p request.Platform) []techRow {
	return []techRow{
		{stNew, p, notAssignee, notAssignee, notAssignee, notAssignee},
		{stAssigned, p, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
		{stColleague, p, notAssignee, notAssignee, chatNotJoined, notAssignee},
		{stChatEnded, p, chatEnded, chatEnded, notAssignee, notAssignee},
		{stClosed, p, isClosed, isClosed, isClosed, isClosed},
		{stUnassignedAgn, p, notAssignee, notAssignee, notAssignee, notAssignee},
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

// giveBackRows are the rows of a command by which the assignee gives the request up (Unassign,
// Transfer): me and the colleague record their own event in the states where each is the
// assignee, whatever the chat.
func giveBackRows(mine, colleagues outcome) []techRow {
	return []techRow{
		{stNew, win, notAssigned, notAssigned, notAssigned, notAssigned},
		assigneeRow(stAssigned, win, mine),
		{stColleague, win, notAssignee, notAssignee, colleagues, notAssignee},
		assigneeRow(stInChat, win, mine),
		assigneeRow(stChatEnded, win, mine),
		assigneeRow(stSSPending, win, mine),
		assigneeRow(stSSAccepted, win, mine),
		assigneeRow(stSSDeclined, win, mine),
		{stClosed, win, isClosed, isClosed, isClosed, isClosed},
		{stUnassignedAgn, win, notAssigned, notAssigned, notAssigned, notAssigned},
		assigneeRow(stTransferred, win, mine),
	}
}

// anyTechnicianRows are the rows of a command every technician with access may give while the
// request is open, each recording their own event.
func anyTechnicianRows(event func(id uuid.UUID) eventlog.Event) []techRow {
	var rows []techRow
	for _, s := range states {
		if s == stClosed {
			rows = append(rows, techRow{s, win, isClosed, isClosed, isClosed, isClosed})
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
				{stAssigned, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stColleague, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stInChat, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stChatEnded, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stSSPending, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stSSAccepted, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stSSDeclined, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, records(assigned(meID)), notAvailable, records(assigned(colleagueID)), notAvailable},
				{stTransferred, win, alreadyAssigned, alreadyAssigned, alreadyAssigned, alreadyAssigned},
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
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				assigneeRow(stAssigned, win, records(joined(meID))),
				{stColleague, win, notAssignee, notAssignee, records(joined(colleagueID)), notAssignee},
				assigneeRow(stInChat, win, alreadyInChat),
				assigneeRow(stChatEnded, win, records(joined(meID))),
				assigneeRow(stSSPending, win, alreadyInChat),
				assigneeRow(stSSAccepted, win, alreadyInChat),
				assigneeRow(stSSDeclined, win, alreadyInChat),
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				assigneeRow(stTransferred, win, records(joined(meID))),
			},
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
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				assigneeRow(stAssigned, win, records(closed(meID))),
				{stColleague, win, notAssignee, notAssignee, records(closed(colleagueID)), notAssignee},
				assigneeRow(stInChat, win, records(ended(meID), closed(meID))),
				assigneeRow(stChatEnded, win, records(closed(meID))),
				assigneeRow(stSSPending, win, records(ended(meID), closed(meID))),
				assigneeRow(stSSAccepted, win, records(ended(meID), closed(meID))),
				assigneeRow(stSSDeclined, win, records(ended(meID), closed(meID))),
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				assigneeRow(stTransferred, win, records(closed(meID))),
			},
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
