package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// pageSize is how many requests one page of the Support Requests list shows.
const pageSize = 50

type listPanel struct {
	Fragment string
	// Action is where the search form goes: the page the list is on.
	Action string
	// View, Sort and Order are the list's current choices, kept by the search form.
	View, Sort, Order string
	Search            string
	Companies         []option
	Assignees         []option
	// Filtered says a search or a filter narrows the list (the form offers to clear it).
	Filtered bool
	// FilterKey is the form's data-live-key: a live refresh keeps the form (and what is being
	// typed in it) while the search and filters it shows stay the same.
	FilterKey string
	Clear     string
	Views     []viewLink
	Columns   []column
	// SortByID orders by request ID: R3 sorts by any column, and the ID is no column of the
	// list any more (it is in the details).
	SortByID     viewLink
	Rows         []listRow
	Empty        string
	Error        string
	First        string
	Prev         string
	Next         string
	Range        string
	Total        int
	TotalCapped  bool
	FilterErrors []string
}

type viewLink struct {
	Name, Label, Href string
	Current           bool
	// Count is how many requests the view holds (with the current search and filters); Counted
	// says it is known (auditors' lists show no counts: each count would be a recorded read).
	Count   string
	Counted bool
}

type column struct {
	Key, Label, Href string
	// Sort is the aria-sort value: "ascending", "descending" or "none".
	Sort string
}

type listRow struct {
	ID       uuid.UUID
	Href     string
	Customer string
	Company  string
	Status   string
	Assignee string
	Current  bool
	// When says, relative to now, how long the customer has waited (new), when they last
	// wrote (active) or when the request was closed; WhenAt is that moment, WhenTitle its
	// exact time for the title.
	When   string
	WhenAt time.Time
	// WhenKind is "waiting", "wrote" or "closed": what When says, for a script that would
	// refresh the text between updates.
	WhenKind  string
	WhenTitle string
	Preview   string
	// Device is the platform's key (windows, mac, ios, android), DeviceName its name.
	Device     string
	DeviceName string
	// Unread marks a request of mine the customer wrote in after I last opened it.
	Unread bool
	// Viewers names the other technicians who have the request open now (issue 16).
	Viewers string
	// Breaches are the service-level targets the request breached, in words ("assign", "first
	// reply", "resolution"); Breached is their keys, space-separated, for scripts and tests.
	Breaches []string
	Breached string
}

// breachWords name the service-level targets in the lists.
var breachWords = map[string]string{"assign": "assign", "first_reply": "first reply", "resolution": "resolution"}

// choice is a value a panel offers, with its label.
type choice[T ~string] struct {
	value T
	label string
}

// pick is v when choices offer it, or fallback: an address names no view or column the
// panel does not have.
func pick[T ~string](choices []choice[T], v, fallback T) T {
	if slices.ContainsFunc(choices, func(c choice[T]) bool { return c.value == v }) {
		return v
	}
	return fallback
}

var views = []choice[app.View]{{app.ViewAll, "All"}, {app.ViewNew, "New"}, {app.ViewActive, "Active"}, {app.ViewCompleted, "Completed"}}

// columns are the list's columns, in order. The request ID is sortable (SortByID) but no
// column: the details show it.
var columns = []choice[app.SortColumn]{
	{app.SortSubmitted, "Waiting"}, {app.SortCustomer, "Customer"},
	{app.SortCompany, "Company"}, {app.SortStatus, "Status"}, {app.SortAssignee, "Assignee"},
	{app.SortBreach, "Breach"},
}

var sorts = append(slices.Clone(columns), choice[app.SortColumn]{app.SortID, "Request ID"})

// listState is what the list's address says: the view, the order, the search and filters,
// and where the page starts.
type listState struct {
	view     app.View
	sort     app.SortColumn
	desc     bool
	search   string
	company  string
	assignee string
}

func (st listState) values() url.Values {
	u := url.Values{"view": {string(st.view)}, "sort": {string(st.sort)}, "order": {map[bool]string{false: "asc", true: "desc"}[st.desc]}}
	if st.search != "" {
		u.Set("q", st.search)
	}
	if st.company != "" {
		u.Set("company", st.company)
	}
	if st.assignee != "" {
		u.Set("assignee", st.assignee)
	}
	return u
}

func (h *Handler) listPanel(r *http.Request, s app.Session, profile app.TechnicianProfile, current uuid.UUID) listPanel {
	q := r.URL.Query()
	st := listState{
		view: pick(views, app.View(q.Get("view")), app.ViewAll),
		sort: pick(sorts, app.SortColumn(q.Get("sort")), app.SortSubmitted),
		desc: q.Get("order") == "desc", search: strings.TrimSpace(q.Get("q")),
		company: q.Get("company"), assignee: q.Get("assignee"),
	}
	if q.Get("order") == "" && st.sort == app.SortSubmitted {
		st.desc = true // newest first unless asked otherwise
	}
	base := "/console"
	if current != uuid.Nil {
		base = "/console/requests/" + current.String()
	}
	link := func(st listState, extra url.Values) string {
		u := st.values()
		for k, v := range extra {
			u[k] = v
		}
		return base + "?" + u.Encode()
	}
	frag := st.values()
	for _, k := range []string{"cursor", "before", "from"} {
		if q.Get(k) != "" {
			frag.Set(k, q.Get(k))
		}
	}
	if current != uuid.Nil {
		frag.Set("current", current.String())
	}
	p := listPanel{
		Fragment: "/console/fragments/support-requests?" + frag.Encode(), Action: base,
		View: string(st.view), Sort: string(st.sort), Order: map[bool]string{false: "asc", true: "desc"}[st.desc],
		Search: st.search, Filtered: st.search != "" || st.company != "" || st.assignee != "",
	}
	p.FilterKey = st.values().Encode() + "&action=" + url.QueryEscape(base)
	p.Clear = link(listState{view: st.view, sort: st.sort, desc: st.desc}, nil)

	v := h.viewer(r, s)
	lq := app.ListRequests{
		TechnicianID: v.TechnicianID, AuditorID: v.AuditorID, ClientIP: v.ClientIP,
		View: st.view, Sort: st.sort, Descending: st.desc, Limit: pageSize, Search: st.search,
		Cursor: q.Get("cursor"), Before: q.Get("before"),
	}
	companies, assignees := h.filterChoices(r, s, profile)
	var badFilter bool
	if st.company != "" {
		id, err := uuid.Parse(st.company)
		badFilter = badFilter || err != nil
		lq.CompanyID = id
	}
	if st.assignee != "" {
		id, err := uuid.Parse(st.assignee)
		badFilter = badFilter || err != nil
		lq.Assignee = id
	}
	p.Companies = markSelected(companies, st.company, "Every company")
	p.Assignees = markSelected(assignees, st.assignee, "Anyone")

	counts := map[app.View]string{}
	if !s.IsAuditor() && !badFilter {
		counts = h.viewCounts(r, lq)
	}
	for _, vw := range views {
		n, ok := counts[vw.value]
		p.Views = append(p.Views, viewLink{Name: string(vw.value), Label: vw.label, Href: link(listState{view: vw.value, sort: st.sort, desc: st.desc,
			search: st.search, company: st.company, assignee: st.assignee}, nil), Current: vw.value == st.view, Count: n, Counted: ok})
	}
	sortLink := func(col app.SortColumn) (href, sort string) {
		nextDesc := false
		sort = "none"
		if col == st.sort {
			sort = map[bool]string{false: "ascending", true: "descending"}[st.desc]
			nextDesc = !st.desc
		}
		next := st
		next.sort, next.desc = col, nextDesc
		return link(next, nil), sort
	}
	for _, c := range columns {
		col := column{Key: string(c.value), Label: c.label}
		col.Href, col.Sort = sortLink(c.value)
		p.Columns = append(p.Columns, col)
	}
	p.SortByID = viewLink{Name: string(app.SortID), Label: "Order by request ID"}
	p.SortByID.Href, _ = sortLink(app.SortID)
	p.SortByID.Current = st.sort == app.SortID

	if badFilter {
		p.Error = "The company or assignee filter is not valid; choose one from the lists."
		return p
	}
	page, err := h.queries.ListRequests(r.Context(), lq)
	if err != nil {
		p.Error = "The list could not be shown: " + h.message(r.Context(), err)
		if errors.Is(err, app.ErrInvalidCursor) {
			p.First = link(st, nil)
		}
		return p
	}
	p.Total, p.TotalCapped = page.Total, page.TotalCapped
	for _, row := range h.listRows(r, s, page.Requests, current) {
		if q.Has("view") || q.Has("sort") {
			row.Href += "?" + st.values().Encode()
		}
		p.Rows = append(p.Rows, row)
	}
	// from is where the page starts in the whole list (1-based), carried in the address:
	// keyset pages know no offset. The first page (no cursor, or a page before that reached
	// the start) always starts at 1.
	from := 1
	if page.PrevCursor != "" {
		from, _ = strconv.Atoi(q.Get("from"))
		from = min(max(from, 1), max(page.Total-len(p.Rows)+1, 1))
	}
	if len(p.Rows) > 0 {
		total := strconv.Itoa(page.Total)
		if page.TotalCapped {
			total += "+"
		}
		p.Range = fmt.Sprintf("%d–%d of %s", from, from+len(p.Rows)-1, total)
	}
	if page.PrevCursor != "" {
		p.First = link(st, nil)
		p.Prev = link(st, url.Values{"before": {page.PrevCursor}, "from": {strconv.Itoa(max(from-pageSize, 1))}})
	}
	if page.NextCursor != "" {
		p.Next = link(st, url.Values{"cursor": {page.NextCursor}, "from": {strconv.Itoa(from + len(p.Rows))}})
	}
	if len(p.Rows) == 0 {
		p.Empty = "There are no requests in this view."
		if p.Filtered {
			p.Empty = "No request in this view matches the search and filters."
		}
		if !s.IsAuditor() && profile.Availability != directory.Available && (st.view == app.ViewAll || st.view == app.ViewNew) {
			p.Empty += " New, unassigned requests show only while your status is Available."
		}
	}
	return p
}

// viewCounts counts the requests of each view under the list's search and filters: one
// one-row query a status, whose totals the read model takes from its counts table.
func (h *Handler) viewCounts(r *http.Request, lq app.ListRequests) map[app.View]string {
	out := map[app.View]string{}
	var all int
	capped := false
	for _, vw := range []app.View{app.ViewNew, app.ViewActive, app.ViewCompleted} {
		c := lq
		c.View, c.Limit, c.Cursor, c.Before = vw, 1, "", ""
		page, err := h.queries.ListRequests(r.Context(), c)
		if err != nil {
			return map[app.View]string{}
		}
		out[vw] = strconv.Itoa(page.Total)
		if page.TotalCapped {
			out[vw] += "+"
			capped = true
		}
		all += page.Total
	}
	out[app.ViewAll] = strconv.Itoa(all)
	if capped {
		out[app.ViewAll] += "+"
	}
	return out
}

// filterChoices are the companies the viewer may list and the technicians who serve them.
func (h *Handler) filterChoices(r *http.Request, s app.Session, profile app.TechnicianProfile) (companies, assignees []option) {
	ctx := r.Context()
	names, err := h.queries.Companies(ctx)
	if err != nil {
		return nil, nil
	}
	mine := map[uuid.UUID]bool{}
	if s.IsAuditor() {
		p, err := h.queries.AuditorProfile(ctx, s.AuditorID)
		if err != nil {
			return nil, nil
		}
		for id := range names {
			if p.AllCompanies || slices.Contains(p.Companies, id) {
				mine[id] = true
			}
		}
	} else {
		for _, id := range profile.Companies {
			mine[id] = true
		}
	}
	for id := range mine {
		companies = append(companies, option{Value: id.String(), Label: cmp.Or(names[id], "Unnamed company")})
	}
	slices.SortFunc(companies, func(a, b option) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	techs, err := h.queries.Technicians(ctx)
	if err != nil {
		return companies, nil
	}
	for id, name := range techs {
		if len(assignees) >= 200 {
			break
		}
		t, err := h.cfg.App.Technician(ctx, id)
		if err != nil || !slices.ContainsFunc(t.Companies(), func(c uuid.UUID) bool { return mine[c] }) {
			continue
		}
		label := name
		if id == s.TechnicianID {
			label += " (me)"
		}
		assignees = append(assignees, option{Value: id.String(), Label: label})
	}
	slices.SortFunc(assignees, func(a, b option) int { return strings.Compare(strings.ToLower(a.Label), strings.ToLower(b.Label)) })
	return companies, assignees
}

// markSelected puts the "no filter" choice first and selects value.
func markSelected(opts []option, value, none string) []option {
	out := []option{{Value: "", Label: none, Selected: value == ""}}
	for _, o := range opts {
		o.Selected = o.Value == value
		out = append(out, o)
	}
	return out
}

// summaryRow is one request as the lists show it.
// listRows are the rows of requests as the technician sees them now, current the one open
// beside the list.
func (h *Handler) listRows(r *http.Request, s app.Session, requests []app.RequestSummary, current uuid.UUID) []listRow {
	now := time.Now()
	reads := h.readTimes(r, s, requests)
	rows := make([]listRow, 0, len(requests))
	for _, sm := range requests {
		row := summaryRow(sm, now, reads)
		row.Current = sm.ID == current
		// The request open beside the list is being read: its details fragment marks it read,
		// maybe a moment after this panel is fetched.
		row.Unread = row.Unread && !row.Current
		if !s.IsAuditor() {
			row.Viewers = h.presenceOf(sm.ID, s.TechnicianID).Viewing
		}
		rows = append(rows, row)
	}
	return rows
}

func summaryRow(sm app.RequestSummary, now time.Time, reads map[uuid.UUID]time.Time) listRow {
	row := listRow{ID: sm.ID, Href: "/console/requests/" + sm.ID.String(), Customer: sm.CustomerName, Company: sm.CompanyName,
		Status: string(sm.Status), Assignee: "Unassigned", Preview: preview(sm.Description, 90),
		Device: string(sm.Platform), DeviceName: platformName(sm.Platform)}
	if sm.Assignee != nil {
		row.Assignee = cmp.Or(sm.Assignee.Name, "A technician")
	}
	switch {
	case sm.Status == request.StatusCompleted && sm.ClosedAt != nil:
		row.WhenKind, row.WhenAt, row.When = "closed", *sm.ClosedAt, "closed "+ago(now.Sub(*sm.ClosedAt))+" ago"
		row.WhenTitle = "Closed " + exact(*sm.ClosedAt) + "; submitted " + exact(sm.SubmittedAt)
	case sm.Status == request.StatusActive && sm.CustomerWroteAt != nil:
		row.WhenKind, row.WhenAt, row.When = "wrote", *sm.CustomerWroteAt, "wrote "+ago(now.Sub(*sm.CustomerWroteAt))+" ago"
		row.WhenTitle = "The customer last wrote " + exact(*sm.CustomerWroteAt) + "; submitted " + exact(sm.SubmittedAt)
	default:
		row.WhenKind, row.WhenAt, row.When = "waiting", sm.SubmittedAt, "waiting "+ago(now.Sub(sm.SubmittedAt))
		row.WhenTitle = "Submitted " + exact(sm.SubmittedAt)
	}
	for _, b := range sm.Breaches {
		row.Breaches = append(row.Breaches, cmp.Or(breachWords[b], b))
	}
	row.Breached = strings.Join(sm.Breaches, " ")
	if sm.CustomerWroteAt != nil && sm.Status == request.StatusActive {
		read, ok := reads[sm.ID]
		row.Unread = reads != nil && (!ok || sm.CustomerWroteAt.After(read))
	}
	return row
}

// ago says a duration the short way a list does: "<1 min", "4 min", "3 h", "2 d".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1 min"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	default:
		return strconv.Itoa(int(d/(24*time.Hour))) + " d"
	}
}

func exact(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// preview is the start of a description on one line: whitespace runs become one space, and
// a cut ends with an ellipsis.
func preview(s string, runes int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes]) + "…"
}

// readTimes is when the technician last opened each of the requests assigned to them; nil
// for an auditor, whose lists mark nothing unread.
func (h *Handler) readTimes(r *http.Request, s app.Session, rows []app.RequestSummary) map[uuid.UUID]time.Time {
	if s.IsAuditor() {
		return nil
	}
	var ids []uuid.UUID
	for _, sm := range rows {
		if sm.Assignee != nil && sm.Assignee.ID == s.TechnicianID {
			ids = append(ids, sm.ID)
		}
	}
	reads, err := h.queries.RequestReadTimes(r.Context(), s.TechnicianID, ids)
	if err != nil {
		return nil
	}
	// Only my requests can be unread: others' get a read time that hides the mark.
	for _, sm := range rows {
		if _, ok := reads[sm.ID]; !ok && !slices.Contains(ids, sm.ID) {
			reads[sm.ID] = time.Now()
		}
	}
	return reads
}

// ---- My Support Requests (R4) ----

type minePanel struct {
	Fragment string
	Rows     []listRow
	Count    int
	Unread   int
	Error    string
	// Loads are the technician's load against their capacity in each company whose requests
	// are assigned automatically.
	Loads []app.RoutingLoad
}

func (h *Handler) minePanel(r *http.Request, s app.Session, current uuid.UUID) minePanel {
	p := minePanel{Fragment: "/console/fragments/my-requests"}
	if current != uuid.Nil {
		p.Fragment += "?current=" + current.String()
	}
	page, err := h.queries.ListRequests(r.Context(), app.ListRequests{
		TechnicianID: s.TechnicianID, View: app.ViewActive, MineOnly: true, Sort: app.SortSubmitted, Limit: 200,
	})
	if err != nil {
		p.Error = "Your requests could not be shown: " + h.message(r.Context(), err)
		return p
	}
	p.Count = page.Total
	open := map[uuid.UUID]int{}
	for _, req := range page.Requests {
		open[req.CompanyID]++
	}
	if loads, err := h.cfg.App.RoutingLoads(r.Context(), s.TechnicianID, open); err == nil {
		p.Loads = loads
	}
	for _, row := range h.listRows(r, s, page.Requests, current) {
		if row.Unread {
			p.Unread++
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}
