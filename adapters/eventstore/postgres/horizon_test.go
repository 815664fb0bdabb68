package pgstore_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/schema"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// openLog creates database name in cluster, migrates it and opens a store on it.
func openLog(ctx context.Context, t *testing.T, cluster *pgtest.Cluster, name string, cfg pgstore.Config) (*pgxpool.Pool, *pgstore.Store) {
	t.Helper()
	pool, err := pgxpool.New(ctx, cluster.CreateDatabase(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := schema.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool, pgtest.OpenEventStore(t, pool, cfg)
}

// holdTransaction opens a transaction on url that has a transaction ID, runs statements in it,
// and returns its backend's pid and a function that rolls it back.
func holdTransaction(ctx context.Context, t *testing.T, url string, statements ...string) (pid int, release func()) {
	t.Helper()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append([]string{"SELECT pg_current_xact_id()"}, statements...) {
		if _, err := tx.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(context.Background())
			conn.Close(context.Background())
		}
	}
	t.Cleanup(release)
	return pid, release
}

// subscription delivers the events of a running subscription.
type subscription struct {
	events chan eventlog.RecordedEvent
}

func subscribe(ctx context.Context, t *testing.T, store *pgstore.Store, from eventlog.Position) subscription {
	t.Helper()
	sub := subscription{events: make(chan eventlog.RecordedEvent, 1000)}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = store.Subscribe(ctx, from, eventlog.SubscribeOptions{}, func(_ context.Context, batch []eventlog.RecordedEvent) error {
			for _, e := range batch {
				sub.events <- e
			}
			return nil
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return sub
}

// next waits up to within for the next event; ok is false when none came.
func (s subscription) next(within time.Duration) (eventlog.RecordedEvent, bool) {
	select {
	case e := <-s.events:
		return e, true
	case <-time.After(within):
		return eventlog.RecordedEvent{}, false
	}
}

// Only a transaction that can still write events holds their delivery back (issue 11, items 2
// to 4): one in another database of the cluster, or one in the same database that holds no
// write lock on events (a rebuild's DDL), is looked past after PreciseHorizonAfter; an append
// held open is waited for, and its event comes first once it commits. Horizon says which is
// which, and who.
func TestOnlyEventWritersHoldDeliveryBack(t *testing.T) {
	ctx := testContext(t)
	cluster := pgtest.StartCluster(t)
	pool, store := openLog(ctx, t, cluster, "log", pgstore.Config{PreciseHorizonAfter: 100 * time.Millisecond})
	cluster.CreateDatabase("elsewhere") // for a transaction of another database
	sub := subscribe(ctx, t, store, eventlog.Start())
	appendOne := func(t *testing.T, stream string) eventlog.AppendResult {
		t.Helper()
		res, err := store.Append(ctx, stream, eventlog.Any(), event(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	delivered := func(t *testing.T, what string, want eventlog.AppendResult) {
		t.Helper()
		start := time.Now()
		e, ok := sub.next(time.Second)
		if !ok {
			t.Fatalf("%s: the event appended was not delivered within 1 s", what)
		}
		if e.Position != want.Position {
			t.Fatalf("%s: delivered the event at %s, want %s", what, e.Position, want.Position)
		}
		t.Logf("%s: delivered %s after it was appended", what, time.Since(start).Round(time.Millisecond))
	}

	for _, tc := range []struct {
		name, db   string
		statements []string
	}{
		{"a transaction in another database", "elsewhere", nil},
		{"DDL in the same database, as a rebuild runs it", "log", []string{"CREATE TABLE rebuild_scratch (id bigint PRIMARY KEY)", "CREATE INDEX ON rebuild_scratch (id)"}},
		{"a read of events in the same database", "log", []string{"SELECT count(*) FROM events"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pid, release := holdTransaction(ctx, t, cluster.URL(tc.db), tc.statements...)
			defer release()
			delivered(t, tc.name, appendOne(t, "looked-past"))
			time.Sleep(1100 * time.Millisecond) // Summary names holders open for 1 s or more
			appendOne(t, "looked-past")
			r, err := store.Horizon(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Waiting || r.DeliveryHeld || r.Holder == nil || r.Holder.PID != pid || r.Holder.Database != tc.db || r.Holder.EventWriter || r.HeldFor < time.Second {
				t.Fatalf("report %+v (holder %+v), want events waiting behind pid %d of %s, not held", r, r.Holder, pid, tc.db)
			}
			if s := r.Summary(time.Second); !strings.Contains(s, fmt.Sprintf("backend %d (database %q", pid, tc.db)) || !strings.Contains(s, "cannot write events") {
				t.Fatalf("summary %q", s)
			}
			if _, ok := sub.next(time.Second); !ok {
				t.Fatal("the second event was not delivered within 1 s")
			}
		})
	}

	t.Run("an append held open", func(t *testing.T) {
		commit, rollback, err := store.HoldOpenAppend(ctx, "held-open", eventlog.NoStream(), event(`{"held":true}`))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rollback(context.Background()) }()
		var writer int
		if err := pool.QueryRow(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = 'log' AND backend_xid IS NOT NULL`).Scan(&writer); err != nil {
			t.Fatal(err)
		}
		// Every start migrates and looks at the log's clock: never waiting for an append.
		migrateCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := schema.Migrate(migrateCtx, pool); err != nil {
			t.Fatalf("migrate while an append is held open: %v", err)
		}
		after := appendOne(t, "after-held")
		if e, ok := sub.next(1500 * time.Millisecond); ok {
			t.Fatalf("delivered %s (%s) while an append that began before it is still open", e.StreamID, e.Position)
		}
		r, err := store.Horizon(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !r.DeliveryHeld || r.Blocker == nil || r.Blocker.PID != writer || !r.Blocker.EventWriter || r.BlockedFor < time.Second {
			t.Fatalf("report %+v (blocker %+v), want delivery held by pid %d", r, r.Blocker, writer)
		}
		if s := r.Summary(time.Second); !strings.Contains(s, "event delivery is held back") || !strings.Contains(s, fmt.Sprintf("backend %d", writer)) {
			t.Fatalf("summary %q", s)
		}
		if err := commit(ctx); err != nil {
			t.Fatal(err)
		}
		first, ok := sub.next(time.Second)
		second, ok2 := sub.next(time.Second)
		if !ok || !ok2 || first.StreamID != "held-open" || second.Position != after.Position {
			t.Fatalf("after the commit: delivered %s then %s, want the held append then the later one", first.StreamID, second.StreamID)
		}
	})
}

// A log restored with pg_dump and pg_restore into a fresh cluster, whose transaction IDs are
// far behind the old one's, keeps its order (issue 11 item 1): migrating it moves the log's
// clock forward, new events sort after every restored one, and a subscriber resuming from the
// last restored event gets the new ones at once.
func TestRestoreIntoAClusterBehindKeepsTheOrder(t *testing.T) {
	ctx := testContext(t)
	old := pgtest.StartCluster(t)
	oldPool, oldStore := openLog(ctx, t, old, "log", pgstore.Config{})
	// Put the old cluster 20,000 transactions ahead of a fresh one.
	if _, err := oldPool.Exec(ctx, `CREATE PROCEDURE burn(n int) LANGUAGE plpgsql AS $$
		BEGIN FOR i IN 1..n LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := oldPool.Exec(ctx, `CALL burn(20000)`); err != nil {
		t.Fatal(err)
	}
	var before []eventlog.AppendResult
	for i := range 30 {
		res, err := oldStore.Append(ctx, fmt.Sprintf("restored-%d", i%3), eventlog.Any(), event(fmt.Sprintf(`{"n":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		before = append(before, res)
	}
	dump := filepath.Join(t.TempDir(), "log.dump")
	if out, err := exec.CommandContext(ctx, pgtest.Program(t, "pg_dump"), "--format=custom", "--file", dump, old.URL("log")).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}

	fresh := pgtest.StartCluster(t)
	if out, err := exec.CommandContext(ctx, pgtest.Program(t, "pg_restore"), "--no-owner", "--dbname", fresh.CreateDatabase("log"), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	pool, err := pgxpool.New(ctx, fresh.URL("log"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var newest, next uint64
	if err := pool.QueryRow(ctx, `SELECT max(transaction_id)::text::bigint, pg_current_xact_id()::text::bigint FROM events`).Scan(&newest, &next); err != nil {
		t.Fatal(err)
	}
	if next > newest {
		t.Fatalf("the fresh cluster is not behind (next transaction %d, newest restored %d): the test proves nothing", next, newest)
	}
	if _, err := schema.Migrate(ctx, pool); err != nil { // as `helpstream migrate` and every start do
		t.Fatal(err)
	}
	store := pgtest.OpenEventStore(t, pool, pgstore.Config{})
	last := before[len(before)-1].Position
	sub := subscribe(ctx, t, store, last) // a read model's checkpoint, restored with the log
	var after []eventlog.AppendResult
	for i := range 5 {
		res, err := store.Append(ctx, "restored-0", eventlog.Any(), event(fmt.Sprintf(`{"after":%d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Position.Compare(last) <= 0 {
			t.Fatalf("a new event at %s sorts before the last restored one at %s", res.Position, last)
		}
		after = append(after, res)
	}
	for i, want := range after {
		e, ok := sub.next(time.Second)
		if !ok || e.Position != want.Position {
			t.Fatalf("new event %d: delivered %v (%s) within 1 s, want %s", i, ok, e.Position, want.Position)
		}
	}
	all, err := store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := append(before, after...)
	if len(all) != len(want) {
		t.Fatalf("read %d events, want %d", len(all), len(want))
	}
	for i := range want {
		if all[i].Position != want[i].Position {
			t.Fatalf("event %d at %s, want %s: the restored log's order changed", i, all[i].Position, want[i].Position)
		}
	}
	// Migrating again finds nothing to move.
	var raised int64
	if err := pool.QueryRow(ctx, `SELECT event_log_rebase()`).Scan(&raised); err != nil || raised != 0 {
		t.Fatalf("second re-base raised the clock by %d (%v), want 0", raised, err)
	}
}

// A rebuild about to take over from the live projector must reach the live checkpoint even
// when a long transaction that writes no events holds its own ReadAll back: ReadDelivered reads
// up to a position the log delivered already, and no further.
func TestReadDeliveredLooksPastTheHorizon(t *testing.T) {
	ctx := testContext(t)
	cluster := pgtest.StartCluster(t)
	pool, live := openLog(ctx, t, cluster, "log", pgstore.Config{PreciseHorizonAfter: 100 * time.Millisecond})
	rebuilding, err := pgstore.New(pool, pgstore.Config{PreciseHorizonAfter: -1}) // never looks past the horizon
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rebuilding.Close)
	sub := subscribe(ctx, t, live, eventlog.Start())
	_, release := holdTransaction(ctx, t, cluster.URL("log"), "SELECT count(*) FROM events")
	defer release()
	var appended []eventlog.Position
	for range 3 {
		res, err := live.Append(ctx, "looked-past", eventlog.Any(), event(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		appended = append(appended, res.Position)
	}
	for _, want := range appended {
		if e, ok := sub.next(5 * time.Second); !ok || e.Position != want {
			t.Fatalf("the live subscriber got %v (%v), want %s", e.Position, ok, want)
		}
	}
	held, err := rebuilding.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
	if err != nil || len(held) != 0 {
		t.Fatalf("ReadAll behind the open transaction: %d events, %v; want none", len(held), err)
	}
	for _, tc := range []struct {
		from, until eventlog.Position
		want        []eventlog.Position
	}{
		{eventlog.Start(), appended[2], appended},
		{eventlog.Start(), appended[1], appended[:2]},
		{appended[0], appended[2], appended[1:]},
		{appended[2], appended[2], nil},
	} {
		got, err := rebuilding.ReadDelivered(ctx, tc.from, tc.until, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var positions []eventlog.Position
		for _, e := range got {
			positions = append(positions, e.Position)
		}
		if !slices.Equal(positions, tc.want) {
			t.Errorf("ReadDelivered(%s, %s) = %v, want %v", tc.from, tc.until, positions, tc.want)
		}
	}
	if _, err := rebuilding.ReadDelivered(ctx, eventlog.Start(), appended[2], eventlog.ReadOptions{Limit: -1}); err == nil {
		t.Error("a negative limit was accepted")
	}
}
