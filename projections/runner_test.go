package projections_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/projections"
)

func TestConfigValidate(t *testing.T) {
	good := newCounts("good")
	cases := map[string]struct {
		cfg  projections.Config
		want string
	}{
		"nil pool and store": {projections.Config{}, "Pool is nil"},
		"negative batch":     {projections.Config{BatchSize: -1}, "BatchSize -1 is negative"},
		"negative retry":     {projections.Config{LeaderRetry: -time.Second}, "LeaderRetry -1s is negative"},
		"bad name":           {projections.Config{Projections: []projections.Projection{newCounts("Bad-Name")}}, "lower-case letters"},
		"long name":          {projections.Config{Projections: []projections.Projection{newCounts(strings.Repeat("a", 56))}}, "longer than 55 bytes"},
		"twice":              {projections.Config{Projections: []projections.Projection{good, good}}, "listed twice"},
		"nil projection":     {projections.Config{Projections: []projections.Projection{nil}}, "nil projection"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := projections.NewRunner(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewRunner: %v, want an error containing %q", err, c.want)
			}
		})
	}
	if err := projections.ValidateName("request_list"); err != nil {
		t.Fatal(err)
	}
}

// The runner catches up from the start in pages, then applies live events as they arrive.
func TestCatchUpAndLive(t *testing.T) {
	e := newEnv(t)
	c, _, r := e.tallyCaughtUp(1500, 40, 20*time.Second)
	e.checkFold(c)
	if got := r.Leading(); !slices.Equal(got, []string{c.name}) {
		t.Fatalf("Leading() = %v, want [%s]", got, c.name)
	}

	// Live: concurrent writers; the in-process WaitFor wakes on the runner's commits.
	a := e.appendContinuously(4, 0)
	time.Sleep(300 * time.Millisecond)
	last, n := a.stop(t)
	if n == 0 {
		t.Fatal("no live events appended")
	}
	start := time.Now()
	ok, err := r.WaitFor(context.Background(), []string{c.name}, last, 10*time.Second)
	if err != nil || !ok {
		t.Fatalf("Runner.WaitFor = %v, %v", ok, err)
	}
	t.Logf("%d live events; caught up %s after the last append", n, time.Since(start))
	e.checkFold(c)

	// One more event, applied live and quickly.
	pos, err := e.appendTo(context.Background(), "s-0", 1)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if ok, err := r.WaitFor(context.Background(), []string{c.name}, pos, 5*time.Second); err != nil || !ok {
		t.Fatalf("Runner.WaitFor = %v, %v", ok, err)
	}
	t.Logf("single event projected in %s", time.Since(start))
	e.checkFold(c)
}

// A projector that dies in the middle of a batch (its rows written, the batch not committed)
// loses nothing and applies nothing twice once it runs again.
func TestKillMidBatch(t *testing.T) {
	// A transient failure (see projections.Transient): the batch is rolled back and applied
	// again whole; nothing is parked.
	boom := &pgconn.PgError{Code: "40001", Message: "injected serialization failure after the rows were written"}
	// faultsWhileLive runs one runner over a backlog and live appends while the batches of
	// failOn fail (batches 1-4 are the catch-up pages, later ones are live), until more than
	// batches have run: every fault fires, and the tally still equals the log.
	faultsWhileLive := func(t *testing.T, failOn map[int64]func(context.Context, pgx.Tx) error, batches int64) {
		e := newEnv(t)
		f := &faulty{counts: newCounts("tally"), fired: map[int64]bool{}, failOn: failOn}
		e.appendN(1200, 30)
		a := e.appendContinuously(2, 2*time.Millisecond)
		e.start(e.config(f))
		eventually(t, 20*time.Second, "every fault fired", func() bool { return f.batches.Load() > batches })
		last, _ := a.stop(t)
		e.waitFor(last, 20*time.Second, f.name)
		f.allFired(t)
		e.checkFold(f.counts)
	}
	t.Run("transient apply error, same runner resumes", func(t *testing.T) {
		fail := func(context.Context, pgx.Tx) error { return boom }
		faultsWhileLive(t, map[int64]func(context.Context, pgx.Tx) error{2: fail, 6: fail, 9: fail, 10: fail}, 12)
	})
	t.Run("connection killed mid-batch", func(t *testing.T) {
		kill := func(ctx context.Context, tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
			if err == nil {
				err = errors.New("backend survived pg_terminate_backend")
			}
			return err
		}
		faultsWhileLive(t, map[int64]func(context.Context, pgx.Tx) error{3: kill, 7: kill}, 9)
	})
	t.Run("runner stopped mid-batch, a new runner resumes", func(t *testing.T) {
		e := newEnv(t)
		c := newCounts("tally")
		f := &faulty{counts: c, fired: map[int64]bool{}}
		written := make(chan struct{})
		f.failOn = map[int64]func(context.Context, pgx.Tx) error{
			3: func(ctx context.Context, tx pgx.Tx) error {
				close(written) // the batch's rows are written: the process goes away now
				<-ctx.Done()
				return ctx.Err()
			},
		}
		last := e.appendN(1200, 30)
		// Catch-up pages are full only when the whole backlog is readable (an open transaction
		// anywhere on the server holds back later events).
		eventually(t, 10*time.Second, "the log readable to its end", func() bool { return e.lastPosition() == last })
		first := e.start(e.config(f))
		<-written
		first.stop(t)
		f.allFired(t)
		var applied int64
		if err := e.pool.QueryRow(context.Background(), `SELECT events_applied FROM projection_checkpoints WHERE name = $1`,
			c.name).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != 800 { // two catch-up pages of 400 committed, the third rolled back
			t.Fatalf("after the stop the checkpoint counts %d events, want 800", applied)
		}
		a := e.appendContinuously(2, 2*time.Millisecond)
		e.start(e.config(c))
		time.Sleep(200 * time.Millisecond)
		last, _ = a.stop(t)
		e.foldedUpTo(last, 20*time.Second, c)
	})
}

// Two runners on one database: one leads; when it stops, or its lock connection dies, the
// standby takes over and the rows stay right while events keep coming.
func TestLeaderFailover(t *testing.T) {
	for _, how := range []string{"leader stopped", "lock connection terminated"} {
		t.Run(how, func(t *testing.T) {
			e := newEnv(t)
			c := newCounts("tally")
			e.appendN(600, 20)
			a := e.appendContinuously(2, 3*time.Millisecond)
			first := e.start(e.config(c))
			eventually(t, 5*time.Second, "the first runner leads", func() bool { return len(first.Leading()) == 1 })
			second := e.start(e.config(c))
			time.Sleep(400 * time.Millisecond) // four campaign rounds of the standby
			if len(first.Leading()) != 1 || len(second.Leading()) != 0 {
				t.Fatalf("leading: first %v, second %v; want only the first", first.Leading(), second.Leading())
			}
			oldPID, ok := e.lockHolder(c.name)
			if !ok {
				t.Fatal("nobody holds the leader lock")
			}

			switch how {
			case "leader stopped":
				first.stop(t)
			default:
				if _, err := e.pool.Exec(context.Background(), `SELECT pg_terminate_backend($1)`, oldPID); err != nil {
					t.Fatal(err)
				}
			}
			took := eventually(t, 5*time.Second, "the standby takes over", func() bool {
				return len(second.Leading()) == 1 && len(first.Leading()) == 0
			})
			t.Logf("standby leads %s after the leader went", took)
			newPID, ok := e.lockHolder(c.name)
			if !ok || newPID == oldPID {
				t.Fatalf("lock holder after the takeover: %d (held %v), before: %d", newPID, ok, oldPID)
			}
			time.Sleep(300 * time.Millisecond)
			if len(first.Leading()) != 0 {
				t.Fatal("the old leader leads again while the new one is healthy")
			}
			last, _ := a.stop(t)
			e.foldedUpTo(last, 20*time.Second, c)
		})
	}
}

// A projection whose schema changed is rebuilt when its runner starts; missing tables are
// created again from the start.
func TestSchemaChangeAndMissingTables(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1, _, r := e.tallyCaughtUp(700, 10, 10*time.Second)
	r.stop(t)
	// Damage a row: only a rebuild from the log repairs it.
	if _, err := e.pool.Exec(ctx, `UPDATE tally_streams SET events = events + 1000 WHERE stream_id = 's-1'`); err != nil {
		t.Fatal(err)
	}

	v2 := newCounts("tally")
	v2.extra = `CREATE INDEX tally_streams_events_idx ON tally_streams (events);`
	if projections.SchemaHash(v1) == projections.SchemaHash(v2) {
		t.Fatal("the schema hash did not change")
	}
	r = e.start(e.config(v2))
	eventually(t, 10*time.Second, "rebuilt with the new schema", func() bool {
		st, err := projections.Status(ctx, e.pool, e.store, []projections.Projection{v2})
		return err == nil && st[0].SchemaCurrent && st[0].LagEvents == 0
	})
	e.checkFold(v2)
	var hasIndex bool
	if err := e.pool.QueryRow(ctx, `SELECT to_regclass('public.tally_streams_events_idx') IS NOT NULL`).Scan(&hasIndex); err != nil || !hasIndex {
		t.Fatalf("new index present: %v, %v", hasIndex, err)
	}
	// The rebuild drops its scratch schema just after the swap commits.
	eventually(t, 10*time.Second, "scratch schema dropped", func() bool {
		var scratch bool
		err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname LIKE 'rebuild_%')`).Scan(&scratch)
		return err == nil && !scratch
	})
	r.stop(t)

	// A table dropped by hand: created again, projected from the start.
	if _, err := e.pool.Exec(ctx, `DROP TABLE tally_applied`); err != nil {
		t.Fatal(err)
	}
	last := e.appendN(50, 10)
	e.start(e.config(v2))
	eventually(t, 10*time.Second, "tables recreated and caught up", func() bool {
		var ok bool
		err := e.pool.QueryRow(ctx, `SELECT to_regclass('public.tally_applied') IS NOT NULL`).Scan(&ok)
		return err == nil && ok
	})
	e.foldedUpTo(last, 10*time.Second, v2)
}

// Tables recreated from the start under a running leader (as another projector that took over
// during a split brain would do): the leader notices that the checkpoint moved back and projects
// from it again, instead of going on from where its own reading stood.
func TestCheckpointMovedBack(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _, _ := e.tallyCaughtUp(300, 10, 10*time.Second)
	if _, err := e.pool.Exec(ctx, `BEGIN;
		TRUNCATE tally_streams, tally_applied;
		UPDATE projection_checkpoints SET position = '0-0', events_applied = 0 WHERE name = 'tally';
		COMMIT`); err != nil {
		t.Fatal(err)
	}
	last := e.appendN(20, 10)
	e.foldedUpTo(last, 10*time.Second, c)
}

// A schema change is rebuilt beside the live projector, never inside its leadership (issue 11
// item 2): while a server of the new version rebuilds "tally", the old version's leader keeps
// applying the log to the live tables, and another projection stays live, its lag from append
// to checkpoint under a second at p99. At the swap the old leader stands by and the new server
// takes the projection over, caught up.
func TestSchemaRebuildRunsBesideTheLiveLeader(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oldTally, other := newCounts("tally"), newCounts("other")
	written := e.appendN(4000, 20)
	old := e.startCaughtUp(written, 20*time.Second, oldTally, other)

	newTally := newCounts("tally")
	newTally.extra = `CREATE INDEX tally_streams_events_idx ON tally_streams (events);`
	newTally.slow = 40 * time.Millisecond // 4000 events in pages of 400: the rebuild lasts some 0.5 s at least
	cfg := e.config(newTally, newCounts("other"))
	cfg.CatchUpBatch = 100 // and in pages of 100, some 2 s
	current := e.start(cfg)

	eventually(t, 10*time.Second, "the rebuild started", func() bool {
		var scratch bool
		err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'rebuild_tally')`).Scan(&scratch)
		return err == nil && scratch
	})
	var lags []time.Duration
	liveDuringRebuild := 0
	for i := 0; ; i++ {
		var rebuilding bool
		if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'rebuild_tally')`).Scan(&rebuilding); err != nil {
			t.Fatal(err)
		}
		if !rebuilding {
			break
		}
		if i > 2000 {
			t.Fatal("the rebuild still runs after 2000 appends")
		}
		pos, err := e.appendTo(ctx, fmt.Sprintf("during-%d", i%5), 1)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if ok, err := old.WaitFor(ctx, []string{"other"}, pos, 5*time.Second); err != nil || !ok {
			t.Fatalf("other did not reach %s within 5 s during the rebuild (%v)", pos, err)
		}
		lags = append(lags, time.Since(start))
		if slices.Contains(old.Leading(), "tally") && !slices.Contains(current.Leading(), "tally") {
			if ok, _ := old.WaitFor(ctx, []string{"tally"}, pos, time.Second); ok {
				liveDuringRebuild++ // the old leader applied it to the live tables
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(lags) < 5 {
		t.Fatalf("only %d appends during the rebuild: it was too short to tell", len(lags))
	}
	slices.Sort(lags)
	p99 := lags[(len(lags)*99)/100]
	t.Logf("during the rebuild: %d appends, other's lag p50 %s p99 %s; %d applied live to tally by the old leader",
		len(lags), lags[len(lags)/2], p99, liveDuringRebuild)
	if p99 >= time.Second {
		t.Errorf("other's lag during the rebuild: p99 %s, want < 1 s", p99)
	}
	if liveDuringRebuild < len(lags)/2 {
		t.Errorf("the old leader applied %d of the %d appends during the rebuild to the live tables: the rebuild held it back", liveDuringRebuild, len(lags))
	}

	// After the swap: the old leader stands by and the new server leads tally, caught up.
	last := e.appendN(50, 5)
	eventually(t, 10*time.Second, "the new server leads tally", func() bool {
		return slices.Contains(current.Leading(), "tally") && !slices.Contains(old.Leading(), "tally")
	})
	e.waitFor(last, 10*time.Second, "tally", "other")
	e.checkFold(newTally)
}
