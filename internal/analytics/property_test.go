package analytics_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
)

// randomWorld writes a log of requests with random histories: requests submitted and worked on
// in turns, the clock moving by up to three hours a step, so days and midnights are crossed.
func randomWorld(seed uint64, requests, steps int) *world {
	zones := []string{"", "Europe/Paris", "America/Los_Angeles", "Asia/Tokyo"}
	start := time.Date(2026, 3, 28, 21, 0, 0, 0, time.UTC) // the night Europe moves its clocks
	w := newWorld(seed, start, 3, zones[seed%uint64(len(zones))])
	var open []*request.Request
	for range steps {
		if len(open) < requests && (len(open) == 0 || w.rng.IntN(4) == 0) {
			open = append(open, w.submit())
			continue
		}
		w.tick(2 * time.Hour)
		w.act(open[w.rng.IntN(len(open))], w.rng.IntN(12))
	}
	return w
}

// brokerOrder is an order a broker may deliver the log in, with redeliveries: each stream's
// events keep their order among themselves (one subscriber per consumer group), streams
// interleave at random, and some messages come again later (a nack, an ack lost, a consumer
// restarted). With shuffle, even a stream's order is lost.
func brokerOrder(rng *rand.Rand, events []analytics.Event, shuffle bool) []analytics.Event {
	var out []analytics.Event
	if shuffle {
		out = append(out, events...)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	} else {
		queues := map[string][]analytics.Event{}
		var streams []string
		for _, e := range events {
			if _, ok := queues[e.StreamID]; !ok {
				streams = append(streams, e.StreamID)
			}
			queues[e.StreamID] = append(queues[e.StreamID], e)
		}
		for len(streams) > 0 {
			i := rng.IntN(len(streams))
			s := streams[i]
			out = append(out, queues[s][0])
			queues[s] = queues[s][1:]
			if len(queues[s]) == 0 {
				streams = append(streams[:i], streams[i+1:]...)
			}
		}
	}
	for i := range len(out) {
		if rng.IntN(5) == 0 { // delivered again somewhere later
			at := i + rng.IntN(len(out)-i)
			out = append(out[:at+1], append([]analytics.Event{out[i]}, out[at+1:]...)...)
		}
	}
	return out
}

// cuts splits events into batches of random sizes from 1 to max.
func cuts(rng *rand.Rand, events []analytics.Event, max int) [][]analytics.Event {
	var out [][]analytics.Event
	for len(events) > 0 {
		n := min(1+rng.IntN(max), len(events))
		out = append(out, events[:n])
		events = events[n:]
	}
	return out
}

// TestStreamingEqualsBatchRecomputation is the property of issue 14 part 4: for random request
// histories written through the domain, the tables the streaming job folds from a broker's
// delivery (any interleaving of the streams, redeliveries, messages folded one at a time or a
// subscriber's batch at a time) equal those a batch recomputation folds from the log in order,
// cut into batches anywhere, and both equal the oracle's plain reading of the log.
func TestStreamingEqualsBatchRecomputation(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	seen := map[string]int{}
	for seed := uint64(1); seed <= 24; seed++ {
		w := randomWorld(seed, 6, 80)
		events := w.events()
		for _, e := range events {
			seen[e.Type]++
		}
		want := oracle(w.log)
		rng := rand.New(rand.NewPCG(seed, 7))

		truncate(t, ctx, db)
		applied := 0
		for _, batch := range cuts(rng, brokerOrder(rng, events, seed%3 == 0), 1+int(seed%4)*3) {
			applied += fold(t, ctx, db, batch)
		}
		streamed := readRows(t, ctx, db)
		if d := diffRows(streamed, want); d != "" {
			t.Fatalf("seed %d, streamed: %s", seed, d)
		}
		if applied != len(events) {
			t.Errorf("seed %d: %d events applied, want %d (each once)", seed, applied, len(events))
		}
		streamedCompanies := companies(t, ctx, db)

		truncate(t, ctx, db)
		for _, batch := range cuts(rng, events, 50) {
			fold(t, ctx, db, batch)
		}
		if d := diffRows(readRows(t, ctx, db), streamed); d != "" {
			t.Fatalf("seed %d, batch against streamed: %s", seed, d)
		}
		if got := companies(t, ctx, db); got != streamedCompanies {
			t.Errorf("seed %d: companies %q batch, %q streamed", seed, got, streamedCompanies)
		}
	}
	// the histories went through every path the facts have
	for _, typ := range []string{"request.assigned.v1", "request.unassigned.v1", "request.transferred.v1", "request.message_sent.v1",
		"request.file_shared.v1", "request.note_added.v1", "request.screen_sharing_requested.v1", "request.chat_ended.v1",
		"request.closed.v1", "company.time_zone_set.v1"} {
		if seen[typ] == 0 {
			t.Errorf("no history had a %s", typ)
		}
	}
	t.Logf("events by type: %v", seen)
}

// companies reads analytics_companies as one string.
func companies(t testing.TB, ctx context.Context, db *pgxpool.Pool) string {
	t.Helper()
	var s string
	if err := db.QueryRow(ctx, `SELECT coalesce(string_agg(company_id || ':' || coalesce(name, '') || ':' || time_zone, ',' ORDER BY company_id), '') FROM analytics_companies`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
