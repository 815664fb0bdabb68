package web

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/timeline"
)

// timelineData is the timeline page: the verdict on the request's stream, one row per event,
// and the request as it was after the selected one.
type timelineData struct {
	page
	RequestID uuid.UUID
	Details   string
	Verdict   timeline.Verdict
	Events    int
	Rows      []timelineRow
	// Selected is the event whose state the page shows; nil for a stream with no event folded.
	Selected *timelineRow
}

type timelineRow struct {
	timeline.Step
	Href     string
	Selected bool
}

// timelinePage shows a request's history to a technician or an auditor who may see it (R2: 404
// otherwise), each event a row whose link (?at=VERSION) shows the request as it was after it;
// the last event by default. An auditor's visit is recorded in the access log first.
func (h *Handler) timelinePage(w http.ResponseWriter, r *http.Request, s app.Session) {
	ctx := r.Context()
	id, ok := pathID(r, "requestID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	at := int64(-1)
	if v, has := r.URL.Query()["at"]; has {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 || len(v) > 1 {
			h.errorPage(w, r, http.StatusBadRequest, "The address names no event: at must be an event's version, 0, 1, 2…")
			return
		}
		at = n
	}
	// ReadHistory says whether the viewer may see the request and records an auditor's read; a
	// broken chain still answers the events, and the page shows the verdict.
	if recorded, err := h.queries.ReadHistory(ctx, h.viewer(r, s), id); err != nil && recorded == nil {
		h.pageFailed(w, r, err, "")
		return
	}
	tl, err := timeline.Build(ctx, h.cfg.Store, id, timeline.End())
	if err != nil {
		h.pageFailed(w, r, err, "")
		return
	}
	base := "/console/requests/" + id.String()
	data := timelineData{page: page{Title: "Timeline · Support Center", Body: "console", CSRF: s.CSRFToken, ReturnTo: r.URL.RequestURI()},
		RequestID: id, Details: base, Verdict: tl.Verdict, Events: tl.Events}
	if s.IsAuditor() {
		if p, err := h.queries.AuditorProfile(ctx, s.AuditorID); err == nil {
			data.Auditor = auditorHeader(p)
		}
	} else if p, err := h.queries.Profile(ctx, s.TechnicianID); err == nil {
		data.Tech = header(p)
	}
	for _, step := range tl.Steps {
		data.Rows = append(data.Rows, timelineRow{Step: step, Href: base + "/timeline?at=" + strconv.FormatInt(step.Version, 10) + "#state"})
	}
	if len(data.Rows) > 0 {
		selected := len(data.Rows) - 1
		if at >= 0 {
			selected = -1
			for i := range data.Rows {
				if data.Rows[i].Version == at {
					selected = i
				}
			}
			if selected < 0 {
				h.errorPage(w, r, http.StatusNotFound, "This request's history holds no event of that version.")
				return
			}
		}
		data.Rows[selected].Selected = true
		data.Selected = &data.Rows[selected]
	}
	h.render(w, r, http.StatusOK, "timeline", data)
}
