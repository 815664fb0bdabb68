package httpapi_test

// The test harness: a real server (PostgreSQL event store, local file store, PostgreSQL
// credentials, no mocks) behind httptest, and a client that checks every response it receives
// against openapi.yaml. A response that the document does not describe fails the test.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

const (
	adminToken  = "admin-secret"
	maxFileSize = 1 << 20
	password    = "correct horse battery"

	uaWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaMac     = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15"
	uaIOS     = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1"
	uaAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36"
)

// ---- the OpenAPI document ----

var (
	specOnce   sync.Once
	spec       *openapi3.T
	specRouter routers.Router
	specErr    error
)

// loadSpec loads and validates openapi.yaml once per test binary.
func loadSpec(t testing.TB) (*openapi3.T, routers.Router) {
	t.Helper()
	specOnce.Do(func() {
		openapi3.DefineStringFormat("uuid", openapi3.FormatOfStringForUUIDOfRFC9562)
		openapi3.DefineStringFormat("email", openapi3.FormatOfStringForEmail)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(httpapi.OpenAPI)
		if err != nil {
			specErr = fmt.Errorf("load openapi.yaml: %w", err)
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
			return
		}
		router, err := legacy.NewRouter(doc)
		if err != nil {
			specErr = fmt.Errorf("route openapi.yaml: %w", err)
			return
		}
		spec, specRouter = doc, router
	})
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec, specRouter
}

var validationOptions = &openapi3filter.Options{
	IncludeResponseStatus:   true, // a status the document does not list fails
	MultiError:              true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.EnableFormatValidation()},
}

// checkResponse validates one response against the document. Requests that match no
// documented operation (an unknown route, a method the route does not take) must answer 404 or
// 405 in the error shape.
func checkResponse(req *http.Request, res *response) error {
	doc, router := spec, specRouter
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options"} {
		if res.Header.Get(h) == "" {
			return fmt.Errorf("response has no %s header", h)
		}
	}
	route, params, err := router.FindRoute(req)
	for name, v := range params {
		if v == "" && err == nil {
			// The legacy router lets a trailing {param} match nothing ("/files" matches
			// "/files/{fileID}"); such a path is no documented operation.
			err = fmt.Errorf("empty path parameter %s", name)
		}
	}
	if err != nil {
		if res.Status != http.StatusNotFound && res.Status != http.StatusMethodNotAllowed {
			return fmt.Errorf("undocumented operation (%v) answered %d, want 404 or 405", err, res.Status)
		}
		return checkErrorShape(doc, res)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: validationOptions,
		},
		Status:  res.Status,
		Header:  res.Header,
		Body:    io.NopCloser(bytes.NewReader(res.Body)),
		Options: validationOptions,
	}
	if err := openapi3filter.ValidateResponse(req.Context(), input); err != nil {
		return err
	}
	if res.Status >= 400 {
		return checkErrorShape(doc, res)
	}
	return nil
}

func checkErrorShape(doc *openapi3.T, res *response) error {
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("error response has Content-Type %q", ct)
	}
	var v any
	if err := json.Unmarshal(res.Body, &v); err != nil {
		return fmt.Errorf("error response is not JSON: %w", err)
	}
	schema := doc.Components.Schemas["Error"].Value
	if err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.VisitAsResponse(), openapi3.EnableFormatValidation()); err != nil {
		return fmt.Errorf("error response is not in the error shape: %w", err)
	}
	return nil
}

// ---- the server ----

type env struct {
	pool  *pgxpool.Pool // the test's own database
	files string        // the file store's directory
	srv   *httptest.Server
	hc    *http.Client
}

// newEnv starts a server on a fresh database.
func newEnv(t testing.TB) *env {
	t.Helper()
	loadSpec(t)
	return serve(t, servicetest.New(t, apiConfig))
}

// apiConfig is the service's Config in these tests: a small upload limit, the admin token.
func apiConfig(c *service.Config) {
	c.MaxFileSize, c.AdminToken = maxFileSize, adminToken
}

// serve puts the service's API behind an httptest server and a client for it.
func serve(t testing.TB, svc *service.Service) *env {
	t.Helper()
	srv := httptest.NewServer(svc.API)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	hc.Timeout = 30 * time.Second
	return &env{pool: svc.Pool, files: svc.Config().FilesDir, srv: srv, hc: hc}
}

// response is a response as received.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body))
}

// apiError is the one error shape.
type apiError struct {
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Assignee *person  `json:"assignee"`
	Allowed  []string `json:"allowed_types"`
}

type person struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

// send performs a request and validates the response against the document.
func (e *env) send(t testing.TB, req *http.Request) *response {
	t.Helper()
	res, err := e.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	r := &response{Status: res.StatusCode, Header: res.Header, Body: body}
	if err := checkResponse(req, r); err != nil {
		t.Errorf("%s %s → %s\ndoes not match openapi.yaml: %v", req.Method, req.URL.RequestURI(), truncate(r.String()), err)
	}
	if r.Status >= 500 {
		t.Errorf("%s %s → server error %s", req.Method, req.URL.RequestURI(), truncate(r.String()))
	}
	return r
}

func truncate(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

// ---- clients ----

// client sends requests as one caller: admin, technician (bearer or cookie) or customer.
type client struct {
	e      *env
	bearer string
	cookie string // session cookie value
	csrf   string // sent in X-CSRF-Token when set
	ua     string
	// technician's identity, when logged in
	id   uuid.UUID
	name string
}

func (e *env) anonymous() *client        { return &client{e: e} }
func (e *env) admin() *client            { return &client{e: e, bearer: adminToken} }
func (c *client) with(ua string) *client { d := *c; d.ua = ua; return &d }

// opt changes a request before it is sent.
type opt func(*http.Request)

func header(name, value string) opt { return func(r *http.Request) { r.Header.Set(name, value) } }
func idemKey(key string) opt        { return header("Idempotency-Key", key) }
func contentType(ct string) opt     { return header("Content-Type", ct) }
func noAuth() opt {
	return func(r *http.Request) {
		r.Header.Del("Authorization")
		r.Header.Del("Cookie")
	}
}

func (c *client) newRequest(t testing.TB, method, path string, body io.Reader, ct string, opts []opt) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, c.e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	for _, o := range opts {
		o(req)
	}
	return req
}

// raw sends body as it is, as application/json unless an opt says otherwise.
func (c *client) raw(t testing.TB, method, path string, body []byte, opts ...opt) *response {
	t.Helper()
	var r io.Reader
	ct := ""
	if body != nil {
		r, ct = bytes.NewReader(body), "application/json"
	}
	return c.e.send(t, c.newRequest(t, method, path, r, ct, opts))
}

// json sends v encoded as JSON; a nil v sends no body.
func (c *client) json(t testing.TB, method, path string, v any, opts ...opt) *response {
	t.Helper()
	if v == nil {
		return c.raw(t, method, path, nil, opts...)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return c.raw(t, method, path, b, opts...)
}

func (c *client) get(t testing.TB, path string, opts ...opt) *response {
	t.Helper()
	return c.raw(t, http.MethodGet, path, nil, opts...)
}

func (c *client) post(t testing.TB, path string, v any, opts ...opt) *response {
	t.Helper()
	return c.json(t, http.MethodPost, path, v, opts...)
}

// upload sends one file as multipart/form-data in a part named "file".
func (c *client) upload(t testing.TB, path, name string, content []byte, opts ...opt) *response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "application/octet-stream")
	part, err := w.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	return c.e.send(t, c.newRequest(t, http.MethodPost, path, &buf, w.FormDataContentType(), opts))
}

// atOnce calls f(0)…f(n-1) in n goroutines held at one gate that opens when all have started,
// so their requests race as closely as the server lets them, and waits for them all.
func atOnce(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// ---- response helpers ----

func (r *response) want(t testing.TB, status int) *response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %s, want %d", truncate(r.String()), status)
	}
	return r
}

func (r *response) decode(t testing.TB, into any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, into); err != nil {
		t.Fatalf("decode %s: %v", truncate(r.String()), err)
	}
}

// err returns the error body; the status must be an error.
func (r *response) err(t testing.TB) apiError {
	t.Helper()
	var body struct {
		Error apiError `json:"error"`
	}
	if r.Status < 400 {
		t.Fatalf("got %s, want an error", truncate(r.String()))
	}
	r.decode(t, &body)
	return body.Error
}

// wantErr checks the status and code (when code is not empty) of an error response.
func (r *response) wantErr(t testing.TB, status int, code string) apiError {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %s, want %d %s", truncate(r.String()), status, code)
	}
	e := r.err(t)
	if code != "" && e.Code != code {
		t.Fatalf("got %s, want code %s", truncate(r.String()), code)
	}
	return e
}

// ---- the event log ----

// The tests read the log's table directly to tell whether a request wrote anything: the
// store's ReadAll (by design) holds back events behind any older transaction still open on
// the PostgreSQL server, which other test packages sharing the server keep opening, so a
// ReadAll count can lag; a count of committed rows cannot.

// logMark is how many events the log held.
type logMark int64

// tail marks the log as it is now.
func (e *env) tail(t testing.TB) logMark {
	t.Helper()
	var n int64
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return logMark(n)
}

// unchanged fails unless the log holds no event beyond the mark.
func (e *env) unchanged(t testing.TB, mark logMark, what string) {
	t.Helper()
	now := e.tail(t)
	if now == mark {
		return
	}
	rows, err := e.pool.Query(context.Background(), `SELECT event_type FROM events ORDER BY global_position DESC LIMIT $1`, int64(now-mark))
	if err != nil {
		t.Fatal(err)
	}
	types, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	t.Errorf("%s wrote %d events: %v", what, now-mark, types)
}

// storedFiles lists the files in the file store (temporary files included).
func (e *env) storedFiles(t testing.TB) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(e.files, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	return out
}

// ---- fixtures built through the API ----

type commandResult struct {
	ID       uuid.UUID `json:"id"`
	Version  int64     `json:"version"`
	Position string    `json:"position"`
	Written  bool      `json:"written"`
}

func (c *client) created(t testing.TB, path string, v any) uuid.UUID {
	t.Helper()
	var res commandResult
	c.post(t, path, v).want(t, http.StatusCreated).decode(t, &res)
	return res.ID
}

func (e *env) createCompany(t testing.TB, name string) uuid.UUID {
	t.Helper()
	return e.admin().created(t, "/api/v1/admin/companies", map[string]any{"name": name})
}

func (e *env) createPortal(t testing.TB, company uuid.UUID, name string) uuid.UUID {
	t.Helper()
	return e.admin().created(t, "/api/v1/admin/companies/"+company.String()+"/portals", map[string]any{"name": name})
}

func (e *env) registerTechnician(t testing.TB, name, email string) uuid.UUID {
	t.Helper()
	return e.admin().created(t, "/api/v1/admin/technicians", map[string]any{"name": name, "email": email, "password": password})
}

func (e *env) grant(t testing.TB, tech, company uuid.UUID) {
	t.Helper()
	e.admin().post(t, "/api/v1/admin/technicians/"+tech.String()+"/access", map[string]any{"company_id": company.String()}).want(t, http.StatusOK)
}

type loginResponse struct {
	Token      string    `json:"token"`
	CSRFToken  string    `json:"csrf_token"`
	ExpiresAt  time.Time `json:"expires_at"`
	Technician struct {
		ID           uuid.UUID   `json:"id"`
		Name         string      `json:"name"`
		Email        string      `json:"email"`
		Availability string      `json:"availability"`
		Companies    []uuid.UUID `json:"companies"`
	} `json:"technician"`
}

// login logs a technician in and returns a bearer-token client.
func (e *env) login(t testing.TB, email string) *client {
	t.Helper()
	var lr loginResponse
	e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": password}).want(t, http.StatusOK).decode(t, &lr)
	return &client{e: e, bearer: lr.Token, id: lr.Technician.ID, name: lr.Technician.Name}
}

func (c *client) setAvailability(t testing.TB, availability string) {
	t.Helper()
	c.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": availability}).want(t, http.StatusOK)
}

// technician registers a technician, grants them the companies, logs them in and sets them
// Available.
func (e *env) technician(t testing.TB, name string, companies ...uuid.UUID) *client {
	t.Helper()
	email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "-" + uuid.NewString()[:8] + "@example.com"
	id := e.registerTechnician(t, name, email)
	for _, c := range companies {
		e.grant(t, id, c)
	}
	c := e.login(t, email)
	if c.id != id {
		t.Fatalf("login returned technician %s, want %s", c.id, id)
	}
	c.setAvailability(t, "available")
	return c
}

type submission struct {
	RequestID     uuid.UUID `json:"request_id"`
	CustomerToken string    `json:"customer_token"`
	Status        string    `json:"status"`
	Version       int64     `json:"version"`
	Position      string    `json:"position"`
}

// submission submits Ada's request through the portal from a browser with this User-Agent and
// returns the server's answer.
func (e *env) submission(t testing.TB, portal uuid.UUID, ua string) submission {
	t.Helper()
	var s submission
	e.anonymous().with(ua).post(t, "/api/v1/portals/"+portal.String()+"/requests", map[string]any{
		"customer_name": "Ada Customer", "customer_email": "ada@example.com", "description": "My printer is on fire",
	}).want(t, http.StatusCreated).decode(t, &s)
	return s
}

// submit submits Ada's request as submission does and returns the request's ID and a client
// holding its customer token.
func (e *env) submit(t testing.TB, portal uuid.UUID, ua string) (uuid.UUID, *client) {
	t.Helper()
	s := e.submission(t, portal, ua)
	return s.RequestID, &client{e: e, bearer: s.CustomerToken, ua: ua}
}

// world is one company with a portal and an Available technician with access, plus another
// company (B) with its own portal, technician and request.
type world struct {
	e                  *env
	companyA, companyB uuid.UUID
	portalA, portalB   uuid.UUID
	techA, techB       *client
	requestB           uuid.UUID
	customerB          *client
}

// newWorld starts a server on a fresh database and builds the world on it.
func newWorld(t testing.TB) (*env, *world) {
	t.Helper()
	e := newEnv(t)
	w := &world{e: e}
	w.companyA = e.createCompany(t, "Acme")
	w.companyB = e.createCompany(t, "Globex")
	w.portalA = e.createPortal(t, w.companyA, "Acme support")
	w.portalB = e.createPortal(t, w.companyB, "Globex help")
	w.techA = e.technician(t, "Alice Tech", w.companyA)
	w.techB = e.technician(t, "Bob Tech", w.companyB)
	w.requestB, w.customerB = e.submit(t, w.portalB, uaWindows)
	return e, w
}

// inChat submits a request on portal A from ua, and has techA take it and join the chat.
func (w *world) inChat(t testing.TB, ua string) (uuid.UUID, *client) {
	t.Helper()
	id, customer := w.e.submit(t, w.portalA, ua)
	w.techA.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	w.techA.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	return id, customer
}

func reqPath(id uuid.UUID, sub ...string) string {
	p := "/api/v1/requests/" + id.String()
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

func custPath(id uuid.UUID, sub ...string) string {
	p := "/api/v1/customer/requests/" + id.String()
	for _, s := range sub {
		p += "/" + s
	}
	return p
}

// details is the part of app.RequestDetails the tests read.
type details struct {
	ID          uuid.UUID `json:"id"`
	CompanyID   uuid.UUID `json:"company_id"`
	CompanyName string    `json:"company_name"`
	Customer    struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"customer"`
	Source struct {
		IP         string `json:"ip"`
		DeviceType string `json:"device_type"`
		OS         string `json:"os"`
		OSVersion  string `json:"os_version"`
		Browser    string `json:"browser"`
	} `json:"source"`
	Status        string  `json:"status"`
	Assignee      *person `json:"assignee"`
	Chat          string  `json:"chat"`
	ScreenSharing string  `json:"screen_sharing"`
	Session       *struct {
		ID   uuid.UUID `json:"id"`
		Link string    `json:"link"`
	} `json:"screen_sharing_session"`
	Entries []struct {
		Kind       string    `json:"kind"`
		ID         uuid.UUID `json:"id"`
		From       string    `json:"from"`
		Technician *person   `json:"technician"`
		Body       string    `json:"body"`
		Event      string    `json:"event"`
		File       *struct {
			ID          uuid.UUID `json:"id"`
			Name        string    `json:"name"`
			Size        int64     `json:"size"`
			ContentType string    `json:"content_type"`
			SHA256      string    `json:"sha256"`
		} `json:"file"`
	} `json:"entries"`
	Actions []string `json:"actions"`
}

func (c *client) details(t testing.TB, path string) details {
	t.Helper()
	var d details
	c.get(t, path).want(t, http.StatusOK).decode(t, &d)
	return d
}

type historyResponse struct {
	RequestID uuid.UUID `json:"request_id"`
	Verified  bool      `json:"verified"`
	Problem   string    `json:"problem"`
	Events    []struct {
		Type    string          `json:"type"`
		Version int64           `json:"version"`
		Data    json.RawMessage `json:"data"`
	} `json:"events"`
}

func (c *client) history(t testing.TB, id uuid.UUID) historyResponse {
	t.Helper()
	var h historyResponse
	c.get(t, reqPath(id, "history")).want(t, http.StatusOK).decode(t, &h)
	return h
}

func countType(h historyResponse, typ string) int {
	n := 0
	for _, e := range h.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

type requestPage struct {
	Requests []struct {
		ID       uuid.UUID `json:"id"`
		Status   string    `json:"status"`
		Assignee *person   `json:"assignee"`
		Platform string    `json:"platform"`
	} `json:"requests"`
	Total      int    `json:"total"`
	NextCursor string `json:"next_cursor"`
}

func (c *client) list(t testing.TB, query string) requestPage {
	t.Helper()
	var p requestPage
	c.get(t, "/api/v1/requests?"+query).want(t, http.StatusOK).decode(t, &p)
	return p
}

func (p requestPage) has(id uuid.UUID) bool {
	for _, r := range p.Requests {
		if r.ID == id {
			return true
		}
	}
	return false
}
