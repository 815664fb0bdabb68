package timeline_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/memstore"
)

// stream writes events to a stream as the application does: encoded, with metadata, sealed.
type stream struct {
	t        *testing.T
	store    *memstore.Store
	id       string
	codec    *eventlog.Codec
	hash     string
	version  int64
	recorded time.Time
}

func newStream(t *testing.T, store *memstore.Store, id string, codec *eventlog.Codec) *stream {
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
	res, err := s.store.AppendAt(s.recorded, s.id, eventlog.Exactly(s.version), events...)
	if err != nil {
		s.t.Fatal(err)
	}
	s.version, s.hash = res.NextExpected, events[0].Metadata.Hash
	return res
}
