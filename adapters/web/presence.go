package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/web/presence"
	"github.com/helpstream/helpstream/internal/app"
)

// Who is viewing (issue 16): the console reports, from each visible tab, the request it has
// open ("viewing", every third of the viewing TTL) and that its technician is writing to the
// customer ("typing", at most every third of the typing TTL), and "left" when the tab is hidden
// or closed (a beacon). The hub (adapters/web/presence) keeps the reports for their TTL, the
// relay passes them between servers, and the console's event stream carries a "presence" event
// to every technician of the request's company at each change. Nothing is stored.

// presenceAnswer is the answer to a report: who else has the request open now, so that the
// page shows them at once.
type presenceAnswer struct {
	RequestID uuid.UUID         `json:"request_id"`
	Viewers   []presence.Viewer `json:"viewers"`
}

// reportPresence takes a console's report: request_id and state, in a form with the session's
// CSRF token (checked by the guard). A request the technician cannot see is 404, as everywhere
// (R2): presence is neither reported on it nor shown.
func (h *Handler) reportPresence(w http.ResponseWriter, r *http.Request, s app.Session) {
	id, err := uuid.Parse(strings.TrimSpace(r.PostForm.Get("request_id")))
	if err != nil || id == uuid.Nil {
		writeFetchError(w, http.StatusBadRequest, "invalid_request", "request_id must be the ID of a request.")
		return
	}
	state, err := presence.ParseState(r.PostForm.Get("state"))
	if err != nil {
		writeFetchError(w, http.StatusBadRequest, "invalid_request", err.Error()+".")
		return
	}
	ctx := r.Context()
	d, err := h.queries.RequestDetails(ctx, h.viewer(r, s), id)
	if err != nil {
		if isNotFound(err) {
			writeFetchError(w, http.StatusNotFound, "not_found", "This request is not available to you.")
			return
		}
		h.failedFetch(w, r, err)
		return
	}
	p, err := h.queries.Profile(ctx, s.TechnicianID)
	if err != nil {
		h.failedFetch(w, r, err)
		return
	}
	viewers, err := h.presence.Report(ctx, presence.Report{Technician: s.TechnicianID, Name: p.Name, Company: d.CompanyID, Request: id, State: state})
	if err != nil {
		writeFetchError(w, http.StatusServiceUnavailable, "unavailable", "This server follows too many consoles to show who is viewing; try again later.")
		return
	}
	writeFetchJSON(w, http.StatusOK, presenceAnswer{RequestID: id, Viewers: nonNil(viewers)})
}

func nonNil(v []presence.Viewer) []presence.Viewer {
	if v == nil {
		return []presence.Viewer{}
	}
	return v
}

// failedFetch answers a failure of a script's call in JSON: 503 when the database is away, 500
// otherwise (logged by failed).
func (h *Handler) failedFetch(w http.ResponseWriter, r *http.Request, err error) {
	if unavailable(err) {
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeFetchError(w, http.StatusServiceUnavailable, "unavailable", unavailableMessage)
		return
	}
	h.failed(w, r, err, true, "")
}

// presenceLine is what the details show of the others who have the request open.
type presenceLine struct {
	Viewing string // "Bob Martin, Carla Diaz", empty when nobody else
	Typing  string // "Bob Martin is typing…", empty when nobody else types
}

func (h *Handler) presenceOf(request, me uuid.UUID) presenceLine {
	return describePresence(h.presence.Others(request, me))
}

func describePresence(viewers []presence.Viewer) presenceLine {
	var line presenceLine
	var all, typing []string
	for _, v := range viewers {
		all = append(all, v.Name)
		if v.Typing {
			typing = append(typing, v.Name)
		}
	}
	line.Viewing = strings.Join(all, ", ")
	switch len(typing) {
	case 0:
	case 1:
		line.Typing = typing[0] + " is typing…"
	default:
		line.Typing = strings.Join(typing, ", ") + " are typing…"
	}
	return line
}

// presenceFilter passes on to a technician's stream the presence of their companies' requests.
func presenceFilter(companies func() []uuid.UUID) func(buf []byte, snaps []presence.Snapshot) []byte {
	return func(buf []byte, snaps []presence.Snapshot) []byte {
		mine := companies()
		for _, s := range snaps {
			if slices.Contains(mine, s.Company) {
				buf = append(buf, s.Message...)
			}
		}
		return buf
	}
}
