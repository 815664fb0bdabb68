package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// DefaultReadAllLimit is ReadAll's page when ReadOptions.Limit is 0.
const DefaultReadAllLimit = 1000

const eventColumns = `transaction_id, global_position, stream_id, stream_version, event_id, event_type, data, metadata, recorded_at`

const readStreamSQL = `SELECT ` + eventColumns + `
FROM events
WHERE stream_id = $1 AND stream_version >= $2
ORDER BY stream_version
LIMIT $3`

// readAllSQL reads the global log strictly after ($1, $2), only below the readable horizon
// (horizonSQL, precise when $3, with the clock's offset $4), so no row can later appear before the last one it
// returned. The limit is part of the text: with a parameter the planner of a generic plan
// assumes a tenth of the table and may prefer a sequential scan and a sort to the ordered index
// scan.
func readAllSQL(limit int) string {
	return `SELECT ` + eventColumns + `
FROM events
WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
  AND transaction_id < ` + horizonSQL(3, 4) + `
ORDER BY transaction_id, global_position
LIMIT ` + strconv.Itoa(limit) + "\n"
}

const readDeliveredSQL = `SELECT ` + eventColumns + `
FROM events
WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
  AND (transaction_id, global_position) <= ($3::xid8, $4::bigint)
ORDER BY transaction_id, global_position
LIMIT $5`

// ReadDelivered implements eventlog.DeliveredReader: the events after from up to until, which
// this log delivered already, read without the delivery horizon (see horizonSQL): below a
// position delivered once, every event is committed and no transaction can add one.
func (s *Store) ReadDelivered(ctx context.Context, from, until eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read delivered events from %s: negative limit %d", from, opts.Limit)
	}
	limit := cmp.Or(opts.Limit, DefaultReadAllLimit)
	fromTx, fromPos := from.Parts()
	untilTx, untilPos := until.Parts()
	return s.queryEvents(ctx, func(err error) error { return fmt.Errorf("read delivered events from %s to %s: %w", from, until, err) },
		readDeliveredSQL, fromTx, int64(fromPos), untilTx, int64(untilPos), limit)
}

// queryEvents runs a query of eventColumns and scans its rows; failed says what failed.
func (s *Store) queryEvents(ctx context.Context, failed func(error) error, sql string, args ...any) ([]eventlog.RecordedEvent, error) {
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, failed(err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, failed(err)
	}
	return events, nil
}

// ReadStream implements eventlog.Store.
func (s *Store) ReadStream(ctx context.Context, streamID string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read stream %q: negative limit %d", streamID, opts.Limit)
	}
	var limit *int64 // NULL: no limit
	if opts.Limit > 0 {
		l := int64(opts.Limit)
		limit = &l
	}
	return s.queryEvents(ctx, func(err error) error { return fmt.Errorf("read stream %q from version %d: %w", streamID, from, err) },
		readStreamSQL, streamID, from, limit)
}

const readStreamsSQL = `SELECT ` + eventColumns + `
FROM events
WHERE stream_id = ANY($1::text[])
ORDER BY stream_id, stream_version`

// ReadStreams implements eventlog.StreamsReader: whole streams in one round trip.
func (s *Store) ReadStreams(ctx context.Context, streamIDs []string) (map[string][]eventlog.RecordedEvent, error) {
	events, err := s.queryEvents(ctx, func(err error) error { return fmt.Errorf("read streams %q: %w", streamIDs, err) },
		readStreamsSQL, streamIDs)
	if err != nil {
		return nil, err
	}
	byStream := make(map[string][]eventlog.RecordedEvent, len(streamIDs))
	for _, e := range events {
		byStream[e.StreamID] = append(byStream[e.StreamID], e)
	}
	return byStream, nil
}

// ReadAll implements eventlog.Store. Events committed by a transaction that began writing
// after one that is still open and can still write events are held back until it ends.
func (s *Store) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read all from %s: negative limit %d", from, opts.Limit)
	}
	limit := cmp.Or(opts.Limit, DefaultReadAllLimit)
	txID, position := from.Parts()
	offset, err := s.xidOffset(ctx)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	return s.queryEvents(ctx, func(err error) error { return fmt.Errorf("read all from %s: %w", from, err) },
		readAllSQL(limit), txID, int64(position), s.horizon.precise(time.Now()), offset)
}

// decodeMetadata decodes an event's metadata. Every event read carries metadata to decode, and
// a rebuild reads millions: github.com/goccy/go-json does it several times faster than
// encoding/json, into the same values (a test and a fuzz target hold it to that).
func decodeMetadata(data []byte, m *eventlog.Metadata) error { return gojson.Unmarshal(data, m) }

// scanEvent reads the eventColumns of one row.
func scanEvent(row pgx.CollectableRow) (eventlog.RecordedEvent, error) {
	var e eventlog.RecordedEvent
	var txID uint64
	var position int64
	var data, meta []byte // not json.RawMessage: pgx would unmarshal into it and trim whitespace
	if err := row.Scan(&txID, &position, &e.StreamID, &e.Version, &e.ID, &e.Type, &data, &meta, &e.RecordedAt); err != nil {
		return e, err
	}
	e.Data = data
	e.Position = eventlog.NewPosition(txID, uint64(position))
	if err := decodeMetadata(meta, &e.Metadata); err != nil {
		e.Metadata = lenientMetadata(meta)
	}
	return e, nil
}

// lenientMetadata reads what it can of metadata that does not decode (written by an older
// program, another store, an import): each field that decodes, the others left zero. Refusing
// the event instead would fail every read of the page it is on, and every reader of the log
// (projectors, forwarder, live updates) would stop there for good. What was lost shows where it
// matters: the stream's hash chain no longer verifies.
func lenientMetadata(raw []byte) eventlog.Metadata {
	var m eventlog.Metadata
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return m
	}
	for name, into := range map[string]any{
		"actor": &m.Actor, "occurred_at": &m.OccurredAt, "correlation_id": &m.CorrelationID,
		"causation_id": &m.CausationID, "previous_hash": &m.PreviousHash, "hash": &m.Hash,
		"decision": &m.Decision,
	} {
		if v, ok := fields[name]; ok {
			_ = json.Unmarshal(v, into) // a field that does not decode stays zero
		}
	}
	return m
}

// filteredScanWindow is how many events of the global log a filtered subscription examines in
// one read at least; it bounds the work of a read when few events pass the filter.
const filteredScanWindow = 2000

// pageSQL is a subscription's read. From one snapshot it takes a window of the readable log
// after ($1, $2) in order (at most window events, by the ordered index), the first batch events
// of it that pass the stream-prefix filter $3 (NULL: all), where the window ended and how long
// it was, whether committed events are held back behind a transaction that is still open
// (held), and whether they wait behind the cluster's horizon (waiting, with cluster the
// horizon: see horizonWatch). $4 asks for the precise horizon; $5 is the clock's offset.
// It always returns one row at least; the event columns are NULL when no event passed.
func pageSQL(batch, window int) string {
	return `
WITH snap AS MATERIALIZED (
	SELECT c.cluster, CASE WHEN $4::boolean THEN event_log_horizon(pg_current_snapshot(), true) ELSE c.cluster END AS xmin
	FROM (SELECT ` + clusterHorizonSQL(5) + ` AS cluster) AS c
), newest AS MATERIALIZED (
	SELECT transaction_id FROM events ORDER BY transaction_id DESC LIMIT 1
), win AS MATERIALIZED (
	SELECT transaction_id, global_position, stream_id
	FROM events
	WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
	  AND transaction_id < (SELECT xmin FROM snap)
	ORDER BY transaction_id, global_position
	LIMIT ` + strconv.Itoa(window) + `
), page AS MATERIALIZED (
	SELECT global_position FROM win
	WHERE $3::text[] IS NULL OR stream_id LIKE ANY ($3::text[])
	ORDER BY transaction_id, global_position
	LIMIT ` + strconv.Itoa(batch) + `
), tail AS MATERIALIZED (
	SELECT last.transaction_id AS last_transaction_id, last.global_position AS last_global_position, n.scanned,
	       coalesce((SELECT transaction_id FROM newest) >= (SELECT xmin FROM snap), false) AS held,
	       coalesce((SELECT transaction_id FROM newest) >= (SELECT cluster FROM snap), false) AS waiting,
	       (SELECT cluster FROM snap) AS cluster,
	       (SELECT transaction_id FROM newest) AS newest
	FROM (SELECT count(*) AS scanned FROM win) AS n
	LEFT JOIN LATERAL (
		SELECT transaction_id, global_position FROM win
		ORDER BY transaction_id DESC, global_position DESC
		LIMIT 1
	) AS last ON true
)
SELECT tail.last_transaction_id, tail.last_global_position, tail.scanned, tail.held, tail.waiting, tail.cluster, tail.newest,
       e.transaction_id, e.global_position, e.stream_id, e.stream_version, e.event_id,
       e.event_type, e.data, e.metadata, e.recorded_at
FROM tail
LEFT JOIN (page JOIN events AS e USING (global_position)) ON true
ORDER BY e.transaction_id, e.global_position`
}

// page is one read of a subscription.
type page struct {
	events []eventlog.RecordedEvent
	// scannedTo is the last position the read examined (Start when it examined none): nothing
	// up to it is left to deliver once the events are.
	scannedTo eventlog.Position
	// exhausted is true when the read examined all of the readable log: the subscription has
	// caught up once the events are delivered.
	exhausted bool
	// held is true when committed events wait behind a transaction that is still open.
	held bool
}

// readPage reads up to batch events after from whose streams match patterns (nil: all).
func (s *Store) readPage(ctx context.Context, from eventlog.Position, patterns []string, batch int) (page, error) {
	var p page
	window := batch
	if patterns != nil {
		window = max(batch, filteredScanWindow)
	}
	txID, position := from.Parts()
	offset, err := s.xidOffset(ctx)
	if err != nil {
		return p, fmt.Errorf("read events from %s: %w", from, err)
	}
	now := time.Now()
	rows, err := s.pool.Query(ctx, pageSQL(batch, window), txID, int64(position), patterns, s.horizon.precise(now), offset)
	if err != nil {
		return p, fmt.Errorf("read events from %s: %w", from, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			lastTxID, eTxID         *uint64
			lastPosition, ePosition *int64
			scanned                 int64
			waiting                 bool
			cluster                 uint64
			newest                  *uint64
			streamID, eventType     *string
			version                 *int64
			id                      *uuid.UUID
			data, meta              []byte
			recordedAt              *time.Time
		)
		if err := rows.Scan(&lastTxID, &lastPosition, &scanned, &p.held, &waiting, &cluster, &newest,
			&eTxID, &ePosition, &streamID, &version, &id, &eventType, &data, &meta, &recordedAt); err != nil {
			return p, fmt.Errorf("read events from %s: %w", from, err)
		}
		if lastTxID != nil && lastPosition != nil {
			p.scannedTo = eventlog.NewPosition(*lastTxID, uint64(*lastPosition))
		}
		p.exhausted = scanned < int64(window)
		var newestID uint64
		if newest != nil {
			newestID = *newest
		}
		s.horizon.observe(cluster, newestID, waiting, now)
		if eTxID == nil {
			continue // no event passed
		}
		if ePosition == nil || streamID == nil || version == nil || id == nil || eventType == nil || recordedAt == nil {
			return p, fmt.Errorf("read events from %s: %w", from, errors.New("event row with NULL columns"))
		}
		e := eventlog.RecordedEvent{
			ID:         *id,
			StreamID:   *streamID,
			Version:    *version,
			Type:       *eventType,
			Data:       data,
			Position:   eventlog.NewPosition(*eTxID, uint64(*ePosition)),
			RecordedAt: *recordedAt,
		}
		if err := decodeMetadata(meta, &e.Metadata); err != nil {
			e.Metadata = lenientMetadata(meta)
		}
		p.events = append(p.events, e)
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("read events from %s: %w", from, err)
	}
	return p, nil
}

// likePatterns turns stream prefixes into LIKE patterns (nil for no filter).
func likePatterns(prefixes []string) []string {
	if len(prefixes) == 0 {
		return nil
	}
	escape := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	patterns := make([]string, len(prefixes))
	for i, p := range prefixes {
		patterns[i] = escape.Replace(p) + "%"
	}
	return patterns
}

// Head returns the position of the last event ReadAll would return now (the start of the log
// when there is none): where a reader that only wants what happens from now on subscribes.
func (s *Store) Head(ctx context.Context) (eventlog.Position, error) {
	var txID *uint64
	var position *int64
	offset, err := s.xidOffset(ctx)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("read the head of the log: %w", err)
	}
	err = s.pool.QueryRow(ctx, `SELECT transaction_id, global_position FROM events
		WHERE transaction_id < `+horizonSQL(1, 2)+`
		ORDER BY transaction_id DESC, global_position DESC LIMIT 1`, s.horizon.precise(time.Now()), offset).Scan(&txID, &position)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Start(), nil
	}
	if err != nil {
		return eventlog.Start(), fmt.Errorf("read the head of the log: %w", err)
	}
	return eventlog.NewPosition(*txID, uint64(*position)), nil
}

var _ eventlog.HeadReader = (*Store)(nil)

// Newest returns the position of the newest event committed and visible now, past the readable
// horizon that Head keeps to: every event committed before the call is at or before it (an
// append still open may yet commit below it). It answers "where does the log end now" for a
// consumer that must leave out what was written before it first started (the notifier), which
// Head, held back by any transaction open in the cluster, would answer too early.
func (s *Store) Newest(ctx context.Context) (eventlog.Position, error) {
	var txID uint64
	var position int64
	err := s.pool.QueryRow(ctx, `SELECT transaction_id, global_position FROM events
		ORDER BY transaction_id DESC, global_position DESC LIMIT 1`).Scan(&txID, &position)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Start(), nil
	}
	if err != nil {
		return eventlog.Start(), fmt.Errorf("read the newest event of the log: %w", err)
	}
	return eventlog.NewPosition(txID, uint64(position)), nil
}

// FindAppend returns where the append that stored eventID in streamID landed: the last event
// of that append is the stream's last event written by the same transaction.
func (s *Store) FindAppend(ctx context.Context, streamID string, eventID uuid.UUID) (eventlog.AppendResult, bool, error) {
	var version int64
	var txID uint64
	var position int64
	err := s.pool.QueryRow(ctx, `
		SELECT e.stream_version, e.transaction_id, e.global_position
		FROM events e
		JOIN events first ON first.event_id = $2 AND first.stream_id = $1
		WHERE e.stream_id = $1 AND e.transaction_id = first.transaction_id
		ORDER BY e.stream_version DESC LIMIT 1`, streamID, eventID).Scan(&version, &txID, &position)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.AppendResult{}, false, nil
	}
	if err != nil {
		return eventlog.AppendResult{}, false, fmt.Errorf("find the append of event %s in %q: %w", eventID, streamID, err)
	}
	return eventlog.AppendResult{NextExpected: version, Position: eventlog.NewPosition(txID, uint64(position))}, true, nil
}

var _ eventlog.AppendFinder = (*Store)(nil)
