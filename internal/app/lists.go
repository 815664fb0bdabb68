package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
)

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
	// CustomerWroteAt is when the customer last sent a chat message; nil until they do.
	CustomerWroteAt *time.Time `json:"customer_wrote_at,omitempty"`
	Messages        int        `json:"messages"`
	Files           int        `json:"files"`
	// Breaches are the service-level targets the request breached ("assign", "first_reply",
	// "resolution", in that order); absent when none.
	Breaches []string `json:"breaches,omitempty"`
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
	// SortBreach sorts by how many service-level targets a request breached.
	SortBreach SortColumn = "breach"
)

// ListRequests is a query of the Support Requests panel.
type ListRequests struct {
	TechnicianID uuid.UUID
	// AuditorID, instead of TechnicianID, lists as an auditor: every request of the companies
	// they may read, in every view, New ones whoever is available; MineOnly is refused (an
	// auditor has no queue) and the query is recorded in the access log.
	AuditorID uuid.UUID
	// ClientIP is where an auditor's query comes from, for the access log.
	ClientIP string
	View     View
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
	// Before, from a page's PrevCursor (instead of Cursor), asks for the page before it: the
	// Limit rows that come just before in the same order, or the first page when fewer do.
	Before string
}

// Errors of ListRequests' parameters.
var (
	ErrInvalidView  = errors.New("view must be all, new, active or completed")
	ErrInvalidSort  = errors.New("sort must be submitted, id, customer, company, status, assignee, last_activity or breach")
	ErrInvalidLimit = errors.New("limit must be between 1 and 200")
)

// RequestPage is one page of the list.
type RequestPage struct {
	Requests []RequestSummary `json:"requests"`
	// Total counts the requests that match, over all pages; with a search, it stops counting
	// at MaxSearchTotal and TotalCapped says so.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped,omitempty"`
	// NextCursor starts the next page; empty after the last page.
	NextCursor string `json:"next_cursor,omitempty"`
	// PrevCursor, as ListRequests.Before, asks for the page before this one; empty on the
	// first page. Only ListRequests and ListEveryRequest set it.
	PrevCursor string `json:"prev_cursor,omitempty"`
}

// MaxSearchTotal is where a read model stops counting the matches of a search.
const MaxSearchTotal = 10_000

// ListRequests returns the requests the technician (or the auditor) may see (R2), in the chosen
// view and order.
func (qs *Queries) ListRequests(ctx context.Context, q ListRequests) (RequestPage, error) {
	q, lq, err := q.resolve()
	if err != nil {
		return RequestPage{}, err
	}
	if qs.requestList == nil {
		return RequestPage{}, fmt.Errorf("list requests: %w", ErrNoReadModel)
	}
	if qs.readOwnWrites {
		qs.awaitOwnWrites(ctx) // before the caller's own access and availability are read
	}
	if q.AuditorID != uuid.Nil && q.TechnicianID == uuid.Nil {
		return qs.listAsAuditor(ctx, q, lq)
	}
	tech, err := qs.viewerTechnician(ctx, q.TechnicianID)
	if err != nil {
		return RequestPage{}, err
	}
	if q.MineOnly {
		if lq.Assignee != uuid.Nil && lq.Assignee != tech.ID() {
			return RequestPage{}, ErrInvalidFilter
		}
		lq.Assignee = tech.ID()
	}
	listing := request.ListingFor(tech, q.CompanyID) // R2, as the domain states it
	lq.Companies, lq.IncludeNew = listing.Companies, listing.IncludeNew
	if len(lq.Companies) == 0 || len(lq.Statuses()) == 0 {
		return RequestPage{Requests: []RequestSummary{}}, nil
	}
	return qs.listPage(ctx, lq)
}

// listAsAuditor answers an auditor's list query, once it is recorded.
func (qs *Queries) listAsAuditor(ctx context.Context, q ListRequests, lq RequestListQuery) (RequestPage, error) {
	if q.MineOnly {
		return RequestPage{}, ErrInvalidFilter
	}
	au, err := qs.viewerAuditor(ctx, q.AuditorID)
	if err != nil {
		return RequestPage{}, err
	}
	if lq.Companies, err = qs.auditorListing(ctx, au, q.CompanyID); err != nil {
		return RequestPage{}, err
	}
	lq.IncludeNew = true
	page := RequestPage{Requests: []RequestSummary{}}
	if len(lq.Companies) > 0 && len(lq.Statuses()) > 0 {
		if page, err = qs.listPage(ctx, lq); err != nil {
			return RequestPage{}, err
		}
	}
	viewer := Viewer{AuditorID: q.AuditorID, ClientIP: q.ClientIP}
	if err := qs.recordAccess(ctx, viewer, AccessEntry{Kind: AccessList, Params: listParams(q)}); err != nil {
		return RequestPage{}, err
	}
	return page, nil
}

// listPage reads one page from the read model. A page before a cursor (lq.backward) is a
// keyset page too: the read model walks the opposite order from the cursor, and the rows come
// back reversed; when no row is left before them, the answer is the first page itself, so
// that the first page always holds Limit rows.
func (qs *Queries) listPage(ctx context.Context, lq RequestListQuery) (RequestPage, error) {
	page, err := fromReadModel(ctx, qs, func() (RequestPage, error) { return qs.requestList.ListRequests(ctx, lq) })
	if err != nil {
		return RequestPage{}, err
	}
	if page.Requests == nil {
		page.Requests = []RequestSummary{}
	}
	rows := page.Requests
	switch {
	case lq.backward && page.NextCursor == "":
		first := lq
		first.backward, first.After, first.Descending = false, nil, !lq.Descending
		return qs.listPage(ctx, first)
	case lq.backward:
		slices.Reverse(rows)
		desc := !lq.Descending
		page.PrevCursor = CursorAfter(lq.Sort, desc, rows[0]).String()
		page.NextCursor = CursorAfter(lq.Sort, desc, rows[len(rows)-1]).String()
	case lq.After != nil && len(rows) > 0:
		page.PrevCursor = CursorAfter(lq.Sort, lq.Descending, rows[0]).String()
	}
	return page, nil
}

// PortalCompany returns the company a portal belongs to.
func (qs *Queries) PortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	// A portal never moves to another company: once found, it is remembered, and a
	// submission costs no query to find where it goes.
	if found, ok := qs.portals.Load(portalID); ok {
		f := found.(portalOwner)
		return f.companyID, f.name, nil
	}
	companyID, name, err := qs.lookUpPortalCompany(ctx, portalID)
	if err == nil {
		if qs.portalCount.Add(1) > maxRememberedPortals {
			qs.portals.Clear()
			qs.portalCount.Store(0)
		}
		qs.portals.Store(portalID, portalOwner{companyID: companyID, name: name})
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

func (qs *Queries) lookUpPortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	if qs.directoryRM == nil {
		return uuid.Nil, "", fmt.Errorf("find portal %s: %w", portalID, ErrNoReadModel)
	}
	type found struct {
		id   uuid.UUID
		name string
	}
	f, err := fromReadModel(ctx, qs, func() (found, error) {
		id, name, err := qs.directoryRM.PortalCompany(ctx, portalID)
		return found{id, name}, err
	}, ErrUnknownPortal)
	return f.id, f.name, err
}

// Companies lists every company's ID and name.
func (qs *Queries) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	if qs.directoryRM == nil {
		return nil, fmt.Errorf("list companies: %w", ErrNoReadModel)
	}
	return fromReadModel(ctx, qs, func() (map[uuid.UUID]string, error) { return qs.directoryRM.Companies(ctx) })
}

// Technicians lists every technician's ID and name.
func (qs *Queries) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	if qs.directoryRM == nil {
		return nil, fmt.Errorf("list technicians: %w", ErrNoReadModel)
	}
	return fromReadModel(ctx, qs, func() (map[uuid.UUID]string, error) { return qs.directoryRM.Technicians(ctx) })
}

// resolve checks q's parameters, fills in their defaults, and returns the read-model query they
// make, before R2 says which companies it lists.
func (q ListRequests) resolve() (ListRequests, RequestListQuery, error) {
	if q.View == "" {
		q.View = ViewAll
	}
	if !slices.Contains([]View{ViewAll, ViewNew, ViewActive, ViewCompleted}, q.View) {
		return q, RequestListQuery{}, ErrInvalidView
	}
	if q.Sort == "" {
		q.Sort = SortSubmitted
	}
	if !validSort(q.Sort) {
		return q, RequestListQuery{}, ErrInvalidSort
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		return q, RequestListQuery{}, ErrInvalidLimit
	}
	if q.Search != "" && !validSearch(q.Search) {
		return q, RequestListQuery{}, ErrInvalidSearch
	}
	lq := RequestListQuery{View: q.View, Search: q.Search, Sort: q.Sort, Descending: q.Descending, Limit: q.Limit, Assignee: q.Assignee}
	if q.Before != "" {
		c, err := ParseListCursor(q.Before)
		if err != nil {
			return q, RequestListQuery{}, err
		}
		if q.Cursor != "" || c.Sort != q.Sort || c.Descending != q.Descending {
			return q, RequestListQuery{}, ErrInvalidCursor
		}
		// The rows before c in this order are the rows after it in the opposite order.
		c.Descending = !c.Descending
		lq.After, lq.Descending, lq.backward = &c, !q.Descending, true
	}
	if q.Cursor != "" {
		c, err := ParseListCursor(q.Cursor)
		if err != nil {
			return q, RequestListQuery{}, err
		}
		if c.Sort != q.Sort || c.Descending != q.Descending {
			return q, RequestListQuery{}, ErrInvalidCursor
		}
		lq.After = &c
	}
	return q, lq, nil
}
