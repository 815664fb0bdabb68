package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// StreamAppend is one stream's part of an AppendStreams call: what Append takes as arguments.
type StreamAppend struct {
	StreamID string
	Expected eventlog.ExpectedVersion
	Events   []eventlog.EventData
}

// AppendStreams appends to many streams in one transaction, with COPY: all of it or nothing.
// It is the bulk path for seeding, imports and benchmarks; commands use Append.
//
// Each StreamAppend is judged as Append judges its arguments:
//   - the stream must match Expected (NoStream, Exactly or Any), or the call fails with a
//     *eventlog.ConcurrencyError for the first stream that does not, and writes nothing;
//   - when every event of a StreamAppend is stored already, in that stream and order, by one
//     transaction (a retry of a call whose answer was lost), that part writes nothing and its
//     result is the original one; when only some are, or elsewhere, the call fails with
//     eventlog.ErrIDReused and writes nothing.
//
// A stream may appear once per call, an event ID once, and every StreamAppend needs at least
// one event. The results are in the order of appends. Events get their global positions in
// that order, all in one transaction, so readers of the global log see them together.
//
// A concurrent writer that takes a version or an event ID between the checks and the COPY
// makes the COPY fail on a unique key; the whole call is then checked and tried again, up to
// Config.MaxConflictRetries times. The transaction holds one pooled connection for its whole
// duration, and like any open transaction delays delivery to subscribers of what commits after
// it began: keep calls to some thousands of events.
func (s *Store) AppendStreams(ctx context.Context, appends []StreamAppend) ([]eventlog.AppendResult, error) {
	if len(appends) == 0 {
		return nil, nil
	}
	batches := make([]*appendBatch, len(appends))
	streams := make(map[string]bool, len(appends))
	ids := make(map[uuid.UUID]bool)
	events := 0
	for i, a := range appends {
		if len(a.Events) == 0 {
			return nil, fmt.Errorf("append streams: no events for %q", a.StreamID)
		}
		b, err := newAppendBatch(a.StreamID, a.Events)
		if err != nil {
			return nil, fmt.Errorf("append streams: %w", err)
		}
		if streams[a.StreamID] {
			return nil, fmt.Errorf("append streams: stream %q appears twice", a.StreamID)
		}
		streams[a.StreamID] = true
		for _, id := range b.ids {
			if ids[id] {
				return nil, fmt.Errorf("append streams: event ID %s appears twice", id)
			}
			ids[id] = true
		}
		batches[i] = b
		events += len(b.ids)
	}
	for attempt := 0; ; attempt++ {
		// The first attempt looks up the event IDs of mismatched streams only; after a unique
		// violation every ID is looked up, so that a reused ID is named.
		results, wrote, err := s.appendStreams(ctx, appends, batches, events, attempt > 0)
		if err == nil {
			if wrote {
				s.appended()
			}
			return results, nil
		}
		var pgErr *pgconn.PgError
		retryable := errors.As(err, &pgErr) && (pgErr.Code == "40P01" ||
			pgErr.Code == "23505" && (pgErr.ConstraintName == streamVersionKey || pgErr.ConstraintName == eventIDKey))
		if !retryable || attempt >= s.cfg.MaxConflictRetries || ctx.Err() != nil {
			return nil, err
		}
	}
}

// appendStreams is one attempt of AppendStreams, in one transaction. wrote is false when every
// part was a retry.
func (s *Store) appendStreams(ctx context.Context, appends []StreamAppend, batches []*appendBatch, events int, lookUpAllIDs bool) (results []eventlog.AppendResult, wrote bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("append streams: begin transaction: %w", err)
	}
	defer func() {
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) && err == nil {
			err = fmt.Errorf("append streams: roll back: %w", rbErr)
		}
	}()

	current, err := lastVersions(ctx, tx, appends)
	if err != nil {
		return nil, false, err
	}
	var lookUp []uuid.UUID
	for i, a := range appends {
		if lookUpAllIDs || !matches(a.Expected, current[a.StreamID]) {
			lookUp = append(lookUp, batches[i].ids...)
		}
	}
	stored, err := storedEvents(ctx, tx, lookUp)
	if err != nil {
		return nil, false, err
	}

	results = make([]eventlog.AppendResult, len(appends))
	write := make([]bool, len(appends))
	n := 0
	for i, a := range appends {
		res, done, err := judge(batches[i], stored)
		if err != nil {
			return nil, false, err
		}
		if done {
			results[i] = res
			continue
		}
		if have := current[a.StreamID]; !matches(a.Expected, have) {
			return nil, false, &eventlog.ConcurrencyError{StreamID: a.StreamID, Expected: a.Expected, Actual: have}
		}
		write[i] = true
		n += len(batches[i].ids)
	}
	if n == 0 {
		return results, false, nil
	}

	// Positions drawn from the column's own sequence before the COPY, in the order of the rows,
	// so that each part's result is known without reading the rows back.
	txID, positions, err := reservePositions(ctx, tx, n)
	if err != nil {
		return nil, false, err
	}
	rows := make([][]any, 0, n)
	for i, a := range appends {
		if !write[i] {
			continue
		}
		b := batches[i]
		base := current[a.StreamID]
		for j := range b.ids {
			rows = append(rows, []any{positions[len(rows)], b.streamID, base + 1 + int64(j), uuidParam(b.ids[j]), b.types[j], b.data[j], b.meta[j]})
		}
		last := int64(len(b.ids))
		results[i] = eventlog.AppendResult{
			NextExpected: base + last,
			Position:     eventlog.NewPosition(txID, uint64(positions[len(rows)-1])),
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"events"},
		[]string{"global_position", "stream_id", "stream_version", "event_id", "event_type", "data", "metadata"},
		pgx.CopyFromRows(rows)); err != nil {
		return nil, false, fmt.Errorf("append streams: copy %d events: %w", n, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, fmt.Errorf("append streams: commit: %w", err)
	}
	return results, true, nil
}

// matches reports whether a stream whose last version is have (-1: no stream) meets expected.
func matches(expected eventlog.ExpectedVersion, have int64) bool {
	want, exact := expected.Exact()
	return !exact || want == have
}

// lastVersions returns each stream's last version, -1 for the streams that have no event.
func lastVersions(ctx context.Context, tx pgx.Tx, appends []StreamAppend) (map[string]int64, error) {
	ids := make([]string, len(appends))
	out := make(map[string]int64, len(appends))
	for i, a := range appends {
		ids[i] = a.StreamID
		out[a.StreamID] = -1
	}
	// One backward probe of (stream_id, stream_version) per stream, whatever the planner
	// would estimate for a GROUP BY over a long array.
	rows, err := tx.Query(ctx, `SELECT s.id, v.version FROM unnest($1::text[]) AS s(id)
		CROSS JOIN LATERAL (SELECT stream_version AS version FROM events WHERE stream_id = s.id ORDER BY stream_version DESC LIMIT 1) AS v`, ids)
	if err != nil {
		return nil, fmt.Errorf("append streams: read last versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("append streams: read last versions: %w", err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append streams: read last versions: %w", err)
	}
	return out, nil
}

// storedEvent is where an event ID is stored.
type storedEvent struct {
	streamID string
	version  int64
	txID     uint64
	position int64
}

// storedEvents looks up event IDs.
func storedEvents(ctx context.Context, tx pgx.Tx, ids []uuid.UUID) (map[uuid.UUID]storedEvent, error) {
	out := make(map[uuid.UUID]storedEvent)
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.Query(ctx,
		`SELECT event_id, stream_id, stream_version, transaction_id, global_position FROM events WHERE event_id = ANY($1::uuid[])`, uuidParams(ids))
	if err != nil {
		return nil, fmt.Errorf("append streams: look up event IDs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id uuid.UUID
		var f storedEvent
		if err := rows.Scan(&id, &f.streamID, &f.version, &f.txID, &f.position); err != nil {
			return nil, fmt.Errorf("append streams: look up event IDs: %w", err)
		}
		out[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("append streams: look up event IDs: %w", err)
	}
	return out, nil
}

// judge decides what the stored events mean for one part, as Append's storedResult does: none
// stored, write it; all stored in its stream, in its order, by one transaction, it is done and
// res is the original result; anything else, eventlog.ErrIDReused.
func judge(b *appendBatch, stored map[uuid.UUID]storedEvent) (res eventlog.AppendResult, done bool, err error) {
	found := 0
	for _, id := range b.ids {
		if _, ok := stored[id]; ok {
			found++
		}
	}
	if found == 0 {
		return res, false, nil
	}
	first := stored[b.ids[0]]
	for i, id := range b.ids {
		f, ok := stored[id]
		switch {
		case !ok:
			return res, false, fmt.Errorf("append streams: event %s of %q is new but others of its part are stored already: %w", id, b.streamID, eventlog.ErrIDReused)
		case f.streamID != b.streamID:
			return res, false, fmt.Errorf("append streams: event %s of %q is stored in stream %q: %w", id, b.streamID, f.streamID, eventlog.ErrIDReused)
		case f.version != first.version+int64(i) || f.txID != first.txID:
			return res, false, fmt.Errorf("append streams: event %s of %q is stored at version %d by another append: %w", id, b.streamID, f.version, eventlog.ErrIDReused)
		}
	}
	last := stored[b.ids[len(b.ids)-1]]
	return eventlog.AppendResult{NextExpected: last.version, Position: eventlog.NewPosition(last.txID, uint64(last.position))}, true, nil
}

// reservePositions gives the transaction its log transaction ID and draws n values from
// global_position's sequence, in increasing order. It takes the write lock on events first:
// readers look past running transactions that hold none (009_event_log_clock.sql), so a writer
// must hold it before its transaction gets an ID.
func reservePositions(ctx context.Context, tx pgx.Tx, n int) (uint64, []int64, error) {
	if _, err := tx.Exec(ctx, `LOCK TABLE events IN ROW EXCLUSIVE MODE`); err != nil {
		return 0, nil, fmt.Errorf("append streams: lock events for writing: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT event_log_transaction_id(), nextval(s.seq)
		FROM (SELECT pg_get_serial_sequence('events', 'global_position')::regclass AS seq) AS s, generate_series(1, $1)`, n)
	if err != nil {
		return 0, nil, fmt.Errorf("append streams: reserve positions: %w", err)
	}
	defer rows.Close()
	var txID uint64
	positions := make([]int64, 0, n)
	for rows.Next() {
		var p int64
		if err := rows.Scan(&txID, &p); err != nil {
			return 0, nil, fmt.Errorf("append streams: reserve positions: %w", err)
		}
		positions = append(positions, p)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("append streams: reserve positions: %w", err)
	}
	if len(positions) != n {
		return 0, nil, fmt.Errorf("append streams: reserved %d positions of %d", len(positions), n)
	}
	slices.Sort(positions)
	return txID, positions, nil
}
