package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// sealed returns n events for a stream that follow version previous (-1 for a new stream)
// whose last hash is hash, sealed into the stream's chain.
func sealed(stream string, previous int64, hash string, n int) []eventlog.EventData {
	events := make([]eventlog.EventData, n)
	for i := range events {
		events[i] = eventlog.EventData{
			ID:       uuid.New(),
			Type:     "test.bulk.v1",
			Data:     json.RawMessage(fmt.Sprintf(`{"stream": %q,  "n": %d}`, stream, previous+1+int64(i))),
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC(), CorrelationID: "bulk"},
		}
	}
	eventlog.Seal(stream, previous, hash, events)
	return events
}

func countEvents(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAppendStreams(t *testing.T) {
	ctx := testContext(t)
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})

	// A stream written by Append before: the bulk path continues it.
	old := "bulk-old"
	oldEvents := sealed(old, -1, "", 2)
	if _, err := store.Append(ctx, old, eventlog.NoStream(), oldEvents...); err != nil {
		t.Fatal(err)
	}

	var appends []pgstore.StreamAppend
	for i := range 50 {
		stream := fmt.Sprintf("bulk-%02d", i)
		appends = append(appends, pgstore.StreamAppend{StreamID: stream, Expected: eventlog.NoStream(), Events: sealed(stream, -1, "", 1+i%4)})
	}
	appends = append(appends,
		pgstore.StreamAppend{StreamID: old, Expected: eventlog.Exactly(1), Events: sealed(old, 1, oldEvents[1].Metadata.Hash, 3)},
		pgstore.StreamAppend{StreamID: "bulk-any", Expected: eventlog.Any(), Events: sealed("bulk-any", -1, "", 2)},
	)
	results, err := store.AppendStreams(ctx, appends)
	if err != nil {
		t.Fatalf("append streams: %v", err)
	}
	if len(results) != len(appends) {
		t.Fatalf("got %d results for %d appends", len(results), len(appends))
	}

	// Every part's events are in its stream, at the right versions, byte for byte, chained.
	for i, a := range appends {
		got, err := store.ReadStream(ctx, a.StreamID, 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := eventlog.VerifyChain(got); err != nil {
			t.Errorf("%s: %v", a.StreamID, err)
		}
		tail := got[len(got)-len(a.Events):]
		for j, e := range tail {
			want := a.Events[j]
			if e.ID != want.ID || e.Type != want.Type || string(e.Data) != string(want.Data) || e.Metadata.Hash != want.Metadata.Hash ||
				e.Metadata.CorrelationID != want.Metadata.CorrelationID || !e.Metadata.OccurredAt.Equal(want.Metadata.OccurredAt) {
				t.Errorf("%s version %d: got %+v, want %+v", a.StreamID, e.Version, e, want)
			}
		}
		last := got[len(got)-1]
		if results[i].NextExpected != last.Version || results[i].Position != last.Position {
			t.Errorf("%s: result %+v, stream ends at version %d position %s", a.StreamID, results[i], last.Version, last.Position)
		}
	}
	if results[50].NextExpected != 4 {
		t.Errorf("continued stream: next expected %d, want 4", results[50].NextExpected)
	}

	// The global log holds the call's events together, in the order of the call.
	// ReadAll holds events back while any older transaction of the server is open (other test
	// packages share it), so wait until the whole call is readable.
	want := len(oldEvents)
	for _, a := range appends {
		want += len(a.Events)
	}
	var all []eventlog.RecordedEvent
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var err error
		if all, err = store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: 10000}); err != nil {
			t.Fatal(err)
		}
		if len(all) >= want || time.Now().After(deadline) {
			break
		}
	}
	if len(all) < len(oldEvents) {
		t.Fatalf("the log shows %d events, fewer than the %d written before the call", len(all), len(oldEvents))
	}
	all = all[len(oldEvents):]
	k := 0
	for _, a := range appends {
		for _, want := range a.Events {
			if k >= len(all) || all[k].ID != want.ID {
				t.Fatalf("global log event %d is not %s of %s", k, want.ID, a.StreamID)
			}
			k++
		}
	}
	if k != len(all) {
		t.Errorf("global log holds %d events after the old stream, want %d", len(all), k)
	}

	// A retry of the whole call writes nothing and returns the original results.
	before := countEvents(t, pool)
	again, err := store.AppendStreams(ctx, appends)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	for i := range again {
		if again[i] != results[i] {
			t.Errorf("retry of %s: %+v, want %+v", appends[i].StreamID, again[i], results[i])
		}
	}
	if n := countEvents(t, pool); n != before {
		t.Errorf("retry wrote %d events", n-before)
	}
	// So does an Append of one of its parts.
	if res, err := store.Append(ctx, appends[3].StreamID, eventlog.NoStream(), appends[3].Events...); err != nil || res != results[3] {
		t.Errorf("Append retrying a bulk part: %+v, %v; want %+v", res, err, results[3])
	}
}

func TestAppendStreamsConflictWritesNothing(t *testing.T) {
	ctx := testContext(t)
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	if _, err := store.Append(ctx, "taken", eventlog.NoStream(), sealed("taken", -1, "", 1)...); err != nil {
		t.Fatal(err)
	}
	used := sealed("used", -1, "", 1)
	if _, err := store.Append(ctx, "used", eventlog.NoStream(), used...); err != nil {
		t.Fatal(err)
	}
	before := countEvents(t, pool)

	fresh := func() []pgstore.StreamAppend {
		return []pgstore.StreamAppend{
			{StreamID: "fresh-1", Expected: eventlog.NoStream(), Events: sealed("fresh-1", -1, "", 2)},
			{StreamID: "fresh-2", Expected: eventlog.NoStream(), Events: sealed("fresh-2", -1, "", 1)},
		}
	}
	cases := []struct {
		name  string
		extra pgstore.StreamAppend
		check func(error) bool
	}{
		{"existing stream, expected no stream",
			pgstore.StreamAppend{StreamID: "taken", Expected: eventlog.NoStream(), Events: sealed("taken", -1, "", 1)},
			func(err error) bool {
				var ce *eventlog.ConcurrencyError
				return errors.As(err, &ce) && ce.StreamID == "taken" && ce.Actual == 0
			}},
		{"wrong expected version",
			pgstore.StreamAppend{StreamID: "taken", Expected: eventlog.Exactly(3), Events: sealed("taken", 3, "", 1)},
			func(err error) bool {
				var ce *eventlog.ConcurrencyError
				return errors.As(err, &ce) && ce.StreamID == "taken" && ce.Actual == 0
			}},
		{"missing stream, expected a version",
			pgstore.StreamAppend{StreamID: "missing", Expected: eventlog.Exactly(0), Events: sealed("missing", 0, "", 1)},
			func(err error) bool {
				var ce *eventlog.ConcurrencyError
				return errors.As(err, &ce) && ce.StreamID == "missing" && ce.Actual == -1
			}},
		{"event ID stored in another stream",
			pgstore.StreamAppend{StreamID: "other", Expected: eventlog.NoStream(), Events: used},
			func(err error) bool { return errors.Is(err, eventlog.ErrIDReused) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			appends := append(fresh(), c.extra)
			if _, err := store.AppendStreams(ctx, appends); !c.check(err) {
				t.Fatalf("got error %v", err)
			}
			if n := countEvents(t, pool); n != before {
				t.Errorf("a failed call wrote %d events", n-before)
			}
			for _, s := range []string{"fresh-1", "fresh-2", "missing", "other"} {
				if got, err := store.ReadStream(ctx, s, 0, eventlog.ReadOptions{}); err != nil || len(got) != 0 {
					t.Errorf("stream %s: %d events, %v", s, len(got), err)
				}
			}
		})
	}

	t.Run("invalid calls", func(t *testing.T) {
		e := sealed("x", -1, "", 1)
		for name, appends := range map[string][]pgstore.StreamAppend{
			"stream twice":   {{StreamID: "x", Expected: eventlog.NoStream(), Events: e}, {StreamID: "x", Expected: eventlog.Any(), Events: sealed("x", 0, "", 1)}},
			"event ID twice": {{StreamID: "x", Expected: eventlog.NoStream(), Events: e}, {StreamID: "y", Expected: eventlog.NoStream(), Events: e}},
			"no events":      {{StreamID: "x", Expected: eventlog.NoStream(), Events: e}, {StreamID: "y", Expected: eventlog.NoStream()}},
			"empty stream":   {{StreamID: "", Expected: eventlog.NoStream(), Events: e}},
			"bad JSON":       {{StreamID: "x", Expected: eventlog.NoStream(), Events: []eventlog.EventData{{ID: uuid.New(), Type: "t", Data: json.RawMessage(`{`)}}}},
		} {
			if _, err := store.AppendStreams(ctx, appends); err == nil {
				t.Errorf("%s: no error", name)
			}
		}
		if n := countEvents(t, pool); n != before {
			t.Errorf("invalid calls wrote %d events", n-before)
		}
	})
}

// TestAppendStreamsRace: calls that create the same streams at once; exactly one wins each
// stream, the others get a concurrency error, and no stream is written twice.
func TestAppendStreamsRace(t *testing.T) {
	ctx := testContext(t)
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	const writers, streams = 8, 20
	var wg sync.WaitGroup
	wins := make([]bool, writers)
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			var appends []pgstore.StreamAppend
			for s := range streams {
				id := fmt.Sprintf("race-%d", s)
				appends = append(appends, pgstore.StreamAppend{StreamID: id, Expected: eventlog.NoStream(), Events: sealed(id, -1, "", 2)})
			}
			_, err := store.AppendStreams(ctx, appends)
			wins[w] = err == nil
			if err != nil && !errors.Is(err, eventlog.ErrConcurrency) {
				errs[w] = err
			}
		})
	}
	wg.Wait()
	won := 0
	for w := range writers {
		if errs[w] != nil {
			t.Errorf("writer %d: %v", w, errs[w])
		}
		if wins[w] {
			won++
		}
	}
	if won != 1 {
		t.Errorf("%d writers won, want 1", won)
	}
	if n := countEvents(t, pool); n != 2*streams {
		t.Errorf("%d events stored, want %d", n, 2*streams)
	}
}
