package request

import "github.com/helpstream/helpstream/domain/directory"

// Action is something a person can do to a request now; the Details panel offers exactly the
// actions allowed by the request's state and platform (R14).
type Action string

const (
	ActionAssign               Action = "assign"
	ActionUnassign             Action = "unassign"
	ActionTransfer             Action = "transfer"
	ActionJoinChat             Action = "join_chat"
	ActionSendMessage          Action = "send_message"
	ActionAddNote              Action = "add_note"
	ActionUploadFile           Action = "upload_file"
	ActionRequestScreenSharing Action = "request_screen_sharing"
	ActionSendMobileProfile    Action = "send_mobile_profile"
	ActionEndChat              Action = "end_chat"
	ActionClose                Action = "close"
	ActionAcceptScreenSharing  Action = "accept_screen_sharing"
	ActionDeclineScreenSharing Action = "decline_screen_sharing"
	// ActionEndScreenSharingSession is the assignee's End Session of a running session.
	ActionEndScreenSharingSession Action = "end_screen_sharing_session"
)

// TechnicianActions lists what the technician may do to the request now, in the order the
// console shows them.
func (r *Request) TechnicianActions(t *directory.Technician) []Action {
	checks := []struct {
		action Action
		check  func() error
	}{
		{ActionAssign, func() error { return r.canAssign(t) }},
		{ActionUnassign, func() error { return r.canUnassign(t) }},
		{ActionTransfer, func() error { return r.canTransfer(t, nil) }},
		{ActionJoinChat, func() error { return r.canJoinChat(t) }},
		{ActionSendMessage, func() error { return r.checkInChat(t) }},
		{ActionAddNote, func() error { return r.checkOpen(t) }},
		{ActionUploadFile, func() error { return r.checkInChat(t) }},
		{ActionRequestScreenSharing, func() error { return r.canRequestScreenSharing(t) }},
		{ActionEndScreenSharingSession, func() error { return r.canEndScreenSharingSession(t) }},
		{ActionSendMobileProfile, func() error { return r.canSendMobileProfile(t) }},
		{ActionEndChat, func() error { return r.checkInChat(t) }},
		{ActionClose, func() error { return r.checkAssignee(t) }},
	}
	actions := []Action{}
	for _, c := range checks {
		if c.check() == nil {
			actions = append(actions, c.action)
		}
	}
	return actions
}

// CustomerActions lists what the customer may do now.
func (r *Request) CustomerActions() []Action {
	actions := []Action{}
	if r.canCustomerChat() == nil {
		actions = append(actions, ActionSendMessage)
	}
	if r.canCustomerShareFile() == nil {
		actions = append(actions, ActionUploadFile)
	}
	if r.canAnswerScreenSharing() == nil {
		actions = append(actions, ActionAcceptScreenSharing, ActionDeclineScreenSharing)
	}
	return actions
}
