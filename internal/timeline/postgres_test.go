package timeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/eventjson"
	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/timeline"
)

// On the PostgreSQL store, a request's life written by the application's own commands reads
// back as its timeline: the store's positions and commit times, a clean verdict, the names.
// Stopping at one event's commit time or position gives the same steps.
func TestTimelineOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	store, _ := pgtest.NewEventStore(t, pgstore.Config{})
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	admin := app.Meta{Actor: app.Admin}
	company, portal, tech, requestID := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	me := app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}
	customer := app.Meta{Actor: app.Actor{Kind: "customer", ID: requestID}}
	steps := []func() (app.Result, error){
		func() (app.Result, error) {
			return a.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Initech"})
		},
		func() (app.Result, error) {
			return a.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: company, PortalID: portal, Name: "Help"})
		},
		func() (app.Result, error) {
			return a.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Ada Lovelace", Email: "ada@example.com"})
		},
		func() (app.Result, error) {
			return a.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company})
		},
		func() (app.Result, error) {
			return a.SetAvailability(ctx, admin, app.SetAvailability{TechnicianID: tech, Availability: directory.Available})
		},
		func() (app.Result, error) {
			return a.SubmitRequest(ctx, customer, app.SubmitRequest{RequestID: requestID, PortalID: portal, CompanyID: company,
				Customer: request.Customer{Name: "Ann Smith", Email: "ann@example.com"}, Description: "The printer is on fire",
				Source: request.Source{IP: "192.0.2.1", Platform: request.Mac}})
		},
		func() (app.Result, error) { return a.AssignToMe(ctx, me, requestID) },
		func() (app.Result, error) { return a.JoinChat(ctx, me, requestID) },
		func() (app.Result, error) {
			return a.SendCustomerMessage(ctx, customer, requestID, uuid.New(), "Hello?")
		},
		func() (app.Result, error) { return a.Close(ctx, me, requestID) },
	}
	for i, step := range steps {
		if _, err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	tl, err := timeline.Build(ctx, store, requestID, timeline.End())
	if err != nil {
		t.Fatal(err)
	}
	// Close ends the chat first: submitted, assigned, joined, message, chat ended, closed.
	wantTypes := []string{"request.submitted.v1", "request.assigned.v1", "request.chat_joined.v1", "request.message_sent.v1",
		"request.chat_ended.v1", "request.closed.v1"}
	if !tl.Verdict.OK || tl.Events != len(wantTypes) || len(tl.Steps) != len(wantTypes) {
		t.Fatalf("verdict %+v, %d events, %d steps", tl.Verdict, tl.Events, len(tl.Steps))
	}
	for i, s := range tl.Steps {
		if s.Type != wantTypes[i] || s.RecordedAt.IsZero() || s.Position.IsStart() || (i > 0 && s.Position.Compare(tl.Steps[i-1].Position) <= 0) {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	if got := tl.Steps[1]; got.ActorName != "Ada Lovelace" || got.Summary != "Ada Lovelace took the request" {
		t.Errorf("assignment: %q by %q", got.Summary, got.ActorName)
	}
	if got := tl.Steps[3]; got.ActorName != "Ann Smith" || got.Summary != "customer sent a message (6 characters)" {
		t.Errorf("message: %q by %q", got.Summary, got.ActorName)
	}
	if tl.State.Status != request.StatusCompleted || tl.State.CompanyName != "Initech" || tl.State.Messages != 1 || tl.State.Assignee.Name != "Ada Lovelace" {
		t.Errorf("final state %+v", tl.State)
	}
	for _, stop := range []timeline.Stop{timeline.AsOf(tl.Steps[2].RecordedAt), timeline.Through(tl.Steps[2].Position), timeline.AtVersion(2)} {
		part, err := timeline.Build(ctx, store, requestID, stop)
		if err != nil {
			t.Fatal(err)
		}
		if len(part.Steps) != 3 || part.State.Chat != request.ChatJoinedIn || part.Events != len(wantTypes) {
			t.Errorf("%s: %d steps, state %+v", stop, len(part.Steps), part.State)
		}
	}
}

// BenchmarkTimeline10k reads and folds the history of one request with 10,000 events on the
// PostgreSQL store (design §7: under 100 ms), payloads decoded as the binary decodes them.
func BenchmarkTimeline10k(b *testing.B) {
	eventjson.Install()
	defer eventlog.SetUnmarshal(nil)
	ctx := context.Background()
	store, pool := pgtest.NewEventStore(b, pgstore.Config{})
	requestID := seedLongRequest(b, store, 10_000)
	// The planner's statistics of a running database, which autovacuum keeps: a fresh one
	// expects a stream of a few rows and sorts 10,000 on disk.
	if _, err := pool.Exec(ctx, "ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		tl, err := timeline.Build(ctx, store, requestID, timeline.End())
		if err != nil {
			b.Fatal(err)
		}
		if len(tl.Steps) != 10_000 || !tl.Verdict.OK {
			b.Fatalf("%d steps, verdict %+v", len(tl.Steps), tl.Verdict)
		}
	}
}

// seedLongRequest writes a company, two technicians and one request of n events (submitted,
// assigned, joined, then a chat of customer and technician messages), sealed, in appends of a
// thousand events.
func seedLongRequest(tb testing.TB, store *pgstore.Store, n int) uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	company, tech, other, requestID := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	at := time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	event := func(actor string, e eventlog.Event, codec *eventlog.Codec) eventlog.EventData {
		typ, data, err := codec.Encode(e)
		if err != nil {
			tb.Fatal(err)
		}
		at = at.Add(time.Second)
		return eventlog.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: eventlog.Metadata{Actor: actor, OccurredAt: at, CorrelationID: uuid.NewString()}}
	}
	sealed := func(stream string, events ...eventlog.EventData) pgstore.StreamAppend {
		eventlog.Seal(stream, -1, "", events)
		return pgstore.StreamAppend{StreamID: stream, Expected: eventlog.NoStream(), Events: events}
	}
	dirCodec, reqCodec := directory.Codec(), request.Codec()
	techActor, customer := "technician:"+tech.String(), "customer:"+requestID.String()
	_, err := store.AppendStreams(ctx, []pgstore.StreamAppend{
		sealed(directory.CompanyStream(company), event("admin", &directory.CompanyCreated{CompanyID: company, Name: "Initech"}, dirCodec)),
		sealed(directory.TechnicianStream(tech), event("admin", &directory.TechnicianRegistered{TechnicianID: tech, Name: "Ada Lovelace", Email: "ada@example.com"}, dirCodec)),
		sealed(directory.TechnicianStream(other), event("admin", &directory.TechnicianRegistered{TechnicianID: other, Name: "Grace Hopper", Email: "grace@example.com"}, dirCodec)),
	})
	if err != nil {
		tb.Fatal(err)
	}
	events := []eventlog.EventData{
		event(customer, &request.Submitted{RequestID: requestID, CompanyID: company, PortalID: uuid.New(),
			Customer: request.Customer{Name: "Ann Smith", Email: "ann@example.com"}, Description: "The printer is on fire",
			Source: request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"}}, reqCodec),
		event(techActor, &request.Assigned{TechnicianID: tech}, reqCodec),
		event(techActor, &request.ChatJoined{TechnicianID: tech}, reqCodec),
	}
	for i := len(events); i < n; i++ {
		if i%2 == 0 {
			events = append(events, event(customer, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide,
				Body: fmt.Sprintf("Message %d: it is still not printing, and now it smells of smoke.", i)}, reqCodec))
		} else {
			events = append(events, event(techActor, &request.MessageSent{MessageID: uuid.New(), From: request.TechnicianSide, TechnicianID: tech,
				Body: fmt.Sprintf("Reply %d: %s", i, strings.Repeat("please try turning it off and on again; ", 2))}, reqCodec))
		}
	}
	stream := request.Stream(requestID)
	eventlog.Seal(stream, -1, "", events)
	for from := 0; from < len(events); from += 1000 {
		chunk := events[from:min(from+1000, len(events))]
		if _, err := store.AppendStreams(ctx, []pgstore.StreamAppend{{StreamID: stream, Expected: eventlog.Exactly(int64(from) - 1), Events: chunk}}); err != nil {
			tb.Fatal(err)
		}
	}
	return requestID
}
