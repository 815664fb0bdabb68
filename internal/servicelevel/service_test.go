package servicelevel_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
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

// A service stopped before a clock runs out, and started again on the same database, records
// the breach once at its time: the clock is a durable timer, not the old process's memory.
func TestServiceRestartKeepsTheClocks(t *testing.T) {
	ctx := context.Background()
	url, drop, err := pgtest.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	files := t.TempDir()
	start := func() (*service.Service, func()) {
		svc, err := service.New(ctx, service.Config{DatabaseURL: url, FilesDir: files, PoolSize: servicetest.PoolSize, Projectors: true,
			ServiceLevelTick: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = svc.Run(runCtx) }()
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-done; svc.Close() }) }
		t.Cleanup(stop)
		return svc, stop
	}
	first, stop := start()
	w := &world{pool: first.Pool, app: first.App, companyID: uuid.New(), portalID: uuid.New(), techID: uuid.New()}
	must(t)(first.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.companyID, Name: "Acme"}))
	must(t)(first.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.companyID, PortalID: w.portalID, Name: "Help"}))
	w.setLevels(t, servicelevel.Goals{Assign: 3 * time.Second}, servicelevel.Hours{})
	id := w.submit(t)
	waitUntil(t, "the clock's timer is set", func() bool { return len(w.timers(t)) == 1 })
	stop()
	// breaches are the request's breaches, and its submission.
	breaches := func(svc *service.Service) (submitted time.Time, breached []time.Time) {
		events, err := svc.Store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			if e.Type == "request.sla_breached.v1" {
				breached = append(breached, e.RecordedAt)
			}
		}
		return events[0].RecordedAt, breached
	}
	second, _ := start()
	waitUntil(t, "the restarted service records the breach", func() bool { _, b := breaches(second); return len(b) == 1 })
	time.Sleep(300 * time.Millisecond)
	submitted, breached := breaches(second)
	if len(breached) != 1 {
		t.Fatalf("%d breaches, want 1", len(breached))
	}
	if breached[0].Before(submitted.Add(3 * time.Second)) {
		t.Fatalf("breached at %s, before the due time %s", breached[0], submitted.Add(3*time.Second))
	}
}
