package requestdetails_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/readmodels"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections/requestdetails"
)

// world is an App on a real event store (queries folded from streams: the reference), the
// details projection fed from the same log, and its read model.
type world struct {
	t        *testing.T
	pool     *pgxpool.Pool
	store    *pgstore.Store
	app      *app.App
	rm       *readmodels.Details
	pos      eventlog.Position
	written  eventlog.Position // the furthest position a command of the test wrote
	rng      *rand.Rand
	company  uuid.UUID
	portal   uuid.UUID
	me       uuid.UUID // Available, access
	busy     uuid.UUID // Busy, access
	outsider uuid.UUID // Available, another company
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	if _, err := pool.Exec(ctx, requestdetails.NewProjection().Schema()); err != nil {
		t.Fatal(err)
	}
	files, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clock := pgtest.NewJitterClock(time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC), 977*time.Microsecond, 9)
	// A screen-sharing provider, so that accepting starts a session the details must show.
	provider, err := app.ParseScreenSharingURL("https://meet.example/{request}?s={session}")
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(app.Config{Store: store, Files: files, Now: clock.Now, RequestDetails: foldOnly{}, ScreenSharing: provider})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, pool: pool, store: store, app: a, rm: readmodels.NewDetails(pool), rng: rand.New(rand.NewPCG(5, 6)),
		company: uuid.New(), portal: uuid.New(), me: uuid.New(), busy: uuid.New(), outsider: uuid.New()}
	admin := app.Meta{Actor: app.Admin}
	other := uuid.New()
	w.do(a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.company, Name: "Acme"}))
	w.do(a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: other, Name: "Other"}))
	w.do(a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.company, PortalID: w.portal, Name: "Help"}))
	for id, spec := range map[uuid.UUID]struct {
		name    string
		company uuid.UUID
		status  dir.Availability
	}{w.me: {"Me", w.company, dir.Available}, w.busy: {"Busy Bee", w.company, dir.Busy}, w.outsider: {"Out Sider", other, dir.Available}} {
		w.do(a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: spec.name, Email: strings.ReplaceAll(spec.name, " ", ".") + "@example.com"}))
		w.do(a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: spec.company}))
		w.do(a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: spec.status}))
	}
	return w
}

// foldOnly is a details read model that has never seen a request: the application then folds
// the request's stream, the yardstick the read model is compared with.
type foldOnly struct{}

func (foldOnly) RequestDetails(context.Context, app.RequestDetailsQuery) (app.RequestDetails, error) {
	return app.RequestDetails{}, app.ErrNotFound
}

func (w *world) do(res app.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	w.note(res)
}

func (w *world) note(res app.Result) {
	if res.Position.Compare(w.written) > 0 {
		w.written = res.Position
	}
}

// catchUp applies what the log gained, in random batches, one transaction each, until it has
// applied every command of the test (the store holds events back while older transactions,
// of any database of the server, are open).
func (w *world) catchUp() {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.pos.Compare(w.written) < 0 {
		if time.Now().After(deadline) {
			w.t.Fatalf("the log did not release %s", w.written)
		}
		w.applyNew()
		if w.pos.Compare(w.written) < 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func (w *world) applyNew() {
	w.t.Helper()
	ctx := context.Background()
	events, err := w.store.ReadAll(ctx, w.pos, eventlog.ReadOptions{Limit: 100000})
	if err != nil {
		w.t.Fatal(err)
	}
	p := requestdetails.NewProjection()
	for len(events) > 0 {
		n := min(len(events), 1+w.rng.IntN(7))
		tx, err := w.pool.Begin(ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		if err := p.Apply(ctx, tx, events[:n]); err != nil {
			w.t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			w.t.Fatal(err)
		}
		w.pos = events[n-1].Position
		events = events[n:]
	}
}

func asJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// compare checks the read model against the stream fold for every kind of viewer.
func (w *world) compare(requestID uuid.UUID, step string) {
	w.t.Helper()
	ctx := context.Background()
	w.catchUp()
	viewers := []app.Viewer{{TechnicianID: w.me}, {TechnicianID: w.busy}, {TechnicianID: w.outsider}, {CustomerOf: requestID}, {CustomerOf: uuid.New()}}
	for _, v := range viewers {
		want, wantErr := w.app.Queries().RequestDetails(ctx, v, requestID)
		var tech *dir.Technician
		if v.IsTechnician() {
			var err error
			if tech, err = w.app.Technician(ctx, v.TechnicianID); err != nil {
				w.t.Fatal(err)
			}
		}
		got, gotErr := w.rm.RequestDetails(ctx, app.RequestDetailsQuery{RequestID: requestID, Viewer: v, Technician: tech})
		if (wantErr == nil) != (gotErr == nil) || (wantErr != nil && !errors.Is(gotErr, app.ErrNotFound)) {
			w.t.Fatalf("%s, viewer %+v: fold error %v, read model error %v", step, v, wantErr, gotErr)
		}
		if asJSON(got) != asJSON(want) {
			w.t.Fatalf("%s, viewer %+v:\nread model %s\nfold %s", step, v, asJSON(got), asJSON(want))
		}
	}
}

func meta(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "technician", ID: id}} }

func customer(id uuid.UUID) app.Meta { return app.Meta{Actor: app.Actor{Kind: "customer", ID: id}} }

// A request's whole life through the app, every event type on the way: after every command the
// read model answers each viewer exactly as the stream fold does (entries, hidden notes and
// assignment moves, and the actions the domain allows now).
func TestDetailsEqualStreamFoldAtEveryStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, platform := range []request.Platform{request.Windows, request.IOS} {
		w := newWorld(t)
		id := uuid.New()
		w.do(w.app.SubmitRequest(ctx, customer(id), app.SubmitRequest{RequestID: id, PortalID: w.portal, CompanyID: w.company,
			Customer: request.Customer{Name: "Ada", Email: "ada@example.com"}, Description: "Printer on fire",
			Source: request.Source{IP: "192.0.2.7", Platform: platform, OS: "Windows", OSVersion: "11", Browser: "Edge"}}))
		// notOnIOS skips a step of screen sharing, which iOS has not.
		notOnIOS := func(step func() (app.Result, error)) func() (app.Result, error) {
			return func() (app.Result, error) {
				if platform == request.IOS {
					return app.Result{}, nil
				}
				return step()
			}
		}
		steps := []struct {
			name string
			run  func() (app.Result, error)
		}{
			{"customer writes first", func() (app.Result, error) {
				return w.app.SendCustomerMessage(ctx, customer(id), id, uuid.New(), "anyone?")
			}},
			{"assign", func() (app.Result, error) { return w.app.AssignToMe(ctx, meta(w.me), id) }},
			{"note", func() (app.Result, error) { return w.app.AddNote(ctx, meta(w.busy), id, uuid.New(), "private") }},
			{"join", func() (app.Result, error) { return w.app.JoinChat(ctx, meta(w.me), id) }},
			{"message", func() (app.Result, error) {
				return w.app.SendTechnicianMessage(ctx, meta(w.me), id, uuid.New(), "hello")
			}},
			{"technician file", func() (app.Result, error) {
				return w.app.ShareTechnicianFile(ctx, meta(w.me), app.Upload{RequestID: id, FileID: uuid.New(), Name: "steps.txt", Content: strings.NewReader("do this")})
			}},
			{"customer file", func() (app.Result, error) {
				if platform == request.IOS {
					return w.app.SendMobileProfile(ctx, meta(w.me), id, "vpn.mobileconfig")
				}
				return w.app.ShareCustomerFile(ctx, customer(id), app.Upload{RequestID: id, FileID: uuid.New(), Name: "log.txt", Content: strings.NewReader("error 42")})
			}},
			{"screen sharing", notOnIOS(func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, meta(w.me), id) })},
			{"accept", notOnIOS(func() (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) })},
			{"end the session", notOnIOS(func() (app.Result, error) { return w.app.EndScreenSharingSession(ctx, meta(w.me), id) })},
			{"screen sharing once more", notOnIOS(func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, meta(w.me), id) })},
			{"accept once more", notOnIOS(func() (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) })},
			{"transfer (ends the session)", func() (app.Result, error) { return w.app.Transfer(ctx, meta(w.me), id, w.busy) }},
			{"unassign", func() (app.Result, error) { return w.app.Unassign(ctx, meta(w.busy), id) }},
			{"assign again", func() (app.Result, error) { return w.app.AssignToMe(ctx, meta(w.me), id) }},
			{"join again", func() (app.Result, error) { return w.app.JoinChat(ctx, meta(w.me), id) }},
			{"screen sharing again", notOnIOS(func() (app.Result, error) { return w.app.RequestScreenSharing(ctx, meta(w.me), id) })},
			{"decline", notOnIOS(func() (app.Result, error) { return w.app.DeclineScreenSharing(ctx, customer(id), id) })},
			{"end chat", func() (app.Result, error) { return w.app.EndChat(ctx, meta(w.me), id) }},
			{"join after the end", func() (app.Result, error) { return w.app.JoinChat(ctx, meta(w.me), id) }},
			{"close (ends the chat first)", func() (app.Result, error) { return w.app.Close(ctx, meta(w.me), id) }},
		}
		w.compare(id, "submitted")
		for _, s := range steps {
			w.do(s.run())
			w.compare(id, string(platform)+": "+s.name)
		}
		d, err := w.rm.RequestDetails(ctx, app.RequestDetailsQuery{RequestID: id, Viewer: app.Viewer{CustomerOf: id}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range d.Entries {
			if e.Kind == "note" || e.Event == "request.assigned.v1" || e.Event == "request.submitted.v1" {
				t.Fatalf("the customer sees %s %s", e.Kind, e.Event)
			}
		}
		if len(d.Actions) != 0 || d.Status != request.StatusCompleted {
			t.Fatalf("closed request: status %s, customer actions %v", d.Status, d.Actions)
		}
	}
}

// Random lives of many requests, applied in random batches: the read model equals the fold for
// every request and viewer; the projection's Fold equals the aggregate's.
func TestRandomLives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newWorld(t)
	var ids []uuid.UUID
	for i := range 25 {
		id := uuid.New()
		ids = append(ids, id)
		w.do(w.app.SubmitRequest(ctx, customer(id), app.SubmitRequest{RequestID: id, PortalID: w.portal, CompanyID: w.company,
			Customer: request.Customer{Name: "C", Email: "c@example.com"}, Description: "d", Source: request.Source{Platform: request.Platforms[i%4]}}))
	}
	techs := []uuid.UUID{w.me, w.busy}
	cmds := []func(id, tech uuid.UUID) (app.Result, error){
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.AssignToMe(ctx, meta(tech), id) },
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.Unassign(ctx, meta(tech), id) },
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.JoinChat(ctx, meta(tech), id) },
		func(id, tech uuid.UUID) (app.Result, error) {
			return w.app.SendTechnicianMessage(ctx, meta(tech), id, uuid.New(), "m")
		},
		func(id, _ uuid.UUID) (app.Result, error) {
			return w.app.SendCustomerMessage(ctx, customer(id), id, uuid.New(), "c")
		},
		func(id, tech uuid.UUID) (app.Result, error) {
			return w.app.AddNote(ctx, meta(tech), id, uuid.New(), "n")
		},
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.RequestScreenSharing(ctx, meta(tech), id) },
		func(id, _ uuid.UUID) (app.Result, error) { return w.app.AcceptScreenSharing(ctx, customer(id), id) },
		func(id, _ uuid.UUID) (app.Result, error) { return w.app.DeclineScreenSharing(ctx, customer(id), id) },
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.SendMobileProfile(ctx, meta(tech), id, "p") },
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.EndChat(ctx, meta(tech), id) },
		func(id, tech uuid.UUID) (app.Result, error) {
			return w.app.EndScreenSharingSession(ctx, meta(tech), id)
		},
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.Transfer(ctx, meta(tech), id, w.me) },
		func(id, tech uuid.UUID) (app.Result, error) { return w.app.Close(ctx, meta(tech), id) },
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for range 600 {
		id, tech := ids[rng.IntN(len(ids))], techs[rng.IntN(len(techs))]
		res, _ := cmds[rng.IntN(len(cmds))](id, tech) // refused commands are part of a random life
		w.note(res)
	}
	for _, id := range ids {
		w.compare(id, "random life of "+id.String())
		history, err := w.store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var events []eventlog.Event
		var s request.State
		for _, rec := range history {
			e, err := request.Codec().Decode(rec.Type, rec.Data)
			if err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
			requestdetails.Fold(&s, e)
			folded, _ := request.FromHistory(events)
			if !reflect.DeepEqual(s, folded.State()) {
				t.Fatalf("Fold after %s: %+v, aggregate %+v", rec.Type, s, folded.State())
			}
		}
	}
}

// Without its tables, the read model says it is not ready.
func TestNotReady(t *testing.T) {
	t.Parallel()
	pool, _ := pgtest.NewDatabase(t)
	_, err := readmodels.NewDetails(pool).RequestDetails(context.Background(), app.RequestDetailsQuery{RequestID: uuid.New(), Viewer: app.Viewer{CustomerOf: uuid.New()}})
	if !errors.Is(err, app.ErrReadModelNotReady) {
		t.Fatalf("got %v", err)
	}
}
