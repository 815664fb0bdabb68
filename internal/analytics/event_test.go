package analytics_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
)

// FromMessage reads what the forwarder sends (stream.NewMessage), and says what is wrong with
// anything else.
func TestFromMessage(t *testing.T) {
	at := time.Date(2026, 5, 4, 9, 0, 0, 123456789, time.UTC)
	good := eventlog.RecordedEvent{ID: uuid.New(), StreamID: request.Stream(uuid.New()), Version: 3, Type: "request.transferred.v1",
		Data:     []byte(`{"from_technician_id":"` + uuid.NewString() + `","to_technician_id":"` + uuid.NewString() + `"}`),
		Metadata: eventlog.Metadata{OccurredAt: at}, Position: eventlog.NewPosition(7, 9)}
	e, err := analytics.FromMessage(stream.NewMessage(good))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != good.ID || e.StreamID != good.StreamID || e.Version != 3 || !e.OccurredAt.Equal(at) || e.Position != good.Position.String() {
		t.Errorf("event %+v from %+v", e, good)
	}
	if _, ok := e.Data.(*request.Transferred); !ok {
		t.Errorf("data %T", e.Data)
	}

	for _, tc := range []struct {
		name   string
		change func(*eventlog.RecordedEvent)
		want   error
	}{
		{"a payload its codec refuses", func(r *eventlog.RecordedEvent) { r.Data = []byte(`{"to_technician_id": 12}`) }, analytics.ErrUndecodable},
		{"a type no codec knows", func(r *eventlog.RecordedEvent) { r.Type = "request.teleported.v9" }, nil},
		{"no stream", func(r *eventlog.RecordedEvent) { r.StreamID = "" }, analytics.ErrBadMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := good
			tc.change(&r)
			e, err := analytics.FromMessage(stream.NewMessage(r))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.want != analytics.ErrBadMessage && (e.ID != r.ID || e.Data != nil) {
				t.Errorf("event %+v: want it usable, with no data", e)
			}
		})
	}
	msg := stream.NewMessage(good)
	msg.Metadata.Set(stream.MetadataOccurredAt, "yesterday")
	if _, err := analytics.FromMessage(msg); !errors.Is(err, analytics.ErrBadMessage) {
		t.Errorf("bad occurred_at: %v", err)
	}
	msg = stream.NewMessage(good)
	msg.UUID = "not-a-uuid"
	if _, err := analytics.FromMessage(msg); !errors.Is(err, analytics.ErrBadMessage) {
		t.Errorf("bad UUID: %v", err)
	}
}
