package asof_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/memstore"
	"github.com/helpstream/helpstream/domain/request"
)

// writer appends domain events to a memStore, each recorded a second after the one before
// unless the test says when, and occurring a moment before it is recorded.
type writer struct {
	t     *testing.T
	store *memstore.Store
	clock time.Time
}

func newWriter(t *testing.T) *writer {
	return &writer{t: t, store: &memstore.Store{}, clock: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
}

// add appends e to streamID, recorded a second after the last event, and returns that time.
func (w *writer) add(streamID, actor string, e eventlog.Event) (eventlog.AppendResult, time.Time) {
	w.t.Helper()
	w.clock = w.clock.Add(time.Second)
	return w.addAt(w.clock, streamID, actor, e), w.clock
}

// addAt appends e to streamID, recorded at recorded.
func (w *writer) addAt(recorded time.Time, streamID, actor string, e eventlog.Event) eventlog.AppendResult {
	w.t.Helper()
	codec := request.Codec()
	if !codec.Knows(e.EventType()) {
		codec = directory.Codec()
	}
	typ, data, err := codec.Encode(e)
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.store.AppendAt(recorded, streamID, eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: typ, Data: data,
		Metadata: eventlog.Metadata{Actor: actor, OccurredAt: recorded.Add(-1234567 * time.Nanosecond)}})
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}
