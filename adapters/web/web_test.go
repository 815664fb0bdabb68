package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/readmodels"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

func TestLoginAndLogout(t *testing.T) {
	w := newWorld(t)
	b := w.browser(t, uaWindows)

	p := b.get("/console")
	mustf(t, p.status == http.StatusSeeOther && p.location == "/console/login", "GET /console logged out: %d %q", p.status, p.location)
	p = b.mustGet("/console/login")
	contains(t, p, `<form id="login"`, `name="email"`, `name="password"`, `type="submit"`)

	// No token: refused, nothing happens.
	p = b.post("/console/login", url.Values{"email": {"alice@example.com"}, "password": {password}})
	mustf(t, p.status == http.StatusForbidden, "login without csrf_token: %d", p.status)

	// Wrong password: the login page again, with the error.
	token := csrfOf(t, b.mustGet("/console/login").body)
	p = b.post("/console/login", url.Values{"csrf_token": {token}, "email": {"alice@example.com"}, "password": {"wrong password"}})
	mustf(t, p.status == http.StatusUnauthorized, "wrong password: %d", p.status)
	contains(t, p, `id="error" role="alert"`, "Wrong e-mail address or password.")

	p = b.post("/console/login", url.Values{"csrf_token": {token}, "email": {"alice@example.com"}, "password": {password}})
	mustf(t, p.status == http.StatusSeeOther && p.location == "/console", "login: %d %q", p.status, p.location)
	cookie := ""
	for _, c := range p.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, web.SessionCookie+"=") {
			cookie = c
		}
	}
	mustf(t, strings.Contains(cookie, "HttpOnly") && strings.Contains(cookie, "SameSite=Strict"), "session cookie %q", cookie)

	p = b.mustGet("/console")
	contains(t, p, `<form id="availability"`, `name="availability"`, `value="available" selected`, `value="busy"`, `value="away"`,
		`<form id="logout"`, `id="notifications"`, `aria-live="polite"`, `id="support-requests"`, `id="my-requests"`,
		`<table id="requests"`, `id="requests-empty"`, `id="my-requests-empty"`, `src="/static/app.js"`)

	// Log out without the token: refused, still logged in.
	p = b.post("/console/logout", url.Values{})
	mustf(t, p.status == http.StatusForbidden, "logout without csrf_token: %d", p.status)
	b.mustGet("/console")

	p = b.submitForm("/console", "/console/logout", nil)
	mustf(t, p.location == "/console/login", "logout redirected to %q", p.location)
	p = b.get("/console")
	mustf(t, p.status == http.StatusSeeOther && p.location == "/console/login", "after logout: %d %q", p.status, p.location)
}

func TestSecurityHeadersAndStaticFiles(t *testing.T) {
	w := newWorld(t)
	b := w.browser(t, uaWindows)
	for _, path := range []string{"/console/login", "/portal/" + w.acmePort.String(), "/static/app.js", "/static/app.css", "/console/nowhere", "/portal/not-a-uuid"} {
		p := b.get(path)
		mustf(t, p.header.Get("Content-Security-Policy") == web.ContentSecurityPolicy, "%s: CSP %q", path, p.header.Get("Content-Security-Policy"))
		mustf(t, p.header.Get("X-Content-Type-Options") == "nosniff", "%s: no nosniff", path)
		mustf(t, p.header.Get("Referrer-Policy") != "", "%s: no Referrer-Policy", path)
		if strings.HasPrefix(path, "/static/") {
			mustf(t, p.status == http.StatusOK, "%s: %d", path, p.status)
		} else if p.status == http.StatusOK {
			lacks(t, p, "<script>", " style=", " onclick=")
		}
	}
	mustf(t, b.get("/console/nowhere").status == http.StatusNotFound, "unknown console page")
	mustf(t, b.get("/portal/"+w.globex.String()).status == http.StatusNotFound, "a company ID is no portal")
}

func TestPortalAndConsoleFlow(t *testing.T) {
	w := newWorld(t)
	customer := w.browser(t, uaWindows)
	alice := w.login(t, "alice@example.com")

	// The portal: its name, the form, the platform preselected from the browser.
	portal := "/portal/" + w.acmePort.String()
	p := customer.mustGet(portal)
	contains(t, p, "Acme Help Desk", `<form id="submit-request"`, `name="customer_name"`, `name="customer_email"`,
		`name="description"`, `name="device_type"`, `<option value="windows" selected>`)
	id := w.submit(t, customer, w.acmePort, "Jane Doe", "My printer is on fire", "")
	req := "/portal/requests/" + id.String()
	p = customer.mustGet(req)
	contains(t, p, `id="request-status"`, `data-status="new"`, `<ol id="chat"`, `<form id="send-message"`, "Jane Doe")
	lacks(t, p, `id="technician-joined"`, `id="screen-sharing"`, `id="closed"`)
	// Another browser holds no token: the request does not exist there.
	mustf(t, w.browser(t, uaWindows).get(req).status == http.StatusNotFound, "request page without the token")

	// The console lists it under All and New, with its columns.
	p = alice.mustGet("/console?view=new&sort=customer&order=asc")
	contains(t, p, `data-request-id="`+id.String()+`"`, `data-view="new" aria-current="page"`, `data-sort="submitted"`,
		`data-sort="id"`, `data-sort="customer"`, `data-sort="company"`, `data-sort="status"`, `data-sort="assignee"`,
		`href="/console/requests/`+id.String())
	lacks(t, p, `id="requests-empty"`)
	p = alice.mustGet("/console?view=completed")
	lacks(t, p, `data-request-id="`+id.String()+`"`)

	details := "/console/requests/" + id.String()
	p = alice.mustGet(details)
	contains(t, p, `<section id="details"`, `id="request-status"`, `id="actions"`, `data-action="assign"`,
		`<dl id="request-details"`, `<dl id="source-info"`, "customer@example.com", "Acme Corp", "<dd>Windows</dd>", "Chrome 120")
	lacks(t, p, `data-action="unassign"`, `data-action="join_chat"`, `<form id="send-message"`)

	alice.submitForm(details, details+"/assign", nil)
	p = alice.mustGet(details)
	contains(t, p, `data-status="active"`, `data-action="unassign"`, `data-action="transfer"`, `name="technician_id"`,
		"Bob Durand", `data-action="join_chat"`, `data-action="close"`, `<form id="add-note"`)
	lacks(t, p, `data-action="assign"`)
	p = alice.mustGet("/console")
	contains(t, p, `<li data-request-id="`+id.String()+`"`)

	alice.submitForm(details, details+"/join", nil)
	p = customer.mustGet(req)
	contains(t, p, `id="technician-joined"`, "Alice Martin joined the chat", `<form id="upload-file"`, `accept=".jpeg,.jpg,.png`)

	alice.submitForm(details, details+"/messages", url.Values{"body": {"Hello, I am here"}})
	alice.submitForm(details, details+"/notes", url.Values{"body": {"Seems to be hardware"}})
	customer.submitForm(req, req+"/messages", url.Values{"body": {"Thank you!"}})

	// Files: an allowed one from each side, a forbidden one refused in words.
	token := csrfOf(t, alice.mustGet(details).body)
	p = alice.upload(details+"/files", token, "screenshot.png", pngBytes)
	mustf(t, p.status == http.StatusSeeOther, "technician upload: %d %s", p.status, p.body)
	p = alice.upload(details+"/files", token, "tool.exe", []byte("MZ"))
	mustf(t, p.status == http.StatusSeeOther, "forbidden upload: %d", p.status)
	p = alice.mustGet(details)
	contains(t, p, `id="error" role="alert"`, "file type .exe is not allowed; allowed types: .jpeg")
	p = customer.upload(req+"/files", csrfOf(t, customer.mustGet(req).body), "photo.png", pngBytes)
	mustf(t, p.status == http.StatusSeeOther, "customer upload: %d %s", p.status, p.body)

	p = alice.mustGet(details)
	contains(t, p, `data-kind="message"`, "Hello, I am here", "Thank you!", `data-kind="note"`, "Private note",
		"Seems to be hardware", `data-kind="file"`, "screenshot.png", "photo.png", `download>`, `data-kind="event"`,
		`data-action="request_screen_sharing"`)
	lacks(t, p, `data-action="send_mobile_profile"`, `role="alert"`)
	d := w.details(t, w.alice, id)
	var fileID string
	for _, e := range d.Entries {
		if e.Kind == "file" && e.File.Name == "photo.png" {
			fileID = e.File.ID.String()
		}
	}
	dl := alice.mustGet(details + "/files/" + fileID)
	mustf(t, strings.HasPrefix(dl.header.Get("Content-Disposition"), "attachment") && dl.header.Get("X-Content-Type-Options") == "nosniff", "download headers %v", dl.header)
	mustf(t, dl.body == string(pngBytes), "downloaded content differs")
	mustf(t, customer.get(req+"/files/"+fileID).status == http.StatusOK, "customer download")

	// The customer sees no private note.
	p = customer.mustGet(req)
	contains(t, p, "Hello, I am here", "screenshot.png")
	lacks(t, p, "Seems to be hardware", "Private note")

	// Screen sharing (Windows): asked, then accepted.
	alice.submitForm(details, details+"/screen-sharing", nil)
	p = customer.mustGet(req)
	contains(t, p, `id="screen-sharing"`, `data-action="accept_screen_sharing"`, "Share My Screen", `data-action="decline_screen_sharing"`, "Decline")
	customer.submitForm(req, req+"/accept-screen-sharing", nil)
	mustf(t, w.details(t, w.alice, id).ScreenSharing == request.ScreenSharingOn, "screen sharing not accepted")
	lacks(t, customer.mustGet(req), `id="screen-sharing"`)

	alice.submitForm(details, details+"/end-chat", nil)
	alice.submitForm(details, details+"/close", nil)
	p = alice.mustGet(details)
	contains(t, p, `data-status="completed"`)
	lacks(t, p, `data-action="`)
	p = alice.mustGet("/console?view=completed")
	contains(t, p, `<tr data-request-id="`+id.String()+`"`)
	p = alice.mustGet("/console")
	lacks(t, p, `<li data-request-id="`+id.String()+`"`)
	p = customer.mustGet(req)
	contains(t, p, `id="closed"`, `data-status="completed"`)
	lacks(t, p, `<form id="send-message"`, `<form id="upload-file"`)
}

func TestMobileCustomer(t *testing.T) {
	w := newWorld(t)
	customer := w.browser(t, uaIOS)
	p := customer.mustGet("/portal/" + w.acmePort.String())
	contains(t, p, `<option value="ios" selected>`)
	id := w.submit(t, customer, w.acmePort, "Ian Phone", "Mail does not sync", "")
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	alice.submitForm(details, details+"/join", nil)
	p = alice.mustGet(details)
	contains(t, p, `data-action="send_mobile_profile"`, `name="profile"`)
	lacks(t, p, `data-action="request_screen_sharing"`)
	alice.submitForm(details, details+"/mobile-profiles", url.Values{"profile": {"Corporate Wi-Fi"}})
	contains(t, alice.mustGet(details), "Mobile profile sent: Corporate Wi-Fi")

	req := "/portal/requests/" + id.String()
	p = customer.mustGet(req)
	contains(t, p, `accept=".jpeg,.jpg,.png,.gif,.bmp,.tiff"`)
	p = customer.upload(req+"/files", csrfOf(t, p.body), "report.pdf", []byte("%PDF-1.4\n"))
	mustf(t, p.status == http.StatusSeeOther, "upload: %d", p.status)
	contains(t, customer.mustGet(req), `id="error" role="alert"`, "file type .pdf is not allowed; allowed types: .jpeg .jpg .png .gif .bmp .tiff")
}

func TestAssignRaceShowsTheWinner(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	alice, bob := w.login(t, "alice@example.com"), w.login(t, "bob@example.com")
	details := "/console/requests/" + id.String()
	aliceToken := csrfOf(t, alice.mustGet(details).body)
	bob.submitForm(details, details+"/assign", nil)
	p := alice.post(details+"/assign", url.Values{"csrf_token": {aliceToken}})
	mustf(t, p.status == http.StatusSeeOther, "losing assign: %d", p.status)
	p = alice.mustGet(details)
	contains(t, p, `id="error" role="alert" class="alert">Already assigned to Bob Durand<`)
	// The message is shown once.
	lacks(t, alice.mustGet(details), `id="error"`)
}

func TestOtherCompaniesRequestsDoNotExist(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	carol := w.login(t, "carol@example.com") // Globex only
	details := "/console/requests/" + id.String()
	p := carol.get(details)
	mustf(t, p.status == http.StatusNotFound, "another company's request: %d", p.status)
	mustf(t, carol.get("/console/fragments/details/"+id.String()).status == http.StatusNotFound, "fragment")
	lacks(t, carol.mustGet("/console"), id.String())
	lacks(t, carol.mustGet("/console/fragments/support-requests?view=all"), id.String())
	token := csrfOf(t, carol.mustGet("/console").body)
	for _, action := range []string{"assign", "join", "close"} {
		p = carol.post(details+"/"+action, url.Values{"csrf_token": {token}})
		mustf(t, p.status == http.StatusNotFound, "%s another company's request: %d", action, p.status)
	}
	mustf(t, w.details(t, w.alice, id).Status == request.StatusNew, "carol changed the request")
	mustf(t, len(w.details(t, w.alice, id).Entries) == 1, "carol wrote to the request")
}

func TestFormsWithoutTokenChangeNothing(t *testing.T) {
	w := newWorld(t)
	customer, id := w.newRequest(t)
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	alice.mustGet(details)
	for _, form := range []url.Values{{}, {"csrf_token": {"forged"}}} {
		for _, action := range []string{"assign", "close", "messages", "notes"} {
			p := alice.post(details+"/"+action, form)
			mustf(t, p.status == http.StatusForbidden, "%s without a valid token: %d", action, p.status)
		}
		p := alice.post("/console/availability", url.Values{"availability": {"away"}, "csrf_token": form["csrf_token"]})
		mustf(t, p.status == http.StatusForbidden, "availability without a valid token: %d", p.status)
		p = alice.upload(details+"/files", form.Get("csrf_token"), "a.png", pngBytes)
		mustf(t, p.status == http.StatusForbidden, "upload without a valid token: %d", p.status)
	}
	d := w.details(t, w.alice, id)
	mustf(t, d.Status == request.StatusNew && len(d.Entries) == 1, "a forged form changed the request: %+v", d)
	p := alice.mustGet("/console")
	contains(t, p, `value="available" selected`)

	// Portal forms: the submission and the chat.
	before := len(mustList(t, w, alice))
	p = w.browser(t, uaWindows).post("/portal/"+w.acmePort.String(), url.Values{"customer_name": {"X"}, "customer_email": {"x@example.com"}, "description": {"Y"}, "device_type": {"windows"}})
	mustf(t, p.status == http.StatusForbidden, "portal submission without a token: %d", p.status)
	mustf(t, len(mustList(t, w, alice)) == before, "a submission without a token was recorded")
	req := "/portal/requests/" + id.String()
	p = customer.post(req+"/messages", url.Values{"body": {"hi"}})
	mustf(t, p.status == http.StatusForbidden, "customer message without a token: %d", p.status)
	mustf(t, len(w.details(t, w.alice, id).Entries) == 1, "a customer message without a token was recorded")
}

func mustList(t *testing.T, w *world, _ *browser) []string {
	t.Helper()
	page, err := w.app.Queries().ListRequests(context.Background(), app.ListRequests{TechnicianID: w.alice, View: app.ViewAll, Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range page.Requests {
		ids = append(ids, r.ID.String())
	}
	return ids
}

func TestEverythingIsEscaped(t *testing.T) {
	w := newWorld(t)
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`}
	escaped := []string{`&lt;script&gt;alert(1)&lt;/script&gt;`, `&#34;&gt;&lt;img src=x onerror=alert(1)&gt;`}
	customer := w.browser(t, uaWindows)
	id := w.submit(t, customer, w.acmePort, payloads[0]+payloads[1], "desc "+payloads[0]+payloads[1], "")
	alice := w.login(t, "alice@example.com")
	details := "/console/requests/" + id.String()
	req := "/portal/requests/" + id.String()
	alice.submitForm(details, details+"/assign", nil)
	alice.submitForm(details, details+"/join", nil)
	for _, s := range payloads {
		alice.submitForm(details, details+"/messages", url.Values{"body": {"tech " + s}})
		alice.submitForm(details, details+"/notes", url.Values{"body": {"note " + s}})
		customer.submitForm(req, req+"/messages", url.Values{"body": {"customer " + s}})
	}
	// A file name cannot hold a slash, so the image payload names the files.
	name := payloads[1] + ".png"
	p := alice.upload(details+"/files", csrfOf(t, alice.mustGet(details).body), name, pngBytes)
	mustf(t, p.status == http.StatusSeeOther, "upload: %d", p.status)
	p = customer.upload(req+"/files", csrfOf(t, customer.mustGet(req).body), name, pngBytes)
	mustf(t, p.status == http.StatusSeeOther, "upload: %d", p.status)
	alice.submitForm(details, details+"/mobile-profiles", url.Values{"profile": {payloads[1]}}) // refused (Windows): the page must still be safe

	pages := map[string]page{
		"console details":  alice.mustGet(details),
		"console list":     alice.mustGet("/console"),
		"details fragment": alice.mustGet("/console/fragments/details/" + id.String()),
		"list fragment":    alice.mustGet("/console/fragments/support-requests"),
		"mine fragment":    alice.mustGet("/console/fragments/my-requests"),
		"portal request":   customer.mustGet(req),
		"portal fragment":  customer.mustGet(req + "/fragment"),
	}
	for what, p := range pages {
		for _, raw := range payloads {
			if strings.Contains(p.body, raw) {
				t.Errorf("%s renders %q unescaped", what, raw)
			}
		}
		for _, raw := range []string{"<script>alert", "<img src=x", "<img"} {
			if strings.Contains(p.body, raw) {
				t.Errorf("%s holds %q", what, raw)
			}
		}
		if !strings.Contains(p.body, escaped[1]) {
			t.Errorf("%s lacks the escaped form %q", what, escaped[1])
		}
	}
	contains(t, pages["console details"], escaped[0], "tech "+escaped[0], "note "+escaped[0], "customer "+escaped[1], "desc "+escaped[0])
	contains(t, pages["portal request"], "customer "+escaped[0], "tech "+escaped[1])

	// A portal form sent back with errors keeps what was typed, escaped.
	portal := "/portal/" + w.acmePort.String()
	b := w.browser(t, uaWindows)
	token := csrfOf(t, b.mustGet(portal).body)
	p = b.post(portal, url.Values{"csrf_token": {token}, "customer_name": {payloads[1]}, "customer_email": {""}, "description": {payloads[0]}})
	mustf(t, p.status == http.StatusUnprocessableEntity, "incomplete submission: %d", p.status)
	contains(t, p, `id="error" role="alert"`, `value="`+escaped[1]+`"`, escaped[0])
	lacks(t, p, payloads[0], payloads[1])
}

func TestAvailabilityHidesNewRequests(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	alice := w.login(t, "alice@example.com")
	contains(t, alice.mustGet("/console"), id.String())
	p := alice.submitForm("/console?view=new", "/console/availability", url.Values{"availability": {"away"}, "return_to": {"/console?view=new"}})
	mustf(t, p.location == "/console?view=new", "availability redirected to %q", p.location)
	p = alice.mustGet("/console?view=new")
	contains(t, p, `value="away" selected`, `id="requests-empty"`, "only while your status is Available")
	lacks(t, p, `data-request-id="`+id.String()+`"`)
	p = alice.submitForm("/console", "/console/availability", url.Values{"availability": {"available"}, "return_to": {"https://evil.example/"}})
	mustf(t, p.location == "/console", "return_to outside the console: %q", p.location)
}

// laggingDirectory is a directory read model that has applied the log only up to the last
// position it was asked to wait for, as a projection on a busy server lags behind.
type laggingDirectory struct {
	store eventlog.Store
	inner app.DirectoryReadModel
	// realWait waits until the service's read models (the lists among them, which do not lag)
	// have applied a position.
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

func (d *laggingDirectory) Auditors(ctx context.Context) ([]directory.AuditorState, error) {
	return d.inner.Auditors(ctx)
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
	var svc *service.Service
	w := newWorldWith(t, worldOptions{app: func(t *testing.T, s *service.Service, cfg *app.Config) {
		svc = s
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
	_, id := w.newRequest(t)
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
	customer, id := w.newRequest(t)
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
