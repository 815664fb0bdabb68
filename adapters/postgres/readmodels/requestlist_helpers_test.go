package readmodels

import (
	"context"
	"github.com/helpstream/helpstream/projections/requestlist"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// newDB returns a fresh database with the projection's tables in public.
func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	if _, err := pool.Exec(context.Background(), requestlist.NewProjection().Schema()); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return pool
}

// apply applies events in batches of the given sizes (the rest in one last batch), each in
// its own transaction.
func apply(t testing.TB, pool *pgxpool.Pool, events []eventlog.RecordedEvent, sizes ...int) {
	t.Helper()
	ctx := context.Background()
	p := requestlist.NewProjection()
	for len(events) > 0 {
		n := len(events)
		if len(sizes) > 0 {
			n, sizes = min(sizes[0], n), sizes[1:]
		}
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(ctx, tx, events[:n]); err != nil {
			_ = tx.Rollback(ctx)
			t.Fatalf("apply: %v", err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
}

// eventLog writes synthetic recorded events, as a store would record them.
type eventLog struct {
	t        testing.TB
	events   []eventlog.RecordedEvent
	versions map[string]int64
	now      time.Time
	requests *eventlog.Codec
	dir      *eventlog.Codec
}

func newEventLog(t testing.TB) *eventLog {
	return &eventLog{t: t, versions: map[string]int64{}, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		requests: request.Codec(), dir: dir.Codec()}
}

// at sets the time of the next events.
func (l *eventLog) at(t time.Time) *eventLog { l.now = t; return l }

// tick moves the clock on by d.
func (l *eventLog) tick(d time.Duration) *eventLog { l.now = l.now.Add(d); return l }

func (l *eventLog) add(stream string, e eventlog.Event) eventlog.RecordedEvent {
	l.t.Helper()
	codec := l.requests
	if !codec.Knows(e.EventType()) {
		codec = l.dir
	}
	typ, data, err := codec.Encode(e)
	if err != nil {
		l.t.Fatal(err)
	}
	v, ok := l.versions[stream]
	if !ok {
		v = -1
	}
	v++
	l.versions[stream] = v
	rec := eventlog.RecordedEvent{
		ID: uuid.New(), StreamID: stream, Version: v, Type: typ, Data: data,
		Metadata:   eventlog.Metadata{Actor: "system", OccurredAt: l.now},
		Position:   eventlog.NewPosition(0, uint64(len(l.events)+1)),
		RecordedAt: l.now,
	}
	l.events = append(l.events, rec)
	return rec
}

func (l *eventLog) company(id uuid.UUID, name string) {
	l.add(dir.CompanyStream(id), &dir.CompanyCreated{CompanyID: id, Name: name})
}

func (l *eventLog) technician(id uuid.UUID, name string) {
	l.add(dir.TechnicianStream(id), &dir.TechnicianRegistered{TechnicianID: id, Name: name, Email: "t" + id.String()[:8] + "@example.com"})
}

func (l *eventLog) submit(id, company uuid.UUID, name, email, description string, p request.Platform) {
	l.add(request.Stream(id), &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
		Customer: request.Customer{Name: name, Email: email}, Description: description,
		Source: request.Source{IP: "192.0.2.1", Platform: p, OS: "OS", OSVersion: "1", Browser: "B"}})
}

func (l *eventLog) request(id uuid.UUID, e eventlog.Event) { l.add(request.Stream(id), e) }

// checkCounts checks request_list_counts against the rows.
func checkCounts(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	var wrong int
	err := pool.QueryRow(context.Background(), `
		WITH actual AS (
			SELECT company_id, status, count(*) AS n FROM request_list GROUP BY company_id, status
			UNION ALL
			SELECT '00000000-0000-0000-0000-000000000000', status, count(*) FROM request_list GROUP BY status),
		stored AS (SELECT company_id, status, requests AS n FROM request_list_counts WHERE requests <> 0)
		SELECT count(*) FROM ((TABLE actual EXCEPT TABLE stored) UNION ALL (TABLE stored EXCEPT TABLE actual)) x`).Scan(&wrong)
	if err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Fatalf("request_list_counts differs from the rows in %d (company, status) pairs", wrong)
	}
}
