package timeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// memStore is an event store in memory for the unit tests: streams and a global log, each
// event recorded at the time the test says. It keeps what it is given: sealing is the test's.
type memStore struct {
	mu      sync.Mutex
	log     []eventlog.RecordedEvent
	streams map[string][]int // stream → indexes into log
}

func newMemStore() *memStore { return &memStore{streams: map[string][]int{}} }

func (m *memStore) Append(_ context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	return m.appendAt(time.Now(), streamID, expected, events...)
}

func (m *memStore) appendAt(at time.Time, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	last := int64(len(m.streams[streamID])) - 1
	if want, exact := expected.Exact(); exact && want != last {
		return eventlog.AppendResult{}, &eventlog.ConcurrencyError{StreamID: streamID, Expected: expected, Actual: last}
	}
	var res eventlog.AppendResult
	for _, e := range events {
		last++
		pos := eventlog.NewPosition(1, uint64(len(m.log)+1))
		m.log = append(m.log, eventlog.RecordedEvent{ID: e.ID, StreamID: streamID, Version: last, Type: e.Type,
			Data: e.Data, Metadata: e.Metadata, Position: pos, RecordedAt: at})
		m.streams[streamID] = append(m.streams[streamID], len(m.log)-1)
		res = eventlog.AppendResult{NextExpected: last, Position: pos}
	}
	return res, nil
}

func (m *memStore) ReadStream(_ context.Context, streamID string, from int64, _ eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []eventlog.RecordedEvent
	for _, i := range m.streams[streamID] {
		if m.log[i].Version >= from {
			out = append(out, m.log[i])
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
	var out []eventlog.RecordedEvent
	for _, e := range m.log {
		if e.Position.Compare(from) > 0 && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) Subscribe(context.Context, eventlog.Position, eventlog.SubscribeOptions, eventlog.Handler) error {
	return errors.New("the test store does not subscribe")
}

// tamper changes a stored event in place, as someone with write access to the table would.
func (m *memStore) tamper(streamID string, version int64, change func(*eventlog.RecordedEvent)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change(&m.log[m.streams[streamID][version]])
}

// stream writes events to a stream as the application does: encoded, with metadata, sealed.
type stream struct {
	t        *testing.T
	store    *memStore
	id       string
	codec    *eventlog.Codec
	hash     string
	version  int64
	recorded time.Time
}

func newStream(t *testing.T, store *memStore, id string, codec *eventlog.Codec) *stream {
	return &stream{t: t, store: store, id: id, codec: codec, version: -1, recorded: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// add appends e caused by actor; the event is recorded a minute after the stream's last one.
func (s *stream) add(actor string, e eventlog.Event) eventlog.AppendResult {
	s.t.Helper()
	typ, data, err := s.codec.Encode(e)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.addRaw(actor, typ, data)
}

func (s *stream) addRaw(actor, typ string, data json.RawMessage) eventlog.AppendResult {
	s.t.Helper()
	s.recorded = s.recorded.Add(time.Minute)
	events := []eventlog.EventData{{ID: uuid.New(), Type: typ, Data: data,
		Metadata: eventlog.Metadata{Actor: actor, OccurredAt: s.recorded.Add(-time.Second)}}}
	eventlog.Seal(s.id, s.version, s.hash, events)
	res, err := s.store.appendAt(s.recorded, s.id, eventlog.Exactly(s.version), events...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.version, s.hash = res.NextExpected, events[0].Metadata.Hash
	return res
}
