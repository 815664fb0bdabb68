package asof

import (
	"bytes"
	"cmp"
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// row is a request as the request list shows it: the domain's request (its status, assignee,
// customer, company) and what the list adds, folded as projections/requestlist folds it.
type row struct {
	id uuid.UUID
	// req is the request as far as the list needs it: submitted, assigned, unassigned,
	// transferred, closed. The chat's events are counted, not folded (see countOnly).
	req *request.Request
	// companyName is the company's name when the request was submitted, assigneeName the
	// assignee's when they got it: the names the list's row was written with.
	companyName  string
	assigneeName string
	submittedAt  time.Time
	lastActivity time.Time
	assignedAt   *time.Time
	closedAt     *time.Time
	messages     int
	files        int
	// customerWrote is when the customer last sent a message.
	customerWrote *time.Time
	// pivotBreach is the breach sort key of a cursor's pivot row, which has no request.
	pivotBreach string

	// The sort keys, as app.SortKey makes them; times in microseconds since the Unix epoch.
	customerKey, companyKey, assigneeKey string
	submittedKey, activityKey            int64
	// pivotStatus is the status sort key of a cursor's pivot row, which has no request.
	pivotStatus string
}

// at is an event's time as the read models store it: PostgreSQL's timestamptz keeps
// microseconds, and the driver drops the rest.
func at(rec *eventlog.RecordedEvent) time.Time {
	return rec.Metadata.OccurredAt.UTC().Truncate(time.Microsecond)
}

// foldRequest applies one decoded request event to the list: r is the request's row, nil
// before its submission.
func (f *folder) foldRequest(id uuid.UUID, r *row, rec *eventlog.RecordedEvent, e eventlog.Event) {
	when := at(rec)
	if sub, ok := e.(*request.Submitted); ok {
		if r != nil {
			return // submitted already
		}
		req, err := request.FromHistory([]eventlog.Event{e})
		if err != nil {
			return
		}
		companyName := f.s.companies[sub.CompanyID]
		r = &row{
			id: id, req: req, companyName: companyName, submittedAt: when, lastActivity: when,
			customerKey:  app.SortKey(app.SortCustomer, app.RequestSummary{CustomerName: sub.Customer.Name}),
			companyKey:   app.SortKey(app.SortCompany, app.RequestSummary{CompanyName: companyName}),
			submittedKey: when.UnixMicro(), activityKey: when.UnixMicro(),
		}
		f.s.rows[id] = r
		f.s.list = append(f.s.list, r)
		return
	}
	r.req.Fold([]eventlog.Event{e})
	r.touched(when)
	switch e := e.(type) {
	case *request.Assigned:
		r.setAssignee(f.s.techNames[e.TechnicianID], &when)
	case *request.Transferred:
		r.setAssignee(f.s.techNames[e.To], &when)
	case *request.Unassigned:
		r.setAssignee("", nil)
	case *request.Closed:
		r.closedAt = &when
	}
}

// touched notes an event of the request at when: its last activity.
func (r *row) touched(when time.Time) {
	r.lastActivity, r.activityKey = when, when.UnixMicro()
}

func (r *row) setAssignee(name string, since *time.Time) {
	r.assigneeName, r.assignedAt = name, since
	r.assigneeKey = app.SortKey(app.SortAssignee, app.RequestSummary{Assignee: r.person()})
}

// person is the assignee as the list names them; nil when unassigned.
func (r *row) person() *app.Person {
	if !r.req.IsAssigned() {
		return nil
	}
	return &app.Person{ID: r.req.Assignee(), Name: r.assigneeName}
}

func (r *row) summary() app.RequestSummary {
	c := r.req.Customer()
	return app.RequestSummary{
		ID:              r.id,
		CompanyID:       r.req.CompanyID(),
		CompanyName:     r.companyName,
		CustomerName:    c.Name,
		CustomerEmail:   c.Email,
		Description:     r.req.Description(),
		Status:          r.req.Status(),
		Assignee:        r.person(),
		Platform:        r.req.Platform(),
		SubmittedAt:     r.submittedAt,
		AssignedAt:      copyTime(r.assignedAt),
		ClosedAt:        copyTime(r.closedAt),
		LastActivity:    r.lastActivity,
		CustomerWroteAt: copyTime(r.customerWrote),
		Messages:        r.messages,
		Files:           r.files,
		Breaches:        r.req.Breached().List(),
	}
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// ListRequests implements app.RequestListReadModel as adapters/postgres/readmodels answers
// it: the same filters, the rows ordered by the sort key then the ID (names by their collation
// keys compared byte by byte, as the "C" collation does; statuses by the lifecycle), the keyset cursor, and the same totals (every match of
// the companies and statuses; with a search or an assignee, counted up to app.MaxSearchTotal).
func (s *Snapshot) ListRequests(_ context.Context, q app.RequestListQuery) (app.RequestPage, error) {
	empty := app.RequestPage{Requests: []app.RequestSummary{}}
	statuses := q.Statuses()
	if len(q.Companies) == 0 || len(statuses) == 0 {
		return empty, nil
	}
	order, ok := orders[q.Sort]
	if !ok {
		return empty, app.ErrInvalidSort
	}
	if q.Limit < 1 || q.Limit > 200 {
		return empty, app.ErrInvalidLimit
	}
	var pivot *row
	if q.After != nil {
		if q.After.Sort != q.Sort || q.After.Descending != q.Descending {
			return empty, app.ErrInvalidCursor
		}
		p, err := pivotOf(*q.After)
		if err != nil {
			return empty, err
		}
		pivot = p
	}
	compare := func(a, b *row) int {
		o := order(a, b)
		if o == 0 {
			o = bytes.Compare(a.id[:], b.id[:])
		}
		if q.Descending {
			return -o
		}
		return o
	}
	keep := s.filter(q, statuses)
	page := boundedHeap{less: func(a, b *row) bool { return compare(a, b) < 0 }, limit: q.Limit + 1}
	matched := 0
	for _, r := range s.list {
		if !keep(r) {
			continue
		}
		matched++
		if pivot == nil || compare(r, pivot) > 0 {
			page.offer(r)
		}
	}
	total, capped := matched, false
	if q.Assignee != uuid.Nil || q.Search != "" {
		capped = matched > app.MaxSearchTotal
		total = min(matched, app.MaxSearchTotal)
	} else if matched == 0 {
		return empty, nil
	}
	got := page.sorted()
	out := app.RequestPage{Requests: make([]app.RequestSummary, 0, len(got)), Total: total, TotalCapped: capped}
	for _, r := range got[:min(len(got), q.Limit)] {
		out.Requests = append(out.Requests, r.summary())
	}
	if len(got) > q.Limit {
		out.NextCursor = app.CursorAfter(q.Sort, q.Descending, out.Requests[q.Limit-1]).String()
	}
	return out, nil
}

// filter returns the test a row passes to be listed: one of the companies, one of the
// statuses (or the assignee's open requests), and the search.
func (s *Snapshot) filter(q app.RequestListQuery, statuses []string) func(*row) bool {
	companies := make(map[uuid.UUID]bool, len(q.Companies))
	for _, c := range q.Companies {
		companies[c] = true
	}
	listed := map[request.Status]bool{}
	for _, st := range statuses {
		listed[request.Status(st)] = true
	}
	term := request.SearchKey(q.Search)
	return func(r *row) bool {
		if !companies[r.req.CompanyID()] {
			return false
		}
		status := r.req.Status()
		if q.Assignee != uuid.Nil {
			if status != request.StatusActive || r.req.Assignee() != q.Assignee {
				return false
			}
		} else if !listed[status] {
			return false
		}
		if q.Search == "" {
			return true
		}
		c := r.req.Customer()
		return strings.Contains(request.SearchDocument(c.Name, c.Email, r.req.Description()), term)
	}
}

// orders compares two rows by a column's key alone.
var orders = map[app.SortColumn]func(a, b *row) int{
	app.SortSubmitted:    func(a, b *row) int { return cmp.Compare(a.submittedKey, b.submittedKey) },
	app.SortLastActivity: func(a, b *row) int { return cmp.Compare(a.activityKey, b.activityKey) },
	app.SortCustomer:     func(a, b *row) int { return strings.Compare(a.customerKey, b.customerKey) },
	app.SortCompany:      func(a, b *row) int { return strings.Compare(a.companyKey, b.companyKey) },
	app.SortAssignee:     func(a, b *row) int { return strings.Compare(a.assigneeKey, b.assigneeKey) },
	app.SortStatus: func(a, b *row) int {
		return strings.Compare(a.statusKey(), b.statusKey())
	},
	app.SortBreach: func(a, b *row) int {
		return strings.Compare(a.breachKey(), b.breachKey())
	},
	app.SortID: func(a, b *row) int { return 0 },
}

// breachKey is the row's breach sort key (request.BreachSortKey); a cursor's pivot row has no
// request and carries its key.
func (r *row) breachKey() string {
	if r.req == nil {
		return r.pivotBreach
	}
	return request.BreachSortKey(len(r.req.Breached().List()))
}

// statusKey is the row's status sort key (the lifecycle order); a cursor's pivot row has no
// request and carries its key.
func (r *row) statusKey() string {
	if r.req == nil {
		return r.pivotStatus
	}
	return app.StatusSortKey(r.req.Status())
}

// pivotOf is a row that sorts exactly where the cursor points.
func pivotOf(c app.ListCursor) (*row, error) {
	p := &row{id: c.ID}
	switch c.Sort {
	case app.SortSubmitted, app.SortLastActivity:
		t, err := c.Time()
		if err != nil {
			return nil, app.ErrInvalidCursor
		}
		p.submittedKey, p.activityKey = t.UnixMicro(), t.UnixMicro()
	case app.SortCustomer:
		p.customerKey = c.Key
	case app.SortStatus:
		p.pivotStatus = c.Key
	case app.SortCompany:
		p.companyKey = c.Key
	case app.SortAssignee:
		p.assigneeKey = c.Key
	case app.SortBreach:
		p.pivotBreach = c.Key
	}
	return p, nil
}

// boundedHeap keeps the limit least rows offered, by less: a page of the list, found in one
// pass over the rows.
type boundedHeap struct {
	less  func(a, b *row) bool
	limit int
	rows  []*row // a max-heap: rows[0] is the greatest kept
}

func (h *boundedHeap) offer(r *row) {
	if len(h.rows) < h.limit {
		h.rows = append(h.rows, r)
		h.up(len(h.rows) - 1)
		return
	}
	if !h.less(r, h.rows[0]) {
		return
	}
	h.rows[0] = r
	h.down(0)
}

func (h *boundedHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(h.rows[parent], h.rows[i]) {
			return
		}
		h.rows[parent], h.rows[i] = h.rows[i], h.rows[parent]
		i = parent
	}
}

func (h *boundedHeap) down(i int) {
	n := len(h.rows)
	for {
		greatest, left, right := i, 2*i+1, 2*i+2
		if left < n && h.less(h.rows[greatest], h.rows[left]) {
			greatest = left
		}
		if right < n && h.less(h.rows[greatest], h.rows[right]) {
			greatest = right
		}
		if greatest == i {
			return
		}
		h.rows[i], h.rows[greatest] = h.rows[greatest], h.rows[i]
		i = greatest
	}
}

// sorted returns the rows kept, least first.
func (h *boundedHeap) sorted() []*row {
	out := make([]*row, len(h.rows))
	for n := len(h.rows); n > 0; n-- {
		out[n-1] = h.rows[0]
		h.rows[0] = h.rows[n-1]
		h.rows = h.rows[:n-1]
		h.down(0)
	}
	return out
}
