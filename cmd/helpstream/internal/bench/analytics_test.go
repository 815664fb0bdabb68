package bench_test

import (
	"io"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

// TestRunAnalytics runs the analytics benchmark on a small backlog: the forwarder publishes
// every seeded event, the job applies every one of them once, and every live event reaches the
// tables.
func TestRunAnalytics(t *testing.T) {
	s := newScratch(t, "seeds a database and runs every phase", time.Minute, withoutProjectors)
	const events = 2345 // not a multiple of a request, a seeding transaction or a read
	rep, err := bench.RunAnalytics(s.ctx, bench.AnalyticsConfig{Pool: s.pool, Store: s.store, Events: events, Rate: 200, DelayDuration: time.Second, ReadBatch: 300}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seed.Events != events || rep.Forward.Events != events || rep.CatchUp.Events != events {
		t.Fatalf("seeded %d, forwarded %d and applied %d events, want %d each", rep.Seed.Events, rep.Forward.Events, rep.CatchUp.Events, events)
	}
	d := rep.Delay
	if d.Events < 150 || d.Lost != 0 || d.Errors != 0 || d.P50 <= 0 || d.P99 < d.P50 {
		t.Fatalf("delay: %+v", d)
	}
	// 2345 events: 234 whole requests and one of 5 events, each counted once
	if n := s.count(t, `SELECT count(*) FROM analytics_requests WHERE submitted_at IS NOT NULL`); n < 235 {
		t.Fatalf("%d requests in the analytics tables, want at least the 235 seeded", n)
	}
	// every event of the log (the backlog, the warm-up's and the measured ones) folded once
	if n, logged := s.count(t, `SELECT sum(events) FROM analytics_requests`), s.count(t, `SELECT count(*) FROM events`); n != logged {
		t.Fatalf("%d events folded into the requests, the log has %d", n, logged)
	}
}
