package bench_test

import (
	"io"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

// TestRunStream runs the event stream benchmark on a small backlog: every phase works, the
// forwarder publishes every seeded event, and every live event reaches the subscriber.
func TestRunStream(t *testing.T) {
	s := newScratch(t, "seeds a database and runs every phase", time.Minute, withoutProjectors)
	const events = 2345 // not a multiple of a stream, a seeding transaction or a batch
	rep, err := bench.RunStream(s.ctx, bench.StreamConfig{Pool: s.pool, Store: s.store, Events: events, Rate: 200, LatencyDuration: time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seed.Events != events || rep.Baseline.Events != events || rep.Forward.Events != events {
		t.Fatalf("seeded %d, published %d alone and forwarded %d events, want %d each", rep.Seed.Events, rep.Baseline.Events, rep.Forward.Events, events)
	}
	l := rep.Latency
	if l.Events < 150 || l.Lost != 0 || l.Errors != 0 || l.P50 <= 0 || l.P99 < l.P50 {
		t.Fatalf("latency: %+v", l)
	}
	if forwarded := s.count(t, `SELECT count(*) FROM "watermill_bench.forwarded"`); forwarded != events {
		t.Fatalf("%d messages in the forwarded topic, want %d", forwarded, events)
	}
}
