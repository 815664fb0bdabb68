package verify_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/verify"
)

// world is a realistic log written through the application's commands: a company with a
// portal, two technicians, and requests in every state.
type world struct {
	t        testing.TB
	store    eventlog.Store
	pool     *pgxpool.Pool // nil on a store of another kind
	app      *app.App
	company  uuid.UUID
	portal   uuid.UUID
	techs    []uuid.UUID
	requests []uuid.UUID
	written  eventlog.Position
}

// Lives a request of the world leads.
const (
	lifeNew    = iota // submitted, three customer messages: 4 events
	lifeActive        // assigned, in chat, screen sharing accepted: 8 events
	lifeClosed        // assigned, in chat, a note, closed: 8 events
	lives
)

// newPostgresWorld writes requests requests on a fresh PostgreSQL event store.
func newPostgresWorld(t *testing.T, requests int) *world {
	t.Helper()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	w := newWorld(t, store, requests)
	w.pool = pool
	return w
}

func newWorld(t testing.TB, store eventlog.Store, requests int) *world {
	t.Helper()
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return populate(t, store, a, requests)
}

// populate writes the directory and requests requests through a.
func populate(t testing.TB, store eventlog.Store, a *app.App, requests int) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, store: store, app: a, company: uuid.New(), portal: uuid.New()}
	admin := app.Meta{Actor: app.Admin}
	w.do(a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: w.company, Name: "Acme Logistics"}))
	w.do(a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: w.company, PortalID: w.portal, Name: "Help"}))
	for i, name := range []string{"Grace Hopper", "Alan Turing"} {
		id := uuid.New()
		w.techs = append(w.techs, id)
		w.do(a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: name, Email: fmt.Sprintf("tech%d@example.com", i)}))
		w.do(a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: w.company}))
		w.do(a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: id, Availability: directory.Available}))
	}
	for i := range requests {
		w.request(i % lives)
	}
	w.waitReadable()
	return w
}

func (w *world) do(res app.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	if res.Position.Compare(w.written) > 0 {
		w.written = res.Position
	}
}

// request submits a request and leads it through a life; it returns its ID.
func (w *world) request(life int) uuid.UUID {
	w.t.Helper()
	ctx := context.Background()
	id := uuid.New()
	w.requests = append(w.requests, id)
	customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}
	tech := app.Meta{Actor: app.Actor{Kind: "technician", ID: w.techs[len(w.requests)%len(w.techs)]}}
	w.do(w.app.SubmitRequest(ctx, customer, app.SubmitRequest{RequestID: id, PortalID: w.portal, CompanyID: w.company,
		Customer:    request.Customer{Name: "Ada Lovelace", Email: "ada@example.com"},
		Description: "My printer shows a paper jam but there is no paper in it",
		Source:      request.Source{IP: "192.0.2.7", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Firefox"}}))
	switch life {
	case lifeNew:
		for _, m := range []string{"Hello?", "Is anyone there?", "Still waiting."} {
			w.do(w.app.SendCustomerMessage(ctx, customer, id, uuid.New(), m))
		}
	case lifeActive:
		w.do(w.app.AssignToMe(ctx, tech, id))
		w.do(w.app.JoinChat(ctx, tech, id))
		w.do(w.app.SendTechnicianMessage(ctx, tech, id, uuid.New(), "Hello, I am here to help."))
		w.do(w.app.SendCustomerMessage(ctx, customer, id, uuid.New(), "Thank you!"))
		w.do(w.app.RequestScreenSharing(ctx, tech, id))
		w.do(w.app.AcceptScreenSharing(ctx, customer, id))
		w.do(w.app.SendTechnicianMessage(ctx, tech, id, uuid.New(), "I see the printer queue."))
	case lifeClosed:
		w.do(w.app.AssignToMe(ctx, tech, id))
		w.do(w.app.JoinChat(ctx, tech, id))
		w.do(w.app.SendTechnicianMessage(ctx, tech, id, uuid.New(), "Please restart the printer."))
		w.do(w.app.SendCustomerMessage(ctx, customer, id, uuid.New(), "Restarting fixed it, thanks."))
		w.do(w.app.AddNote(ctx, tech, id, uuid.New(), "Old driver; update it next visit."))
		w.do(w.app.Close(ctx, tech, id))
	}
	return id
}

// stream is the stream of the world's request of a life (the first of that life).
func (w *world) stream(life int) string { return request.Stream(w.requests[life]) }

// waitReadable waits until ReadAll shows everything the world wrote: the log shows a commit only
// once every transaction begun before it has ended, anywhere on the server.
func (w *world) waitReadable() {
	w.t.Helper()
	head, ok := w.store.(eventlog.HeadReader)
	if !ok {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		pos, err := head.Head(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if pos.Compare(w.written) >= 0 {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the log does not show %s after 10 s", w.written)
		}
	}
}

// events is how many events the world's log holds.
func (w *world) events() int64 {
	w.t.Helper()
	var n int64
	for from := eventlog.Start(); ; {
		page, err := w.store.ReadAll(context.Background(), from, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			w.t.Fatal(err)
		}
		n += int64(len(page))
		if len(page) < 1000 {
			return n
		}
		from = page[len(page)-1].Position
	}
}

// tamper changes the events table as a superuser would, behind the store's back.
func (w *world) tamper(sql string, args ...any) {
	w.t.Helper()
	tag, err := w.pool.Exec(context.Background(), sql, args...)
	if err != nil {
		w.t.Fatalf("tamper: %s: %v", sql, err)
	}
	if tag.RowsAffected() == 0 {
		w.t.Fatalf("tamper: %s changed nothing", sql)
	}
}

// appendSealed appends events to stream after its last event, sealed as the application seals
// them: a forger who writes through the store.
func (w *world) appendSealed(stream string, events ...eventlog.Event) {
	w.t.Helper()
	ctx := context.Background()
	existing, err := w.store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	last := existing[len(existing)-1]
	data := make([]eventlog.EventData, len(events))
	for i, e := range events {
		typ, payload, err := request.Codec().Encode(e)
		if err != nil {
			w.t.Fatal(err)
		}
		data[i] = eventlog.EventData{ID: uuid.New(), Type: typ, Data: payload, Metadata: eventlog.Metadata{Actor: "admin", OccurredAt: time.Now().UTC()}}
	}
	eventlog.Seal(stream, last.Version, last.Metadata.Hash, data)
	res, err := w.store.Append(ctx, stream, eventlog.Exactly(last.Version), data...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.written = res.Position
	w.waitReadable()
}

// anchorer returns an anchorer of the world's log signing with priv.
func (w *world) anchorer(priv ed25519.PrivateKey, opts ...func(*anchor.Config)) *anchor.Anchorer {
	w.t.Helper()
	cfg := anchor.Config{Store: w.store, PrivateKey: priv, Interval: time.Minute}
	for _, o := range opts {
		o(&cfg)
	}
	a, err := anchor.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// anchor writes an anchor and returns it.
func (w *world) anchor(a *anchor.Anchorer) anchor.Anchor {
	w.t.Helper()
	got, wrote, err := a.AnchorNow(context.Background())
	if err != nil || !wrote {
		w.t.Fatalf("AnchorNow = %v, %v", wrote, err)
	}
	// The verifier reads the anchor both from its stream and from the log, which shows it only
	// once every transaction begun before it (in any test of the cluster) has ended.
	stored, err := w.store.ReadStream(context.Background(), anchor.Stream, got.Number, eventlog.ReadOptions{Limit: 1})
	if err != nil || len(stored) != 1 {
		w.t.Fatalf("reading anchor #%d back: %d events, %v", got.Number, len(stored), err)
	}
	if stored[0].Position.Compare(w.written) > 0 {
		w.written = stored[0].Position
	}
	w.waitReadable()
	return got
}

func newKey(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// verifyLog verifies the world's log with cfg (its Store set).
func (w *world) verifyLog(cfg verify.Config) verify.Report {
	w.t.Helper()
	cfg.Store = w.store
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rep, err := verify.Log(ctx, cfg)
	if err != nil {
		w.t.Fatalf("verify.Log: %v", err)
	}
	return rep
}

// want is a finding a test expects: of a kind, about a stream (and version, unless -2), whose
// message says something.
type want struct {
	kind    verify.Kind
	stream  string
	version int64
	says    string
}

const anyVersion = -2

// expectFindings checks that every wanted finding is in the report, and that every finding
// is about one of the streams allowed (the tampered ones): verify accuses nothing else.
func expectFindings(t *testing.T, rep verify.Report, wants []want, allowed ...string) {
	t.Helper()
	for _, w := range wants {
		found := false
		for _, f := range rep.Findings {
			if f.Kind == w.kind && f.Stream == w.stream && (w.version == anyVersion || f.Version == w.version) && strings.Contains(f.Message, w.says) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no %s finding about %s version %d saying %q", w.kind, w.stream, w.version, w.says)
		}
	}
	for _, f := range rep.Findings {
		ok := false
		for _, s := range allowed {
			ok = ok || f.Stream == s
		}
		if !ok {
			t.Errorf("a finding about %q, which nobody touched: %s", f.Stream, f.Message)
		}
	}
	if t.Failed() {
		for _, f := range rep.Findings {
			t.Logf("finding: %s %s v%d: %s", f.Kind, f.Stream, f.Version, f.Message)
		}
	}
}

// appendSealedRaw appends one event of any type and payload to stream, sealed.
func (w *world) appendSealedRaw(stream, eventType, data string) {
	w.t.Helper()
	ctx := context.Background()
	existing, err := w.store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	last := existing[len(existing)-1]
	events := []eventlog.EventData{{ID: uuid.New(), Type: eventType, Data: []byte(data), Metadata: eventlog.Metadata{Actor: "admin", OccurredAt: time.Now().UTC()}}}
	eventlog.Seal(stream, last.Version, last.Metadata.Hash, events)
	res, err := w.store.Append(ctx, stream, eventlog.Exactly(last.Version), events...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.written = res.Position
	w.waitReadable()
}

// resealInPlace gives the event at version of stream other data and seals it again after the
// same previous hash: its own hash holds, the next event's link to it does not.
func (w *world) resealInPlace(stream string, version int64, data string) {
	w.t.Helper()
	events := w.readStream(stream)
	e := events[version]
	sealed := []eventlog.EventData{{ID: e.ID, Type: e.Type, Data: []byte(data), Metadata: e.Metadata}}
	eventlog.Seal(stream, version-1, e.Metadata.PreviousHash, sealed)
	w.rewrite(stream, version, sealed[0])
}

// resealFrom changes the data of the event at version from with change and seals the stream
// again from there to its end: a forger who rewrites a stream's history leaves a valid chain.
func (w *world) resealFrom(stream string, from int64, change func(data string) string) {
	w.t.Helper()
	events := w.readStream(stream)
	previous := events[from].Metadata.PreviousHash
	for v := from; v < int64(len(events)); v++ {
		e := events[v]
		data := string(e.Data)
		if v == from {
			data = change(data)
		}
		sealed := []eventlog.EventData{{ID: e.ID, Type: e.Type, Data: []byte(data), Metadata: e.Metadata}}
		eventlog.Seal(stream, v-1, previous, sealed)
		w.rewrite(stream, v, sealed[0])
		previous = sealed[0].Metadata.Hash
	}
	if err := eventlog.VerifyChain(w.readStream(stream)); err != nil {
		w.t.Fatalf("the forger's chain does not hold: %v", err)
	}
}

func (w *world) readStream(stream string) []eventlog.RecordedEvent {
	w.t.Helper()
	events, err := w.store.ReadStream(context.Background(), stream, 0, eventlog.ReadOptions{})
	if err != nil {
		w.t.Fatal(err)
	}
	return events
}

// rewrite replaces the data and metadata of a stored event in SQL.
func (w *world) rewrite(stream string, version int64, e eventlog.EventData) {
	w.t.Helper()
	meta, err := json.Marshal(e.Metadata)
	if err != nil {
		w.t.Fatal(err)
	}
	w.tamper(`UPDATE events SET data = $3::json, metadata = $4::json WHERE stream_id = $1 AND stream_version = $2`, stream, version, string(e.Data), string(meta))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// anchorClock is an anchorer's clock set back by ago seconds.
type anchorClock struct{ ago int }

func (c *anchorClock) now() time.Time { return time.Now().Add(-time.Duration(c.ago) * time.Second) }

// nopStore is a store no test reads: for configurations refused before any read.
type nopStore struct{ eventlog.Store }
