package projections

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ParkedEvent is an event a projection could not apply and set aside (table projection_parked,
// migration 006): the projection's checkpoint went past it, its rows miss it, and `helpstream
// projections retry` (Retry) applies it again after a fix.
type ParkedEvent struct {
	// Projection is the name of the projection that parked the event.
	Projection string `json:"projection"`
	// Position is the event's place in the global log.
	Position eventlog.Position `json:"position"`
	// EventID, StreamID, StreamVersion and Type say which event it is.
	EventID       uuid.UUID `json:"event_id"`
	StreamID      string    `json:"stream_id"`
	StreamVersion int64     `json:"stream_version"`
	Type          string    `json:"type"`
	// Error is why it could not be applied; for the events that follow a parked one in its
	// stream, BlockedReason.
	Error string `json:"error"`
	// ParkedAt is when it was parked; Retries counts the retries that failed since.
	ParkedAt time.Time `json:"parked_at"`
	Retries  int       `json:"retries"`
}

// BlockedReason is the error of an event parked only because an earlier event of its stream is
// parked: a projection's rows for a stream are wrong once one of its events is skipped, so the
// later ones wait, to be applied in order when the first one is.
const BlockedReason = "an earlier event of this stream is parked"

// EventError is the failure of one event of a batch. A BulkLoad's Fold that cannot fold an event
// returns one, so that a rebuild parks that event and folds the rest; Apply may return one too.
type EventError struct {
	// ID and Position identify the event.
	ID       uuid.UUID
	Position eventlog.Position
	// Err says what went wrong.
	Err error
}

func (e *EventError) Error() string { return e.Err.Error() }

func (e *EventError) Unwrap() error { return e.Err }

// Transient reports whether err, the failure of an Apply, says nothing about the events it was
// given, so that applying them again later may succeed: the connection or the server went away
// (class 08, 57, an I/O error), the transaction lost a race (class 40: serialization failure,
// deadlock), time ran out (a context's deadline or cancellation, a lock timeout), the server is
// short of resources or broken (53, 55, 58, F0, XX), or the projection's own SQL or tables are
// wrong (42, 3D, 3F: a missing table, a syntax error), which every event would meet alike. A
// batch that fails so is rolled back and applied again from the checkpoint, as it always was.
//
// Any other failure is the events' own: a payload that does not decode, a value PostgreSQL
// refuses (class 22 data exception, 23 integrity violation, 54 an index row too large): the
// events that cause it are parked.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if len(pgErr.Code) < 2 {
			return false
		}
		switch pgErr.Code[:2] {
		case "08", "40", "57", "53", "55", "58", "F0", "XX", "42", "3D", "3F":
			return true
		}
		return false
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err) || errors.As(err, &netErr) || errors.As(err, &connectErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// transientIn is Transient, also true when the failure closed tx's connection, whatever the
// error says.
func transientIn(tx pgx.Tx, err error) bool {
	return Transient(err) || tx.Conn().IsClosed()
}

// parking is what a projector knows of the events it parks: the streams that have a parked
// event, and the events it parked. A rebuild's writer and its fold share one.
type parking struct {
	projection string
	mu         sync.Mutex
	blocked    map[string]bool
	events     []ParkedEvent
}

func newParking(projection string) *parking {
	return &parking{projection: projection, blocked: map[string]bool{}}
}

// park sets rec aside with why, and blocks its stream.
func (p *parking) park(rec *eventlog.RecordedEvent, why string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parkLocked(rec, why)
}

func (p *parking) parkLocked(rec *eventlog.RecordedEvent, why string) {
	p.events = append(p.events, ParkedEvent{
		Projection: p.projection, Position: rec.Position, EventID: rec.ID, StreamID: rec.StreamID,
		StreamVersion: rec.Version, Type: rec.Type, Error: Text(why),
	})
	p.blocked[rec.StreamID] = true
}

// skipBlocked parks the events of blocked streams and returns the others, in order. It returns
// events itself when none is blocked.
func (p *parking) skipBlocked(events []eventlog.RecordedEvent) []eventlog.RecordedEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.blocked) == 0 {
		return events
	}
	var out []eventlog.RecordedEvent
	for i := range events {
		if !p.blocked[events[i].StreamID] {
			if out != nil {
				out = append(out, events[i])
			}
			continue
		}
		if out == nil {
			out = append(make([]eventlog.RecordedEvent, 0, len(events)), events[:i]...)
		}
		p.parkLocked(&events[i], BlockedReason)
	}
	if out == nil {
		return events
	}
	return out
}

// parked returns the events parked so far.
func (p *parking) parked() []ParkedEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ParkedEvent(nil), p.events...)
}

// clone is a copy that parks on its own: what an attempt that may roll back works on.
func (p *parking) clone() *parking {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := &parking{projection: p.projection, blocked: make(map[string]bool, len(p.blocked)), events: append([]ParkedEvent(nil), p.events...)}
	for s := range p.blocked {
		c.blocked[s] = true
	}
	return c
}

// savepoint is the one applyParking and Retry set around each attempt: one at a time.
const savepoint = "helpstream_park"

// applyParking applies events to the tables in tx, in order, and parks those that cannot be
// applied: it applies a run of events inside a savepoint and, when the run fails for a reason of
// its own, rolls back to the savepoint and applies each half of the run the same way, down to
// the single event, which it parks with the error. Events of blocked streams are parked without
// trying them. A batch with one bad event costs about 2·log2(len(events)) Apply calls. It
// returns how many events were applied; a transient failure ends it with the error, and the
// caller rolls tx back.
func applyParking(ctx context.Context, tx pgx.Tx, p Projection, events []eventlog.RecordedEvent, park *parking) (int, error) {
	applied := 0
	var walk func(run []eventlog.RecordedEvent) error
	walk = func(run []eventlog.RecordedEvent) error {
		run = park.skipBlocked(run)
		if len(run) == 0 {
			return nil
		}
		fault, err := trySavepoint(ctx, tx, func() error { return p.Apply(ctx, tx, run) })
		if err != nil {
			return err
		}
		if fault == nil {
			applied += len(run)
			return nil
		}
		if len(run) == 1 {
			park.park(&run[0], fault.Error())
			return nil
		}
		mid := len(run) / 2
		if err := walk(run[:mid]); err != nil {
			return err
		}
		return walk(run[mid:])
	}
	return applied, walk(events)
}

// trySavepoint runs apply inside a savepoint of tx. When apply fails for a reason of the
// events' own, it rolls back to the savepoint and returns that failure as fault; any other
// failure comes back as err, and tx is then to be rolled back.
func trySavepoint(ctx context.Context, tx pgx.Tx, apply func() error) (fault, err error) {
	if _, err := tx.Exec(ctx, "SAVEPOINT "+savepoint); err != nil {
		return nil, fmt.Errorf("set a savepoint: %w", err)
	}
	if fault = apply(); fault == nil {
		if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT "+savepoint); err != nil {
			return nil, fmt.Errorf("release the savepoint: %w", err)
		}
		return nil, nil
	}
	if transientIn(tx, fault) || ctx.Err() != nil {
		return nil, fault
	}
	if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT "+savepoint+"; RELEASE SAVEPOINT "+savepoint); err != nil {
		return nil, fmt.Errorf("roll back to the savepoint after %v: %w", fault, err)
	}
	return fault, nil
}

// queryer is a pool, a connection or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// blockedStreams returns the streams of events that have a parked event in the projection.
func blockedStreams(ctx context.Context, q queryer, name string, events []eventlog.RecordedEvent) ([]string, error) {
	// The table holds stream IDs as Text made them; the caller knows them as the log does.
	raw := make(map[string][]string)
	var stored []string
	for i := range events {
		s := events[i].StreamID
		t := Text(s)
		if !slices.Contains(raw[t], s) {
			if len(raw[t]) == 0 {
				stored = append(stored, t)
			}
			raw[t] = append(raw[t], s)
		}
	}
	rows, err := q.Query(ctx, `SELECT DISTINCT stream_id FROM public.projection_parked WHERE projection = $1 AND stream_id = ANY($2)`,
		name, stored)
	if err != nil {
		return nil, fmt.Errorf("read the streams with parked events: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read the streams with parked events: %w", err)
	}
	var blocked []string
	for _, t := range found {
		blocked = append(blocked, raw[t]...)
	}
	return blocked, nil
}

// insertParked records parked events. An event parked again (the tables were reset and the log
// applied anew) takes the new error.
func insertParked(ctx context.Context, q queryer, events []ParkedEvent) error {
	if len(events) == 0 {
		return nil
	}
	n := len(events)
	names, ids, positions := make([]string, n), make([]uuid.UUID, n), make([]string, n)
	his, los, versions := make([]int64, n), make([]int64, n), make([]int64, n)
	streams, types, errs := make([]string, n), make([]string, n), make([]string, n)
	for i, e := range events {
		hi, lo := e.Position.Parts()
		names[i], ids[i], positions[i] = Text(e.Projection), e.EventID, e.Position.String()
		his[i], los[i], versions[i] = int64(hi), int64(lo), e.StreamVersion
		streams[i], types[i], errs[i] = Text(e.StreamID), Text(e.Type), Text(e.Error)
	}
	if _, err := q.Exec(ctx, `INSERT INTO public.projection_parked AS p
			(projection, event_id, position, position_hi, position_lo, stream_id, stream_version, event_type, error)
		SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[])
		ON CONFLICT (projection, event_id) DO UPDATE SET error = excluded.error, parked_at = now(), retries = 0, retried_at = NULL`,
		names, ids, positions, his, los, streams, versions, types, errs); err != nil {
		return fmt.Errorf("record %d parked events: %w", n, err)
	}
	return nil
}

// dropParked forgets every event the projection parked: its tables are built anew.
func dropParked(ctx context.Context, q queryer, name string) error {
	if _, err := q.Exec(ctx, `DELETE FROM public.projection_parked WHERE projection = $1`, name); err != nil {
		return fmt.Errorf("forget the parked events of %s: %w", name, err)
	}
	return nil
}

// logParked writes one WARN line per parked event.
func logParked(ctx context.Context, log *slog.Logger, events []ParkedEvent) {
	for _, e := range events {
		log.WarnContext(ctx, "projection: event parked; its projection goes on without it (helpstream projections retry applies it after a fix)",
			"projection", e.Projection, "position", e.Position.String(), "stream", e.StreamID, "type", e.Type,
			"event_id", e.EventID, "error", e.Error)
	}
}

const parkedColumns = `projection, event_id, position_hi, position_lo, stream_id, stream_version, event_type, error, parked_at, retries`

func scanParked(row pgx.CollectableRow) (ParkedEvent, error) {
	var e ParkedEvent
	var hi, lo int64
	err := row.Scan(&e.Projection, &e.EventID, &hi, &lo, &e.StreamID, &e.StreamVersion, &e.Type, &e.Error, &e.ParkedAt, &e.Retries)
	e.Position = eventlog.NewPosition(uint64(hi), uint64(lo))
	return e, err
}

// Parked returns the events the projection called name has parked, in log order.
func Parked(ctx context.Context, db interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, name string,
) ([]ParkedEvent, error) {
	rows, err := db.Query(ctx, `SELECT `+parkedColumns+` FROM public.projection_parked
		WHERE projection = $1 ORDER BY position_hi, position_lo`, name)
	if err != nil {
		return nil, fmt.Errorf("read the parked events of %s: %w", name, err)
	}
	events, err := pgx.CollectRows(rows, scanParked)
	if err != nil {
		return nil, fmt.Errorf("read the parked events of %s: %w", name, err)
	}
	return events, nil
}

// parkedSummary is, per projection, how many events it parked and the first of them in log
// order.
type parkedSummary struct {
	count int64
	first ParkedEvent
}

// readParkedSummaries returns the parked summary of every projection of names that has parked
// events, or of every projection when names is nil.
func readParkedSummaries(ctx context.Context, db interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}, names []string,
) (map[string]parkedSummary, error) {
	rows, err := db.Query(ctx, `SELECT n.parked, `+prefixedParkedColumns+`
		FROM (SELECT projection, count(*) AS parked FROM public.projection_parked
			WHERE $1::text[] IS NULL OR projection = ANY($1) GROUP BY projection) n
		CROSS JOIN LATERAL (SELECT * FROM public.projection_parked q WHERE q.projection = n.projection
			ORDER BY q.position_hi, q.position_lo LIMIT 1) p
		ORDER BY n.projection`, names)
	if err != nil {
		return nil, fmt.Errorf("read the parked events: %w", err)
	}
	out := map[string]parkedSummary{}
	var s parkedSummary
	var hi, lo int64
	_, err = pgx.ForEachRow(rows, []any{&s.count, &s.first.Projection, &s.first.EventID, &hi, &lo, &s.first.StreamID,
		&s.first.StreamVersion, &s.first.Type, &s.first.Error, &s.first.ParkedAt, &s.first.Retries}, func() error {
		s.first.Position = eventlog.NewPosition(uint64(hi), uint64(lo))
		out[s.first.Projection] = s
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the parked events: %w", err)
	}
	return out, nil
}

const prefixedParkedColumns = `p.projection, p.event_id, p.position_hi, p.position_lo, p.stream_id, p.stream_version, p.event_type,
	p.error, p.parked_at, p.retries`
