package readmodels

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest/listtest"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// seeded is a request list with many ties: companies and technicians whose names differ only
// in case, customers with the same names, requests submitted at the same instants.
type seeded struct {
	pool      *pgxpool.Pool
	companies []uuid.UUID
	techs     []uuid.UUID
}

func seed(t *testing.T, requests int) *seeded {
	t.Helper()
	s := &seeded{pool: newDB(t)}
	l := listtest.NewEventLog(t)
	for _, name := range []string{"Acme", "acme", "Beta", "Ünïcode Ltd"} {
		id := uuid.New()
		s.companies = append(s.companies, id)
		l.Company(id, name)
	}
	for _, name := range []string{"Al", "al", "Bo", "Cy"} {
		id := uuid.New()
		s.techs = append(s.techs, id)
		l.Technician(id, name)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	customers := []string{"ann", "Ann", "ANN", "bob", "Zed", "émile", "100% _sure_"}
	for i := range requests {
		id := uuid.New()
		l.At(base.Add(time.Duration(rng.IntN(6)) * time.Minute))
		name := customers[rng.IntN(len(customers))]
		l.Submit(id, s.companies[rng.IntN(len(s.companies))], name, fmt.Sprintf("c%d@Example.com", i%5),
			fmt.Sprintf("request %d about the PRINTER", i), request.Platforms[rng.IntN(4)])
		// Service-level breaches, 0 to 3 of the targets (issue 16): the breach sort has ties.
		for _, target := range []string{"assign", "first_reply", "resolution"} {
			if rng.IntN(3) == 0 {
				l.Request(id, &request.SLABreached{Target: target, DueAt: base, TargetSeconds: 60})
			}
		}
		tech := s.techs[rng.IntN(len(s.techs))]
		switch rng.IntN(5) {
		case 0: // new
		case 1:
			l.Tick(time.Duration(rng.IntN(3))*time.Second).Request(id, &request.Assigned{TechnicianID: tech})
		case 2:
			l.Tick(time.Second).Request(id, &request.Assigned{TechnicianID: tech})
			l.Request(id, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "x"})
			l.Request(id, &request.Transferred{From: tech, To: s.techs[rng.IntN(len(s.techs))]})
		case 3:
			l.Tick(time.Second).Request(id, &request.Assigned{TechnicianID: tech})
			l.Tick(time.Second).Request(id, &request.Closed{TechnicianID: tech})
		case 4:
			l.Request(id, &request.Assigned{TechnicianID: tech})
			l.Request(id, &request.Unassigned{TechnicianID: tech})
		}
	}
	// Random batch boundaries.
	var sizes []int
	for n := 0; n < len(l.Events); {
		k := 1 + rng.IntN(40)
		sizes, n = append(sizes, k), n+k
	}
	apply(t, s.pool, l.Events, sizes...)
	listtest.CheckCounts(t, s.pool)
	return s
}

func (s *seeded) all(t *testing.T) []app.RequestSummary {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT `+selectColumns+` FROM request_list r`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := scanSummaries(rows)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// expected filters and sorts rows in Go, as the catalog does.
func expected(rows []app.RequestSummary, q app.RequestListQuery) []uuid.UUID {
	statuses := q.Statuses()
	var keep []app.RequestSummary
	for _, r := range rows {
		if !slices.Contains(q.Companies, r.CompanyID) || !slices.Contains(statuses, string(r.Status)) {
			continue
		}
		if q.Assignee != uuid.Nil && (r.Assignee == nil || r.Assignee.ID != q.Assignee) {
			continue
		}
		if q.Search != "" && !strings.Contains(request.SearchDocument(r.CustomerName, r.CustomerEmail, r.Description), request.SearchKey(q.Search)) {
			continue
		}
		keep = append(keep, r)
	}
	slices.SortFunc(keep, func(x, y app.RequestSummary) int {
		var o int
		switch q.Sort {
		case app.SortSubmitted:
			o = x.SubmittedAt.Compare(y.SubmittedAt)
		case app.SortLastActivity:
			o = x.LastActivity.Compare(y.LastActivity)
		default:
			o = strings.Compare(app.SortKey(q.Sort, x), app.SortKey(q.Sort, y))
		}
		o = cmp.Or(o, strings.Compare(x.ID.String(), y.ID.String()))
		if q.Descending {
			return -o
		}
		return o
	})
	ids := make([]uuid.UUID, len(keep))
	for i, r := range keep {
		ids[i] = r.ID
	}
	return ids
}

// pageAll follows the cursor to the end and returns the IDs in order, checking every page.
func pageAll(t *testing.T, pool *pgxpool.Pool, q app.RequestListQuery, force strategy, wantTotal int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for pages := 0; ; pages++ {
		page, _, err := list(context.Background(), pool, q, force)
		if err != nil {
			t.Fatalf("list %+v: %v", q, err)
		}
		if page.Total != wantTotal {
			t.Fatalf("total %d, want %d", page.Total, wantTotal)
		}
		if len(page.Requests) > q.Limit || (page.NextCursor != "" && len(page.Requests) != q.Limit) {
			t.Fatalf("page of %d rows with limit %d and next cursor %q", len(page.Requests), q.Limit, page.NextCursor)
		}
		for _, r := range page.Requests {
			ids = append(ids, r.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		c, err := app.ParseListCursor(page.NextCursor)
		if err != nil {
			t.Fatal(err)
		}
		q.After = &c
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
	}
}

var allSorts = []app.SortColumn{app.SortSubmitted, app.SortID, app.SortCustomer, app.SortCompany, app.SortStatus, app.SortAssignee, app.SortLastActivity, app.SortBreach}

// Every view × sort × direction, both walks, paged across many pages: no row missed or
// repeated, ties broken by ID, R2's filters applied.
func TestListEveryViewSortAndDirection(t *testing.T) {
	t.Parallel()
	s := seed(t, 150)
	rows := s.all(t)
	breached := map[int]int{}
	for _, r := range rows {
		breached[len(r.Breaches)]++
	}
	if len(breached) < 3 {
		t.Fatalf("the seed breached too few ways to test the breach sort: %v", breached)
	}
	scopes := map[string][]uuid.UUID{"one company": s.companies[:1], "three companies": s.companies[:3], "every company": s.companies}
	for scope, companies := range scopes {
		for _, includeNew := range []bool{true, false} {
			for _, view := range []app.View{app.ViewAll, app.ViewNew, app.ViewActive, app.ViewCompleted} {
				for _, sort := range allSorts {
					for _, desc := range []bool{false, true} {
						q := app.RequestListQuery{Companies: companies, IncludeNew: includeNew, View: view, Sort: sort, Descending: desc, Limit: 9}
						want := expected(rows, q)
						for _, force := range []strategy{byPair, byStatus, ""} {
							name := fmt.Sprintf("%s/new=%v/%s/%s/desc=%v/%s", scope, includeNew, view, sort, desc, force)
							got := pageAll(t, s.pool, q, force, len(want))
							if !slices.Equal(got, want) {
								t.Fatalf("%s: got %d rows %v\nwant %d rows %v", name, len(got), got, len(want), want)
							}
						}
					}
				}
			}
		}
	}
}

// My Support Requests and other technicians' queues (R4): the open requests assigned to one
// technician, in the caller's companies.
func TestListQueue(t *testing.T) {
	t.Parallel()
	s := seed(t, 120)
	rows := s.all(t)
	for _, tech := range s.techs {
		for _, sort := range allSorts {
			for _, desc := range []bool{false, true} {
				q := app.RequestListQuery{Companies: s.companies[:3], IncludeNew: false, View: app.ViewAll, Assignee: tech, Sort: sort, Descending: desc, Limit: 4}
				want := expected(rows, q)
				got := pageAll(t, s.pool, q, "", len(want))
				if !slices.Equal(got, want) {
					t.Fatalf("queue of %s by %s desc=%v: got %v, want %v", tech, sort, desc, got, want)
				}
			}
		}
	}
	q := app.RequestListQuery{Companies: s.companies, IncludeNew: true, View: app.ViewNew, Assignee: s.techs[0], Sort: app.SortID, Limit: 5}
	if page, err := ListRequests(context.Background(), s.pool, q); err != nil || len(page.Requests) != 0 || page.Total != 0 {
		t.Fatalf("queue in the New view: %+v %v", page, err)
	}
}

// Text search on customer name, e-mail and description, ignoring case; LIKE's wildcards in
// the term are plain characters.
func TestListSearch(t *testing.T) {
	t.Parallel()
	s := seed(t, 120)
	rows := s.all(t)
	for _, term := range []string{"ann", "ANN", "printer", "Request 1", "c3@example", "% _sure_", "_", "%", "émile", "ÉMILE", "nothing like this"} {
		for _, sort := range []app.SortColumn{app.SortSubmitted, app.SortCustomer, app.SortID} {
			q := app.RequestListQuery{Companies: s.companies, IncludeNew: true, View: app.ViewAll, Search: term, Sort: sort, Limit: 11}
			want := expected(rows, q)
			got := pageAll(t, s.pool, q, "", len(want))
			if !slices.Equal(got, want) {
				t.Fatalf("search %q by %s: got %d rows, want %d", term, sort, len(got), len(want))
			}
		}
	}
	q := app.RequestListQuery{Companies: s.companies[:1], IncludeNew: false, View: app.ViewActive, Assignee: s.techs[1], Search: "printer", Sort: app.SortCustomer, Descending: true, Limit: 2}
	want := expected(rows, q)
	if got := pageAll(t, s.pool, q, "", len(want)); !slices.Equal(got, want) {
		t.Fatalf("search in a queue: got %v, want %v", got, want)
	}
}

// R2: nothing outside the caller's companies, no New requests unless Available; a cursor for
// another order is refused.
func TestListFilters(t *testing.T) {
	t.Parallel()
	s := seed(t, 60)
	ctx := context.Background()
	for _, q := range []app.RequestListQuery{
		{Companies: nil, IncludeNew: true, Sort: app.SortID, Limit: 50},
		{Companies: []uuid.UUID{uuid.New()}, IncludeNew: true, Sort: app.SortID, Limit: 50},
		{Companies: s.companies, IncludeNew: false, View: app.ViewNew, Sort: app.SortID, Limit: 50},
	} {
		page, err := ListRequests(ctx, s.pool, q)
		if err != nil || len(page.Requests) != 0 || page.Total != 0 || page.NextCursor != "" {
			t.Fatalf("%+v: %+v %v", q, page, err)
		}
	}
	page, err := ListRequests(ctx, s.pool, app.RequestListQuery{Companies: s.companies, IncludeNew: false, Sort: app.SortID, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Requests {
		if r.Status == request.StatusNew {
			t.Fatal("a New request listed for a technician who is not Available")
		}
	}
	c := app.CursorAfter(app.SortCustomer, false, page.Requests[0])
	if _, err := ListRequests(ctx, s.pool, app.RequestListQuery{Companies: s.companies, Sort: app.SortID, Limit: 5, After: &c}); err == nil {
		t.Fatal("a cursor of another sort was accepted")
	}
}
