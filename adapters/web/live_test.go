package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// Streams opened together beat at their own phases (each beat reloads the viewer's profile:
// a thousand consoles reconnecting at once must not reload a thousand profiles in the same
// instant), and a burst of changes reaches every stream, each change once, whole.
func TestManyStreamsBurstAndHeartbeats(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const streams = 30
	lines := make([]<-chan string, streams)
	firstBeat := make([]time.Duration, streams)
	beaten := make(chan struct{}, streams)
	for i := range lines {
		openedAt := time.Now()
		raw := alice.events(ctx, "/console/events")
		relay := make(chan string, 1000)
		lines[i] = relay
		go func() {
			defer close(relay)
			beat := false
			for l := range raw {
				if !beat && strings.HasPrefix(l, ": heartbeat") {
					beat, firstBeat[i] = true, time.Since(openedAt)
					beaten <- struct{}{}
				}
				relay <- l
			}
		}()
	}

	// The time from each stream's opening to its first heartbeat: spread over the heartbeat's
	// interval (200 ms here: 100–300 ms), not the same for all.
	for range streams {
		select {
		case <-beaten:
		case <-time.After(10 * time.Second):
			t.Fatal("a stream never beat")
		}
	}
	slices.Sort(firstBeat)
	if spread := firstBeat[len(firstBeat)-1] - firstBeat[0]; spread < 80*time.Millisecond {
		t.Fatalf("%d streams opened together first beat %s to %s after opening: all at the same phase", streams, firstBeat[0], firstBeat[len(firstBeat)-1])
	}

	// A burst: every stream gets every submission's change.
	const burst = 25
	want := map[string]bool{}
	for i := range burst {
		id := uuid.New()
		want[id.String()] = true
		if _, err := w.app.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
			RequestID: id, PortalID: w.acmePort, CompanyID: w.acme, Description: fmt.Sprintf("burst %d", i),
			Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Source: request.Source{Platform: request.Windows},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i, l := range lines {
		seen := map[string]int{}
		for len(seen) < burst {
			line := waitLine(t, l, "data: ")
			for id := range want {
				if strings.Contains(line, `"request_id":"`+id+`"`) && strings.Contains(line, `"type":"request.submitted.v1"`) {
					seen[id]++
				}
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("stream %d got the change of %s %d times", i, id, n)
			}
		}
	}
}

func TestEventStreams(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	carol := w.login(t, "carol@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	aliceEvents := alice.events(ctx, "/console/events")
	carolEvents := carol.events(ctx, "/console/events")
	waitLine(t, aliceEvents, ": live updates")
	waitLine(t, carolEvents, ": live updates")

	customer, id := w.newRequest(t)
	waitLine(t, aliceEvents, "event: change")
	l := waitLine(t, aliceEvents, "data: ")
	mustf(t, strings.Contains(l, id.String()) && strings.Contains(l, "request.submitted.v1"), "change %s", l)
	waitLine(t, aliceEvents, "event: notification")
	l = waitLine(t, aliceEvents, "data: ")
	mustf(t, strings.Contains(l, `"url":"/console/requests/`+id.String()+`"`), "notification %s", l)

	// The customer's stream follows their own request.
	req := "/portal/requests/" + id.String()
	customerEvents := customer.events(ctx, req+"/events")
	waitLine(t, customerEvents, ": live updates")
	details := "/console/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	l = waitLine(t, aliceEvents, "data: ")
	mustf(t, strings.Contains(l, "request.assigned.v1"), "change %s", l)
	alice.submitForm(details, details+"/join", nil)
	waitLine(t, customerEvents, "event: change")

	// Carol (Globex only) heard nothing of the Acme request, only heartbeats.
	for {
		select {
		case l := <-carolEvents:
			mustf(t, !strings.HasPrefix(l, "event:") && !strings.HasPrefix(l, "data:"), "carol heard %q", l)
			continue
		default:
		}
		break
	}
	waitLine(t, carolEvents, ": heartbeat")

	mustf(t, w.browser(t, "").get("/console/events").status == http.StatusUnauthorized, "events without a session")
	mustf(t, w.browser(t, "").get(req+"/events").status == http.StatusNotFound, "customer events without the token")
}

// countingStore is an event store that counts what ReadAll returns and where subscriptions
// start, and knows its head as a store with a Head method does.
type countingStore struct {
	*pgstore.Store
	head eventlog.Position

	mu       sync.Mutex // guards what is counted
	readAll  int
	subsFrom []eventlog.Position
}

func (s *countingStore) Head(context.Context) (eventlog.Position, error) { return s.head, nil }

func (s *countingStore) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, from, opts)
	s.mu.Lock()
	s.readAll += len(events)
	s.mu.Unlock()
	return events, err
}

func (s *countingStore) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	s.mu.Lock()
	s.subsFrom = append(s.subsFrom, from)
	s.mu.Unlock()
	return s.Store.Subscribe(ctx, from, opts, handle)
}

// TestLiveUpdatesStartAtTheHead: the live updates start from the log's head: they read none of
// the history at startup and replay none of it to an event stream, and pass on what comes after.
func TestLiveUpdatesStartAtTheHead(t *testing.T) {
	const history = 3000
	svc := servicetest.New(t)
	a, accounts, pg := svc.App, svc.Accounts, svc.Store.(*pgstore.Store)
	ctx := context.Background()
	company, tech := uuid.New(), uuid.New()
	m := app.Meta{Actor: app.Admin}
	if _, err := a.CreateCompany(ctx, m, app.CreateCompany{CompanyID: company, Name: "Acme Corp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := accounts.RegisterTechnicianWithPassword(ctx, m, app.RegisterTechnician{TechnicianID: tech, Name: "Alice Martin", Email: "alice@example.com"}, password); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GrantAccess(ctx, m, app.GrantAccess{TechnicianID: tech, CompanyID: company}); err != nil {
		t.Fatal(err)
	}
	// Available: only an Available technician is notified of a new request (R2, R5).
	if _, err := a.SetAvailability(ctx, m, app.SetAvailability{TechnicianID: tech, Availability: directory.Available}); err != nil {
		t.Fatal(err)
	}
	appends := make([]pgstore.StreamAppend, 0, history)
	for i := range history {
		id := uuid.New()
		data, _ := json.Marshal(request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
			Customer:    request.Customer{Name: fmt.Sprintf("Old customer %d", i), Email: "old@example.com"},
			Description: "old", Source: request.Source{Platform: request.Windows}})
		appends = append(appends, pgstore.StreamAppend{StreamID: request.Stream(id), Expected: eventlog.NoStream(),
			Events: []eventlog.EventData{{ID: uuid.New(), Type: "request.submitted.v1", Data: data}}})
	}
	results, err := pg.AppendStreams(ctx, appends)
	if err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: pg, head: results[len(results)-1].Position}

	h, err := web.New(web.Config{App: a, Accounts: accounts, Store: store, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("live updates never became ready")
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	session, err := accounts.Login(ctx, "alice@example.com", password)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv}
	alice := w.browser(t, uaWindows)
	u, _ := url.Parse(srv.URL)
	alice.hc.Jar.SetCookies(u, []*http.Cookie{{Name: web.SessionCookie, Value: session.Token, Path: "/"}})
	streamCtx, stop := context.WithCancel(ctx)
	defer stop()
	lines := alice.events(streamCtx, "/console/events")
	waitLine(t, lines, ": live updates")
	waitLine(t, lines, ": heartbeat")

	store.mu.Lock()
	readAll, subsFrom := store.readAll, append([]eventlog.Position(nil), store.subsFrom...)
	store.mu.Unlock()
	mustf(t, readAll == 0, "startup read %d events of the history", readAll)
	mustf(t, len(subsFrom) == 1 && subsFrom[0] == store.head, "subscribed from %v, want the head %v", subsFrom, store.head)

	portal := uuid.New()
	if _, err := a.CreatePortal(ctx, m, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Acme Help Desk"}); err != nil {
		t.Fatal(err)
	}
	sub, err := accounts.SubmitRequestWithToken(ctx, app.Meta{Actor: app.Actor{Kind: "customer"}}, app.SubmitRequest{
		RequestID: uuid.New(), PortalID: portal, CompanyID: company,
		Customer:    request.Customer{Name: "New customer", Email: "new@example.com"},
		Description: "new", Source: request.Source{Platform: request.Mac, IP: "192.0.2.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var changes, notifications []string
	for len(notifications) == 0 {
		l := waitLine(t, lines, "data: ")
		if strings.Contains(l, `"url"`) {
			notifications = append(notifications, l)
		} else {
			changes = append(changes, l)
		}
	}
	mustf(t, len(changes) == 1 && strings.Contains(changes[0], sub.RequestID.String()), "changes after the head: %v", changes)
	mustf(t, strings.Contains(notifications[0], "New customer"), "notification %s", notifications[0])
}
