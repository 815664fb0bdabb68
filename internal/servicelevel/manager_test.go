package servicelevel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/process"
	sla "github.com/helpstream/helpstream/internal/servicelevel"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// world is an App on a fresh event store with one company, its portal and an Available
// technician.
type world struct {
	store     *pgstore.Store
	pool      *pgxpool.Pool
	app       *app.App
	companyID uuid.UUID
	portalID  uuid.UUID
	techID    uuid.UUID
}

var admin = app.Meta{Actor: app.Admin}

func newWorld(t *testing.T) *world {
	t.Helper()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{store: store, pool: pool, app: a, companyID: uuid.New(), portalID: uuid.New(), techID: uuid.New()}
	ctx := context.Background()
	must(t)(a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.companyID, Name: "Acme"}))
	must(t)(a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.companyID, PortalID: w.portalID, Name: "Help"}))
	must(t)(a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: w.techID, Name: "Tess", Email: "tess@example.com"}))
	must(t)(a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: w.techID, CompanyID: w.companyID}))
	must(t)(a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: w.techID, Availability: "available"}))
	return w
}

func must(t *testing.T) func(app.Result, error) {
	t.Helper()
	return func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (w *world) setLevels(t *testing.T, goals servicelevel.Goals, hours servicelevel.Hours) {
	t.Helper()
	must(t)(w.app.SetServiceLevels(context.Background(), admin, app.SetServiceLevels{CompanyID: w.companyID, Goals: goals, Hours: hours}))
}

func (w *world) submit(t *testing.T) uuid.UUID {
	t.Helper()
	id := uuid.New()
	must(t)(w.app.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
		RequestID: id, PortalID: w.portalID, CompanyID: w.companyID,
		Customer:    request.Customer{Name: "Ada", Email: "ada@example.com"},
		Description: "The printer is on fire", Source: request.Source{Platform: request.Windows},
	}))
	return id
}

func (w *world) tech() app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: w.techID}} }

// manager returns a service-level manager of w, ticking every 20 ms.
func (w *world) manager(t *testing.T, change ...func(*sla.Config)) *sla.Manager {
	t.Helper()
	cfg := sla.Config{Pool: w.pool, App: w.app, TickEvery: 20 * time.Millisecond}
	for _, c := range change {
		c(&cfg)
	}
	m, err := sla.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// run runs managers on the process runtime until the returned stop is called.
func (w *world) run(t *testing.T, managers ...subscriber.Consumer) (stop func()) {
	t.Helper()
	rt, err := process.NewRuntime(process.Config{Pool: w.pool, Store: w.store, Managers: managers})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// breaches counts the breaches of each request, by target.
func (w *world) breaches(t *testing.T) map[uuid.UUID]map[string]int {
	t.Helper()
	events, err := w.store.ReadAll(context.Background(), eventlog.Start(), eventlog.ReadOptions{Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	codec := request.Codec()
	got := map[uuid.UUID]map[string]int{}
	for _, e := range events {
		if e.Type != "request.sla_breached.v1" {
			continue
		}
		if e.Metadata.Actor != "system" {
			t.Fatalf("a breach appended by %q, want the system", e.Metadata.Actor)
		}
		d, err := codec.Decode(e.Type, e.Data)
		if err != nil {
			t.Fatal(err)
		}
		id := uuid.MustParse(e.StreamID[len(request.StreamPrefix):])
		if got[id] == nil {
			got[id] = map[string]int{}
		}
		got[id][d.(*request.SLABreached).Target]++
	}
	return got
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) timers(t *testing.T) []process.Timer {
	t.Helper()
	list, err := process.Timers{Owner: sla.DefaultName}.List(context.Background(), w.pool, "")
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (w *world) pending(t *testing.T) int {
	t.Helper()
	cmds, err := process.Outbox{Owner: sla.DefaultName}.Pending(context.Background(), w.pool, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(cmds)
}

// A request left waiting past its 24/7 targets breaches each once, by the system; one that met
// them in time breaches none; a request submitted before the company had targets runs no clock.
func TestBreachesOnceWhenDue(t *testing.T) {
	w := newWorld(t)
	before := w.submit(t) // no targets yet
	w.setLevels(t, servicelevel.Goals{Assign: 2 * time.Second, FirstReply: 4 * time.Second}, servicelevel.Hours{})
	w.run(t, w.manager(t))
	waiting, served := w.submit(t), w.submit(t)
	ctx := context.Background()
	must(t)(w.app.AssignToMe(ctx, w.tech(), served))
	must(t)(w.app.JoinChat(ctx, w.tech(), served))
	must(t)(w.app.SendTechnicianMessage(ctx, w.tech(), served, uuid.New(), "Hello, I am here"))
	waitUntil(t, "the waiting request breaches both targets", func() bool { return len(w.breaches(t)[waiting]) == 2 })
	time.Sleep(300 * time.Millisecond) // ticks after the breach add nothing
	got := w.breaches(t)
	if got[waiting]["assign"] != 1 || got[waiting]["first_reply"] != 1 {
		t.Fatalf("waiting request's breaches %v, want each target once", got[waiting])
	}
	if len(got[served]) != 0 || len(got[before]) != 0 {
		t.Fatalf("breaches of the served request %v, of the one before the targets %v: want none", got[served], got[before])
	}
	if n := len(w.timers(t)); n != 0 {
		t.Fatalf("%d timers left", n)
	}
	if n := w.pending(t); n != 0 {
		t.Fatalf("%d commands left in the outbox", n)
	}
	// The request folds its breaches.
	r := load(t, w, waiting)
	if b := r.Breached(); !b.Assign || !b.FirstReply || b.Resolution {
		t.Fatalf("request's breaches %+v", b)
	}
}

// A clock's timer outlives the manager's runtime: stopped before the due time, the next
// runtime records the breach once, at its time.
func TestTimersSurviveARestart(t *testing.T) {
	w := newWorld(t)
	w.setLevels(t, servicelevel.Goals{Assign: 2 * time.Second}, servicelevel.Hours{})
	stop := w.run(t, w.manager(t))
	id := w.submit(t)
	waitUntil(t, "the clock's timer is set", func() bool { return len(w.timers(t)) == 1 })
	stop()
	if got := w.breaches(t); len(got) != 0 {
		t.Fatalf("breached before the due time: %v", got)
	}
	w.run(t, w.manager(t))
	waitUntil(t, "the request breaches", func() bool { return w.breaches(t)[id]["assign"] == 1 })
	time.Sleep(200 * time.Millisecond)
	if got := w.breaches(t)[id]; got["assign"] != 1 || len(got) != 1 {
		t.Fatalf("breaches %v, want assign once", got)
	}
}

var errKilled = errors.New("killed")

// Killed after the decision was committed and before the append (or after the append, before
// the command is marked done), the manager's next runtime records each breach exactly once.
func TestCrashBetweenDecisionAndAppend(t *testing.T) {
	for _, at := range []string{"before the append", "after the append"} {
		t.Run(at, func(t *testing.T) {
			w := newWorld(t)
			w.setLevels(t, servicelevel.Goals{Assign: time.Second}, servicelevel.Hours{})
			ids := []uuid.UUID{w.submit(t), w.submit(t), w.submit(t)}
			var kills atomic.Int32
			killed := make(chan struct{})
			kill := func(process.Command) error {
				if kills.Add(1) == 1 {
					close(killed)
				}
				return errKilled
			}
			first := w.manager(t, func(c *sla.Config) {
				if at == "before the append" {
					c.BeforeAppend = kill
				} else {
					c.AfterAppend = kill
				}
			})
			stop := w.run(t, first)
			<-killed
			stop()
			if w.pending(t) == 0 {
				t.Fatal("no decision left in the outbox")
			}
			if at == "after the append" {
				// The first breach was appended, then the runtime died. The log shows it once
				// other transactions on the server (other tests', a tick's) let its horizon pass.
				waitUntil(t, "the killed runtime's one breach is readable", func() bool { return len(w.breaches(t)) == 1 })
				if got := w.breaches(t); len(got) != 1 {
					t.Fatalf("%d requests breached by a runtime killed after its first append, want 1", len(got))
				}
			} else if got := w.breaches(t); len(got) != 0 {
				t.Fatalf("%d requests breached by a runtime killed before its appends, want 0", len(got))
			}
			w.run(t, w.manager(t))
			waitUntil(t, "every request breached", func() bool { return len(w.breaches(t)) == len(ids) })
			waitUntil(t, "the outbox is empty", func() bool { return w.pending(t) == 0 })
			for _, id := range ids {
				if got := w.breaches(t)[id]; got["assign"] != 1 || len(got) != 1 {
					t.Fatalf("request %s breaches %v, want assign once", id, got)
				}
			}
		})
	}
}

// The clocks count business hours in the company's time zone: a request submitted now runs its
// clock to the business-hours due time, which the manager's timer holds; targets set after a
// submission leave its clocks as they were.
func TestClocksCountBusinessHours(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	must(t)(w.app.SetCompanyTimeZone(ctx, admin, app.SetCompanyTimeZone{CompanyID: w.companyID, TimeZone: "America/New_York"}))
	now := time.Now().In(mustZone(t, "America/New_York"))
	// Open one hour a week, on the weekday two days from now: the due time is days away.
	day := now.AddDate(0, 0, 2).Weekday()
	opening := servicelevel.Opening{Day: day, From: 10 * 60, To: 11 * 60}
	hours, err := servicelevel.NewHours([]servicelevel.Opening{opening})
	if err != nil {
		t.Fatal(err)
	}
	w.setLevels(t, servicelevel.Goals{Resolution: 30 * time.Minute}, hours)
	w.run(t, w.manager(t))
	id := w.submit(t)
	waitUntil(t, "the clock's timer is set", func() bool { return len(w.timers(t)) == 1 })
	w.setLevels(t, servicelevel.Goals{Resolution: time.Second}, servicelevel.Hours{}) // for later requests only
	timer := w.timers(t)[0]
	submitted := submittedAt(t, w, id)
	want := hours.Due(submitted, 30*time.Minute, mustZone(t, "America/New_York"))
	if !timer.DueAt.Equal(want) {
		t.Fatalf("timer due %s, want %s", timer.DueAt, want)
	}
	local := timer.DueAt.In(mustZone(t, "America/New_York"))
	if local.Weekday() != day || local.Hour() != 10 || local.Minute() != 30 {
		t.Fatalf("due %s, want 10:30 New York time on %s", local, day)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := w.breaches(t); len(got) != 0 {
		t.Fatalf("the later, shorter target changed the earlier request's clock: %v", got)
	}
	later := w.submit(t)
	waitUntil(t, "a later request runs the new target", func() bool { return w.breaches(t)[later]["resolution"] == 1 })
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func submittedAt(t *testing.T, w *world, id uuid.UUID) time.Time {
	t.Helper()
	events, err := w.store.ReadStream(context.Background(), request.Stream(id), 0, eventlog.ReadOptions{Limit: 1})
	if err != nil || len(events) == 0 {
		t.Fatalf("read %s: %v", id, err)
	}
	return events[0].RecordedAt
}

func TestConfigValidate(t *testing.T) {
	if _, err := sla.New(sla.Config{}); err == nil {
		t.Fatal("a manager without a pool")
	}
	w := newWorld(t)
	if _, err := sla.New(sla.Config{Pool: w.pool}); err == nil {
		t.Fatal("a manager without the application")
	}
	if _, err := sla.New(sla.Config{Pool: w.pool, App: w.app, TickEvery: -time.Second}); err == nil {
		t.Fatal("a negative tick")
	}
}

func load(t *testing.T, w *world, id uuid.UUID) *request.Request {
	t.Helper()
	recorded, err := w.store.ReadStream(context.Background(), request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	codec := request.Codec()
	var history []eventlog.Event
	for _, rec := range recorded {
		e, err := codec.Decode(rec.Type, rec.Data)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, e)
	}
	r, err := request.FromHistory(history)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
