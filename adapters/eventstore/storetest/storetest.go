// Package storetest is the contract suite of the event-store port (eventlog.Store). Every
// implementation runs it from its own tests:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Harness { return storetest.Harness{Store: newStore(t)} })
//	}
//
// Every subtest writes only to streams of its own (their IDs carry a fresh UUID), and filters
// whatever it reads from the global log down to them, so one store may serve all subtests and may
// hold other events too.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Harness is what the suite needs of an implementation.
type Harness struct {
	// Store is the store under test.
	Store eventlog.Store
	// HoldOpenAppend, when set, starts an append and leaves it uncommitted until commit is called
	// (nil for stores that cannot). The suite always calls commit; the harness should roll back
	// appends left open when the test ends.
	HoldOpenAppend func(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (commit func(context.Context) error, err error)
}

// Timeouts of the suite: how long a test waits for something that must happen.
const (
	testTimeout = 90 * time.Second
	waitTimeout = 15 * time.Second
)

// Run runs the contract suite. newHarness is called once per subtest, with the subtest's t.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		run  func(t *testing.T, h Harness)
	}{
		{"AppendToNewStreamWithNoStream", testAppendNoStream},
		{"NoStreamOnExistingStreamConflicts", testNoStreamOnExisting},
		{"ExactExpectedVersion", testExactVersion},
		{"AnyExpectedVersion", testAnyVersion},
		{"MultiEventAppendIsAtomic", testMultiEventAtomic},
		{"ConcurrentWritersAtTheSameVersion", testConcurrentSameVersion},
		{"DuplicateEventIDs", testDuplicateIDs},
		{"ReadStream", testReadStream},
		{"ReadAllFromTheMiddle", testReadAllFromMiddle},
		{"DataAndMetadataRoundTripExactly", testRoundTrip},
		{"PositionsIncreaseInGlobalOrder", testPositionsIncrease},
		{"SubscribeBacklogThenLive", testSubscribeBacklogThenLive},
		{"SubscribeFromTheMiddle", testSubscribeFromMiddle},
		{"SubscribeStreamPrefixFilter", testSubscribePrefixFilter},
		{"SubscribeMaxBatch", testSubscribeMaxBatch},
		{"SubscribeHandlerErrorStopsIt", testSubscribeHandlerError},
		{"SubscribeContextEndReturns", testSubscribeContextEnd},
		{"HeldOpenTransactionIsNeverSkipped", testHeldOpenTransaction},
		{"ConcurrentAppendsWhileSubscribed", testConcurrentAppendsWhileSubscribed},
		{"CheckedAppendRequiresTheStreamsRead", testCheckedAppend},
		{"CheckedAppendRetriedAnswersTheFirstResults", testCheckedAppendRetried},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if h.Store == nil {
				t.Fatal("harness has no Store")
			}
			tt.run(t, h)
		})
	}
}

// ---------------------------------------------------------------------------------------------
// Helpers

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newTag returns a prefix no other test uses; stream IDs built on it are the test's own.
func newTag(kind string) string {
	return kind + "-" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16] + "-"
}

// newStream returns a fresh stream ID such as "request-<uuid>".
func newStream(kind string) string { return kind + "-" + uuid.NewString() }

// newEvent returns an event with a fresh ID.
func newEvent(eventType, data string) eventlog.EventData {
	return eventlog.EventData{
		ID:   uuid.New(),
		Type: eventType,
		Data: json.RawMessage(data),
		Metadata: eventlog.Metadata{
			Actor:         "system",
			OccurredAt:    time.Now().UTC(),
			CorrelationID: uuid.NewString(),
		},
	}
}

// numbered returns n events whose data is {"n":i}.
func numbered(n int) []eventlog.EventData {
	events := make([]eventlog.EventData, n)
	for i := range events {
		events[i] = newEvent("test.numbered.v1", fmt.Sprintf(`{"n":%d}`, i))
	}
	return events
}

func mustAppend(t *testing.T, ctx context.Context, s eventlog.Store, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) eventlog.AppendResult {
	t.Helper()
	res, err := s.Append(ctx, streamID, expected, events...)
	if err != nil {
		t.Fatalf("append %d events to %s expecting %s: %v", len(events), streamID, expected, err)
	}
	return res
}

func mustReadStream(t *testing.T, ctx context.Context, s eventlog.Store, streamID string, from int64, limit int) []eventlog.RecordedEvent {
	t.Helper()
	events, err := s.ReadStream(ctx, streamID, from, eventlog.ReadOptions{Limit: limit})
	if err != nil {
		t.Fatalf("read stream %s from %d: %v", streamID, from, err)
	}
	return events
}

// requireConflict checks that err is a *eventlog.ConcurrencyError for streamID with Actual.
func requireConflict(t *testing.T, err error, streamID string, actual int64) {
	t.Helper()
	if err == nil {
		t.Fatalf("append to %s succeeded, want a concurrency error", streamID)
	}
	if !errors.Is(err, eventlog.ErrConcurrency) {
		t.Fatalf("append to %s: error %v does not match eventlog.ErrConcurrency", streamID, err)
	}
	var ce *eventlog.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("append to %s: error %v is not a *eventlog.ConcurrencyError", streamID, err)
	}
	if ce.StreamID != streamID {
		t.Errorf("ConcurrencyError.StreamID = %q, want %q", ce.StreamID, streamID)
	}
	if ce.Actual != actual {
		t.Errorf("ConcurrencyError.Actual = %d, want %d", ce.Actual, actual)
	}
}

// requireStream checks that the stream holds exactly the events, with versions 0…n-1.
func requireStream(t *testing.T, ctx context.Context, s eventlog.Store, streamID string, want []eventlog.EventData) []eventlog.RecordedEvent {
	t.Helper()
	got := mustReadStream(t, ctx, s, streamID, 0, 0)
	if len(got) != len(want) {
		t.Fatalf("stream %s holds %d events, want %d", streamID, len(got), len(want))
	}
	for i, e := range got {
		requireEvent(t, e, streamID, int64(i), want[i])
	}
	return got
}

// requireEvent checks a recorded event against what was appended.
func requireEvent(t *testing.T, got eventlog.RecordedEvent, streamID string, version int64, want eventlog.EventData) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s version %d: ID %s, want %s", streamID, version, got.ID, want.ID)
	}
	if got.StreamID != streamID {
		t.Errorf("event %s: stream %q, want %q", want.ID, got.StreamID, streamID)
	}
	if got.Version != version {
		t.Errorf("event %s: version %d, want %d", want.ID, got.Version, version)
	}
	if got.Type != want.Type {
		t.Errorf("event %s: type %q, want %q", want.ID, got.Type, want.Type)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("event %s: data %q, want exactly %q", want.ID, got.Data, want.Data)
	}
	requireMetadata(t, want.ID, got.Metadata, want.Metadata)
	if got.Position.IsStart() {
		t.Errorf("event %s: position is the start of the log", want.ID)
	}
	if got.RecordedAt.IsZero() {
		t.Errorf("event %s: RecordedAt is zero", want.ID)
	}
}

func requireMetadata(t *testing.T, id uuid.UUID, got, want eventlog.Metadata) {
	t.Helper()
	if !got.OccurredAt.Equal(want.OccurredAt) {
		t.Errorf("event %s: OccurredAt %s, want %s", id, got.OccurredAt.Format(time.RFC3339Nano), want.OccurredAt.Format(time.RFC3339Nano))
	}
	got.OccurredAt, want.OccurredAt = time.Time{}, time.Time{}
	if (got.Decision == nil) != (want.Decision == nil) || got.Decision != nil && *got.Decision != *want.Decision {
		t.Errorf("event %s: decision %+v, want %+v", id, got.Decision, want.Decision)
	}
	got.Decision, want.Decision = nil, nil
	if got != want {
		t.Errorf("event %s: metadata %+v, want %+v", id, got, want)
	}
}

// readAllOwn pages through the global log after from (limit events a page) until it has found
// want events of streams starting with prefix, then until the log has nothing more to read. It
// checks that every position it reads is after from and after the one before.
func readAllOwn(t *testing.T, ctx context.Context, s eventlog.Store, from eventlog.Position, prefix string, limit, want int) []eventlog.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var own []eventlog.RecordedEvent
	cursor := from
	for {
		page, err := s.ReadAll(ctx, cursor, eventlog.ReadOptions{Limit: limit})
		if err != nil {
			t.Fatalf("read all from %s: %v", cursor, err)
		}
		if limit > 0 && len(page) > limit {
			t.Fatalf("read all with limit %d returned %d events", limit, len(page))
		}
		for _, e := range page {
			if e.Position.Compare(cursor) <= 0 {
				t.Fatalf("read all from %s returned position %s, not after it", cursor, e.Position)
			}
			cursor = e.Position
			if strings.HasPrefix(e.StreamID, prefix) {
				own = append(own, e)
			}
		}
		if len(page) > 0 {
			continue
		}
		if len(own) >= want {
			return own
		}
		if time.Now().After(deadline) {
			t.Fatalf("read all from %s found %d of the %d events of streams %s* within %s", from, len(own), want, prefix, waitTimeout)
		}
		// Events may be held back until older transactions end; look again shortly.
		select {
		case <-ctx.Done():
			t.Fatalf("read all: %v", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func ids(events []eventlog.RecordedEvent) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func dataIDs(events []eventlog.EventData) []uuid.UUID {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

// subscription runs Subscribe in the background and collects what it delivers.
type subscription struct {
	t      *testing.T
	events chan eventlog.RecordedEvent
	done   chan error
	cancel context.CancelFunc

	mu      sync.Mutex
	batches []int
	last    eventlog.Position
}

// subscribe starts a subscription that the test's cleanup stops. The handler checks that
// positions only increase and that batches respect MaxBatch.
func subscribe(t *testing.T, s eventlog.Store, from eventlog.Position, opts eventlog.SubscribeOptions) *subscription {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sub := &subscription{
		t:      t,
		events: make(chan eventlog.RecordedEvent, 100000),
		done:   make(chan error, 1),
		cancel: cancel,
		last:   from,
	}
	maxBatch := opts.MaxBatch
	if maxBatch == 0 {
		maxBatch = 500
	}
	handler := func(ctx context.Context, batch []eventlog.RecordedEvent) error {
		sub.mu.Lock()
		defer sub.mu.Unlock()
		sub.batches = append(sub.batches, len(batch))
		if len(batch) == 0 {
			t.Errorf("subscription delivered an empty batch")
		}
		if len(batch) > maxBatch {
			t.Errorf("subscription delivered a batch of %d events, MaxBatch is %d", len(batch), maxBatch)
		}
		for _, e := range batch {
			if e.Position.Compare(sub.last) <= 0 {
				t.Errorf("subscription delivered %s (%s v%d) at position %s, not after the previous position %s",
					e.ID, e.StreamID, e.Version, e.Position, sub.last)
			}
			sub.last = e.Position
			select {
			case sub.events <- e:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	go func() { sub.done <- s.Subscribe(ctx, from, opts, handler) }()
	t.Cleanup(func() { sub.stop(t) })
	return sub
}

// stop cancels the subscription and waits for Subscribe to return; it returns what it returned.
func (sub *subscription) stop(t *testing.T) error {
	sub.cancel()
	select {
	case err, ok := <-sub.done:
		if !ok {
			return nil // already stopped
		}
		close(sub.done)
		if err == nil {
			t.Errorf("Subscribe returned nil after its context was cancelled")
		}
		return err
	case <-time.After(waitTimeout):
		t.Errorf("Subscribe did not return within %s of its context being cancelled", waitTimeout)
		return nil
	}
}

// next waits for n more events.
func (sub *subscription) next(t *testing.T, n int) []eventlog.RecordedEvent {
	t.Helper()
	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	var got []eventlog.RecordedEvent
	for len(got) < n {
		select {
		case e := <-sub.events:
			got = append(got, e)
		case err := <-sub.done:
			sub.done <- err
			t.Fatalf("subscription ended after %d of %d events: %v", len(got), n, err)
		case <-timeout.C:
			t.Fatalf("subscription delivered %d of %d events within %s", len(got), n, waitTimeout)
		}
	}
	return got
}

// ---------------------------------------------------------------------------------------------
// Appending

func testAppendNoStream(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	events := []eventlog.EventData{
		newEvent("request.submitted.v1", `{"title":"printer"}`),
		newEvent("request.note_added.v1", `{"note":"jammed"}`),
	}
	res := mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), events...)
	if res.NextExpected != 1 {
		t.Errorf("NextExpected = %d, want 1", res.NextExpected)
	}
	if res.Position.IsStart() {
		t.Errorf("Position is the start of the log")
	}
	got := requireStream(t, ctx, h.Store, stream, events)
	if got[1].Position != res.Position {
		t.Errorf("result position %s, the last event was recorded at %s", res.Position, got[1].Position)
	}
	if got[0].Position.Compare(got[1].Position) >= 0 {
		t.Errorf("positions %s, %s within one append do not increase", got[0].Position, got[1].Position)
	}
}

func testNoStreamOnExisting(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	first := newEvent("request.submitted.v1", `{}`)
	mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), first)

	_, err := h.Store.Append(ctx, stream, eventlog.NoStream(), newEvent("request.submitted.v1", `{}`))
	requireConflict(t, err, stream, 0)
	var ce *eventlog.ConcurrencyError
	if errors.As(err, &ce) && !ce.Expected.IsNoStream() {
		t.Errorf("ConcurrencyError.Expected = %s, want no stream", ce.Expected)
	}
	requireStream(t, ctx, h.Store, stream, []eventlog.EventData{first})
}

func testExactVersion(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	e0, e1 := newEvent("t.v1", `{"n":0}`), newEvent("t.v1", `{"n":1}`)
	mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(-1), e0)
	if res := mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(0), e1); res.NextExpected != 1 {
		t.Errorf("NextExpected = %d, want 1", res.NextExpected)
	}

	_, err := h.Store.Append(ctx, stream, eventlog.Exactly(0), newEvent("t.v1", `{"stale":true}`))
	requireConflict(t, err, stream, 1)
	var ce *eventlog.ConcurrencyError
	if errors.As(err, &ce) {
		if v, ok := ce.Expected.Exact(); !ok || v != 0 {
			t.Errorf("ConcurrencyError.Expected = %s, want version 0", ce.Expected)
		}
	}
	_, err = h.Store.Append(ctx, stream, eventlog.Exactly(5), newEvent("t.v1", `{"ahead":true}`))
	requireConflict(t, err, stream, 1)

	missing := newStream("request")
	_, err = h.Store.Append(ctx, missing, eventlog.Exactly(0), newEvent("t.v1", `{}`))
	requireConflict(t, err, missing, -1)
	if got := mustReadStream(t, ctx, h.Store, missing, 0, 0); len(got) != 0 {
		t.Errorf("a failed append created stream %s with %d events", missing, len(got))
	}
	requireStream(t, ctx, h.Store, stream, []eventlog.EventData{e0, e1})
}

func testAnyVersion(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	e0, e1, e2 := newEvent("t.v1", `{"n":0}`), newEvent("t.v1", `{"n":1}`), newEvent("t.v1", `{"n":2}`)
	if res := mustAppend(t, ctx, h.Store, stream, eventlog.Any(), e0); res.NextExpected != 0 {
		t.Errorf("Any on a missing stream: NextExpected = %d, want 0", res.NextExpected)
	}
	if res := mustAppend(t, ctx, h.Store, stream, eventlog.Any(), e1, e2); res.NextExpected != 2 {
		t.Errorf("Any on an existing stream: NextExpected = %d, want 2", res.NextExpected)
	}
	requireStream(t, ctx, h.Store, stream, []eventlog.EventData{e0, e1, e2})
}

func testMultiEventAtomic(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	events := numbered(3)
	if res := mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), events...); res.NextExpected != 2 {
		t.Errorf("NextExpected = %d, want 2", res.NextExpected)
	}

	// A conflicting batch writes none of its events.
	_, err := h.Store.Append(ctx, stream, eventlog.Exactly(0), numbered(3)...)
	requireConflict(t, err, stream, 2)
	requireStream(t, ctx, h.Store, stream, events)

	// A batch whose second event reuses an ID of another stream writes none of its events.
	other := newStream("request")
	taken := newEvent("t.v1", `{"taken":true}`)
	mustAppend(t, ctx, h.Store, other, eventlog.NoStream(), taken)
	fresh := newEvent("t.v1", `{"fresh":true}`)
	_, err = h.Store.Append(ctx, stream, eventlog.Exactly(2), fresh, taken)
	if !errors.Is(err, eventlog.ErrIDReused) {
		t.Fatalf("append reusing an ID of another stream: error %v, want eventlog.ErrIDReused", err)
	}
	requireStream(t, ctx, h.Store, stream, events)
	requireStream(t, ctx, h.Store, other, []eventlog.EventData{taken})

	// The stream is still writable at the version the failed appends expected.
	more := numbered(2)
	if res := mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(2), more...); res.NextExpected != 4 {
		t.Errorf("NextExpected = %d, want 4", res.NextExpected)
	}
	requireStream(t, ctx, h.Store, stream, append(events, more...))
}

func testConcurrentSameVersion(t *testing.T, h Harness) {
	const writers, rounds = 32, 20
	ctx := testContext(t)
	stream := newStream("request")
	var winners []eventlog.EventData
	for round := range rounds {
		expected := eventlog.Exactly(int64(round) - 1)
		start := make(chan struct{})
		candidates := make([]eventlog.EventData, writers)
		results := make([]error, writers)
		appended := make([]eventlog.AppendResult, writers)
		var wg sync.WaitGroup
		for w := range writers {
			candidates[w] = newEvent("t.v1", fmt.Sprintf(`{"round":%d,"writer":%d}`, round, w))
			wg.Go(func() {
				<-start
				appended[w], results[w] = h.Store.Append(ctx, stream, expected, candidates[w])
			})
		}
		close(start)
		wg.Wait()

		won := -1
		for w, err := range results {
			switch {
			case err == nil:
				if won >= 0 {
					t.Fatalf("round %d: writers %d and %d both appended at %s", round, won, w, expected)
				}
				won = w
				if appended[w].NextExpected != int64(round) {
					t.Errorf("round %d: winner's NextExpected = %d", round, appended[w].NextExpected)
				}
			case errors.Is(err, eventlog.ErrConcurrency):
				var ce *eventlog.ConcurrencyError
				if !errors.As(err, &ce) {
					t.Fatalf("round %d: %v is not a *eventlog.ConcurrencyError", round, err)
				}
				if ce.Actual != int64(round) {
					t.Errorf("round %d: loser sees Actual = %d, want %d", round, ce.Actual, round)
				}
			default:
				t.Fatalf("round %d: writer %d: %v", round, w, err)
			}
		}
		if won < 0 {
			t.Fatalf("round %d: no writer appended", round)
		}
		winners = append(winners, candidates[won])
	}
	requireStream(t, ctx, h.Store, stream, winners)
}

func testDuplicateIDs(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	events := numbered(2)
	first := mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), events...)

	again, err := h.Store.Append(ctx, stream, eventlog.NoStream(), events...)
	if err != nil {
		t.Fatalf("appending the same events again: %v, want the original result", err)
	}
	if again != first {
		t.Errorf("appending the same events again returned %+v, the original was %+v", again, first)
	}
	requireStream(t, ctx, h.Store, stream, events)

	// Still the original result after the stream moved on.
	later := newEvent("t.v1", `{"later":true}`)
	mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(1), later)
	again, err = h.Store.Append(ctx, stream, eventlog.NoStream(), events...)
	if err != nil {
		t.Fatalf("retrying the first append after the stream moved on: %v, want the original result", err)
	}
	if again != first {
		t.Errorf("retrying the first append after the stream moved on returned %+v, the original was %+v", again, first)
	}
	requireStream(t, ctx, h.Store, stream, append(events, later))

	// An ID stored in one stream cannot be appended to another.
	other := newStream("request")
	_, err = h.Store.Append(ctx, other, eventlog.NoStream(), events[0])
	if !errors.Is(err, eventlog.ErrIDReused) {
		t.Fatalf("appending an ID of stream %s to %s: error %v, want eventlog.ErrIDReused", stream, other, err)
	}
	if got := mustReadStream(t, ctx, h.Store, other, 0, 0); len(got) != 0 {
		t.Errorf("stream %s holds %d events after a rejected append", other, len(got))
	}
}

// ---------------------------------------------------------------------------------------------
// Reading

func testReadStream(t *testing.T, h Harness) {
	ctx := testContext(t)
	stream := newStream("request")
	events := numbered(5)
	mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), events[:2]...)
	mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(1), events[2:]...)

	got := mustReadStream(t, ctx, h.Store, stream, 2, 0)
	if len(got) != 3 {
		t.Fatalf("read from version 2: %d events, want 3", len(got))
	}
	for i, e := range got {
		requireEvent(t, e, stream, int64(2+i), events[2+i])
	}
	got = mustReadStream(t, ctx, h.Store, stream, 2, 2)
	if !slices.Equal(ids(got), dataIDs(events[2:4])) {
		t.Errorf("read from version 2 with limit 2: %v, want %v", ids(got), dataIDs(events[2:4]))
	}
	if got := mustReadStream(t, ctx, h.Store, stream, 5, 0); len(got) != 0 {
		t.Errorf("read from version 5 of a 5-event stream: %d events, want none", len(got))
	}
	all := requireStream(t, ctx, h.Store, stream, events)
	for i := 1; i < len(all); i++ {
		if all[i-1].Position.Compare(all[i].Position) >= 0 {
			t.Errorf("positions of versions %d and %d do not increase: %s, %s", i-1, i, all[i-1].Position, all[i].Position)
		}
	}

	missing, err := h.Store.ReadStream(ctx, newStream("request"), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatalf("read a missing stream: %v, want no error", err)
	}
	if len(missing) != 0 {
		t.Errorf("read a missing stream: %d events", len(missing))
	}
}

func testReadAllFromMiddle(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("readall")
	streams := []string{tag + "a", tag + "b", tag + "c"}
	var (
		events  []eventlog.EventData
		results []eventlog.AppendResult
	)
	for i := range 6 {
		e := newEvent("t.v1", fmt.Sprintf(`{"n":%d}`, i))
		res := mustAppend(t, ctx, h.Store, streams[i%3], eventlog.Exactly(int64(i/3)-1), e)
		events, results = append(events, e), append(results, res)
	}

	all := readAllOwn(t, ctx, h.Store, eventlog.Start(), tag, 0, len(events))
	if !slices.Equal(ids(all), dataIDs(events)) {
		t.Fatalf("read all from the start: own events %v, want %v", ids(all), dataIDs(events))
	}
	for i, e := range all {
		requireEvent(t, e, streams[i%3], int64(i/3), events[i])
		if e.Position != results[i].Position {
			t.Errorf("event %d recorded at %s, its append returned %s", i, e.Position, results[i].Position)
		}
	}

	from := results[2].Position
	rest := readAllOwn(t, ctx, h.Store, from, tag, 2, 3)
	if !slices.Equal(ids(rest), dataIDs(events[3:])) {
		t.Fatalf("read all from %s (the third event): %v, want %v", from, ids(rest), dataIDs(events[3:]))
	}

	if got, err := h.Store.ReadAll(ctx, results[5].Position, eventlog.ReadOptions{Limit: 1000}); err != nil {
		t.Fatalf("read all from the last own event: %v", err)
	} else {
		for _, e := range got {
			if strings.HasPrefix(e.StreamID, tag) {
				t.Errorf("read all from the last own event returned own event %s (%s v%d)", e.ID, e.StreamID, e.Version)
			}
		}
	}
}

func testRoundTrip(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("roundtrip")
	payloads := []string{
		`{"b":1,"a":2}`,
		`{ "spaced" : [ 1 , 2.50 , 1e3, -0.0 ] ,"nested":{"z":null,"y":false} }`,
		`{"dup":1,"dup":2}`,
		`"text with \"quotes\", a \\ backslash, \u00e9 escaped and é raw"`,
		`{"emoji":"😀","nul":"\u0000","surrogates":"\ud83d\ude00"}`,
		"{\n\t\"indented\": true\n}\n",
		`12345678901234567890.000`,
		`[]`,
		`null`,
	}
	zone := time.FixedZone("IST", 5*3600+1800)
	stream := tag + "payloads"
	var events []eventlog.EventData
	for i, p := range payloads {
		e := newEvent("test.payload.v1", p)
		e.Metadata = eventlog.Metadata{
			Actor:         fmt.Sprintf("technician:%s", uuid.New()),
			OccurredAt:    time.Date(2024, 2, 29, 23, 59, 59, 123456789+i, zone),
			CorrelationID: uuid.NewString(),
			CausationID:   "command-" + uuid.NewString(),
			PreviousHash:  strings.Repeat("ab", 32),
			Hash:          strings.Repeat("cd", 32),
		}
		events = append(events, e)
	}
	events[0].Metadata = eventlog.Metadata{Actor: "admin"} // the zero time and empty optional fields
	events[1].Metadata.Decision = &eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: "round-robin"}
	events[2].Metadata.Decision = &eventlog.Decision{By: eventlog.DecisionReassignment, Rule: "away_limit",
		Reason: "away_limit: Zoë was Away 10m0s with 2 unanswered requests \"quoted\""}
	mustAppend(t, ctx, h.Store, stream, eventlog.NoStream(), events...)
	requireStream(t, ctx, h.Store, stream, events)

	// The global log and subscriptions return the same bytes.
	for i, e := range readAllOwn(t, ctx, h.Store, eventlog.Start(), stream, 0, len(events)) {
		requireEvent(t, e, stream, int64(i), events[i])
	}
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{stream}})
	for i, e := range sub.next(t, len(events)) {
		requireEvent(t, e, stream, int64(i), events[i])
	}

	// A sealed stream verifies after the round trip.
	sealed := tag + "sealed"
	first := numbered(3)
	eventlog.Seal(sealed, -1, "", first)
	mustAppend(t, ctx, h.Store, sealed, eventlog.NoStream(), first...)
	stored := mustReadStream(t, ctx, h.Store, sealed, 0, 0)
	second := []eventlog.EventData{
		newEvent("test.payload.v1", `{ "kept" : "as written" }`),
		newEvent("test.payload.v1", payloads[4]),
	}
	eventlog.Seal(sealed, stored[len(stored)-1].Version, stored[len(stored)-1].Metadata.Hash, second)
	mustAppend(t, ctx, h.Store, sealed, eventlog.Exactly(2), second...)
	stored = requireStream(t, ctx, h.Store, sealed, append(first, second...))
	if err := eventlog.VerifyChain(stored); err != nil {
		t.Errorf("hash chain of %s after the round trip: %v", sealed, err)
	}
}

func testPositionsIncrease(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("positions")
	streams := []string{tag + "a", tag + "b", tag + "c"}
	versions := map[string]int64{}
	var (
		want    []uuid.UUID
		results []eventlog.AppendResult
	)
	for i := range 10 {
		stream := streams[(i*7)%3]
		batch := numbered(1 + i%2)
		res := mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(versions[stream]-1), batch...)
		versions[stream] += int64(len(batch))
		if len(results) > 0 && res.Position.Compare(results[len(results)-1].Position) <= 0 {
			t.Errorf("append %d landed at %s, not after the previous append's %s", i, res.Position, results[len(results)-1].Position)
		}
		results = append(results, res)
		want = append(want, dataIDs(batch)...)
	}
	got := readAllOwn(t, ctx, h.Store, eventlog.Start(), tag, 0, len(want))
	if !slices.Equal(ids(got), want) {
		t.Fatalf("global order of own events %v, appended in order %v", ids(got), want)
	}
	// Each append's result is the position of its last event.
	byPosition := map[eventlog.Position]bool{}
	for _, e := range got {
		byPosition[e.Position] = true
	}
	for i, res := range results {
		if !byPosition[res.Position] {
			t.Errorf("append %d returned position %s, which no event has", i, res.Position)
		}
	}
	// Positions survive their text form.
	p, err := eventlog.ParsePosition(got[len(got)-1].Position.String())
	if err != nil || p != got[len(got)-1].Position {
		t.Errorf("position %s does not survive its text form: %v, %v", got[len(got)-1].Position, p, err)
	}
}

// ---------------------------------------------------------------------------------------------
// Subscribing

func testSubscribeBacklogThenLive(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("sub")
	s1, s2 := tag+"one", tag+"two"
	backlog := numbered(3)
	mustAppend(t, ctx, h.Store, s1, eventlog.NoStream(), backlog...)

	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}})
	got := sub.next(t, 3)
	for i, e := range got {
		requireEvent(t, e, s1, int64(i), backlog[i])
	}

	live := numbered(3)
	mustAppend(t, ctx, h.Store, s1, eventlog.Exactly(2), live[0])
	mustAppend(t, ctx, h.Store, s2, eventlog.NoStream(), live[1])
	mustAppend(t, ctx, h.Store, s1, eventlog.Exactly(3), live[2])
	got = sub.next(t, 3)
	if !slices.Equal(ids(got), dataIDs(live)) {
		t.Fatalf("live events %v, want %v", ids(got), dataIDs(live))
	}
	requireEvent(t, got[0], s1, 3, live[0])
	requireEvent(t, got[1], s2, 0, live[1])
	requireEvent(t, got[2], s1, 4, live[2])

	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe returned %v after cancel, want context.Canceled", err)
	}
}

func testSubscribeFromMiddle(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("sub")
	stream := tag + "s"
	events := numbered(5)
	var results []eventlog.AppendResult
	for i, e := range events {
		results = append(results, mustAppend(t, ctx, h.Store, stream, eventlog.Exactly(int64(i)-1), e))
	}
	sub := subscribe(t, h.Store, results[1].Position, eventlog.SubscribeOptions{StreamPrefixes: []string{tag}})
	got := sub.next(t, 3)
	if !slices.Equal(ids(got), dataIDs(events[2:])) {
		t.Fatalf("subscription from the second event delivered %v first, want %v", ids(got), dataIDs(events[2:]))
	}
	// Without a filter too (the log may hold other events between them).
	all := subscribe(t, h.Store, results[1].Position, eventlog.SubscribeOptions{})
	var own []eventlog.RecordedEvent
	for len(own) < 3 {
		for _, e := range all.next(t, 1) {
			if strings.HasPrefix(e.StreamID, tag) {
				own = append(own, e)
			}
		}
	}
	if !slices.Equal(ids(own), dataIDs(events[2:])) {
		t.Fatalf("unfiltered subscription from the second event delivered own events %v first, want %v", ids(own), dataIDs(events[2:]))
	}
}

func testSubscribePrefixFilter(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("filter")
	// "a_%" and "a\" hold LIKE/regexp metacharacters: "aX%" and "a\\" must not pass for them.
	wanted1, wanted2 := tag+`a_%\-`, tag+"c-"
	in1, lookalike, other, in2 := wanted1+"1", tag+`aX%\-1`, tag+"b-1", wanted2+"1"
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{wanted1, wanted2}})

	e := numbered(6)
	mustAppend(t, ctx, h.Store, in1, eventlog.NoStream(), e[0])
	mustAppend(t, ctx, h.Store, lookalike, eventlog.NoStream(), e[1])
	mustAppend(t, ctx, h.Store, other, eventlog.NoStream(), e[2])
	mustAppend(t, ctx, h.Store, in2, eventlog.NoStream(), e[3])
	mustAppend(t, ctx, h.Store, in1, eventlog.Exactly(0), e[4])
	mustAppend(t, ctx, h.Store, other, eventlog.Exactly(0), e[5])
	// A sentinel after everything: filtered-out events would arrive before it.
	sentinel := newEvent("t.v1", `{"sentinel":true}`)
	mustAppend(t, ctx, h.Store, in2, eventlog.Exactly(0), sentinel)

	got := sub.next(t, 4)
	want := []uuid.UUID{e[0].ID, e[3].ID, e[4].ID, sentinel.ID}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("filtered subscription delivered %v, want %v", ids(got), want)
	}
}

func testSubscribeMaxBatch(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("batch")
	events := numbered(7)
	mustAppend(t, ctx, h.Store, tag+"s", eventlog.NoStream(), events...)
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}, MaxBatch: 3})
	got := sub.next(t, 7)
	if !slices.Equal(ids(got), dataIDs(events)) {
		t.Fatalf("delivered %v, want %v", ids(got), dataIDs(events))
	}
	sub.mu.Lock()
	batches := append([]int(nil), sub.batches...)
	sub.mu.Unlock()
	if len(batches) < 3 {
		t.Errorf("7 events with MaxBatch 3 came in %d batches %v, want at least 3", len(batches), batches)
	}
}

func testSubscribeHandlerError(t *testing.T, h Harness) {
	ctx := testContext(t)
	tag := newTag("fail")
	mustAppend(t, ctx, h.Store, tag+"s", eventlog.NoStream(), numbered(2)...)
	errBoom := errors.New("handler failed on purpose")
	calls := 0
	done := make(chan error, 1)
	go func() {
		done <- h.Store.Subscribe(ctx, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}},
			func(context.Context, []eventlog.RecordedEvent) error {
				calls++
				return errBoom
			})
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errBoom) {
			t.Errorf("Subscribe returned %v, want the handler's error", err)
		}
		if calls != 1 {
			t.Errorf("the handler was called %d times after it failed, want once", calls)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Subscribe did not return within %s of its handler failing", waitTimeout)
	}
}

func testSubscribeContextEnd(t *testing.T, h Harness) {
	tag := newTag("ctx")
	// Cancelled while live (caught up, waiting).
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}})
	ctx := testContext(t)
	mustAppend(t, ctx, h.Store, tag+"s", eventlog.NoStream(), numbered(1)...)
	sub.next(t, 1)
	if err := sub.stop(t); !errors.Is(err, context.Canceled) {
		t.Errorf("Subscribe returned %v after cancel, want context.Canceled", err)
	}

	// A deadline ends it too.
	dctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- h.Store.Subscribe(dctx, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}},
			func(context.Context, []eventlog.RecordedEvent) error { return nil })
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Subscribe returned %v at its deadline, want context.DeadlineExceeded", err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Subscribe did not return within %s of its deadline", waitTimeout)
	}
}

// testHeldOpenTransaction holds append A open while B and C commit. However the store numbers
// them, a reader must never see a position before an earlier one becomes visible: the
// subscription delivers A, B and C exactly once with increasing positions, and whatever ReadAll
// returned while A was open is a prefix of what it returns afterwards.
func testHeldOpenTransaction(t *testing.T, h Harness) {
	if h.HoldOpenAppend == nil {
		t.Skip("the store cannot hold an append open")
	}
	ctx := testContext(t)
	tag := newTag("held")
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}})
	warmUp := mustAppend(t, ctx, h.Store, tag+"warmup", eventlog.NoStream(), numbered(1)...)
	sub.next(t, 1) // the subscription is live

	a, b, c := newEvent("t.v1", `{"a":1}`), newEvent("t.v1", `{"b":1}`), newEvent("t.v1", `{"c":1}`)
	commitA, err := h.HoldOpenAppend(ctx, tag+"a", eventlog.NoStream(), a)
	if err != nil {
		t.Fatalf("hold open append A: %v", err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = commitA(context.WithoutCancel(ctx))
		}
	}()
	mustAppend(t, ctx, h.Store, tag+"b", eventlog.NoStream(), b)
	mustAppend(t, ctx, h.Store, tag+"c", eventlog.NoStream(), c)

	// While A is open, watch what readers see for a while.
	var seenWhileOpen [][]uuid.UUID
	var deliveredWhileOpen []eventlog.RecordedEvent
	watchUntil := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(watchUntil) {
		page, err := h.Store.ReadAll(ctx, warmUp.Position, eventlog.ReadOptions{})
		if err != nil {
			t.Fatalf("read all while A is open: %v", err)
		}
		var own []uuid.UUID
		for _, e := range page {
			if strings.HasPrefix(e.StreamID, tag) {
				own = append(own, e.ID)
			}
		}
		seenWhileOpen = append(seenWhileOpen, own)
		select {
		case e := <-sub.events:
			deliveredWhileOpen = append(deliveredWhileOpen, e)
		case <-time.After(20 * time.Millisecond):
		}
	}
	for _, e := range deliveredWhileOpen {
		if e.ID == a.ID {
			t.Fatalf("the subscription delivered A before it was committed")
		}
	}

	if err := commitA(ctx); err != nil {
		t.Fatalf("commit A: %v", err)
	}
	committed = true

	delivered := append(deliveredWhileOpen, sub.next(t, 3-len(deliveredWhileOpen))...)
	seen := map[uuid.UUID]int{}
	for _, e := range delivered {
		seen[e.ID]++
	}
	for name, id := range map[string]uuid.UUID{"A": a.ID, "B": b.ID, "C": c.ID} {
		if seen[id] != 1 {
			t.Errorf("the subscription delivered %s %d times, want once (delivered %v)", name, seen[id], ids(delivered))
		}
	}

	final := readAllOwn(t, ctx, h.Store, warmUp.Position, tag, 0, 3)
	if !slices.Equal(ids(final), ids(delivered)) {
		t.Errorf("the subscription delivered %v, the global log holds %v", ids(delivered), ids(final))
	}
	for i := range min(len(final), len(delivered)) {
		if final[i].Position != delivered[i].Position {
			t.Errorf("event %s delivered at %s, stored at %s", final[i].ID, delivered[i].Position, final[i].Position)
		}
	}
	for _, early := range seenWhileOpen {
		if len(early) > len(final) || !slices.Equal(early, ids(final)[:len(early)]) {
			t.Fatalf("while A was open ReadAll returned %v, which is not a prefix of the final order %v: "+
				"a reader would have skipped an event", early, ids(final))
		}
	}
}

// testConcurrentAppendsWhileSubscribed has many writers append to many streams while a
// subscription runs: it sees every event exactly once, each stream in version order.
func testConcurrentAppendsWhileSubscribed(t *testing.T, h Harness) {
	const writers, appendsPerWriter, streamsPerWriter = 16, 25, 3
	ctx := testContext(t)
	tag := newTag("conc")
	sub := subscribe(t, h.Store, eventlog.Start(), eventlog.SubscribeOptions{StreamPrefixes: []string{tag}, MaxBatch: 7})

	var total atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			versions := make([]int64, streamsPerWriter)
			for i := range appendsPerWriter {
				k := i % streamsPerWriter
				stream := fmt.Sprintf("%sw%d-s%d", tag, w, k)
				batch := numbered(1 + (w+i)%3)
				if _, err := h.Store.Append(ctx, stream, eventlog.Exactly(versions[k]-1), batch...); err != nil {
					t.Errorf("writer %d: append to %s: %v", w, stream, err)
					return
				}
				versions[k] += int64(len(batch))
				total.Add(int64(len(batch)))
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	want := int(total.Load())
	got := sub.next(t, want)
	seen := make(map[uuid.UUID]bool, want)
	next := map[string]int64{}
	for _, e := range got {
		if seen[e.ID] {
			t.Errorf("event %s (%s v%d) delivered twice", e.ID, e.StreamID, e.Version)
		}
		seen[e.ID] = true
		if e.Version != next[e.StreamID] {
			t.Errorf("%s: delivered version %d, want %d next", e.StreamID, e.Version, next[e.StreamID])
		}
		next[e.StreamID] = e.Version + 1
	}
	if len(next) != writers*streamsPerWriter {
		t.Errorf("events of %d streams delivered, want %d", len(next), writers*streamsPerWriter)
	}
	final := readAllOwn(t, ctx, h.Store, eventlog.Start(), tag, 0, want)
	if !slices.Equal(ids(final), ids(got)) {
		t.Errorf("the subscription delivered %d events in another order than the global log's %d", len(got), len(final))
	}
	// Nothing more arrives: every event came exactly once.
	mustAppend(t, ctx, h.Store, tag+"sentinel", eventlog.NoStream(), numbered(1)...)
	if last := sub.next(t, 1)[0]; last.StreamID != tag+"sentinel" {
		t.Errorf("after all %d events the subscription delivered %s (%s v%d) again", want, last.ID, last.StreamID, last.Version)
	}
}

// ---------------------------------------------------------------------------------------------
// eventlog.CheckedAppender, for the stores that offer it

func checkedAppender(t *testing.T, h Harness) eventlog.CheckedAppender {
	t.Helper()
	checked, ok := h.Store.(eventlog.CheckedAppender)
	if !ok {
		t.Skipf("%T does not offer eventlog.CheckedAppender (commands check their reads with a tail read instead)", h.Store)
	}
	return checked
}

// A checked append writes only when every stream read is still at its version, names the one
// that moved otherwise, and reports each event's own version and position.
func testCheckedAppend(t *testing.T, h Harness) {
	checked := checkedAppender(t, h)
	ctx := testContext(t)
	target, read, missing := newStream("request"), newStream("technician"), newStream("company")
	mustAppend(t, ctx, h.Store, read, eventlog.NoStream(), numbered(2)...)

	batch := numbered(3)
	results, err := checked.AppendChecked(ctx, target, eventlog.NoStream(),
		[]eventlog.StreamVersion{{StreamID: read, Version: 1}, {StreamID: missing, Version: -1}}, batch...)
	if err != nil {
		t.Fatalf("checked append with current reads: %v", err)
	}
	if len(results) != len(batch) {
		t.Fatalf("%d results for %d events", len(results), len(batch))
	}
	recorded := requireStream(t, ctx, h.Store, target, batch)
	for i, r := range results {
		if r.NextExpected != int64(i) || r.Position != recorded[i].Position {
			t.Errorf("result %d = version %d at %s, want version %d at %s", i, r.NextExpected, r.Position, i, recorded[i].Position)
		}
	}

	mustAppend(t, ctx, h.Store, read, eventlog.Exactly(1), numbered(1)...)
	_, err = checked.AppendChecked(ctx, target, eventlog.Exactly(2),
		[]eventlog.StreamVersion{{StreamID: read, Version: 1}}, numbered(1)...)
	requireConflict(t, err, read, 2)
	_, err = checked.AppendChecked(ctx, target, eventlog.Exactly(1),
		[]eventlog.StreamVersion{{StreamID: read, Version: 2}}, numbered(1)...)
	requireConflict(t, err, target, 2)
	requireStream(t, ctx, h.Store, target, batch)

	mustAppend(t, ctx, h.Store, missing, eventlog.NoStream(), numbered(1)...)
	_, err = checked.AppendChecked(ctx, target, eventlog.Exactly(2),
		[]eventlog.StreamVersion{{StreamID: missing, Version: -1}}, numbered(1)...)
	requireConflict(t, err, missing, 0)
	requireStream(t, ctx, h.Store, target, batch)
}

// A checked append sent again with the same event IDs writes nothing and answers as the
// first did, even when the streams read have moved since.
func testCheckedAppendRetried(t *testing.T, h Harness) {
	checked := checkedAppender(t, h)
	ctx := testContext(t)
	target, read := newStream("request"), newStream("technician")
	mustAppend(t, ctx, h.Store, read, eventlog.NoStream(), numbered(1)...)
	batch := numbered(2)
	reads := []eventlog.StreamVersion{{StreamID: read, Version: 0}}
	first, err := checked.AppendChecked(ctx, target, eventlog.NoStream(), reads, batch...)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, ctx, h.Store, read, eventlog.Exactly(0), numbered(1)...)
	again, err := checked.AppendChecked(ctx, target, eventlog.NoStream(), reads, batch...)
	if err != nil {
		t.Fatalf("retried checked append: %v", err)
	}
	if len(again) != len(first) {
		t.Fatalf("retry answered %d results, first %d", len(again), len(first))
	}
	for i := range first {
		if again[i] != first[i] {
			t.Errorf("retry result %d = %+v, first was %+v", i, again[i], first[i])
		}
	}
	requireStream(t, ctx, h.Store, target, batch)
}
