package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/eventstore/storetest"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// storesOfTwoProcesses returns two Stores on one fresh database, each on its own pool as two
// processes would have them: writer, with the defaults, and reader, with readerCfg. pool is the
// writer's.
func storesOfTwoProcesses(t *testing.T, readerCfg pgstore.Config) (writer, reader *pgstore.Store, pool *pgxpool.Pool) {
	t.Helper()
	writer, pool = pgtest.NewEventStore(t, pgstore.Config{})
	other, err := pgxpool.New(context.Background(), pool.Config().ConnString())
	if err != nil {
		t.Fatalf("second pool: %v", err)
	}
	t.Cleanup(other.Close)
	return writer, pgtest.OpenEventStore(t, other, readerCfg), pool
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func event(data string) eventlog.EventData {
	return eventlog.EventData{
		ID:       uuid.New(),
		Type:     "test.v1",
		Data:     json.RawMessage(data),
		Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()},
	}
}

// TestContract runs the contract suite; all subtests share one database, as production would.
func TestContract(t *testing.T) {
	store, _ := pgtest.NewEventStore(t, pgstore.Config{})
	storetest.Run(t, func(t *testing.T) storetest.Harness {
		return storetest.Harness{
			Store: store,
			HoldOpenAppend: func(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (func(context.Context) error, error) {
				commit, rollback, err := store.HoldOpenAppend(ctx, streamID, expected, events...)
				if err != nil {
					return nil, err
				}
				t.Cleanup(func() {
					if err := rollback(context.Background()); err != nil {
						t.Errorf("roll back held append: %v", err)
					}
				})
				return commit, nil
			},
		}
	})
}

// collect subscribes in the background and sends what it delivers to the returned channel.
func collect(t *testing.T, s *pgstore.Store, prefix string) <-chan eventlog.RecordedEvent {
	t.Helper()
	return collectWith(t, s, eventlog.SubscribeOptions{StreamPrefixes: []string{prefix}})
}

func collectWith(t *testing.T, s *pgstore.Store, opts eventlog.SubscribeOptions) <-chan eventlog.RecordedEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan eventlog.RecordedEvent, 1000)
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(ctx, eventlog.Start(), opts,
			func(ctx context.Context, batch []eventlog.RecordedEvent) error {
				for _, e := range batch {
					out <- e
				}
				return nil
			})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Subscribe returned %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Subscribe did not return after cancel")
		}
	})
	return out
}

func receive(t *testing.T, events <-chan eventlog.RecordedEvent, want uuid.UUID, within time.Duration) {
	t.Helper()
	select {
	case e := <-events:
		if e.ID != want {
			t.Fatalf("delivered %s, want %s", e.ID, want)
		}
	case <-time.After(within):
		t.Fatalf("event %s not delivered within %s", want, within)
	}
}

// listenerPIDs returns the backends of this database that are waiting after a LISTEN.
func listenerPIDs(t *testing.T, ctx context.Context, pool *pgxpool.Pool) []int32 {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'LISTEN %' AND state = 'idle'`)
	if err != nil {
		t.Fatalf("find LISTEN backends: %v", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatalf("find LISTEN backends: %v", err)
	}
	return pids
}

// waitForListener waits until exactly one LISTEN backend other than not exists and returns it.
func waitForListener(t *testing.T, ctx context.Context, pool *pgxpool.Pool, not int32) int32 {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := listenerPIDs(t, ctx, pool)
		if len(pids) == 1 && pids[0] != not {
			return pids[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("LISTEN backends %v, want one new one", pids)
		}
		time.Sleep(20 * time.Millisecond) // polling a server view; nothing to wait on
	}
}

// TestNotifyWakesSubscriberOfAnotherStore: a subscriber whose Store never appends and never
// polls in time is woken by the NOTIFY of another Store on another pool, as across processes.
func TestNotifyWakesSubscriberOfAnotherStore(t *testing.T) {
	ctx := testContext(t)
	writer, reader, pool := storesOfTwoProcesses(t, pgstore.Config{PollInterval: time.Hour})

	prefix := "wake-" + uuid.NewString()
	events := collect(t, reader, prefix)
	waitForListener(t, ctx, pool, 0)
	for i := range 3 {
		e := event(`{}`)
		if _, err := writer.Append(ctx, prefix+"-s", eventlog.Exactly(int64(i)-1), e); err != nil {
			t.Fatalf("append: %v", err)
		}
		receive(t, events, e.ID, 10*time.Second)
	}
}

// TestListenConnectionRecovers kills the subscription's LISTEN connection; it reconnects and
// NOTIFY wakes it again.
func TestListenConnectionRecovers(t *testing.T) {
	ctx := testContext(t)
	writer, reader, pool := storesOfTwoProcesses(t, pgstore.Config{PollInterval: time.Hour, ReconnectDelay: 50 * time.Millisecond})

	prefix := "reconnect-" + uuid.NewString()
	events := collect(t, reader, prefix)
	pid := waitForListener(t, ctx, pool, 0)
	first := event(`{"n":0}`)
	if _, err := writer.Append(ctx, prefix+"-s", eventlog.NoStream(), first); err != nil {
		t.Fatalf("append: %v", err)
	}
	receive(t, events, first.ID, 10*time.Second)

	var killed bool
	if err := pool.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate LISTEN backend %d: %v, %v", pid, killed, err)
	}
	// Appended while nobody listens: the reconnection itself must catch it up.
	missed := event(`{"n":1}`)
	if _, err := writer.Append(ctx, prefix+"-s", eventlog.Exactly(0), missed); err != nil {
		t.Fatalf("append: %v", err)
	}
	waitForListener(t, ctx, pool, pid)
	receive(t, events, missed.ID, 10*time.Second)

	after := event(`{"n":2}`)
	if _, err := writer.Append(ctx, prefix+"-s", eventlog.Exactly(1), after); err != nil {
		t.Fatalf("append: %v", err)
	}
	receive(t, events, after.ID, 10*time.Second)
}

// TestHeldBackEventsWaitForTheOpenTransaction: PostgreSQL assigns A, held open, the lower
// position, so nothing committed after it is readable before it commits.
func TestHeldBackEventsWaitForTheOpenTransaction(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	prefix := "held-" + uuid.NewString()
	events := collect(t, s, prefix)

	a, b := event(`{"a":1}`), event(`{"b":1}`)
	commit, rollback, err := s.HoldOpenAppend(ctx, prefix+"-a", eventlog.NoStream(), a)
	if err != nil {
		t.Fatalf("hold open append: %v", err)
	}
	defer rollback(context.Background()) //nolint:errcheck // a no-op after commit
	res, err := s.Append(ctx, prefix+"-b", eventlog.NoStream(), b)
	if err != nil {
		t.Fatalf("append B: %v", err)
	}
	got, err := s.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("while A is open ReadAll returned %d events, want none", len(got))
	}
	select {
	case e := <-events:
		t.Fatalf("while A is open the subscription delivered %s", e.ID)
	case <-time.After(200 * time.Millisecond):
	}
	if err := commit(ctx); err != nil {
		t.Fatalf("commit A: %v", err)
	}
	receive(t, events, a.ID, 5*time.Second)
	receive(t, events, b.ID, 5*time.Second)
	got, err = s.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
	if err != nil {
		t.Fatalf("read all: %v", err)
	}
	if len(got) != 2 || got[0].ID != a.ID || got[1].ID != b.ID || got[1].Position != res.Position {
		t.Fatalf("after commit ReadAll returned %+v", got)
	}
}

// TestFilteredSubscriptionCrossesLongGaps: a filtered subscription examines a bounded window of
// the log per read; runs of other streams longer than that window must not stop it.
func TestFilteredSubscriptionCrossesLongGaps(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	prefix := "wanted-" + uuid.NewString()
	noise := func(n int) {
		t.Helper()
		events := make([]eventlog.EventData, n)
		for i := range events {
			events[i] = event(`{}`)
		}
		if _, err := s.Append(ctx, "noise-"+uuid.NewString(), eventlog.NoStream(), events...); err != nil {
			t.Fatalf("append noise: %v", err)
		}
	}
	var want []uuid.UUID
	wanted := func() {
		t.Helper()
		e := event(`{}`)
		if _, err := s.Append(ctx, prefix+"-"+uuid.NewString(), eventlog.NoStream(), e); err != nil {
			t.Fatalf("append: %v", err)
		}
		want = append(want, e.ID)
	}
	wanted()
	noise(4500)
	wanted()
	noise(2000) // exactly one window
	wanted()
	noise(2500)

	got := collectWith(t, s, eventlog.SubscribeOptions{StreamPrefixes: []string{prefix}, MaxBatch: 1})
	for _, id := range want {
		receive(t, got, id, 10*time.Second)
	}
	wanted() // and it is live afterwards
	receive(t, got, want[len(want)-1], 10*time.Second)
}

func TestHoldOpenAppend(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	stream := "request-" + uuid.NewString()

	_, rollback, err := s.HoldOpenAppend(ctx, stream, eventlog.NoStream(), event(`{}`))
	if err != nil {
		t.Fatalf("hold open append: %v", err)
	}
	if err := rollback(ctx); err != nil {
		t.Fatalf("roll back: %v", err)
	}
	if got, _ := s.ReadStream(ctx, stream, 0, eventlog.ReadOptions{}); len(got) != 0 {
		t.Fatalf("rolled back append left %d events", len(got))
	}

	e := event(`{}`)
	commit, rollback, err := s.HoldOpenAppend(ctx, stream, eventlog.NoStream(), e)
	if err != nil {
		t.Fatalf("hold open append: %v", err)
	}
	if err := commit(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := rollback(ctx); err != nil {
		t.Errorf("roll back after commit: %v, want nil", err)
	}
	// A retry of a committed append has nothing to write.
	commit, _, err = s.HoldOpenAppend(ctx, stream, eventlog.NoStream(), e)
	if err != nil {
		t.Fatalf("retry of a committed hold-open append: %v", err)
	}
	if err := commit(ctx); err != nil {
		t.Fatalf("commit of a retry: %v", err)
	}
	_, _, err = s.HoldOpenAppend(ctx, stream, eventlog.NoStream(), event(`{}`))
	if !errors.Is(err, eventlog.ErrConcurrency) {
		t.Fatalf("hold open append on an existing stream with NoStream: %v, want a concurrency error", err)
	}
	if got, _ := s.ReadStream(ctx, stream, 0, eventlog.ReadOptions{}); len(got) != 1 || got[0].ID != e.ID {
		t.Fatalf("stream holds %+v, want just the committed event", got)
	}
}

func TestAppendEdgeCases(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	stream := "request-" + uuid.NewString()

	// Idempotent with Any as well.
	e0 := event(`{"n":0}`)
	first, err := s.Append(ctx, stream, eventlog.Any(), e0)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	again, err := s.Append(ctx, stream, eventlog.Any(), e0)
	if err != nil || again != first {
		t.Fatalf("appending the same event with Any again: %+v, %v; want %+v", again, err, first)
	}

	// A batch that is partly stored already is no retry.
	e1 := event(`{"n":1}`)
	if _, err := s.Append(ctx, stream, eventlog.Exactly(0), e0, e1); !errors.Is(err, eventlog.ErrIDReused) {
		t.Fatalf("append of a stored and a new event: %v, want ErrIDReused", err)
	}
	// Nor is a stored batch retried in another order, or split differently.
	e2 := event(`{"n":2}`)
	if _, err := s.Append(ctx, stream, eventlog.Exactly(0), e1, e2); err != nil {
		t.Fatalf("append: %v", err)
	}
	if _, err := s.Append(ctx, stream, eventlog.Exactly(0), e2, e1); !errors.Is(err, eventlog.ErrIDReused) {
		t.Fatalf("retry in another order: %v, want ErrIDReused", err)
	}
	if _, err := s.Append(ctx, stream, eventlog.Exactly(-1), e0, e1); !errors.Is(err, eventlog.ErrIDReused) {
		t.Fatalf("retry across two appends: %v, want ErrIDReused", err)
	}
	if got, _ := s.ReadStream(ctx, stream, 0, eventlog.ReadOptions{}); len(got) != 3 {
		t.Fatalf("stream holds %d events, want 3", len(got))
	}

	// Zero events: a check of the expected version that writes nothing.
	res, err := s.Append(ctx, stream, eventlog.Exactly(2))
	if err != nil || res.NextExpected != 2 || res.Position.IsStart() {
		t.Fatalf("empty append at the right version: %+v, %v", res, err)
	}
	if _, err := s.Append(ctx, stream, eventlog.Exactly(1)); !errors.Is(err, eventlog.ErrConcurrency) {
		t.Fatalf("empty append at the wrong version: %v, want a concurrency error", err)
	}
	if res, err := s.Append(ctx, "request-"+uuid.NewString(), eventlog.NoStream()); err != nil || res.NextExpected != -1 || !res.Position.IsStart() {
		t.Fatalf("empty append to a missing stream: %+v, %v", res, err)
	}

	bad := []struct {
		name   string
		stream string
		events []eventlog.EventData
	}{
		{"empty stream ID", "", []eventlog.EventData{event(`{}`)}},
		{"no ID", stream, []eventlog.EventData{{Type: "t.v1", Data: json.RawMessage(`{}`)}}},
		{"no type", stream, []eventlog.EventData{{ID: uuid.New(), Data: json.RawMessage(`{}`)}}},
		{"no data", stream, []eventlog.EventData{{ID: uuid.New(), Type: "t.v1"}}},
		{"invalid JSON", stream, []eventlog.EventData{event(`{"unterminated":`)}},
		{"an ID twice", stream, func() []eventlog.EventData { e := event(`{}`); return []eventlog.EventData{e, e} }()},
	}
	for _, tt := range bad {
		if _, err := s.Append(ctx, tt.stream, eventlog.Any(), tt.events...); err == nil {
			t.Errorf("append with %s succeeded", tt.name)
		}
	}
	if got, _ := s.ReadStream(ctx, stream, 0, eventlog.ReadOptions{}); len(got) != 3 {
		t.Fatalf("stream holds %d events after rejected appends, want 3", len(got))
	}
	if _, err := s.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: -1}); err == nil {
		t.Errorf("ReadAll with a negative limit succeeded")
	}
	if err := s.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{}, nil); err == nil {
		t.Errorf("Subscribe with a nil handler succeeded")
	}
}

// TestConcurrentAnyAppends: writers racing with Any all succeed, each event once.
func TestConcurrentAnyAppends(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	stream := "request-" + uuid.NewString()
	const writers, each = 16, 10
	errs := make(chan error, writers)
	for range writers {
		go func() {
			for range each {
				if _, err := s.Append(ctx, stream, eventlog.Any(), event(`{}`)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatalf("append with Any: %v", err)
		}
	}
	got, err := s.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil || len(got) != writers*each {
		t.Fatalf("stream holds %d events (%v), want %d", len(got), err, writers*each)
	}
}

func TestConfig(t *testing.T) {
	if err := (pgstore.Config{}).Validate(); err != nil {
		t.Errorf("zero config: %v", err)
	}
	bad := []pgstore.Config{
		{NotifyChannel: strings.Repeat("x", 64)},
		{PollInterval: -time.Second},
		{PollInterval: 10 * time.Millisecond, HeldBackPollInterval: time.Second},
		{ReconnectDelay: -1},
		{MaxConflictRetries: -1},
		{NotifyTimeout: -1},
	}
	for _, cfg := range bad {
		if err := cfg.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", cfg)
		}
	}
	if _, err := pgstore.New(nil, pgstore.Config{}); err == nil {
		t.Errorf("New with a nil pool succeeded")
	}
}

// TestHead: the head is the last event ReadAll returns now: the start of an empty log, the
// last append once no older transaction is open (other tests' transactions, in any database of
// the server, hold it back for a moment), and never past a transaction still open.
func TestHead(t *testing.T) {
	ctx := testContext(t)
	s, _ := pgtest.NewEventStore(t, pgstore.Config{})
	head := func() eventlog.Position {
		t.Helper()
		p, err := s.Head(ctx)
		if err != nil {
			t.Fatalf("head: %v", err)
		}
		return p
	}
	reaches := func(want eventlog.Position) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			got := head()
			if got.Compare(want) > 0 {
				t.Fatalf("head %s is past %s", got, want)
			}
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("head stayed at %s, want %s", got, want)
			}
		}
	}
	if got := head(); got != eventlog.Start() {
		t.Fatalf("head of an empty log: %s, want the start", got)
	}
	first, err := s.Append(ctx, "head-a", eventlog.NoStream(), event(`{}`), event(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	reaches(first.Position)
	commit, rollback, err := s.HoldOpenAppend(ctx, "head-b", eventlog.NoStream(), event(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	defer rollback(context.Background()) //nolint:errcheck // a no-op after commit
	later, err := s.Append(ctx, "head-c", eventlog.NoStream(), event(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if got := head(); got != first.Position {
		t.Fatalf("head while an older transaction is open: %s, want %s", got, first.Position)
	}
	if err := commit(ctx); err != nil {
		t.Fatal(err)
	}
	reaches(later.Position)
	all, err := s.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
	if err != nil || len(all) != 4 || all[3].Position != later.Position {
		t.Fatalf("ReadAll: %d events (%v); its last should be the head %s", len(all), err, later.Position)
	}
}

// An event whose metadata does not decode (written by an older program or another store) is
// read with what can be read of it, not refused: refusing it would fail every read of its page
// and stop every reader of the log there.
func TestMetadataThatDoesNotDecodeDoesNotStopReaders(t *testing.T) {
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	ctx := context.Background()
	for i, meta := range []string{`{"actor":"admin"}`, `{"actor":"admin","occurred_at":5,"correlation_id":"c-1"}`, `[1,2]`, `{"actor":"admin"}`} {
		if _, err := pool.Exec(ctx, `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
			VALUES ('odd-1', $1, gen_random_uuid(), 'odd.v1', '{}', $2)`, i, meta); err != nil {
			t.Fatal(err)
		}
	}
	// Another test's transaction may hold the log back (the xmin horizon is the cluster's):
	// wait until the four are readable.
	var all []eventlog.RecordedEvent
	var err error
	for deadline := time.Now().Add(30 * time.Second); len(all) < 4; {
		if all, err = store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{}); err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 4 events readable after 30 s", len(all))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stream, err := store.ReadStream(ctx, "odd-1", 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatalf("ReadStream: %v", err)
	}
	for _, events := range [][]eventlog.RecordedEvent{all, stream} {
		if len(events) != 4 {
			t.Fatalf("read %d events, want 4", len(events))
		}
		if m := events[1].Metadata; m.Actor != "admin" || m.CorrelationID != "c-1" || !m.OccurredAt.IsZero() {
			t.Errorf("partly decodable metadata read as %+v, want the fields that decode", m)
		}
		if m := events[2].Metadata; m != (eventlog.Metadata{}) {
			t.Errorf("metadata that is not an object read as %+v, want zero", m)
		}
	}
	var got []eventlog.RecordedEvent
	subCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err = store.Subscribe(subCtx, eventlog.Start(), eventlog.SubscribeOptions{}, func(_ context.Context, batch []eventlog.RecordedEvent) error {
		got = append(got, batch...)
		if len(got) >= 4 {
			cancel()
		}
		return nil
	})
	if len(got) != 4 {
		t.Fatalf("a subscription delivered %d events (%v), want 4", len(got), err)
	}
}
