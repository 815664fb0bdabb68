package verify_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	"github.com/helpstream/helpstream/adapters/eventstore/kurrent/kurrenttest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/verify"
)

// The same checks through the KurrentDB store (the real client against kurrenttest's stand-in
// for the server): verify, anchors and bundles know the port only.
func TestOnKurrentDB(t *testing.T) {
	_, url := kurrenttest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	store, err := kurrent.OpenConfig(ctx, url, kurrent.Config{ReadPageSize: 7, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	pub, priv := newKey(t)
	w := newWorld(t, store, 6)
	a := w.anchorer(priv)
	w.anchor(a)
	w.request(lifeClosed)
	w.anchor(a)

	rep := w.verifyLog(verify.Config{Anchors: pub, PageSize: 10})
	if !rep.OK() || rep.Anchors != 2 || rep.Streams != 3+7+1 || rep.Events != w.events() {
		t.Fatalf("a clean log on KurrentDB: %+v", rep)
	}
	file := export(t, store, w.requests[:3], pub)
	if rep := verifyBundle(t, file, pub); !rep.OK() || rep.Streams != 3 || rep.Anchors != 2 {
		t.Fatalf("a bundle from KurrentDB: %+v", rep)
	}

	// A server-side tampering shows the same way through any store: here a store that no
	// longer returns a stream's last events.
	s := w.stream(lifeActive)
	cut := &tailCutter{Store: store, stream: s, from: 6}
	rep, err = verify.Log(ctx, verify.Config{Store: cut, Anchors: pub})
	if err != nil {
		t.Fatal(err)
	}
	expectFindings(t, rep, []want{{verify.KindAnchor, s, 5, "the stream ends at version 5 but anchor #0 signed version 7: its tail was deleted"}}, s, "audit-anchors")
}

// tailCutter is a store that hides the events of stream from version from on.
type tailCutter struct {
	eventlog.Store
	stream string
	from   int64
}

func (c *tailCutter) keep(events []eventlog.RecordedEvent) []eventlog.RecordedEvent {
	out := events[:0:0]
	for _, e := range events {
		if e.StreamID != c.stream || e.Version < c.from {
			out = append(out, e)
		}
	}
	return out
}

func (c *tailCutter) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := c.Store.ReadAll(ctx, from, opts)
	if err != nil || len(events) == 0 {
		return events, err
	}
	kept := c.keep(events)
	if len(kept) == 0 || len(events) == opts.Limit && len(kept) < len(events) {
		// A page that lost events must not look like the log's end to a pager: keep reading
		// from the last position of the real page.
		more, err := c.ReadAll(ctx, events[len(events)-1].Position, opts)
		return append(kept, more...), err
	}
	return kept, nil
}

func (c *tailCutter) ReadStream(ctx context.Context, stream string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	events, err := c.Store.ReadStream(ctx, stream, from, opts)
	return c.keep(events), err
}
