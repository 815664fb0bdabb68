package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
)

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "view", "sort", "order", "limit", "offset", "mine", "cursor", "q", "company", "assignee", "min_position":
		default:
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
	}
	list := app.ListRequests{TechnicianID: viewer.TechnicianID, AuditorID: viewer.AuditorID, ClientIP: viewer.ClientIP,
		View: app.View(q.Get("view")), Sort: app.SortColumn(q.Get("sort")), Cursor: q.Get("cursor"), Search: q.Get("q")}
	var err error
	if list.Descending, err = choiceParam(q, "order", "asc", "desc"); err != nil {
		return 0, nil, err
	}
	if list.Limit, err = intParam(q, "limit"); err != nil {
		return 0, nil, err
	}
	if _, has := q["limit"]; has && (list.Limit < 1 || list.Limit > 200) {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", app.ErrInvalidLimit.Error())
	}
	// The old paging by offset: its first page is the first page; past it, a client must not
	// loop on page one.
	if offset, err := intParam(q, "offset"); err != nil {
		return 0, nil, err
	} else if offset != 0 {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "offset paging is not supported; follow next_cursor")
	}
	if list.MineOnly, err = choiceParam(q, "mine", "false", "true"); err != nil {
		return 0, nil, err
	}
	if list.CompanyID, err = idParam(q, "company"); err != nil {
		return 0, nil, err
	}
	if list.Assignee, err = idParam(q, "assignee"); err != nil {
		return 0, nil, err
	}
	if _, has := q["q"]; has && list.Search == "" {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", app.ErrInvalidSearch.Error())
	}
	if err := a.awaitPosition(w, r); err != nil {
		return 0, nil, err
	}
	page, err := a.queries.ListRequests(r.Context(), list)
	if err != nil {
		for _, invalid := range []error{app.ErrInvalidCursor, app.ErrInvalidSearch, app.ErrInvalidFilter} {
			if errors.Is(err, invalid) {
				return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", invalid.Error())
			}
		}
		return 0, nil, err
	}
	return http.StatusOK, page, nil
}

// idParam reads an optional UUID query parameter.
func idParam(q url.Values, name string) (uuid.UUID, error) {
	v := q.Get(name)
	if v == "" {
		return uuid.Nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return uuid.Nil, errorf(http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s must be an ID", name))
	}
	return id, nil
}

// ProjectionBehindHeader is set to "true" on a list or details answer that waited for
// min_position in vain: the answer is what the read models hold, which may miss the caller's
// latest writes.
const ProjectionBehindHeader = "X-Projection-Behind"

// awaitPosition serves read-your-writes: with min_position (a position from a command's
// answer), it waits, bounded (about 2 s), until the read models have applied it.
func (a *API) awaitPosition(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("min_position")
	if v == "" {
		return nil
	}
	pos, err := eventlog.ParsePosition(v)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid", "min_position must be a position from a command's answer, like 1234-5678")
	}
	reached, err := a.queries.WaitForPosition(r.Context(), pos)
	if err != nil {
		return err
	}
	if !reached {
		w.Header().Set(ProjectionBehindHeader, "true")
	}
	return nil
}

// choiceParam reads a query parameter that is one of two words: it reports whether it is the
// second, the first being the default when the parameter is absent.
func choiceParam(q url.Values, name, first, second string) (bool, error) {
	switch q.Get(name) {
	case "", first:
		return false, nil
	case second:
		return true, nil
	}
	return false, errorf(http.StatusUnprocessableEntity, "invalid", name+" must be "+first+" or "+second)
}

func intParam(q url.Values, name string) (int, error) {
	v := q.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusUnprocessableEntity, "invalid", fmt.Sprintf("%s must be a whole number of zero or more", name))
	}
	return n, nil
}

// requestDetails answers a request's details as viewer may see them, once the read models hold
// the caller's min_position.
func (a *API) requestDetails(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	if err := a.awaitPosition(w, r); err != nil {
		return 0, nil, err
	}
	d, err := a.queries.RequestDetails(r.Context(), viewer, requestID)
	if err != nil {
		return 0, nil, err
	}
	if d.FromLog {
		w.Header().Set(ProjectionBehindHeader, "true")
	}
	return http.StatusOK, d, nil
}

type historyEvent struct {
	ID         uuid.UUID      `json:"id"`
	Version    int64          `json:"version"`
	Type       string         `json:"type"`
	Data       any            `json:"data"`
	Metadata   map[string]any `json:"metadata"`
	Position   string         `json:"position"`
	RecordedAt time.Time      `json:"recorded_at"`
}

type historyResponse struct {
	RequestID uuid.UUID      `json:"request_id"`
	Verified  bool           `json:"verified"`
	Problem   string         `json:"problem,omitempty"`
	Events    []historyEvent `json:"events"`
}

// history is the auditor's view: the raw stream with its hash chain checked, for a technician
// or an auditor who may see the request (R2 before anything else).
func (a *API) history(_ http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	recorded, verifyErr := a.queries.ReadHistory(r.Context(), viewer, requestID)
	resp := historyResponse{RequestID: requestID, Verified: verifyErr == nil, Events: []historyEvent{}}
	if verifyErr != nil {
		if recorded == nil {
			return 0, nil, verifyErr
		}
		resp.Problem = verifyErr.Error()
	}
	for _, e := range recorded {
		resp.Events = append(resp.Events, historyEvent{
			ID: e.ID, Version: e.Version, Type: e.Type, Data: rawJSON(e.Data), Position: e.Position.String(), RecordedAt: e.RecordedAt,
			Metadata: map[string]any{
				"actor": e.Metadata.Actor, "occurred_at": e.Metadata.OccurredAt, "correlation_id": e.Metadata.CorrelationID,
				"causation_id": e.Metadata.CausationID, "previous_hash": e.Metadata.PreviousHash, "hash": e.Metadata.Hash,
			},
		})
	}
	return http.StatusOK, resp, nil
}
