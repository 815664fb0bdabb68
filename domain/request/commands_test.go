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

type techCommand struct {
	name string
	run  func(r *request.Request, t *directory.Technician) error
	rows []techRow
}

func TestTechnicianCommandsInEveryState(t *testing.T) {
	peer := technician(t, peerID, directory.Available, companyID)
	commands := []techCommand{
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
			rows: []techRow{
				{stNew, win, notAssigned, notAssigned, notAssigned, notAssigned},
				{stAssigned, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, records(unassigned(colleagueID)), notAssignee},
				{stInChat, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stChatEnded, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stSSPending, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssigned, notAssigned, notAssigned, notAssigned},
				{stTransferred, win, records(unassigned(meID)), records(unassigned(meID)), notAssignee, notAssignee},
			},
		},
		{
			name: "Transfer to an available peer",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) },
			rows: []techRow{
				{stNew, win, notAssigned, notAssigned, notAssigned, notAssigned},
				{stAssigned, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, records(transferred(colleagueID)), notAssignee},
				{stInChat, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stChatEnded, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stSSPending, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssigned, notAssigned, notAssigned, notAssigned},
				{stTransferred, win, records(transferred(meID)), records(transferred(meID)), notAssignee, notAssignee},
			},
		},
		{
			name: "JoinChat",
			run:  func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) },
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, records(joined(meID)), records(joined(meID)), notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, records(joined(colleagueID)), notAssignee},
				{stInChat, win, alreadyInChat, alreadyInChat, notAssignee, notAssignee},
				{stChatEnded, win, records(joined(meID)), records(joined(meID)), notAssignee, notAssignee},
				{stSSPending, win, alreadyInChat, alreadyInChat, notAssignee, notAssignee},
				{stSSAccepted, win, alreadyInChat, alreadyInChat, notAssignee, notAssignee},
				{stSSDeclined, win, alreadyInChat, alreadyInChat, notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, records(joined(meID)), records(joined(meID)), notAssignee, notAssignee},
			},
		},
		{
			name: "SendTechnicianMessage",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.SendTechnicianMessage(t, messageID, "  Hello, I am here to help.\n")
			},
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, win, records(techMessage(meID)), records(techMessage(meID)), notAssignee, notAssignee},
				{stChatEnded, win, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, records(techMessage(meID)), records(techMessage(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(techMessage(meID)), records(techMessage(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(techMessage(meID)), records(techMessage(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "AddNote",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.AddNote(t, noteID, "\tCustomer sounds upset. ")
			},
			rows: []techRow{
				{stNew, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stAssigned, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stColleague, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stInChat, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stChatEnded, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stSSPending, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stSSAccepted, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stSSDeclined, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
				{stTransferred, win, records(note(meID)), records(note(meID)), records(note(colleagueID)), records(note(busyID))},
			},
		},
		{
			name: "ShareTechnicianFile",
			run:  func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) },
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, win, records(techFile(meID)), records(techFile(meID)), notAssignee, notAssignee},
				{stChatEnded, win, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, records(techFile(meID)), records(techFile(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(techFile(meID)), records(techFile(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(techFile(meID)), records(techFile(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "CheckTechnicianCanShareFile",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.CheckTechnicianCanShareFile(t, "report.pdf")
			},
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, win, succeeds(), succeeds(), notAssignee, notAssignee},
				{stChatEnded, win, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, succeeds(), succeeds(), notAssignee, notAssignee},
				{stSSAccepted, win, succeeds(), succeeds(), notAssignee, notAssignee},
				{stSSDeclined, win, succeeds(), succeeds(), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "RequestScreenSharing",
			run:  func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) },
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, win, records(screenSharingRequested(meID)), records(screenSharingRequested(meID)), notAssignee, notAssignee},
				{stChatEnded, win, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, ssPending, ssPending, notAssignee, notAssignee},
				{stSSAccepted, win, records(screenSharingRequested(meID)), records(screenSharingRequested(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(screenSharingRequested(meID)), records(screenSharingRequested(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "SendMobileProfile",
			run: func(r *request.Request, t *directory.Technician) error {
				return r.SendMobileProfile(t, " Corporate Wi-Fi ")
			},
			rows: []techRow{
				{stNew, android, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, android, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, android, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, android, records(profileSent(meID)), records(profileSent(meID)), notAssignee, notAssignee},
				{stInChat, win, noMobileProfiles, noMobileProfiles, notAssignee, notAssignee},
				{stChatEnded, android, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, noMobileProfiles, noMobileProfiles, notAssignee, notAssignee},
				{stSSAccepted, win, noMobileProfiles, noMobileProfiles, notAssignee, notAssignee},
				{stSSDeclined, win, noMobileProfiles, noMobileProfiles, notAssignee, notAssignee},
				{stClosed, android, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, android, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, android, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "EndChat",
			run:  func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) },
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, chatNotJoined, notAssignee},
				{stInChat, win, records(ended(meID)), records(ended(meID)), notAssignee, notAssignee},
				{stChatEnded, win, chatEnded, chatEnded, notAssignee, notAssignee},
				{stSSPending, win, records(ended(meID)), records(ended(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(ended(meID)), records(ended(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(ended(meID)), records(ended(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, chatNotJoined, chatNotJoined, notAssignee, notAssignee},
			},
		},
		{
			name: "Close",
			run:  func(r *request.Request, t *directory.Technician) error { return r.Close(t) },
			rows: []techRow{
				{stNew, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stAssigned, win, records(closed(meID)), records(closed(meID)), notAssignee, notAssignee},
				{stColleague, win, notAssignee, notAssignee, records(closed(colleagueID)), notAssignee},
				{stInChat, win, records(ended(meID), closed(meID)), records(ended(meID), closed(meID)), notAssignee, notAssignee},
				{stChatEnded, win, records(closed(meID)), records(closed(meID)), notAssignee, notAssignee},
				{stSSPending, win, records(ended(meID), closed(meID)), records(ended(meID), closed(meID)), notAssignee, notAssignee},
				{stSSAccepted, win, records(ended(meID), closed(meID)), records(ended(meID), closed(meID)), notAssignee, notAssignee},
				{stSSDeclined, win, records(ended(meID), closed(meID)), records(ended(meID), closed(meID)), notAssignee, notAssignee},
				{stClosed, win, isClosed, isClosed, isClosed, isClosed},
				{stUnassignedAgn, win, notAssignee, notAssignee, notAssignee, notAssignee},
				{stTransferred, win, records(closed(meID)), records(closed(meID)), notAssignee, notAssignee},
			},
		},
	}
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

func TestCustomerCommandsInEveryState(t *testing.T) {
	commands := []struct {
		name string
		run  func(r *request.Request) error
		rows []customerRow
	}{
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
			rows: []customerRow{
				{stNew, win, chatNotJoined},
				{stAssigned, win, chatNotJoined},
				{stColleague, win, chatNotJoined},
				{stInChat, win, succeeds()},
				{stInChat, request.IOS, succeeds()},
				{stChatEnded, win, chatEnded},
				{stSSPending, win, succeeds()},
				{stSSAccepted, win, succeeds()},
				{stSSDeclined, win, succeeds()},
				{stClosed, win, isClosed},
				{stUnassignedAgn, win, chatNotJoined},
				{stTransferred, win, chatNotJoined},
			},
		},
		{
			name: "ShareCustomerFile",
			run:  func(r *request.Request) error { return r.ShareCustomerFile(png) },
			rows: []customerRow{
				{stNew, win, chatNotJoined},
				{stAssigned, win, chatNotJoined},
				{stColleague, win, chatNotJoined},
				{stInChat, win, records(customerFile())},
				{stInChat, request.IOS, records(customerFile())},
				{stChatEnded, win, chatEnded},
				{stSSPending, win, records(customerFile())},
				{stSSAccepted, win, records(customerFile())},
				{stSSDeclined, win, records(customerFile())},
				{stClosed, win, isClosed},
				{stUnassignedAgn, win, chatNotJoined},
				{stTransferred, win, chatNotJoined},
			},
		},
		{
			name: "AcceptScreenSharing",
			run:  func(r *request.Request) error { return r.AcceptScreenSharing() },
			rows: []customerRow{
				{stNew, win, noSSRequest},
				{stAssigned, win, noSSRequest},
				{stColleague, win, noSSRequest},
				{stInChat, win, noSSRequest},
				{stChatEnded, win, noSSRequest},
				{stSSPending, win, records(&request.ScreenSharingAccepted{})},
				{stSSAccepted, win, noSSRequest},
				{stSSDeclined, win, noSSRequest},
				{stClosed, win, isClosed},
				{stUnassignedAgn, win, noSSRequest},
				{stTransferred, win, noSSRequest},
			},
		},
		{
			name: "DeclineScreenSharing",
			run:  func(r *request.Request) error { return r.DeclineScreenSharing() },
			rows: []customerRow{
				{stNew, win, noSSRequest},
				{stAssigned, win, noSSRequest},
				{stColleague, win, noSSRequest},
				{stInChat, win, noSSRequest},
				{stChatEnded, win, noSSRequest},
				{stSSPending, win, records(&request.ScreenSharingDeclined{})},
				{stSSAccepted, win, noSSRequest},
				{stSSDeclined, win, noSSRequest},
				{stClosed, win, isClosed},
				{stUnassignedAgn, win, noSSRequest},
				{stTransferred, win, noSSRequest},
			},
		},
	}
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
	peer := technician(t, peerID, directory.Available, companyID)
	assignee := technician(t, meID, directory.Available, companyID)
	stranger := technician(t, outsiderID, directory.Available, otherCompanyID)
	commands := []struct {
		name string
		run  func(r *request.Request, t *directory.Technician) error
	}{
		{"Assign", func(r *request.Request, t *directory.Technician) error { return r.Assign(t) }},
		{"Unassign", func(r *request.Request, t *directory.Technician) error { return r.Unassign(t) }},
		{"Transfer", func(r *request.Request, t *directory.Technician) error { return r.Transfer(t, peer) }},
		{"JoinChat", func(r *request.Request, t *directory.Technician) error { return r.JoinChat(t) }},
		{"SendTechnicianMessage", func(r *request.Request, t *directory.Technician) error {
			return r.SendTechnicianMessage(t, messageID, "hi")
		}},
		{"AddNote", func(r *request.Request, t *directory.Technician) error { return r.AddNote(t, noteID, "n") }},
		{"ShareTechnicianFile", func(r *request.Request, t *directory.Technician) error { return r.ShareTechnicianFile(t, pdf) }},
		{"CheckTechnicianCanShareFile", func(r *request.Request, t *directory.Technician) error {
			return r.CheckTechnicianCanShareFile(t, "a.txt")
		}},
		{"RequestScreenSharing", func(r *request.Request, t *directory.Technician) error { return r.RequestScreenSharing(t) }},
		{"SendMobileProfile", func(r *request.Request, t *directory.Technician) error { return r.SendMobileProfile(t, "p") }},
		{"EndChat", func(r *request.Request, t *directory.Technician) error { return r.EndChat(t) }},
		{"Close", func(r *request.Request, t *directory.Technician) error { return r.Close(t) }},
		{"SendCustomerMessage", func(r *request.Request, _ *directory.Technician) error {
			return r.SendCustomerMessage(messageID, "hi")
		}},
		{"ShareCustomerFile", func(r *request.Request, _ *directory.Technician) error { return r.ShareCustomerFile(png) }},
		{"CheckCustomerCanShareFile", func(r *request.Request, _ *directory.Technician) error {
			return r.CheckCustomerCanShareFile("a.png")
		}},
		{"AcceptScreenSharing", func(r *request.Request, _ *directory.Technician) error { return r.AcceptScreenSharing() }},
		{"DeclineScreenSharing", func(r *request.Request, _ *directory.Technician) error { return r.DeclineScreenSharing() }},
	}
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
			for _, c := range commands {
				t.Run(cl.name+"/"+string(p)+"/"+c.name, func(t *testing.T) {
					r, err := request.FromHistory(cl.history(p))
					if err != nil {
						t.Fatal(err)
					}
					check(t, r, c.run(r, assignee), fails(request.ErrClosed))
					if c.name == "SendCustomerMessage" || c.name == "ShareCustomerFile" || c.name == "CheckCustomerCanShareFile" ||
						c.name == "AcceptScreenSharing" || c.name == "DeclineScreenSharing" {
						return
					}
					check(t, r, c.run(r, stranger), fails(request.ErrNoAccess))
				})
			}
		}
	}
}
