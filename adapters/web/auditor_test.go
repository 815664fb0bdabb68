package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// auditedRequest is a closed Acme request with a private note and a shared file, as an auditor
// reads it.
type auditedRequest struct {
	id, file uuid.UUID
}

const auditNote = "Private: the printer was never on fire"

// closedRequest has a customer submit on Acme's portal and Bob take it, note, share a file and
// close it.
func (w *world) closedRequest(t *testing.T) auditedRequest {
	t.Helper()
	_, id := w.newRequest(t)
	ctx, bob := context.Background(), app.Meta{Actor: app.Actor{Kind: "technician", ID: w.bob}}
	file := uuid.New()
	steps := []func() (app.Result, error){
		func() (app.Result, error) { return w.app.AssignToMe(ctx, bob, id) },
		func() (app.Result, error) { return w.app.JoinChat(ctx, bob, id) },
		func() (app.Result, error) { return w.app.AddNote(ctx, bob, id, uuid.New(), auditNote) },
		func() (app.Result, error) {
			return w.app.ShareTechnicianFile(ctx, bob, app.Upload{RequestID: id, FileID: file, Name: "fix.png", Content: bytes.NewReader(pngBytes)})
		},
		func() (app.Result, error) { return w.app.Close(ctx, bob, id) },
	}
	for _, step := range steps {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return auditedRequest{id: id, file: file}
}

// auditor registers an auditor of the companies (uuid.Nil: every company) and logs them in at
// the console's own login page.
func (w *world) auditor(t *testing.T, email string, companies ...uuid.UUID) *browser {
	t.Helper()
	ctx, m := context.Background(), app.Meta{Actor: app.Admin}
	id := uuid.New()
	if _, err := w.accounts.RegisterAuditorWithPassword(ctx, m, app.RegisterAuditor{AuditorID: id, Name: "Ann Audit", Email: email}, password); err != nil {
		t.Fatal(err)
	}
	for _, c := range companies {
		if _, err := w.app.GrantAuditorAccess(ctx, m, app.GrantAuditorAccess{AuditorID: id, CompanyID: c, AllCompanies: c == uuid.Nil}); err != nil {
			t.Fatal(err)
		}
	}
	return w.login(t, email)
}

// An auditor logs in at the technicians' login page and gets a read-only console: the list in
// every view (Completed, and New whoever is available), sortable; the details with the private
// note, the file and the timeline link, and no action, no form but logging out. Another
// company's request does not exist for them.
func TestAuditorConsole(t *testing.T) {
	w := newWorld(t)
	closed := w.closedRequest(t)
	_, fresh := w.newRequest(t)
	if _, err := w.app.SetAvailability(context.Background(), app.Meta{Actor: app.Admin}, app.SetAvailability{TechnicianID: w.bob, Availability: "away"}); err != nil {
		t.Fatal(err)
	}
	globex := w.submit(t, w.browser(t, uaWindows), w.globPort, "Gus Globex", "Globex's secret", "")
	ann := w.auditor(t, "ann@example.com", w.acme)

	p := ann.mustGet("/console")
	contains(t, p, `id="auditor-role"`, "Ann Audit", "read only", `data-view="completed"`, `data-view="new"`, `data-view="active"`, `data-sort="customer"`,
		`data-request-id="`+closed.id.String()+`"`, `data-request-id="`+fresh.String()+`"`)
	lacks(t, p, `id="availability"`, `id="my-requests"`, `data-request-id="`+globex.String()+`"`, "Assign to Me")

	p = ann.mustGet("/console?view=completed&sort=customer&order=desc")
	contains(t, p, `data-request-id="`+closed.id.String()+`"`)
	lacks(t, p, `data-request-id="`+fresh.String()+`"`)
	contains(t, ann.mustGet("/console?view=new"), `data-request-id="`+fresh.String()+`"`)

	p = ann.mustGet("/console/requests/" + closed.id.String())
	contains(t, p, auditNote, "Private note", "fix.png", `id="timeline-link"`, `href="/console/requests/`+closed.id.String()+`/timeline"`, `id="read-only"`)
	lacks(t, p, "data-action=", `id="composer"`, `method="post" action="/console/requests/`, `id="actions"`)
	// The list's search form reads (GET); the logout form is the only one that posts.
	if n := strings.Count(p.body, `method="post"`); n != 1 || !strings.Contains(p.body, `action="/console/logout"`) {
		t.Fatalf("the page holds %d forms that post, want the logout form alone", n)
	}
	dl := ann.get("/console/requests/" + closed.id.String() + "/files/" + closed.file.String())
	mustf(t, dl.status == http.StatusOK && strings.HasPrefix(dl.body, "\x89PNG"), "download: %d", dl.status)
	frag := ann.mustGet("/console/fragments/details/" + closed.id.String())
	contains(t, frag, auditNote)
	lacks(t, frag, "data-action=")
	ann.mustGet("/console/fragments/support-requests?view=all")
	mustf(t, ann.get("/console/fragments/my-requests").status == http.StatusNotFound, "an auditor has a queue")

	for _, path := range []string{"/console/requests/" + globex.String(), "/console/requests/" + globex.String() + "/files/" + closed.file.String(),
		"/console/fragments/details/" + globex.String()} {
		mustf(t, ann.get(path).status == http.StatusNotFound, "%s: another company's request exists for the auditor", path)
	}

	// Every read above is in the access log.
	page, err := w.app.Queries().AccessLog(context.Background(), app.AccessLogQuery{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[app.AccessKind]int{}
	for _, e := range page.Entries {
		kinds[e.Kind]++
	}
	mustf(t, kinds[app.AccessDetails] >= 2 && kinds[app.AccessFile] == 1 && kinds[app.AccessList] >= 4, "access log: %v", kinds)

	// A technician sees the timeline link too.
	contains(t, w.login(t, "bob@example.com").mustGet("/console/requests/"+closed.id.String()), `id="timeline-link"`)
}

// The server refuses every POST of an auditor with 403 — a status, an action, a file, with or
// without the session's token — and writes nothing; logging out works.
func TestAuditorConsoleRefusesEveryChange(t *testing.T) {
	w := newWorld(t)
	_, fresh := w.newRequest(t)
	ann := w.auditor(t, "ann@example.com", uuid.Nil)
	token := csrfOf(t, ann.mustGet("/console/requests/"+fresh.String()).body)
	before := w.logLength(t)
	base := "/console/requests/" + fresh.String()
	for _, action := range []string{"/console/availability", base + "/assign", base + "/unassign", base + "/transfer", base + "/join", base + "/messages",
		base + "/notes", base + "/screen-sharing", base + "/mobile-profiles", base + "/end-chat", base + "/close", base + "/nonsense"} {
		for _, form := range []url.Values{
			{"csrf_token": {token}, "availability": {"available"}, "body": {"hello"}, "technician_id": {w.bob.String()}, "profile": {"wifi"}},
			{"body": {"no token"}},
		} {
			p := ann.post(action, form)
			mustf(t, p.status == http.StatusForbidden && strings.Contains(p.body, "Auditors read and never write"), "POST %s: %d\n%s", action, p.status, p.body)
		}
	}
	p := ann.upload(base+"/files", token, "x.png", pngBytes)
	mustf(t, p.status == http.StatusForbidden, "upload: %d", p.status)
	if after := w.logLength(t); after != before {
		t.Fatalf("an auditor's POSTs wrote %d events", after-before)
	}
	if d := w.details(t, w.bob, fresh); d.Assignee != nil || len(d.Entries) != 1 {
		t.Fatalf("the request changed: %+v", d)
	}
	p = ann.submitForm("/console", "/console/logout", nil)
	mustf(t, p.location == "/console/login", "logout went to %q", p.location)
	mustf(t, ann.get("/console").location == "/console/login", "the session outlived the logout")
}

// An auditor's live updates carry the changes of their companies' requests, and no
// notification.
func TestAuditorLiveUpdates(t *testing.T) {
	w := newWorld(t)
	ann := w.auditor(t, "ann@example.com", w.globex)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lines := ann.events(ctx, "/console/events")
	_, acme := w.newRequest(t)
	globex := w.submit(t, w.browser(t, uaWindows), w.globPort, "Gus Globex", "Help", "")
	line := waitLine(t, lines, "data: ")
	mustf(t, strings.Contains(line, globex.String()) && !strings.Contains(line, acme.String()), "first change: %s", line)
	// Acme's submission came first: had it been sent, it would have come before Globex's. The
	// stream goes on with heartbeats only for a while.
	quiet := time.After(time.Second)
	for {
		select {
		case l, ok := <-lines:
			mustf(t, ok, "the stream ended")
			mustf(t, !strings.HasPrefix(l, "event: notification") && !strings.Contains(l, acme.String()), "the auditor got %q", l)
		case <-quiet:
			return
		}
	}
}

// logLength is how many events the log holds, counted in its table.
func (w *world) logLength(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := w.pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
