package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
	"github.com/helpstream/helpstream/internal/app"
)

// `helpstream admin company-timezone`, `helpstream analytics rebuild` and `helpstream analytics
// export`, together on a service's database: the zone set by the CLI moves the request's day,
// the rebuild folds the log, the export writes its CSV; bad flags are refused with what is wrong.
func TestAnalyticsCommands(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	company, portal := uuid.New(), uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: company, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.App.CreatePortal(ctx, adminMeta(), app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"}); err != nil {
		t.Fatal(err)
	}
	req := uuid.New()
	if _, err := svc.App.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
		Customer: request.Customer{Name: "Carol", Email: "carol@example.com"}, Description: "printer", Source: request.Source{Platform: request.Windows}}); err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		if args[0] == "admin" {
			args = append(args, "--files-dir", files)
		}
		err := run(ctx, append(args, "--database-url", url), &out)
		return out.String(), err
	}

	for _, bad := range []struct{ args []string }{
		{[]string{"admin", "company-timezone", "--company", company.String(), "--time-zone", "Mars/Base"}},
		{[]string{"admin", "company-timezone", "--company", company.String(), "--time-zone", "Local"}},
		{[]string{"admin", "company-timezone", "--company", "acme", "--time-zone", "UTC"}},
	} {
		if out, err := cli(bad.args...); err == nil {
			t.Errorf("%q: %q, want an error", bad.args, out)
		}
	}
	if out, err := cli("admin", "company-timezone", "--company", company.String(), "--time-zone", "Pacific/Kiritimati"); err != nil || !strings.Contains(out, "Pacific/Kiritimati") {
		t.Fatalf("company-timezone: %q, %v", out, err)
	}
	c, err := svc.App.Company(ctx, company)
	if err != nil || c.TimeZone() != "Pacific/Kiritimati" {
		t.Fatalf("company zone %q, %v", c.TimeZone(), err)
	}
	if _, err := cli("admin", "company-timezone", "--company", company.String(), "--time-zone", "Pacific/Kiritimati"); err != nil {
		t.Errorf("setting the same zone again: %v", err)
	}

	// Other tests' transactions on the same server can hold the log's visible horizon back for
	// a while: the rebuild folds what is readable, so wait until the zone's event is.
	for deadline := time.Now().Add(60 * time.Second); ; {
		events, err := svc.Store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(events, func(e eventlog.RecordedEvent) bool { return e.Type == "company.time_zone_set.v1" }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the log never showed the zone's event")
		}
		time.Sleep(20 * time.Millisecond)
	}
	out, err := cli("analytics", "rebuild")
	if err != nil || !strings.Contains(out, "generation 2") {
		t.Fatalf("rebuild: %q, %v", out, err)
	}
	out, err = cli("analytics", "export", "--format", "csv", "--company", company.String())
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(records) != 2 {
		t.Fatalf("export: %q, %v", out, err)
	}
	row := map[string]string{}
	for i, col := range analytics.ExportColumns {
		row[col] = records[1][i]
	}
	// Kiritimati is UTC+14: the request's day is the next UTC date when submitted after 10:00 UTC
	submitted, err := time.Parse(time.RFC3339Nano, row["submitted_at"])
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Pacific/Kiritimati")
	if want := submitted.In(loc).Format(time.DateOnly); row["request_id"] != req.String() || row["company"] != "Acme" || row["day"] != want || row["outcome"] != "waiting" {
		t.Errorf("row %v, want request %s of Acme on %s, waiting", row, req, want)
	}
	day := row["day"]
	if out, err := cli("analytics", "export", "--from", day, "--to", day); err != nil || strings.Count(out, "\n") != 2 {
		t.Errorf("export of %s: %q, %v", day, out, err)
	}
	next, _ := time.Parse(time.DateOnly, day)
	if out, err := cli("analytics", "export", "--from", next.AddDate(0, 0, 1).Format(time.DateOnly)); err != nil || strings.Count(out, "\n") != 1 {
		t.Errorf("export from the day after: %q, %v (want the header alone)", out, err)
	}
	for _, bad := range [][]string{
		{"analytics", "export", "--format", "xlsx"},
		{"analytics", "export", "--from", "yesterday"},
		{"analytics", "export", "--from", "2026-03-02", "--to", "2026-03-01"},
		{"analytics", "export", "--company", "acme"},
		{"analytics", "run"},
	} {
		if out, err := cli(bad...); err == nil {
			t.Errorf("%q: %q, want an error", bad, out)
		}
	}
}

// `stream run` and `analytics run` on watermill-sql in the service's database: a request
// submitted reaches the analytics tables (the export shows it), and --metrics-addr serves the
// job's lag.
func TestAnalyticsRun(t *testing.T) {
	svc, url := openFreshService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	company, portal := uuid.New(), uuid.New()
	if _, err := svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: company, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.App.CreatePortal(ctx, adminMeta(), app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"}); err != nil {
		t.Fatal(err)
	}
	topic := uniqueName("cli_analytics_")
	jobLines := runInBackground(t, "analytics", "run", "--broker", url, "--database-url", url, "--topic", topic, "--metrics-addr", "127.0.0.1:0")
	var metricsURL string
	for metricsURL == "" {
		select {
		case line := <-jobLines:
			if after, ok := strings.CutPrefix(line, "analytics metrics on "); ok {
				metricsURL = after
			}
		case <-ctx.Done():
			t.Fatal("analytics run did not say where its metrics are")
		}
	}
	runInBackground(t, "stream", "run", "--broker", url, "--database-url", url, "--topic", topic, "--name", uniqueName("cli-"), "--leader-retry", "100ms")

	req := uuid.New()
	if _, err := svc.App.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
		Customer: request.Customer{Name: "Carol", Email: "carol@example.com"}, Description: "printer", Source: request.Source{Platform: request.Windows}}); err != nil {
		t.Fatal(err)
	}
	for {
		var out bytes.Buffer
		if err := run(ctx, []string{"analytics", "export", "--database-url", url}, &out); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), req.String()+","+company.String()+",Acme,") {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the request never reached the export: %q", out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"helpstream_analytics_events_applied_total 3", "helpstream_analytics_events_behind 0", "helpstream_analytics_lag_seconds 0"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
