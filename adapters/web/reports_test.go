package web_test

import (
	"context"
	"encoding/csv"
	"errors"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/analytics"
	"github.com/helpstream/helpstream/internal/app"
)

// clock is the reports world's time: every event it writes happens when the test says.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// evilCompany is a company whose name a page must escape and a CSV must not let a spreadsheet
// run.
const evilCompany = `=HYPERLINK("x") <script>alert("x")</script>`

// reportsWorld is the web world on an App whose clock the test sets, with the analytics read
// model, and its seed: on 2026-11-10 an Acme request assigned to Bob after 4 min 10 s, answered
// after 10 min and closed, and another left waiting; on 2026-11-11 a Globex request Carol took
// after 30 s and closed without a reply; on 2026-11-12 a request of a third company (Alice's
// only, with a name to escape) assigned after 2 min. The analytics tables are then rebuilt from
// the log, as `helpstream analytics rebuild` does.
type reportsWorld struct {
	*world
	evil uuid.UUID
}

func newReportsWorld(t *testing.T) reportsWorld {
	t.Helper()
	// The console answers on the service as servicetest wires it (the Reports read model
	// included); the history is written by an App of its own on the same event store whose
	// clock the test sets, so that the timers are known to the second.
	w := newWorld(t)
	clk := &clock{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	writer, err := app.New(app.Config{Store: w.store, Now: clk.Now, CachedStreams: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	tech := func(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }
	at := func(day, hour, minute, second int) {
		clk.set(time.Date(2026, 11, day, hour, minute, second, 0, time.UTC))
	}
	must := func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	submit := func(company, portal uuid.UUID, name string) uuid.UUID {
		t.Helper()
		id := uuid.New()
		must(writer.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{RequestID: id, PortalID: portal, CompanyID: company,
			Customer: request.Customer{Name: name, Email: "customer@example.com"}, Description: "Help",
			Source: request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "10", Browser: "Chrome"}}))
		return id
	}
	evil, evilPortal := uuid.New(), uuid.New()
	must(writer.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: evil, Name: evilCompany}))
	must(writer.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: evil, PortalID: evilPortal, Name: "Evil desk"}))
	must(writer.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: w.alice, CompanyID: evil}))

	at(10, 9, 0, 0)
	answered := submit(w.acme, w.acmePort, "Jane Doe")
	at(10, 9, 4, 10)
	must(writer.AssignToMe(ctx, tech(w.bob), answered))
	must(writer.JoinChat(ctx, tech(w.bob), answered))
	at(10, 9, 10, 0)
	must(writer.SendTechnicianMessage(ctx, tech(w.bob), answered, uuid.New(), "Hello, on it"))
	at(10, 9, 30, 0)
	must(writer.Close(ctx, tech(w.bob), answered))
	at(10, 10, 0, 0)
	waiting := submit(w.acme, w.acmePort, "John Roe")
	at(10, 10, 20, 0) // the service-level manager's breach of a 15-minute target to assign
	must(writer.RecordBreach(ctx, app.Meta{Actor: app.Actor{Kind: "system"}}, app.RecordBreach{RequestID: waiting, Target: servicelevel.TargetAssign,
		DueAt: time.Date(2026, 11, 10, 10, 15, 0, 0, time.UTC), Goal: 15 * time.Minute}))
	at(11, 8, 0, 0)
	unanswered := submit(w.globex, w.globPort, "Gina")
	at(11, 8, 0, 30)
	must(writer.AssignToMe(ctx, tech(w.carol), unanswered))
	at(11, 8, 5, 0)
	must(writer.Close(ctx, tech(w.carol), unanswered))
	at(12, 23, 0, 0)
	open := submit(evil, evilPortal, "Eve")
	at(12, 23, 2, 0)
	must(writer.AssignToMe(ctx, tech(w.alice), open))

	// Grants and companies must reach the directory read model before the console scopes by them.
	if err := w.waitForLog(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := analytics.Rebuild(ctx, analytics.RebuildConfig{DB: w.pool, Store: w.store}); err != nil {
		t.Fatal(err)
	}
	return reportsWorld{world: w, evil: evil}
}

const period = "from=2026-11-09&to=2026-11-12"

// rowCells returns the cells' text of a table's row whose header cell holds head.
func rowCells(t *testing.T, body, table, head string) []string {
	t.Helper()
	start := strings.Index(body, `<table id="`+table+`"`)
	if start < 0 {
		t.Fatalf("no table %s on the page", table)
	}
	tbl := body[start : start+strings.Index(body[start:], "</table>")]
	for _, row := range strings.Split(tbl, "<tr>")[1:] {
		cells := regexp.MustCompile(`<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(row, -1)
		if len(cells) == 0 {
			continue
		}
		text := make([]string, len(cells))
		for i, c := range cells {
			text[i] = html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(c[1], ""))
		}
		if text[0] == head {
			return text[1:]
		}
	}
	t.Fatalf("table %s has no row %q:\n%s", table, head, tbl)
	return nil
}

func equal(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// A technician's Reports page shows their companies' requests per day by outcome and the
// timers per day, company and technician, charts and tables agreeing with what happened; a
// company they do not serve is neither shown nor reachable, and a name is escaped.
func TestReportsPage(t *testing.T) {
	w := newReportsWorld(t)
	alice := w.login(t, "alice@example.com")
	p := alice.mustGet("/console/reports?" + period)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	contains(t, p, `id="nav-reports" href="/console/reports" aria-current="page"`,
		`<svg class="chart"`, `role="img" aria-labelledby="chart-per-day-title chart-per-day-desc"`,
		`<title id="chart-to-assign-title">Time to assign per day</title>`,
		`4 requests submitted from`, `value="2026-11-09"`, `value="2026-11-12"`)
	lacks(t, p, "<script>alert", `=HYPERLINK("x") <script>`, " onclick=", " style=")
	// Per day: waiting, open, answered, unanswered, total.
	equal(t, "2026-11-09", rowCells(t, p.body, "table-per-day", "2026-11-09"), "0", "0", "0", "0", "0")
	equal(t, "2026-11-10", rowCells(t, p.body, "table-per-day", "2026-11-10"), "1", "0", "1", "0", "2")
	equal(t, "2026-11-11", rowCells(t, p.body, "table-per-day", "2026-11-11"), "0", "0", "0", "1", "1")
	equal(t, "2026-11-12", rowCells(t, p.body, "table-per-day", "2026-11-12"), "0", "1", "0", "0", "1")
	// Timers per day: one assigned request a day, so median and p90 are its own.
	equal(t, "timers 11-10", rowCells(t, p.body, "table-timers", "2026-11-10"), "4 min 10 s", "4 min 10 s", "10 min", "10 min")
	equal(t, "timers 11-11", rowCells(t, p.body, "table-timers", "2026-11-11"), "30 s", "30 s", "—", "—")
	equal(t, "timers 11-09", rowCells(t, p.body, "table-timers", "2026-11-09"), "—", "—", "—", "—")
	contains(t, p, `data-seconds="250"`, `data-seconds="600"`)
	// Per company and per technician: requests, answered, unanswered, then the timers.
	equal(t, "Acme", rowCells(t, p.body, "table-per-company", "Acme Corp"), "2", "1", "0", "4 min 10 s", "4 min 10 s", "10 min", "10 min")
	equal(t, "Globex", rowCells(t, p.body, "table-per-company", "Globex"), "1", "0", "1", "30 s", "30 s", "—", "—")
	equal(t, "evil", rowCells(t, p.body, "table-per-company", evilCompany), "1", "0", "0", "2 min", "2 min", "—", "—")
	equal(t, "Bob", rowCells(t, p.body, "table-per-technician", "Bob Durand"), "1", "1", "0", "4 min 10 s", "4 min 10 s", "10 min", "10 min")
	equal(t, "Carol", rowCells(t, p.body, "table-per-technician", "Carol Petit"), "1", "0", "1", "30 s", "30 s", "—", "—")
	// Service-level breaches (issue 16): per day and per company, by target, and in words.
	equal(t, "breaches 11-10", rowCells(t, p.body, "table-breaches-per-day", "2026-11-10"), "1", "0", "0")
	equal(t, "breaches 11-11", rowCells(t, p.body, "table-breaches-per-day", "2026-11-11"), "0", "0", "0")
	equal(t, "Acme's breaches", rowCells(t, p.body, "table-breaches-per-company", "Acme Corp"), "1", "0", "0")
	equal(t, "Globex's breaches", rowCells(t, p.body, "table-breaches-per-company", "Globex"), "0", "0", "0")
	contains(t, p, `1 to assign, 0 to first reply, 0 to resolution`)
	// The company selector lists Alice's companies, the escaped name among them.
	contains(t, p, `<option value="`+w.evil.String()+`">=HYPERLINK(&#34;x&#34;) &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</option>`)

	// One company: the others' requests are not counted.
	one := alice.mustGet("/console/reports?" + period + "&company=" + w.globex.String())
	equal(t, "Globex only, 11-10", rowCells(t, one.body, "table-per-day", "2026-11-10"), "0", "0", "0", "0", "0")
	equal(t, "Globex only, 11-11", rowCells(t, one.body, "table-per-day", "2026-11-11"), "0", "0", "0", "1", "1")
	lacks(t, one, "Acme Corp</th>", "Bob Durand")

	// Bob serves Acme alone: Globex's and the third company's requests never show, and asking
	// for Globex is asking for something that does not exist for him.
	bob := w.login(t, "bob@example.com")
	bp := bob.mustGet("/console/reports?" + period)
	equal(t, "Bob 11-11", rowCells(t, bp.body, "table-per-day", "2026-11-11"), "0", "0", "0", "0", "0")
	equal(t, "Bob 11-12", rowCells(t, bp.body, "table-per-day", "2026-11-12"), "0", "0", "0", "0", "0")
	lacks(t, bp, "Globex", "Carol Petit", "HYPERLINK", w.globex.String())
	if got := bob.get("/console/reports?" + period + "&company=" + w.globex.String()); got.status != http.StatusNotFound {
		t.Fatalf("Bob asking for Globex's report: %d", got.status)
	}
	if got := bob.get("/console/reports.csv?" + period + "&company=" + w.globex.String()); got.status != http.StatusNotFound || strings.Contains(got.body, "Gina") {
		t.Fatalf("Bob asking for Globex's CSV: %d", got.status)
	}
}

// The default period is the last 30 days, today included; a report is only for the signed in.
func TestReportsDefaultsAndSignIn(t *testing.T) {
	w := newReportsWorld(t)
	alice := w.login(t, "alice@example.com")
	before := time.Now().UTC()
	p := alice.mustGet("/console/reports")
	today := time.Now().UTC()
	if before.Format(time.DateOnly) != today.Format(time.DateOnly) && !strings.Contains(p.body, `value="`+today.Format(time.DateOnly)+`"`) {
		today = before // the page was made before midnight
	}
	contains(t, p, `value="`+today.Format(time.DateOnly)+`"`, `value="`+today.AddDate(0, 0, -29).Format(time.DateOnly)+`"`, "(30 days)")
	anon := w.browser(t, uaWindows)
	if got := anon.get("/console/reports"); got.status != http.StatusSeeOther || !strings.HasPrefix(got.location, "/console/login") {
		t.Fatalf("anonymous Reports: %d %q", got.status, got.location)
	}
	if got := anon.get("/console/reports.csv"); got.status == http.StatusOK {
		t.Fatalf("anonymous CSV answered")
	}
}

// Bad periods and addresses answer the 400 page, saying what is wrong, page and CSV alike.
func TestReportsBadInput(t *testing.T) {
	w := newReportsWorld(t)
	alice := w.login(t, "alice@example.com")
	for query, says := range map[string]string{
		"from=2026-13-01&to=2026-11-12":                 "must be a date written YYYY-MM-DD",
		"from=2026-11-09&to=yesterday":                  "must be a date written YYYY-MM-DD",
		"from=2026-11-12&to=2026-11-09":                 "is before the first day",
		"from=2024-01-01&to=2026-11-09":                 "at most 366 days",
		"from=2026-11-09&from=2026-11-10&to=2026-11-12": "more than once",
		"from=2026-11-09&to=2026-11-12&company=acme":    "not one of the list",
		"from=%00&to=2026-11-12":                        "must be a date",
	} {
		for _, path := range []string{"/console/reports?", "/console/reports.csv?"} {
			got := alice.get(path + query)
			if got.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(got.body), says) {
				t.Errorf("%s%s: %d, want 400 saying %q\n%s", path, query, got.status, says, got.body)
			}
		}
	}
	if got := alice.get("/console/reports.csv?" + period + "&part=customers"); got.status != http.StatusBadRequest {
		t.Errorf("an unknown CSV part: %d", got.status)
	}
}

// The CSV downloads: one row per day, then the companies and the technicians, as attachments;
// a name a spreadsheet would run as a formula is written as text.
func TestReportsCSV(t *testing.T) {
	w := newReportsWorld(t)
	alice := w.login(t, "alice@example.com")
	read := func(part string) [][]string {
		t.Helper()
		got := alice.get("/console/reports.csv?" + period + part)
		if got.status != http.StatusOK || got.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
			!strings.HasPrefix(got.header.Get("Content-Disposition"), `attachment; filename="helpstream-report-`) {
			t.Fatalf("CSV %s: %d %v", part, got.status, got.header)
		}
		rows, err := csv.NewReader(strings.NewReader(got.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	days := read("")
	if len(days) != 1+4 {
		t.Fatalf("%d rows, want a header and 4 days: %q", len(days), days)
	}
	equal(t, "header", days[0], "day", "waiting", "open", "answered", "unanswered", "total",
		"assign_count", "assign_median_s", "assign_p90_s", "first_reply_count", "first_reply_median_s", "first_reply_p90_s",
		"breached_assign", "breached_first_reply", "breached_resolution")
	equal(t, "11-10", days[2], "2026-11-10", "1", "0", "1", "0", "2", "1", "250", "250", "1", "600", "600", "1", "0", "0")
	equal(t, "11-09", days[1], "2026-11-09", "0", "0", "0", "0", "0", "0", "", "", "0", "", "", "0", "0", "0")
	companies := read("&part=companies")
	var names []string
	for _, r := range companies[1:] {
		names = append(names, r[1])
	}
	equal(t, "company names (by name)", names, "'"+evilCompany, "Acme Corp", "Globex")
	techs := read("&part=technicians")
	equal(t, "Carol", techs[3][1:], "Carol Petit", "0", "0", "0", "1", "1", "1", "30", "30", "0", "", "", "0", "0", "0")
	var acme []string
	for _, r := range companies[1:] {
		if r[1] == "Acme Corp" {
			acme = r[len(r)-3:]
		}
	}
	equal(t, "Acme's breaches", acme, "1", "0", "0")
}

// An auditor reads the report of the companies granted them; the read is in the access log
// first, with its period and company.
func TestReportsAuditor(t *testing.T) {
	w := newReportsWorld(t)
	ann := w.auditor(t, "ann@example.com", w.acme)
	p := ann.mustGet("/console/reports?" + period + "&company=" + w.acme.String())
	contains(t, p, `id="auditor-role"`, `id="nav-reports"`)
	equal(t, "11-10", rowCells(t, p.body, "table-per-day", "2026-11-10"), "1", "0", "1", "0", "2")
	lacks(t, p, "Carol Petit", "HYPERLINK")
	if got := ann.get("/console/reports?" + period + "&company=" + w.globex.String()); got.status != http.StatusNotFound {
		t.Fatalf("auditor asking for a company not granted: %d", got.status)
	}
	ann.mustGet("/console/reports.csv?" + period)
	rows, err := w.pool.Query(context.Background(), `SELECT params->>'from', params->>'to', coalesce(params->>'company', '') FROM auditor_access_log WHERE kind = 'report' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var from, to, company string
		if err := rows.Scan(&from, &to, &company); err != nil {
			t.Fatal(err)
		}
		got = append(got, from+" "+to+" "+company)
	}
	// The company not granted was refused before anything was read: not logged.
	equal(t, "access log", got, "2026-11-09 2026-11-12 "+w.acme.String(), "2026-11-09 2026-11-12 ")
}

// waitForLog waits until the read models include every event of the log. The log's end is
// its newest event, not its Head: Head keeps below every transaction still open in the cluster
// (a process manager's tick is one), so it may not include the last events yet.
func (w *world) waitForLog(ctx context.Context) error {
	head, err := w.store.Newest(ctx)
	if err != nil {
		return err
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		ok, err := w.app.Queries().WaitForPosition(ctx, head)
		if err != nil {
			return err
		}
		if ok {
			return w.readableUpTo(ctx, head, deadline)
		}
	}
	return errors.New("the read models did not catch up with the log")
}

// readableUpTo waits until the log delivers every event up to head: it delivers an event once
// every older transaction on the server ended (the process managers' ticks are transactions
// too), and an analytics rebuild reads the log only as far as it is delivered.
func (w *world) readableUpTo(ctx context.Context, head eventlog.Position, deadline time.Time) error {
	for time.Now().Before(deadline) {
		events, err := w.store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: 100_000})
		if err != nil {
			return err
		}
		if len(events) > 0 && events[len(events)-1].Position.Compare(head) >= 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("the log did not deliver its head")
}
