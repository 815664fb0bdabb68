package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// The auditors' commands end to end on one log: keygen, anchors written by the server's
// anchorer, history in three formats and at a version, a view as of a moment before and after
// the assignment, verify (clean, then tampered: a non-zero exit naming the event), and an
// export bundle verified offline, then with one byte flipped.
func TestAuditCommands(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	keys := filepath.Join(t.TempDir(), "keys")
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, args, &out)
		return out.String(), err
	}
	out, err := cli("audit", "keygen", "--out", keys)
	if err != nil || !strings.Contains(out, "fingerprint: SHA256:") {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
	if _, err := cli("audit", "keygen", "--out", keys); err == nil {
		t.Fatal("keygen overwrote a key")
	}
	private, public := filepath.Join(keys, anchor.PrivateKeyFile), filepath.Join(keys, anchor.PublicKeyFile)

	meta := app.Meta{Actor: app.Admin, CorrelationID: "audit-test"}
	company, portal, tech, req := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	must := func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.App.CreateCompany(ctx, meta, app.CreateCompany{CompanyID: company, Name: "Initech"}))
	must(svc.App.CreatePortal(ctx, meta, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Initech Help"}))
	must(svc.Accounts.RegisterTechnicianWithPassword(ctx, meta, app.RegisterTechnician{TechnicianID: tech, Name: "Dana Scully", Email: "dana@example.com"}, "correct horse"))
	must(svc.App.GrantAccess(ctx, meta, app.GrantAccess{TechnicianID: tech, CompanyID: company}))
	must(svc.App.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
		Customer: request.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}, Description: "Printer on fire",
		Source: request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}))
	waitReadable(t, svc)
	beforeAssignment := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	must(svc.App.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available}))
	must(svc.App.AssignToMe(ctx, techMeta, req))
	waitReadable(t, svc)

	key, err := anchor.LoadPrivateKey(private)
	if err != nil {
		t.Fatal(err)
	}
	anchorer, err := anchor.New(anchor.Config{Store: svc.Store, PrivateKey: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, wrote, err := anchorer.AnchorNow(ctx); err != nil || !wrote {
		t.Fatalf("anchor: wrote %v, %v", wrote, err)
	}

	// History: text, csv, json, and stopped at the submission.
	out, err = cli("audit", "history", req.String(), "--database-url", url)
	if err != nil || !strings.Contains(out, "hash chain holds") || !strings.Contains(out, "Dana Scully") || !strings.Contains(out, "status active, assigned to Dana Scully") {
		t.Fatalf("history: %v\n%s", err, out)
	}
	out, err = cli("audit", "history", "--format", "csv", req.String(), "--database-url", url)
	rows, csvErr := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || csvErr != nil || len(rows) != 3 || rows[0][0] != "version" || rows[2][9] != "active" {
		t.Fatalf("history csv: %v %v\n%s", err, csvErr, out)
	}
	out, err = cli("audit", "history", req.String(), "--version", "0", "--format", "json", "--database-url", url)
	var tl struct {
		Steps []json.RawMessage `json:"steps"`
		State struct {
			Status string `json:"status"`
		} `json:"state"`
	}
	if err != nil || json.Unmarshal([]byte(out), &tl) != nil || len(tl.Steps) != 1 || tl.State.Status != "new" {
		t.Fatalf("history --version 0: %v\n%s", err, out)
	}

	// The list as of before the assignment, and the technician's queue then and now.
	view := func(args ...string) string {
		t.Helper()
		out, err := cli(append([]string{"audit", "view", "--database-url", url, "--format", "json"}, args...)...)
		if err != nil {
			t.Fatalf("view %q: %v\n%s", args, err, out)
		}
		var page app.PastPage
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatal(err)
		}
		var statuses []string
		for _, r := range page.Requests {
			statuses = append(statuses, string(r.Status))
		}
		return strings.Join(statuses, ",")
	}
	if got := view("--as-of", beforeAssignment.Format(time.RFC3339Nano)); got != "new" {
		t.Errorf("all as of before the assignment: %q, want new", got)
	}
	if got := view("--as-of", beforeAssignment.Format(time.RFC3339Nano), "--technician", tech.String(), "--mine"); got != "" {
		t.Errorf("queue before the assignment: %q, want empty", got)
	}
	if got := view("--as-of", time.Now().UTC().Format(time.RFC3339Nano), "--technician", tech.String(), "--mine"); got != "active" {
		t.Errorf("queue now: %q, want active", got)
	}

	if err := svc.ProjectUntilCurrent(ctx, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// Verify: clean, then with the assignment's payload changed behind the store's back.
	out, err = cli("audit", "verify", "--database-url", url, "--public-key", public, "--projections")
	if err != nil || !strings.Contains(out, "OK: no findings") {
		t.Fatalf("verify a clean log: %v\n%s", err, out)
	}
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	if out, err := cli("audit", "export", req.String(), "--out", bundle, "--public-key", public, "--database-url", url); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if out, err := cli("audit", "verify", "--bundle", bundle, "--public-key", public); err != nil || !strings.Contains(out, "OK: no findings") {
		t.Fatalf("verify the bundle: %v\n%s", err, out)
	}
	content, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Replace(content, []byte("Printer on fire"), []byte("Printer on firE"), 1)
	if bytes.Equal(flipped, content) {
		t.Fatal("the bundle does not hold the description as written")
	}
	if err := os.WriteFile(bundle, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = cli("audit", "verify", "--bundle", bundle, "--public-key", public)
	if !errors.Is(err, errFindings) || !strings.Contains(out, "request-"+req.String()) || !strings.Contains(out, "version 0") {
		t.Fatalf("verify a flipped bundle: %v\n%s", err, out)
	}

	if _, err := svc.Pool.Exec(ctx, `UPDATE events SET data = replace(data::text, 'Printer', 'Scanner')::json WHERE stream_id = $1 AND stream_version = 0`, "request-"+req.String()); err != nil {
		t.Fatal(err)
	}
	out, err = cli("audit", "verify", "--database-url", url, "--public-key", public)
	if !errors.Is(err, errFindings) || !strings.Contains(out, "request-"+req.String()) || !strings.Contains(out, "FAILED") {
		t.Fatalf("verify a tampered log: %v\n%s", err, out)
	}
	out, err = cli("audit", "history", req.String(), "--database-url", url)
	if !errors.Is(err, errFindings) || !strings.Contains(out, "CHAIN BROKEN at version 0") {
		t.Fatalf("history of a tampered request: %v\n%s", err, out)
	}
}

// waitReadable waits until the log shows what this service wrote: another test's open
// transaction can hold the log's horizon back for a moment.
func waitReadable(t *testing.T, svc *service.Service) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		all, err := svc.Store.ReadAll(context.Background(), eventlog.Start(), eventlog.ReadOptions{Limit: 10_000})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) > 0 && all[len(all)-1].Position.Compare(svc.App.Written()) >= 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the log does not show this service's writes after 30 s")
		}
	}
}
