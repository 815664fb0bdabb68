package projections_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

// counts is the test projection: per stream, how many events and the last version, and a table
// of applied event IDs whose primary key makes a double application fail loudly.
type counts struct {
	name  string
	extra string        // more DDL, to change the schema hash
	slow  time.Duration // a pause before every Apply, to make a rebuild last
	dups  atomic.Int64  // unique violations seen: double applications
}

func newCounts(name string) *counts { return &counts{name: name} }

func (c *counts) Name() string { return c.name }

func (c *counts) Tables() []string { return []string{c.name + "_streams", c.name + "_applied"} }

func (c *counts) Schema() string {
	return fmt.Sprintf(`CREATE TABLE %[1]s_streams (
	stream_id    text   PRIMARY KEY,
	events       bigint NOT NULL,
	last_version bigint NOT NULL
);
CREATE TABLE %[1]s_applied (
	event_id  uuid PRIMARY KEY,
	stream_id text NOT NULL,
	position  text NOT NULL
);
CREATE INDEX %[1]s_applied_stream_idx ON %[1]s_applied (stream_id);
`, c.name) + c.extra
}

func (c *counts) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	if c.slow > 0 {
		time.Sleep(c.slow)
	}
	ids := make([]uuid.UUID, len(batch))
	streams := make([]string, len(batch))
	positions := make([]string, len(batch))
	type agg struct{ n, last int64 }
	per := map[string]*agg{}
	for i, e := range batch {
		ids[i], streams[i], positions[i] = e.ID, e.StreamID, e.Position.String()
		a := per[e.StreamID]
		if a == nil {
			a = &agg{last: -1}
			per[e.StreamID] = a
		}
		a.n++
		a.last = max(a.last, e.Version)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+c.name+`_applied (event_id, stream_id, position)
		SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[])`, ids, streams, positions); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			c.dups.Add(1)
		}
		return err
	}
	keys := make([]string, 0, len(per))
	ns := make([]int64, 0, len(per))
	lasts := make([]int64, 0, len(per))
	for k, a := range per {
		keys, ns, lasts = append(keys, k), append(ns, a.n), append(lasts, a.last)
	}
	_, err := tx.Exec(ctx, `INSERT INTO `+c.name+`_streams AS s (stream_id, events, last_version)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
		ON CONFLICT (stream_id) DO UPDATE
		SET events = s.events + EXCLUDED.events, last_version = greatest(s.last_version, EXCLUDED.last_version)`,
		keys, ns, lasts)
	return err
}

// faulty wraps counts: on the batches numbered in failOn (from 1, every Apply call counts), it
// applies the batch and then calls the function, whose error ends the batch.
type faulty struct {
	*counts
	batches atomic.Int64
	mu      sync.Mutex
	failOn  map[int64]func(ctx context.Context, tx pgx.Tx) error
	fired   map[int64]bool
}

func (f *faulty) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	n := f.batches.Add(1)
	if err := f.counts.Apply(ctx, tx, batch); err != nil {
		return err
	}
	f.mu.Lock()
	fail := f.failOn[n]
	if fail != nil {
		f.fired[n] = true
	}
	f.mu.Unlock()
	if fail != nil {
		return fail(ctx, tx)
	}
	return nil
}

func (f *faulty) allFired(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for n := range f.failOn {
		if !f.fired[n] {
			t.Errorf("the fault on batch %d never fired (%d batches)", n, f.batches.Load())
		}
	}
}

// env is a fresh database with a PostgreSQL event store on it.
type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	store *pgstore.Store
	log   *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{PollInterval: 100 * time.Millisecond, ReconnectDelay: 100 * time.Millisecond})
	var out io.Writer = io.Discard
	if testing.Verbose() || os.Getenv("PROJECTIONS_TEST_LOG") != "" {
		out = os.Stderr
	}
	return &env{t: t, pool: pool, store: store, log: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

func (e *env) config(ps ...projections.Projection) projections.Config {
	return projections.Config{
		Pool: e.pool, Store: e.store, Projections: ps,
		BatchSize: 100, CatchUpBatch: 400,
		LeaderRetry: 100 * time.Millisecond, RetryDelay: 20 * time.Millisecond,
		Logger: e.log,
	}
}

// running is a Runner started in the background.
type running struct {
	*projections.Runner
	cancel context.CancelFunc
	done   chan struct{}
}

// stop cancels the runner and waits for Run to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not stop within 10s")
	}
}

func (e *env) start(cfg projections.Config) *running {
	e.t.Helper()
	r, err := projections.NewRunner(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{Runner: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		if err := r.Run(ctx); err != nil {
			e.t.Errorf("Run: %v", err)
		}
	}()
	e.t.Cleanup(func() {
		cancel()
		<-run.done
	})
	return run
}

// tallyCaughtUp appends n events over streams streams and starts a runner of a new counts
// projection "tally", caught up with them within d. It returns the projection, the position of
// the last event appended (what the test wrote, not the readable head) and the runner.
func (e *env) tallyCaughtUp(n, streams int, d time.Duration) (*counts, eventlog.Position, *running) {
	e.t.Helper()
	c := newCounts("tally")
	last := e.appendN(n, streams)
	return c, last, e.startCaughtUp(last, d, c)
}

// startCaughtUp starts a runner of ps and waits, up to d, until each of them has applied the
// log up to last.
func (e *env) startCaughtUp(last eventlog.Position, d time.Duration, ps ...projections.Projection) *running {
	e.t.Helper()
	r := e.start(e.config(ps...))
	e.waitFor(last, d, names(ps)...)
	return r
}

// appendN appends n events over the streams s-0 … s-<streams-1>, one to three per append, and
// returns the position of the last.
func (e *env) appendN(n, streams int) eventlog.Position {
	e.t.Helper()
	var last eventlog.Position
	for i := 0; i < n; {
		k := min(1+i%3, n-i)
		pos, err := e.appendTo(context.Background(), fmt.Sprintf("s-%d", i%streams), k)
		if err != nil {
			e.t.Fatal(err)
		}
		last = maxPos(last, pos)
		i += k
	}
	return last
}

func (e *env) appendTo(ctx context.Context, stream string, k int) (eventlog.Position, error) {
	evs := make([]eventlog.EventData, k)
	for j := range evs {
		evs[j] = eventlog.EventData{ID: uuid.New(), Type: "test.happened.v1", Data: []byte(`{}`),
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}
	}
	res, err := e.store.Append(ctx, stream, eventlog.Any(), evs...)
	return res.Position, err
}

// appender appends in the background until stopped; stop returns the last position written.
type appender struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	last   eventlog.Position
	n      int
	err    error
}

func (e *env) appendContinuously(writers int, pause time.Duration) *appender {
	// Stopping must not cancel an append in flight: it could commit and still report the
	// cancellation, and its position would be missing from last.
	stop, cancel := context.WithCancel(context.Background())
	a := &appender{cancel: cancel, done: make(chan struct{})}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; stop.Err() == nil; i++ {
				k := 1 + i%3
				pos, err := e.appendTo(context.Background(), fmt.Sprintf("live-%d-%d", w, i%7), k)
				if err != nil {
					a.mu.Lock()
					a.err = err
					a.mu.Unlock()
					return
				}
				a.mu.Lock()
				a.last = maxPos(a.last, pos)
				a.n += k
				a.mu.Unlock()
				if pause > 0 {
					time.Sleep(pause)
				}
			}
		})
	}
	go func() { wg.Wait(); close(a.done) }()
	e.t.Cleanup(func() { cancel(); <-a.done }) // also when the test fails before stop
	return a
}

func (a *appender) stop(t *testing.T) (eventlog.Position, int) {
	t.Helper()
	a.cancel()
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		t.Fatalf("append: %v", a.err)
	}
	return a.last, a.n
}

func maxPos(a, b eventlog.Position) eventlog.Position {
	if a.Compare(b) >= 0 {
		return a
	}
	return b
}

// waitFor fails the test unless every named projection reaches pos within d.
func (e *env) waitFor(pos eventlog.Position, d time.Duration, names ...string) {
	e.t.Helper()
	ok, err := projections.WaitFor(context.Background(), e.pool, names, pos, d)
	if err != nil {
		e.t.Fatal(err)
	}
	if !ok {
		e.t.Fatalf("projections %v did not reach %s within %s", names, pos, d)
	}
}

type streamRow struct{ events, last int64 }

// foldedUpTo waits, up to d, until c has applied the log up to pos, then checks its rows
// against a fresh fold of the log.
func (e *env) foldedUpTo(pos eventlog.Position, d time.Duration, c *counts) {
	e.t.Helper()
	e.waitFor(pos, d, c.name)
	e.checkFold(c)
}

// checkFold compares the projection's rows with an independent count of the log, and its
// checkpoint with the log's end.
func (e *env) checkFold(c *counts) {
	e.t.Helper()
	ctx := context.Background()
	want := e.streams(`SELECT stream_id, count(*), max(stream_version) FROM events GROUP BY stream_id`)
	got := e.streams(`SELECT stream_id, events, last_version FROM ` + c.name + `_streams`)
	if !maps.Equal(got, want) {
		e.t.Errorf("%s: rows differ from the log: %d streams projected, %d in the log", c.name, len(got), len(want))
		for k, w := range want {
			if g := got[k]; g != w {
				e.t.Errorf("  stream %s: projected %+v, log %+v", k, g, w)
			}
		}
	}
	var missing, extra, total int64
	if err := e.pool.QueryRow(ctx, `SELECT
		count(*) FILTER (WHERE a.event_id IS NULL), count(*) FILTER (WHERE e.event_id IS NULL), count(*)
		FROM events e FULL JOIN `+c.name+`_applied a ON a.event_id = e.event_id`).Scan(&missing, &extra, &total); err != nil {
		e.t.Fatal(err)
	}
	if missing != 0 || extra != 0 {
		e.t.Errorf("%s: %d events not applied, %d applied that the log lacks (of %d)", c.name, missing, extra, total)
	}
	if n := c.dups.Load(); n != 0 {
		e.t.Errorf("%s: %d batches tried to apply an event twice", c.name, n)
	}
	var posText string
	var applied int64
	if err := e.pool.QueryRow(ctx, `SELECT position, events_applied FROM projection_checkpoints WHERE name = $1`,
		c.name).Scan(&posText, &applied); err != nil {
		e.t.Fatal(err)
	}
	if applied != total {
		e.t.Errorf("%s: checkpoint says %d events applied, the log holds %d", c.name, applied, total)
	}
	// The log's last committed event, read from the table: the end ReadAll shows may lag it
	// while another transaction on the server holds delivery back, and the runner may have
	// looked past that transaction already.
	var last string
	if err := e.pool.QueryRow(ctx, `SELECT transaction_id::text || '-' || global_position::text FROM events
		ORDER BY transaction_id DESC, global_position DESC LIMIT 1`).Scan(&last); err != nil {
		e.t.Fatal(err)
	}
	if posText != last {
		e.t.Errorf("%s: checkpoint at %s, the log ends at %s", c.name, posText, last)
	}
}

func (e *env) streams(sql string) map[string]streamRow {
	e.t.Helper()
	rows, err := e.pool.Query(context.Background(), sql)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]streamRow{}
	var id string
	var r streamRow
	if _, err := pgx.ForEachRow(rows, []any{&id, &r.events, &r.last}, func() error { out[id] = r; return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// lastPosition is the readable end of the log: what the store delivers now, which another
// transaction open on the server may hold back. Wait on what a test wrote (appendN's answer)
// and use this only to see that it has become readable.
func (e *env) lastPosition() eventlog.Position {
	e.t.Helper()
	var pos eventlog.Position
	for {
		page, err := e.store.ReadAll(context.Background(), pos, eventlog.ReadOptions{Limit: 5000})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(page) == 0 {
			return pos
		}
		pos = page[len(page)-1].Position
	}
}

// lockHolder returns the backend that holds the projection's leader lock.
func (e *env) lockHolder(name string) (int32, bool) {
	e.t.Helper()
	key := uint64(projections.LeaderLockKey(name))
	var pid int32
	err := e.pool.QueryRow(context.Background(), `SELECT pid FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND classid::bigint = $1 AND objid::bigint = $2`,
		int64(key>>32), int64(key&0xffffffff)).Scan(&pid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return pid, true
}

// eventually polls cond every 10ms until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
