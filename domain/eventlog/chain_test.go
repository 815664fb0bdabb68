package eventlog_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

const stream = "request-6f1c2a7e-3b1d-4c8e-9f0a-1b2c3d4e5f60"

var t0 = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.UTC)

func eventData(n int) []eventlog.EventData {
	events := make([]eventlog.EventData, n)
	for i := range events {
		events[i] = eventlog.EventData{
			ID:   uuid.MustParse("00000000-0000-0000-0000-0000000001" + string(rune('0'+i/10)) + string(rune('0'+i%10))),
			Type: "request.message_sent.v1",
			Data: json.RawMessage(`{"body":"message ` + string(rune('a'+i)) + `"}`),
			Metadata: eventlog.Metadata{
				Actor:         "technician:00000000-0000-0000-0000-000000000001",
				OccurredAt:    t0.Add(time.Duration(i) * time.Second),
				CorrelationID: "corr-1",
				CausationID:   "cmd-" + string(rune('a'+i)),
			},
		}
	}
	return events
}

// recorded turns sealed events into what a store would return for the whole stream.
func recorded(streamID string, events []eventlog.EventData) []eventlog.RecordedEvent {
	out := make([]eventlog.RecordedEvent, len(events))
	for i, e := range events {
		out[i] = eventlog.RecordedEvent{
			ID: e.ID, StreamID: streamID, Version: int64(i), Type: e.Type,
			Data: slices.Clone(e.Data), Metadata: e.Metadata,
			Position:   eventlog.NewPosition(uint64(100+i), 0),
			RecordedAt: t0.Add(time.Minute),
		}
	}
	return out
}

func sealedStream(n int) []eventlog.RecordedEvent {
	events := eventData(n)
	eventlog.Seal(stream, -1, "", events)
	return recorded(stream, events)
}

func TestSeal(t *testing.T) {
	events := eventData(4)
	eventlog.Seal(stream, -1, "", events)
	previous := ""
	seen := map[string]bool{}
	for i, e := range events {
		if e.Metadata.PreviousHash != previous {
			t.Errorf("event %d PreviousHash = %q, want %q", i, e.Metadata.PreviousHash, previous)
		}
		if len(e.Metadata.Hash) != 64 {
			t.Errorf("event %d Hash %q is not hex SHA-256", i, e.Metadata.Hash)
		}
		if _, err := hex.DecodeString(e.Metadata.Hash); err != nil {
			t.Errorf("event %d Hash is not hex: %v", i, err)
		}
		if seen[e.Metadata.Hash] {
			t.Errorf("event %d repeats a hash", i)
		}
		seen[e.Metadata.Hash] = true
		previous = e.Metadata.Hash
	}

	// Deterministic.
	again := eventData(4)
	eventlog.Seal(stream, -1, "", again)
	for i := range events {
		if again[i].Metadata.Hash != events[i].Metadata.Hash {
			t.Fatalf("sealing the same events twice gave different hashes at %d", i)
		}
	}

	// Sealing in batches, as successive appends do, gives the same chain as sealing at once.
	batches := eventData(4)
	eventlog.Seal(stream, -1, "", batches[:1])
	eventlog.Seal(stream, 0, batches[0].Metadata.Hash, batches[1:3])
	eventlog.Seal(stream, 2, batches[2].Metadata.Hash, batches[3:])
	for i := range events {
		if batches[i].Metadata != events[i].Metadata {
			t.Fatalf("batch-sealed event %d differs: %+v vs %+v", i, batches[i].Metadata, events[i].Metadata)
		}
	}

	// An existing Hash on the way in is ignored (a retried append reseals).
	stale := eventData(1)
	stale[0].Metadata.Hash, stale[0].Metadata.PreviousHash = "junk", "junk"
	eventlog.Seal(stream, -1, "", stale)
	if stale[0].Metadata != events[0].Metadata {
		t.Fatal("a stale hash changed the seal")
	}

	// Nothing to seal is fine.
	eventlog.Seal(stream, -1, "", nil)
}

// The hash covers the stream, the version and every field of the event.
func TestSealCoversEveryField(t *testing.T) {
	base := eventData(1)
	eventlog.Seal(stream, -1, "", base)
	tests := []struct {
		name     string
		streamID string
		version  int64
		previous string
		change   func(e *eventlog.EventData)
	}{
		{"other stream", "request-other", -1, "", func(e *eventlog.EventData) {}},
		{"other version", stream, 4, "", func(e *eventlog.EventData) {}},
		{"other previous hash", stream, -1, "00", func(e *eventlog.EventData) {}},
		{"ID", stream, -1, "", func(e *eventlog.EventData) { e.ID = uuid.MustParse("00000000-0000-0000-0000-0000000009ff") }},
		{"type", stream, -1, "", func(e *eventlog.EventData) { e.Type = "request.note_added.v1" }},
		{"data", stream, -1, "", func(e *eventlog.EventData) { e.Data = json.RawMessage(`{"body":"message A"}`) }},
		{"data whitespace", stream, -1, "", func(e *eventlog.EventData) { e.Data = json.RawMessage(`{"body": "message a"}`) }},
		{"actor", stream, -1, "", func(e *eventlog.EventData) { e.Metadata.Actor = "admin" }},
		{"occurred at", stream, -1, "", func(e *eventlog.EventData) { e.Metadata.OccurredAt = e.Metadata.OccurredAt.Add(time.Nanosecond) }},
		{"correlation", stream, -1, "", func(e *eventlog.EventData) { e.Metadata.CorrelationID = "corr-2" }},
		{"causation", stream, -1, "", func(e *eventlog.EventData) { e.Metadata.CausationID = "" }},
		{"decision", stream, -1, "", func(e *eventlog.EventData) {
			e.Metadata.Decision = &eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: "round-robin"}
		}},
		// Length-prefixed fields: moving bytes from one field to the next changes the hash.
		{"bytes moved between fields", stream, -1, "", func(e *eventlog.EventData) {
			e.Metadata.CorrelationID, e.Metadata.CausationID = "corr-1cmd-", "a"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := eventData(1)
			tt.change(&e[0])
			eventlog.Seal(tt.streamID, tt.version, tt.previous, e)
			if e[0].Metadata.Hash == base[0].Metadata.Hash {
				t.Fatal("the hash did not change")
			}
		})
	}
	t.Run("same instant in another time zone", func(t *testing.T) {
		e := eventData(1)
		e[0].Metadata.OccurredAt = e[0].Metadata.OccurredAt.In(time.FixedZone("CET", 3600))
		eventlog.Seal(stream, -1, "", e)
		if e[0].Metadata.Hash != base[0].Metadata.Hash {
			t.Fatal("the time zone of OccurredAt changed the hash")
		}
	})
}

func TestVerifyChainAccepts(t *testing.T) {
	tests := []struct {
		name   string
		events []eventlog.RecordedEvent
	}{
		{"empty stream", nil},
		{"one event", sealedStream(1)},
		{"ten events", sealedStream(10)},
		{"store-assigned fields are not covered", func() []eventlog.RecordedEvent {
			s := sealedStream(3)
			for i := range s {
				s[i].Position = eventlog.NewPosition(9, uint64(i))
				s[i].RecordedAt = time.Time{}
			}
			return s
		}()},
		{"metadata read back through JSON", func() []eventlog.RecordedEvent {
			s := sealedStream(3)
			for i := range s {
				b, err := json.Marshal(s[i].Metadata)
				if err != nil {
					t.Fatal(err)
				}
				var m eventlog.Metadata
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				s[i].Metadata = m
			}
			return s
		}()},
		{"occurred-at read back in local time", func() []eventlog.RecordedEvent {
			s := sealedStream(2)
			for i := range s {
				s[i].Metadata.OccurredAt = s[i].Metadata.OccurredAt.In(time.FixedZone("X", -5*3600))
			}
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := eventlog.VerifyChain(tt.events); err != nil {
				t.Fatalf("VerifyChain: %v", err)
			}
		})
	}
}

func TestVerifyChainDetectsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent
	}{
		{"changed data", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[2].Data = json.RawMessage(`{"body":"message X"}`)
			return s
		}},
		{"changed data of the first event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[0].Data = json.RawMessage(`{"body":"message b"}`)
			return s
		}},
		{"changed data of the last event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[len(s)-1].Data[2] = 'B'
			return s
		}},
		{"re-encoded data (JSONB-style key order and spacing)", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1].Data = json.RawMessage(`{"body": "message b"}`)
			return s
		}},
		{"changed type", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1].Type = "request.note_added.v1"
			return s
		}},
		{"changed ID", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1].ID = uuid.New()
			return s
		}},
		{"changed stream ID", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			for i := range s {
				s[i].StreamID = "request-other"
			}
			return s
		}},
		{"changed actor", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[3].Metadata.Actor = "admin"
			return s
		}},
		{"changed occurred-at", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[3].Metadata.OccurredAt = s[3].Metadata.OccurredAt.Add(-time.Hour)
			return s
		}},
		{"occurred-at truncated to microseconds", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[0].Metadata.OccurredAt = s[0].Metadata.OccurredAt.Truncate(time.Microsecond)
			return s
		}},
		{"changed correlation", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1].Metadata.CorrelationID = "corr-9"
			return s
		}},
		{"changed causation", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1].Metadata.CausationID = "cmd-z"
			return s
		}},
		{"changed hash", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[4].Metadata.Hash = s[3].Metadata.Hash
			return s
		}},
		{"changed previous hash", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[2].Metadata.PreviousHash = s[0].Metadata.Hash
			return s
		}},
		{"first event with a previous hash", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[0].Metadata.PreviousHash = s[4].Metadata.Hash
			return s
		}},
		{"hash and data changed together", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			// A forger who recomputes one event's hash still breaks the link to the next.
			e := []eventlog.EventData{{ID: s[2].ID, Type: s[2].Type, Data: json.RawMessage(`{"body":"forged"}`), Metadata: s[2].Metadata}}
			eventlog.Seal(stream, 1, s[1].Metadata.Hash, e)
			s[2].Data, s[2].Metadata = e[0].Data, e[0].Metadata
			return s
		}},
		{"dropped first event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			return s[1:]
		}},
		{"dropped middle event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			return slices.Delete(s, 2, 3)
		}},
		{"dropped middle event and renumbered", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s = slices.Delete(s, 2, 3)
			for i := range s {
				s[i].Version = int64(i)
			}
			return s
		}},
		{"reordered events", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1], s[2] = s[2], s[1]
			return s
		}},
		{"reordered events with versions swapped back", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			s[1], s[2] = s[2], s[1]
			s[1].Version, s[2].Version = 1, 2
			return s
		}},
		{"duplicated event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			return slices.Insert(s, 2, s[1])
		}},
		{"inserted event", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			extra := eventData(1)
			eventlog.Seal(stream, 1, s[1].Metadata.Hash, extra)
			ins := recorded(stream, extra)[0]
			ins.Version = 2
			s = slices.Insert(s, 2, ins)
			for i := range s {
				s[i].Version = int64(i)
			}
			return s
		}},
		{"event spliced from another stream", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			other := eventData(5)
			eventlog.Seal("request-other", -1, "", other)
			s[3] = recorded(stream, other)[3]
			return s
		}},
		{"stream read from a later version", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			return s[2:] // VerifyChain wants the whole stream from version 0
		}},
		{"unsealed stream", func(s []eventlog.RecordedEvent) []eventlog.RecordedEvent {
			for i := range s {
				s[i].Metadata.Hash, s[i].Metadata.PreviousHash = "", ""
			}
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.tamper(sealedStream(5))
			err := eventlog.VerifyChain(s)
			if !errors.Is(err, eventlog.ErrChainBroken) {
				t.Fatalf("VerifyChain = %v, want ErrChainBroken", err)
			}
		})
	}
}

// A stream that does not start at version 0 is reported as such, not as a changed event.
func TestVerifyChainNamesAVersionGap(t *testing.T) {
	err := eventlog.VerifyChain(sealedStream(5)[2:])
	if !errors.Is(err, eventlog.ErrChainBroken) || !strings.Contains(err.Error(), "event 0 of "+stream+" has version 2") {
		t.Fatalf("VerifyChain = %v", err)
	}
}

// What the chain alone cannot see: cutting events off the end leaves a valid, shorter chain.
// Detecting it needs the last hash (or version) kept somewhere else, e.g. in an audit export.
func TestVerifyChainCannotSeeATruncatedTail(t *testing.T) {
	s := sealedStream(5)
	if err := eventlog.VerifyChain(s[:3]); err != nil {
		t.Fatalf("VerifyChain of a prefix = %v; the chain has no end marker", err)
	}
}

// ChainHasher is what a verifier of the whole log runs once per event: it must agree with Seal
// on every event, refuse a changed one, and allocate nothing.
func TestChainHasher(t *testing.T) {
	var hasher eventlog.ChainHasher
	s := sealedStream(5)
	s[3].Metadata.OccurredAt = s[3].Metadata.OccurredAt.In(time.FixedZone("X", 2*3600)) // read back in another zone
	for i := range s {
		if !hasher.Sealed(&s[i]) {
			t.Fatalf("event %d as sealed: Sealed = false", i)
		}
	}
	changed := sealedStream(5)
	changed[2].Data = json.RawMessage(`{"body":"message X"}`)
	if hasher.Sealed(&changed[2]) {
		t.Fatal("a changed payload: Sealed = true")
	}
	renumbered := sealedStream(5)
	renumbered[2].Version = 3
	if hasher.Sealed(&renumbered[2]) {
		t.Fatal("a renumbered event: Sealed = true")
	}
	if hasher.Sealed(&eventlog.RecordedEvent{StreamID: stream}) {
		t.Fatal("an unsealed event: Sealed = true")
	}
	if allocs := testing.AllocsPerRun(100, func() { hasher.Sealed(&s[4]) }); allocs != 0 {
		t.Fatalf("Sealed allocates %v times per event", allocs)
	}
}

func BenchmarkChainHasherSealed(b *testing.B) {
	var hasher eventlog.ChainHasher
	s := sealedStream(1)
	b.ReportAllocs()
	for b.Loop() {
		if !hasher.Sealed(&s[0]) {
			b.Fatal("not sealed")
		}
	}
}

// Events sealed before metadata carried decisions keep their hashes: the chain covers a
// decision only when there is one. The golden hashes were computed by the code before it.
func TestSealKeepsHashesOfEventsWithoutDecision(t *testing.T) {
	events := eventData(2)
	eventlog.Seal(stream, -1, "", events)
	golden := []string{
		"b6b919cad6f100f98671708c806fd7933ca33833005fdb607da6f307f27c78e7",
		"5ddc989aa82dbc47dffb7152ca336a8e03f6d8bd2ccf4fe88738b07ca38f9216",
	}
	for i, want := range golden {
		if events[i].Metadata.Hash != want {
			t.Fatalf("event %d hash %s, want the hash it had before decisions %s", i, events[i].Metadata.Hash, want)
		}
	}
	if err := eventlog.VerifyChain(recorded(stream, events)); err != nil {
		t.Fatal(err)
	}
}

// A decision is covered: changing any of its fields after sealing breaks the chain.
func TestSealCoversTheDecision(t *testing.T) {
	decision := eventlog.Decision{By: eventlog.DecisionReassignment, Rule: "away_limit", Reason: "Alice was Away 10m0s"}
	changes := map[string]func(d *eventlog.Decision){
		"by":     func(d *eventlog.Decision) { d.By = eventlog.DecisionAutoAssignment },
		"rule":   func(d *eventlog.Decision) { d.Rule = "least-busy" },
		"reason": func(d *eventlog.Decision) { d.Reason = "Alice was Away 1m0s" },
		"moved":  func(d *eventlog.Decision) { d.Rule, d.Reason = "away_limitAlice", " was Away 10m0s" },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			events := eventData(2)
			d := decision
			events[1].Metadata.Decision = &d
			eventlog.Seal(stream, -1, "", events)
			stored := recorded(stream, events)
			if err := eventlog.VerifyChain(stored); err != nil {
				t.Fatalf("a sealed decision does not verify: %v", err)
			}
			changed := *stored[1].Metadata.Decision
			change(&changed)
			stored[1].Metadata.Decision = &changed
			if err := eventlog.VerifyChain(stored); !errors.Is(err, eventlog.ErrChainBroken) {
				t.Fatalf("changed decision verified: %v", err)
			}
			stored[1].Metadata.Decision = nil
			if err := eventlog.VerifyChain(stored); !errors.Is(err, eventlog.ErrChainBroken) {
				t.Fatalf("dropped decision verified: %v", err)
			}
		})
	}
}
