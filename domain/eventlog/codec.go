package eventlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
)

// Event is a domain event: a fact with a stable, versioned type name.
type Event interface {
	EventType() string
}

// ErrUnknownEventType is returned when decoding a type no codec knows.
var ErrUnknownEventType = errors.New("unknown event type")

// Upcaster turns the payload of an old event version into the next version's type and payload.
// Event types are never changed in place: a new version comes with an upcaster from the old one.
type Upcaster func(data json.RawMessage) (newType string, newData json.RawMessage, err error)

// Codec maps event type names to Go types and back, upcasting old versions on the way in.
type Codec struct {
	factories map[string]func() Event
	upcasters map[string]Upcaster
}

// NewCodec returns a codec that knows the events the factories make.
func NewCodec(factories ...func() Event) *Codec {
	c := &Codec{factories: map[string]func() Event{}, upcasters: map[string]Upcaster{}}
	for _, f := range factories {
		c.factories[f().EventType()] = f
	}
	return c
}

// WithUpcaster registers how to read events of oldType, and returns c.
func (c *Codec) WithUpcaster(oldType string, up Upcaster) *Codec {
	c.upcasters[oldType] = up
	return c
}

// Knows reports whether the codec can decode events of this type, directly or by upcasting.
func (c *Codec) Knows(eventType string) bool {
	_, direct := c.factories[eventType]
	_, old := c.upcasters[eventType]
	return direct || old
}

// Encode returns an event's type name and JSON payload.
func (c *Codec) Encode(e Event) (string, json.RawMessage, error) {
	data, err := json.Marshal(e)
	if err != nil {
		return "", nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return e.EventType(), data, nil
}

// Decode reads a stored event, upcasting it to the current version of its type first.
// It reads the payload with encoding/json, or with what SetUnmarshal set.
func (c *Codec) Decode(eventType string, data json.RawMessage) (Event, error) {
	for range 16 { // a chain of upcasters, bounded so a cycle cannot hang a reader
		up, ok := c.upcasters[eventType]
		if !ok {
			break
		}
		next, nextData, err := safeUpcast(up, data)
		if err != nil {
			return nil, fmt.Errorf("upcast %s: %w", eventType, err)
		}
		eventType, data = next, nextData
	}
	factory, ok := c.factories[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownEventType, eventType)
	}
	e := factory()
	if err := (*unmarshal.Load())(data, e); err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// ErrUpcasterPanicked is returned for an event whose upcaster panicked: a bug in the upcaster
// meets an event it did not expect. The reader gets an error for that one event (a projector
// parks it) instead of stopping.
var ErrUpcasterPanicked = errors.New("the upcaster panicked")

func safeUpcast(up Upcaster, data json.RawMessage) (next string, nextData json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", ErrUpcasterPanicked, p)
		}
	}()
	return up(data)
}

var unmarshal atomic.Pointer[func(data []byte, v any) error]

func init() { SetUnmarshal(nil) }

// SetUnmarshal makes every Codec read payloads with fn, which must read what encoding/json reads
// into the same values and refuse what it refuses; nil restores encoding/json. A program sets
// it once, at start, when it has a faster one: a rebuild decodes every event of the log, and a
// command every event of the streams it loads. The domain imports no JSON library of its own.
func SetUnmarshal(fn func(data []byte, v any) error) {
	if fn == nil {
		fn = json.Unmarshal
	}
	unmarshal.Store(&fn)
}
