package servicelevel_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// The whole service runs the manager with its projectors: a request left waiting past its
// company's 24/7 targets breaches each once, a request served in time none, and the request
// list shows the breaches and sorts by them.
func TestServiceRecordsBreaches(t *testing.T) {
	svc := servicetest.New(t, func(c *service.Config) { c.ServiceLevelTick = 50 * time.Millisecond })
	w := &world{store: nil, pool: svc.Pool, app: svc.App, companyID: uuid.New(), portalID: uuid.New(), techID: uuid.New()}
	ctx := context.Background()
	a := svc.App
	must(t)(a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.companyID, Name: "Acme"}))
	must(t)(a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.companyID, PortalID: w.portalID, Name: "Help"}))
	must(t)(a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: w.techID, Name: "Tess", Email: "tess@example.com"}))
	must(t)(a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: w.techID, CompanyID: w.companyID}))
	must(t)(a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: w.techID, Availability: "available"}))
	w.setLevels(t, servicelevel.Goals{Assign: 2 * time.Second, FirstReply: 3 * time.Second}, servicelevel.Hours{})
	waiting, served := w.submit(t), w.submit(t)
	must(t)(a.AssignToMe(ctx, w.tech(), served))
	must(t)(a.JoinChat(ctx, w.tech(), served))
	must(t)(a.SendTechnicianMessage(ctx, w.tech(), served, uuid.New(), "On it"))

	count := func(id uuid.UUID) map[string]int {
		events, err := svc.Store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		codec := request.Codec()
		for _, e := range events {
			if e.Type == "request.sla_breached.v1" {
				d, err := codec.Decode(e.Type, e.Data)
				if err != nil {
					t.Fatal(err)
				}
				got[d.(*request.SLABreached).Target]++
			}
		}
		return got
	}
	waitUntil(t, "the waiting request breaches both targets", func() bool { return len(count(waiting)) == 2 })
	time.Sleep(500 * time.Millisecond)
	if got := count(waiting); got["assign"] != 1 || got["first_reply"] != 1 {
		t.Fatalf("breaches of the waiting request: %v, want each target once", got)
	}
	if got := count(served); len(got) != 0 {
		t.Fatalf("breaches of the request served in time: %v", got)
	}

	// The list shows them, and sorts by them.
	var page app.RequestPage
	waitUntil(t, "the list shows the breaches", func() bool {
		var err error
		page, err = svc.Queries.ListRequests(ctx, app.ListRequests{TechnicianID: w.techID, Sort: app.SortBreach, Descending: true})
		if err != nil {
			t.Fatal(err)
		}
		return len(page.Requests) == 2 && len(page.Requests[0].Breaches) == 2
	})
	if page.Requests[0].ID != waiting || page.Requests[1].ID != served || len(page.Requests[1].Breaches) != 0 {
		t.Fatalf("sorted by breach, descending: %+v", page.Requests)
	}
	if b := page.Requests[0].Breaches; b[0] != "assign" || b[1] != "first_reply" {
		t.Fatalf("breaches %v, want assign then first_reply", b)
	}
}
