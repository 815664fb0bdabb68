package web

import (
	"cmp"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

type detailsPanel struct {
	D           app.RequestDetails
	Base        string
	Fragment    string
	Actions     []request.Action
	Targets     []option
	Accept      string
	Allowed     string
	Entries     []entryView
	ComposerKey string
	Assignee    string
	// Timeline is the address of the request's timeline page.
	Timeline string
	// ReadOnly is set for an auditor: no action, no form.
	ReadOnly bool
	// Profiles are the company's mobile profile templates for the customer's platform;
	// ProfileFiles the profile files sent so far.
	Profiles     []option
	ProfileFiles []profileLink
	// NoActions says why a technician can do nothing to the request now, when they cannot.
	NoActions string
	// Presence is who else has the request open, and who types (issue 16); Me is the
	// technician's ID, which the page's script leaves out of the presence it is told, and
	// ReportEvery and TypingEvery (milliseconds) how often it reports.
	Presence                 presenceLine
	Me                       uuid.UUID
	ReportEvery, TypingEvery int64
	// Canned are the company's canned responses filled in for this request, offered beside
	// the message box (issue 16); Prefill is the message box's text when the page was asked
	// for with ?canned=<id> (the form that inserts one without the script).
	Canned  []app.CannedResponse
	Prefill string
}

// blockActions are the actions the details' Actions block offers as buttons (a request's note,
// message and file forms are elsewhere on the page): without one of them the block explains
// why.
var blockActions = []request.Action{request.ActionAssign, request.ActionUnassign, request.ActionJoinChat,
	request.ActionRequestScreenSharing, request.ActionEndChat, request.ActionClose, request.ActionTransfer,
	request.ActionSendMobileProfile, request.ActionEndScreenSharingSession}

// noActionsReason says why a technician has no action on a request: it is closed, someone
// else has it, or (R2) they are not Available, so cannot take a new request.
func (h *Handler) noActionsReason(r *http.Request, s app.Session, d app.RequestDetails) string {
	switch {
	case d.Status == request.StatusCompleted:
		return "This request is completed: nothing can be done to it now."
	case d.Assignee != nil && d.Assignee.ID != s.TechnicianID:
		return "Only the assignee, " + cmp.Or(d.Assignee.Name, "another technician") + ", can act on this request."
	}
	p, err := h.queries.Profile(r.Context(), s.TechnicianID)
	if err == nil && d.Assignee == nil && p.Availability != directory.Available {
		status := string(cmp.Or(p.Availability, directory.Offline))
		return "You are " + strings.ToUpper(status[:1]) + status[1:] + ": set yourself Available (My status, at the top) to take this request."
	}
	return "Nothing can be done to this request now."
}

func (h *Handler) detailsPanel(r *http.Request, s app.Session, id uuid.UUID) (*detailsPanel, error) {
	ctx := r.Context()
	d, err := h.queries.RequestDetails(ctx, h.viewer(r, s), id)
	if err != nil {
		return nil, err
	}
	base := "/console/requests/" + id.String()
	p := &detailsPanel{D: d, Base: base, Fragment: "/console/fragments/details/" + id.String(), Actions: d.Actions, Assignee: "Unassigned",
		Timeline: base + "/timeline", ReadOnly: s.IsAuditor()}
	if !p.ReadOnly {
		p.Presence, p.Me = h.presenceOf(id, s.TechnicianID), s.TechnicianID
		p.ReportEvery, p.TypingEvery = (h.presence.ViewingTTL() / 3).Milliseconds(), (h.presence.TypingTTL() / 3).Milliseconds()
	}
	if p.ReadOnly {
		p.Actions = nil // whatever the details say: an auditor acts on nothing
	} else if !slices.ContainsFunc(p.Actions, func(a request.Action) bool { return slices.Contains(blockActions, a) }) {
		p.NoActions = h.noActionsReason(r, s, d)
	}
	if d.Assignee != nil {
		p.Assignee = cmp.Or(d.Assignee.Name, "A technician")
	}
	exts := request.AllowedExtensions(request.TechnicianSide, d.Source.Platform)
	p.Accept, p.Allowed = strings.Join(exts, ","), strings.Join(exts, " ")
	for _, e := range d.Entries {
		p.Entries = append(p.Entries, describe(e, d.Customer.Name, base+"/files/", true))
	}
	var key []string
	for _, a := range d.Actions {
		switch a {
		case request.ActionSendMessage, request.ActionAddNote, request.ActionUploadFile:
			key = append(key, string(a))
		}
	}
	p.ComposerKey = strings.Join(key, " ")
	if slices.Contains(p.Actions, request.ActionSendMobileProfile) {
		p.Profiles = h.profileTemplates(r, s, d)
	}
	p.ProfileFiles = profileLinks(d, base)
	if slices.Contains(p.Actions, request.ActionSendMessage) {
		p.Canned, p.Prefill = h.cannedFor(r, s, d)
	}
	if slices.Contains(d.Actions, request.ActionTransfer) {
		p.Targets = h.transferTargets(r, s.TechnicianID, d.CompanyID)
	}
	return p, nil
}

// transferTargets are the other technicians with access to the company.
func (h *Handler) transferTargets(r *http.Request, me, company uuid.UUID) []option {
	names, err := h.queries.Technicians(r.Context())
	if err != nil {
		return nil
	}
	var out []option
	for id, name := range names {
		if id == me || len(out) >= 200 {
			continue
		}
		t, err := h.cfg.App.Technician(r.Context(), id)
		if err != nil || !t.HasAccess(company) {
			continue
		}
		label := name
		if t.Availability() != directory.Available {
			label += " (" + string(t.Availability()) + ")"
		}
		out = append(out, option{Value: id.String(), Label: label})
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// entryView is one line of the chat as a page shows it.
type entryView struct {
	Kind    string
	Side    string
	Who     string
	Text    string
	Body    string
	Private bool
	File    *app.FileEntry
	FileURL string
	At      time.Time
}

// describe writes a chat entry in words; forTechnician adds what only technicians see.
func describe(e app.Entry, customer, filesURL string, forTechnician bool) entryView {
	v := entryView{Kind: e.Kind, Side: string(e.From), At: e.At, Body: e.Body}
	tech := "A technician"
	if e.Technician != nil && e.Technician.Name != "" {
		tech = e.Technician.Name
	}
	if e.From == request.CustomerSide {
		v.Who = cmp.Or(customer, "The customer")
		if !forTechnician {
			v.Who = "You"
		}
	} else {
		v.Who = tech
	}
	switch e.Kind {
	case "message":
	case "note":
		v.Private = true
	case "file":
		v.File = e.File
		if e.File != nil {
			v.FileURL = filesURL + e.File.ID.String()
		}
	default:
		v.Body = ""
		switch strings.TrimSuffix(e.Event, ".v1") {
		case "request.submitted":
			v.Text = "Request submitted"
		case "request.assigned":
			v.Text = "Assigned to " + tech
			if rule, auto := strings.CutPrefix(e.Body, routing.AutoNotePrefix); auto {
				v.Text = "Assigned automatically (" + rule + ") to " + tech
			}
		case "request.unassigned":
			v.Text = tech + " gave the request back"
			if e.Body != "" {
				v.Text = "Given back automatically for " + tech + ": " + e.Body
			}
		case "request.transferred":
			v.Text = "Transferred to " + tech
		case "request.chat_joined":
			v.Text = tech + " joined the chat"
		case "request.screen_sharing_requested":
			v.Text = tech + " asked to see the screen"
		case "request.screen_sharing_accepted":
			v.Text = "Screen sharing accepted"
		case "request.screen_sharing_declined":
			v.Text = "Screen sharing declined"
		case "request.screen_sharing_session_started":
			v.Text = "Screen sharing session started"
		case "request.screen_sharing_session_ended":
			v.Text = "Screen sharing session ended"
			switch e.Body {
			case request.SessionEndedByTechnician:
				v.Text += " by " + tech
			case request.SessionEndedWithChat:
				v.Text += " with the chat"
			}
		case "request.mobile_profile_file_sent":
			v.Text = "Mobile profile file sent: " + e.Body
		case "request.mobile_profile_sent":
			v.Text = "Mobile profile sent: " + e.Body
		case "request.chat_ended":
			v.Text = "The chat has ended"
		case "request.closed":
			v.Text = "The request was closed"
		default:
			v.Text = e.Event
		}
	}
	return v
}

// cannedFor returns the company's canned responses filled in for the request, and the one the
// page was asked to insert (?canned=<id>, the form that works without the script). Without
// them the message box works as before: a failure only costs the shortcut.
func (h *Handler) cannedFor(r *http.Request, s app.Session, d app.RequestDetails) ([]app.CannedResponse, string) {
	canned, err := h.queries.FillCannedResponses(r.Context(), h.viewer(r, s), d)
	if err != nil {
		slog.WarnContext(r.Context(), "console: canned responses are not offered", "request", d.ID, "err", err)
		return nil, ""
	}
	want, err := uuid.Parse(r.URL.Query().Get("canned"))
	if err != nil {
		return canned, ""
	}
	for _, c := range canned {
		if c.ID == want {
			return canned, c.Text
		}
	}
	return canned, ""
}
