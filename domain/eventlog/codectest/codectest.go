// Package codectest holds what every event codec of the domain must do, as checks its tests
// share: write each event as its stable type name and exact JSON, read it back unchanged, refuse
// types it does not know, and answer any bytes a reader of the log may meet with an event or an
// error, never a panic.
package codectest

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Wire is one event with its stable, versioned type name and its exact JSON payload. Stored
// events are read back for ever: a change to either is a new event version with an upcaster,
// never an edit.
type Wire struct {
	Event eventlog.Event
	Type  string
	JSON  string
}

// CheckWireFormat checks that codec writes each case's event as its type and JSON, exactly,
// and reads that back as the same event; and that the cases cover wantTypes event types, every
// type the codec's package defines.
func CheckWireFormat(t *testing.T, codec *eventlog.Codec, cases []Wire, wantTypes int) {
	t.Helper()
	seen := map[string]bool{}
	for _, tt := range cases {
		seen[tt.Type] = true
		t.Run(tt.Type+"/"+tt.JSON[:min(len(tt.JSON), 40)], func(t *testing.T) {
			if got := tt.Event.EventType(); got != tt.Type {
				t.Fatalf("EventType = %q, want %q", got, tt.Type)
			}
			typ, data, err := codec.Encode(tt.Event)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if typ != tt.Type || string(data) != tt.JSON {
				t.Fatalf("Encode = %s %s\nwant      %s %s", typ, data, tt.Type, tt.JSON)
			}
			if !codec.Knows(typ) {
				t.Fatalf("codec does not know %s", typ)
			}
			back, err := codec.Decode(typ, data)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(back, tt.Event) {
				t.Fatalf("Decode = %#v, want %#v", back, tt.Event)
			}
		})
	}
	if len(seen) != wantTypes {
		t.Fatalf("table covers %d event types, want all %d", len(seen), wantTypes)
	}
}

// CheckRefuses checks that codec knows none of types, and that decoding any of them fails with
// eventlog.ErrUnknownEventType.
func CheckRefuses(t *testing.T, codec *eventlog.Codec, types []string) {
	t.Helper()
	for _, typ := range types {
		t.Run(typ, func(t *testing.T) {
			if codec.Knows(typ) {
				t.Fatalf("Knows(%q) = true", typ)
			}
			if _, err := codec.Decode(typ, json.RawMessage(`{}`)); !errors.Is(err, eventlog.ErrUnknownEventType) {
				t.Fatalf("Decode(%q) error = %v, want ErrUnknownEventType", typ, err)
			}
		})
	}
}

// CheckDecode is the decoding contract for one codec, for a fuzz target to hold any bytes to:
// an event or an error, never both and never neither; a decoded event is of a type the codec
// knows, and it encodes to bytes that decode back to the same event. It returns the decoded
// event, or nil when the codec refused the bytes.
func CheckDecode(t *testing.T, codec *eventlog.Codec, typ string, data []byte) eventlog.Event {
	t.Helper()
	e, err := codec.Decode(typ, data)
	if err != nil {
		if e != nil {
			t.Fatalf("Decode(%q, %q) returned %#v with the error %v", typ, data, e, err)
		}
		return nil
	}
	if e == nil {
		t.Fatalf("Decode(%q, %q) returned neither an event nor an error", typ, data)
	}
	if !codec.Knows(e.EventType()) {
		t.Fatalf("Decode(%q, %q) made a %s, which the codec does not know", typ, data, e.EventType())
	}
	typ2, data2, err := codec.Encode(e)
	if err != nil {
		t.Fatalf("Decode(%q, %q) made %#v, which does not encode: %v", typ, data, e, err)
	}
	back, err := codec.Decode(typ2, data2)
	if err != nil {
		t.Fatalf("Decode(%q, %q) made %#v, encoded as %s; decoding that fails: %v", typ, data, e, data2, err)
	}
	if !reflect.DeepEqual(back, e) {
		t.Fatalf("Decode(%q, %q) made %#v, encoded as %s, which decodes to %#v", typ, data, e, data2, back)
	}
	return e
}

// AddSamples seeds a fuzz target that takes (type, payload) with each event as the codec
// writes it.
func AddSamples(f *testing.F, codec *eventlog.Codec, events ...eventlog.Event) {
	f.Helper()
	for _, e := range events {
		typ, data, err := codec.Encode(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typ, []byte(data))
	}
}
