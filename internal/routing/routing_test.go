package routing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/process"
	routingpm "github.com/helpstream/helpstream/internal/routing"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

const tick = 30 * time.Millisecond

// deployment is one database and files directory; services start and stop on it.
type deployment struct {
	t        *testing.T
	url      string
	filesDir string
	// log reads the event log on a pool of the test's own, whichever services run.
	log  eventlog.Store
	pool *pgxpool.Pool
}

func newDeployment(t *testing.T) *deployment {
	pool, url := pgtest.NewDatabase(t)
	log, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{t: t, url: url, filesDir: t.TempDir(), log: log, pool: pool}
}

// start runs a whole service (projectors and process managers included) until stop.
func (d *deployment) start(opts routingpm.Options) (svc *service.Service, stop func()) {
	t := d.t
	t.Helper()
	if opts.TickEvery == 0 {
		opts.TickEvery = tick
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: d.url, FilesDir: d.filesDir, PoolSize: servicetest.PoolSize, Projectors: true, Routing: opts,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(runCtx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancelRun()
			<-done
			svc.Close()
		})
	}
	t.Cleanup(stop)
	servicetest.WaitUntilBuilt(t, svc)
	return svc, stop
}

// world is a company with a portal and technicians, on a deployment.
type world struct {
	t       *testing.T
	app     *app.App
	store   eventlog.Store
	company uuid.UUID
	portal  uuid.UUID
	techs   []uuid.UUID // sorted by ID: the round-robin's order
	names   map[uuid.UUID]string
}

var admin = app.Meta{Actor: app.Admin}

func newWorld(t *testing.T, d *deployment, svc *service.Service, technicians int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, app: svc.App, store: d.log, company: uuid.New(), portal: uuid.New(), names: map[uuid.UUID]string{}}
	w.do(w.app.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.company, Name: "Acme"}))
	w.do(w.app.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.company, PortalID: w.portal, Name: "Help"}))
	for i := range technicians {
		id := uuid.New()
		w.techs = append(w.techs, id)
		w.names[id] = fmt.Sprintf("Tech %d", i)
		w.do(w.app.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: w.names[id], Email: fmt.Sprintf("tech%d@example.com", i)}))
		w.do(w.app.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: w.company}))
	}
	slices.SortFunc(w.techs, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	return w
}

func (w *world) do(_ app.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) setStatus(tech uuid.UUID, a directory.Availability) {
	w.t.Helper()
	w.do(w.app.SetAvailability(context.Background(), admin, app.SetAvailability{TechnicianID: tech, Availability: a}))
}

func (w *world) policy(s routing.Settings) {
	w.t.Helper()
	w.do(w.app.SetRoutingPolicy(context.Background(), admin, app.SetRoutingPolicy{CompanyID: w.company, Settings: s}))
}

func (w *world) submitWith(a *app.App) uuid.UUID {
	id := uuid.New()
	_, err := a.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
		RequestID: id, PortalID: w.portal, CompanyID: w.company,
		Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "The printer is on fire",
		Source: request.Source{Platform: request.Windows},
	})
	if err != nil {
		w.t.Error(err)
	}
	return id
}

func (w *world) submit() uuid.UUID {
	w.t.Helper()
	return w.submitWith(w.app)
}

func tech(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }

// logState is the log folded in order: who holds each request, every assignment, and the
// highest load each technician reached at any moment.
type logState struct {
	assignee    map[uuid.UUID]uuid.UUID
	assigned    map[uuid.UUID]int // Assigned events per request
	order       []assignment      // every Assigned, in log order
	unassigned  []eventlog.RecordedEvent
	load, peak  map[uuid.UUID]int
	overCapAt   string
	pendingLeft int
}

type assignment struct {
	request, technician uuid.UUID
	meta                eventlog.Metadata
}

func (w *world) fold(capacity func(uuid.UUID) int) logState {
	w.t.Helper()
	s := logState{assignee: map[uuid.UUID]uuid.UUID{}, assigned: map[uuid.UUID]int{}, load: map[uuid.UUID]int{}, peak: map[uuid.UUID]int{}}
	codec := request.Codec()
	from := eventlog.Start()
	for {
		page, err := w.store.ReadAll(context.Background(), from, eventlog.ReadOptions{Limit: 5000})
		if err != nil {
			w.t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, rec := range page {
			from = rec.Position
			if !codec.Knows(rec.Type) {
				continue
			}
			e, err := codec.Decode(rec.Type, rec.Data)
			if err != nil {
				w.t.Fatal(err)
			}
			id := uuid.MustParse(rec.StreamID[len(request.StreamPrefix):])
			switch e := e.(type) {
			case *request.Assigned:
				s.assignee[id] = e.TechnicianID
				s.assigned[id]++
				s.order = append(s.order, assignment{id, e.TechnicianID, rec.Metadata})
				s.load[e.TechnicianID]++
				s.peak[e.TechnicianID] = max(s.peak[e.TechnicianID], s.load[e.TechnicianID])
				if capacity != nil && s.load[e.TechnicianID] > capacity(e.TechnicianID) && s.overCapAt == "" {
					s.overCapAt = fmt.Sprintf("%s at %s: load %d", e.TechnicianID, rec.Position, s.load[e.TechnicianID])
				}
			case *request.Unassigned:
				delete(s.assignee, id)
				s.load[e.TechnicianID]--
				s.unassigned = append(s.unassigned, rec)
			case *request.Closed:
				if a, ok := s.assignee[id]; ok {
					s.load[a]--
					delete(s.assignee, id)
				}
			}
		}
	}
	return s
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (w *world) waitAssigned(n int, capacity func(uuid.UUID) int) logState {
	w.t.Helper()
	var s logState
	waitUntil(w.t, fmt.Sprintf("%d requests are assigned", n), 60*time.Second, func() bool {
		s = w.fold(capacity)
		return len(s.order) >= n
	})
	return s
}

// Round-robin: requests go, oldest first, to each Available technician in turn; every
// assignment is the system's, with its rule in the metadata.
func TestRoundRobinOrder(t *testing.T) {
	d := newDeployment(t)
	svc, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 3)
	for _, id := range w.techs {
		w.setStatus(id, directory.Available)
	}
	w.policy(routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 10})
	var requests []uuid.UUID
	for range 7 {
		requests = append(requests, w.submit())
	}
	s := w.waitAssigned(7, nil)
	for i, a := range s.order {
		if a.request != requests[i] || a.technician != w.techs[i%3] {
			t.Fatalf("assignment %d: %s to %s, want %s to %s", i, a.request, w.names[a.technician], requests[i], w.names[w.techs[i%3]])
		}
		d := a.meta.Decision
		if a.meta.Actor != "system" || d == nil || d.By != eventlog.DecisionAutoAssignment || d.Rule != "round-robin" {
			t.Fatalf("assignment %d metadata %+v", i, a.meta)
		}
	}
}

// Least-busy: the technician with the fewest open requests; a tie goes to who waited longest
// since their last assignment.
func TestLeastBusy(t *testing.T) {
	d := newDeployment(t)
	svc, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 2)
	busy, idle := w.techs[0], w.techs[1]
	for _, id := range w.techs {
		w.setStatus(id, directory.Available)
	}
	ctx := context.Background()
	for range 2 { // auto-assignment off: the busy one takes two requests themselves
		w.do(w.app.AssignToMe(ctx, tech(busy), w.submit()))
	}
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 5})
	var requests []uuid.UUID
	for range 3 {
		requests = append(requests, w.submit())
	}
	s := w.waitAssigned(5, nil)
	want := []uuid.UUID{idle, idle, busy} // 0 < 2, 1 < 2, then 2 = 2 and the busy one waited longer
	for i, a := range s.order[2:] {
		if a.request != requests[i] || a.technician != want[i] || a.meta.Decision == nil || a.meta.Decision.Rule != "least-busy" {
			t.Fatalf("assignment %d: %s to %s (%+v), want %s", i, a.request, w.names[a.technician], a.meta.Decision, w.names[want[i]])
		}
	}
	if s.order[0].meta.Decision != nil {
		t.Fatal("a technician's own assignment carries a decision")
	}
}

// Capacity holds; a technician who closes a request, or becomes Available, pulls the oldest
// waiting one.
func TestCapacityAndPulls(t *testing.T) {
	d := newDeployment(t)
	svc, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 3)
	a, b, late := w.techs[0], w.techs[1], w.techs[2]
	w.setStatus(a, directory.Available)
	w.setStatus(b, directory.Available)
	capacity := func(id uuid.UUID) int {
		if id == a {
			return 2
		}
		return 1
	}
	w.policy(routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 1, Capacities: map[uuid.UUID]int{a: 2}})
	var requests []uuid.UUID
	for range 6 {
		requests = append(requests, w.submit())
	}
	s := w.waitAssigned(3, capacity)
	time.Sleep(10 * tick) // nothing more may come
	if s = w.fold(capacity); len(s.order) != 3 || s.overCapAt != "" {
		t.Fatalf("%d assigned (over capacity: %q), want 3: a 2, b 1", len(s.order), s.overCapAt)
	}
	// b closes theirs: the oldest waiting request goes to b (a is full).
	ctx := context.Background()
	var bs uuid.UUID
	for r, who := range s.assignee {
		if who == b {
			bs = r
		}
	}
	w.do(w.app.JoinChat(ctx, tech(b), bs))
	w.do(w.app.EndChat(ctx, tech(b), bs))
	w.do(w.app.Close(ctx, tech(b), bs))
	s = w.waitAssigned(4, capacity)
	if last := s.order[3]; last.technician != b || last.request != requests[3] {
		t.Fatalf("after the close: %s to %s, want the oldest waiting %s to b", last.request, w.names[last.technician], requests[3])
	}
	// A third technician becomes Available: they pull the next one.
	w.setStatus(late, directory.Available)
	s = w.waitAssigned(5, capacity)
	if last := s.order[4]; last.technician != late || last.request != requests[4] {
		t.Fatalf("after Available: %s to %s, want %s to the newcomer", last.request, w.names[last.technician], requests[4])
	}
	time.Sleep(10 * tick)
	if s = w.fold(capacity); len(s.order) != 5 || s.overCapAt != "" {
		t.Fatalf("%d assigned, over capacity %q", len(s.order), s.overCapAt)
	}
}

// An assignee Away past the limit gives back the requests they left unanswered, with the
// reason, and under auto-assignment they go to the next technician; an answered one stays.
func TestReassignmentAfterTheAwayLimit(t *testing.T) {
	d := newDeployment(t)
	svc, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 2)
	first, second := w.techs[0], w.techs[1]
	w.setStatus(first, directory.Available)
	w.policy(routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 5, AwayLimit: time.Second})
	silent, answered := w.submit(), w.submit()
	w.waitAssigned(2, nil)
	ctx := context.Background()
	w.do(w.app.SendCustomerMessage(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: answered}}, answered, uuid.New(), "Hello?"))
	w.do(w.app.JoinChat(ctx, tech(first), answered))
	w.do(w.app.SendTechnicianMessage(ctx, tech(first), answered, uuid.New(), "Here to help"))
	w.setStatus(second, directory.Available)
	w.setStatus(first, directory.Away)
	went := time.Now()
	s := w.waitAssigned(3, nil)
	if waited := time.Since(went); waited < 900*time.Millisecond {
		t.Fatalf("given back after %s, before the limit", waited)
	}
	reason := "away_limit: " + w.names[first] + " was Away 1s with 1 unanswered request"
	checkGivenBack(t, w, s, silent, first, second, reason)
	if s.assignee[answered] != first {
		t.Fatal("the answered request was given back")
	}
	// The details (the read model the console shows) say how each move was decided.
	var bodies []string
	waitUntil(t, "the details show the three moves", 10*time.Second, func() bool {
		d, err := svc.Queries.RequestDetails(ctx, app.Viewer{TechnicianID: second}, silent)
		if err != nil {
			t.Fatal(err)
		}
		bodies = bodies[:0]
		for _, e := range d.Entries {
			if e.Event == "request.assigned.v1" || e.Event == "request.unassigned.v1" {
				bodies = append(bodies, e.Body)
			}
		}
		return len(bodies) == 3
	})
	if want := []string{"auto:round-robin", reason, "auto:round-robin"}; !slices.Equal(bodies, want) {
		t.Fatalf("entries %q, want %q", bodies, want)
	}
}

func checkGivenBack(t *testing.T, w *world, s logState, id, from, to uuid.UUID, reason string) {
	t.Helper()
	if len(s.unassigned) != 1 {
		t.Fatalf("%d give-backs, want 1", len(s.unassigned))
	}
	rec := s.unassigned[0]
	e, err := request.Codec().Decode(rec.Type, rec.Data)
	if err != nil {
		t.Fatal(err)
	}
	u := e.(*request.Unassigned)
	d := rec.Metadata.Decision
	if rec.StreamID != request.Stream(id) || u.TechnicianID != from || u.Reason != reason ||
		d == nil || d.By != eventlog.DecisionReassignment || d.Rule != routing.AwayLimitRule || d.Reason != reason || rec.Metadata.Actor != "system" {
		t.Fatalf("give-back %s %+v metadata %+v, want %s from %s with %q", rec.StreamID, u, rec.Metadata, id, from, reason)
	}
	if got := s.assignee[id]; got != to {
		t.Fatalf("given-back request is with %s, want %s", w.names[got], w.names[to])
	}
}

// The away timer survives a restart of the service: stopped before it is due, the next
// service gives the request back when it is.
func TestReassignmentSurvivesARestart(t *testing.T) {
	d := newDeployment(t)
	svc, stop := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 2)
	first, second := w.techs[0], w.techs[1]
	w.setStatus(first, directory.Available)
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 5, AwayLimit: 3 * time.Second})
	id := w.submit()
	w.waitAssigned(1, nil)
	w.setStatus(second, directory.Available)
	w.setStatus(first, directory.Offline)
	waitUntil(t, "the away timer is set", 10*time.Second, func() bool {
		timers, err := process.Timers{Owner: routingpm.Name}.List(context.Background(), d.pool, "away/")
		return err == nil && len(timers) == 1
	})
	stop()
	if s := w.fold(nil); len(s.unassigned) != 0 {
		t.Fatal("given back before the limit")
	}
	svc2, _ := d.start(routingpm.Options{})
	w.app = svc2.App
	s := w.waitAssigned(2, nil)
	checkGivenBack(t, w, s, id, first, second, "away_limit: "+w.names[first]+" was Offline 3s with 1 unanswered request")
}

var errKilled = errors.New("killed between the decision and the append")

// Killed after the decision's commit and before its append, or after the append and before
// the decision is marked done, the manager's next leader acts on every decision: each request
// is assigned exactly once.
func TestCrashBetweenDecisionAndAppend(t *testing.T) {
	for _, at := range []string{"before the append", "after the append"} {
		t.Run(at, func(t *testing.T) {
			d := newDeployment(t)
			var kills atomic.Int32
			killed := make(chan struct{})
			kill := func(process.Command) error {
				if kills.Add(1) == 1 {
					close(killed)
				}
				return errKilled // every Flush of this service dies here, as if the process had
			}
			opts := routingpm.Options{BeforeExecute: kill}
			if at == "after the append" {
				opts = routingpm.Options{AfterExecute: kill}
			}
			svc, stop := d.start(opts)
			w := newWorld(t, d, svc, 2)
			for _, id := range w.techs {
				w.setStatus(id, directory.Available)
			}
			w.policy(routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 5})
			var requests []uuid.UUID
			for range 4 {
				requests = append(requests, w.submit())
			}
			<-killed
			waitUntil(t, "every decision is in the outbox", 10*time.Second, func() bool {
				pending, err := process.Outbox{Owner: routingpm.Name}.Pending(context.Background(), d.pool, 100)
				return err == nil && len(pending) == len(requests)
			})
			stop()
			want := 0
			if at == "after the append" {
				want = 1 // the first decision was appended, then the process died
			}
			// The global log holds a fresh commit back while older transactions of the
			// cluster are open: wait for what the killed manager appended to show.
			var got int
			waitUntil(t, fmt.Sprintf("%d assignment(s) of the killed manager in the log", want), 10*time.Second, func() bool {
				got = len(w.fold(nil).order)
				return got >= want
			})
			time.Sleep(10 * tick)
			if got = len(w.fold(nil).order); got != want {
				t.Fatalf("%d assignments appended by the killed manager, want %d", got, want)
			}
			svc2, _ := d.start(routingpm.Options{})
			w.app = svc2.App
			w.waitAssigned(len(requests), nil)
			waitUntil(t, "the outbox is empty", 10*time.Second, func() bool {
				pending, err := process.Outbox{Owner: routingpm.Name}.Pending(context.Background(), d.pool, 100)
				return err == nil && len(pending) == 0
			})
			time.Sleep(10 * tick)
			s := w.fold(nil)
			for _, r := range requests {
				if s.assigned[r] != 1 {
					t.Fatalf("request %s assigned %d times", r, s.assigned[r])
				}
			}
			if len(s.order) != len(requests) {
				t.Fatalf("%d assignments, want %d", len(s.order), len(requests))
			}
		})
	}
}

// A decided assignment refused because a technician took the request meanwhile is released:
// nothing is written twice, the load it held is freed, and the manager decides again on the
// next request.
func TestRefusedDecisionIsReleased(t *testing.T) {
	d := newDeployment(t)
	var w *world
	var taken atomic.Bool
	var first uuid.UUID
	var decided atomic.Value // the first decision's payload
	svc, _ := d.start(routingpm.Options{BeforeExecute: func(c process.Command) error {
		if taken.CompareAndSwap(false, true) {
			decided.Store(string(c.Payload))
			// Bob takes the request himself between the decision and its append.
			_, err := w.app.AssignToMe(context.Background(), tech(w.techs[1]), first)
			return err
		}
		return nil
	}})
	w = newWorld(t, d, svc, 2)
	alice, bob := w.techs[0], w.techs[1]
	w.setStatus(bob, directory.Available)
	w.setStatus(alice, directory.Available)
	// Least-busy: both hold nothing, the first decision goes to Alice (the lower ID).
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 1, Capacities: map[uuid.UUID]int{bob: 5}})
	first = uuid.New()
	// Submitted by hand so that the hook knows its ID before the manager sees it.
	if _, err := w.app.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: first}}, app.SubmitRequest{
		RequestID: first, PortalID: w.portal, CompanyID: w.company,
		Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "Race me", Source: request.Source{Platform: request.Windows},
	}); err != nil {
		t.Fatal(err)
	}
	s := w.waitAssigned(1, nil)
	if p, _ := decided.Load().(string); !strings.Contains(p, alice.String()) {
		t.Fatalf("the first decision %s is not for Alice %s", p, alice)
	}
	if s.assignee[first] != bob || s.order[0].meta.Decision != nil {
		t.Fatalf("first request with %s (%+v), want Bob's own assignment", w.names[s.assignee[first]], s.order[0].meta)
	}
	// Alice (capacity 1) holds nothing once the decision is released: the next request is hers
	// (still pending to her, she would be full and it would go to Bob).
	second := w.submit()
	s = w.waitAssigned(2, nil)
	if s.assignee[second] != alice || s.assigned[first] != 1 {
		t.Fatalf("second request with %s, want Alice (%s); first assigned %d times", w.names[s.assignee[second]], w.names[alice], s.assigned[first])
	}
	waitUntil(t, "the outbox is empty", 10*time.Second, func() bool {
		pending, err := process.Outbox{Owner: routingpm.Name}.Pending(context.Background(), d.pool, 100)
		return err == nil && len(pending) == 0
	})
}

// Two services on one database, both running their managers, 500 requests submitted through
// both at once, and halfway through the first service stops (the manager's leader moves to
// the second if it was there): no request is assigned twice, nobody is ever over capacity, and
// every request there was capacity for is assigned.
func TestTwoServicesAssignExactlyOnce(t *testing.T) {
	d := newDeployment(t)
	one, stopOne := d.start(routingpm.Options{})
	two, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, one, 5)
	capacities := map[uuid.UUID]int{w.techs[0]: 40, w.techs[1]: 60, w.techs[2]: 80, w.techs[3]: 100}
	capacity := func(id uuid.UUID) int {
		if c, ok := capacities[id]; ok {
			return c
		}
		return 120
	}
	total := 0
	for _, id := range w.techs {
		total += capacity(id)
		w.setStatus(id, directory.Available)
	}
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 120, Capacities: capacities})
	const requests = 500
	started := time.Now()
	submit := func(from, to int, apps ...*app.App) {
		var wg sync.WaitGroup
		inFlight := make(chan struct{}, 16)
		for i := from; i < to; i++ {
			wg.Go(func() {
				inFlight <- struct{}{}
				defer func() { <-inFlight }()
				w.submitWith(apps[i%len(apps)])
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	submit(0, requests/2, one.App, two.App)
	stopOne()
	submit(requests/2, requests, two.App)
	s := w.waitAssigned(total, capacity) // 400 of 500: the capacity
	t.Logf("%d requests submitted through two services, %d assigned in %s", requests, total, time.Since(started).Round(time.Millisecond))
	time.Sleep(20 * tick)
	s = w.fold(capacity)
	if s.overCapAt != "" {
		t.Fatalf("over capacity: %s", s.overCapAt)
	}
	if len(s.order) != total {
		t.Fatalf("%d assignments, want %d (the total capacity)", len(s.order), total)
	}
	for r, n := range s.assigned {
		if n != 1 {
			t.Fatalf("request %s assigned %d times", r, n)
		}
	}
	for _, id := range w.techs {
		if s.load[id] != capacity(id) {
			t.Errorf("%s holds %d, capacity %d", w.names[id], s.load[id], capacity(id))
		}
	}
}

// A command that cannot be read (an unknown kind, a payload of another shape) is dropped, not
// retried forever in front of every decision after it.
func TestUnreadableCommandsDoNotBlock(t *testing.T) {
	d := newDeployment(t)
	box := process.Outbox{Owner: routingpm.Name}
	err := pgx.BeginFunc(context.Background(), d.pool, func(tx pgx.Tx) error {
		if err := box.Add(context.Background(), tx, uuid.New(), "teleport", map[string]string{"to": "mars"}); err != nil {
			return err
		}
		return box.Add(context.Background(), tx, uuid.New(), "assign", map[string]int{"request_id": 5})
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, _ := d.start(routingpm.Options{})
	w := newWorld(t, d, svc, 1)
	w.setStatus(w.techs[0], directory.Available)
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 1})
	w.submit()
	w.waitAssigned(1, nil)
	waitUntil(t, "the outbox is empty", 10*time.Second, func() bool {
		pending, err := box.Pending(context.Background(), d.pool, 100)
		return err == nil && len(pending) == 0
	})
}
