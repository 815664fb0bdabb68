package e2e_test

// The server under test, put together as `helpstream serve` does (internal/service) on a fresh
// PostgreSQL database: the application answering from the read models its runner keeps, the
// JSON API and the web handler (console and portal) on one mux behind httptest.NewServer.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// screenSharingURL is the servers' screen-sharing provider template (serve
// --screen-sharing-url).
const screenSharingURL = "https://meet.example/{request}?session={session}"

// password is every seeded technician's password.
const password = "correct horse battery"

type technician struct {
	ID          uuid.UUID
	Name, Email string
}

// server is a running Helpstream with its seed: company 1 (Acme) with a portal, company 2
// (Globex) with a portal; Alice and Bob have access to company 1, Carol to company 2 only.
type server struct {
	URL string
	App *app.App
	// Pool and Store are the server's database and event log, for what a test writes or
	// rebuilds beside the server (the analytics tables).
	Pool  *pgxpool.Pool
	Store eventlog.Store
	// WaitFor waits until the read models include every event up to a position (and so
	// every reader of the log sees them).
	WaitFor            func(ctx context.Context, pos eventlog.Position, timeout time.Duration) error
	Company1, Company2 uuid.UUID
	Portal1, Portal2   uuid.UUID
	Alice, Bob, Carol  technician
	companyNames       map[uuid.UUID]string
}

// newServer starts a server of the test's own, stopped when the test ends.
func newServer(t *testing.T) *server {
	t.Helper()
	s, stop, err := startServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// dropFailed says that dropping the shared server's database failed, or found a secret in its
// event log: TestMain then fails the run, which has no test left to fail.
var dropFailed bool

// startServer starts a server on a fresh database; stop stops it and drops the database.
func startServer() (s *server, stop func(), err error) {
	var undo []func()
	undoAll := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	defer func() {
		if err != nil {
			undoAll()
		}
	}()
	ctx, cancelSetup := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancelSetup()
	url, drop, err := pgtest.CreateDatabase(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("create the test database: %w", err)
	}
	undo = append(undo, func() {
		if err := drop(); err != nil {
			// The drop scans the log for secrets first (pgtest): a finding fails the run.
			slog.Error("drop the test database", "err", err)
			dropFailed = true
		}
	})
	filesDir, err := os.MkdirTemp("", "helpstream-e2e-files-")
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, func() { _ = os.RemoveAll(filesDir) })
	// A screen-sharing provider, as serve --screen-sharing-url sets it.
	screenSharing, err := app.ParseScreenSharingURL(screenSharingURL)
	if err != nil {
		return nil, nil, err
	}
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: url, PoolSize: 16, FilesDir: filesDir, AdminToken: "e2e-admin", Projectors: true, ScreenSharing: screenSharing,
		// Who is viewing: a closed tab that sent no beacon is forgotten within seconds.
		PresenceViewingTTL: 6 * time.Second,
		Logger:             slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, svc.Close)
	runCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = svc.Run(runCtx) }()
	undo = append(undo, func() { cancel(); <-stopped })

	ts := httptest.NewUnstartedServer(svc.Handler()) // the routes as serve mounts them
	ts.Config.ReadHeaderTimeout = 10 * time.Second
	ts.Start()
	// Stopped first (undo runs backwards): its event streams end before the live updates.
	undo = append(undo, func() {
		ts.CloseClientConnections()
		ts.Close()
	})
	select {
	case <-svc.Console.Ready():
	case <-ctx.Done():
		return nil, nil, errors.New("the web handler's live updates did not start in time")
	}

	s = &server{
		URL: ts.URL, App: svc.App, Pool: svc.Pool, Store: svc.Store, WaitFor: svc.WaitFor,
		Company1: uuid.New(), Company2: uuid.New(), Portal1: uuid.New(), Portal2: uuid.New(),
		Alice: technician{ID: uuid.New(), Name: "Alice Martin", Email: "alice@example.com"},
		Bob:   technician{ID: uuid.New(), Name: "Bob Durand", Email: "bob@example.com"},
		Carol: technician{ID: uuid.New(), Name: "Carol Petit", Email: "carol@example.com"},
	}
	s.companyNames = map[uuid.UUID]string{s.Company1: "Acme Corp", s.Company2: "Globex"}
	last, err := s.seed(ctx, svc.Accounts)
	if err != nil {
		return nil, nil, err
	}
	// The portals and the technicians' access come from the read models: wait until they have
	// the seed, as a real server has its data long before a person shows up.
	if err := svc.WaitFor(ctx, last, 90*time.Second); err != nil {
		return nil, nil, fmt.Errorf("the read models did not catch up with the seed: %w", err)
	}
	return s, undoAll, nil
}

// seed creates the companies, portals and technicians and returns the log position of the
// last event it wrote.
func (s *server) seed(ctx context.Context, accounts *app.Accounts) (eventlog.Position, error) {
	meta := app.Meta{Actor: app.Admin, CorrelationID: "e2e-seed"}
	var last eventlog.Position
	note := func(r app.Result, err error) error {
		if err == nil {
			last = r.Position
		}
		return err
	}
	for _, c := range []struct {
		company, portal uuid.UUID
		portalName      string
	}{{s.Company1, s.Portal1, "Acme Help Desk"}, {s.Company2, s.Portal2, "Globex Support"}} {
		if err := note(s.App.CreateCompany(ctx, meta, app.CreateCompany{CompanyID: c.company, Name: s.companyNames[c.company]})); err != nil {
			return last, fmt.Errorf("seed a company: %w", err)
		}
		if err := note(s.App.CreatePortal(ctx, meta, app.CreatePortal{CompanyID: c.company, PortalID: c.portal, Name: c.portalName})); err != nil {
			return last, fmt.Errorf("seed a portal: %w", err)
		}
	}
	for _, g := range []struct {
		tech      technician
		companies []uuid.UUID
	}{{s.Alice, []uuid.UUID{s.Company1}}, {s.Bob, []uuid.UUID{s.Company1}}, {s.Carol, []uuid.UUID{s.Company2}}} {
		if err := note(accounts.RegisterTechnicianWithPassword(ctx, meta, app.RegisterTechnician{TechnicianID: g.tech.ID, Name: g.tech.Name, Email: g.tech.Email}, password)); err != nil {
			return last, fmt.Errorf("seed %s: %w", g.tech.Email, err)
		}
		for _, c := range g.companies {
			if err := note(s.App.GrantAccess(ctx, meta, app.GrantAccess{TechnicianID: g.tech.ID, CompanyID: c})); err != nil {
				return last, fmt.Errorf("seed %s's access: %w", g.tech.Email, err)
			}
		}
	}
	return last, nil
}
