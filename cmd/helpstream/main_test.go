package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// The README's first command: serve --demo on a database that does not exist yet, then a
// request walked from submission to close by the demo's technician.
func TestServeDemoOnAFreshDatabase(t *testing.T) {
	url := absentDatabaseURL(t) // serve has to create it, as on a fresh machine
	data := t.TempDir()
	lines := runInBackground(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--database-url", url, "--files-dir", filepath.Join(data, "files"))
	api := ""
	for line := range lines {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "API:"); ok {
			api = strings.TrimSpace(rest)
			break
		}
	}
	if api == "" {
		t.Fatal("serve --demo printed no API address")
	}

	client := &http.Client{Timeout: 10 * time.Second}
	call := func(method, path, token string, body any, wantStatus int) map[string]any {
		t.Helper()
		var payload io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			payload = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, api+path, payload)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != wantStatus {
			t.Fatalf("%s %s: %d %v, want %d", method, path, resp.StatusCode, out, wantStatus)
		}
		return out
	}
	acmePortal := demoID("portal/acme").String()
	submitted := call("POST", "/portals/"+acmePortal+"/requests", "", map[string]string{
		"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Printer on fire", "device_type": "windows",
	}, http.StatusCreated)
	requestID := submitted["request_id"].(string)
	login := call("POST", "/auth/login", "", map[string]string{"email": "bob@example.com", "password": DemoPassword}, http.StatusOK)
	token := login["token"].(string)
	call("PUT", "/me/availability", token, map[string]string{"availability": "available"}, http.StatusOK)
	for _, step := range []string{"assign", "join", "end-chat", "close"} {
		call("POST", "/requests/"+requestID+"/"+step, token, nil, http.StatusOK)
	}
	details := call("GET", "/requests/"+requestID, token, nil, http.StatusOK)
	if details["status"] != "completed" {
		t.Fatalf("status %v, want completed", details["status"])
	}
	// Carol has no access to Acme: the request does not exist for her (R2).
	carol := call("POST", "/auth/login", "", map[string]string{"email": "carol@example.com", "password": DemoPassword}, http.StatusOK)["token"].(string)
	call("GET", "/requests/"+requestID, carol, nil, http.StatusNotFound)
	// The demo's auditor reads the request's history, and changes nothing; the server signs
	// anchors with the key it made beside the files.
	auditor := call("POST", "/auth/login", "", map[string]string{"email": DemoAuditorEmail, "password": DemoPassword}, http.StatusOK)["token"].(string)
	if history := call("GET", "/requests/"+requestID+"/history", auditor, nil, http.StatusOK); history["verified"] != true || len(history["events"].([]any)) != 5 {
		t.Fatalf("the auditor's history: %v", history)
	}
	call("POST", "/requests/"+requestID+"/notes", auditor, map[string]string{"body": "no"}, http.StatusForbidden)
	if _, err := os.Stat(filepath.Join(data, "anchor", anchor.PublicKeyFile)); err != nil {
		t.Errorf("the demo's anchor key: %v", err)
	}
	// The admin token of the demo opens the admin routes.
	companies := call("GET", "/admin/companies", DemoAdminToken, nil, http.StatusOK)
	if n := len(companies["companies"].([]any)); n != 2 {
		t.Fatalf("%d demo companies, want 2", n)
	}
	// serve keeps the read models: the admin route and /metrics say where they stand.
	status := call("GET", "/admin/projections", DemoAdminToken, nil, http.StatusOK)
	if n := len(status["projections"].([]any)); n != len(service.ReadModels()) {
		t.Fatalf("%d read models in the status, want %d", n, len(service.ReadModels()))
	}
	// /metrics is not served to anyone: the metrics token (the admin token by default) opens it.
	resp, err := client.Get(strings.TrimSuffix(api, "/api/v1") + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(api, "/api/v1")+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+DemoAdminToken)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"helpstream_projection_lag_seconds", `projection="request_list"`, "helpstream_commands_total", "helpstream_aggregate_cache_streams",
		`helpstream_subscriber_events_applied_total{consumer="request_list",kind="projection"}`, `helpstream_subscriber_leading{consumer="directory",kind="projection"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// serve with pool parameters in its URL starts; with --metrics-addr, /metrics is served there
// to scrapers and not on the public address.
func TestServeMetricsAddrAndPoolURL(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	lines := runInBackground(t, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
		"--database-url", withParameters(url, "pool_max_conns=6"), "--files-dir", t.TempDir())
	banner := regexp.MustCompile(`API on (http://[^/]+)/api/v1 .*metrics: (http://\S+/metrics)`)
	var base, metrics string
	for line := range lines {
		if m := banner.FindStringSubmatch(line); m != nil {
			base, metrics = m[1], m[2]
			break
		}
	}
	if base == "" {
		t.Fatal("serve printed no API and metrics address")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get(metrics); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener: %d %.100s", status, body)
	}
	if status, _ := get(base + "/metrics"); status != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", status)
	}
	if status, body := get(base + "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d %s", status, body)
	}
}

// withParameters adds query parameters to a URL that may have some already.
func withParameters(url, params string) string {
	if strings.Contains(url, "?") {
		return url + "&" + params
	}
	return url + "?" + params
}

// runInBackground runs the command line until the test ends, and returns its output's lines.
func runInBackground(t *testing.T, args ...string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reader, writer := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, writer)
		writer.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s returned %v", strings.Join(args[:2], " "), err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("%s did not stop within 15s of its interruption", strings.Join(args[:2], " "))
		}
	})
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(reader)
		for scanner.Scan() {
			select {
			case lines <- scanner.Text():
			default: // nobody reads any more
			}
		}
	}()
	return lines
}

// absentDatabaseURL returns the URL of a database that does not exist, for a command to create
// as on a fresh machine; it is dropped when the test ends.
func absentDatabaseURL(t *testing.T) string {
	t.Helper()
	url, drop, err := pgtest.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil { // the scan for secrets in the log, or the drop
			t.Error(err)
		}
	})
	if err := drop(); err != nil {
		t.Fatal(err)
	}
	return url
}

// openTestService opens the service on the database at url, as a command that does not serve
// does, with files in a directory of the test's own.
func openTestService(t *testing.T, url string) *service.Service {
	t.Helper()
	svc, err := service.New(context.Background(), service.Config{DatabaseURL: url, PoolSize: 4, FilesDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// `helpstream admin unlock --email E` lifts a lockout that a server's logins set, through the
// shared database: the technician gets in at once.
func TestAdminUnlock(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	accounts := svc.Accounts.WithLoginPolicy(app.LoginPolicy{Now: func() time.Time { return now }})
	const password = "correct horse battery"
	if _, err := accounts.RegisterTechnicianWithPassword(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: uuid.New(), Name: "Ann Tech", Email: "ann@example.com"}, password); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("no lockout after 100 attempts")
		}
		_, err := accounts.Login(ctx, "ann@example.com", "wrong password")
		if errors.Is(err, app.ErrAccountLocked) {
			break
		}
		now = now.Add(15 * time.Minute)
	}
	if _, err := accounts.Login(ctx, "ann@example.com", password); !errors.Is(err, app.ErrAccountLocked) {
		t.Fatalf("the right password while locked: %v", err)
	}

	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"admin", "unlock", "--database-url", url, "--files-dir", t.TempDir()}, args...), &out)
		return strings.TrimSpace(out.String()), err
	}
	for _, c := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{[]string{"--email", " Ann@Example.com "}, "ann@example.com unlocked (20 failed logins forgotten)", ""},
		{[]string{"--email", "ann@example.com"}, "ann@example.com was not locked and had no failed logins", ""},
		{nil, "", "--email is required"},
	} {
		out, err := cli(c.args...)
		switch {
		case c.wantErr != "" && (err == nil || err.Error() != c.wantErr):
			t.Errorf("admin unlock %q: err %v, want %q", c.args, err, c.wantErr)
		case c.wantErr == "" && (err != nil || out != c.want):
			t.Errorf("admin unlock %q: %q, %v; want %q", c.args, out, err, c.want)
		}
	}
	if _, err := accounts.Login(ctx, "ann@example.com", password); err != nil {
		t.Fatalf("the right password after the unlock: %v", err)
	}
}

// openFreshService opens the service, as openTestService, on a database of the test's own,
// and returns it with the database's URL for the commands under test; it closes when the
// test ends.
func openFreshService(t *testing.T) (svc *service.Service, url string) {
	t.Helper()
	_, url = pgtest.NewDatabase(t)
	svc = openTestService(t, url)
	t.Cleanup(svc.Close)
	return svc, url
}

// Running the demo twice finds what the first run made.
func TestSeedDemoIsIdempotent(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	ctx := context.Background()
	for range 2 {
		svc := openTestService(t, url)
		if _, err := seedDemo(ctx, svc); err != nil {
			t.Fatal(err)
		}
		err := svc.ProjectUntilCurrent(ctx, 10*time.Second)
		technicians, listErr := svc.Queries.Technicians(ctx)
		svc.Close()
		if err != nil || listErr != nil {
			t.Fatal(err, listErr)
		}
		if len(technicians) != 3 {
			t.Fatalf("%d technicians, want 3", len(technicians))
		}
	}
	// The demo's mobile profile templates, once each (a restart adds no version).
	svc := openTestService(t, url)
	defer svc.Close()
	templates, err := svc.App.MobileProfileTemplates(ctx, app.Meta{Actor: app.Admin}, demoID("company/acme"))
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) != len(demoProfiles) {
		t.Fatalf("%d templates, want %d", len(templates), len(demoProfiles))
	}
	for _, tpl := range templates {
		if tpl.Version != 1 {
			t.Errorf("template %q at version %d after two seeds, want 1", tpl.Name, tpl.Version)
		}
	}
	// Its canned responses, once each, saved once: the second seed wrote nothing.
	acme, err := svc.App.Company(ctx, demoID("company/acme"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(acme.CannedResponses()); got != len(demoCanned) {
		t.Fatalf("%d canned responses, want %d", got, len(demoCanned))
	}
	events, err := svc.Store.ReadStream(ctx, "company-"+demoID("company/acme").String(), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	saved := 0
	for _, e := range events {
		if e.Type == "company.canned_response_saved.v1" {
			saved++
		}
	}
	if saved != len(demoCanned) {
		t.Errorf("%d canned responses saved over two seeds, want %d", saved, len(demoCanned))
	}
}

// Every command says what it does on --help, and an unknown one is refused.
func TestHelp(t *testing.T) {
	for name := range commands {
		var out bytes.Buffer
		err := run(context.Background(), []string{name, "--help"}, &out)
		if err != nil && !strings.Contains(err.Error(), "help requested") {
			t.Errorf("%s --help: %v", name, err)
		}
		if !strings.Contains(out.String(), commands[name].summary) {
			t.Errorf("%s --help does not say what it does:\n%s", name, out.String())
		}
	}
	for _, m := range benchMeasurements {
		var out bytes.Buffer
		if err := run(context.Background(), []string{"bench", m.name, "--help"}, &out); err != nil && !strings.Contains(err.Error(), "help requested") {
			t.Errorf("bench %s --help: %v", m.name, err)
		}
		if !strings.Contains(out.String(), m.summary) {
			t.Errorf("bench %s --help does not say what it does:\n%s", m.name, out.String())
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard); err == nil {
		t.Error("an unknown command was accepted")
	}
}

// The commands made of subcommands list them on --help and refuse a missing or unknown one,
// naming the group.
func TestCommandGroups(t *testing.T) {
	for _, group := range []string{"events", "projections", "stream"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{group, "help"}, &out); err != nil {
			t.Errorf("%s help: %v", group, err)
		}
		if !strings.Contains(out.String(), "Usage: helpstream "+group+" <command>") {
			t.Errorf("%s help does not list its commands:\n%s", group, out.String())
		}
		if err := run(context.Background(), []string{group}, io.Discard); err == nil || err.Error() != group+": a command is required" {
			t.Errorf("%s without a command: %v", group, err)
		}
		if err := run(context.Background(), []string{group, "frobnicate"}, io.Discard); err == nil || err.Error() != group+`: unknown command "frobnicate"` {
			t.Errorf("%s frobnicate: %v", group, err)
		}
	}
}
