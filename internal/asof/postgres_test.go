package asof_test

import (
	"context"
	"fmt"
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
	"github.com/helpstream/helpstream/internal/asof"
)

// On the PostgreSQL store, each event's commit time is a boundary: a snapshot at it holds
// the event, one a microsecond earlier (the store's precision) does not.
func TestPositionRuleOnPostgreSQL(t *testing.T) {
	ctx := context.Background()
	store, _ := pgtest.NewEventStore(t, pgstore.Config{})
	var positions []eventlog.Position
	for i := range 6 {
		id := uuid.New()
		typ, data, err := directory.Codec().Encode(&directory.CompanyCreated{CompanyID: id, Name: fmt.Sprintf("Company %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, directory.CompanyStream(id), eventlog.NoStream(),
			eventlog.EventData{ID: uuid.New(), Type: typ, Data: data, Metadata: eventlog.Metadata{Actor: "admin", OccurredAt: time.Now().UTC()}})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.Position)
		time.Sleep(2 * time.Millisecond)
	}
	// The log shows a commit once every transaction begun before it has ended, anywhere on
	// the server: a snapshot reads what the log shows.
	events := pgtest.ReadBack(t, ctx, store, eventlog.Start(), positions)
	for i, e := range events {
		s, err := asof.At(ctx, store, e.RecordedAt)
		if err != nil {
			t.Fatal(err)
		}
		if s.Position() != e.Position || s.Events() != i+1 {
			t.Errorf("at event %d's commit time: position %s, %d events; want %s", i, s.Position(), s.Events(), e.Position)
		}
		s, err = asof.At(ctx, store, e.RecordedAt.Add(-time.Microsecond))
		if err != nil {
			t.Fatal(err)
		}
		if s.Events() != i {
			t.Errorf("a microsecond before event %d's commit: %d events", i, s.Events())
		}
	}
}

// BenchmarkListAsOf100k asks for one page of the list (every view's requests of the viewer's
// companies, by customer, descending) as of a moment after 100,000 requests on the PostgreSQL
// store: asof.At, then the application's query on the snapshot. Payloads are decoded as the
// binary decodes them.
func BenchmarkListAsOf100k(b *testing.B) {
	eventjson.Install()
	defer eventlog.SetUnmarshal(nil)
	ctx := context.Background()
	store, pool := pgtest.NewEventStore(b, pgstore.Config{})
	viewer, events, last := seedList(b, store, 100_000)
	if _, err := pool.Exec(ctx, "ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	// The log shows the seed once every transaction begun before it has ended, anywhere on the
	// server (other tests' too).
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		head, err := store.Head(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if head.Compare(last) >= 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the log shows %s, the seed ended at %s", head, last)
		}
	}
	moment := time.Now()
	q := app.ListRequests{TechnicianID: viewer, View: app.ViewAll, Sort: app.SortCustomer, Descending: true, Limit: 50}
	for b.Loop() {
		s, err := asof.At(ctx, store, moment)
		if err != nil {
			b.Fatal(err)
		}
		past, err := app.New(s.AppConfig())
		if err != nil {
			b.Fatal(err)
		}
		page, err := past.Queries().ListRequests(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		if s.Events() != events || len(page.Requests) != 50 || page.Total < 50_000 {
			b.Fatalf("%d events of %d, %d rows of %d", s.Events(), events, len(page.Requests), page.Total)
		}
	}
	b.ReportMetric(float64(events), "events")
}

// seedList writes, through the store's bulk path, four companies, twenty technicians and n
// requests: every one submitted, three in five assigned, one in three with a message from the
// customer, one in five closed. It returns an Available technician with access to three of
// the companies, how many events the log holds and the position of the last.
func seedList(tb testing.TB, store *pgstore.Store, n int) (uuid.UUID, int, eventlog.Position) {
	tb.Helper()
	ctx := context.Background()
	at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	var batch []pgstore.StreamAppend
	total := 0
	var last eventlog.Position
	flush := func() {
		res, err := store.AppendStreams(ctx, batch)
		if err != nil {
			tb.Fatal(err)
		}
		last = res[len(res)-1].Position
		batch = batch[:0]
	}
	add := func(stream, actor string, codec *eventlog.Codec, events ...eventlog.Event) {
		data := make([]eventlog.EventData, len(events))
		for i, e := range events {
			typ, payload, err := codec.Encode(e)
			if err != nil {
				tb.Fatal(err)
			}
			at = at.Add(time.Millisecond)
			data[i] = eventlog.EventData{ID: uuid.New(), Type: typ, Data: payload, Metadata: eventlog.Metadata{Actor: actor, OccurredAt: at}}
		}
		eventlog.Seal(stream, -1, "", data)
		batch = append(batch, pgstore.StreamAppend{StreamID: stream, Expected: eventlog.NoStream(), Events: data})
		total += len(data)
		if total%2000 < len(data) {
			flush()
		}
	}
	dir, req := directory.Codec(), request.Codec()
	var companies, portals, techs []uuid.UUID
	for i, name := range []string{"Acme", "Globex", "Initech", "Umbrella"} {
		c, p := uuid.New(), uuid.New()
		companies, portals = append(companies, c), append(portals, p)
		add(directory.CompanyStream(c), "admin", dir, &directory.CompanyCreated{CompanyID: c, Name: name},
			&directory.PortalCreated{CompanyID: c, PortalID: p, Name: fmt.Sprintf("Portal %d", i)})
	}
	for i := range 20 {
		t := uuid.New()
		techs = append(techs, t)
		events := []eventlog.Event{&directory.TechnicianRegistered{TechnicianID: t, Name: fmt.Sprintf("Technician %d", i), Email: fmt.Sprintf("t%d@example.com", i)}}
		for _, c := range companies[:3] {
			events = append(events, &directory.AccessGranted{TechnicianID: t, CompanyID: c})
		}
		events = append(events, &directory.AvailabilityChanged{TechnicianID: t, Availability: directory.Available})
		add(directory.TechnicianStream(t), "admin", dir, events...)
	}
	names := []string{"Ann", "Bob", "Zoë", "Émile", "carol", "Dmitri", "Eve", "frank"}
	for i := range n {
		id, c := uuid.New(), i%len(companies)
		customer := "customer:" + id.String()
		events := []eventlog.Event{&request.Submitted{RequestID: id, CompanyID: companies[c], PortalID: portals[c],
			Customer:    request.Customer{Name: fmt.Sprintf("%s %d", names[i%len(names)], i), Email: fmt.Sprintf("customer%d@example.com", i)},
			Description: fmt.Sprintf("Request %d: the printer on floor %d does not print", i, i%9),
			Source:      request.Source{IP: "192.0.2.1", Platform: request.Platforms[i%4], OS: "Windows", OSVersion: "11", Browser: "Edge"}}}
		tech := techs[i%len(techs)]
		if i%3 == 0 {
			events = append(events, &request.MessageSent{MessageID: uuid.New(), From: request.CustomerSide, Body: "Is anyone there?"})
		}
		if i%5 < 3 {
			events = append(events, &request.Assigned{TechnicianID: tech})
		}
		if i%5 == 0 {
			events = append(events, &request.Closed{TechnicianID: tech})
		}
		add(request.Stream(id), customer, req, events...)
	}
	if len(batch) > 0 {
		flush()
	}
	return techs[0], total, last
}
