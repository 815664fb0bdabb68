package readmodels

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest/listtest"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Names sort as people expect (accents and case folded into the collation), not by code
// point; statuses sort by the lifecycle (new, active, completed), not by name. Every walk of
// the real database agrees, forwards and backwards, page by page.
func TestListOrdersNamesByCollationAndStatusByLifecycle(t *testing.T) {
	t.Parallel()
	pool := newDB(t)
	l := listtest.NewEventLog(t)
	acme, tech := uuid.New(), uuid.New()
	l.Company(acme, "Acme Corp")
	l.Technician(tech, "Alice Martin")
	l.At(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	names := []string{"zed Shaw", "Zoë", "Øystein", "Émile", "Åsa"} // code-point order, reversed
	want := []string{"Åsa", "Émile", "Øystein", "zed Shaw", "Zoë"}  // what people expect
	lifecycle := []request.Status{request.StatusCompleted, request.StatusNew, request.StatusActive}
	for i, name := range names {
		id := uuid.New()
		l.Tick(time.Second).Submit(id, acme, name, "c@example.com", "the printer", request.Windows)
		st := lifecycle[i%3]
		switch st {
		case request.StatusActive:
			l.Request(id, &request.Assigned{TechnicianID: tech})
		case request.StatusCompleted:
			l.Request(id, &request.Assigned{TechnicianID: tech})
			l.Request(id, &request.Closed{TechnicianID: tech})
		}
	}
	apply(t, pool, l.Events, 3)
	ctx := context.Background()
	base := app.RequestListQuery{Companies: []uuid.UUID{acme}, IncludeNew: true, View: app.ViewAll, Limit: 200}

	customers := func(page app.RequestPage) []string {
		var out []string
		for _, r := range page.Requests {
			out = append(out, r.CustomerName)
		}
		return out
	}
	for _, force := range []strategy{byPair, byStatus, ""} {
		for _, search := range []string{"", "printer"} {
			q := base
			q.Sort, q.Search = app.SortCustomer, search
			page, _, err := list(ctx, pool, q, force)
			if err != nil {
				t.Fatal(err)
			}
			if got := customers(page); !slices.Equal(got, want) {
				t.Fatalf("by customer (walk %q, search %q): %q, want %q", force, search, got, want)
			}
			q.Descending = true
			page, _, err = list(ctx, pool, q, force)
			if err != nil {
				t.Fatal(err)
			}
			rev := slices.Clone(want)
			slices.Reverse(rev)
			if got := customers(page); !slices.Equal(got, rev) {
				t.Fatalf("by customer descending (walk %q): %q, want %q", force, got, rev)
			}
			for _, desc := range []bool{false, true} {
				q := base
				q.Sort, q.Search, q.Descending, q.Limit = app.SortStatus, search, desc, 2
				var statuses []request.Status
				for {
					page, _, err := list(ctx, pool, q, force)
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range page.Requests {
						statuses = append(statuses, r.Status)
					}
					if page.NextCursor == "" {
						break
					}
					c, err := app.ParseListCursor(page.NextCursor)
					if err != nil {
						t.Fatal(err)
					}
					q.After = &c
				}
				wantStatuses := []request.Status{request.StatusNew, request.StatusNew, request.StatusActive, request.StatusCompleted, request.StatusCompleted}
				if desc {
					slices.Reverse(wantStatuses)
				}
				if !slices.Equal(statuses, wantStatuses) {
					t.Fatalf("by status (walk %q, search %q, descending %v): %v, want %v", force, search, desc, statuses, wantStatuses)
				}
			}
		}
	}
}
