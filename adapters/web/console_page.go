package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

type consoleData struct {
	page
	List listPanel
	// Mine is My Support Requests; nil for an auditor, who has no queue.
	Mine    *minePanel
	Details *detailsPanel
}

// consolePage is the Support Requests and My Support Requests panels, and the Details panel
// of one request when the address names one.
func (h *Handler) consolePage(w http.ResponseWriter, r *http.Request, s app.Session) {
	ctx := r.Context()
	var current uuid.UUID
	if r.PathValue("requestID") != "" {
		id, ok := pathID(r, "requestID")
		if !ok {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		current = id
	}
	h.awaitSeen(w, r)
	since := h.live.position()
	if !since.IsStart() {
		_, _ = h.queries.WaitForPosition(ctx, since)
	}
	data := consoleData{page: page{
		Title: "Support Center", Body: "console", CSRF: s.CSRFToken, Error: h.takeFlash(w, r),
		ReturnTo: r.URL.RequestURI(), Events: "/console/events", Since: positionText(since),
	}}
	var profile app.TechnicianProfile
	if s.IsAuditor() {
		p, err := h.queries.AuditorProfile(ctx, s.AuditorID)
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		data.Auditor = auditorHeader(p)
	} else {
		var err error
		if profile, err = h.queries.Profile(ctx, s.TechnicianID); err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		data.Tech = header(profile)
	}
	if current != uuid.Nil {
		d, err := h.detailsPanel(r, s, current)
		if err != nil {
			h.pageFailed(w, r, err, "")
			return
		}
		data.Details = d
		data.Title = "Request from " + d.D.Customer.Name + " · Support Center"
		h.markRead(r, s, current)
	}
	data.List = h.listPanel(r, s, profile, current)
	if !s.IsAuditor() {
		mine := h.minePanel(r, s, current)
		data.Mine = &mine
	}
	h.render(w, r, http.StatusOK, "console", data)
}

// auditorHeader is the console's header for an auditor: who they are and what they read.
func auditorHeader(p app.AuditorProfile) *auditorBar {
	reads := fmt.Sprintf("reads %d companies", len(p.Companies))
	switch {
	case p.AllCompanies:
		reads = "reads every company"
	case len(p.Companies) == 1:
		reads = "reads 1 company"
	}
	return &auditorBar{Name: p.Name, Reads: reads}
}

func header(p app.TechnicianProfile) *techHeader {
	t := &techHeader{Name: p.Name, Availability: string(p.Availability)}
	for _, a := range []directory.Availability{directory.Available, directory.Busy, directory.Away} {
		label := strings.ToUpper(string(a[:1])) + string(a[1:])
		t.Options = append(t.Options, option{Value: string(a), Label: label, Selected: a == p.Availability})
	}
	if p.Availability == directory.Offline || p.Availability == "" {
		t.Options = append(t.Options, option{Value: string(directory.Offline), Label: "Offline", Selected: true})
	}
	return t
}

func (h *Handler) supportRequestsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.waitForPosition(w, r)
	var profile app.TechnicianProfile
	if !s.IsAuditor() {
		var err error
		if profile, err = h.queries.Profile(r.Context(), s.TechnicianID); err != nil {
			h.failed(w, r, err, true, "The list could not be loaded; reload the page.")
			return
		}
	}
	current, _ := uuid.Parse(r.URL.Query().Get("current"))
	h.renderTemplate(w, r, http.StatusOK, "console", "support-requests", h.listPanel(r, s, profile, current))
}

func (h *Handler) myRequestsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	if s.IsAuditor() {
		http.Error(w, "Auditors have no requests of their own.", http.StatusNotFound)
		return
	}
	h.waitForPosition(w, r)
	current, _ := uuid.Parse(r.URL.Query().Get("current"))
	h.renderTemplate(w, r, http.StatusOK, "console", "my-requests", h.minePanel(r, s, current))
}

func (h *Handler) detailsFragment(w http.ResponseWriter, r *http.Request, s app.Session) {
	h.waitForPosition(w, r)
	id, ok := pathID(r, "requestID")
	if !ok {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	d, err := h.detailsPanel(r, s, id)
	if err != nil {
		h.fragmentFailed(w, r, err, "The request could not be loaded; reload the page.")
		return
	}
	h.markRead(r, s, id)
	h.renderTemplate(w, r, http.StatusOK, "console", "details", consoleData{page: page{CSRF: s.CSRFToken}, Details: d})
}

// markRead notes that the technician has the request's details in front of them (opened, or
// refreshed live while they read): the customer's messages so far are read. A failure only
// leaves the request marked unread: it is logged, not shown.
func (h *Handler) markRead(r *http.Request, s app.Session, id uuid.UUID) {
	if s.IsAuditor() {
		return
	}
	if err := h.queries.MarkRequestRead(r.Context(), s.TechnicianID, id); err != nil && r.Context().Err() == nil {
		slog.WarnContext(r.Context(), "console: the request could not be marked read", "request", id, "error", err)
	}
}
