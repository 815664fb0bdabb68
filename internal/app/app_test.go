package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// world is an App on a fresh PostgreSQL database with one company, its portal and technicians.
type world struct {
	pool      *pgxpool.Pool
	app       *app.App
	store     eventlog.Store
	files     *filestore.Local
	companyID uuid.UUID
	portalID  uuid.UUID
	techs     []uuid.UUID
}

func newWorld(t *testing.T, technicians int, options ...servicetest.Option) *world {
	t.Helper()
	svc := servicetest.New(t, append([]servicetest.Option{func(c *service.Config) { c.MaxFileSize = 1024 }}, options...)...)
	a := svc.App
	w := &world{pool: svc.Pool, app: a, store: svc.Store, files: svc.Files, companyID: uuid.New(), portalID: uuid.New()}
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	must(t, func() (app.Result, error) {
		return a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.companyID, Name: "Acme"})
	})
	must(t, func() (app.Result, error) {
		return a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.companyID, PortalID: w.portalID, Name: "Help"})
	})
	for i := range technicians {
		id := uuid.New()
		w.techs = append(w.techs, id)
		must(t, func() (app.Result, error) {
			return a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: fmt.Sprintf("Tech %02d", i), Email: fmt.Sprintf("tech%d@example.com", i)})
		})
		must(t, func() (app.Result, error) {
			return a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: w.companyID})
		})
		must(t, func() (app.Result, error) {
			return a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: "available"})
		})
	}
	return w
}

func must(t *testing.T, f func() (app.Result, error)) app.Result {
	t.Helper()
	res, err := f()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func tech(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }

func customer(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "customer", ID: id}} }

func (w *world) submit(t *testing.T, platform request.Platform) uuid.UUID {
	t.Helper()
	id := uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.SubmitRequest(context.Background(), customer(id), app.SubmitRequest{
			RequestID: id, PortalID: w.portalID, CompanyID: w.companyID,
			Customer:    request.Customer{Name: "Ada", Email: "ada@example.com"},
			Description: "The printer is on fire", Source: request.Source{Platform: platform},
		})
	})
	return id
}

func countType(t *testing.T, store eventlog.Store, requestID uuid.UUID, eventType string) int {
	t.Helper()
	events, err := store.ReadStream(context.Background(), request.Stream(requestID), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Type == eventType {
			n++
		}
	}
	return n
}

// concurrently runs f(0) to f(n-1) in goroutines released together, and fails the test with
// every error they return once all are done.
func concurrently(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// sendCustomerMessages has the request's customer send n chat messages at once through a, and
// fails the test if any is refused.
func sendCustomerMessages(t *testing.T, a *app.App, requestID uuid.UUID, n int) {
	t.Helper()
	concurrently(t, n, func(i int) error {
		_, err := a.SendCustomerMessage(context.Background(), customer(requestID), requestID, uuid.New(), fmt.Sprintf("message %d", i))
		return err
	})
}

// 64 technicians race for the same requests: exactly one assignment each, and every loser is
// told who won (R6).
func TestAssignRaceHasExactlyOneWinner(t *testing.T) {
	w := newWorld(t, 64)
	ctx := context.Background()
	for round := range 5 {
		requestID := w.submit(t, request.Windows)
		winners := make(chan uuid.UUID, len(w.techs))
		losers := make(chan uuid.UUID, len(w.techs))
		concurrently(t, len(w.techs), func(i int) error {
			id := w.techs[i]
			_, err := w.app.AssignToMe(ctx, tech(id), requestID)
			var assigned *request.AlreadyAssignedError
			switch {
			case err == nil:
				winners <- id
			case errors.As(err, &assigned):
				losers <- assigned.Assignee
			default:
				return fmt.Errorf("round %d: unexpected error: %w", round, err)
			}
			return nil
		})
		close(winners)
		close(losers)
		if len(winners) != 1 {
			t.Fatalf("round %d: %d winners, want exactly 1", round, len(winners))
		}
		winner := <-winners
		if len(losers) != len(w.techs)-1 {
			t.Fatalf("round %d: %d losers, want %d", round, len(losers), len(w.techs)-1)
		}
		for named := range losers {
			if named != winner {
				t.Fatalf("round %d: a loser was told %s holds it, the winner is %s", round, named, winner)
			}
		}
		if n := countType(t, w.store, requestID, "request.assigned.v1"); n != 1 {
			t.Fatalf("round %d: %d assigned events, want 1", round, n)
		}
	}
}

// Chat messages commute: concurrent senders all land, none lost, none doubled.
func TestConcurrentMessagesAllLand(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	requestID := w.submit(t, request.Windows)
	const senders = 32
	sendCustomerMessages(t, w.app, requestID, senders)
	if n := countType(t, w.store, requestID, "request.message_sent.v1"); n != senders {
		t.Fatalf("%d messages stored, want %d", n, senders)
	}
	history, err := w.app.Queries().History(ctx, requestID)
	if err != nil {
		t.Fatalf("hash chain of a contended stream: %v", err)
	}
	if len(history) != senders+1 {
		t.Fatalf("history has %d events, want %d", len(history), senders+1)
	}
}

// The same idempotency key twice writes once and answers the first result.
func TestIdempotencyKeyWritesOnce(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	requestID := w.submit(t, request.Windows)
	meta := customer(requestID)
	meta.IdempotencyKey = "key-1"
	first, err := w.app.SendCustomerMessage(ctx, meta, requestID, uuid.New(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.app.SendCustomerMessage(ctx, meta, requestID, uuid.New(), "hello")
	if err != nil {
		t.Fatal(err)
	}
	if first.Position != second.Position || first.Version != second.Version {
		t.Fatalf("retry answered %+v, first was %+v", second, first)
	}
	if n := countType(t, w.store, requestID, "request.message_sent.v1"); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}
	meta.IdempotencyKey = "key-2"
	if _, err := w.app.SendCustomerMessage(ctx, meta, requestID, uuid.New(), "hello again"); err != nil {
		t.Fatal(err)
	}
	if n := countType(t, w.store, requestID, "request.message_sent.v1"); n != 2 {
		t.Fatalf("%d messages stored after a new key, want 2", n)
	}
}

// A command run again with the same identity (actor, command, key), as after a crash between
// its append and its answer, answers the first attempt's result and writes nothing, even where
// deciding again on the changed state would refuse it (assign a request assigned to oneself).
// The same key with another command is another command.
func TestCommandRetriedAfterItsAnswerWasLost(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	tech := app.Actor{Kind: "technician", ID: w.techs[0]}
	requestID := w.submit(t, request.Windows)
	assign := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/assign fp"}
	first := must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, assign, requestID) })
	// Decided again, the assign would be refused: the request is the technician's already.
	var assigned *request.AlreadyAssignedError
	if _, err := w.app.AssignToMe(ctx, app.Meta{Actor: tech}, requestID); !errors.As(err, &assigned) {
		t.Fatalf("assign again without a key: %v, want *request.AlreadyAssignedError", err)
	}
	again, err := w.app.AssignToMe(ctx, assign, requestID)
	if err != nil || again != first {
		t.Fatalf("assign retried = %+v, %v; want the first answer %+v", again, err, first)
	}

	// The same key on another command runs it, and a retry of that one is recognised too.
	join := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/join fp"}
	joined := must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, join, requestID) })
	if !joined.Written || joined.Version != 2 {
		t.Fatalf("join with a reused key = %+v, want written at version 2", joined)
	}
	msg := app.Meta{Actor: tech, IdempotencyKey: "k", Command: "POST /api/v1/requests/x/messages fp"}
	sent := must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, msg, requestID, msg.NewID("text"), "hello")
	})
	resent := must(t, func() (app.Result, error) {
		return w.app.SendTechnicianMessage(ctx, msg, requestID, msg.NewID("text"), "hello")
	})
	if resent != sent {
		t.Fatalf("message retried = %+v, want the first answer %+v", resent, sent)
	}
	events, err := w.store.ReadStream(ctx, request.Stream(requestID), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	want := []string{"request.submitted.v1", "request.assigned.v1", "request.chat_joined.v1", "request.message_sent.v1"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", types, want)
	}
}

// R2: outside their companies a request does not exist for a technician.
func TestRequestOfAnotherCompanyIsNotFound(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	requestID := w.submit(t, request.Windows)
	outsider := uuid.New()
	must(t, func() (app.Result, error) {
		return w.app.RegisterTechnician(ctx, app.Meta{Actor: app.Admin}, app.RegisterTechnician{TechnicianID: outsider, Name: "Out", Email: "out@example.com"})
	})
	must(t, func() (app.Result, error) {
		return w.app.SetAvailability(ctx, tech(outsider), app.SetAvailability{TechnicianID: outsider, Availability: "available"})
	})
	commands := map[string]func() (app.Result, error){
		"assign": func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(outsider), requestID) },
		"note":   func() (app.Result, error) { return w.app.AddNote(ctx, tech(outsider), requestID, uuid.New(), "hi") },
		"join":   func() (app.Result, error) { return w.app.JoinChat(ctx, tech(outsider), requestID) },
		"close":  func() (app.Result, error) { return w.app.Close(ctx, tech(outsider), requestID) },
		"details": func() (app.Result, error) {
			_, err := w.app.Queries().RequestDetails(ctx, app.Viewer{TechnicianID: outsider}, requestID)
			return app.Result{}, err
		},
	}
	for name, run := range commands {
		if _, err := run(); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("%s by a technician without access: %v, want ErrNotFound", name, err)
		}
	}
	page, err := w.app.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: outsider})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 0 {
		t.Fatalf("outsider lists %d requests, want 0", page.Total)
	}
}

// A refused upload leaves neither an event nor a stored file.
func TestRefusedUploadsChangeNothing(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	requestID := w.submit(t, request.Windows)
	me := tech(w.techs[0])
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, me, requestID) })
	must(t, func() (app.Result, error) { return w.app.JoinChat(ctx, me, requestID) })
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	cases := []struct {
		name    string
		file    string
		content []byte
		want    func(error) bool
	}{
		{"too large", "big.png", append(png, bytes.Repeat([]byte{1}, 2048)...), func(err error) bool { return errors.Is(err, app.ErrFileTooLarge) }},
		{"renamed text", "fake.png", []byte("just text, not a picture"), func(err error) bool {
			var m *app.ContentMismatchError
			return errors.As(err, &m)
		}},
		{"forbidden type", "tool.exe", []byte("MZ\x90\x00"), func(err error) bool { return errors.Is(err, request.ErrFileTypeNotAllowed) }},
		{"empty", "empty.txt", nil, func(err error) bool { return errors.Is(err, app.ErrEmptyFile) }},
	}
	for _, c := range cases {
		fileID := uuid.New()
		_, err := w.app.ShareTechnicianFile(ctx, me, app.Upload{RequestID: requestID, FileID: fileID, Name: c.file, Content: bytes.NewReader(c.content)})
		if !c.want(err) {
			t.Errorf("%s: got %v", c.name, err)
		}
		if _, err := w.files.Open(ctx, requestID, fileID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("%s: the refused file was kept (%v)", c.name, err)
		}
	}
	if n := countType(t, w.store, requestID, "request.file_shared.v1"); n != 0 {
		t.Fatalf("%d files shared, want 0", n)
	}
	fileID := uuid.New()
	if _, err := w.app.ShareTechnicianFile(ctx, me, app.Upload{RequestID: requestID, FileID: fileID, Name: "ok.png", Content: bytes.NewReader(png)}); err != nil {
		t.Fatal(err)
	}
	f, err := w.app.Queries().OpenFile(ctx, app.Viewer{CustomerOf: requestID}, requestID, fileID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Content.Close()
	if f.ContentType != "image/png" || f.Size != int64(len(png)) || len(f.SHA256) != 64 {
		t.Fatalf("shared file: %+v", f)
	}
}

// The list follows R2 and R3: views, availability, My Support Requests.
func TestListViews(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	first, second, third := w.submit(t, request.Windows), w.submit(t, request.Mac), w.submit(t, request.IOS)
	alice, bob := w.techs[0], w.techs[1]
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(alice), second) })
	must(t, func() (app.Result, error) { return w.app.AssignToMe(ctx, tech(alice), third) })
	must(t, func() (app.Result, error) { return w.app.Close(ctx, tech(alice), third) })
	ids := func(q app.ListRequests) []uuid.UUID {
		t.Helper()
		page, err := w.app.Queries().ListRequests(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []uuid.UUID
		for _, r := range page.Requests {
			out = append(out, r.ID)
		}
		return out
	}
	check := func(name string, got []uuid.UUID, want ...uuid.UUID) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	check("all by submitted", ids(app.ListRequests{TechnicianID: bob}), first, second, third)
	check("all newest first", ids(app.ListRequests{TechnicianID: bob, Descending: true}), third, second, first)
	check("new", ids(app.ListRequests{TechnicianID: bob, View: app.ViewNew}), first)
	check("active", ids(app.ListRequests{TechnicianID: bob, View: app.ViewActive}), second)
	check("completed", ids(app.ListRequests{TechnicianID: bob, View: app.ViewCompleted}), third)
	check("mine", ids(app.ListRequests{TechnicianID: alice, MineOnly: true}), second)
	firstPage, err := w.app.Queries().ListRequests(ctx, app.ListRequests{TechnicianID: bob, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	check("paged", ids(app.ListRequests{TechnicianID: bob, Limit: 1, Cursor: firstPage.NextCursor}), second)
	must(t, func() (app.Result, error) {
		return w.app.SetAvailability(ctx, tech(bob), app.SetAvailability{TechnicianID: bob, Availability: "away"})
	})
	check("away hides new", ids(app.ListRequests{TechnicianID: bob}), second, third)
	for _, bad := range []app.ListRequests{{TechnicianID: bob, View: "old"}, {TechnicianID: bob, Sort: "colour"}, {TechnicianID: bob, Limit: 500}} {
		if _, err := w.app.Queries().ListRequests(ctx, bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
