package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/helpstream/helpstream/internal/process"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// doorbell is a toy process manager: a ring at a door (an event of stream door-<n>) sets a timer
// Delay later; the timer fired, it decides to answer; its Flush appends the answer to the door's
// stream. Hooks let the tests kill it between the decision and the append.
type doorbell struct {
	name  string
	delay time.Duration
	store eventlog.Store
	pool  *pgxpool.Pool

	// beforeAppend and afterAppend, when set, run in Flush around each append; an error
	// stops the Flush there (a crash).
	beforeAppend, afterAppend func(process.Command) error

	mu         sync.Mutex
	tickedAt   []eventlog.Position // the checkpoint each Tick found
	applyCalls atomic.Int64
}

const (
	rangType     = "test.rang.v1"
	answeredType = "test.answered.v1"
)

func (d *doorbell) Name() string             { return d.name }
func (d *doorbell) TickEvery() time.Duration { return 20 * time.Millisecond }
func (d *doorbell) timers() process.Timers   { return process.Timers{Owner: d.name} }
func (d *doorbell) outbox() process.Outbox   { return process.Outbox{Owner: d.name} }

func (d *doorbell) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	d.applyCalls.Add(1)
	for _, e := range batch {
		switch e.Type {
		case rangType:
			if err := d.timers().Set(ctx, tx, e.StreamID, e.RecordedAt.Add(d.delay), map[string]string{"door": e.StreamID}); err != nil {
				return err
			}
		case answeredType:
			if err := d.timers().Cancel(ctx, tx, e.StreamID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *doorbell) Tick(ctx context.Context, tx pgx.Tx, now time.Time) error {
	var text string
	if err := tx.QueryRow(ctx, `SELECT position FROM process_checkpoints WHERE name = $1`, d.name).Scan(&text); err != nil {
		return err
	}
	pos, err := eventlog.ParsePosition(text)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.tickedAt = append(d.tickedAt, pos)
	d.mu.Unlock()
	fired, err := d.timers().Fire(ctx, tx, now, 100)
	if err != nil {
		return err
	}
	for _, t := range fired {
		var p struct{ Door string }
		if err := json.Unmarshal(t.Payload, &p); err != nil {
			return err
		}
		if err := d.outbox().Add(ctx, tx, d.outbox().CommandID("answer", p.Door), "answer", p); err != nil {
			return err
		}
	}
	return nil
}

func (d *doorbell) Flush(ctx context.Context) error {
	_, err := d.outbox().Execute(ctx, d.pool, func(ctx context.Context, c process.Command) error {
		if d.beforeAppend != nil {
			if err := d.beforeAppend(c); err != nil {
				return err
			}
		}
		var p struct{ Door string }
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			return err
		}
		if _, err := d.store.Append(ctx, p.Door, eventlog.Any(), eventlog.EventData{
			ID: c.ID, Type: answeredType, Data: json.RawMessage(`{}`),
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()},
		}); err != nil {
			return err
		}
		if d.afterAppend != nil {
			return d.afterAppend(c)
		}
		return nil
	})
	return err
}

func newWorld(t *testing.T) (*pgstore.Store, *pgxpool.Pool) {
	t.Helper()
	return pgtest.NewEventStore(t, pgstore.Config{})
}

func ring(t *testing.T, store eventlog.Store, doors int) []eventlog.AppendResult {
	t.Helper()
	var results []eventlog.AppendResult
	for i := range doors {
		res, err := store.Append(context.Background(), fmt.Sprintf("door-%d", i), eventlog.NoStream(), eventlog.EventData{
			ID: uuid.New(), Type: rangType, Data: json.RawMessage(`{}`),
			Metadata: eventlog.Metadata{Actor: "visitor", OccurredAt: time.Now().UTC()},
		})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	return results
}

// run runs the managers' runtime until the returned stop is called.
func run(t *testing.T, pool *pgxpool.Pool, store eventlog.Store, cfg subscriber.Pacing, managers ...subscriber.Consumer) (stop func()) {
	t.Helper()
	rt, err := process.NewRuntime(process.Config{Pool: pool, Store: store, Managers: managers, Pacing: cfg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

// answers counts the answers of each door in the log.
func answers(t *testing.T, store eventlog.Store) map[string]int {
	t.Helper()
	events, err := store.ReadAll(context.Background(), eventlog.Start(), eventlog.ReadOptions{Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range events {
		if e.Type == answeredType {
			count[e.StreamID]++
		}
	}
	return count
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func allAnsweredOnce(t *testing.T, store eventlog.Store, doors int) func() bool {
	return func() bool {
		got := answers(t, store)
		if len(got) < doors {
			return false
		}
		for door, n := range got {
			if n != 1 {
				t.Fatalf("%s answered %d times", door, n)
			}
		}
		return true
	}
}

func pendingCommands(t *testing.T, pool *pgxpool.Pool, owner string) int {
	t.Helper()
	cmds, err := process.Outbox{Owner: owner}.Pending(context.Background(), pool, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(cmds)
}

// A manager ticks only once it has caught up with the log: the first Tick finds the checkpoint
// at the last event written before it started, however many catch-up batches that took.
func TestTicksWaitForTheCatchUp(t *testing.T) {
	store, pool := newWorld(t)
	rang := ring(t, store, 300)
	// Caught up means up to what the log shows: wait until it shows every ring, which other
	// tests' transactions on the server can hold back for a while.
	waitUntil(t, "the rings are readable", func() bool {
		events, err := store.ReadAll(context.Background(), eventlog.Start(), eventlog.ReadOptions{Limit: 1000})
		return err == nil && len(events) == len(rang)
	})
	d := &doorbell{name: "doorbell", store: store, pool: pool}
	run(t, pool, store, subscriber.Pacing{BatchSize: 25}, d)
	waitUntil(t, "every door is answered once", allAnsweredOnce(t, store, 300))
	d.mu.Lock()
	first := d.tickedAt[0]
	d.mu.Unlock()
	if last := rang[len(rang)-1].Position; first.Compare(last) != 0 {
		t.Fatalf("first tick at checkpoint %s, want the last event before the start %s", first, last)
	}
	if d.applyCalls.Load() < 300/25 {
		t.Fatalf("applied in %d batches, want at least %d (the catch-up in batches of 25)", d.applyCalls.Load(), 300/25)
	}
	if n := pendingCommands(t, pool, d.name); n != 0 {
		t.Fatalf("%d commands left in the outbox", n)
	}
}

// A timer outlives the runtime that set it: stopped before the timer is due, the manager's next
// leader fires it at its time, once.
func TestTimersSurviveARestart(t *testing.T) {
	store, pool := newWorld(t)
	first := &doorbell{name: "doorbell", store: store, pool: pool, delay: 1500 * time.Millisecond}
	stop := run(t, pool, store, subscriber.Pacing{}, first)
	ring(t, store, 3)
	waitUntil(t, "the timers are set", func() bool {
		timers, err := process.Timers{Owner: "doorbell"}.List(context.Background(), pool, "door-")
		return err == nil && len(timers) == 3
	})
	stop()
	if got := answers(t, store); len(got) != 0 {
		t.Fatalf("answered before the timers were due: %v", got)
	}
	second := &doorbell{name: "doorbell", store: store, pool: pool, delay: 1500 * time.Millisecond}
	run(t, pool, store, subscriber.Pacing{}, second)
	waitUntil(t, "every door is answered once", allAnsweredOnce(t, store, 3))
	timers, err := process.Timers{Owner: "doorbell"}.List(context.Background(), pool, "")
	if err != nil || len(timers) != 0 {
		t.Fatalf("timers left: %v %v", timers, err)
	}
}

var errKilled = errors.New("killed")

// Killed between the decision and the append (the outbox row committed, nothing appended), or
// between the append and marking the command done, the manager's next leader acts on the
// decision: each door is answered exactly once.
func TestCrashBetweenDecisionAndAppend(t *testing.T) {
	for _, at := range []string{"before the append", "after the append"} {
		t.Run(at, func(t *testing.T) {
			store, pool := newWorld(t)
			ring(t, store, 20)
			var kills atomic.Int32
			killed := make(chan struct{})
			kill := func(process.Command) error {
				if kills.Add(1) == 1 {
					close(killed)
				}
				return errKilled // every Flush of this leader dies here, as if the process had
			}
			first := &doorbell{name: "doorbell", store: store, pool: pool}
			if at == "before the append" {
				first.beforeAppend = kill
			} else {
				first.afterAppend = kill
			}
			stop := run(t, pool, store, subscriber.Pacing{}, first)
			<-killed
			stop()
			decided := pendingCommands(t, pool, "doorbell")
			if decided == 0 {
				t.Fatal("no decision was left in the outbox")
			}
			if at == "after the append" {
				// The first command was appended, then the process died. The log shows it once
				// other tests' transactions on the server let its horizon pass.
				waitUntil(t, "the killed leader's one answer is readable", func() bool { return len(answers(t, store)) == 1 })
			} else if got := answers(t, store); len(got) != 0 {
				t.Fatalf("%d doors answered by a leader killed before its appends", len(got))
			}
			second := &doorbell{name: "doorbell", store: store, pool: pool}
			run(t, pool, store, subscriber.Pacing{}, second)
			waitUntil(t, "every door is answered once", allAnsweredOnce(t, store, 20))
			waitUntil(t, "the outbox is empty", func() bool { return pendingCommands(t, pool, "doorbell") == 0 })
		})
	}
}

// Two runtimes on one database, both running: one leads, every door is answered once.
func TestTwoRuntimesAnswerOnce(t *testing.T) {
	store, pool := newWorld(t)
	a := &doorbell{name: "doorbell", store: store, pool: pool}
	b := &doorbell{name: "doorbell", store: store, pool: pool}
	run(t, pool, store, subscriber.Pacing{BatchSize: 7}, a)
	run(t, pool, store, subscriber.Pacing{BatchSize: 7}, b)
	ring(t, store, 200)
	waitUntil(t, "every door is answered once", allAnsweredOnce(t, store, 200))
}

func TestTimers(t *testing.T) {
	_, pool := newWorld(t)
	ctx := context.Background()
	timers := process.Timers{Owner: "clock"}
	other := process.Timers{Owner: "other"}
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	inTx := func(f func(tx pgx.Tx) error) error {
		return pgx.BeginFunc(ctx, pool, f)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inTx(func(tx pgx.Tx) error {
		for _, tm := range []struct {
			key string
			at  time.Duration
		}{{"b", 2 * time.Minute}, {"a", 2 * time.Minute}, {"c", time.Minute}, {"late", time.Hour}, {"gone/1", 0}, {"gone/2", 0}} {
			if err := timers.Set(ctx, tx, tm.key, base.Add(tm.at), map[string]int{"n": int(tm.at / time.Minute)}); err != nil {
				return err
			}
		}
		return other.Set(ctx, tx, "a", base, nil)
	}))
	if err := inTx(func(tx pgx.Tx) error { return timers.Set(ctx, tx, "", base, nil) }); !errors.Is(err, process.ErrEmptyKey) {
		t.Fatalf("empty key: %v", err)
	}
	// Set again moves a timer; CancelPrefix and Cancel stop them.
	must(inTx(func(tx pgx.Tx) error {
		if err := timers.Set(ctx, tx, "late", base.Add(3*time.Minute), json.RawMessage(`{"moved":true}`)); err != nil {
			return err
		}
		if err := timers.Cancel(ctx, tx, "never-set"); err != nil {
			return err
		}
		return timers.CancelPrefix(ctx, tx, "gone/")
	}))
	late, ok, err := timers.Get(ctx, pool, "late")
	if err != nil || !ok || !late.DueAt.Equal(base.Add(3*time.Minute)) || string(late.Payload) != `{"moved": true}` {
		t.Fatalf("moved timer: %+v %v %v", late, ok, err)
	}
	if _, ok, err := timers.Get(ctx, pool, "gone/1"); ok || err != nil {
		t.Fatalf("cancelled timer still runs: %v", err)
	}
	// A rolled-back Fire leaves the timers; a committed one takes them, earliest first.
	errRollback := errors.New("roll back")
	if err := inTx(func(tx pgx.Tx) error {
		fired, err := timers.Fire(ctx, tx, base.Add(2*time.Minute), 10)
		if err != nil {
			return err
		}
		if len(fired) != 3 {
			return fmt.Errorf("fired %d, want 3", len(fired))
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	var fired []process.Timer
	must(inTx(func(tx pgx.Tx) (err error) {
		fired, err = timers.Fire(ctx, tx, base.Add(2*time.Minute), 2)
		return err
	}))
	if len(fired) != 2 || fired[0].Key != "c" || fired[1].Key != "a" || string(fired[0].Payload) != `{"n": 1}` {
		t.Fatalf("fired %+v, want c then a", fired)
	}
	left, err := timers.List(ctx, pool, "")
	if err != nil || len(left) != 2 || left[0].Key != "b" || left[1].Key != "late" {
		t.Fatalf("left %+v %v, want b and late", left, err)
	}
	if mine, err := other.List(ctx, pool, ""); err != nil || len(mine) != 1 {
		t.Fatalf("another owner's timers: %+v %v", mine, err)
	}
}

func TestOutbox(t *testing.T) {
	_, pool := newWorld(t)
	ctx := context.Background()
	box := process.Outbox{Owner: "mgr"}
	if box.CommandID("assign", "r1") != box.CommandID("assign", "r1") || box.CommandID("assign", "r1") == box.CommandID("assign", "r2") ||
		box.CommandID("assign", "r1") == (process.Outbox{Owner: "other"}).CommandID("assign", "r1") {
		t.Fatal("CommandID is not a function of owner and parts alone")
	}
	ids := []uuid.UUID{box.CommandID("1"), box.CommandID("2"), box.CommandID("3")}
	for _, round := range []int{1, 2} { // a batch applied again adds nothing
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			for i, id := range ids {
				if err := box.Add(ctx, tx, id, "step", map[string]int{"i": i, "round": round}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error { return box.Add(ctx, tx, uuid.New(), "", nil) }); !errors.Is(err, process.ErrNoCommandKind) {
		t.Fatalf("no kind: %v", err)
	}
	// Execute stops at the first failure and keeps it and what follows, in order.
	var ran []uuid.UUID
	failOn := ids[1]
	exec := func(ctx context.Context, c process.Command) error {
		if c.ID == failOn {
			return errKilled
		}
		if string(c.Payload) == "" || c.Kind != "step" {
			return fmt.Errorf("command %+v", c)
		}
		ran = append(ran, c.ID)
		return nil
	}
	n, err := box.Execute(ctx, pool, exec)
	if !errors.Is(err, errKilled) || n != 1 || len(ran) != 1 || ran[0] != ids[0] {
		t.Fatalf("Execute = %d, %v; ran %v", n, err, ran)
	}
	pending, err := box.Pending(ctx, pool, 10)
	if err != nil || len(pending) != 2 || pending[0].ID != ids[1] || pending[1].ID != ids[2] || string(pending[0].Payload) != `{"i": 1, "round": 1}` {
		t.Fatalf("pending %+v %v", pending, err)
	}
	failOn = uuid.Nil
	if n, err := box.Execute(ctx, pool, exec); err != nil || n != 2 {
		t.Fatalf("Execute again = %d, %v", n, err)
	}
	if n := pendingCommands(t, pool, "mgr"); n != 0 {
		t.Fatalf("%d left", n)
	}
}
