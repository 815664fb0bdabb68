package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

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

// readAllSQL reads the global log strictly after ($1, $2), only below the oldest running
// transaction, so no row can later appear before the last one it returned.
const readAllSQL = `SELECT ` + eventColumns + `
FROM events
WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
  AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY transaction_id, global_position
LIMIT $3`

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
	rows, err := s.pool.Query(ctx, readStreamSQL, streamID, from, limit)
	if err != nil {
		return nil, fmt.Errorf("read stream %q from version %d: %w", streamID, from, err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read stream %q from version %d: %w", streamID, from, err)
	}
	return events, nil
}

// ReadAll implements eventlog.Store. Events committed by a transaction that began writing
// before one that is still open are held back until it ends.
func (s *Store) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("read all from %s: negative limit %d", from, opts.Limit)
	}
	limit := opts.Limit
	if limit == 0 {
		limit = DefaultReadAllLimit
	}
	txID, position := from.Parts()
	rows, err := s.pool.Query(ctx, readAllSQL, txID, int64(position), limit)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	events, err := pgx.CollectRows(rows, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read all from %s: %w", from, err)
	}
	return events, nil
}

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
	if err := json.Unmarshal(meta, &e.Metadata); err != nil {
		return e, fmt.Errorf("decode metadata of event %s: %w", e.ID, err)
	}
	return e, nil
}

// pageSQL is a subscription's read: like readAllSQL with a stream-prefix filter, plus, from the
// same snapshot, the last readable position of the whole log (the filter may skip up to it) and
// whether committed rows are held back behind an open transaction. It always returns at least
// one row; page columns are NULL when the page is empty.
const pageSQL = `
WITH snap AS MATERIALIZED (
	SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
), page AS MATERIALIZED (
	SELECT ` + eventColumns + `
	FROM events
	WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint)
	  AND transaction_id < (SELECT xmin FROM snap)
	  AND ($4::text[] IS NULL OR stream_id LIKE ANY ($4::text[]))
	ORDER BY transaction_id, global_position
	LIMIT $3
), tail AS MATERIALIZED (
	SELECT h.transaction_id AS hw_transaction_id, h.global_position AS hw_global_position,
	       EXISTS (SELECT FROM events WHERE transaction_id >= (SELECT xmin FROM snap)) AS held
	FROM (SELECT) AS one
	LEFT JOIN LATERAL (
		SELECT transaction_id, global_position FROM events
		WHERE transaction_id < (SELECT xmin FROM snap)
		ORDER BY transaction_id DESC, global_position DESC
		LIMIT 1
	) AS h ON true
)
SELECT tail.hw_transaction_id, tail.hw_global_position, tail.held,
       page.transaction_id, page.global_position, page.stream_id, page.stream_version, page.event_id,
       page.event_type, page.data, page.metadata, page.recorded_at
FROM tail LEFT JOIN page ON true
ORDER BY page.transaction_id, page.global_position`

// page is one read of a subscription.
type page struct {
	events []eventlog.RecordedEvent
	// highWater is the last position of the whole log that the read could see (Start when the
	// log is empty); when the page is not full, nothing readable up to it is left unread.
	highWater eventlog.Position
	// held is true when committed events wait behind a transaction that is still open.
	held bool
}

func (s *Store) readPage(ctx context.Context, from eventlog.Position, patterns []string, limit int) (page, error) {
	var p page
	txID, position := from.Parts()
	rows, err := s.pool.Query(ctx, pageSQL, txID, int64(position), limit, patterns)
	if err != nil {
		return p, fmt.Errorf("read events from %s: %w", from, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			hwTxID, eTxID         *uint64
			hwPosition, ePosition *int64
			streamID, eventType   *string
			version               *int64
			id                    *uuid.UUID
			data, meta            []byte
			recordedAt            *time.Time
		)
		if err := rows.Scan(&hwTxID, &hwPosition, &p.held, &eTxID, &ePosition, &streamID, &version, &id, &eventType, &data, &meta, &recordedAt); err != nil {
			return p, fmt.Errorf("read events from %s: %w", from, err)
		}
		if hwTxID != nil && hwPosition != nil {
			p.highWater = eventlog.NewPosition(*hwTxID, uint64(*hwPosition))
		}
		if eTxID == nil {
			continue // empty page
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
		if err := json.Unmarshal(meta, &e.Metadata); err != nil {
			return p, fmt.Errorf("read events from %s: decode metadata of event %s: %w", from, e.ID, err)
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
