package kurrent

// The pure translations between the event-store port (domain/eventlog) and the client's types
// (esdb). They touch no server, so the unit tests exercise them everywhere.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ExpectedRevision maps the port's expectation to the client's: NoStream → esdb.NoStream{},
// Exactly(n) → esdb.Revision(n), Any → esdb.Any{}. Store.Append does not send Any as such (see
// Append); the mapping is here for completeness and for tools.
func ExpectedRevision(e eventlog.ExpectedVersion) esdb.ExpectedRevision {
	if e.IsAny() {
		return esdb.Any{}
	}
	if e.IsNoStream() {
		return esdb.NoStream{}
	}
	v, _ := e.Exact()
	return esdb.Revision(uint64(v))
}

// revisionFor is the exact expectation for a stream whose last version is head (-1: no stream).
func revisionFor(head int64) esdb.ExpectedRevision {
	if head < 0 {
		return esdb.NoStream{}
	}
	return esdb.Revision(uint64(head))
}

// ToPosition turns a position of $all into the port's opaque position: (commit, prepare).
func ToPosition(p esdb.Position) eventlog.Position {
	return eventlog.NewPosition(p.Commit, p.Prepare)
}

// FromPosition turns a position this store issued back into the client's.
func FromPosition(p eventlog.Position) esdb.Position {
	commit, prepare := p.Parts()
	return esdb.Position{Commit: commit, Prepare: prepare}
}

// AllPosition is where a read or subscription of $all starts: esdb.Start{} for the start of the
// log, otherwise the position itself. Reads of $all include the event at the position,
// subscriptions do not; the store skips it in reads so that both are exclusive.
func AllPosition(p eventlog.Position) esdb.AllPosition {
	if p.IsStart() {
		return esdb.Start{}
	}
	return FromPosition(p)
}

// EncodeMetadata renders metadata as the JSON user metadata of an event.
func EncodeMetadata(m eventlog.Metadata) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode metadata: %w", err)
	}
	return b, nil
}

// DecodeMetadata reads an event's user metadata. Empty metadata (an event written by another
// tool) reads as the zero Metadata; fields Helpstream does not know are ignored.
func DecodeMetadata(b []byte) (eventlog.Metadata, error) {
	var m eventlog.Metadata
	if len(bytes.TrimSpace(b)) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return eventlog.Metadata{}, fmt.Errorf("decode metadata: %w", err)
	}
	return m, nil
}

// ErrNoEventID is returned for an event without an ID: the client would invent one, which would
// make a retried append write the event twice.
var ErrNoEventID = errors.New("event has no ID")

// ToEventData maps one event to the client's form: our ID (never invented by the client), our
// type, JSON content type, the data bytes unchanged, and the metadata as JSON user metadata.
func ToEventData(e eventlog.EventData) (esdb.EventData, error) {
	if e.ID == uuid.Nil {
		return esdb.EventData{}, ErrNoEventID
	}
	if e.Type == "" {
		return esdb.EventData{}, fmt.Errorf("event %s has no type", e.ID)
	}
	if strings.HasPrefix(e.Type, "$") {
		return esdb.EventData{}, fmt.Errorf("event %s: type %q is reserved for system events", e.ID, e.Type)
	}
	meta, err := EncodeMetadata(e.Metadata)
	if err != nil {
		return esdb.EventData{}, fmt.Errorf("event %s: %w", e.ID, err)
	}
	data := []byte(e.Data)
	if data == nil {
		data = []byte{}
	}
	return esdb.EventData{
		EventID:     e.ID,
		EventType:   e.Type,
		ContentType: esdb.ContentTypeJson,
		Data:        data,
		Metadata:    meta,
	}, nil
}

// ToEventDataBatch maps a batch and checks that no ID appears twice in it.
func ToEventDataBatch(events []eventlog.EventData) ([]esdb.EventData, error) {
	out := make([]esdb.EventData, len(events))
	seen := make(map[uuid.UUID]struct{}, len(events))
	for i, e := range events {
		d, err := ToEventData(e)
		if err != nil {
			return nil, fmt.Errorf("event %d of %d: %w", i, len(events), err)
		}
		if _, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("%w: event ID %s appears twice in one append", eventlog.ErrIDReused, e.ID)
		}
		seen[e.ID] = struct{}{}
		out[i] = d
	}
	return out, nil
}

// IsSystemEvent reports whether an event of $all belongs to the server (streams and types that
// start with "$": statistics, metadata, projections' links) rather than to Helpstream.
func IsSystemEvent(e *esdb.RecordedEvent) bool {
	return e == nil || strings.HasPrefix(e.StreamID, "$") || strings.HasPrefix(e.EventType, "$")
}

// FromRecordedEvent maps a stored event to the port's form. namespace is stripped from the
// stream name (see Config.Namespace); an event outside the namespace is an error.
func FromRecordedEvent(e *esdb.RecordedEvent, namespace string) (eventlog.RecordedEvent, error) {
	if e == nil {
		return eventlog.RecordedEvent{}, errors.New("no event (an unresolved link?)")
	}
	stream, ok := strings.CutPrefix(e.StreamID, namespace)
	if !ok {
		return eventlog.RecordedEvent{}, fmt.Errorf("stream %q is outside namespace %q", e.StreamID, namespace)
	}
	meta, err := DecodeMetadata(e.UserMetadata)
	if err != nil {
		return eventlog.RecordedEvent{}, fmt.Errorf("event %s (%s@%d): %w", e.EventID, e.StreamID, e.EventNumber, err)
	}
	return eventlog.RecordedEvent{
		ID:         e.EventID,
		StreamID:   stream,
		Version:    int64(e.EventNumber),
		Type:       e.EventType,
		Data:       json.RawMessage(e.Data),
		Metadata:   meta,
		Position:   ToPosition(e.Position),
		RecordedAt: e.CreatedDate,
	}, nil
}

// StreamName is the server's name for one of our streams.
func StreamName(namespace, streamID string) (string, error) {
	if streamID == "" {
		return "", errors.New("empty stream ID")
	}
	if strings.HasPrefix(streamID, "$") {
		return "", fmt.Errorf("stream ID %q: $ streams belong to the server", streamID)
	}
	return namespace + streamID, nil
}

// SubscriptionFilter is the server-side filter of a subscription to $all: the namespaced stream
// prefixes when some are given, the namespace alone when it is set, and otherwise a filter that
// drops system events (the store drops them on the client too).
func SubscriptionFilter(namespace string, prefixes []string) *esdb.SubscriptionFilter {
	if len(prefixes) > 0 {
		ps := make([]string, len(prefixes))
		for i, p := range prefixes {
			ps[i] = namespace + p
		}
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: ps}
	}
	if namespace != "" {
		return &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{namespace}}
	}
	return esdb.ExcludeSystemEventsFilter()
}

// SubscribeOptions builds the options of one subscription to $all that starts after from.
func SubscribeOptions(cfg Config, from eventlog.Position, prefixes []string) esdb.SubscribeToAllOptions {
	cfg = cfg.WithDefaults()
	return esdb.SubscribeToAllOptions{
		From:               AllPosition(from),
		Filter:             SubscriptionFilter(cfg.Namespace, prefixes),
		MaxSearchWindow:    cfg.MaxSearchWindow,
		CheckpointInterval: 1,
		RequiresLeader:     cfg.RequireLeader,
	}
}

// ReadAllOptions builds the options of one forward page of $all starting at from (inclusive on
// the server; the store drops the event at from).
func ReadAllOptions(cfg Config, from eventlog.Position) esdb.ReadAllOptions {
	return esdb.ReadAllOptions{
		Direction:      esdb.Forwards,
		From:           AllPosition(from),
		RequiresLeader: cfg.RequireLeader,
	}
}

// ReadStreamOptions builds the options of a forward read of one stream from version from.
func ReadStreamOptions(cfg Config, from int64) esdb.ReadStreamOptions {
	if from < 0 {
		from = 0
	}
	return esdb.ReadStreamOptions{
		Direction:      esdb.Forwards,
		From:           esdb.Revision(uint64(from)),
		RequiresLeader: cfg.RequireLeader,
	}
}

// ErrorCode returns the client's error code of err, and false when err is nil or carries none.
func ErrorCode(err error) (esdb.ErrorCode, bool) {
	if err == nil {
		return 0, false
	}
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code(), true
	}
	return 0, false
}

// IsNotFound reports whether err says a stream does not exist.
func IsNotFound(err error) bool {
	code, ok := ErrorCode(err)
	return ok && code == esdb.ErrorCodeResourceNotFound
}

// IsWrongExpectedVersion reports whether err is the server's optimistic-concurrency refusal.
func IsWrongExpectedVersion(err error) bool {
	code, ok := ErrorCode(err)
	return ok && code == esdb.ErrorCodeWrongExpectedVersion
}

// The client renders the server's refusal as "wrong expected version: expecting 'E' but got 'C'"
// where C is a revision or "no_stream".
var wrongVersionText = regexp.MustCompile(`but got '([^']*)'`)

// ActualVersion extracts the stream's current version from a wrong-expected-version error: the
// revision, -1 for "no_stream", and false when the error does not say.
func ActualVersion(err error) (int64, bool) {
	if err == nil {
		return 0, false
	}
	m := wrongVersionText.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	if m[1] == "no_stream" {
		return -1, true
	}
	v, perr := strconv.ParseInt(m[1], 10, 64)
	if perr != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// MapAppendError turns an append error into the port's: a wrong expected version becomes a
// *eventlog.ConcurrencyError (Actual from the error when it carries it, else -1), everything
// else is wrapped with the stream's name.
func MapAppendError(streamID string, expected eventlog.ExpectedVersion, err error) error {
	code, _ := ErrorCode(err)
	return MapAppendErrorCode(streamID, expected, code, err)
}

// MapAppendErrorCode is MapAppendError for an error whose client code is already known (the
// client's *esdb.Error cannot be built outside its package, so tests start here).
func MapAppendErrorCode(streamID string, expected eventlog.ExpectedVersion, code esdb.ErrorCode, err error) error {
	if err == nil {
		return nil
	}
	if code == esdb.ErrorCodeWrongExpectedVersion {
		actual, ok := ActualVersion(err)
		if !ok {
			actual = -1
		}
		return &eventlog.ConcurrencyError{StreamID: streamID, Expected: expected, Actual: actual}
	}
	return fmt.Errorf("append to %s: %w", streamID, err)
}

// IsPermanent reports whether an error will not go away by retrying the same request.
func IsPermanent(err error) bool {
	code, ok := ErrorCode(err)
	return ok && IsPermanentCode(code)
}

// IsPermanentCode reports whether a client error code is one that retrying cannot cure: access
// denied, failed authentication, a feature the server lacks, a deleted stream, bad data.
func IsPermanentCode(code esdb.ErrorCode) bool {
	switch code {
	case esdb.ErrorCodeAccessDenied, esdb.ErrorCodeUnauthenticated, esdb.ErrorCodeUnsupportedFeature,
		esdb.ErrorCodeStreamDeleted, esdb.ErrorCodeParsing:
		return true
	}
	return false
}

// Schemes are the URL schemes Open accepts.
var Schemes = []string{"esdb", "esdb+discover", "kurrentdb", "kurrentdb+discover", "kurrent", "kurrent+discover"}

// IsURL reports whether url names a KurrentDB server (one of Schemes).
func IsURL(rawURL string) bool {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return false
	}
	scheme = strings.ToLower(scheme)
	for _, s := range Schemes {
		if scheme == s {
			return true
		}
	}
	return false
}

// NormalizeURL rewrites the kurrentdb:// and kurrent:// spellings to the esdb:// ones that
// EventStore-Client-Go v4 parses (the rest of the connection string is kept as is).
func NormalizeURL(rawURL string) (string, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok || !IsURL(rawURL) {
		return "", fmt.Errorf("not a KurrentDB connection string (want %s://…): %q", strings.Join(Schemes, "://, "), Redact(rawURL))
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "kurrentdb", "kurrent":
		scheme = "esdb"
	case "kurrentdb+discover", "kurrent+discover":
		scheme = "esdb+discover"
	}
	return scheme + "://" + rest, nil
}

// Redact hides the password of a connection string so that it can be logged or stored. It
// works on cluster strings too ("esdb://user:pass@a:2113,b:2113"), which net/url rejects.
func Redact(rawURL string) string {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return rawURL
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return rawURL
	}
	user, _, hasPassword := strings.Cut(authority[:at], ":")
	if !hasPassword {
		return rawURL
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
