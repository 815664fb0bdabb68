package web_test

// The web pages' test harness: a real server (PostgreSQL event store, local file store,
// PostgreSQL credentials) behind httptest, and browser-like clients with their own cookie jars
// that never follow redirects, so that every Post/Redirect/Get step is visible.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

const (
	password    = "correct horse battery"
	maxFileSize = 64 << 10

	uaWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
)

// pngBytes is the start of a PNG file, enough for content sniffing.
var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)

type world struct {
	svc      *service.Service
	app      *app.App
	accounts *app.Accounts
	handler  *web.Handler
	store    *pgstore.Store
	pool     *pgxpool.Pool
	srv      *httptest.Server
	acme     uuid.UUID
	globex   uuid.UUID
	acmePort uuid.UUID
	globPort uuid.UUID
	alice    uuid.UUID // Acme and Globex
	bob      uuid.UUID // Acme
	carol    uuid.UUID // Globex
}

// worldOptions change how newWorldWith wires the server.
type worldOptions struct {
	// app, when set, changes the configuration of an application of the world's own on the
	// service's stores (a lagging read model, for example), served by a console of its own.
	app func(t *testing.T, svc *service.Service, cfg *app.Config)
	// loginPolicy, when set, is the policy of the Accounts of a console of the world's own.
	loginPolicy *app.LoginPolicy
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, worldOptions{})
}

func newWorldWith(t *testing.T, o worldOptions) *world {
	t.Helper()
	svc := servicetest.New(t, func(c *service.Config) {
		c.MaxFileSize, c.LiveHeartbeat = maxFileSize, 200*time.Millisecond
	})
	a, accounts, h := svc.App, svc.Accounts, svc.Console
	if o.app != nil || o.loginPolicy != nil {
		var err error
		if o.app != nil {
			cfg := app.Config{Store: svc.Store, Files: svc.Files, MaxFileSize: maxFileSize}
			o.app(t, svc, &cfg)
			if a, err = app.New(cfg); err != nil {
				t.Fatal(err)
			}
		}
		accounts = app.NewAccounts(a, svc.Credentials, 0)
		if o.loginPolicy != nil {
			accounts = accounts.WithLoginPolicy(*o.loginPolicy)
		}
		if h, err = web.New(web.Config{App: a, Accounts: accounts, Store: svc.Store, Heartbeat: 200 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = h.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	store := svc.Store.(*pgstore.Store)

	w := &world{svc: svc, app: a, accounts: accounts, handler: h, store: store, pool: svc.Pool, srv: srv, acme: uuid.New(), globex: uuid.New(), acmePort: uuid.New(), globPort: uuid.New(),
		alice: uuid.New(), bob: uuid.New(), carol: uuid.New()}
	m := app.Meta{Actor: app.Admin}
	bg := context.Background()
	var last app.Result
	must := func(res app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if res.Written {
			last = res
		}
	}
	must(a.CreateCompany(bg, m, app.CreateCompany{CompanyID: w.acme, Name: "Acme Corp"}))
	must(a.CreatePortal(bg, m, app.CreatePortal{CompanyID: w.acme, PortalID: w.acmePort, Name: "Acme Help Desk"}))
	must(a.CreateCompany(bg, m, app.CreateCompany{CompanyID: w.globex, Name: "Globex"}))
	must(a.CreatePortal(bg, m, app.CreatePortal{CompanyID: w.globex, PortalID: w.globPort, Name: "Globex Support"}))
	for _, tech := range []struct {
		id          uuid.UUID
		name, email string
		companies   []uuid.UUID
	}{
		{w.alice, "Alice Martin", "alice@example.com", []uuid.UUID{w.acme, w.globex}},
		{w.bob, "Bob Durand", "bob@example.com", []uuid.UUID{w.acme}},
		{w.carol, "Carol Petit", "carol@example.com", []uuid.UUID{w.globex}},
	} {
		must(accounts.RegisterTechnicianWithPassword(bg, m, app.RegisterTechnician{TechnicianID: tech.id, Name: tech.name, Email: tech.email}, password))
		for _, c := range tech.companies {
			must(a.GrantAccess(bg, m, app.GrantAccess{TechnicianID: tech.id, CompanyID: c}))
		}
		must(a.SetAvailability(bg, m, app.SetAvailability{TechnicianID: tech.id, Availability: directory.Available}))
	}
	// Other tests' transactions on the same server can hold the log's visible horizon back
	// for a while (migrations of their databases): wait until the seed is readable.
	for deadline := time.Now().Add(60 * time.Second); ; {
		ok, err := a.Queries().WaitForPosition(bg, last.Position)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the read models did not catch up with the seed")
		}
	}
	select {
	case <-h.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("live updates never became ready")
	}
	return w
}

// browser is one browser: a cookie jar and a User-Agent.
type browser struct {
	t  *testing.T
	w  *world
	hc *http.Client
	ua string
}

func (w *world) browser(t *testing.T, ua string) *browser {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, w: w, hc: hc, ua: ua}
}

type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	res, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, header: res.Header, body: string(body), location: res.Header.Get("Location")}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.w.srv.URL+path, nil)
	return b.do(req)
}

// mustGet gets a page that must answer 200.
func (b *browser) mustGet(path string) page {
	b.t.Helper()
	p := b.get(path)
	if p.status != http.StatusOK {
		b.t.Fatalf("GET %s: %d\n%s", path, p.status, p.body)
	}
	return p
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submitForm posts a form with the CSRF token of the page it is on, and expects a redirect.
func (b *browser) submitForm(pagePath, action string, form url.Values) page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", csrfOf(b.t, b.mustGet(pagePath).body))
	p := b.post(action, form)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("POST %s: %d, want 303\n%s", action, p.status, p.body)
	}
	return p
}

// upload posts a multipart upload: the token first, then the file, as a browser sends the form.
func (b *browser) upload(action, token, name string, content []byte) page {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if token != "" {
		_ = mw.WriteField("csrf_token", token)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+action, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf_token on the page:\n%s", body)
	}
	return m[1]
}

func (w *world) login(t *testing.T, email string) *browser {
	t.Helper()
	b := w.browser(t, uaWindows)
	p := b.submitForm("/console/login", "/console/login", url.Values{"email": {email}, "password": {password}})
	if p.location != "/console" {
		t.Fatalf("login redirected to %q", p.location)
	}
	return b
}

// submit fills in a portal's form in a customer's browser and returns the request's ID.
func (w *world) submit(t *testing.T, b *browser, portal uuid.UUID, name, description, device string) uuid.UUID {
	t.Helper()
	path := "/portal/" + portal.String()
	form := url.Values{"customer_name": {name}, "customer_email": {"customer@example.com"}, "description": {description}}
	if device != "" {
		form.Set("device_type", device)
	}
	p := b.submitForm(path, path, form)
	id, err := uuid.Parse(strings.TrimPrefix(p.location, "/portal/requests/"))
	if err != nil {
		t.Fatalf("submit redirected to %q", p.location)
	}
	return id
}

// newRequest has a customer submit a request ("Jane Doe", "Help", the device detected) on
// Acme's portal from a Windows browser, and returns that browser and the request's ID.
func (w *world) newRequest(t *testing.T) (customer *browser, id uuid.UUID) {
	t.Helper()
	customer = w.browser(t, uaWindows)
	return customer, w.submit(t, customer, w.acmePort, "Jane Doe", "Help", "")
}

// contains fails the test unless every fragment is on the page.
func contains(t *testing.T, p page, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if !strings.Contains(p.body, f) {
			t.Errorf("page lacks %q", f)
		}
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", p.body)
	}
}

func lacks(t *testing.T, p page, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if strings.Contains(p.body, f) {
			t.Errorf("page has %q", f)
		}
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", p.body)
	}
}

// details reads a request's details as a technician.
func (w *world) details(t *testing.T, tech, id uuid.UUID) app.RequestDetails {
	t.Helper()
	d, err := w.app.Queries().RequestDetails(context.Background(), app.Viewer{TechnicianID: tech}, id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// events opens an event stream and returns its lines as they come.
func (b *browser) events(ctx context.Context, path string) <-chan string {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.w.srv.URL+path, nil)
	hc := *b.hc
	hc.Timeout = 0
	res, err := hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		b.t.Fatalf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer res.Body.Close()
		defer close(lines)
		s := bufio.NewScanner(res.Body)
		for s.Scan() {
			lines <- s.Text()
		}
	}()
	return lines
}

// waitLine waits for a line of an event stream that has the prefix.
func waitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("no %q in the stream", prefix)
		}
	}
}

func mustf(t *testing.T, cond bool, format string, args ...any) {
	t.Helper()
	if !cond {
		t.Fatalf(format, args...)
	}
}

var _ = fmt.Sprintf
