package requestlist_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// reference is the property test's yardstick: the request list and the directory folded from
// the whole log in memory, in the plainest way, sorted and filtered in Go. The read models
// must answer every query as it does. It knows no details and no technician (it answers
// ErrNotFound), so that the application folds those from their streams.
type reference struct {
	store eventlog.Store

	mu          sync.Mutex
	position    eventlog.Position
	requests    map[uuid.UUID]*app.RequestSummary
	companies   map[uuid.UUID]string
	technicians map[uuid.UUID]string
	portals     map[uuid.UUID]uuid.UUID // portal → company
}

func newReference(store eventlog.Store) *reference {
	return &reference{store: store, requests: map[uuid.UUID]*app.RequestSummary{}, companies: map[uuid.UUID]string{},
		technicians: map[uuid.UUID]string{}, portals: map[uuid.UUID]uuid.UUID{}}
}

// config makes an application answer from the reference.
func (r *reference) config(cfg app.Config) app.Config {
	cfg.RequestList, cfg.RequestDetails, cfg.Directory, cfg.WaitFor = r, r, r, r.waitFor
	return cfg
}

// waitFor reads the log up to pos: what the log delivers is all there is to wait for.
func (r *reference) waitFor(ctx context.Context, pos eventlog.Position) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.readNew(ctx); err != nil {
		return false, err
	}
	return r.position.Compare(pos) >= 0, nil
}

// readNew applies what the log gained since the last read.
func (r *reference) readNew(ctx context.Context) error {
	for {
		batch, err := r.store.ReadAll(ctx, r.position, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			return fmt.Errorf("reference: read the log: %w", err)
		}
		for _, rec := range batch {
			r.apply(rec)
			r.position = rec.Position
		}
		if len(batch) < 1000 {
			return nil
		}
	}
}

func (r *reference) apply(rec eventlog.RecordedEvent) {
	var e eventlog.Event
	var err error
	switch {
	case request.Codec().Knows(rec.Type):
		e, err = request.Codec().Decode(rec.Type, rec.Data)
	case directory.Codec().Knows(rec.Type):
		e, err = directory.Codec().Decode(rec.Type, rec.Data)
	default:
		return
	}
	if err != nil {
		return
	}
	at := rec.Metadata.OccurredAt
	switch e := e.(type) {
	case *directory.CompanyCreated:
		r.companies[e.CompanyID] = e.Name
	case *directory.PortalCreated:
		r.portals[e.PortalID] = e.CompanyID
	case *directory.TechnicianRegistered:
		r.technicians[e.TechnicianID] = e.Name
	case *request.Submitted:
		r.requests[e.RequestID] = &app.RequestSummary{
			ID: e.RequestID, CompanyID: e.CompanyID, CustomerName: e.Customer.Name, CustomerEmail: e.Customer.Email,
			Description: e.Description, Status: request.StatusNew, Platform: e.Source.Platform, SubmittedAt: at, LastActivity: at,
		}
	}
	id, err := uuid.Parse(strings.TrimPrefix(rec.StreamID, request.StreamPrefix))
	if err != nil || !strings.HasPrefix(rec.StreamID, request.StreamPrefix) {
		return
	}
	s, ok := r.requests[id]
	if !ok {
		return
	}
	s.LastActivity = at
	switch e := e.(type) {
	case *request.Assigned:
		s.Assignee, s.Status, s.AssignedAt = &app.Person{ID: e.TechnicianID}, request.StatusActive, &at
	case *request.Transferred:
		s.Assignee, s.AssignedAt = &app.Person{ID: e.To}, &at
	case *request.Unassigned:
		s.Assignee, s.Status, s.AssignedAt = nil, request.StatusNew, nil
	case *request.MessageSent:
		s.Messages++
	case *request.FileShared:
		s.Files++
	case *request.Closed:
		s.Status, s.ClosedAt = request.StatusCompleted, &at
	}
}

func (r *reference) ListRequests(ctx context.Context, q app.RequestListQuery) (app.RequestPage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.readNew(ctx); err != nil {
		return app.RequestPage{}, err
	}
	statuses := q.Statuses()
	search := request.SearchKey(q.Search)
	rows := []app.RequestSummary{}
	for _, s := range r.requests {
		if !slices.Contains(q.Companies, s.CompanyID) || !slices.Contains(statuses, string(s.Status)) {
			continue
		}
		if q.Assignee != uuid.Nil && (s.Assignee == nil || s.Assignee.ID != q.Assignee) {
			continue
		}
		if q.Search != "" && !strings.Contains(request.SearchDocument(s.CustomerName, s.CustomerEmail, s.Description), search) {
			continue
		}
		row := *s
		row.CompanyName = r.companies[s.CompanyID]
		if s.Assignee != nil {
			row.Assignee = &app.Person{ID: s.Assignee.ID, Name: r.technicians[s.Assignee.ID]}
		}
		rows = append(rows, row)
	}
	order := func(x, y app.RequestSummary) int {
		o := cmp.Compare(app.SortKey(q.Sort, x), app.SortKey(q.Sort, y))
		if q.Sort == app.SortSubmitted || q.Sort == app.SortLastActivity {
			o = compareTimes(q.Sort, x, y)
		}
		if o == 0 {
			o = strings.Compare(x.ID.String(), y.ID.String())
		}
		if q.Descending {
			return -o
		}
		return o
	}
	slices.SortFunc(rows, order)
	page := app.RequestPage{Total: len(rows), Requests: []app.RequestSummary{}}
	start := 0
	if q.After != nil {
		start = slices.IndexFunc(rows, func(row app.RequestSummary) bool {
			return app.CursorAfter(q.Sort, q.Descending, row) == *q.After
		}) + 1
	}
	if start < len(rows) {
		end := min(start+q.Limit, len(rows))
		page.Requests = rows[start:end]
		if end < len(rows) {
			page.NextCursor = app.CursorAfter(q.Sort, q.Descending, rows[end-1]).String()
		}
	}
	return page, nil
}

// compareTimes compares on a time column as times (their keys are RFC 3339 texts).
func compareTimes(col app.SortColumn, x, y app.RequestSummary) int {
	if col == app.SortLastActivity {
		return x.LastActivity.Compare(y.LastActivity)
	}
	return x.SubmittedAt.Compare(y.SubmittedAt)
}

func (r *reference) RequestDetails(context.Context, app.RequestDetailsQuery) (app.RequestDetails, error) {
	return app.RequestDetails{}, app.ErrNotFound
}

func (r *reference) Technician(context.Context, uuid.UUID) (*directory.Technician, error) {
	return nil, app.ErrNotFound
}

func (r *reference) PortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.readNew(ctx); err != nil {
		return uuid.Nil, "", err
	}
	company, ok := r.portals[portalID]
	if !ok {
		return uuid.Nil, "", fmt.Errorf("portal %s: %w", portalID, app.ErrUnknownPortal)
	}
	return company, r.companies[company], nil
}

func (r *reference) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	return r.names(ctx, false)
}

func (r *reference) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	return r.names(ctx, true)
}

// Auditors is not what the list reads: the reference keeps no auditors.
func (r *reference) Auditors(context.Context) ([]directory.AuditorState, error) {
	return nil, errors.New("the reference read model keeps no auditors")
}

func (r *reference) names(ctx context.Context, technicians bool) (map[uuid.UUID]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.readNew(ctx); err != nil {
		return nil, err
	}
	if technicians {
		return maps.Clone(r.technicians), nil
	}
	return maps.Clone(r.companies), nil
}
