package main

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
)

// `helpstream admin erase-customer`: the customer's fields are sealed in the log, the command
// erases them and their file, refuses what is wrong, and `audit verify` (no key) passes before
// and after; `projections rebuild` with the key opens the other fields.
func TestAdminEraseCustomer(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	ctx := context.Background()
	dir := t.TempDir()
	keyFile, files := filepath.Join(dir, "master.key"), filepath.Join(dir, "files")
	master, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, []byte(master+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(ctx, service.Config{DatabaseURL: url, PoolSize: 4, FilesDir: files, MasterKey: master})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	company, portal, req, file := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	must := func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.App.CreateCompany(ctx, adminMeta(), app.CreateCompany{CompanyID: company, Name: "Initech"}))
	must(svc.App.CreatePortal(ctx, adminMeta(), app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"}))
	customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}
	must(svc.App.SubmitRequest(ctx, customer, app.SubmitRequest{RequestID: req, PortalID: portal, CompanyID: company,
		Customer: request.Customer{Name: "Grace Hopper", Email: "grace@example.com"}, Description: "Compiler bug",
		Source: request.Source{IP: "192.0.2.9", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}))
	tech := uuid.New()
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	must(svc.App.RegisterTechnician(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: tech, Name: "Dana Scully", Email: "dana@example.com"}))
	must(svc.App.GrantAccess(ctx, adminMeta(), app.GrantAccess{TechnicianID: tech, CompanyID: company}))
	must(svc.App.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available}))
	must(svc.App.AssignToMe(ctx, techMeta, req))
	must(svc.App.JoinChat(ctx, techMeta, req))
	must(svc.App.ShareCustomerFile(ctx, customer, app.Upload{RequestID: req, FileID: file, Name: "moth.txt", Content: strings.NewReader("first actual bug")}))

	raw, err := privacy.Unwrap(svc.Store).ReadStream(ctx, request.Stream(req), 0, eventlog.ReadOptions{})
	if err != nil || len(raw) != 4 || bytes.Contains(raw[0].Data, []byte("Grace")) || !bytes.Contains(raw[0].Data, []byte(`"name":"enc:v1:`)) ||
		!bytes.Contains(raw[3].Data, []byte(`"name":"enc:v1:`)) || !bytes.Contains(raw[0].Data, []byte("Compiler bug")) {
		t.Fatalf("the log as stored: %v\n%+v", err, raw)
	}
	// Another server's reader, with a clock the test moves: it has the key cached.
	now := time.Now()
	otherKeys, err := privacy.NewKeys(privacy.KeysConfig{Pool: svc.Pool, Master: mustMaster(t, master), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	other := privacy.Reader(privacy.Unwrap(svc.Store), otherKeys)
	if opened, err := other.ReadStream(ctx, request.Stream(req), 0, eventlog.ReadOptions{}); err != nil || !bytes.Contains(opened[0].Data, []byte("Grace Hopper")) {
		t.Fatalf("the other server's reader: %v", err)
	}
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--database-url", url), &out)
		return strings.TrimSpace(out.String()), err
	}
	if out, err := cli("audit", "verify"); err != nil || !strings.Contains(out, "OK: no findings") {
		t.Fatalf("audit verify before: %v\n%s", err, out)
	}
	// A master key of another deployment: commands refuse it rather than misread the log.
	otherKey := filepath.Join(dir, "other.key")
	newKey := func() (string, error) {
		var out bytes.Buffer
		err := run(ctx, []string{"master-key", "--out", otherKey}, &out)
		return out.String(), err
	}
	if out, err := newKey(); err != nil || !strings.Contains(out, "wrote a new master key") {
		t.Fatalf("master-key: %v %q", err, out)
	}
	if _, err := newKey(); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("master-key over an existing file: %v", err)
	}
	if info, err := os.Stat(otherKey); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the new master key's file: %v", err)
	}
	// Subject access first: everything held, opened, with the file.
	archive := filepath.Join(dir, "grace.zip")
	if out, err := cli("admin", "export-customer", "--files-dir", files, "--master-key-file", keyFile, "--email", "Grace@example.com", "--out", archive); err != nil ||
		!strings.Contains(out, "1 request(s), 1 file(s)") {
		t.Fatalf("export: %v %s", err, out)
	}
	zr, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string]string{}
	for _, f := range zr.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		contents[f.Name] = string(b)
	}
	zr.Close()
	if doc := contents["customer.json"]; !strings.Contains(doc, "Grace Hopper") || !strings.Contains(doc, "192.0.2.9") || !strings.Contains(doc, "moth.txt") || strings.Contains(doc, "enc:v1:") {
		t.Errorf("customer.json: %s", doc)
	}
	if got := contents["files/"+req.String()+"/"+file.String()]; got != "first actual bug" {
		t.Errorf("the file in the archive: %q (archive holds %d entries)", got, len(contents))
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--email", "grace@example.com", "--out", archive}, "exists"},
		{[]string{"--email", "grace@example.com"}, "--out is required"},
		{[]string{"--out", filepath.Join(dir, "x.zip")}, "--email is required"},
		{[]string{"--email", "nobody@example.com", "--out", filepath.Join(dir, "nobody.zip")}, "no customer with that e-mail"},
	} {
		if _, err := cli(append([]string{"admin", "export-customer", "--files-dir", files, "--master-key-file", keyFile}, bad.args...)...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("export %q: %v, want %q", bad.args, err, bad.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nobody.zip")); !os.IsNotExist(err) {
		t.Errorf("a refused export left a file: %v", err)
	}

	steps := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{[]string{"--email", "grace@example.com", "--reason", "asked"}, "", "give its master key"}, // no key given
		{[]string{"--master-key-file", otherKey, "--email", "grace@example.com", "--reason", "asked"}, "", "does not open this database's data keys"},
		{[]string{"--master-key-file", keyFile, "--reason", "asked"}, "", "--email is required"},
		{[]string{"--master-key-file", keyFile, "--email", "grace@example.com"}, "", "needs a reason"},
		{[]string{"--master-key-file", keyFile, "--email", "grace@example.com", "--reason", "two\nlines"}, "", "one line"},
		{[]string{"--master-key-file", keyFile, "--email", "not an address", "--reason", "asked"}, "", "e-mail"},
		{[]string{"--master-key-file", filepath.Join(dir, "missing.key"), "--email", "grace@example.com", "--reason", "asked"}, "", "--master-key-file"},
		{[]string{"--master-key-file", keyFile, "--email", " GRACE@example.com", "--reason", "GDPR art. 17, ticket 7"}, "1 request(s), 1 file(s) deleted", ""},
		{[]string{"--master-key-file", keyFile, "--email", "grace@example.com", "--reason", "again"}, "", "no customer with that e-mail"},
	}
	for _, s := range steps {
		out, err := cli(append([]string{"admin", "erase-customer", "--files-dir", files}, s.args...)...)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%q: error %v, want one saying %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Fatalf("%q: %v", s.args, err)
		case !strings.Contains(out, s.wantOut):
			t.Fatalf("%q: output %q lacks %q", s.args, out, s.wantOut)
		}
	}
	if _, err := os.Stat(filepath.Join(files, req.String(), file.String())); !os.IsNotExist(err) {
		t.Errorf("the customer's file is still there: %v", err)
	}
	if out, err := cli("audit", "verify"); err != nil || !strings.Contains(out, "OK: no findings") {
		t.Fatalf("audit verify after: %v\n%s", err, out)
	}
	if _, err := cli("admin", "export-customer", "--files-dir", files, "--master-key-file", keyFile, "--email", "grace@example.com", "--out", filepath.Join(dir, "after.zip")); err == nil ||
		!strings.Contains(err.Error(), "no customer with that e-mail") {
		t.Errorf("export after the erasure: %v", err)
	}
	// The other server stops opening the fields once its cached key expires.
	if opened, err := other.ReadStream(ctx, request.Stream(req), 0, eventlog.ReadOptions{}); err != nil || !bytes.Contains(opened[0].Data, []byte("Grace Hopper")) {
		t.Fatalf("within the TTL, the other server's cached key: %v", err)
	}
	now = now.Add(privacy.DefaultKeyTTL)
	opened, err := other.ReadStream(ctx, request.Stream(req), 0, eventlog.ReadOptions{})
	if err != nil || !bytes.Contains(opened[0].Data, []byte(`"name":"[erased]"`)) || !bytes.Contains(opened[3].Data, []byte(`"name":"[erased]"`)) {
		t.Fatalf("the erased request reads: %v\n%+v", err, opened)
	}
}

func mustMaster(t *testing.T, text string) privacy.MasterKey {
	t.Helper()
	key, err := privacy.ParseMasterKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
