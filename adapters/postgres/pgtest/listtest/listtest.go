// Package listtest builds request-list tables for tests, of the projection and of the queries
// that read them: a database with the tables, a synthetic event log, batches applied, and the
// check of the counts table. It does not import the projection, so that the projection's own
// tests can use it too.
package listtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// NewDB returns a fresh database with the tables schema creates (the projection's Schema()) in
// public.
func NewDB(t testing.TB, schema string) *pgxpool.Pool {
	t.Helper()
	pool, _ := pgtest.NewDatabase(t)
	if _, err := pool.Exec(context.Background(), schema); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return pool
}

// SkipUnlessBench skips a benchmark of the request list, which takes minutes, unless
// HELPSTREAM_LIST_BENCH is set; what says what it would do.
func SkipUnlessBench(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("HELPSTREAM_LIST_BENCH") == "" {
		t.Skip("set HELPSTREAM_LIST_BENCH=1 to " + what)
	}
}

// Applier is a projection's Apply.
type Applier interface {
	Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error
}

// Apply applies events with p in batches of the given sizes (the rest in one last batch), each
// in its own transaction.
func Apply(t testing.TB, pool *pgxpool.Pool, p Applier, events []eventlog.RecordedEvent, sizes ...int) {
	t.Helper()
	ctx := context.Background()
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

// EventLog writes synthetic recorded events, as a store would record them.
type EventLog struct {
	t testing.TB
	// Events are the events written so far, in the log's order.
	Events   []eventlog.RecordedEvent
	versions map[string]int64
	now      time.Time
	requests *eventlog.Codec
	dir      *eventlog.Codec
}

// NewEventLog returns an empty log whose clock starts on 2026-03-01 09:00 UTC.
func NewEventLog(t testing.TB) *EventLog {
	return &EventLog{t: t, versions: map[string]int64{}, now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		requests: request.Codec(), dir: dir.Codec()}
}

// At sets the time of the next events.
func (l *EventLog) At(t time.Time) *EventLog { l.now = t; return l }

// Tick moves the clock on by d.
func (l *EventLog) Tick(d time.Duration) *EventLog { l.now = l.now.Add(d); return l }

// Add records e as the next event of stream.
func (l *EventLog) Add(stream string, e eventlog.Event) eventlog.RecordedEvent {
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
		Position:   eventlog.NewPosition(0, uint64(len(l.Events)+1)),
		RecordedAt: l.now,
	}
	l.Events = append(l.Events, rec)
	return rec
}

// Company records a company created.
func (l *EventLog) Company(id uuid.UUID, name string) {
	l.Add(dir.CompanyStream(id), &dir.CompanyCreated{CompanyID: id, Name: name})
}

// Technician records a technician registered.
func (l *EventLog) Technician(id uuid.UUID, name string) {
	l.Add(dir.TechnicianStream(id), &dir.TechnicianRegistered{TechnicianID: id, Name: name, Email: "t" + id.String()[:8] + "@example.com"})
}

// Submit records a request submitted.
func (l *EventLog) Submit(id, company uuid.UUID, name, email, description string, p request.Platform) {
	l.Add(request.Stream(id), &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
		Customer: request.Customer{Name: name, Email: email}, Description: description,
		Source: request.Source{IP: "192.0.2.1", Platform: p, OS: "OS", OSVersion: "1", Browser: "B"}})
}

// Request records e on request id's stream.
func (l *EventLog) Request(id uuid.UUID, e eventlog.Event) { l.Add(request.Stream(id), e) }

// CheckCounts checks request_list_counts against the rows of request_list.
func CheckCounts(t testing.TB, pool *pgxpool.Pool) {
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
