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
	"github.com/helpstream/helpstream/internal/timeline"
)

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
	q := r.URL.Query()
	for key := range q {
		switch key {
		case "view", "sort", "order", "limit", "offset", "mine", "cursor", "before", "q", "company", "assignee", "min_position", "as_of", "technician":
		default:
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
	}
	list := app.ListRequests{TechnicianID: viewer.TechnicianID, AuditorID: viewer.AuditorID, ClientIP: viewer.ClientIP,
		View: app.View(q.Get("view")), Sort: app.SortColumn(q.Get("sort")), Cursor: q.Get("cursor"), Before: q.Get("before"), Search: q.Get("q")}
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
	asOf, err := timeParam(q.Get("as_of"), "as_of")
	if err != nil {
		return 0, nil, err
	}
	panelOf, err := idParam(q, "technician")
	if err != nil {
		return 0, nil, err
	}
	var page any
	if !asOf.IsZero() {
		page, err = a.queries.ListRequestsAsOf(r.Context(), asOf, panelOf, list)
	} else if panelOf != uuid.Nil {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "technician (a technician's panel) goes with as_of")
	} else {
		if err := a.awaitPosition(w, r); err != nil {
			return 0, nil, err
		}
		page, err = a.queries.ListRequests(r.Context(), list)
	}
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
	asOf, err := timeParam(r.URL.Query().Get("as_of"), "as_of")
	if err != nil {
		return 0, nil, err
	}
	if !asOf.IsZero() {
		return queryAnswer(a.queries.RequestDetailsAsOf(r.Context(), asOf, viewer, requestID))
	}
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
	// ActorName, Summary and State say who did what, in words, and the request after it.
	ActorName string         `json:"actor_name"`
	Summary   string         `json:"summary"`
	State     timeline.State `json:"state"`
}

type historyResponse struct {
	RequestID uuid.UUID `json:"request_id"`
	// Verified and Problem are the verdict on the whole stream (past the stop too): its hash
	// chain and its fold through the domain.
	Verified bool             `json:"verified"`
	Problem  string           `json:"problem,omitempty"`
	Verdict  timeline.Verdict `json:"verdict"`
	// Total counts the stream's events, past the stop too; Stop says where Events end.
	Total  int             `json:"total"`
	Stop   timeline.Stop   `json:"stop"`
	Events []historyEvent  `json:"events"`
	State  *timeline.State `json:"state"`
}

// history is the auditor's view of a request: every event in order with who did it, a
// summary and the request's state after it, up to as_of or version, and the verdict on the
// whole stream; for a technician or an auditor who may see the request (R2 before anything
// else; an auditor's read is recorded first).
func (a *API) history(_ http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	q := r.URL.Query()
	for key := range q {
		if key != "as_of" && key != "version" {
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
	}
	stop := timeline.End()
	asOf, err := timeParam(q.Get("as_of"), "as_of")
	if err != nil {
		return 0, nil, err
	}
	if _, has := q["version"]; has {
		version, err := strconv.ParseInt(q.Get("version"), 10, 64)
		if err != nil || version < 0 || !asOf.IsZero() {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "version must be an event's version (0, 1, 2…), and cannot go with as_of")
		}
		stop = timeline.AtVersion(version)
	} else if !asOf.IsZero() {
		stop = timeline.AsOf(asOf)
	}
	recorded, verifyErr := a.queries.ReadHistory(r.Context(), viewer, requestID)
	if verifyErr != nil && recorded == nil {
		return 0, nil, verifyErr
	}
	tl, err := timeline.Build(r.Context(), a.cfg.Store, requestID, stop)
	if errors.Is(err, timeline.ErrNoSuchVersion) {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", err.Error())
	}
	if err != nil {
		return 0, nil, err
	}
	resp := historyResponse{RequestID: requestID, Verified: tl.Verdict.OK, Verdict: tl.Verdict, Total: tl.Events, Stop: tl.Stop,
		Events: []historyEvent{}, State: tl.State}
	switch {
	case tl.Verdict.Chain != nil:
		resp.Problem = tl.Verdict.Chain.Problem
	case tl.Verdict.Fold != nil:
		resp.Problem = tl.Verdict.Fold.Problem
	}
	byVersion := make(map[int64]eventlog.RecordedEvent, len(recorded))
	for _, e := range recorded {
		byVersion[e.Version] = e
	}
	for _, step := range tl.Steps {
		e := byVersion[step.Version]
		resp.Events = append(resp.Events, historyEvent{
			ID: step.EventID, Version: step.Version, Type: step.Type, Data: rawJSON(e.Data), Position: step.Position.String(), RecordedAt: step.RecordedAt,
			Metadata: map[string]any{
				"actor": e.Metadata.Actor, "occurred_at": e.Metadata.OccurredAt, "correlation_id": e.Metadata.CorrelationID,
				"causation_id": e.Metadata.CausationID, "previous_hash": e.Metadata.PreviousHash, "hash": e.Metadata.Hash,
			},
			ActorName: step.ActorName, Summary: step.Summary, State: step.State,
		})
	}
	return http.StatusOK, resp, nil
}
