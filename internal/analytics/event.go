// Package analytics is the analytics job of issue 14 (design §1 "analytics job", §3
// "service-level timers"): it folds the event stream into per-request facts in PostgreSQL
// (migration 013), consuming it through a Watermill subscriber (`helpstream analytics run`), and
// recomputes them from the event log beside the live tables (`helpstream analytics rebuild`).
//
// Every fact is commutative: a time is the least of the events' times that set it, a count a sum
// guarded by the set of message UUIDs applied, a value that changes back and forth that of the
// event with the highest version in its stream. So any batching, any delivery order a broker may
// choose and any redelivery give the same tables, which the package's property test checks.
package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// The metadata keys the forwarder (adapters/stream) puts on every message.
const (
	metadataEventType     = "event_type"
	metadataStreamID      = "stream_id"
	metadataStreamVersion = "stream_version"
	metadataPosition      = "position"
	metadataOccurredAt    = "occurred_at"
)

// Event is one event as the job folds it.
type Event struct {
	// ID is the event's ID, the message's UUID: the job folds each once.
	ID       uuid.UUID
	StreamID string
	// Version is the event's number in its stream, from 0.
	Version int64
	// Position is the event's place in the log, in eventlog.Position's text form.
	Position   string
	OccurredAt time.Time
	Type       string
	// Data is the decoded event; nil when no codec of the job knows its type (it is then counted
	// as applied and changes nothing).
	Data eventlog.Event
}

// ErrBadMessage is matched by FromMessage's refusals: a message the forwarder cannot have sent.
var ErrBadMessage = errors.New("not a message of the event stream")

// ErrUndecodable is matched by the error FromMessage and FromRecorded return beside a usable
// Event whose payload its codec refused: the event is folded as one of a type the job does not
// know (counted as applied, changing nothing) on both paths, the stream's and the rebuild's,
// so that they agree, and the caller logs it.
var ErrUndecodable = errors.New("the event's payload does not decode")

// codecs decode every event the job looks at.
var codecs = []*eventlog.Codec{request.Codec(), directory.Codec()}

func decode(eventType string, data json.RawMessage) (eventlog.Event, error) {
	for _, c := range codecs {
		if c.Knows(eventType) {
			return c.Decode(eventType, data)
		}
	}
	return nil, nil
}

// FromMessage reads a message of the forwarder's topic.
func FromMessage(msg *message.Message) (Event, error) {
	id, err := uuid.Parse(msg.UUID)
	if err != nil {
		return Event{}, fmt.Errorf("%w: message UUID %q: %w", ErrBadMessage, msg.UUID, err)
	}
	e := Event{ID: id, StreamID: msg.Metadata.Get(metadataStreamID), Type: msg.Metadata.Get(metadataEventType), Position: msg.Metadata.Get(metadataPosition)}
	if e.Type == "" || e.StreamID == "" {
		return Event{}, fmt.Errorf("%w: message %s has no event type or stream", ErrBadMessage, id)
	}
	if e.Version, err = strconv.ParseInt(msg.Metadata.Get(metadataStreamVersion), 10, 64); err != nil || e.Version < 0 {
		return Event{}, fmt.Errorf("%w: message %s: stream version %q", ErrBadMessage, id, msg.Metadata.Get(metadataStreamVersion))
	}
	if e.OccurredAt, err = time.Parse(time.RFC3339Nano, msg.Metadata.Get(metadataOccurredAt)); err != nil {
		return Event{}, fmt.Errorf("%w: message %s: occurred_at: %w", ErrBadMessage, id, err)
	}
	if e.Data, err = decode(e.Type, json.RawMessage(msg.Payload)); err != nil {
		return e, fmt.Errorf("%w: message %s (%s): %w", ErrUndecodable, id, e.Type, err)
	}
	return e, nil
}

// FromRecorded reads an event of the log.
func FromRecorded(r eventlog.RecordedEvent) (Event, error) {
	e := Event{ID: r.ID, StreamID: r.StreamID, Version: r.Version, Position: r.Position.String(),
		OccurredAt: r.Metadata.OccurredAt, Type: r.Type}
	var err error
	if e.Data, err = decode(r.Type, r.Data); err != nil {
		return e, fmt.Errorf("%w: event %s (%s) at %s: %w", ErrUndecodable, r.ID, r.Type, r.Position, err)
	}
	return e, nil
}
