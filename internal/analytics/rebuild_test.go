package analytics_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/analytics"
)

// TestRebuildCorrectsHistoryWhileTheJobRuns: the live tables hold wrong figures (a metric that
// was wrong when they were folded); a rebuild recomputes them from the log beside them and swaps
// them in while the live job keeps folding new events, each appended to the log just before,
// and redeliveries of old ones. Afterwards the tables are the oracle's reading of the whole log:
// nothing lost, nothing twice, the error gone. A second rebuild changes nothing.
func TestRebuildCorrectsHistoryWhileTheJobRuns(t *testing.T) {
	store, db := pgtest.NewEventStore(t, pgstore.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	w := randomWorld(99, 30, 1200)
	events := w.events()
	half := len(events) / 2
	w.append(t, ctx, store, 0, half)
	fold(t, ctx, db, events[:half])
	if _, err := db.Exec(ctx, `UPDATE analytics_requests SET transfers = transfers + 7, first_assigned_at = NULL`); err != nil {
		t.Fatal(err)
	}
	if d := diffRows(readRows(t, ctx, db), oracle(w.log[:half])); d == "" {
		t.Fatal("the broken metric broke nothing")
	}

	// the live job, folding as the broker delivers: an event the forwarder read from the log,
	// so one the log reads back (below its delivery horizon; a transaction open anywhere on the
	// server holds that back a while)
	readable := func(i int) {
		for {
			page, err := store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{Limit: len(events)})
			if err != nil {
				t.Error(err)
				return
			}
			if len(page) > i {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	done := make(chan int)
	go func() {
		rng := rand.New(rand.NewPCG(1, 2))
		folded := 0
		defer func() { done <- folded }()
		for i := half; i < len(events); i++ {
			w.append(t, ctx, store, i, i+1)
			readable(i)
			batch := []analytics.Event{events[i]}
			if rng.IntN(4) == 0 {
				batch = append(batch, events[rng.IntN(i)]) // delivered again
			}
			err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
				n, err := analytics.Fold(ctx, tx, analytics.Live(), batch)
				folded += n
				return err
			})
			if err != nil {
				t.Errorf("live fold of event %d: %v", i, err)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	res, err := analytics.Rebuild(ctx, analytics.RebuildConfig{DB: db, Store: store, Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	folded := <-done
	t.Logf("rebuild %+v; the live job folded %d events meanwhile", res, folded)
	if res.Generation != 2 || res.Events < int64(half) {
		t.Errorf("rebuild = %+v, want generation 2 and at least %d events", res, half)
	}
	if d := diffRows(readRows(t, ctx, db), oracle(w.log)); d != "" {
		t.Fatalf("after the rebuild: %s", d)
	}
	var applied int
	if err := db.QueryRow(ctx, `SELECT applied FROM analytics_state`).Scan(&applied); err != nil || applied != len(events) {
		t.Errorf("applied = %d (%v), want %d", applied, err, len(events))
	}

	res, err = analytics.Rebuild(ctx, analytics.RebuildConfig{DB: db, Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if res.Generation != 3 || res.Events != int64(len(events)) {
		t.Errorf("second rebuild = %+v, want generation 3 and %d events", res, len(events))
	}
	if d := diffRows(readRows(t, ctx, db), oracle(w.log)); d != "" {
		t.Fatalf("after the second rebuild: %s", d)
	}
}
