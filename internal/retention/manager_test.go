package retention_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/process"
	"github.com/helpstream/helpstream/internal/retention"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
	"github.com/helpstream/helpstream/internal/subscriber"
	"github.com/helpstream/helpstream/internal/verify"
)

var admin = app.Meta{Actor: app.Admin}

// world is a service with a master key, two companies (Acme erases 30 days after close,
// Globex keeps) and a technician of both.
type world struct {
	t              *testing.T
	svc            *service.Service
	acme, globex   uuid.UUID
	portals        map[uuid.UUID]uuid.UUID
	tech           uuid.UUID
	techMeta       app.Meta
	customerOf     map[uuid.UUID]string // request → e-mail
	submittedNames map[string]string    // e-mail → name
}

func newWorld(t *testing.T) *world {
	master, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	svc := servicetest.New(t, func(c *service.Config) { c.MasterKey = master })
	w := &world{t: t, svc: svc, acme: uuid.New(), globex: uuid.New(), portals: map[uuid.UUID]uuid.UUID{}, tech: uuid.New(),
		customerOf: map[uuid.UUID]string{}, submittedNames: map[string]string{}}
	w.techMeta = app.Meta{Actor: app.Actor{Kind: "technician", ID: w.tech}}
	ctx := context.Background()
	must := w.must
	must(svc.App.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: w.tech, Name: "Tess", Email: "tess@example.com"}))
	for name, company := range map[string]uuid.UUID{"Acme": w.acme, "Globex": w.globex} {
		portal := uuid.New()
		w.portals[company] = portal
		must(svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: name}))
		must(svc.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: name + " Help"}))
		must(svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: w.tech, CompanyID: company}))
	}
	must(svc.App.SetAvailability(ctx, w.techMeta, app.SetAvailability{TechnicianID: w.tech, Availability: directory.Available}))
	must(svc.App.SetRetention(ctx, admin, app.SetRetention{CompanyID: w.acme, EraseAfterDays: 30}))
	return w
}

func (w *world) must(_ app.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// submit submits a request of the customer with email to company, and closes it unless open.
func (w *world) submit(company uuid.UUID, name, email string, open bool) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	id := uuid.New()
	w.must(w.svc.App.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{RequestID: id,
		PortalID: w.portals[company], CompanyID: company, Customer: request.Customer{Name: name, Email: email}, Description: "Printer trouble",
		Source: request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}))
	w.customerOf[id], w.submittedNames[email] = email, name
	if !open {
		w.close(id)
	}
	return id
}

func (w *world) close(id uuid.UUID) {
	w.t.Helper()
	ctx := context.Background()
	w.must(w.svc.App.AssignToMe(ctx, w.techMeta, id))
	w.must(w.svc.App.Close(ctx, w.techMeta, id))
}

// customerName reads the request's customer name through the service's reader.
func (w *world) customerName(id uuid.UUID) string {
	w.t.Helper()
	events, err := w.svc.Store.ReadStream(context.Background(), request.Stream(id), 0, eventlog.ReadOptions{Limit: 1})
	if err != nil || len(events) == 0 {
		w.t.Fatalf("read request %s: %v", id, err)
	}
	e, err := request.Codec().Decode(events[0].Type, events[0].Data)
	if err != nil {
		w.t.Fatal(err)
	}
	return e.(*request.Submitted).Customer.Name
}

// erasures returns the customer.erased.v1 events of the log.
func (w *world) erasures() []eventlog.RecordedEvent {
	w.t.Helper()
	all, err := privacy.Unwrap(w.svc.Store).ReadAll(context.Background(), eventlog.Position{}, eventlog.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []eventlog.RecordedEvent
	for _, e := range all {
		if e.Type == (&erasure.CustomerErased{}).EventType() {
			out = append(out, e)
		}
	}
	return out
}

// runManager runs a retention manager of its own name whose clock is ahead of the wall clock
// by *ahead, in the one subscriber runtime as the service runs it, until the test ends or stop.
func (w *world) runManager(name string, ahead *atomic.Int64) (stop func()) {
	w.t.Helper()
	m, err := retention.New(retention.Config{Name: name, Pool: w.svc.Pool, TickEvery: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:    func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) },
		Erase: func(ctx context.Context, due []retention.Erasure) error {
			keys := make([]service.KeyErasure, len(due))
			for i, d := range due {
				keys[i] = service.KeyErasure{ErasureID: d.ErasureID, KeyID: d.KeyID, Reason: d.Reason}
			}
			_, err := w.svc.EraseKeys(ctx, keys, "system")
			return err
		}})
	if err != nil {
		w.t.Fatal(err)
	}
	rt, err := process.NewRuntime(process.Config{Pool: w.svc.Pool, Store: w.svc.Store, Managers: []subscriber.Consumer{m},
		Pacing: subscriber.Pacing{LeaderRetry: 100 * time.Millisecond, RetryDelay: 100 * time.Millisecond}})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	w.t.Cleanup(stop)
	return stop
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
	}
}

// A customer is erased by "system" once every request of theirs has been closed longer than
// its company's retention, and only then: not while a request is open, not while a company of
// theirs keeps personal data, not before the retention ran out. The erasure survives a restart
// of the manager without being done twice, and the log verifies after it.
func TestRetentionErasesCustomersWhoseDataRanOut(t *testing.T) {
	w := newWorld(t)
	ada := w.submit(w.acme, "Ada Lovelace", "ada@example.com", false)
	bobClosed := w.submit(w.acme, "Bob Keeper", "bob@example.com", false)
	bobOpen := w.submit(w.acme, "Bob Keeper", "bob@example.com", true)
	carol := w.submit(w.globex, "Carol Stay", "carol@example.com", false)
	dan := w.submit(w.acme, "Dan Both", "dan@example.com", false)
	danGlobex := w.submit(w.globex, "Dan Both", "dan@example.com", false)

	var ahead atomic.Int64
	ahead.Store(int64(29 * 24 * time.Hour)) // not yet
	stop := w.runManager("retention-test", &ahead)
	time.Sleep(time.Second)
	if n := len(w.erasures()); n != 0 {
		t.Fatalf("%d erasures before any retention ran out", n)
	}

	ahead.Store(int64(31 * 24 * time.Hour))
	waitUntil(t, "Ada is erased", func() bool { return w.customerName(ada) == privacy.Erased && len(w.erasures()) > 0 })
	time.Sleep(500 * time.Millisecond) // a second erasure would land within a few ticks
	got := w.erasures()
	if len(got) != 1 || got[0].Metadata.Actor != "system" {
		t.Fatalf("erasures after the retention ran out: %+v", got)
	}
	e, err := erasure.Codec().Decode(got[0].Type, got[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if x := e.(*erasure.CustomerErased); len(x.Requests) != 1 || x.Requests[0] != ada || x.Reason == "" {
		t.Fatalf("the erasure: %+v", x)
	}
	for id, want := range map[uuid.UUID]string{bobClosed: "Bob Keeper", bobOpen: "Bob Keeper", carol: "Carol Stay", dan: "Dan Both", danGlobex: "Dan Both"} {
		if name := w.customerName(id); name != want {
			t.Errorf("request %s of %s reads %q: erased though not due", id, w.customerOf[id], name)
		}
	}
	// The key is destroyed first (the log reads as erased at once), then the read models are
	// rebuilt without what they had projected.
	waitUntil(t, "Ada's details read as erased", func() bool {
		d, err := w.svc.Queries.RequestDetails(context.Background(), app.Viewer{TechnicianID: w.tech}, ada)
		if err != nil {
			t.Fatal(err)
		}
		return d.Customer.Name == privacy.Erased && d.Customer.Email == privacy.Erased && d.Status == request.StatusCompleted
	})

	// Bob's last request closes: his retention starts then, and a restarted manager erases him
	// once it runs out, and never Ada again.
	stop()
	w.close(bobOpen)
	ahead.Store(int64(29 * 24 * time.Hour))
	w.runManager("retention-test", &ahead)
	time.Sleep(time.Second)
	if w.customerName(bobOpen) != "Bob Keeper" {
		t.Fatal("Bob is erased 29 days after his last request closed")
	}
	ahead.Store(int64(31 * 24 * time.Hour))
	waitUntil(t, "Bob is erased", func() bool {
		return w.customerName(bobOpen) == privacy.Erased && w.customerName(bobClosed) == privacy.Erased && len(w.erasures()) > 1
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(w.erasures()); n != 2 {
		t.Fatalf("%d erasures, want Ada's and Bob's", n)
	}

	report, err := verify.Log(context.Background(), verify.Config{Store: privacy.Unwrap(w.svc.Store)})
	if err != nil || !report.OK() {
		t.Fatalf("audit verify after the erasures: %v %+v", err, report.Findings)
	}
}

// An administrator erasing a customer first leaves the manager nothing to do: its erasure of
// the same key finds it destroyed by another erasure and writes nothing.
func TestRetentionAfterAnAdministratorsErasure(t *testing.T) {
	w := newWorld(t)
	ada := w.submit(w.acme, "Ada Lovelace", "ada@example.com", false)
	if _, err := w.svc.EraseCustomer(context.Background(), "ada@example.com", "asked", "admin"); err != nil {
		t.Fatal(err)
	}
	var ahead atomic.Int64
	ahead.Store(int64(31 * 24 * time.Hour))
	w.runManager("retention-test", &ahead)
	time.Sleep(2 * time.Second)
	if n := len(w.erasures()); n != 1 || w.customerName(ada) != privacy.Erased {
		t.Fatalf("%d erasures, Ada reads %q", n, w.customerName(ada))
	}
	if _, err := w.svc.EraseCustomer(context.Background(), "ada@example.com", "again", "admin"); !errors.Is(err, privacy.ErrNoSuchCustomer) {
		t.Fatalf("erasing again: %v", err)
	}
}
