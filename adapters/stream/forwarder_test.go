package stream_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// quiet discards the logs of forwarders and brokers below warnings.
var quiet = slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func unique(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// eventLog is a migrated per-test database with a PostgreSQL event store on it.
type eventLog struct {
	pool  *pgxpool.Pool
	url   string
	store *pgstore.Store
}

func newEventLog(t *testing.T) eventLog {
	t.Helper()
	pool, url := pgtest.NewDatabase(t)
	store := pgtest.OpenEventStore(t, pool, pgstore.Config{PollInterval: 50 * time.Millisecond})
	return eventLog{pool: pool, url: url, store: store}
}

// appendEvents appends perStream events to each of streams new streams, interleaved one event
// per stream per append, and returns them as recorded, in log order.
func (l eventLog) appendEvents(t *testing.T, ctx context.Context, streams, perStream int) []eventlog.RecordedEvent {
	t.Helper()
	head, err := l.store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	positions := make([]eventlog.Position, 0, streams*perStream)
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = "request-" + uuid.NewString()
	}
	for v := range perStream {
		for _, id := range ids {
			data, _ := json.Marshal(map[string]any{"stream": id, "n": v})
			res, err := l.store.Append(ctx, id, eventlog.Exactly(int64(v-1)), eventlog.EventData{
				ID: uuid.New(), Type: "request.tested.v1", Data: data,
				Metadata: eventlog.Metadata{Actor: "technician:" + uuid.NewString(), OccurredAt: time.Now().UTC(), CorrelationID: "corr-" + id[8:16]},
			})
			if err != nil {
				t.Fatalf("append to %s: %v", id, err)
			}
			positions = append(positions, res.Position)
		}
	}
	return pgtest.ReadBack(t, ctx, l.store, head, positions)
}

// received gathers the messages of a subscription, acknowledging each.
type received struct {
	mu   sync.Mutex
	msgs []*message.Message
	more chan struct{}
}

func receive(t *testing.T, ctx context.Context, msgs <-chan *message.Message) *received {
	r := &received{more: make(chan struct{}, 1)}
	go func() {
		for m := range msgs {
			m.Ack()
			r.mu.Lock()
			r.msgs = append(r.msgs, m)
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

// distinct counts the distinct message UUIDs received.
func (r *received) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, m := range r.msgs {
		seen[m.UUID] = true
	}
	return len(seen)
}

func (r *received) all() []*message.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*message.Message(nil), r.msgs...)
}

// waitFor waits until n distinct messages arrived.
func (r *received) waitFor(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for r.distinct() < n {
		select {
		case <-r.more:
		case <-deadline.C:
			t.Fatalf("%d distinct messages arrived within %s, want %d", r.distinct(), within, n)
		}
	}
}

// check verifies that every event arrived with its metadata, in log order per stream, and,
// when exactlyOnce, once. Repeats are allowed otherwise, but only as repeats of a prefix: the
// first arrival of each event is in order.
func check(t *testing.T, events []eventlog.RecordedEvent, got []*message.Message, exactlyOnce bool) {
	t.Helper()
	want := map[string]eventlog.RecordedEvent{}
	for _, e := range events {
		want[e.ID.String()] = e
	}
	seen := map[string]int{}
	nextVersion := map[string]int64{}
	for _, e := range events {
		if _, ok := nextVersion[e.StreamID]; !ok {
			nextVersion[e.StreamID] = e.Version
		}
	}
	duplicates := 0
	for _, m := range got {
		e, ok := want[m.UUID]
		if !ok {
			t.Errorf("message %s is no event of this test", m.UUID)
			continue
		}
		seen[m.UUID]++
		if seen[m.UUID] > 1 {
			duplicates++
			continue
		}
		if string(m.Payload) != string(e.Data) {
			t.Errorf("event %s: payload %s, want %s", m.UUID, m.Payload, e.Data)
		}
		wantMeta := map[string]string{
			stream.MetadataEventType:     e.Type,
			stream.MetadataStreamID:      e.StreamID,
			stream.MetadataStreamVersion: strconv.FormatInt(e.Version, 10),
			stream.MetadataPosition:      e.Position.String(),
			stream.MetadataOccurredAt:    e.Metadata.OccurredAt.UTC().Format(time.RFC3339Nano),
			stream.MetadataActor:         e.Metadata.Actor,
			stream.MetadataCorrelationID: e.Metadata.CorrelationID,
		}
		for k, v := range wantMeta {
			if got := m.Metadata.Get(k); got != v {
				t.Errorf("event %s: metadata %s = %q, want %q", m.UUID, k, got, v)
			}
		}
		if e.Version != nextVersion[e.StreamID] {
			t.Errorf("stream %s: version %d arrived first after version %d", e.StreamID, e.Version, nextVersion[e.StreamID]-1)
		}
		nextVersion[e.StreamID] = e.Version + 1
	}
	for id := range want {
		if seen[id] == 0 {
			t.Errorf("event %s never arrived", id)
		}
	}
	if exactlyOnce && duplicates > 0 {
		t.Errorf("%d messages arrived twice", duplicates)
	}
}

// running is a forwarder started in the background.
type running struct {
	fwd    *stream.Forwarder
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, ctx context.Context, cfg stream.Config) *running {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	fwd, err := stream.NewForwarder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	r := &running{fwd: fwd, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- fwd.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the forwarder and waits for Run to return; it may be called again.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("forwarder Run returned %v", err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("forwarder did not stop within 10s of its context ending")
	}
}

// waitPosition waits until the forwarder's checkpoint reaches pos.
func (r *running) waitPosition(t *testing.T, pos eventlog.Position, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for r.fwd.Position().Compare(pos) < 0 {
		if time.Now().After(deadline) {
			t.Fatalf("forwarder checkpoint at %s after %s, want %s", r.fwd.Position(), within, pos)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func storedCheckpoint(t *testing.T, ctx context.Context, pool *pgxpool.Pool, name string) (string, int64) {
	t.Helper()
	var pos string
	var published int64
	err := pool.QueryRow(ctx, `SELECT position, events_published FROM stream_checkpoints WHERE name = $1`, name).Scan(&pos, &published)
	if err != nil {
		t.Fatalf("read checkpoint %s: %v", name, err)
	}
	return pos, published
}

// halfway is a publisher that publishes the first half of its second batch, then ends the
// forwarder's context (a process killed in the middle of a batch) and fails.
type halfway struct {
	next  message.Publisher
	kill  context.CancelFunc
	calls *int
}

func (h halfway) Publish(topic string, msgs ...*message.Message) error {
	*h.calls++
	if *h.calls < 2 {
		return h.next.Publish(topic, msgs...)
	}
	if err := h.next.Publish(topic, msgs[:len(msgs)/2]...); err != nil {
		return err
	}
	h.kill()
	return errors.New("killed half-way through the batch")
}

func (h halfway) Close() error { return nil }

func TestConfigValidate(t *testing.T) {
	pool := &pgxpool.Pool{} // never used: Validate only looks at the fields
	store := &pgstore.Store{}
	var publisher message.Publisher = halfway{}
	inTx := func(pgx.Tx) (message.Publisher, error) { return publisher, nil }
	valid := stream.Config{Pool: pool, Store: store, Publisher: publisher}
	for _, tc := range []struct {
		name   string
		change func(*stream.Config)
		want   string // a part of the error; empty means valid
	}{
		{"zero fields take defaults", func(*stream.Config) {}, ""},
		{"every field set", func(c *stream.Config) {
			*c = stream.Config{Name: "warehouse", Topic: "events", Pool: pool, Store: store, Publisher: publisher,
				BatchSize: stream.MaxBatchSize, LeaderRetry: time.Second, RetryDelay: time.Second, Logger: quiet}
		}, ""},
		{"publish in the transaction", func(c *stream.Config) { c.Publisher, c.PublishInTx = nil, inTx }, ""},
		{"no pool", func(c *stream.Config) { c.Pool = nil }, "Pool is required"},
		{"no store", func(c *stream.Config) { c.Store = nil }, "Store is required"},
		{"no publisher", func(c *stream.Config) { c.Publisher = nil }, "Publisher or PublishInTx is required"},
		{"two publishers", func(c *stream.Config) { c.PublishInTx = inTx }, "not both"},
		{"negative batch", func(c *stream.Config) { c.BatchSize = -1 }, "BatchSize -1"},
		{"batch too large", func(c *stream.Config) { c.BatchSize = stream.MaxBatchSize + 1 }, "BatchSize"},
		{"negative leader retry", func(c *stream.Config) { c.LeaderRetry = -time.Second }, "LeaderRetry"},
		{"negative retry delay", func(c *stream.Config) { c.RetryDelay = -time.Second }, "RetryDelay"},
		{"blank name", func(c *stream.Config) { c.Name = " " }, "Name"},
		{"long name", func(c *stream.Config) { c.Name = strings.Repeat("n", 41) }, "longer than"},
		{"spaced topic", func(c *stream.Config) { c.Topic = "events " }, "Topic"},
		{"every fault at once", func(c *stream.Config) { *c = stream.Config{BatchSize: -5, RetryDelay: -1} }, "Pool is required\nStore is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.change(&cfg)
			err := cfg.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Validate: %v, want nil", err)
			case tc.want != "" && err == nil:
				t.Fatalf("Validate accepted it, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("Validate: %v, want an error with %q", err, tc.want)
			}
			if tc.want == "" {
				if _, err := stream.NewForwarder(cfg); err != nil {
					t.Fatalf("NewForwarder: %v", err)
				}
			}
		})
	}
}

func TestNewMessage(t *testing.T) {
	occurred := time.Date(2026, 11, 25, 10, 4, 5, 123456789, time.FixedZone("CET", 3600))
	e := eventlog.RecordedEvent{
		ID: uuid.New(), StreamID: "request-1", Version: 7, Type: "request.closed.v1",
		Data:     json.RawMessage(`{"a":1}`),
		Metadata: eventlog.Metadata{Actor: "admin", OccurredAt: occurred, CorrelationID: "c-1"},
		Position: eventlog.NewPosition(12, 34),
	}
	m := stream.NewMessage(e)
	if m.UUID != e.ID.String() || string(m.Payload) != `{"a":1}` {
		t.Fatalf("message %s %s", m.UUID, m.Payload)
	}
	want := message.Metadata{"event_type": "request.closed.v1", "stream_id": "request-1", "stream_version": "7",
		"position": "12-34", "occurred_at": "2026-11-25T09:04:05.123456789Z", "actor": "admin", "correlation_id": "c-1"}
	if fmt.Sprint(m.Metadata) != fmt.Sprint(want) {
		t.Fatalf("metadata %v, want %v", m.Metadata, want)
	}
}
