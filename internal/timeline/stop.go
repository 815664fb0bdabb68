package timeline

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Stop is where a timeline stops: at the stream's end, at a moment, at a version or at a
// position of the global log.
type Stop struct {
	kind     stopKind
	at       time.Time
	version  int64
	position eventlog.Position
}

type stopKind uint8

const (
	stopAtEnd stopKind = iota
	stopAsOf
	stopAtVersion
	stopThrough
)

// End stops at the stream's last event: the whole history.
func End() Stop { return Stop{} }

// AsOf stops where the stream stood at t: before its first event recorded after t.
func AsOf(t time.Time) Stop { return Stop{kind: stopAsOf, at: t} }

// AtVersion stops after the event of version v (events 0 to v). Build refuses a version the
// stream does not hold with ErrNoSuchVersion.
func AtVersion(v int64) Stop { return Stop{kind: stopAtVersion, version: v} }

// Through stops after the last event at or before position p of the global log: where an
// asof.Snapshot at the same position has the request.
func Through(p eventlog.Position) Stop { return Stop{kind: stopThrough, position: p} }

// end is how many of the stream's events come before the stop.
func (s Stop) end(events []eventlog.RecordedEvent) (int, error) {
	past := func(e *eventlog.RecordedEvent) bool { return false }
	switch s.kind {
	case stopAsOf:
		past = func(e *eventlog.RecordedEvent) bool { return e.RecordedAt.After(s.at) }
	case stopAtVersion:
		held := false
		for i := range events {
			held = held || events[i].Version == s.version
		}
		if !held {
			return 0, ErrNoSuchVersion
		}
		past = func(e *eventlog.RecordedEvent) bool { return e.Version > s.version }
	case stopThrough:
		past = func(e *eventlog.RecordedEvent) bool { return e.Position.Compare(s.position) > 0 }
	}
	for i := range events {
		if past(&events[i]) {
			return i, nil
		}
	}
	return len(events), nil
}

// String says where the timeline stops: "end", "as of <RFC 3339 time>", "version <n>" or
// "position <p>".
func (s Stop) String() string {
	switch s.kind {
	case stopAsOf:
		return "as of " + s.at.UTC().Format(time.RFC3339Nano)
	case stopAtVersion:
		return "version " + strconv.FormatInt(s.version, 10)
	case stopThrough:
		return "position " + s.position.String()
	}
	return "end"
}

// MarshalJSON writes the stop as {"kind": "end" | "as_of" | "version" | "position", and the
// field of that name}.
func (s Stop) MarshalJSON() ([]byte, error) {
	out := struct {
		Kind     string             `json:"kind"`
		AsOf     *time.Time         `json:"as_of,omitempty"`
		Version  *int64             `json:"version,omitempty"`
		Position *eventlog.Position `json:"position,omitempty"`
	}{Kind: "end"}
	switch s.kind {
	case stopAsOf:
		at := s.at.UTC()
		out.Kind, out.AsOf = "as_of", &at
	case stopAtVersion:
		out.Kind, out.Version = "version", &s.version
	case stopThrough:
		out.Kind, out.Position = "position", &s.position
	}
	return json.Marshal(out)
}
