// Package pgstore is the PostgreSQL implementation of the event-store port (eventlog.Store).
//
// All events live in one table, events (migration 001_eventstore.sql). An append is one
// INSERT … SELECT statement in its own implicit transaction: it reads the stream's last version,
// checks the expected version and inserts the batch with consecutive versions. The unique
// (stream_id, stream_version) key turns a race between writers into a unique violation, reported
// as *eventlog.ConcurrencyError; the unique event_id key makes retries idempotent.
//
// The global log is ordered by (transaction_id, global_position). A bigserial alone is not a
// usable position: it is assigned at insert, so a transaction that started earlier can commit
// later and its rows would appear behind a reader that already moved past them. transaction_id
// is the appending transaction's ID plus the log clock's offset (009_event_log_clock.sql), which
// a restore into another cluster raises so that new events still sort last. Readers only read
// rows below the readable horizon: the oldest transaction still running, or, once that has held
// events back for Config.PreciseHorizonAfter, the oldest running transaction that can still
// write events (a transaction of another database, or one holding no write lock on events,
// cannot). Everything below it has ended, and every later append gets a larger transaction ID.
// The trade-off: an append that stays open delays delivery of everything committed after it
// began (it never loses it); Horizon reports who holds what back.
//
// Subscribers are woken directly by appends of the same Store, through LISTEN/NOTIFY by appends
// of other Stores (a background notifier issues NOTIFY after appends, outside the appending
// transaction, since a NOTIFY inside it serialises commits), and by polling as a fallback.
package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/fault"
)

// Names of the unique constraints of the events table (001_eventstore.sql).
const (
	streamVersionKey = "events_stream_version_key"
	eventIDKey       = "events_event_id_key"
)

// Store is the PostgreSQL event store. It is safe for concurrent use. Call Close when done with
// it to stop its background notifier.
type Store struct {
	pool *pgxpool.Pool
	cfg  Config
	log  *slog.Logger

	horizon *horizonWatch
	clock   logClock

	mu   sync.Mutex
	subs map[chan struct{}]struct{} // wake channels of this Store's running subscriptions

	// readOutage and listenOutage tell the subscriptions' outages as episodes: one line when
	// the reads (or the LISTEN connection) start failing, one when they work again, however
	// many subscriptions retry meanwhile.
	readOutage   *fault.Episodes
	listenOutage *fault.Episodes

	notifyCh  chan struct{} // holds a token when appends happened since the last NOTIFY began
	notifySQL string        // one simple-protocol round trip: an asynchronously committed NOTIFY
	stop      context.CancelFunc
	stopped   chan struct{}
	closeOnce sync.Once
}

var _ eventlog.Store = (*Store)(nil)

// New returns a Store on pool, whose database must be migrated (adapters/postgres/schema). The
// zero Config takes every default. It starts a background notifier; Close stops it.
//
// Size the pool for the concurrency you want: one append holds one connection for one round
// trip, the notifier takes one connection at a time, and every subscription opens its own
// dedicated LISTEN connection besides the pool.
func New(pool *pgxpool.Pool, cfg Config) (*Store, error) {
	if pool == nil {
		return nil, errors.New("new event store: nil pool")
	}
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("new event store: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &Store{
		pool:     pool,
		cfg:      cfg,
		log:      cfg.Logger,
		subs:     make(map[chan struct{}]struct{}),
		horizon:  &horizonWatch{after: cfg.PreciseHorizonAfter},
		notifyCh: make(chan struct{}, 1),
		notifySQL: "BEGIN; SET LOCAL synchronous_commit = off; NOTIFY " +
			pgx.Identifier{cfg.NotifyChannel}.Sanitize() + "; COMMIT",
		stop:         stop,
		stopped:      make(chan struct{}),
		readOutage:   fault.NewEpisodes(fmt.Sprintf("event subscriptions: reading the log failed; retrying every %s, nothing is skipped", cfg.ReconnectDelay), cfg.Logger),
		listenOutage: fault.NewEpisodes(fmt.Sprintf("event subscriptions: the LISTEN connection is lost; reconnecting every %s and polling every %s meanwhile", cfg.ReconnectDelay, cfg.PollInterval), cfg.Logger),
	}
	go s.runNotifier(ctx)
	return s, nil
}

// Close stops the background notifier and waits for it. Appends still work afterwards, but no
// longer wake subscribers of other processes. Running subscriptions are not affected: they end
// with their context. Close is idempotent.
func (s *Store) Close() {
	s.closeOnce.Do(func() {
		s.stop()
		<-s.stopped
	})
}

// Append implements eventlog.Store.
func (s *Store) Append(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	if len(events) == 0 {
		return s.appendNothing(ctx, streamID, expected)
	}
	results, err := s.AppendChecked(ctx, streamID, expected, nil, events...)
	if err != nil {
		return eventlog.AppendResult{}, err
	}
	return results[len(results)-1], nil
}

var _ eventlog.CheckedAppender = (*Store)(nil)

// AppendChecked implements eventlog.CheckedAppender: the check of the other streams is part of
// the append's one statement, so it costs no round trip.
func (s *Store) AppendChecked(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, reads []eventlog.StreamVersion, events ...eventlog.EventData) ([]eventlog.AppendResult, error) {
	if len(events) == 0 {
		return nil, fmt.Errorf("append to %q: no events", streamID)
	}
	batch, err := newAppendBatch(streamID, events)
	if err != nil {
		return nil, err
	}
	batch.reads = reads
	for attempt := 0; ; attempt++ {
		results, inserted, err := batch.insert(ctx, s.pool, expected)
		if err == nil && inserted {
			s.appended()
			return results, nil
		}
		results, retry, err := s.afterConflict(ctx, batch, expected, err, attempt)
		if retry {
			continue
		}
		return results, err
	}
}

// appended wakes this Store's subscribers and asks the notifier to wake other processes'.
func (s *Store) appended() {
	s.mu.Lock()
	for wake := range s.subs {
		poke(wake)
	}
	s.mu.Unlock()
	if !s.cfg.DisableNotify {
		poke(s.notifyCh)
	}
}

// poke leaves a token in a one-slot channel without ever blocking.
func poke(ch chan<- struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// runNotifier issues one NOTIFY after appends, outside their transactions. It has at most one
// NOTIFY in flight; appends during it leave one token, which causes exactly one more NOTIFY that
// starts after they committed.
//
// A NOTIFY gives its transaction an ID and a commit record; committing it asynchronously spares
// the database a WAL flush per NOTIFY (a notification is worth nothing after a crash anyway).
func (s *Store) runNotifier(ctx context.Context) {
	defer close(s.stopped)
	var lastWarning time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.notifyCh:
		}
		started := time.Now()
		nctx, cancel := context.WithTimeout(ctx, s.cfg.NotifyTimeout)
		_, err := s.pool.Exec(nctx, s.notifySQL)
		cancel()
		// Appends until the end of NotifyEvery share the next NOTIFY.
		if rest := s.cfg.NotifyEvery - time.Since(started); rest > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(rest):
			}
		}
		if err != nil && ctx.Err() == nil && time.Since(lastWarning) > 10*time.Second {
			lastWarning = time.Now()
			s.log.WarnContext(ctx, "event store: NOTIFY after append failed; subscribers of other processes fall back to polling",
				"channel", s.cfg.NotifyChannel, "error", err)
		}
	}
}

// appendBatch holds an append's arguments, checked and encoded once for all attempts.
type appendBatch struct {
	streamID string
	// reads are the other streams that must be at their versions for the append to happen.
	reads  []eventlog.StreamVersion
	events []eventlog.EventData
	ids    []uuid.UUID
	types  []string
	data   [][]byte
	meta   [][]byte
}

func newAppendBatch(streamID string, events []eventlog.EventData) (*appendBatch, error) {
	if streamID == "" {
		return nil, errors.New("append: empty stream ID")
	}
	b := &appendBatch{
		streamID: streamID,
		events:   events,
		ids:      make([]uuid.UUID, len(events)),
		types:    make([]string, len(events)),
		data:     make([][]byte, len(events)),
		meta:     make([][]byte, len(events)),
	}
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		if e.ID == uuid.Nil {
			return nil, fmt.Errorf("append to %q: event %d has no ID", streamID, i)
		}
		if _, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("append to %q: event ID %s appears twice in one append", streamID, e.ID)
		}
		seen[e.ID] = struct{}{}
		if e.Type == "" {
			return nil, fmt.Errorf("append to %q: event %s has no type", streamID, e.ID)
		}
		if !json.Valid(e.Data) {
			return nil, fmt.Errorf("append to %q: data of event %s is not valid JSON", streamID, e.ID)
		}
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("append to %q: encode metadata of event %s: %w", streamID, e.ID, err)
		}
		b.ids[i], b.types[i], b.data[i], b.meta[i] = e.ID, e.Type, e.Data, meta
	}
	return b, nil
}

// appendSQL is the whole append: one statement, one round trip. It inserts nothing when the
// stream's last version differs from $6 (NULL accepts any). Two writers that both saw the same
// last version collide on the unique (stream_id, stream_version): the second waits for the
// first to commit and then fails with a unique violation.
const appendSQL = `
WITH cur AS (
	SELECT coalesce(max(stream_version), -1) AS v FROM events WHERE stream_id = $1
)
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
SELECT $1, cur.v + e.ord, e.id, e.type, e.data, e.meta
FROM cur, unnest($2::uuid[], $3::text[], $4::json[], $5::json[]) WITH ORDINALITY AS e(id, type, data, meta, ord)
WHERE $6::bigint IS NULL OR cur.v = $6::bigint
ORDER BY e.ord
RETURNING transaction_id, global_position, stream_version`

// checkedAppendSQL returns appendSQL that also inserts nothing when one of reads streams is not
// at its version (-1: no event), read by the same statement, so a decision's other reads are
// checked at no extra round trip. Each stream gets its own condition ($7 and $8, $9 and $10,
// …): an uncorrelated max over the (stream_id, stream_version) key that the planner runs once,
// as one index probe; unnesting arrays of them instead made the planner join and cost half the
// append rate.
func checkedAppendSQL(reads int) string {
	if reads < len(checkedAppendSQLs) {
		return checkedAppendSQLs[reads]
	}
	return buildCheckedAppendSQL(reads)
}

// checkedAppendSQLs holds the statements for the usual numbers of reads.
var checkedAppendSQLs = func() []string {
	out := make([]string, 5)
	for n := range out {
		out[n] = buildCheckedAppendSQL(n)
	}
	return out
}()

func buildCheckedAppendSQL(reads int) string {
	var b strings.Builder
	b.WriteString(`
WITH cur AS (
	SELECT coalesce(max(stream_version), -1) AS v FROM events WHERE stream_id = $1
)
INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
SELECT $1, cur.v + e.ord, e.id, e.type, e.data, e.meta
FROM cur, unnest($2::uuid[], $3::text[], $4::json[], $5::json[]) WITH ORDINALITY AS e(id, type, data, meta, ord)
WHERE ($6::bigint IS NULL OR cur.v = $6::bigint)`)
	for i := range reads {
		fmt.Fprintf(&b, "\n  AND coalesce((SELECT max(stream_version) FROM events WHERE stream_id = $%d::text), -1) = $%d::bigint", 7+2*i, 8+2*i)
	}
	b.WriteString(`
ORDER BY e.ord
RETURNING transaction_id, global_position, stream_version`)
	return b.String()
}

// querier is a pool, a connection or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// insert runs appendSQL (checkedAppendSQL with reads) and returns each event's result in order. inserted is false when the
// expected version or one of the reads did not match.
func (b *appendBatch) insert(ctx context.Context, q querier, expected eventlog.ExpectedVersion) (results []eventlog.AppendResult, inserted bool, err error) {
	var want *int64
	if v, ok := expected.Exact(); ok {
		want = &v
	}
	args := []any{b.streamID, uuidParams(b.ids), b.types, b.data, b.meta, want}
	sql := appendSQL
	if len(b.reads) > 0 {
		sql = checkedAppendSQL(len(b.reads))
		for _, r := range b.reads {
			args = append(args, r.StreamID, r.Version)
		}
	}
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	results = make([]eventlog.AppendResult, 0, len(b.events))
	for rows.Next() {
		var txID uint64
		var position, version int64
		if err := rows.Scan(&txID, &position, &version); err != nil {
			return nil, false, err
		}
		results = append(results, eventlog.AppendResult{NextExpected: version, Position: eventlog.NewPosition(txID, uint64(position))})
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	switch len(results) {
	case 0:
		return nil, false, nil
	case len(b.events):
		// RETURNING follows the insert's order in practice; sorting by version makes it a rule.
		slices.SortFunc(results, func(x, y eventlog.AppendResult) int { return cmp.Compare(x.NextExpected, y.NextExpected) })
		return results, true, nil
	default:
		return nil, false, fmt.Errorf("inserted %d of %d events", len(results), len(b.events))
	}
}

// afterConflict decides what an append that wrote nothing means. cause is the error of the
// insert, nil when it found the stream (or one of its reads) at another version. It returns the
// original results when every event is already stored (a retry), retry when trying again may
// succeed, or the error.
func (s *Store) afterConflict(ctx context.Context, b *appendBatch, expected eventlog.ExpectedVersion, cause error, attempt int) (results []eventlog.AppendResult, retry bool, err error) {
	canRetry := attempt < s.cfg.MaxConflictRetries
	var pgErr *pgconn.PgError
	isPgErr := errors.As(cause, &pgErr)
	uniqueViolation := isPgErr && pgErr.Code == "23505" &&
		(pgErr.ConstraintName == streamVersionKey || pgErr.ConstraintName == eventIDKey)
	if isPgErr && pgErr.Code == "40P01" && canRetry {
		// Two batches that share event IDs in different orders deadlocked; the next attempt
		// finds the IDs stored.
		return nil, true, nil
	}
	if cause != nil && !uniqueViolation {
		return nil, false, fmt.Errorf("append to %q: %w", b.streamID, cause)
	}
	results, stored, err := s.storedResults(ctx, b)
	if err != nil || stored {
		return results, false, err
	}
	if uniqueViolation && pgErr.ConstraintName == eventIDKey && canRetry {
		// The writer that held one of our IDs is gone again; the next attempt will tell.
		return nil, true, nil
	}
	current, err := s.lastVersion(ctx, b.streamID)
	if err != nil {
		return nil, false, err
	}
	want, exact := expected.Exact()
	if exact && current != want {
		return nil, false, &eventlog.ConcurrencyError{StreamID: b.streamID, Expected: expected, Actual: current}
	}
	for _, read := range b.reads {
		current, err := s.lastVersion(ctx, read.StreamID)
		if err != nil {
			return nil, false, err
		}
		if current != read.Version {
			return nil, false, &eventlog.ConcurrencyError{StreamID: read.StreamID, Expected: eventlog.Exactly(read.Version), Actual: current}
		}
	}
	if canRetry {
		// Any() lost a race for the next version, or the streams reached the expected versions
		// only after the insert looked at them.
		return nil, true, nil
	}
	return nil, false, &eventlog.ConcurrencyError{StreamID: b.streamID, Expected: expected, Actual: current}
}

// storedResults looks up the batch's event IDs. When all of them are stored in the batch's
// stream, in its order, by one transaction, it returns the original results; when only some
// are, or elsewhere, eventlog.ErrIDReused.
func (s *Store) storedResults(ctx context.Context, b *appendBatch) (results []eventlog.AppendResult, stored bool, err error) {
	type found struct {
		streamID string
		version  int64
		txID     uint64
		position int64
	}
	rows, err := s.pool.Query(ctx,
		`SELECT event_id, stream_id, stream_version, transaction_id, global_position FROM events WHERE event_id = ANY($1::uuid[])`,
		uuidParams(b.ids))
	if err != nil {
		return nil, false, fmt.Errorf("append to %q: look up event IDs: %w", b.streamID, err)
	}
	byID := make(map[uuid.UUID]found, len(b.ids))
	for rows.Next() {
		var id uuid.UUID
		var f found
		if err := rows.Scan(&id, &f.streamID, &f.version, &f.txID, &f.position); err != nil {
			rows.Close()
			return nil, false, fmt.Errorf("append to %q: look up event IDs: %w", b.streamID, err)
		}
		byID[id] = f
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("append to %q: look up event IDs: %w", b.streamID, err)
	}
	if len(byID) == 0 {
		return nil, false, nil
	}
	first := byID[b.ids[0]] // checked in the loop
	results = make([]eventlog.AppendResult, len(b.ids))
	for i, id := range b.ids {
		f, ok := byID[id]
		if !ok {
			return nil, false, fmt.Errorf("append to %q: event %s is new but others of the append are stored already: %w", b.streamID, id, eventlog.ErrIDReused)
		}
		if f.streamID != b.streamID {
			return nil, false, fmt.Errorf("append to %q: event %s is stored in stream %q: %w", b.streamID, id, f.streamID, eventlog.ErrIDReused)
		}
		if f.version != first.version+int64(i) || f.txID != first.txID {
			return nil, false, fmt.Errorf("append to %q: event %s is stored at version %d by another append: %w", b.streamID, id, f.version, eventlog.ErrIDReused)
		}
		results[i] = eventlog.AppendResult{NextExpected: f.version, Position: eventlog.NewPosition(f.txID, uint64(f.position))}
	}
	return results, true, nil
}

// lastVersion returns the stream's last version, -1 for a missing stream.
func (s *Store) lastVersion(ctx context.Context, streamID string) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(stream_version), -1) FROM events WHERE stream_id = $1`, streamID).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("append to %q: read last version: %w", streamID, err)
	}
	return v, nil
}

// appendNothing checks expected against the stream and reports where it stands.
func (s *Store) appendNothing(ctx context.Context, streamID string, expected eventlog.ExpectedVersion) (eventlog.AppendResult, error) {
	if streamID == "" {
		return eventlog.AppendResult{}, errors.New("append: empty stream ID")
	}
	res := eventlog.AppendResult{NextExpected: -1}
	var txID uint64
	var position int64
	err := s.pool.QueryRow(ctx,
		`SELECT stream_version, transaction_id, global_position FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`,
		streamID).Scan(&res.NextExpected, &txID, &position)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return eventlog.AppendResult{}, fmt.Errorf("append to %q: read last event: %w", streamID, err)
	default:
		res.Position = eventlog.NewPosition(txID, uint64(position))
	}
	if want, exact := expected.Exact(); exact && want != res.NextExpected {
		return eventlog.AppendResult{}, &eventlog.ConcurrencyError{StreamID: streamID, Expected: expected, Actual: res.NextExpected}
	}
	return res, nil
}

// uuidParam is id as a parameter or COPY value: pgx would encode a uuid.UUID through its
// driver.Valuer, as text that it fails to write in binary, formats an error about and parses
// again; a pgtype.UUID is written as its sixteen bytes.
func uuidParam(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func uuidParams(ids []uuid.UUID) []pgtype.UUID {
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		out[i] = uuidParam(id)
	}
	return out
}
