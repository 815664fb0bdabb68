package projections_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

// A rebuild while a runner is live, appends continue and queries run: afterwards the rows equal
// a fresh fold of the log, the checkpoint matches, and no query failed.
func TestRebuildWhileLive(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _, r := e.tallyCaughtUp(3000, 50, 20*time.Second)

	oidBefore := tableOID(t, e, "tally_streams")

	a := e.appendContinuously(2, time.Millisecond)
	qctx, stopQueries := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stopQueries(); wg.Wait() }) // a failing rebuild must not leave them querying
	var queries, slow atomic.Int64
	var qmu sync.Mutex
	var qerrs []error
	fail := func(err error) {
		if err != nil && qctx.Err() == nil {
			qmu.Lock()
			qerrs = append(qerrs, err)
			qmu.Unlock()
		}
	}
	for range 3 { // short queries, prepared and cached by pgx, as the read models' queries are
		wg.Go(func() {
			for qctx.Err() == nil {
				var n, sum int64
				err := e.pool.QueryRow(qctx, `SELECT count(*), coalesce(sum(events), 0)::bigint FROM tally_streams`).Scan(&n, &sum)
				if err == nil {
					err = e.pool.QueryRow(qctx, `SELECT count(*) FROM tally_applied a JOIN tally_streams s USING (stream_id)
						WHERE s.events > $1`, int64(0)).Scan(&n)
				}
				fail(err)
				queries.Add(1)
			}
		})
	}
	wg.Go(func() { // a slow query that holds the swap back now and then
		for qctx.Err() == nil {
			var n int64
			fail(e.pool.QueryRow(qctx, `SELECT (SELECT count(*) FROM tally_streams) FROM pg_sleep(0.6)`).Scan(&n))
			slow.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	})

	for i := range 2 {
		var pages atomic.Int64
		res, err := projections.Rebuild(ctx, e.pool, e.store, c, projections.RebuildOptions{
			BatchSize: 500, Logger: e.log,
			Progress: func(int64, eventlog.Position) { pages.Add(1) },
		})
		if err != nil {
			t.Fatalf("rebuild %d: %v", i, err)
		}
		if res.Events < 3000 || pages.Load() == 0 {
			t.Fatalf("rebuild %d: %d events in %d pages", i, res.Events, pages.Load())
		}
		t.Logf("rebuild %d: %d events in %s, swapped at %s", i, res.Events, res.Duration, res.Position)
	}
	time.Sleep(200 * time.Millisecond) // live applies on the new tables
	last, n := a.stop(t)
	stopQueries()
	wg.Wait()
	for _, err := range qerrs {
		t.Errorf("query failed during the rebuild: %v", err)
	}
	if queries.Load() == 0 || slow.Load() == 0 {
		t.Fatalf("%d queries, %d slow ones ran", queries.Load(), slow.Load())
	}
	t.Logf("%d live events, %d queries, %d slow ones during the rebuilds", n, queries.Load(), slow.Load())

	e.foldedUpTo(last, 20*time.Second, c)
	if oidBefore == tableOID(t, e, "tally_streams") {
		t.Fatal("the live table was not replaced")
	}
	var scratch bool
	if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'rebuild_tally')`).Scan(&scratch); err != nil || scratch {
		t.Fatalf("scratch schema left behind: %v, %v", scratch, err)
	}
	if got := r.Leading(); !slices.Equal(got, []string{c.name}) {
		t.Fatalf("after the rebuilds the runner leads %v", got)
	}
}

// A rebuild whose Schema creates other tables than Tables() lists fails before it touches the
// live tables.
func TestRebuildChecksTables(t *testing.T) {
	e := newEnv(t)
	c := newCounts("tally")
	c.extra = `CREATE TABLE tally_unlisted (id int);`
	e.appendN(10, 2)
	_, err := projections.Rebuild(context.Background(), e.pool, e.store, c, projections.RebuildOptions{})
	if err == nil {
		t.Fatal("rebuild succeeded with an unlisted table")
	}
	t.Log(err)
	var n int
	if err := e.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_namespace WHERE nspname = 'rebuild_tally'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("scratch schemas left: %d, %v", n, err)
	}
}

func tableOID(t *testing.T, e *env, table string) uint32 {
	t.Helper()
	var oid uint32
	if err := e.pool.QueryRow(context.Background(), `SELECT $1::regclass::oid`, "public."+table).Scan(&oid); err != nil {
		t.Fatal(err)
	}
	return oid
}
