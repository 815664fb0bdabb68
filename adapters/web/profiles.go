package web

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

// profileRoutes registers the downloads of mobile profile files (R12), for technicians of the
// request's company and the request's customer.
func (h *Handler) profileRoutes() {
	handleGuarded(h.mux, h.technician, map[string]func(http.ResponseWriter, *http.Request, app.Session){
		"GET /console/requests/{requestID}/profiles/{eventID}": h.technicianProfileDownload,
	})
	handleGuarded(h.mux, h.customer, map[string]func(http.ResponseWriter, *http.Request, uuid.UUID){
		"GET /portal/requests/{requestID}/profiles/{eventID}": h.customerProfileDownload,
	})
}

// profileLink is a mobile profile file sent in a request, as both sides download it.
type profileLink struct {
	Name string
	URL  string
	At   time.Time
}

// profileLinks lists the profile files a request's entries sent, with their download
// addresses under base (the request's console or portal address).
func profileLinks(d app.RequestDetails, base string) []profileLink {
	var out []profileLink
	for _, e := range d.Entries {
		if e.Kind == "event" && strings.HasPrefix(e.Event, "request.mobile_profile_file_sent.") {
			out = append(out, profileLink{Name: app.ProfileFileName(e.Body, d.Source.Platform), URL: base + "/profiles/" + e.ID.String(), At: e.At})
		}
	}
	return out
}

// profileTemplates are the options of the console's profile choice: the request company's
// templates for the customer's platform.
func (h *Handler) profileTemplates(r *http.Request, s app.Session, d app.RequestDetails) []option {
	list, err := h.cfg.App.MobileProfileTemplates(r.Context(), meta(technicianActor(s.TechnicianID)), d.CompanyID)
	if err != nil {
		return nil
	}
	var out []option
	for _, t := range list {
		if t.Platform == d.Source.Platform {
			out = append(out, option{Value: t.Name, Label: t.Name})
		}
	}
	return out
}

func (h *Handler) technicianProfileDownload(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	h.profileDownload(w, r, h.viewer(r, s), id)
}

func (h *Handler) customerProfileDownload(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	h.profileDownload(w, r, app.Viewer{CustomerOf: id}, id)
}

// profileDownload answers the profile file an entry of the request sent, built for its
// customer, as an attachment; a request or entry the viewer may not see is a 404.
func (h *Handler) profileDownload(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) {
	eventID, ok := pathID(r, "eventID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	f, err := h.queries.MobileProfileFile(r.Context(), viewer, requestID, eventID, h.cfg.App.ProfileTemplates())
	if err != nil {
		h.pageFailed(w, r, err, "")
		return
	}
	httpserver.SendFile(w, app.SharedFile{Name: f.Name, ContentType: f.ContentType, Size: int64(len(f.Content)),
		Content: io.NopCloser(bytes.NewReader(f.Content))})
}
