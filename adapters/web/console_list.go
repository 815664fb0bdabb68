package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

type listPanel struct {
	Fragment string
	Views    []viewLink
	Columns  []column
	Rows     []listRow
	Empty    string
	Error    string
	Next     string
	Total    int
}

type viewLink struct {
	Name, Label, Href string
	Current           bool
}

type column struct {
	Key, Label, Href string
	// Sort is the aria-sort value: "ascending", "descending" or "none".
	Sort string
}

type listRow struct {
	ID        uuid.UUID
	Href      string
	Submitted time.Time
	Customer  string
	Company   string
	Status    string
	Assignee  string
	Current   bool
}

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

var columns = []choice[app.SortColumn]{
	{app.SortSubmitted, "Submitted"}, {app.SortID, "Request ID"}, {app.SortCustomer, "Customer"},
	{app.SortCompany, "Company"}, {app.SortStatus, "Status"}, {app.SortAssignee, "Assignee"},
}

func (h *Handler) listPanel(r *http.Request, s app.Session, profile app.TechnicianProfile, current uuid.UUID) listPanel {
	q := r.URL.Query()
	view := pick(views, app.View(q.Get("view")), app.ViewAll)
	sort := pick(columns, app.SortColumn(q.Get("sort")), app.SortSubmitted)
	desc := q.Get("order") == "desc"
	if q.Get("order") == "" && sort == app.SortSubmitted {
		desc = true // newest first unless asked otherwise
	}
	order := map[bool]string{false: "asc", true: "desc"}
	base := "/console"
	if current != uuid.Nil {
		base = "/console/requests/" + current.String()
	}
	link := func(v app.View, col app.SortColumn, descending bool, cursor string) string {
		u := url.Values{"view": {string(v)}, "sort": {string(col)}, "order": {order[descending]}}
		if cursor != "" {
			u.Set("cursor", cursor)
		}
		return base + "?" + u.Encode()
	}
	frag := url.Values{"view": {string(view)}, "sort": {string(sort)}, "order": {order[desc]}}
	if current != uuid.Nil {
		frag.Set("current", current.String())
	}
	p := listPanel{Fragment: "/console/fragments/support-requests?" + frag.Encode()}
	for _, v := range views {
		p.Views = append(p.Views, viewLink{Name: string(v.value), Label: v.label, Href: link(v.value, sort, desc, ""), Current: v.value == view})
	}
	for _, c := range columns {
		col := column{Key: string(c.value), Label: c.label, Sort: "none"}
		nextDesc := false
		if c.value == sort {
			col.Sort = map[bool]string{false: "ascending", true: "descending"}[desc]
			nextDesc = !desc
		}
		col.Href = link(view, c.value, nextDesc, "")
		p.Columns = append(p.Columns, col)
	}
	v := h.viewer(r, s)
	page, err := h.queries.ListRequests(r.Context(), app.ListRequests{
		TechnicianID: v.TechnicianID, AuditorID: v.AuditorID, ClientIP: v.ClientIP,
		View: view, Sort: sort, Descending: desc, Limit: 50, Cursor: q.Get("cursor"),
	})
	if err != nil {
		p.Error = "The list could not be shown: " + h.message(r.Context(), err)
		return p
	}
	p.Total = page.Total
	for _, s := range page.Requests {
		row := listRow{ID: s.ID, Href: "/console/requests/" + s.ID.String(), Submitted: s.SubmittedAt,
			Customer: s.CustomerName, Company: s.CompanyName, Status: string(s.Status), Assignee: "Unassigned", Current: s.ID == current}
		if s.Assignee != nil {
			row.Assignee = cmp.Or(s.Assignee.Name, "A technician")
		}
		if q := r.URL.Query(); q.Has("view") || q.Has("sort") {
			row.Href += "?" + url.Values{"view": {string(view)}, "sort": {string(sort)}, "order": {order[desc]}}.Encode()
		}
		p.Rows = append(p.Rows, row)
	}
	if page.NextCursor != "" {
		p.Next = link(view, sort, desc, page.NextCursor)
	}
	if len(p.Rows) == 0 {
		p.Empty = "There are no requests in this view."
		if !s.IsAuditor() && profile.Availability != directory.Available && (view == app.ViewAll || view == app.ViewNew) {
			p.Empty += " New, unassigned requests show only while your status is Available."
		}
	}
	return p
}

// ---- My Support Requests (R4) ----

type minePanel struct {
	Fragment string
	Rows     []listRow
	Error    string
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
	for _, s := range page.Requests {
		p.Rows = append(p.Rows, listRow{ID: s.ID, Href: "/console/requests/" + s.ID.String(), Submitted: s.SubmittedAt,
			Customer: s.CustomerName, Company: s.CompanyName, Status: string(s.Status), Current: s.ID == current})
	}
	return p
}
