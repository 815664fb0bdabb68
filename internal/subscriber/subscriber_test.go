package subscriber_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// recorder is a trivial consumer: it inserts every event it is given into table recorded, whose
// primary key is the event's ID, so an event applied twice fails the batch, and whose seq keeps
// the order of application.
type recorder struct {
	name string
	// failures, when positive, makes that many batches fail after their rows are written (a
	// rollback must undo them).
	failures atomic.Int32
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	ids := make([]uuid.UUID, len(batch))
	positions := make([]string, len(batch))
	for i, e := range batch {
		ids[i], positions[i] = e.ID, e.Position.String()
	}
	if _, err := tx.Exec(ctx, `INSERT INTO recorded (consumer, event_id, position)
		SELECT $1, t.id, t.pos FROM unnest($2::uuid[], $3::text[]) WITH ORDINALITY AS t(id, pos, n) ORDER BY t.n`,
		r.name, ids, positions); err != nil {
		return err
	}
	if r.failures.Load() > 0 {
		r.failures.Add(-1)
		return errors.New("the consumer fails after writing")
	}
	return nil
}

// observer counts what the runtime tells its Observer.
type observer struct {
	mu        sync.Mutex
	committed int
	failed    int
	leading   map[string]bool
}

func (o *observer) Leading(consumer string, leading bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.leading[consumer] = leading
}

func (o *observer) Committed(_ string, applied int, _ eventlog.Position, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.committed += applied
}

func (o *observer) Failed(string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed++
}

// fixture is a migrated database with an event store, a checkpoint table and the recorded
// table.
type fixture struct {
	pool  *pgxpool.Pool
	store *pgstore.Store
	cps   *subscriber.Checkpoints
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{PollInterval: 50 * time.Millisecond})
	if _, err := pool.Exec(context.Background(), `
		CREATE TABLE test_checkpoints (name text PRIMARY KEY, position text NOT NULL,
			events_applied bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now());
		CREATE TABLE recorded (seq bigserial PRIMARY KEY, consumer text NOT NULL, event_id uuid NOT NULL,
			position text NOT NULL, UNIQUE (consumer, event_id))`); err != nil {
		t.Fatal(err)
	}
	return fixture{pool: pool, store: store, cps: subscriber.NewCheckpoints("public", "test_checkpoints", "events_applied")}
}

// appendEvents appends n events, one stream each, and returns them as the log records them.
func (f fixture) appendEvents(t *testing.T, ctx context.Context, n int) []eventlog.RecordedEvent {
	t.Helper()
	head, err := f.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	positions := make([]eventlog.Position, 0, n)
	for range n {
		res, err := f.store.Append(ctx, "test-"+uuid.NewString(), eventlog.NoStream(), eventlog.EventData{
			ID: uuid.New(), Type: "test.happened.v1", Data: []byte(`{}`),
			Metadata: eventlog.Metadata{Actor: "test", OccurredAt: time.Now().UTC()},
		})
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, res.Position)
	}
	return pgtest.ReadBack(t, ctx, f.store, head, positions)
}

func (f fixture) runtime(t *testing.T, c subscriber.Consumer, key int64, obs subscriber.Observer) *subscriber.Runtime {
	t.Helper()
	rt, err := subscriber.New(subscriber.Config{
		Pool: f.pool, Store: f.store, Kind: "test", Consumers: []subscriber.Consumer{c}, Checkpoints: f.cps,
		LeaderLockKey: func(string) int64 { return key },
		CatchUpBatch:  7, CatchUpRead: 14, Observer: obs,
		Pacing: subscriber.Pacing{BatchSize: 5, LeaderRetry: 50 * time.Millisecond, RetryDelay: 50 * time.Millisecond,
			Logger: slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// start runs rt until the returned stop is called (or the test ends).
func start(t *testing.T, ctx context.Context, rt *subscriber.Runtime) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return within 10s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (f fixture) waitFor(t *testing.T, ctx context.Context, name string, pos eventlog.Position) {
	t.Helper()
	ok, err := subscriber.WaitFor(ctx, f.pool, f.cps, []string{name}, pos, 15*time.Second)
	if err != nil || !ok {
		t.Fatalf("checkpoint of %s did not reach %s: %v", name, pos, err)
	}
}

// checkRecorded verifies that the consumer applied exactly events, in log order, each once, and
// that its checkpoint counts them.
func (f fixture) checkRecorded(t *testing.T, ctx context.Context, name string, events []eventlog.RecordedEvent) {
	t.Helper()
	rows, _ := f.pool.Query(ctx, `SELECT event_id FROM recorded WHERE consumer = $1 ORDER BY seq`, name)
	got, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("%s applied %d events, want %d", name, len(got), len(events))
	}
	for i, e := range events {
		if got[i] != e.ID {
			t.Fatalf("%s: event %d applied is %s, want %s (log order)", name, i, got[i], e.ID)
		}
	}
	var position string
	var applied int64
	if err := f.pool.QueryRow(ctx, `SELECT position, events_applied FROM test_checkpoints WHERE name = $1`, name).Scan(&position, &applied); err != nil {
		t.Fatal(err)
	}
	if last := events[len(events)-1].Position.String(); position != last || applied != int64(len(events)) {
		t.Errorf("%s checkpoint at %s counting %d events, want %s and %d", name, position, applied, last, len(events))
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A consumer catches up from its stored checkpoint in read-ahead pages, goes on with live
// events, and survives failing batches: each event applied once, in order, in the transaction
// that moves the checkpoint.
func TestCatchUpLiveAndRetry(t *testing.T) {
	ctx := testContext(t)
	f := newFixture(t)
	before := f.appendEvents(t, ctx, 40)
	// A checkpoint stored at the 10th event: the consumer starts after it.
	if _, err := f.pool.Exec(ctx, `INSERT INTO test_checkpoints (name, position) VALUES ('rec', $1)`, before[9].Position.String()); err != nil {
		t.Fatal(err)
	}
	c := &recorder{name: "rec"}
	c.failures.Store(2)
	obs := &observer{leading: map[string]bool{}}
	rt := f.runtime(t, c, 1001, obs)
	stop := start(t, ctx, rt)
	f.waitFor(t, ctx, "rec", before[len(before)-1].Position)
	live := f.appendEvents(t, ctx, 23)
	if ok, err := rt.WaitFor(ctx, []string{"rec"}, live[len(live)-1].Position, 15*time.Second); !ok || err != nil {
		t.Fatalf("Runtime.WaitFor: %v, %v", ok, err)
	}
	want := append(append([]eventlog.RecordedEvent(nil), before[10:]...), live...)
	f.checkRecorded(t, ctx, "rec", want)

	if got := rt.Leading(); len(got) != 1 || got[0] != "rec" || !rt.Leads("rec") {
		t.Errorf("Leading() = %v, want [rec]", got)
	}
	if got := rt.Position("rec"); got != live[len(live)-1].Position {
		t.Errorf("Position = %s, want %s", got, live[len(live)-1].Position)
	}
	if got := rt.Applied("rec"); got != int64(len(want)) {
		t.Errorf("Applied = %d, want %d", got, len(want))
	}
	stop()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.committed != len(want) || obs.failed < 2 || obs.leading["rec"] {
		t.Errorf("observer heard %d events committed, %d failures, leading %v; want %d, at least 2, false",
			obs.committed, obs.failed, obs.leading["rec"], len(want))
	}
}

// Two runtimes for one consumer: one leads, the other stands by and takes over from the
// checkpoint when the first stops.
func TestLeaderFailover(t *testing.T) {
	ctx := testContext(t)
	f := newFixture(t)
	a, b := f.runtime(t, &recorder{name: "rec"}, 2002, nil), f.runtime(t, &recorder{name: "rec"}, 2002, nil)
	stopA, stopB := start(t, ctx, a), start(t, ctx, b)
	defer stopB()
	first := f.appendEvents(t, ctx, 20)
	f.waitFor(t, ctx, "rec", first[len(first)-1].Position)
	leader, standby, stopLeader := a, b, stopA
	if b.Leads("rec") {
		leader, standby, stopLeader = b, a, stopB
	}
	if !leader.Leads("rec") || standby.Leads("rec") || standby.Applied("rec") != 0 {
		t.Fatalf("leads: %v and %v; the standby applied %d events", leader.Leads("rec"), standby.Leads("rec"), standby.Applied("rec"))
	}
	stopLeader()
	second := f.appendEvents(t, ctx, 15)
	f.waitFor(t, ctx, "rec", second[len(second)-1].Position)
	// The checkpoint row commits before the runtime counts the batch: give the count a moment.
	for deadline := time.Now().Add(5 * time.Second); standby.Applied("rec") < int64(len(second)) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !standby.Leads("rec") || standby.Applied("rec") != int64(len(second)) {
		t.Errorf("the successor leads %v and applied %d events, want true and %d", standby.Leads("rec"), standby.Applied("rec"), len(second))
	}
	f.checkRecorded(t, ctx, "rec", append(first, second...))
}

// Two runtimes that both lead one consumer at once (each with a lock key of its own, as a
// leader that has not noticed yet that it lost its lock, and its successor) are serialised on
// the checkpoint row: every event is applied exactly once.
func TestTwoLeadersApplyEachEventOnce(t *testing.T) {
	ctx := testContext(t)
	f := newFixture(t)
	before := f.appendEvents(t, ctx, 60)
	a, b := f.runtime(t, &recorder{name: "rec"}, 3003, nil), f.runtime(t, &recorder{name: "rec"}, 3004, nil)
	start(t, ctx, a)
	start(t, ctx, b)
	live := f.appendEvents(t, ctx, 40)
	f.waitFor(t, ctx, "rec", live[len(live)-1].Position)
	f.checkRecorded(t, ctx, "rec", append(before, live...))
	if got := a.Applied("rec") + b.Applied("rec"); got != int64(len(before)+len(live)) {
		t.Errorf("the two leaders applied %d events between them, want %d", got, len(before)+len(live))
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := subscriber.New(subscriber.Config{Pacing: subscriber.Pacing{BatchSize: -1}, Consumers: []subscriber.Consumer{&recorder{name: "a"}, &recorder{name: "a"}}})
	if err == nil {
		t.Fatal("New accepted an empty config")
	}
	for _, want := range []string{"Pool is nil", "Store is nil", "Kind is empty", "Checkpoints is nil", "LeaderLockKey is nil", "BatchSize -1 is negative", "consumer a listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
