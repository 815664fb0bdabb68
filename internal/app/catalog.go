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
// since the last one, so a caller always sees its own writes. It answers when no PostgreSQL
// read model is configured (Config.RequestList, Config.Directory), needs no schema and works
// with every store; it is also the fold that the read models' property test compares with.
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

// ownWrites is the furthest position this process's commands appended.
func (c *catalog) ownWrites() eventlog.Position {
	c.writtenMu.Lock()
	defer c.writtenMu.Unlock()
	return c.written
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
	// AssignedAt is when the current assignee got the request (assigned or transferred).
	AssignedAt *time.Time `json:"assigned_at,omitempty"`
	// ClosedAt is when the request was closed.
	ClosedAt     *time.Time `json:"closed_at,omitempty"`
	LastActivity time.Time  `json:"last_activity"`
	Messages     int        `json:"messages"`
	Files        int        `json:"files"`
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

// waitFor reads the log until the catalog has applied pos or waitCtx ends, and reports
// whether it got there. ctx is the caller's own context: only its end is an error.
func (c *catalog) waitFor(waitCtx, ctx context.Context, store eventlog.Store, pos eventlog.Position) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	wait := time.Millisecond
	for {
		if err := c.readNew(waitCtx, store); err != nil {
			if ctx.Err() == nil && waitCtx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		if c.position.Compare(pos) >= 0 {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-waitCtx.Done():
			return false, nil
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
		s.Assignee, s.Status, s.AssignedAt = &Person{ID: e.TechnicianID}, request.StatusActive, &at
	case *request.Transferred:
		s.Assignee, s.AssignedAt = &Person{ID: e.To}, &at
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
	MineOnly bool
	// Assignee, when set, keeps the open requests assigned to that technician (a queue).
	Assignee uuid.UUID
	// CompanyID, when set, keeps one of the technician's companies.
	CompanyID uuid.UUID
	// Search keeps the requests whose customer name, e-mail or description contains it.
	Search     string
	Sort       SortColumn
	Descending bool
	// Limit is the page size, 1–200; 50 when zero.
	Limit int
	// Cursor, from the previous page's NextCursor, starts the page after it.
	Cursor string
	// Offset skips that many rows. Deprecated: only the in-memory catalog pages by offset;
	// read models page by Cursor.
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
	// Total counts the requests that match, over all pages; with a search, it stops counting
	// at MaxSearchTotal and TotalCapped says so.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
	// NextOffset is where the next page starts, or -1 after the last page (and always -1 when a
	// read model answers: follow NextCursor).
	NextOffset int `json:"next_offset"`
	// NextCursor starts the next page; empty after the last page.
	NextCursor string `json:"next_cursor,omitempty"`
}

// MaxSearchTotal is where a read model stops counting the matches of a search.
const MaxSearchTotal = 10_000

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
	if !validSort(q.Sort) {
		return RequestPage{}, ErrInvalidSort
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 || q.Offset < 0 {
		return RequestPage{}, ErrInvalidLimit
	}
	if q.Search != "" && !validSearch(q.Search) {
		return RequestPage{}, ErrInvalidSearch
	}
	lq := RequestListQuery{View: q.View, Search: q.Search, Sort: q.Sort, Descending: q.Descending, Limit: q.Limit, Assignee: q.Assignee}
	if q.Cursor != "" {
		if q.Offset > 0 {
			return RequestPage{}, ErrOffsetWithCursor
		}
		c, err := ParseListCursor(q.Cursor)
		if err != nil {
			return RequestPage{}, err
		}
		if c.Sort != q.Sort || c.Descending != q.Descending {
			return RequestPage{}, ErrInvalidCursor
		}
		lq.After = &c
	}
	if q.Offset > 0 && a.requestList != nil {
		return RequestPage{}, ErrOffsetUnsupported
	}
	if a.readOwnWrites && a.readModels() {
		a.awaitOwnWrites(ctx) // before the caller's own access and availability are read
	}
	tech, err := a.viewerTechnician(ctx, q.TechnicianID)
	if err != nil {
		return RequestPage{}, err
	}
	if q.MineOnly {
		if lq.Assignee != uuid.Nil && lq.Assignee != tech.ID() {
			return RequestPage{}, ErrInvalidFilter
		}
		lq.Assignee = tech.ID()
	}
	lq.IncludeNew = tech.IsAvailable() // R2: unassigned requests only while Available
	switch {
	case q.CompanyID == uuid.Nil:
		lq.Companies = tech.Companies()
	case tech.HasAccess(q.CompanyID):
		lq.Companies = []uuid.UUID{q.CompanyID}
	}
	if len(lq.Companies) == 0 || len(lq.Statuses()) == 0 {
		return RequestPage{Requests: []RequestSummary{}, NextOffset: -1}, nil
	}
	if a.requestList != nil {
		page, err := fromReadModel(ctx, a, func() (RequestPage, error) { return a.requestList.ListRequests(ctx, lq) },
			func() (RequestPage, error) { return a.catalog.list(ctx, a.store, lq, 0) })
		if err != nil {
			return RequestPage{}, err
		}
		page.NextOffset = -1
		if page.Requests == nil {
			page.Requests = []RequestSummary{}
		}
		return page, nil
	}
	return a.catalog.list(ctx, a.store, lq, q.Offset)
}

// list answers a list query from the catalog: the in-memory fold of the log that defines
// what the read models must answer.
func (c *catalog) list(ctx context.Context, store eventlog.Store, q RequestListQuery, offset int) (RequestPage, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, store); err != nil {
		return RequestPage{}, err
	}
	statuses := q.Statuses()
	search := request.SearchKey(q.Search)
	rows := []RequestSummary{}
	for _, s := range c.requests {
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
		row.CompanyName = c.companies[s.CompanyID]
		if s.Assignee != nil {
			row.Assignee = &Person{ID: s.Assignee.ID, Name: c.technicians[s.Assignee.ID]}
		}
		rows = append(rows, row)
	}
	order := func(x, y RequestSummary) int {
		o := compareBy(q.Sort, x, y)
		if o == 0 {
			o = strings.Compare(x.ID.String(), y.ID.String())
		}
		if q.Descending {
			return -o
		}
		return o
	}
	slices.SortFunc(rows, order)
	page := RequestPage{Total: len(rows), NextOffset: -1, Requests: []RequestSummary{}}
	start := offset
	if q.After != nil {
		pivot := q.After.pivot()
		start, _ = slices.BinarySearchFunc(rows, pivot, func(row, p RequestSummary) int {
			if order(row, p) <= 0 {
				return -1
			}
			return 1
		})
	}
	if start < len(rows) {
		end := min(start+q.Limit, len(rows))
		page.Requests = rows[start:end]
		if end < len(rows) {
			page.NextOffset = end
			page.NextCursor = CursorAfter(q.Sort, q.Descending, rows[end-1]).String()
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
	// A portal never moves to another company: once found, it is remembered, and a
	// submission costs no query to find where it goes.
	if found, ok := a.portals.Load(portalID); ok {
		f := found.(portalOwner)
		return f.companyID, f.name, nil
	}
	companyID, name, err := a.lookUpPortalCompany(ctx, portalID)
	if err == nil {
		if a.portalCount.Add(1) > maxRememberedPortals {
			a.portals.Clear()
			a.portalCount.Store(0)
		}
		a.portals.Store(portalID, portalOwner{companyID: companyID, name: name})
	}
	return companyID, name, err
}

// portalOwner is a portal's company, as PortalCompany remembers it.
type portalOwner struct {
	companyID uuid.UUID
	name      string
}

// maxRememberedPortals bounds what PortalCompany remembers; past it, it starts over.
const maxRememberedPortals = 100_000

func (a *App) lookUpPortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	if a.directoryRM != nil {
		type found struct {
			id   uuid.UUID
			name string
		}
		f, err := fromReadModel(ctx, a, func() (found, error) {
			id, name, err := a.directoryRM.PortalCompany(ctx, portalID)
			return found{id, name}, err
		}, func() (found, error) {
			id, name, err := a.catalog.portalCompany(ctx, a.store, portalID)
			return found{id, name}, err
		}, ErrUnknownPortal)
		return f.id, f.name, err
	}
	return a.catalog.portalCompany(ctx, a.store, portalID)
}

func (c *catalog) portalCompany(ctx context.Context, store eventlog.Store, portalID uuid.UUID) (uuid.UUID, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, store); err != nil {
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
	if a.directoryRM != nil {
		return fromReadModel(ctx, a, func() (map[uuid.UUID]string, error) { return a.directoryRM.Companies(ctx) },
			func() (map[uuid.UUID]string, error) { return a.catalog.names(ctx, a.store, false) })
	}
	return a.catalog.names(ctx, a.store, false)
}

// Technicians lists every technician's ID and name.
func (a *App) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	if a.directoryRM != nil {
		return fromReadModel(ctx, a, func() (map[uuid.UUID]string, error) { return a.directoryRM.Technicians(ctx) },
			func() (map[uuid.UUID]string, error) { return a.catalog.names(ctx, a.store, true) })
	}
	return a.catalog.names(ctx, a.store, true)
}

// names copies the catalog's technician names, or its company names.
func (c *catalog) names(ctx context.Context, store eventlog.Store, technicians bool) (map[uuid.UUID]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.catchUp(ctx, store); err != nil {
		return nil, err
	}
	from := c.companies
	if technicians {
		from = c.technicians
	}
	out := make(map[uuid.UUID]string, len(from))
	for id, name := range from {
		out[id] = name
	}
	return out, nil
}
