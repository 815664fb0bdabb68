package projections_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/projections"
)

func compare(t *testing.T, e *env, opts projections.CompareOptions, ps ...projections.Projection) ([]projections.Difference, int) {
	t.Helper()
	opts.Logger = e.log
	c, err := projections.NewComparer(e.pool, e.store, ps, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	diffs, tables, err := c.Compare(ctx)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	var scratch bool
	if err := e.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname LIKE 'verify\_%')`).Scan(&scratch); err != nil || scratch {
		t.Fatalf("scratch schema left behind: %v, %v", scratch, err)
	}
	return diffs, tables
}

// A comparison names every row a hand changed behind the projector's back, by table and
// primary key, with what differs; it changes nothing live.
func TestCompareNamesChangedRows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _, _ := e.tallyCaughtUp(600, 20, 20*time.Second)
	if diffs, tables := compare(t, e, projections.CompareOptions{BatchSize: 50}, c); len(diffs) != 0 || tables != 2 {
		t.Fatalf("a read model as its projector left it: %d tables compared, differences %+v", tables, diffs)
	}

	var events int64
	var victim string
	if err := e.pool.QueryRow(ctx, `SELECT events FROM tally_streams WHERE stream_id = 's-3'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := e.pool.QueryRow(ctx, `SELECT event_id::text FROM tally_applied ORDER BY position DESC LIMIT 1`).Scan(&victim); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE tally_streams SET events = events + 5 WHERE stream_id = 's-3'`,
		`DELETE FROM tally_applied WHERE event_id = '` + victim + `'`,
		`INSERT INTO tally_streams VALUES ('s-forged', 1, 0)`,
	} {
		if _, err := e.pool.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	diffs, _ := compare(t, e, projections.CompareOptions{}, c)
	want := []projections.Difference{
		{Projection: "tally", Table: "tally_streams", Row: "stream_id=s-3",
			How: "events is " + strconv.FormatInt(events+5, 10) + ", a fresh fold gives " + strconv.FormatInt(events, 10)},
		{Projection: "tally", Table: "tally_streams", Row: "stream_id=s-forged", How: "the row is not in a fresh fold"},
		{Projection: "tally", Table: "tally_applied", Row: "event_id=" + victim, How: "the row is missing: a fresh fold has it"},
	}
	for _, w := range want {
		if !slices.Contains(diffs, w) {
			t.Errorf("missing difference %+v", w)
		}
	}
	if len(diffs) != len(want) {
		t.Fatalf("differences: %+v", diffs)
	}
	var after int64
	if err := e.pool.QueryRow(ctx, `SELECT events FROM tally_streams WHERE stream_id = 's-3'`).Scan(&after); err != nil || after != events+5 {
		t.Fatalf("the comparison changed a live row: %d, %v", after, err)
	}
}

// While the projector applies a steady stream of events, a comparison compares the live tables
// at one checkpoint with a fold up to that checkpoint: no difference.
func TestCompareWhileLive(t *testing.T) {
	e := newEnv(t)
	c, _, _ := e.tallyCaughtUp(1000, 30, 20*time.Second)
	a := e.appendContinuously(2, time.Millisecond)
	for range 3 {
		if diffs, _ := compare(t, e, projections.CompareOptions{BatchSize: 100}, c); len(diffs) != 0 {
			a.stop(t)
			t.Fatalf("differences while live: %+v", diffs)
		}
	}
	if _, n := a.stop(t); n == 0 {
		t.Fatal("nothing was appended during the comparisons")
	}
}

// A read model built by another version of its projection cannot be compared row by row: the
// comparison says so. Past MaxRows, one difference says more rows differ.
func TestCompareWholeTables(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, _, _ := e.tallyCaughtUp(300, 40, 20*time.Second)
	if _, err := e.pool.Exec(ctx, `UPDATE tally_streams SET last_version = last_version + 1`); err != nil {
		t.Fatal(err)
	}
	diffs, _ := compare(t, e, projections.CompareOptions{MaxRows: 5}, c)
	if len(diffs) != 6 || diffs[5].Row != "" || !strings.Contains(diffs[5].How, "more rows differ than the first 5") ||
		!strings.HasPrefix(diffs[0].How, "last_version is ") {
		t.Fatalf("differences past MaxRows: %+v", diffs)
	}

	changed := newCounts("tally")
	changed.extra = "CREATE INDEX tally_streams_events_idx ON tally_streams (events);"
	diffs, tables := compare(t, e, projections.CompareOptions{}, changed)
	if tables != 0 || len(diffs) != 1 || diffs[0].Row != "" || !strings.Contains(diffs[0].How, "another version of the projection") {
		t.Fatalf("a read model of another schema: %d tables, %+v", tables, diffs)
	}
	never := newCounts("never_built")
	diffs, _ = compare(t, e, projections.CompareOptions{}, never)
	if len(diffs) != 1 || !strings.Contains(diffs[0].How, "never built") {
		t.Fatalf("a read model never built: %+v", diffs)
	}
}
