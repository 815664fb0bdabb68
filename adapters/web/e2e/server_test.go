package e2e_test

// The server under test, put together as `helpstream serve` does (internal/service) on a fresh
// PostgreSQL database: the application answering from the read models its runner keeps, the
// JSON API and the web handler (console and portal) on one mux behind httptest.NewServer.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// password is every seeded technician's password.
const password = "correct horse battery"

type technician struct {
	ID          uuid.UUID
	Name, Email string
}

// server is a running Helpstream with its seed: company 1 (Acme) with a portal, company 2
// (Globex) with a portal; Alice and Bob have access to company 1, Carol to company 2 only.
type server struct {
	URL                string
	App                *app.App
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
			slog.Error("drop the test database", "err", err)
		}
	})
	filesDir, err := os.MkdirTemp("", "helpstream-e2e-files-")
	if err != nil {
		return nil, nil, err
	}
	undo = append(undo, func() { _ = os.RemoveAll(filesDir) })
	svc, err := service.New(ctx, service.Config{
		DatabaseURL: url, PoolSize: 16, FilesDir: filesDir, AdminToken: "e2e-admin", Projectors: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
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
		URL: ts.URL, App: svc.App,
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

// apiClient is a technician using the JSON API with a bearer token (no browser): Bob winning an
// Assign race, for example.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (s *server) apiLogin(t *testing.T, tech technician) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: s.URL + "/api/v1"}
	var out struct {
		Token string `json:"token"`
	}
	c.call(http.MethodPost, "/auth/login", map[string]string{"email": tech.Email, "password": password}, &out)
	if out.Token == "" {
		t.Fatalf("API login of %s: no token", tech.Email)
	}
	c.token = out.Token
	return c
}

// command sends a command and waits until the read models include its effect (read-your-writes
// through min_position, repeated while the API answers X-Projection-Behind: true), so that the
// pages opened next show it even on a loaded machine.
func (c *apiClient) command(method, path string, body any) {
	c.t.Helper()
	var res struct {
		Position string `json:"position"`
	}
	c.call(method, path, body, &res)
	if res.Position == "" {
		c.t.Fatalf("API %s %s: no position in the answer", method, path)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if c.get("/requests?limit=1&min_position="+url.QueryEscape(res.Position)).Get("X-Projection-Behind") != "true" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("API %s %s: the read models did not reach its position within 60 s", method, path)
		}
	}
}

// get sends a GET and returns the answer's headers, failing the test unless it is a 2xx.
func (c *apiClient) get(path string) http.Header {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("API GET %s: %v", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		c.t.Fatalf("API GET %s: %s: %s", path, res.Status, b)
	}
	return res.Header
}

// call sends a JSON request and fails the test unless the answer is a 2xx.
func (c *apiClient) call(method, path string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("API %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		c.t.Fatalf("API %s %s: %s: %s", method, path, res.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("API %s %s: decode %s: %v", method, path, b, err)
		}
	}
}

// status fetches a URL without a browser and returns its status code.
func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// submitted is the API's answer to a submission.
type submitted struct {
	RequestID     string `json:"request_id"`
	CustomerToken string `json:"customer_token"`
}

// apiSubmit submits a request through the JSON API as a customer of the portal.
func (s *server) apiSubmit(t *testing.T, portal uuid.UUID, name, email, description, device string) submitted {
	t.Helper()
	c := &apiClient{t: t, base: s.URL + "/api/v1"}
	var out submitted
	body := map[string]string{"customer_name": name, "customer_email": email, "description": description}
	if device != "" {
		body["device_type"] = device
	}
	c.call(http.MethodPost, "/portals/"+portal.String()+"/requests", body, &out)
	if out.RequestID == "" {
		t.Fatalf("API submission: no request_id")
	}
	return out
}

// customerAPI is the customer of a request submitted through the API.
func (s *server) customerAPI(t *testing.T, sub submitted) *apiClient {
	return &apiClient{t: t, base: s.URL + "/api/v1", token: sub.CustomerToken}
}

// upload shares a file through the API (multipart, in a part named "file").
func (c *apiClient) upload(path, name string, content []byte) {
	c.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, err := w.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+path, &body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("API upload %s: %v", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		c.t.Fatalf("API upload %s: %s: %s", path, res.Status, b)
	}
}
