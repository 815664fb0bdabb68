package e2e_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/web/chart"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
	"github.com/helpstream/helpstream/internal/app"
)

// reportDay is what the test wrote for one day: outcome counts and the timers in seconds.
type reportDay struct {
	waiting, open, answered, unanswered int
	assign, reply                       []float64
}

// settableClock is the time of the App that writes the reports' history.
type settableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *settableClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *settableClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// writeReportHistory writes two weeks of requests (the 14 days before today, UTC) on the
// server's log through an App whose clock it sets, each request waiting, open, answered or
// closed unanswered at random (seeded), then rebuilds the analytics tables from the log as
// `helpstream analytics rebuild` does. It returns what it wrote per day.
func writeReportHistory(t *testing.T, srv *server) map[string]*reportDay {
	t.Helper()
	ctx := context.Background()
	clk := &settableClock{t: time.Now().UTC().AddDate(0, 0, -15)}
	writer, err := app.New(app.Config{Store: srv.Store, Now: clk.Now, CachedStreams: -1})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin := app.Meta{Actor: app.Admin}
	// Alice serves both companies here, so that her report has two of each.
	must(writer.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: srv.Alice.ID, CompanyID: srv.Company2}))
	for _, tech := range []technician{srv.Alice, srv.Bob, srv.Carol} {
		must(writer.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: tech.ID, Availability: directory.Available}))
	}
	rng := rand.New(rand.NewPCG(14, 5))
	days := map[string]*reportDay{}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for back := 14; back >= 1; back-- {
		day := today.AddDate(0, 0, -back)
		d := &reportDay{}
		days[day.Format(time.DateOnly)] = d
		for i := range 2 + rng.IntN(6) {
			submitted := day.Add(time.Duration(8*3600+i*1800+rng.IntN(1500)) * time.Second)
			company, portal, techs := srv.Company1, srv.Portal1, []technician{srv.Alice, srv.Bob}
			if rng.IntN(3) == 0 {
				company, portal, techs = srv.Company2, srv.Portal2, []technician{srv.Carol}
			}
			tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: techs[rng.IntN(len(techs))].ID}}
			id := uuid.New()
			clk.set(submitted)
			must(writer.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
				RequestID: id, PortalID: portal, CompanyID: company, Description: "Report me",
				Customer: request.Customer{Name: fmt.Sprintf("Customer %d", rng.IntN(1000)), Email: "c@example.com"},
				Source:   request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Chrome"},
			}))
			outcome := rng.IntN(10)
			if outcome == 0 {
				d.waiting++
				continue
			}
			toAssign := 20 + rng.IntN(1200)
			clk.set(submitted.Add(time.Duration(toAssign) * time.Second))
			must(writer.AssignToMe(ctx, tech, id))
			d.assign = append(d.assign, float64(toAssign))
			switch {
			case outcome <= 2:
				d.open++
			case outcome <= 7:
				must(writer.JoinChat(ctx, tech, id))
				toReply := toAssign + 30 + rng.IntN(1500)
				clk.set(submitted.Add(time.Duration(toReply) * time.Second))
				must(writer.SendTechnicianMessage(ctx, tech, id, uuid.New(), "On it"))
				d.reply = append(d.reply, float64(toReply))
				clk.set(submitted.Add(time.Duration(toReply+600) * time.Second))
				must(writer.Close(ctx, tech, id))
				d.answered++
			default:
				clk.set(submitted.Add(time.Duration(toAssign+300) * time.Second))
				must(writer.Close(ctx, tech, id))
				d.unanswered++
			}
		}
	}
	// The log delivers an event once every older transaction on the server ended: wait until
	// the whole history is readable, so that the rebuild reads all of it. Its end is the newest
	// event, not the Head, which keeps below every transaction still open (a process manager's
	// tick is one) and may not include the last events yet.
	head, err := srv.Store.(interface {
		Newest(context.Context) (eventlog.Position, error)
	}).Newest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitFor(ctx, head, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := analytics.Rebuild(ctx, analytics.RebuildConfig{DB: srv.Pool, Store: srv.Store}); err != nil {
		t.Fatal(err)
	}
	return days
}

// percentile is PostgreSQL's percentile_cont of the values, as the report computes it, written
// as the page writes a duration.
func percentile(values []float64, p float64) string {
	if len(values) == 0 {
		return "—"
	}
	v := slices.Sorted(slices.Values(values))
	h := float64(len(v)-1) * p
	lo, hi := math.Floor(h), math.Ceil(h)
	s := v[int(lo)] + (h-lo)*(v[int(hi)]-v[int(lo)])
	return chart.Duration(time.Duration(math.Round(s*1e6)) * time.Microsecond)
}

// TestReports: a technician opens Reports from the console's navigation and finds, for the
// last 30 days, the four charts as images with a title and a description, each with its table;
// the tables hold what was written day by day (outcomes, medians and 90th percentiles), the
// charts' marks agree with them, the CSV link downloads the same days as an attachment, and
// the page breaks no rule of the CSP. With HELPSTREAM_SCREENSHOTS=1 it writes the README's
// docs/screenshots/reports.png.
func TestReports(t *testing.T) {
	t.Parallel()
	_, br := shared(t)
	srv := newServer(t) // a server of its own: only this history in the figures
	days := writeReportHistory(t, srv)

	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console")
	alice.waitFor("the console", exists("#nav-reports"))
	alice.clickAndLoad("open Reports", "#nav-reports")
	alice.waitFor("the Reports page", exists("#reports #report-form"))
	step := "the charts"
	if got := eval[[]string](alice, step, `Array.from(document.querySelectorAll('svg.chart[role=img]')).map(s => {
		const ids = s.getAttribute('aria-labelledby').split(' ');
		return ids.map(id => (document.getElementById(id) || {}).textContent || '').join(' / ');
	})`); len(got) != 5 || !strings.HasPrefix(got[0], "Requests per day by outcome / ") ||
		!strings.HasPrefix(got[3], "Time to assign and to first reply per company / ") {
		alice.fail(step, "charts named %q, want 5 with titles and descriptions", got)
	}
	if n := eval[int](alice, step, `document.querySelectorAll('section.report figure svg.chart + *, section.report .report-grid table caption').length`); n < 4 {
		alice.fail(step, "%d tables with a caption beside the charts, want 4", n)
	}

	// The tables, day by day, and the charts' marks for the same days.
	rows := eval[map[string][]string](alice, "the tables", `(() => {
		const out = {};
		for (const id of ['table-per-day', 'table-timers']) {
			for (const tr of document.querySelectorAll('#' + id + ' tbody tr')) {
				const cells = Array.from(tr.querySelectorAll('th, td')).map(c => c.textContent.trim());
				out[id + ' ' + cells[0]] = cells.slice(1);
			}
		}
		return out;
	})()`)
	marks := eval[[]string](alice, "the chart's marks", `Array.from(document.querySelectorAll('#report-per-day svg rect > title')).map(t => t.textContent)`)
	for date, d := range days {
		wantCounts := []string{fmt.Sprint(d.waiting), fmt.Sprint(d.open), fmt.Sprint(d.answered), fmt.Sprint(d.unanswered), fmt.Sprint(d.waiting + d.open + d.answered + d.unanswered)}
		if got := rows["table-per-day "+date]; !slices.Equal(got, wantCounts) {
			alice.errorf("the per-day table", "%s: %q, want %q", date, got, wantCounts)
		}
		wantTimers := []string{percentile(d.assign, 0.5), percentile(d.assign, 0.9), percentile(d.reply, 0.5), percentile(d.reply, 0.9)}
		if got := rows["table-timers "+date]; !slices.Equal(got, wantTimers) {
			alice.errorf("the timers table", "%s: %q, want %q", date, got, wantTimers)
		}
		day, _ := time.Parse(time.DateOnly, date)
		for name, n := range map[string]int{"Waiting": d.waiting, "Open": d.open, "Answered": d.answered, "Unanswered": d.unanswered} {
			mark := fmt.Sprintf("%s: %s %d", day.Format("Jan 2"), name, n)
			if has := slices.Contains(marks, mark); has != (n > 0) {
				alice.errorf("the per-day chart", "mark %q drawn: %v, want %v", mark, has, n > 0)
			}
		}
	}
	if got := len(rows); got != 2*30 {
		alice.errorf("the tables", "%d rows, want 30 days in each of the two tables", got)
	}

	// The CSV link's target: an attachment, a row per day, the same numbers.
	download := run(alice, "download the CSV", chromedp.Evaluate[map[string]string](`fetch(document.querySelector('a#csv-days').href).then(async r => ({
		status: String(r.status), type: r.headers.get('content-type'), disposition: r.headers.get('content-disposition'), body: await r.text()}))`,
		chromedp.EvalAwaitPromise))
	if download["status"] != "200" || !strings.HasPrefix(download["disposition"], "attachment;") || download["type"] != "text/csv; charset=utf-8" {
		alice.fail("download the CSV", "%q", download)
	}
	records, err := csv.NewReader(strings.NewReader(download["body"])).ReadAll()
	if err != nil || len(records) != 1+30 {
		alice.fail("download the CSV", "%d records (%v), want a header and 30 days", len(records), err)
	}
	for _, r := range records[1:] {
		if d, ok := days[r[0]]; ok && r[5] != fmt.Sprint(d.waiting+d.open+d.answered+d.unanswered) {
			alice.errorf("the CSV", "%s: total %s, want %d", r[0], r[5], d.waiting+d.open+d.answered+d.unanswered)
		}
	}
	if v := alice.cspViolations(); len(v) != 0 {
		alice.fail("the CSP", "violations: %q", v)
	}

	// The form: the last two weeks, the period the history covers.
	step = "choose the last two weeks"
	from := time.Now().UTC().AddDate(0, 0, -14).Format(time.DateOnly)
	alice.fill(step, "#report-form input[name=from]", from)
	alice.clickAndLoad(step, submitOf("#report-form"))
	alice.waitFor(step, "location.search.includes("+js("from="+from)+")")
	if n := eval[int](alice, step, "document.querySelectorAll('#table-per-day tbody tr').length"); n != 15 {
		alice.fail(step, "%d days in the table, want 15", n)
	}

	out := t.TempDir()
	if os.Getenv("HELPSTREAM_SCREENSHOTS") == "1" {
		out = filepath.Join("..", "..", "..", "docs", "screenshots")
	}
	eval[bool](alice, "settle", "(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true)")
	b := run(alice, "screenshot reports.png", chromedp.FullScreenshot(100))
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 1280 || cfg.Height < 800 {
		alice.fail("screenshot reports.png", "not a 1280-wide PNG: %v %+v", err, cfg)
	}
	path := filepath.Join(out, "reports.png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s (%d bytes, %d×%d)", path, len(b), cfg.Width, cfg.Height)
}
