package service_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/erasure"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
	"github.com/helpstream/helpstream/internal/verify"
	"github.com/helpstream/helpstream/projections"
)

// customer is one person whose data the test follows.
type customer struct {
	name, email, ip, phrase, note, fileName string
	fileBody                                []byte
	request                                 uuid.UUID
	file                                    uuid.UUID
}

// TestEraseCustomer writes two customers' requests with a master key, erases one, and checks
// that nothing of that one remains in any table of the database or in the files directory
// after every read model was rebuilt from the start of the log, while the other's data is
// intact; and that the log verifies before and after, without a key.
func TestEraseCustomer(t *testing.T) {
	master, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	svc := servicetest.New(t, func(c *service.Config) { c.MasterKey = master })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	admin := app.Meta{Actor: app.Admin, CorrelationID: "erase-test"}
	company, portal, tech := uuid.New(), uuid.New(), uuid.New()
	must := func(_ app.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Initech"}))
	must(svc.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Initech Help"}))
	must(svc.Accounts.RegisterTechnicianWithPassword(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Dana Scully", Email: "dana@example.com"}, "correct horse"))
	must(svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company}))
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	must(svc.App.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available}))

	ada := &customer{name: "Ada Lovelace", email: "Ada.Lovelace@example.com", ip: "192.0.2.77", phrase: "purple elephants sing at dawn",
		note: "calls herself countess of analytics", fileName: "lovelace-engine-notes.txt", fileBody: []byte("bernoulli numbers by Ada Lovelace")}
	bob := &customer{name: "Bob Keeper", email: "bob.keeper@example.net", ip: "198.51.100.23", phrase: "green giraffes dance at noon",
		note: "prefers phone calls on tuesdays", fileName: "keeper-invoice.txt", fileBody: []byte("invoice for Bob Keeper")}
	for _, c := range []*customer{ada, bob} {
		c.request, c.file = uuid.New(), uuid.New()
		customerMeta := app.Meta{Actor: app.Actor{Kind: "customer", ID: c.request}}
		must(svc.App.SubmitRequest(ctx, customerMeta, app.SubmitRequest{RequestID: c.request, PortalID: portal, CompanyID: company,
			Customer: request.Customer{Name: c.name, Email: c.email}, Description: "Printer trouble",
			Source: request.Source{IP: c.ip, Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}))
		must(svc.App.AssignToMe(ctx, techMeta, c.request))
		must(svc.App.JoinChat(ctx, techMeta, c.request))
		must(svc.App.SendCustomerMessage(ctx, customerMeta, c.request, uuid.New(), c.phrase))
		must(svc.App.SendTechnicianMessage(ctx, techMeta, c.request, uuid.New(), "On it."))
		must(svc.App.AddNote(ctx, techMeta, c.request, uuid.New(), c.note))
		must(svc.App.ShareCustomerFile(ctx, customerMeta, app.Upload{RequestID: c.request, FileID: c.file, Name: c.fileName, Content: bytes.NewReader(c.fileBody)}))
	}
	waitProjected(t, svc)

	secrets := func(c *customer) []string {
		return []string{c.name, strings.ToLower(c.email), c.email, c.ip, c.phrase, c.note, c.fileName, string(c.fileBody)}
	}
	// Sealed at rest: the log's table holds none of it, while the read models show it.
	for _, s := range secrets(ada) {
		if found := scanDatabase(t, svc, s); len(found) == 0 && s != string(ada.fileBody) {
			t.Fatalf("before the erasure, %q is in no table: the scan finds nothing", s)
		} else if hit := inLogTable(found); hit != "" {
			t.Errorf("%q is in the event log's table in clear: %s", s, hit)
		}
	}
	// The files' bytes are sealed too: none of them is in the files directory in the clear,
	// and each downloads as it was shared.
	for _, c := range []*customer{ada, bob} {
		if found := scanFiles(t, svc.Files.Dir(), string(c.fileBody)); len(found) > 0 {
			t.Errorf("%s's file is in the clear in %v", c.name, found)
		}
		if got := download(t, svc, tech, c); !bytes.Equal(got, c.fileBody) {
			t.Errorf("%s's file downloads as %q", c.name, got)
		}
	}
	details, err := svc.Store.ReadStream(ctx, request.Stream(ada.request), 0, eventlog.ReadOptions{})
	if err != nil || len(details) == 0 || !bytes.Contains(details[0].Data, []byte(ada.name)) {
		t.Fatalf("the reader does not open the submission: %v %s", err, details[0].Data)
	}
	verifyLog(t, svc)

	if _, err := svc.EraseCustomer(ctx, "nobody@example.com", "asked", "admin"); !errors.Is(err, privacy.ErrNoSuchCustomer) {
		t.Fatalf("erasing an unknown customer: %v", err)
	}
	if _, err := svc.EraseCustomer(ctx, ada.email, "", "admin"); !errors.Is(err, erasure.ErrNoReason) {
		t.Fatalf("erasing without a reason: %v", err)
	}
	x, err := svc.EraseCustomer(ctx, "  "+strings.ToUpper(ada.email)+" ", "GDPR art. 17 request #12", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Requests) != 1 || x.Requests[0] != ada.request || x.FilesDeleted != 1 || len(x.Rebuilt) != len(svc.ReadModels) {
		t.Fatalf("erasure: %+v", x)
	}
	if _, err := svc.EraseCustomer(ctx, ada.email, "again", "admin"); !errors.Is(err, privacy.ErrNoSuchCustomer) {
		t.Fatalf("erasing twice: %v", err)
	}
	waitProjected(t, svc)

	for _, s := range secrets(ada) {
		if found := scanDatabase(t, svc, s); len(found) > 0 {
			t.Errorf("after the erasure, %q is still in %s", s, strings.Join(found, ", "))
		}
		if found := scanFiles(t, svc.Files.Dir(), s); len(found) > 0 {
			t.Errorf("after the erasure, %q is still in the files %s", s, strings.Join(found, ", "))
		}
	}
	for _, s := range []string{bob.name, bob.phrase, bob.note, bob.fileName} {
		if found := scanDatabase(t, svc, s); len(found) == 0 {
			t.Errorf("the other customer's %q is gone from every table", s)
		}
	}
	if got := download(t, svc, tech, bob); !bytes.Equal(got, bob.fileBody) {
		t.Errorf("the other customer's file reads %q after the erasure", got)
	}
	if _, err := svc.Queries.OpenFile(ctx, app.Viewer{TechnicianID: tech}, ada.request, ada.file); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("the erased customer's file: %v, want not found", err)
	}

	// Timings, states and counts stay; the personal fields read as erased.
	events, err := svc.Store.ReadStream(ctx, request.Stream(ada.request), 0, eventlog.ReadOptions{})
	if err != nil || len(events) != 7 {
		t.Fatalf("the erased request's stream: %v, %d events", err, len(events))
	}
	submitted, err := request.Codec().Decode(events[0].Type, events[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if s := submitted.(*request.Submitted); s.Customer.Name != privacy.Erased || s.Customer.Email != privacy.Erased || s.Source.IP != privacy.Erased || s.Description != "Printer trouble" {
		t.Errorf("the erased submission reads %+v", s)
	}
	d, err := svc.Queries.RequestDetails(ctx, app.Viewer{TechnicianID: tech}, ada.request)
	if err != nil {
		t.Fatal(err)
	}
	if d.Customer.Name != privacy.Erased || d.Customer.Email != privacy.Erased || d.Status != request.StatusActive {
		t.Errorf("the details after the erasure: customer %+v, status %q", d.Customer, d.Status)
	}
	report := verifyLog(t, svc)
	if report.Unfolded[erasure.StreamPrefix] != 0 {
		t.Errorf("the audit does not fold the erasure stream: %+v", report.Unfolded)
	}

	// A stream forwarder started after the erasure replays the whole log to the broker (NATS
	// JetStream): none of its messages carries the erased customer's data.
	forwardEverything(t, svc, func(payloads []byte) {
		for _, s := range secrets(ada) {
			if bytes.Contains(bytes.ToLower(payloads), bytes.ToLower([]byte(s))) {
				t.Errorf("a message published after the erasure carries %q", s)
			}
		}
		for _, s := range []string{bob.name, bob.phrase, bob.note, bob.fileName} {
			if !bytes.Contains(payloads, []byte(s)) {
				t.Errorf("the other customer's %q is in no message", s)
			}
		}
	})

	// The erased customer's open request goes on: what is written now is erased at once.
	must(svc.App.SendCustomerMessage(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: ada.request}}, ada.request, uuid.New(), "one more purple thing"))
	waitProjected(t, svc)
	if found := scanDatabase(t, svc, "one more purple thing"); len(found) > 0 {
		t.Errorf("a message after the erasure is kept in %v", found)
	}
	verifyLog(t, svc)
}

func waitProjected(t *testing.T, svc *service.Service) {
	t.Helper()
	names := make([]string, 0, len(svc.ReadModels))
	for _, p := range svc.ReadModels {
		names = append(names, p.Name())
	}
	ok, err := projections.WaitFor(context.Background(), svc.Pool, names, svc.App.Written(), 30*time.Second)
	if err != nil || !ok {
		t.Fatalf("the read models did not catch up: %v", err)
	}
}

func verifyLog(t *testing.T, svc *service.Service) verify.Report {
	t.Helper()
	report, err := verify.Log(context.Background(), verify.Config{Store: privacy.Unwrap(svc.Store)})
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("audit verify: %+v", report.Findings)
	}
	return report
}

// scanDatabase returns "table.column" for every column of the database's own tables whose
// text form holds s (case-insensitively for text; exactly for bytes).
func scanDatabase(t *testing.T, svc *service.Service, s string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := svc.Pool.Query(ctx, `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%'
		  AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'ARRAY', 'USER-DEFINED')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ schema, table, name, typ string }
	columns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		return c, r.Scan(&c.schema, &c.table, &c.name, &c.typ)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(columns) < 20 {
		t.Fatalf("the scan sees only %d columns", len(columns))
	}
	var found []string
	for _, c := range columns {
		ref := pgx.Identifier{c.schema, c.table}.Sanitize() + "." + pgx.Identifier{c.name}.Sanitize()
		query := `SELECT count(*) FROM ` + pgx.Identifier{c.schema, c.table}.Sanitize() + ` WHERE strpos(lower(` + ref + `::text), lower($1)) > 0`
		if c.typ == "bytea" {
			query = `SELECT count(*) FROM ` + pgx.Identifier{c.schema, c.table}.Sanitize() + ` WHERE position(convert_to($1, 'UTF8') in ` + ref + `) > 0`
		}
		var n int
		if err := svc.Pool.QueryRow(ctx, query, s).Scan(&n); err != nil {
			t.Fatalf("scan %s: %v", ref, err)
		}
		if n > 0 {
			found = append(found, c.schema+"."+c.table+"."+c.name)
		}
	}
	return found
}

// inLogTable returns the first of found that is the event log's own table, "" if none.
func inLogTable(found []string) string {
	for _, f := range found {
		if strings.HasPrefix(f, "public.events.") {
			return f
		}
	}
	return ""
}

// scanFiles returns the files under dir whose bytes or name hold s.
func scanFiles(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.Contains(strings.ToLower(path), strings.ToLower(s)) {
			found = append(found, path)
			return nil
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(bytes.ToLower(b), bytes.ToLower([]byte(s))) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// forwardEverything forwards the whole log through a stream forwarder of a new name to a new
// topic of the machine's NATS JetStream, receives every message, and hands check their
// payloads and metadata, joined.
func forwardEverything(t *testing.T, svc *service.Service, check func(payloads []byte)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	natsURL := os.Getenv("HELPSTREAM_TEST_NATS_URL")
	if natsURL == "" {
		natsURL = "nats://127.0.0.1:4222"
	}
	topic := "helpstream_erasure_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	if err := stream.EnsureNATSTopic(ctx, natsURL, topic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { streamtest.DeleteNATSTopic(t, natsURL, topic) })
	publisher, err := stream.NewNATSPublisher(natsURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer publisher.Close()
	all, err := svc.Store.ReadAll(ctx, eventlog.Position{}, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	messages := streamtest.Subscribe(t, ctx, topic, func() (message.Subscriber, error) {
		return stream.NewNATSSubscriber(natsURL, "erasure-test", slog.New(slog.DiscardHandler))
	})
	forwarder, err := stream.NewForwarder(stream.Config{Name: "erasure-" + uuid.NewString()[:8], Topic: topic, Pool: svc.Pool,
		Store: svc.Store, Publisher: publisher, LeaderRetry: 100 * time.Millisecond, RetryDelay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = forwarder.Run(runCtx) }()
	defer func() { stop(); <-done }()
	var payloads bytes.Buffer
	seen := map[string]bool{}
	for len(seen) < len(all) {
		select {
		case m := <-messages:
			m.Ack()
			seen[m.UUID] = true
			payloads.Write(m.Payload)
			for k, v := range m.Metadata {
				payloads.WriteString(k + "=" + v + "\n")
			}
		case <-ctx.Done():
			t.Fatalf("received %d of the log's %d events from the broker", len(seen), len(all))
		}
	}
	check(payloads.Bytes())
}

// download reads c's shared file as the technician does.
func download(t *testing.T, svc *service.Service, tech uuid.UUID, c *customer) []byte {
	t.Helper()
	f, err := svc.Queries.OpenFile(context.Background(), app.Viewer{TechnicianID: tech}, c.request, c.file)
	if err != nil {
		t.Fatalf("download %s's file: %v", c.name, err)
	}
	defer f.Content.Close()
	b, err := io.ReadAll(f.Content)
	if err != nil {
		t.Fatalf("read %s's file: %v", c.name, err)
	}
	return b
}

// An erasure by key (the retention manager's) is idempotent per erasure ID: one that died
// after destroying the key is finished by its retry, files and event included, and a retry
// after it finished writes nothing; another erasure of a key destroyed already is skipped.
func TestEraseKeysIsIdempotent(t *testing.T) {
	master, err := privacy.NewMasterKeyText()
	if err != nil {
		t.Fatal(err)
	}
	svc := servicetest.New(t, func(c *service.Config) { c.MasterKey = master })
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	company, portal, req, file, tech := uuid.New(), uuid.New(), uuid.New(), uuid.New(), uuid.New()
	techMeta := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	for _, step := range []func() (app.Result, error){
		func() (app.Result, error) {
			return svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Initech"})
		},
		func() (app.Result, error) {
			return svc.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"})
		},
		func() (app.Result, error) {
			return svc.App.SubmitRequest(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}}, app.SubmitRequest{RequestID: req, PortalID: portal,
				CompanyID: company, Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "d",
				Source: request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}})
		},
		func() (app.Result, error) {
			return svc.Accounts.RegisterTechnicianWithPassword(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Dana", Email: "dana@example.com"}, "correct horse")
		},
		func() (app.Result, error) {
			return svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company})
		},
		func() (app.Result, error) {
			return svc.App.SetAvailability(ctx, techMeta, app.SetAvailability{TechnicianID: tech, Availability: directory.Available})
		},
		func() (app.Result, error) { return svc.App.AssignToMe(ctx, techMeta, req) },
		func() (app.Result, error) { return svc.App.JoinChat(ctx, techMeta, req) },
		func() (app.Result, error) {
			return svc.App.ShareCustomerFile(ctx, app.Meta{Actor: app.Actor{Kind: "customer", ID: req}},
				app.Upload{RequestID: req, FileID: file, Name: "a.txt", Content: strings.NewReader("bytes of Ada")})
		},
	} {
		if _, err := step(); err != nil {
			t.Fatal(err)
		}
	}
	held, err := svc.Keys.CustomerRequests(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	erasures := func() int {
		all, err := privacy.Unwrap(svc.Store).ReadAll(ctx, eventlog.Position{}, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range all {
			if e.Type == (&erasure.CustomerErased{}).EventType() {
				n++
			}
		}
		return n
	}
	first := service.KeyErasure{ErasureID: uuid.New(), KeyID: held.KeyID, Reason: "retention: test"}
	// Died after destroying the key: the retry finishes the work.
	if _, _, err := svc.Keys.DestroyKey(ctx, first.KeyID, first.ErasureID); err != nil {
		t.Fatal(err)
	}
	done, err := svc.EraseKeys(ctx, []service.KeyErasure{first}, "system")
	if err != nil || len(done) != 1 || done[0].FilesDeleted != 1 || len(done[0].Rebuilt) != len(svc.ReadModels) || erasures() != 1 {
		t.Fatalf("the retried erasure: %+v, %v, %d events", done, err, erasures())
	}
	if found := scanFiles(t, svc.Files.Dir(), file.String()); len(found) > 0 {
		t.Errorf("the file is still there: %v", found)
	}
	// Retried again, and another erasure of the same key: nothing more.
	again, err := svc.EraseKeys(ctx, []service.KeyErasure{first, {ErasureID: uuid.New(), KeyID: held.KeyID, Reason: "retention: other"}}, "system")
	if err != nil || len(again) != 1 || erasures() != 1 {
		t.Fatalf("erasing again: %+v, %v, %d events", again, err, erasures())
	}
	verifyLog(t, svc)
}
