package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// The catalog is an in-memory read model of the request list and the directory, folded from
// the global log through the event-store port. Every query first reads what the log gained
// since the last one, so a caller always sees its own writes. It serves the list routes until
// the PostgreSQL projections take over; it needs no schema and works with every store.
type catalog struct {
	mu          sync.Mutex
	position    eventlog.Position
	requests    map[uuid.UUID]*RequestSummary
	companies   map[uuid.UUID]string
	technicians map[uuid.UUID]string
	portals     map[uuid.UUID]uuid.UUID // portal → company
	requestsC   *eventlog.Codec
	directoryC  *eventlog.Codec

	// written is the furthest position this process's own commands appended; a query waits
	// until the catalog has read that far, so a caller always sees its own writes even when
	// the store holds them back behind another, older transaction that is still open.
	writtenMu sync.Mutex
	written   eventlog.Position
}

// maxOwnWriteWait bounds how long a query waits for the store to release this process's own
// writes; after it the query answers from what the catalog has.
const maxOwnWriteWait = 5 * time.Second

func (c *catalog) noteWritten(p eventlog.Position) {
	c.writtenMu.Lock()
	if p.Compare(c.written) > 0 {
		c.written = p
	}
	c.writtenMu.Unlock()
}

func newCatalog() *catalog {
	return &catalog{
		requests:    map[uuid.UUID]*RequestSummary{},
		companies:   map[uuid.UUID]string{},
		technicians: map[uuid.UUID]string{},
		portals:     map[uuid.UUID]uuid.UUID{},
		requestsC:   request.Codec(),
		directoryC:  directory.Codec(),
	}
}

// RequestSummary is one row of the Support Requests panel (R3).
type RequestSummary struct {
	ID            uuid.UUID        `json:"id"`
	CompanyID     uuid.UUID        `json:"company_id"`
	CompanyName   string           `json:"company_name"`
	CustomerName  string           `json:"customer_name"`
	CustomerEmail string           `json:"customer_email"`
	Description   string           `json:"description"`
	Status        request.Status   `json:"status"`
	Assignee      *Person          `json:"assignee"`
	Platform      request.Platform `json:"platform"`
	SubmittedAt   time.Time        `json:"submitted_at"`
	LastActivity  time.Time        `json:"last_activity"`
	Messages      int              `json:"messages"`
	Files         int              `json:"files"`
}

func (c *catalog) catchUp(ctx context.Context, store eventlog.Store) error {
	c.writtenMu.Lock()
	want := c.written
	c.writtenMu.Unlock()
	deadline := time.Now().Add(maxOwnWriteWait)
	wait := time.Millisecond
	for {
		if err := c.readNew(ctx, store); err != nil {
			return err
		}
		if c.position.Compare(want) >= 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}

// readNew applies what the log gained since the last read.
func (c *catalog) readNew(ctx context.Context, store eventlog.Store) error {
	const page = 1000
	for {
		batch, err := store.ReadAll(ctx, c.position, eventlog.ReadOptions{Limit: page})
		if err != nil {
			return fmt.Errorf("catalog: read the log: %w", err)
		}
		for _, rec := range batch {
			c.apply(rec)
			c.position = rec.Position
		}
		if len(batch) < page {
			return nil
		}
	}
}

func (c *catalog) apply(rec eventlog.RecordedEvent) {
	var codec *eventlog.Codec
	switch {
	case c.requestsC.Knows(rec.Type):
		codec = c.requestsC
	case c.directoryC.Knows(rec.Type):
		codec = c.directoryC
	default:
		return
	}
	e, err := codec.Decode(rec.Type, rec.Data)
	if err != nil {
		return
	}
	at := rec.Metadata.OccurredAt
	switch e := e.(type) {
	case *directory.CompanyCreated:
		c.companies[e.CompanyID] = e.Name
	case *directory.PortalCreated:
		c.portals[e.PortalID] = e.CompanyID
	case *directory.TechnicianRegistered:
		c.technicians[e.TechnicianID] = e.Name
	case *request.Submitted:
		c.requests[e.RequestID] = &RequestSummary{
			ID: e.RequestID, CompanyID: e.CompanyID, CustomerName: e.Customer.Name, CustomerEmail: e.Customer.Email,
			Description: e.Description, Status: request.StatusNew, Platform: e.Source.Platform, SubmittedAt: at, LastActivity: at,
		}
	}
	id, err := uuid.Parse(strings.TrimPrefix(rec.StreamID, request.StreamPrefix))
	if err != nil || !strings.HasPrefix(rec.StreamID, request.StreamPrefix) {
		return
	}
	s, ok := c.requests[id]
	if !ok {
		return
	}
	s.LastActivity = at
	switch e := e.(type) {
	case *request.Assigned:
		s.Assignee, s.Status = &Person{ID: e.TechnicianID}, request.StatusActive
	case *request.Transferred:
		s.Assignee = &Person{ID: e.To}
	case *request.Unassigned:
		s.Assignee, s.Status = nil, request.StatusNew
	case *request.MessageSent:
		s.Messages++
	case *request.FileShared:
		s.Files++
	case *request.Closed:
		s.Status = request.StatusCompleted
	}
}

// View selects requests by status (R3).
type View string

const (
	ViewAll       View = "all"
	ViewNew       View = "new"
	ViewActive    View = "active"
	ViewCompleted View = "completed"
)

// SortColumn is a column of the Support Requests panel (R3).
type SortColumn string

const (
	SortSubmitted    SortColumn = "submitted"
	SortID           SortColumn = "id"
	SortCustomer     SortColumn = "customer"
	SortCompany      SortColumn = "company"
	SortStatus       SortColumn = "status"
	SortAssignee     SortColumn = "assignee"
	SortLastActivity SortColumn = "last_activity"
)

// ListRequests is a query of the Support Requests panel.
type ListRequests struct {
	TechnicianID uuid.UUID
	View         View
	// MineOnly keeps the requests assigned to the technician (My Support Requests, R4).
	MineOnly   bool
	Sort       SortColumn
	Descending bool
	// Limit is the page size, 1–200; 50 when zero.
	Limit int
	// Offset skips that many rows.
	Offset int
}

// Errors of ListRequests' parameters.
var (
	ErrInvalidView  = errors.New("view must be all, new, active or completed")
	ErrInvalidSort  = errors.New("sort must be submitted, id, customer, company, status, assignee or last_activity")
	ErrInvalidLimit = errors.New("limit must be between 1 and 200")
)

// RequestPage is one page of the list.
type RequestPage struct {
	Requests []RequestSummary `json:"requests"`
	Total    int              `json:"total"`
	// NextOffset is where the next page starts, or -1 after the last page.
	NextOffset int `json:"next_offset"`
}

// ListRequests returns the requests the technician may see (R2), in the chosen view and order.
func (a *App) ListRequests(ctx context.Context, q ListRequests) (RequestPage, error) {
	if q.View == "" {
		q.View = ViewAll
	}
	if !slices.Contains([]View{ViewAll, ViewNew, ViewActive, ViewCompleted}, q.View) {
		return RequestPage{}, ErrInvalidView
	}
	if q.Sort == "" {
		q.Sort = SortSubmitted
	}
	if !slices.Contains([]SortColumn{SortSubmitted, SortID, SortCustomer, SortCompany, SortStatus, SortAssignee, SortLastActivity}, q.Sort) {
		return RequestPage{}, ErrInvalidSort
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 || q.Offset < 0 {
		return RequestPage{}, ErrInvalidLimit
	}
	tech, _, err := a.loadTechnician(ctx, q.TechnicianID)
	if err != nil {
		return RequestPage{}, err
	}
	c := a.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, a.store); err != nil {
		return RequestPage{}, err
	}
	rows := []RequestSummary{}
	for _, s := range c.requests {
		if !tech.HasAccess(s.CompanyID) {
			continue
		}
		if s.Status == request.StatusNew && !tech.IsAvailable() {
			continue // R2: unassigned requests only while Available
		}
		if q.View != ViewAll && string(s.Status) != string(q.View) {
			continue
		}
		if q.MineOnly && (s.Assignee == nil || s.Assignee.ID != tech.ID() || s.Status == request.StatusCompleted) {
			continue
		}
		row := *s
		row.CompanyName = c.companies[s.CompanyID]
		if s.Assignee != nil {
			row.Assignee = &Person{ID: s.Assignee.ID, Name: c.technicians[s.Assignee.ID]}
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(x, y RequestSummary) int {
		order := compareBy(q.Sort, x, y)
		if order == 0 {
			order = strings.Compare(x.ID.String(), y.ID.String())
		}
		if q.Descending {
			return -order
		}
		return order
	})
	page := RequestPage{Total: len(rows), NextOffset: -1, Requests: []RequestSummary{}}
	if q.Offset < len(rows) {
		end := min(q.Offset+q.Limit, len(rows))
		page.Requests = rows[q.Offset:end]
		if end < len(rows) {
			page.NextOffset = end
		}
	}
	return page, nil
}

func compareBy(col SortColumn, x, y RequestSummary) int {
	switch col {
	case SortID:
		return strings.Compare(x.ID.String(), y.ID.String())
	case SortCustomer:
		return cmp.Compare(strings.ToLower(x.CustomerName), strings.ToLower(y.CustomerName))
	case SortCompany:
		return cmp.Compare(strings.ToLower(x.CompanyName), strings.ToLower(y.CompanyName))
	case SortStatus:
		return cmp.Compare(x.Status, y.Status)
	case SortAssignee:
		name := func(p *Person) string {
			if p == nil {
				return ""
			}
			return strings.ToLower(p.Name)
		}
		return cmp.Compare(name(x.Assignee), name(y.Assignee))
	case SortLastActivity:
		return x.LastActivity.Compare(y.LastActivity)
	default:
		return x.SubmittedAt.Compare(y.SubmittedAt)
	}
}

// PortalCompany returns the company a portal belongs to.
func (a *App) PortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	c := a.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, a.store); err != nil {
		return uuid.Nil, "", err
	}
	company, ok := c.portals[portalID]
	if !ok {
		return uuid.Nil, "", fmt.Errorf("portal %s: %w", portalID, ErrUnknownPortal)
	}
	return company, c.companies[company], nil
}

// Companies lists every company's ID and name.
func (a *App) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	c := a.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, a.store); err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(c.companies))
	for id, name := range c.companies {
		out[id] = name
	}
	return out, nil
}

// Technicians lists every technician's ID and name.
func (a *App) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	c := a.catalog
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, a.store); err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]string, len(c.technicians))
	for id, name := range c.technicians {
		out[id] = name
	}
	return out, nil
}
