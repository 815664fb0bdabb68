package eventlog_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/helpstream/helpstream/domain/eventlog"
)

func TestExpectedVersion(t *testing.T) {
	tests := []struct {
		name      string
		expected  eventlog.ExpectedVersion
		any       bool
		noStream  bool
		exact     int64
		hasExact  bool
		formatted string
	}{
		{"Any", eventlog.Any(), true, false, 0, false, "any"},
		{"zero value", eventlog.ExpectedVersion{}, true, false, 0, false, "any"},
		{"NoStream", eventlog.NoStream(), false, true, -1, true, "no stream"},
		{"Exactly(-1)", eventlog.Exactly(-1), false, true, -1, true, "no stream"},
		{"Exactly(-42)", eventlog.Exactly(-42), false, true, -1, true, "no stream"},
		{"Exactly(0)", eventlog.Exactly(0), false, false, 0, true, "version 0"},
		{"Exactly(7)", eventlog.Exactly(7), false, false, 7, true, "version 7"},
		{"Exactly(max)", eventlog.Exactly(math.MaxInt64), false, false, math.MaxInt64, true, "version 9223372036854775807"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.expected.IsAny(); got != tt.any {
				t.Errorf("IsAny = %v, want %v", got, tt.any)
			}
			if got := tt.expected.IsNoStream(); got != tt.noStream {
				t.Errorf("IsNoStream = %v, want %v", got, tt.noStream)
			}
			v, ok := tt.expected.Exact()
			if v != tt.exact || ok != tt.hasExact {
				t.Errorf("Exact = %d, %v; want %d, %v", v, ok, tt.exact, tt.hasExact)
			}
			if got := tt.expected.String(); got != tt.formatted {
				t.Errorf("String = %q, want %q", got, tt.formatted)
			}
		})
	}
	// Equal expectations compare equal, so they can be used as values.
	equal := []struct {
		a, b eventlog.ExpectedVersion
		want bool
	}{
		{eventlog.Exactly(-1), eventlog.NoStream(), true},
		{eventlog.Exactly(3), eventlog.Exactly(3), true},
		{eventlog.Any(), eventlog.ExpectedVersion{}, true},
		{eventlog.Exactly(0), eventlog.NoStream(), false},
		{eventlog.Exactly(0), eventlog.Any(), false},
		{eventlog.Exactly(3), eventlog.Exactly(4), false},
	}
	for _, e := range equal {
		if (e.a == e.b) != e.want {
			t.Errorf("%v == %v is %v, want %v", e.a, e.b, e.a == e.b, e.want)
		}
	}
}

func TestConcurrencyError(t *testing.T) {
	tests := []struct {
		name string
		err  *eventlog.ConcurrencyError
		msg  string
	}{
		{"exact version", &eventlog.ConcurrencyError{StreamID: "request-1", Expected: eventlog.Exactly(3), Actual: 5},
			"append to request-1: expected version 3, stream is at version 5"},
		{"no stream", &eventlog.ConcurrencyError{StreamID: "company-2", Expected: eventlog.NoStream(), Actual: 0},
			"append to company-2: expected no stream, stream is at version 0"},
		{"stream missing", &eventlog.ConcurrencyError{StreamID: "technician-3", Expected: eventlog.Exactly(0), Actual: -1},
			"append to technician-3: expected version 0, stream is at version -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.msg {
				t.Errorf("Error = %q, want %q", got, tt.msg)
			}
			wrapped := fmt.Errorf("assign request: %w", tt.err)
			for _, err := range []error{tt.err, wrapped} {
				if !errors.Is(err, eventlog.ErrConcurrency) {
					t.Errorf("errors.Is(%v, ErrConcurrency) = false", err)
				}
				if errors.Is(err, eventlog.ErrIDReused) || errors.Is(err, eventlog.ErrBadPosition) {
					t.Errorf("%v matches an unrelated sentinel", err)
				}
				var ce *eventlog.ConcurrencyError
				if !errors.As(err, &ce) || ce != tt.err {
					t.Errorf("errors.As(%v) = %v", err, ce)
				}
			}
		})
	}
	if errors.Is(errors.New("stream changed concurrently"), eventlog.ErrConcurrency) {
		t.Error("an unrelated error with the same text matches ErrConcurrency")
	}
}

func TestPositionCompare(t *testing.T) {
	p := eventlog.NewPosition
	tests := []struct {
		a, b eventlog.Position
		want int
	}{
		{eventlog.Start(), eventlog.Start(), 0},
		{eventlog.Start(), p(0, 1), -1},
		{p(0, 1), eventlog.Start(), 1},
		{p(1, 0), p(0, math.MaxUint64), 1},
		{p(0, math.MaxUint64), p(1, 0), -1},
		{p(5, 3), p(5, 4), -1},
		{p(5, 4), p(5, 3), 1},
		{p(5, 4), p(5, 4), 0},
		{p(4, 9), p(5, 1), -1},
		{p(math.MaxUint64, math.MaxUint64), p(math.MaxUint64, math.MaxUint64-1), 1},
	}
	for _, tt := range tests {
		t.Run(tt.a.String()+" vs "+tt.b.String(), func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.want {
				t.Fatalf("Compare = %d, want %d", got, tt.want)
			}
			if got := tt.b.Compare(tt.a); got != -tt.want {
				t.Fatalf("reverse Compare = %d, want %d", got, -tt.want)
			}
		})
	}
}

func TestPositionStartAndParts(t *testing.T) {
	tests := []struct {
		pos     eventlog.Position
		hi, lo  uint64
		isStart bool
		text    string
	}{
		{eventlog.Start(), 0, 0, true, "0-0"},
		{eventlog.Position{}, 0, 0, true, "0-0"},
		{eventlog.NewPosition(0, 0), 0, 0, true, "0-0"},
		{eventlog.NewPosition(0, 1), 0, 1, false, "0-1"},
		{eventlog.NewPosition(1, 0), 1, 0, false, "1-0"},
		{eventlog.NewPosition(123, 456), 123, 456, false, "123-456"},
		{eventlog.NewPosition(math.MaxUint64, math.MaxUint64), math.MaxUint64, math.MaxUint64, false, "18446744073709551615-18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			hi, lo := tt.pos.Parts()
			if hi != tt.hi || lo != tt.lo {
				t.Errorf("Parts = %d, %d; want %d, %d", hi, lo, tt.hi, tt.lo)
			}
			if tt.pos.IsStart() != tt.isStart {
				t.Errorf("IsStart = %v", tt.pos.IsStart())
			}
			if tt.pos.String() != tt.text {
				t.Errorf("String = %q, want %q", tt.pos.String(), tt.text)
			}
			parsed, err := eventlog.ParsePosition(tt.text)
			if err != nil || parsed != tt.pos {
				t.Errorf("ParsePosition(%q) = %v, %v", tt.text, parsed, err)
			}
			b, err := tt.pos.MarshalText()
			if err != nil || string(b) != tt.text {
				t.Errorf("MarshalText = %q, %v", b, err)
			}
			var back eventlog.Position
			if err := back.UnmarshalText(b); err != nil || back != tt.pos {
				t.Errorf("UnmarshalText = %v, %v", back, err)
			}
		})
	}
}

func TestParsePositionRefuses(t *testing.T) {
	for _, in := range []string{
		"", "-", "1", "12", "1-", "-1", "1--2", "1-2-3", "a-1", "1-a", "+1-2", "1-+2", " 1-2", "1-2 ", "1 -2",
		"0x1-2", "1.0-2", "1_000-2", "18446744073709551616-0", "0-18446744073709551616", "-1-2", "1,2", "1:2", "１-２",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := eventlog.ParsePosition(in)
			if !errors.Is(err, eventlog.ErrBadPosition) {
				t.Fatalf("ParsePosition(%q) = %v, %v; want ErrBadPosition", in, got, err)
			}
			if !got.IsStart() {
				t.Fatalf("ParsePosition(%q) returned %v with its error", in, got)
			}
			// UnmarshalText refuses the same text and leaves the position alone.
			p := eventlog.NewPosition(7, 8)
			if err := p.UnmarshalText([]byte(in)); !errors.Is(err, eventlog.ErrBadPosition) {
				t.Fatalf("UnmarshalText(%q) = %v", in, err)
			}
			if p != eventlog.NewPosition(7, 8) {
				t.Fatalf("UnmarshalText(%q) changed the position to %v", in, p)
			}
		})
	}
}

// Positions travel in JSON (a command's response, a checkpoint) as strings.
func TestPositionJSON(t *testing.T) {
	type checkpoint struct {
		Position eventlog.Position `json:"position"`
	}
	tests := []struct {
		pos  eventlog.Position
		json string
	}{
		{eventlog.Start(), `{"position":"0-0"}`},
		{eventlog.NewPosition(42, 7), `{"position":"42-7"}`},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			data, err := json.Marshal(checkpoint{tt.pos})
			if err != nil || string(data) != tt.json {
				t.Fatalf("Marshal = %s, %v; want %s", data, err, tt.json)
			}
			var back checkpoint
			if err := json.Unmarshal(data, &back); err != nil || back.Position != tt.pos {
				t.Fatalf("Unmarshal = %v, %v", back.Position, err)
			}
		})
	}
	var c checkpoint
	for _, bad := range []string{`{"position":"x"}`, `{"position":12}`, `{"position":"1-"}`} {
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("Unmarshal(%s) accepted", bad)
		}
	}
	// Positions are usable as JSON object keys (per-projection checkpoints).
	m := map[eventlog.Position]string{eventlog.NewPosition(1, 2): "a"}
	data, err := json.Marshal(m)
	if err != nil || string(data) != `{"1-2":"a"}` {
		t.Fatalf("Marshal map = %s, %v", data, err)
	}
	var back map[eventlog.Position]string
	if err := json.Unmarshal(data, &back); err != nil || back[eventlog.NewPosition(1, 2)] != "a" {
		t.Fatalf("Unmarshal map = %v, %v", back, err)
	}
}
