// Package eventlog is the event-store port: what the domain and the application need from any
// store that keeps Helpstream's events (PostgreSQL by default, KurrentDB in production clusters).
//
// A store keeps streams ("request-<uuid>", "technician-<uuid>", "company-<uuid>"), each an ordered
// list of events numbered from 0, and one global log of every event in commit order. Positions in
// the global log are opaque: only the store that issued a Position knows what its parts mean;
// everyone else compares, stores and prints them.
package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EventData is an event on its way into the store.
type EventData struct {
	// ID identifies the event everywhere. Appending an ID that is already stored is a no-op that
	// returns the original result, which makes retries safe.
	ID uuid.UUID
	// Type is the stable, versioned name, for example "request.submitted.v1".
	Type string
	// Data is the JSON payload.
	Data json.RawMessage
	// Metadata travels with the event: actor, times, correlation, causation, hash chain.
	Metadata Metadata
}

// Metadata is what every event carries besides its payload.
type Metadata struct {
	// Actor says who caused the event: "customer:<request-id>", "technician:<uuid>",
	// "admin", "system".
	Actor string `json:"actor"`
	// OccurredAt is when the decision was taken, in UTC.
	OccurredAt time.Time `json:"occurred_at"`
	// CorrelationID groups every event caused by one outside request.
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID is the ID of the command or event that caused this one.
	CausationID string `json:"causation_id,omitempty"`
	// PreviousHash and Hash form the per-stream hash chain (hex SHA-256); see Chain.
	PreviousHash string `json:"previous_hash,omitempty"`
	Hash         string `json:"hash,omitempty"`
	// Decision, on an event a process manager appended, says that the decision was automatic,
	// who took it and why; nil on every event a person caused. The hash chain covers it when
	// present, and only then, so events written before it existed keep their hashes.
	Decision *Decision `json:"decision,omitempty"`
}

// Decision is why a process manager appended an event.
type Decision struct {
	// By names the manager: DecisionAutoAssignment or DecisionReassignment.
	By string `json:"by"`
	// Rule is the rule that chose, such as "round-robin" or "least-busy".
	Rule string `json:"rule,omitempty"`
	// Reason says why in words a person reads, such as "away_limit: Alice was Away 10m0s with
	// 2 unanswered requests".
	Reason string `json:"reason,omitempty"`
}

// Who decides automatically (Decision.By).
const (
	DecisionAutoAssignment = "auto-assignment"
	DecisionReassignment   = "reassignment"
)

// RecordedEvent is an event as the store holds it.
type RecordedEvent struct {
	ID       uuid.UUID
	StreamID string
	// Version is the event's number in its stream, from 0.
	Version  int64
	Type     string
	Data     json.RawMessage
	Metadata Metadata
	// Position is the event's place in the global log.
	Position Position
	// RecordedAt is when the store committed the event.
	RecordedAt time.Time
	// StoredData is the payload as the store holds it, set only by a reader that gave Data
	// another form (internal/privacy decrypts personal fields): the hash chain covers the
	// stored bytes, so chain checks use these when present.
	StoredData json.RawMessage
}

// ExpectedVersion is what an append requires of the stream: that it does not exist yet, that its
// last event has an exact version, or nothing at all.
type ExpectedVersion struct {
	kind    expectedKind
	version int64
}

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectExact
)

// Any accepts the stream in whatever state it is.
func Any() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream requires that the stream has no event yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// Exactly requires that the stream's last event has version v. Exactly(-1) is NoStream.
func Exactly(v int64) ExpectedVersion {
	if v < 0 {
		return NoStream()
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// IsAny reports whether the expectation accepts any state.
func (e ExpectedVersion) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether the expectation requires an empty stream.
func (e ExpectedVersion) IsNoStream() bool { return e.kind == expectNoStream }

// Exact returns the required last version and true, or false when none is required.
// For NoStream it returns -1 and true: the stream's "last version" must be -1.
func (e ExpectedVersion) Exact() (int64, bool) {
	switch e.kind {
	case expectExact:
		return e.version, true
	case expectNoStream:
		return -1, true
	default:
		return 0, false
	}
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return "version " + strconv.FormatInt(e.version, 10)
	default:
		return "any"
	}
}

// ErrConcurrency is matched (errors.Is) by every *ConcurrencyError.
var ErrConcurrency = errors.New("stream changed concurrently")

// ConcurrencyError says an append's expected version did not match the stream. Nothing of the
// append was written.
type ConcurrencyError struct {
	StreamID string
	Expected ExpectedVersion
	// Actual is the stream's last version when known, -1 for a missing stream.
	Actual int64
}

func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("append to %s: expected %s, stream is at version %d", e.StreamID, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConcurrency) true.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }

// ErrIDReused is returned when an event ID that is already stored is appended again as part of a
// different stream or a different batch: the retry does not match the original.
var ErrIDReused = errors.New("event ID already used by another append")

// AppendResult tells where an append landed.
type AppendResult struct {
	// NextExpected is the stream's last version after the append.
	NextExpected int64
	// Position is the global position of the last appended event.
	Position Position
}

// Direction-free reading options.
type ReadOptions struct {
	// Limit caps the number of events returned; 0 means the store's default page (1000 for
	// ReadAll, no cap for ReadStream).
	Limit int
}

// SubscribeOptions shape a catch-up subscription.
type SubscribeOptions struct {
	// StreamPrefixes keeps only events whose stream ID starts with one of them; empty keeps all.
	StreamPrefixes []string
	// MaxBatch caps how many events one handler call receives; 0 means 500.
	MaxBatch int
}

// Handler receives events of a subscription in global order, in batches. Returning an error
// stops the subscription with that error; the next subscription resumes from the last position
// the caller recorded.
type Handler func(ctx context.Context, batch []RecordedEvent) error

// Store is the event-store port. Every implementation passes the contract suite in
// adapters/eventstore/storetest.
type Store interface {
	// Append writes events to one stream atomically if the stream matches expected. A mismatch
	// returns a *ConcurrencyError and writes nothing. Appending events whose IDs are all stored
	// already, in that stream and order, returns the original result and writes nothing.
	Append(ctx context.Context, streamID string, expected ExpectedVersion, events ...EventData) (AppendResult, error)
	// ReadStream returns a stream's events with version >= from, in order. A missing stream
	// returns no events and no error.
	ReadStream(ctx context.Context, streamID string, from int64, opts ReadOptions) ([]RecordedEvent, error)
	// ReadAll returns events of the global log strictly after position from, in order, reading
	// only what no later commit can precede. Start() reads from the beginning.
	ReadAll(ctx context.Context, from Position, opts ReadOptions) ([]RecordedEvent, error)
	// Subscribe delivers every event after from, first the backlog then live, until ctx ends or
	// the handler fails. It never skips an event, even when transactions commit out of order.
	Subscribe(ctx context.Context, from Position, opts SubscribeOptions, handle Handler) error
}

// Position is a point in the global log, issued by a store. The zero Position is the start.
type Position struct {
	hi, lo uint64
}

// Start is the position before the first event.
func Start() Position { return Position{} }

// NewPosition builds a position from a store's own two parts. Only stores call it.
func NewPosition(hi, lo uint64) Position { return Position{hi: hi, lo: lo} }

// Parts returns the store's own two parts. Only the store that issued the position reads them.
func (p Position) Parts() (hi, lo uint64) { return p.hi, p.lo }

// IsStart reports whether p is the start of the log.
func (p Position) IsStart() bool { return p == Position{} }

// Compare orders positions of one store: -1, 0 or +1.
func (p Position) Compare(q Position) int {
	switch {
	case p.hi < q.hi:
		return -1
	case p.hi > q.hi:
		return 1
	case p.lo < q.lo:
		return -1
	case p.lo > q.lo:
		return 1
	}
	return 0
}

// String renders the position as "<hi>-<lo>", the form ParsePosition reads back.
func (p Position) String() string {
	return strconv.FormatUint(p.hi, 10) + "-" + strconv.FormatUint(p.lo, 10)
}

// ErrBadPosition is returned by ParsePosition for text it cannot read.
var ErrBadPosition = errors.New("not a log position")

// ParsePosition reads a position written by Position.String.
func ParsePosition(s string) (Position, error) {
	hiText, loText, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	hi, err := strconv.ParseUint(hiText, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	lo, err := strconv.ParseUint(loText, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("%w: %q", ErrBadPosition, s)
	}
	return Position{hi: hi, lo: lo}, nil
}

// MarshalText makes positions JSON strings.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a position from its text form.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// HeadReader is what a Store may offer beside the port: the position of the last event ReadAll
// would return now (Start for an empty log), found without reading the log. A reader that only
// wants what happens from now on, such as the console's live updates, subscribes from there.
type HeadReader interface {
	Head(ctx context.Context) (Position, error)
}

// DeliveredReader is what a Store may offer beside the port: the log read up to a position it
// has delivered already (a subscriber's checkpoint), without waiting for its delivery horizon.
// Every event up to such a position is committed and no other can appear before it, so a
// reader that must reach it (a rebuild about to take over from the live projector) need not
// wait for an unrelated long transaction that holds ReadAll back.
type DeliveredReader interface {
	ReadDelivered(ctx context.Context, from, until Position, opts ReadOptions) ([]RecordedEvent, error)
}

// StreamsReader is what a Store may offer beside the port: several whole streams read in one
// round trip. A command that needs the request and the technician acting on it loads both at
// once when its store can.
type StreamsReader interface {
	// ReadStreams returns every event of each named stream, in order, keyed by stream ID;
	// missing streams have no key.
	ReadStreams(ctx context.Context, streamIDs []string) (map[string][]RecordedEvent, error)
}

// AppendFinder is what a Store may offer beside the port: where an earlier append that stored
// a given event ID landed. A command retried after its first attempt's answer was lost (the
// process killed between the append and the answer) looks its deterministic first event ID up
// and answers as the first attempt would have, instead of deciding again on a state it has
// already changed itself.
type AppendFinder interface {
	// FindAppend returns the result of the append to streamID whose events include eventID
	// (NextExpected and Position of that append's last event), and false when streamID holds
	// no such event.
	FindAppend(ctx context.Context, streamID string, eventID uuid.UUID) (AppendResult, bool, error)
}

// StreamVersion is a stream at a version: what a decision read of it. Version -1 is a stream
// with no event.
type StreamVersion struct {
	StreamID string
	Version  int64
}

// CheckedAppender is what a Store may offer beside the port: an append that also requires, in
// the same atomic step, that the other streams a decision read are still at the versions it
// read them at, and that reports where each event landed. A command that decided on cached
// state (a technician's access, a company's portals) writes in one round trip and learns in
// the same one whether anything it relied on changed meanwhile.
type CheckedAppender interface {
	// AppendChecked appends events to streamID like Store.Append if the stream matches expected
	// and every stream of reads is at its version. Any mismatch writes nothing and returns a
	// *ConcurrencyError naming a stream that did not match (streamID or one of reads). It
	// returns one result per event, in order: NextExpected is that event's version, Position
	// its place in the global log. Appending events whose IDs are all stored already, in that
	// stream and order, returns the original results and writes nothing.
	AppendChecked(ctx context.Context, streamID string, expected ExpectedVersion, reads []StreamVersion, events ...EventData) ([]AppendResult, error)
}
