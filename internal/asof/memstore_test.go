package asof_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// memStore is an event store in memory for the unit tests: the global log in append order,
// each event recorded when the test says, which need not be in order (two commits that
// overlap).
type memStore struct {
	mu       sync.Mutex
	log      []eventlog.RecordedEvent
	versions map[string]int64
}

func (m *memStore) Append(_ context.Context, streamID string, _ eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	var res eventlog.AppendResult
	for _, e := range events {
		res = m.add(time.Now(), streamID, e)
	}
	return res, nil
}

func (m *memStore) add(recorded time.Time, streamID string, e eventlog.EventData) eventlog.AppendResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.versions == nil {
		m.versions = map[string]int64{}
	}
	version, ok := m.versions[streamID]
	if !ok {
		version = -1
	}
	m.versions[streamID] = version + 1
	pos := eventlog.NewPosition(7, uint64(len(m.log)+1))
	m.log = append(m.log, eventlog.RecordedEvent{ID: e.ID, StreamID: streamID, Version: version + 1, Type: e.Type, Data: e.Data,
		Metadata: e.Metadata, Position: pos, RecordedAt: recorded})
	return eventlog.AppendResult{NextExpected: version + 1, Position: pos}
}

func (m *memStore) ReadStream(_ context.Context, streamID string, from int64, _ eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventlog.RecordedEvent
	for _, r := range m.log {
		if r.StreamID == streamID && r.Version >= from {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) ReadAll(_ context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := opts.Limit
	if limit == 0 {
		limit = 1000
	}
	// Positions are (7, index+1): the events after from start at index from's lo.
	_, lo := from.Parts()
	start := min(int(lo), len(m.log))
	return append([]eventlog.RecordedEvent(nil), m.log[start:min(start+limit, len(m.log))]...), nil
}

func (m *memStore) Subscribe(context.Context, eventlog.Position, eventlog.SubscribeOptions, eventlog.Handler) error {
	return errors.New("the test store does not subscribe")
}

// writer appends domain events to a memStore, each recorded a second after the one before
// unless the test says when, and occurring a moment before it is recorded.
type writer struct {
	t     *testing.T
	store *memStore
	clock time.Time
}

func newWriter(t *testing.T) *writer {
	return &writer{t: t, store: &memStore{}, clock: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)}
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
	return w.store.add(recorded, streamID, eventlog.EventData{ID: uuid.New(), Type: typ, Data: data,
		Metadata: eventlog.Metadata{Actor: actor, OccurredAt: recorded.Add(-1234567 * time.Nanosecond)}})
}
