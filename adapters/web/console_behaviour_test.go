package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// TestPlatformNamesForPeople: pages write Windows, Mac, iOS and Android; forms keep the
// machine values.
func TestPlatformNamesForPeople(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	for _, tc := range []struct{ device, name string }{
		{"windows", "Windows"}, {"mac", "Mac"}, {"ios", "iOS"}, {"android", "Android"},
	} {
		t.Run(tc.device, func(t *testing.T) {
			customer := w.browser(t, uaWindows)
			form := customer.mustGet("/portal/" + w.acmePort.String())
			contains(t, form, `<option value="`+tc.device+`"`)
			id := w.submit(t, customer, w.acmePort, "Jane Doe", "Help", tc.device)
			portal := customer.mustGet("/portal/requests/" + id.String())
			contains(t, portal, `<span id="device-name">`+tc.name+`</span>`)
			console := alice.mustGet("/console/requests/" + id.String())
			contains(t, console, `<dt>Device type</dt><dd>`+tc.name+`</dd>`)
			for _, p := range []page{portal, console} {
				lacks(t, p, ">"+tc.device+"<", " "+tc.device+" device")
			}
		})
	}
}

// TestCancelledRequestsAreNotServerErrors: a client that goes away is not a server error: no
// 5xx answer and nothing logged above debug.
func TestCancelledRequestsAreNotServerErrors(t *testing.T) {
	w := newWorld(t)
	customer := w.browser(t, uaWindows)
	id := w.submit(t, customer, w.acmePort, "Jane Doe", "Help", "")
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	token := csrfOf(t, alice.mustGet(details).body)
	srvURL, _ := url.Parse(w.srv.URL)
	aliceCookies := alice.hc.Jar.Cookies(srvURL)
	customerCookies := customer.hc.Jar.Cookies(&url.URL{Scheme: "http", Host: srvURL.Host, Path: "/portal/requests/" + id.String()})

	var logs bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	t.Cleanup(func() { slog.SetDefault(old) })

	for _, tc := range []struct {
		name, method, path string
		form               url.Values
		cookies            []*http.Cookie
	}{
		{"console page", http.MethodGet, "/console", nil, aliceCookies},
		{"details page", http.MethodGet, details, nil, aliceCookies},
		{"details fragment", http.MethodGet, "/console/fragments/details/" + id.String(), nil, aliceCookies},
		{"list fragment", http.MethodGet, "/console/fragments/support-requests", nil, aliceCookies},
		{"assign", http.MethodPost, details + "/assign", url.Values{"csrf_token": {token}}, aliceCookies},
		{"portal", http.MethodGet, "/portal/" + w.acmePort.String(), nil, nil},
		{"request page", http.MethodGet, "/portal/requests/" + id.String(), nil, customerCookies},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			var body *strings.Reader
			if tc.form != nil {
				body = strings.NewReader(tc.form.Encode())
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequestWithContext(ctx, tc.method, tc.path, body)
			if tc.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for _, c := range tc.cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			w.handler.ServeHTTP(rec, req)
			mustf(t, rec.Code < 500, "%s %s with a cancelled context answered %d", tc.method, tc.path, rec.Code)
			mustf(t, !strings.Contains(logs.String(), "level=ERROR") && !strings.Contains(logs.String(), "level=WARN"),
				"%s %s with a cancelled context logged:\n%s", tc.method, tc.path, logs.String())
		})
	}
}

// laggingDirectory is a directory read model that has applied the log only up to the last
// position it was asked to wait for, as a projection on a busy server lags behind.
type laggingDirectory struct {
	store eventlog.Store
	inner app.DirectoryReadModel
	// realWait waits until the real read models (the list's among them) have applied a position.
	realWait func(ctx context.Context, pos eventlog.Position) error

	mu      sync.Mutex
	applied eventlog.Position
}

func (d *laggingDirectory) waitFor(ctx context.Context, pos eventlog.Position) (bool, error) {
	if err := d.realWait(ctx, pos); err != nil {
		return false, nil // not yet: the page answers with what is there
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if pos.Compare(d.applied) > 0 {
		d.applied = pos
	}
	return true, nil
}

func (d *laggingDirectory) PortalCompany(ctx context.Context, id uuid.UUID) (uuid.UUID, string, error) {
	return d.inner.PortalCompany(ctx, id)
}

func (d *laggingDirectory) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	return d.inner.Companies(ctx)
}

func (d *laggingDirectory) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	return d.inner.Technicians(ctx)
}

func (d *laggingDirectory) Technician(ctx context.Context, id uuid.UUID) (*directory.Technician, error) {
	d.mu.Lock()
	applied := d.applied
	d.mu.Unlock()
	recorded, err := d.store.ReadStream(ctx, directory.TechnicianStream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		return nil, err
	}
	codec := directory.Codec()
	var history []eventlog.Event
	for _, rec := range recorded {
		if rec.Position.Compare(applied) > 0 {
			break
		}
		e, err := codec.Decode(rec.Type, rec.Data)
		if err != nil {
			return nil, err
		}
		history = append(history, e)
	}
	if len(history) == 0 {
		return nil, app.ErrNotFound
	}
	return directory.TechnicianFromHistory(history)
}

// TestAvailabilityShowsAtOnce: right after a status change, the header and the lists agree on
// the new status even when the read models lag (another server's, without read-own-writes):
// the page waits for the position of the change.
func TestAvailabilityShowsAtOnce(t *testing.T) {
	var dir *laggingDirectory
	w := newWorldWith(t, worldOptions{app: func(t *testing.T, svc *service.Service, cfg *app.Config) {
		dir = &laggingDirectory{store: cfg.Store, inner: readmodels.NewDirectory(svc.Pool),
			realWait: func(ctx context.Context, pos eventlog.Position) error {
				return svc.WaitFor(ctx, pos, app.MaxProjectionWait)
			}}
		cfg.RequestList, cfg.RequestDetails = readmodels.NewRequestList(svc.Pool), readmodels.NewDetails(svc.Pool)
		cfg.Directory, cfg.WaitFor = dir, dir.waitFor
	}})
	// The directory read model under the lagging one is kept by the service's runner, which
	// reads the log only below the oldest transaction open on the server (other tests' too),
	// and the world's wait for its seed went through the lagging WaitFor: wait here until it
	// knows the portal.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, _, err := dir.inner.PortalCompany(context.Background(), w.acmePort); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lagging directory never saw the seed's portal")
		}
	}
	id := w.submit(t, w.browser(t, uaWindows), w.acmePort, "Jane Doe", "Help", "")
	alice := w.login(t, "alice@example.com")
	contains(t, alice.mustGet("/console?view=new"), `data-request-id="`+id.String()+`"`)

	for _, tc := range []struct {
		availability string
		listed       bool
	}{{"away", false}, {"available", true}, {"busy", false}, {"available", true}} {
		p := alice.submitForm("/console?view=new", "/console/availability", url.Values{"availability": {tc.availability}, "return_to": {"/console?view=new"}})
		p = alice.mustGet(p.location)
		contains(t, p, `value="`+tc.availability+`" selected`, `<span id="current-availability">`+tc.availability+`</span>`)
		if tc.listed {
			contains(t, p, `data-request-id="`+id.String()+`"`)
			lacks(t, p, "only while your status is Available")
		} else {
			contains(t, p, "only while your status is Available")
			lacks(t, p, `data-request-id="`+id.String()+`"`)
		}
	}
}

// countingStore is an event store that counts what ReadAll returns and where subscriptions
// start, and knows its head as a store with a Head method does.
type countingStore struct {
	*pgstore.Store
	head     eventlog.Position
	readAll  atomic.Int64
	mu       sync.Mutex
	subsFrom []eventlog.Position
}

func (s *countingStore) Head(context.Context) (eventlog.Position, error) { return s.head, nil }

func (s *countingStore) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, from, opts)
	s.readAll.Add(int64(len(events)))
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
	pool, _ := pgtest.NewDatabase(t)
	pg, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pg.Close)
	ctx := context.Background()
	a, err := app.New(app.Config{Store: pg})
	if err != nil {
		t.Fatal(err)
	}
	accounts := app.NewAccounts(a, credentials.New(pool), 0)
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
	subsFrom := append([]eventlog.Position(nil), store.subsFrom...)
	store.mu.Unlock()
	mustf(t, store.readAll.Load() == 0, "startup read %d events of the history", store.readAll.Load())
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
