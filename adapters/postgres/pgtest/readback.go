package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ReadBack reads the log from from until it has read the events at every position given (the
// positions a test's appends returned), and returns those events in log order. The log shows
// a commit only once every transaction begun before it has ended, anywhere on the server, so
// events appended earlier may show up late, after from: they are passed over, never taken for
// the test's own.
func ReadBack(tb testing.TB, ctx context.Context, store eventlog.Store, from eventlog.Position, positions []eventlog.Position) []eventlog.RecordedEvent {
	tb.Helper()
	want := make(map[eventlog.Position]bool, len(positions))
	for _, p := range positions {
		want[p] = true
	}
	var got []eventlog.RecordedEvent
	for deadline := time.Now().Add(10 * time.Second); len(got) < len(want); {
		page, err := store.ReadAll(ctx, from, eventlog.ReadOptions{})
		if err != nil {
			tb.Fatalf("read the log back from %s: %v", from, err)
		}
		if len(page) == 0 {
			if time.Now().After(deadline) {
				tb.Fatalf("read %d of the %d events appended back from the log", len(got), len(want))
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		for _, e := range page {
			if want[e.Position] {
				got = append(got, e)
			}
		}
		from = page[len(page)-1].Position
	}
	return got
}
