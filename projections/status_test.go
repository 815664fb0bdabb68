package projections_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

func TestStatusWaitForAndMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alpha, beta := newCounts("alpha"), newCounts("beta")
	ps := []projections.Projection{alpha, beta}
	last := e.appendN(300, 10)
	// Readers see an event once no older transaction of the server runs (other databases'
	// included): wait until all 300 are readable.
	eventually(t, 10*time.Second, "the log readable to its end", func() bool { return e.lastPosition() == last })

	st, err := projections.Status(ctx, e.pool, e.store, ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if s.Built || s.Leader || s.LagEvents != 300 || s.LagCapped || s.LagSeconds <= 0 || !s.Position.IsStart() {
			t.Fatalf("before any runner: %+v", s)
		}
	}
	st, err = projections.StatusWithLagCap(ctx, e.pool, e.store, ps, 50)
	if err != nil {
		t.Fatal(err)
	}
	if st[0].LagEvents != 50 || !st[0].LagCapped {
		t.Fatalf("capped lag: %+v", st[0])
	}

	// Nobody projects yet: WaitFor times out, without error.
	start := time.Now()
	ok, err := projections.WaitFor(ctx, e.pool, []string{"alpha"}, last, 100*time.Millisecond)
	if ok || err != nil || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("WaitFor with nobody projecting = %v, %v after %s", ok, err, time.Since(start))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := projections.WaitFor(cancelled, e.pool, []string{"alpha"}, last, time.Second); ok || !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitFor with a cancelled context = %v, %v", ok, err)
	}
	if ok, err := projections.WaitFor(ctx, e.pool, []string{"alpha"}, eventlog.Start(), time.Millisecond); !ok || err != nil {
		t.Fatalf("WaitFor(start) = %v, %v", ok, err)
	}

	r := e.start(e.config(alpha))
	start = time.Now()
	if ok, err := projections.WaitFor(ctx, e.pool, []string{"alpha"}, last, 10*time.Second); !ok || err != nil {
		t.Fatalf("WaitFor(alpha) = %v, %v", ok, err)
	}
	t.Logf("alpha reached the log's end %s after its runner started", time.Since(start))
	if ok, err := projections.WaitFor(ctx, e.pool, []string{"alpha"}, last, 0); !ok || err != nil {
		t.Fatalf("WaitFor(alpha) looking once = %v, %v", ok, err)
	}
	if ok, err := projections.WaitFor(ctx, e.pool, []string{"alpha", "beta"}, last, 50*time.Millisecond); ok || err != nil {
		t.Fatalf("WaitFor(alpha, beta) with beta not running = %v, %v", ok, err)
	}
	hi, _ := last.Parts()
	if ok, err := r.WaitFor(ctx, []string{"alpha"}, eventlog.NewPosition(hi+1000, 0), 50*time.Millisecond); ok || err != nil {
		t.Fatalf("Runner.WaitFor beyond the log = %v, %v", ok, err)
	}
	eventually(t, 5*time.Second, "alpha's leader visible", func() bool {
		st, err := projections.Status(ctx, e.pool, e.store, ps)
		return err == nil && st[0].Leader
	})

	st, err = projections.Status(ctx, e.pool, e.store, ps)
	if err != nil {
		t.Fatal(err)
	}
	a, b := st[0], st[1]
	if a.Name != "alpha" || !a.Built || !a.SchemaCurrent || a.Position != last || a.EventsApplied != 300 ||
		a.LagEvents != 0 || a.LagSeconds != 0 || !a.Leader || time.Since(a.UpdatedAt) > time.Minute {
		t.Fatalf("alpha: %+v", a)
	}
	if b.Name != "beta" || b.Built || b.Leader || b.LagEvents != 300 {
		t.Fatalf("beta: %+v", b)
	}

	c := projections.NewCollector(e.pool, e.store, ps)
	const want = `
# HELP helpstream_projection_events_applied_total Events folded into the projection's current tables; a rebuild sets it to the events it folded.
# TYPE helpstream_projection_events_applied_total counter
helpstream_projection_events_applied_total{projection="alpha"} 300
helpstream_projection_events_applied_total{projection="beta"} 0
# HELP helpstream_projection_leader 1 when a runner holds the projection's leader lock, else 0.
# TYPE helpstream_projection_leader gauge
helpstream_projection_leader{projection="alpha"} 1
helpstream_projection_leader{projection="beta"} 0
# HELP helpstream_projection_position_events_lag Events of the log the projection has yet to apply (counting stops at 100000).
# TYPE helpstream_projection_position_events_lag gauge
helpstream_projection_position_events_lag{projection="alpha"} 0
helpstream_projection_position_events_lag{projection="beta"} 300
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"helpstream_projection_events_applied_total", "helpstream_projection_leader", "helpstream_projection_position_events_lag"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "helpstream_projection_lag_seconds"); n != 2 {
		t.Fatalf("%d lag_seconds series, want 2", n)
	}
	if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v, %v", problems, err)
	}

	// A rebuild builds a projection no runner has started.
	res, err := projections.Rebuild(ctx, e.pool, e.store, beta, projections.RebuildOptions{BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Events != 300 || res.Position != last {
		t.Fatalf("rebuild of beta: %+v, want 300 events up to %s", res, last)
	}
	e.checkFold(beta)
	st, err = projections.Status(ctx, e.pool, e.store, ps)
	if err != nil {
		t.Fatal(err)
	}
	if b := st[1]; !b.Built || !b.SchemaCurrent || b.LagEvents != 0 || b.Leader || b.EventsApplied != 300 {
		t.Fatalf("beta after its rebuild: %+v", b)
	}
}
