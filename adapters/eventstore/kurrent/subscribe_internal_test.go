package kurrent

// White-box tests of Subscribe's batching, resumption and backoff, on a scripted subscription
// instead of a server. (The mapping tests are black-box, in kurrent_test.go.)

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

type fakeSub struct {
	msgs   chan *esdb.SubscriptionEvent
	closed chan struct{}
	once   sync.Once
}

func newFakeSub(msgs []*esdb.SubscriptionEvent, drop bool) *fakeSub {
	f := &fakeSub{msgs: make(chan *esdb.SubscriptionEvent, len(msgs)+1), closed: make(chan struct{})}
	for _, m := range msgs {
		f.msgs <- m
	}
	if drop {
		close(f.msgs)
	}
	return f
}

func dropped(err error) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{SubscriptionDropped: &esdb.SubscriptionDropped{Error: err}}
}

func (f *fakeSub) Recv() *esdb.SubscriptionEvent {
	select {
	case m, ok := <-f.msgs:
		if !ok {
			return dropped(errors.New("server went away"))
		}
		return m
	case <-f.closed:
		return dropped(errors.New("subscription has been dropped"))
	}
}

func (f *fakeSub) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

// fakeServer answers subscribe calls from a script, one entry per call, and records the options.
type fakeServer struct {
	mu      sync.Mutex
	calls   []esdb.SubscribeToAllOptions
	times   []time.Time
	scripts []func() (subscription, error)
}

func (s *fakeServer) subscribe(_ context.Context, opts esdb.SubscribeToAllOptions) (subscription, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.calls)
	s.calls = append(s.calls, opts)
	s.times = append(s.times, time.Now())
	if n < len(s.scripts) {
		return s.scripts[n]()
	}
	return newFakeSub(nil, false), nil // an idle live subscription
}

func (s *fakeServer) callCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func serve(msgs []*esdb.SubscriptionEvent, drop bool) func() (subscription, error) {
	return func() (subscription, error) { return newFakeSub(msgs, drop), nil }
}

func testStore(t *testing.T, cfg Config, server *fakeServer) *Store {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	s := New(nil, cfg)
	s.subscribe = server.subscribe
	return s
}

var testMeta = []byte(`{"actor":"system","occurred_at":"2025-01-01T00:00:00Z"}`)

func appeared(stream, typ string, version, pos uint64) *esdb.SubscriptionEvent {
	return &esdb.SubscriptionEvent{EventAppeared: &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID:      uuid.New(),
		EventType:    typ,
		StreamID:     stream,
		EventNumber:  version,
		Position:     esdb.Position{Commit: pos, Prepare: pos},
		Data:         []byte(`{}`),
		UserMetadata: testMeta,
	}}}
}

func userEvents(n int, firstPos uint64) []*esdb.SubscriptionEvent {
	out := make([]*esdb.SubscriptionEvent, n)
	for i := range out {
		out[i] = appeared(fmt.Sprintf("request-%d", i%3), "request.note_added.v1", uint64(i/3), firstPos+uint64(i)*10)
	}
	return out
}

// collector records batches and cancels the subscription once it has want events.
type collector struct {
	mu      sync.Mutex
	batches [][]eventlog.RecordedEvent
	events  []eventlog.RecordedEvent
	want    int
	cancel  context.CancelFunc
}

func (c *collector) handle(_ context.Context, batch []eventlog.RecordedEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches = append(c.batches, batch)
	c.events = append(c.events, batch...)
	if len(c.events) >= c.want {
		c.cancel()
	}
	return nil
}

func run(t *testing.T, s *Store, from eventlog.Position, opts eventlog.SubscribeOptions, want int) (*collector, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &collector{want: want, cancel: cancel}
	err := s.Subscribe(ctx, from, opts, c.handle)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed out with %d of %d events", len(c.events), want)
	}
	return c, err
}

func positionsOf(msgs []*esdb.SubscriptionEvent) []eventlog.Position {
	var out []eventlog.Position
	for _, m := range msgs {
		if m.EventAppeared != nil {
			out = append(out, ToPosition(m.EventAppeared.Event.Position))
		}
	}
	return out
}

func checkPositions(t *testing.T, got []eventlog.RecordedEvent, want []eventlog.Position) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("delivered %d events, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Position != want[i] {
			t.Errorf("event %d at %v, want %v", i, got[i].Position, want[i])
		}
	}
}

func TestSubscribeBatchesSkipsSystemEventsAndFilters(t *testing.T) {
	user := userEvents(7, 100)
	msgs := []*esdb.SubscriptionEvent{appeared("$stats-node", "$statsCollected", 0, 50)}
	msgs = append(msgs, user[:3]...)
	msgs = append(msgs, &esdb.SubscriptionEvent{CheckPointReached: &esdb.Position{Commit: 125, Prepare: 125}})
	msgs = append(msgs, appeared("request-0", "$>", 9, 126)) // a link in a user stream
	msgs = append(msgs, user[3:]...)
	msgs = append(msgs, &esdb.SubscriptionEvent{CaughtUp: &esdb.Subscription{}})
	server := &fakeServer{scripts: []func() (subscription, error){serve(msgs, false)}}
	s := testStore(t, Config{}, server)

	c, err := run(t, s, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{"request-"}, MaxBatch: 2}, len(user))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled once ctx ends", err)
	}
	checkPositions(t, c.events, positionsOf(user))
	for _, b := range c.batches {
		if len(b) == 0 || len(b) > 2 {
			t.Errorf("batch of %d events, want 1 to MaxBatch=2", len(b))
		}
	}
	if n := server.callCount(); n != 1 {
		t.Errorf("%d subscriptions, want 1", n)
	}
	opts := server.calls[0]
	if opts.From != (esdb.Start{}) {
		t.Errorf("first subscription from %#v, want the start", opts.From)
	}
	if opts.Filter == nil || opts.Filter.Type != esdb.StreamFilterType || len(opts.Filter.Prefixes) != 1 || opts.Filter.Prefixes[0] != "request-" {
		t.Errorf("filter = %+v, want a server-side stream prefix filter", opts.Filter)
	}
	if c.events[0].StreamID != "request-0" || c.events[0].Metadata.Actor != "system" {
		t.Errorf("first event mapped to %+v", c.events[0])
	}
}

func TestSubscribeBatchesWhatIsAvailable(t *testing.T) {
	user := userEvents(10, 10)
	server := &fakeServer{scripts: []func() (subscription, error){serve(user, false)}}
	s := testStore(t, Config{}, server)
	c, err := run(t, s, eventlog.Start(), eventlog.SubscribeOptions{}, len(user))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
	checkPositions(t, c.events, positionsOf(user))
	if len(c.batches) >= len(user) {
		t.Logf("note: %d batches for %d events (the pump was slower than the loop)", len(c.batches), len(user))
	}
}

func TestSubscribeResumesAfterLastDeliveredEvent(t *testing.T) {
	user := userEvents(5, 1000)
	server := &fakeServer{scripts: []func() (subscription, error){
		serve(user[:2], true), // two events, then the server goes away
		func() (subscription, error) { return nil, errors.New("connection refused") },
		// The new subscription resends the event at its start position (it must not be
		// delivered twice), then the rest.
		serve(append([]*esdb.SubscriptionEvent{user[1]}, user[2:]...), false),
	}}
	s := testStore(t, Config{ReconnectMinDelay: time.Millisecond, ReconnectMaxDelay: 2 * time.Millisecond}, server)
	c, err := run(t, s, eventlog.Start(), eventlog.SubscribeOptions{MaxBatch: 10}, len(user))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
	checkPositions(t, c.events, positionsOf(user))
	if n := server.callCount(); n != 3 {
		t.Fatalf("%d subscriptions, want 3", n)
	}
	wantFrom := user[1].EventAppeared.Event.Position
	for _, i := range []int{1, 2} {
		if got := server.calls[i].From; got != wantFrom {
			t.Errorf("subscription %d from %#v, want after the last delivered event %v", i, got, wantFrom)
		}
	}
}

func TestSubscribeStartIsExclusive(t *testing.T) {
	user := userEvents(3, 500)
	server := &fakeServer{scripts: []func() (subscription, error){serve(user, false)}}
	s := testStore(t, Config{}, server)
	from := ToPosition(user[0].EventAppeared.Event.Position)
	c, err := run(t, s, from, eventlog.SubscribeOptions{}, 2)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
	checkPositions(t, c.events, positionsOf(user[1:]))
	if got := server.calls[0].From; got != user[0].EventAppeared.Event.Position {
		t.Errorf("subscription from %#v", got)
	}
}

func TestSubscribeReturnsHandlerError(t *testing.T) {
	boom := errors.New("projection failed")
	server := &fakeServer{scripts: []func() (subscription, error){serve(userEvents(3, 10), false)}}
	s := testStore(t, Config{}, server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{}, func(context.Context, []eventlog.RecordedEvent) error {
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Subscribe returned %v, want the handler's error", err)
	}
	if n := server.callCount(); n != 1 {
		t.Errorf("%d subscriptions after a handler error, want 1 (no resubscription)", n)
	}
}

func TestSubscribeStopsOnUnreadableEvent(t *testing.T) {
	bad := appeared("request-1", "request.note_added.v1", 0, 10)
	bad.EventAppeared.Event.UserMetadata = []byte("{not json")
	server := &fakeServer{scripts: []func() (subscription, error){serve([]*esdb.SubscriptionEvent{bad}, false)}}
	s := testStore(t, Config{}, server)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{}, func(context.Context, []eventlog.RecordedEvent) error {
		t.Error("handler called with an unreadable event")
		return nil
	})
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Subscribe returned %v, want the decoding error", err)
	}
	if n := server.callCount(); n != 1 {
		t.Errorf("%d subscriptions, want 1: retrying cannot fix a stored event", n)
	}
}

func TestSubscribeBacksOffBetweenFailedAttempts(t *testing.T) {
	fail := func() (subscription, error) { return nil, errors.New("unavailable") }
	user := userEvents(1, 10)
	server := &fakeServer{scripts: []func() (subscription, error){fail, fail, fail, fail, serve(user, false)}}
	cfg := Config{ReconnectMinDelay: 10 * time.Millisecond, ReconnectMaxDelay: 40 * time.Millisecond, NoJitter: true}
	s := testStore(t, cfg, server)
	c, err := run(t, s, eventlog.Start(), eventlog.SubscribeOptions{}, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
	checkPositions(t, c.events, positionsOf(user))
	if n := server.callCount(); n != 5 {
		t.Fatalf("%d attempts, want 5", n)
	}
	// Waits of 10, 20, 40 (capped), 40 ms.
	wants := []time.Duration{10, 20, 40, 40}
	for i, w := range wants {
		gap := server.times[i+1].Sub(server.times[i])
		if gap < w*time.Millisecond {
			t.Errorf("wait before attempt %d = %s, want at least %s", i+2, gap, w*time.Millisecond)
		}
	}
}

func TestSubscribeCancelDuringBackoff(t *testing.T) {
	fail := func() (subscription, error) { return nil, errors.New("unavailable") }
	server := &fakeServer{scripts: []func() (subscription, error){fail}}
	s := testStore(t, Config{ReconnectMinDelay: time.Hour, ReconnectMaxDelay: time.Hour}, server)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	err := s.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{}, func(context.Context, []eventlog.RecordedEvent) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cancellation took %s", time.Since(start))
	}
}

func TestSubscribeCancelWhileLive(t *testing.T) {
	server := &fakeServer{} // an idle live subscription
	s := testStore(t, Config{}, server)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := s.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{}, func(context.Context, []eventlog.RecordedEvent) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v, want context.Canceled", err)
	}
}

func TestSubscribeNamespace(t *testing.T) {
	msgs := []*esdb.SubscriptionEvent{appeared("t1.request-1", "request.submitted.v1", 0, 10)}
	server := &fakeServer{scripts: []func() (subscription, error){serve(msgs, false)}}
	s := testStore(t, Config{Namespace: "t1."}, server)
	c, err := run(t, s, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{"request-"}}, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe returned %v", err)
	}
	if c.events[0].StreamID != "request-1" {
		t.Errorf("stream %q, want the namespace stripped", c.events[0].StreamID)
	}
	if p := server.calls[0].Filter.Prefixes; len(p) != 1 || p[0] != "t1.request-" {
		t.Errorf("filter prefixes %v, want [t1.request-]", p)
	}
}
