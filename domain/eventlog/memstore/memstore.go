// Package memstore is an event store in memory, for the unit tests of the domain and the
// application only (design: everything else runs on PostgreSQL): streams and a global log in
// append order, each event recorded at the time the test says, which need not be in order (two
// commits that overlap). It keeps what it is given: sealing the hash chain is the caller's.
package memstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Store is the in-memory event store. The zero Store is empty and ready.
type Store struct {
	mu      sync.Mutex
	log     []eventlog.RecordedEvent
	streams map[string][]int // stream → indexes into log
}

var _ eventlog.Store = (*Store)(nil)

// ErrNoSubscriptions is what Subscribe answers: the tests that use Store read, they do not
// subscribe.
var ErrNoSubscriptions = errors.New("the in-memory store does not subscribe")

// Append appends events recorded now.
func (m *Store) Append(_ context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	return m.AppendAt(time.Now(), streamID, expected, events...)
}

// AppendAt appends events recorded at at, checking the expected version as a store does.
func (m *Store) AppendAt(at time.Time, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.streams == nil {
		m.streams = map[string][]int{}
	}
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

// ReadStream returns the stream's events from version from.
func (m *Store) ReadStream(_ context.Context, streamID string, from int64, _ eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
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

// ReadAll returns a page of the global log after from.
func (m *Store) ReadAll(_ context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	limit := opts.Limit
	if limit == 0 {
		limit = 1000
	}
	// Positions are (1, index+1): the events after from start at index from's lo.
	_, lo := from.Parts()
	start := min(int(lo), len(m.log))
	return append([]eventlog.RecordedEvent(nil), m.log[start:min(start+limit, len(m.log))]...), nil
}

// Subscribe answers ErrNoSubscriptions.
func (m *Store) Subscribe(context.Context, eventlog.Position, eventlog.SubscribeOptions, eventlog.Handler) error {
	return ErrNoSubscriptions
}

// Tamper changes a stored event in place, as someone with write access to a store's table
// would.
func (m *Store) Tamper(streamID string, version int64, change func(*eventlog.RecordedEvent)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	change(&m.log[m.streams[streamID][version]])
}
