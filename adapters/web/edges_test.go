package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

// TestErrorPagesNegotiated: every address the service does not serve answers a browser's
// navigation with the HTML error page (a way back on it) and an API client with the one JSON
// error shape, whatever the Accept header holds.
func TestErrorPagesNegotiated(t *testing.T) {
	svc := servicetest.New(t)
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tc := range []struct {
		name, method, path string
		accept             []string // nil: no Accept header
		status             int
		html               bool
		back               string
	}{
		{"browser, unknown top address", "GET", "/nowhere", []string{browserAccept}, 404, true, `href="/console"`},
		{"browser, deep unknown address", "GET", "/a/b/c?x=%00", []string{browserAccept}, 404, true, `href="/console"`},
		{"browser, static miss", "GET", "/static/missing.css", []string{browserAccept}, 404, true, `href="/console"`},
		{"browser, static folder", "GET", "/static/", []string{browserAccept}, 404, true, `href="/console"`},
		{"browser, static dot segments", "GET", "/static/%2e%2e/web.go", []string{browserAccept}, 404, true, `href="/console"`},
		{"curl, static miss", "GET", "/static/missing.css", []string{"*/*"}, 404, true, ""},
		{"browser, console miss", "GET", "/console/nowhere", []string{browserAccept}, 404, true, `href="/console"`},
		{"browser, portal miss", "GET", "/portal/" + uuid.NewString() + "/x/y", []string{browserAccept}, 404, true, "Back to the support form"},
		{"browser, wrong method", "DELETE", "/console/login", []string{browserAccept}, 405, true, `href="/console"`},
		{"html ranked below json", "GET", "/nowhere", []string{"text/html;q=0.5, application/json"}, 404, false, ""},
		{"html and json equal", "GET", "/nowhere", []string{"application/json, text/html"}, 404, false, ""},
		{"no Accept", "GET", "/nowhere", nil, 404, false, ""},
		{"anything", "GET", "/nowhere", []string{"*/*"}, 404, false, ""},
		{"json", "GET", "/nowhere", []string{"application/json"}, 404, false, ""},
		{"html q=0", "GET", "/nowhere", []string{"text/html;q=0, */*;q=0.1"}, 404, false, ""},
		{"bad q", "GET", "/nowhere", []string{"text/html;q=NaN, application/json;q=0.1"}, 404, false, ""},
		{"q out of range", "GET", "/nowhere", []string{"text/html;q=7, application/json;q=0.1"}, 404, false, ""},
		{"garbage Accept", "GET", "/nowhere", []string{";;;,,,=\xff\xfe; q=\xfe, text/html;q=0"}, 404, false, ""},
		{"split Accept headers", "GET", "/nowhere", []string{"application/json;q=0.2", "text/html"}, 404, true, `href="/console"`},
		{"text/* from a browser", "GET", "/nowhere", []string{"text/*"}, 404, true, `href="/console"`},
		{"API address from a browser", "GET", "/api/v1/nowhere", []string{browserAccept}, 404, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			for _, a := range tc.accept {
				req.Header.Add("Accept", a)
			}
			res, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d\n%s", res.StatusCode, tc.status, body)
			}
			ct := res.Header.Get("Content-Type")
			if tc.html {
				if !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(body), `<h1>`) {
					t.Fatalf("want the HTML error page, got %q:\n%s", ct, body)
				}
				if tc.back != "" && !strings.Contains(string(body), tc.back) {
					t.Errorf("the error page has no way back %q:\n%s", tc.back, body)
				}
				if strings.Contains(string(body), "goroutine") {
					t.Errorf("the page shows a stack:\n%s", body)
				}
			} else {
				var shape struct {
					Error struct {
						Code    string `json:"code"`
						Message string `json:"message"`
					} `json:"error"`
				}
				if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(body, &shape) != nil || shape.Error.Code == "" {
					t.Fatalf("want the JSON error shape, got %q:\n%s", ct, body)
				}
			}
			if tc.status == http.StatusMethodNotAllowed && res.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// TestNilUUIDIsNotFound: the nil UUID names no request, in the console and in the API.
func TestNilUUIDIsNotFound(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	for _, path := range []string{
		"/console/requests/00000000-0000-0000-0000-000000000000",
		"/console/requests/00000000-0000-0000-0000-000000000000/timeline",
		"/console/fragments/details/00000000-0000-0000-0000-000000000000",
		"/portal/00000000-0000-0000-0000-000000000000",
		"/portal/requests/00000000-0000-0000-0000-000000000000",
	} {
		if p := alice.get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404\n%s", path, p.status, p.body)
		}
	}
}

// TestDeepLinkSurvivesLogin: a logged-out browser sent to the login page from a console
// address comes back to it after logging in, a technician as an auditor would.
func TestDeepLinkSurvivesLogin(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	for _, target := range []string{"/console/requests/" + id.String(), "/console/reports?from=2026-01-01&company=" + w.acme.String()} {
		b := w.browser(t, uaWindows)
		p := b.get(target)
		want := "/console/login?next=" + url.QueryEscape(target)
		if p.status != http.StatusSeeOther || p.location != want {
			t.Fatalf("logged out GET %s: %d to %q, want 303 to %q", target, p.status, p.location, want)
		}
		login := b.mustGet(p.location)
		contains(t, login, `name="next" value="`)
		p = b.post("/console/login", url.Values{"csrf_token": {csrfOf(t, login.body)}, "email": {"alice@example.com"}, "password": {password}, "next": {target}})
		if p.status != http.StatusSeeOther || p.location != target {
			t.Fatalf("login: %d to %q, want 303 to %q", p.status, p.location, target)
		}
		// Logged in, the login page with a next goes straight on.
		if p := b.get(want); p.location != target {
			t.Errorf("logged in login page sent to %q, want %q", p.location, target)
		}
	}
	// A wrong password keeps the target on the form for the next try.
	b := w.browser(t, uaWindows)
	target := "/console/requests/" + id.String()
	login := b.mustGet("/console/login?next=" + url.QueryEscape(target))
	p := b.post("/console/login", url.Values{"csrf_token": {csrfOf(t, login.body)}, "email": {"alice@example.com"}, "password": {"wrong"}, "next": {target}})
	contains(t, p, `name="next" value="`+target+`"`)
	// A form post without a session does not come back as a GET of its address.
	if p := w.browser(t, uaWindows).post("/console/availability", url.Values{}); p.location != "/console/login" {
		t.Errorf("logged out POST went to %q", p.location)
	}
}

// TestLoginNextRejectsOtherPlaces: whatever next a login carries, it ends on a page of this
// console; anything else goes to /console.
func TestLoginNextRejectsOtherPlaces(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct{ next, want string }{
		{"/console/requests/abc", "/console/requests/abc"},
		{"/console/reports?from=2026-01-01&to=2026-02-01", "/console/reports?from=2026-01-01&to=2026-02-01"},
		{"/console", "/console"},
		{"", "/console"},
		{"//evil.example", "/console"},
		{"//evil.example/console", "/console"},
		{"/\\evil.example", "/console"},
		{"/console\\..\\..\\evil", "/console"},
		{"\\\\evil.example", "/console"},
		{"https://evil.example/console", "/console"},
		{"http:/console", "/console"},
		{"javascript:alert(1)", "/console"},
		{"/console/../portal/x", "/console"},
		{"/console/%2e%2e/api/v1", "/console"},
		{"/console/%2F%2Fevil.example", "/console"},
		{"/console/%5cevil", "/console"},
		{"/consoleevil", "/console"},
		{"/portal/" + uuid.NewString(), "/console"},
		{"/api/v1/requests", "/console"},
		{"/console/login", "/console"},
		{"/console/logout", "/console"},
		{"/console/events", "/console"},
		{"/console/fragments/my-requests", "/console"},
		{"/console/\x00evil", "/console"},
		{"/console/\r\nSet-Cookie: x=y", "/console"},
		{"/console/\tx", "/console"},
		{"/console/\xff\xfe", "/console"},
		{"/console/é", "/console"},
		{"/console/ x", "/console"},
		{"/console/requests/abc#frag", "/console/requests/abc#frag"},
		{" /console", "/console"},
		{"/console" + strings.Repeat("/x", 1500), "/console"},
	} {
		t.Run(url.PathEscape(tc.next), func(t *testing.T) {
			b := w.browser(t, uaWindows)
			login := b.mustGet("/console/login?next=" + url.QueryEscape(tc.next))
			if tc.want == "/console" && strings.Contains(login.body, `name="next"`) {
				t.Errorf("the login page carries a next it refuses:\n%s", login.body)
			}
			p := b.post("/console/login", url.Values{"csrf_token": {csrfOf(t, login.body)}, "email": {"bob@example.com"}, "password": {password}, "next": {tc.next}})
			if p.status != http.StatusSeeOther || p.location != tc.want {
				t.Fatalf("login with next %q: %d to %q, want 303 to %q", tc.next, p.status, p.location, tc.want)
			}
		})
	}
}

// TestPortalFormSentTwiceMakesOneRequest: the portal's form carries a one-time token; the same
// form sent again (Back, then Submit) shows the request it made instead of making another, and
// the token is bound to the browser that got the form.
func TestPortalFormSentTwiceMakesOneRequest(t *testing.T) {
	w := newWorld(t)
	var submitToken = regexp.MustCompile(`name="submit_token" value="([^"]+)"`)
	path := "/portal/" + w.acmePort.String()
	customer := w.browser(t, uaWindows)
	form := customer.mustGet(path)
	m := submitToken.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("the portal form has no submit_token:\n%s", form.body)
	}
	description := "Printer on fire " + uuid.NewString()
	values := url.Values{"csrf_token": {csrfOf(t, form.body)}, "submit_token": {m[1]}, "customer_name": {"Jane Doe"},
		"customer_email": {"jane@example.com"}, "description": {description}}
	first := customer.post(path, values)
	if first.status != http.StatusSeeOther || !strings.HasPrefix(first.location, "/portal/requests/") {
		t.Fatalf("first submit: %d to %q\n%s", first.status, first.location, first.body)
	}
	again := customer.post(path, values)
	if again.status != http.StatusSeeOther || again.location != first.location {
		t.Fatalf("the same form again: %d to %q, want 303 to %q\n%s", again.status, again.location, first.location, again.body)
	}
	customer.mustGet(again.location) // the browser still sees the request it made
	countOf := func(d string) int {
		t.Helper()
		var n int
		if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type LIKE 'request.submitted%' AND data::text LIKE '%' || $1 || '%'`, d).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countOf(description); n != 1 {
		t.Errorf("%d requests submitted, want 1", n)
	}

	// Another browser replaying the token (with its own form cookie) makes a request of its own,
	// and cannot reach the first one.
	other := w.browser(t, uaWindows)
	otherForm := other.mustGet(path)
	values.Set("csrf_token", csrfOf(t, otherForm.body))
	p := other.post(path, values)
	if p.status != http.StatusSeeOther || p.location == first.location {
		t.Fatalf("another browser's replay: %d to %q", p.status, p.location)
	}
	if n := countOf(description); n != 2 {
		t.Errorf("%d requests submitted, want 2", n)
	}

	// Bad tokens (missing, too short, NUL, invalid UTF-8, encoded slashes) still submit once each.
	for _, bad := range []string{"", "short", "abc\x00defghijklmnopqrstu", "\xff\xfeabcdefghijklmnopqrstu", "%2F%2Fabcdefghijklmnopqrstu"} {
		f := customer.mustGet(path)
		v := url.Values{"csrf_token": {csrfOf(t, f.body)}, "submit_token": {bad}, "customer_name": {"Jane Doe"},
			"customer_email": {"jane@example.com"}, "description": {"bad token " + uuid.NewString()}}
		if p := customer.post(path, v); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/portal/requests/") {
			t.Errorf("submit with token %q: %d to %q", bad, p.status, p.location)
		}
	}
}

// TestAwayTechnicianIsNotCalled (R2, R5): a technician who is not Available gets the changes
// of their companies' requests but no notification of a new one they cannot take, even when
// they changed their status elsewhere (another tab, the API) after their stream opened; the
// details page says why they can do nothing.
func TestAwayTechnicianIsNotCalled(t *testing.T) {
	w := newWorld(t)
	alice := w.login(t, "alice@example.com")
	bob := w.login(t, "bob@example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	aliceEvents := alice.events(ctx, "/console/events")
	bobEvents := bob.events(ctx, "/console/events")
	waitLine(t, aliceEvents, ": live updates")
	waitLine(t, bobEvents, ": live updates")
	setBob := func(a directory.Availability) {
		t.Helper()
		res, err := w.app.SetAvailability(context.Background(), app.Meta{Actor: app.Actor{Kind: "technician", ID: w.bob}}, app.SetAvailability{TechnicianID: w.bob, Availability: a})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.app.Queries().WaitForPosition(context.Background(), res.Position); err != nil {
			t.Fatal(err)
		}
	}
	// untilChangeOf reads a stream until the change of id, and returns the events it saw.
	untilChangeOf := func(lines <-chan string, id uuid.UUID) []string {
		t.Helper()
		var seen []string
		for {
			l := waitLine(t, lines, "")
			seen = append(seen, l)
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, id.String()) && strings.Contains(l, `"type"`) {
				return seen
			}
		}
	}
	setBob(directory.Away)
	_, first := w.newRequest(t)
	waitLine(t, aliceEvents, "event: notification")
	untilChangeOf(bobEvents, first)
	_, sentinel := w.newRequest(t)
	for _, l := range untilChangeOf(bobEvents, sentinel) {
		if l == "event: notification" {
			t.Fatalf("the Away technician was notified")
		}
	}

	details := bob.mustGet("/console/requests/" + first.String())
	contains(t, details, `id="no-actions"`, "You are Away: set yourself Available")
	lacks(t, details, `data-action="assign"`)

	// Available again: called to the next one, and Alice's request is hers.
	setBob(directory.Available)
	// The streams read a technician's status at most a second old (shared by all of a server's
	// streams, so that a submission does not cost one query per open console).
	time.Sleep(1100 * time.Millisecond)
	_, third := w.newRequest(t)
	untilChangeOf(bobEvents, third)
	if l := waitLine(t, bobEvents, "event: "); l != "event: notification" {
		t.Fatalf("the Available technician got %q, want the notification", l)
	}
	path := "/console/requests/" + first.String()
	alice.submitForm(path, path+"/assign", nil)
	contains(t, bob.mustGet(path), "Only the assignee, Alice Martin, can act on this request.")
}
