// Package kurrent is the event store on KurrentDB (formerly EventStoreDB), through
// EventStore-Client-Go v4. It implements the port domain/eventlog.Store and passes the shared
// contract suite (adapters/eventstore/storetest) when a server is at hand.
//
// Mapping:
//   - a stream of ours is a stream of the server with the same name ("request-<uuid>"), unless
//     Config.Namespace asks for a prefix;
//   - an event keeps our ID (the client is never left to invent one), our type, our JSON data
//     bytes, and our metadata as JSON user metadata, with content type JSON;
//   - versions are stream revisions; eventlog.Position is the position in $all, parts
//     (commit, prepare), compared in that order as the server orders $all;
//   - system events (streams and types that start with "$") are never returned.
//
// Idempotency. The server deduplicates an append whose event IDs already follow the expected
// revision in the stream, and refuses (wrong expected version) an append that matches only in
// part. With Any it only consults a cache of recent IDs, so the port's promise ("appending
// stored IDs again returns the original result") would not hold. This store therefore never
// sends Any: an Any append reads the stream backwards, returns the original result when the IDs
// are there already, and otherwise appends with the exact revision it saw (retrying when another
// writer moved the stream in between). When the server refuses an exact append, the store looks
// the IDs up the same way before reporting a concurrency error, so a retry that carries a stale
// or a newer expected version but whose events are all stored still returns the original
// result. One gap remains, by the server's design: a retry whose expected version equals the
// stream's current version (the caller re-read the stream after its events were written, and
// asks to append them again on top) is appended again; appends with stale expectations, the
// normal retry, are safe. And IDs are unique per stream only: the server does not notice an ID
// that another stream already holds (eventlog.ErrIDReused is reported within a stream only).
// The price: an Any append whose IDs are new reads the whole stream (backwards, in pages of
// Config.IDScanPageSize); Helpstream's commands append with exact versions, Any is for tools.
//
// Append results. The server answers an append of several events with the position of its
// transaction, not of its last event, and an idempotent append with no position; the store then
// reads the last event back, so that AppendResult.Position is always the last event's position.
//
// Subscriptions use the server-side stream-prefix filter, deliver what has arrived in batches of
// at most MaxBatch, and resubscribe after the last delivered event when the server drops them,
// with a capped, jittered exponential backoff (see Store.Subscribe and Config).
package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Store is the KurrentDB event store. It is safe for concurrent use.
type Store struct {
	client    *esdb.Client
	cfg       Config
	log       *slog.Logger
	ownClient bool
	// subscribe opens one subscription to $all; tests replace it.
	subscribe func(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscription, error)
}

// subscription is what Subscribe needs of *esdb.Subscription.
type subscription interface {
	Recv() *esdb.SubscriptionEvent
	Close() error
}

var _ eventlog.Store = (*Store)(nil)

// New returns a store on an open client. Zero fields of cfg take their defaults; New panics on
// a configuration that Config.Validate rejects (call Validate first for a friendly error).
// Closing the client stays the caller's job.
func New(client *esdb.Client, cfg Config) *Store {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg = cfg.WithDefaults()
	s := &Store{client: client, cfg: cfg, log: cfg.Logger.With("component", "kurrent")}
	s.subscribe = func(ctx context.Context, opts esdb.SubscribeToAllOptions) (subscription, error) {
		return s.client.SubscribeToAll(ctx, opts)
	}
	return s
}

// Open connects to the server named by a connection string, for example
// "esdb://localhost:2113?tls=false" or, for a cluster,
// "esdb://node1:2113,node2:2113,node3:2113?nodePreference=leader" and
// "esdb+discover://cluster.example.com:2113"; kurrentdb:// and kurrentdb+discover:// are
// accepted as synonyms. It checks that the server answers (one read of $all) before returning.
// Close the store to close the connection.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenConfig(ctx, url, Config{})
}

// OpenConfig is Open with a configuration.
func OpenConfig(ctx context.Context, url string, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	normalized, err := NormalizeURL(url)
	if err != nil {
		return nil, err
	}
	conf, err := esdb.ParseConnectionString(normalized)
	if err != nil {
		return nil, fmt.Errorf("kurrent: parse %s: %w", Redact(url), err)
	}
	logger := cfg.Logger.With("component", "esdb-client")
	conf.Logger = func(level esdb.LogLevel, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		switch level {
		case esdb.LogError, esdb.LogWarn:
			// The client logs every dropped stream, cancelled ones included, as an error; the
			// store decides what is worth an error.
			logger.Warn(msg)
		default:
			logger.Debug(msg)
		}
	}
	client, err := esdb.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("kurrent: connect to %s: %w", Redact(url), err)
	}
	s := New(client, cfg)
	s.ownClient = true
	if err := s.ping(ctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("kurrent: %s does not answer: %w", Redact(url), err)
	}
	return s, nil
}

// ping reads the last event of $all, which needs a reachable node and the right to read $all
// (which subscriptions need anyway).
func (s *Store) ping(ctx context.Context) error {
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}, RequiresLeader: s.cfg.RequireLeader}, 1)
	if err != nil {
		return err
	}
	defer rs.Close()
	if _, err := rs.Recv(); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// Head returns the position of the last event of $all (the start of the log when it is empty):
// where a reader that only wants what happens from now on subscribes. It may be a system event
// or another namespace's; ReadAll and Subscribe from it skip those as they skip any.
func (s *Store) Head(ctx context.Context) (_ eventlog.Position, err error) {
	defer func() { err = withContextError(ctx, err) }()
	rs, err := s.client.ReadAll(ctx, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}, RequiresLeader: s.cfg.RequireLeader}, 1)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("read the head of $all: %w", err)
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) {
		return eventlog.Start(), nil
	}
	if err != nil {
		return eventlog.Start(), fmt.Errorf("read the head of $all: %w", err)
	}
	if e := ev.OriginalEvent(); e != nil {
		return ToPosition(e.Position), nil
	}
	return eventlog.Start(), nil
}

// Close closes the connection if Open made it.
func (s *Store) Close() error {
	if s.ownClient {
		return s.client.Close()
	}
	return nil
}

// Client returns the underlying client.
func (s *Store) Client() *esdb.Client { return s.client }

// Append writes events to one stream atomically if the stream matches expected. See the package
// documentation for how retries and Any stay idempotent.
func (s *Store) Append(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (res eventlog.AppendResult, err error) {
	defer func() { err = withContextError(ctx, err) }()
	name, err := StreamName(s.cfg.Namespace, streamID)
	if err != nil {
		return eventlog.AppendResult{}, fmt.Errorf("append: %w", err)
	}
	if len(events) == 0 {
		return s.appendNothing(ctx, streamID, name, expected)
	}
	data, err := ToEventDataBatch(events)
	if err != nil {
		return eventlog.AppendResult{}, fmt.Errorf("append to %s: %w", streamID, err)
	}
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.ID
	}
	if expected.IsAny() {
		return s.appendAny(ctx, streamID, name, ids, data)
	}
	v, _ := expected.Exact()
	res, err = s.write(ctx, name, revisionFor(v), data)
	if err == nil {
		return res, nil
	}
	if !IsWrongExpectedVersion(err) {
		return eventlog.AppendResult{}, MapAppendError(streamID, expected, err)
	}
	// Refused: either someone else wrote first, or these events are stored already (a retry
	// with another expectation than the original's), or some of them are (a bad retry).
	found, err2 := s.lookup(ctx, name, ids)
	if err2 != nil {
		return eventlog.AppendResult{}, fmt.Errorf("append to %s: look up event IDs after a conflict: %w", streamID, err2)
	}
	switch {
	case found.stored:
		return found.result, nil
	case found.partial:
		return eventlog.AppendResult{}, fmt.Errorf("append to %s: %w", streamID, eventlog.ErrIDReused)
	}
	cerr := MapAppendError(streamID, expected, err).(*eventlog.ConcurrencyError)
	cerr.Actual = found.head
	return eventlog.AppendResult{}, cerr
}

// appendAny emulates Any with exact revisions so that stored IDs are always recognised.
func (s *Store) appendAny(ctx context.Context, streamID, name string, ids []uuid.UUID, data []esdb.EventData) (eventlog.AppendResult, error) {
	var lastErr error
	for attempt := 0; attempt < s.cfg.AnyAppendAttempts; attempt++ {
		found, err := s.lookup(ctx, name, ids)
		if err != nil {
			return eventlog.AppendResult{}, fmt.Errorf("append to %s: look up event IDs: %w", streamID, err)
		}
		if found.stored {
			return found.result, nil
		}
		if found.partial {
			return eventlog.AppendResult{}, fmt.Errorf("append to %s: %w", streamID, eventlog.ErrIDReused)
		}
		res, err := s.write(ctx, name, revisionFor(found.head), data)
		if err == nil {
			return res, nil
		}
		if !IsWrongExpectedVersion(err) {
			return eventlog.AppendResult{}, MapAppendError(streamID, eventlog.Any(), err)
		}
		lastErr = err
		if err := ctx.Err(); err != nil {
			return eventlog.AppendResult{}, err
		}
	}
	return eventlog.AppendResult{}, fmt.Errorf("append to %s with any version: the stream kept moving for %d attempts: %w",
		streamID, s.cfg.AnyAppendAttempts, MapAppendError(streamID, eventlog.Any(), lastErr))
}

// write appends and turns the server's answer into the port's result. The server reports the
// position of a multi-event write's transaction, not of its last event, and no position at all
// for some idempotent writes; in those cases the store reads the last event back.
func (s *Store) write(ctx context.Context, name string, rev esdb.ExpectedRevision, data []esdb.EventData) (eventlog.AppendResult, error) {
	wr, err := s.client.AppendToStream(ctx, name, esdb.AppendToStreamOptions{ExpectedRevision: rev, RequiresLeader: s.cfg.RequireLeader}, data...)
	if err != nil {
		return eventlog.AppendResult{}, err
	}
	last := int64(wr.NextExpectedVersion)
	pos := ToPosition(esdb.Position{Commit: wr.CommitPosition, Prepare: wr.PreparePosition})
	// A single event's position is the write's; trust it when it is well formed (commit at or
	// after prepare), otherwise (no position on an idempotent write, say) read it back.
	if len(data) == 1 && wr.PreparePosition > 0 && wr.CommitPosition >= wr.PreparePosition {
		return eventlog.AppendResult{NextExpected: last, Position: pos}, nil
	}
	ev, err := s.readOne(ctx, name, last)
	if err != nil {
		return eventlog.AppendResult{}, fmt.Errorf("read back the appended event %s@%d: %w", name, last, err)
	}
	if ev == nil || ev.EventID != data[len(data)-1].EventID {
		// The server's revision does not point at our last event; find it.
		found, err := s.lookup(ctx, name, idsOf(data))
		if err != nil {
			return eventlog.AppendResult{}, err
		}
		if !found.stored {
			return eventlog.AppendResult{}, fmt.Errorf("appended events not found in %s after a successful append", name)
		}
		return found.result, nil
	}
	return eventlog.AppendResult{NextExpected: int64(ev.EventNumber), Position: ToPosition(ev.Position)}, nil
}

// withContextError makes an error that ctx's end caused match context.Canceled or
// context.DeadlineExceeded (the client reports them as gRPC errors).
func withContextError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil || errors.Is(err, ctx.Err()) {
		return err
	}
	return fmt.Errorf("%w: %w", ctx.Err(), err)
}

func idsOf(data []esdb.EventData) []uuid.UUID {
	ids := make([]uuid.UUID, len(data))
	for i, d := range data {
		ids[i] = d.EventID
	}
	return ids
}

// appendNothing checks the expectation and returns the stream's state, writing nothing.
func (s *Store) appendNothing(ctx context.Context, streamID, name string, expected eventlog.ExpectedVersion) (eventlog.AppendResult, error) {
	last, err := s.lastEvent(ctx, name)
	if err != nil {
		return eventlog.AppendResult{}, fmt.Errorf("append to %s: %w", streamID, err)
	}
	head := int64(-1)
	var pos eventlog.Position
	if last != nil {
		head, pos = int64(last.EventNumber), ToPosition(last.Position)
	}
	if v, exact := expected.Exact(); exact && v != head {
		return eventlog.AppendResult{}, &eventlog.ConcurrencyError{StreamID: streamID, Expected: expected, Actual: head}
	}
	return eventlog.AppendResult{NextExpected: head, Position: pos}, nil
}

// idLookup is what a backwards scan of a stream found about a batch of IDs.
type idLookup struct {
	head    int64 // the stream's last version, -1 when it has none
	stored  bool  // every ID is stored, consecutively and in order
	partial bool  // some are stored, or all but not as one batch in order
	result  eventlog.AppendResult
}

type foundEvent struct {
	version  int64
	position eventlog.Position
	ok       bool
}

// lookup reads a stream backwards, page by page, until it has seen every ID or the stream's
// first event. Retries come soon after the original append, so the IDs are usually on the first
// page; a stream without them is read to its start.
func (s *Store) lookup(ctx context.Context, name string, ids []uuid.UUID) (idLookup, error) {
	want := make(map[uuid.UUID]int, len(ids))
	for i, id := range ids {
		want[id] = i
	}
	found := make([]foundEvent, len(ids))
	out := idLookup{head: -1}
	nfound := 0
	var from esdb.StreamPosition = esdb.End{}
	page := uint64(s.cfg.IDScanPageSize)
	first := true
scan:
	for {
		rs, err := s.client.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: esdb.Backwards, From: from, RequiresLeader: s.cfg.RequireLeader}, page)
		if err != nil {
			if IsNotFound(err) {
				break
			}
			return idLookup{}, err
		}
		var n uint64
		var lowest uint64
		for {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				if IsNotFound(err) {
					break scan
				}
				return idLookup{}, err
			}
			if ev.Event == nil {
				continue
			}
			n++
			e := ev.Event
			if first {
				out.head = int64(e.EventNumber)
				first = false
			}
			lowest = e.EventNumber
			if i, ok := want[e.EventID]; ok && !found[i].ok {
				found[i] = foundEvent{version: int64(e.EventNumber), position: ToPosition(e.Position), ok: true}
				nfound++
			}
		}
		rs.Close()
		if nfound == len(ids) || n < page || lowest == 0 {
			break
		}
		from = esdb.Revision(lowest - 1)
	}
	return judge(out, found, nfound), nil
}

func judge(out idLookup, found []foundEvent, nfound int) idLookup {
	if nfound == 0 {
		return out
	}
	if nfound < len(found) {
		out.partial = true
		return out
	}
	for i := range found {
		if found[i].version != found[0].version+int64(i) {
			out.partial = true
			return out
		}
	}
	last := found[len(found)-1]
	out.stored = true
	out.result = eventlog.AppendResult{NextExpected: last.version, Position: last.position}
	return out
}

// lastEvent returns a stream's last event, or nil when the stream does not exist.
func (s *Store) lastEvent(ctx context.Context, name string) (*esdb.RecordedEvent, error) {
	return s.readSingle(ctx, name, esdb.Backwards, esdb.End{})
}

// readOne returns the event with a given version, or nil.
func (s *Store) readOne(ctx context.Context, name string, version int64) (*esdb.RecordedEvent, error) {
	return s.readSingle(ctx, name, esdb.Forwards, esdb.Revision(uint64(version)))
}

// readSingle reads the first event of a stream read from from in direction, or nil when there
// is none (or no stream).
func (s *Store) readSingle(ctx context.Context, name string, direction esdb.Direction, from esdb.StreamPosition) (*esdb.RecordedEvent, error) {
	rs, err := s.client.ReadStream(ctx, name, esdb.ReadStreamOptions{Direction: direction, From: from, RequiresLeader: s.cfg.RequireLeader}, 1)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	defer rs.Close()
	ev, err := rs.Recv()
	if errors.Is(err, io.EOF) || IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ev.Event, nil
}

// ReadStream returns a stream's events with version >= from, in order; a missing stream reads as
// no events.
func (s *Store) ReadStream(ctx context.Context, streamID string, from int64, opts eventlog.ReadOptions) (_ []eventlog.RecordedEvent, err error) {
	defer func() { err = withContextError(ctx, err) }()
	name, err := StreamName(s.cfg.Namespace, streamID)
	if err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	count := uint64(math.MaxInt64)
	if opts.Limit > 0 {
		count = uint64(opts.Limit)
	}
	rs, err := s.client.ReadStream(ctx, name, ReadStreamOptions(s.cfg, from), count)
	if err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read stream %s: %w", streamID, err)
	}
	defer rs.Close()
	var out []eventlog.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			if IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("read stream %s: %w", streamID, err)
		}
		if ev.Event == nil || strings.HasPrefix(ev.Event.EventType, "$") {
			continue
		}
		rec, err := FromRecordedEvent(ev.Event, s.cfg.Namespace)
		if err != nil {
			return nil, fmt.Errorf("read stream %s: %w", streamID, err)
		}
		out = append(out, rec)
	}
}

// DefaultReadAllLimit is the page ReadAll returns when ReadOptions.Limit is 0.
const DefaultReadAllLimit = 1000

// ReadAll returns our events of $all strictly after from, in order, skipping system events and
// other namespaces' streams.
func (s *Store) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) (_ []eventlog.RecordedEvent, err error) {
	defer func() { err = withContextError(ctx, err) }()
	limit := opts.Limit
	if limit <= 0 {
		limit = DefaultReadAllLimit
	}
	out := make([]eventlog.RecordedEvent, 0, min(limit, DefaultReadAllLimit))
	cursor := from
	for len(out) < limit {
		// One more than needed: the server includes the event at the cursor, which we drop.
		count := uint64(min(limit-len(out), s.cfg.ReadPageSize) + 1)
		rs, err := s.client.ReadAll(ctx, ReadAllOptions(s.cfg, cursor), count)
		if err != nil {
			return nil, fmt.Errorf("read all from %s: %w", cursor, err)
		}
		var n uint64
		for len(out) < limit {
			ev, err := rs.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("read all from %s: %w", cursor, err)
			}
			n++
			e := ev.Event
			if e == nil {
				continue
			}
			pos := ToPosition(e.Position)
			if !cursor.IsStart() && pos.Compare(cursor) <= 0 {
				continue
			}
			cursor = pos
			if IsSystemEvent(e) || !strings.HasPrefix(e.StreamID, s.cfg.Namespace) {
				continue
			}
			rec, err := FromRecordedEvent(e, s.cfg.Namespace)
			if err != nil {
				rs.Close()
				return nil, fmt.Errorf("read all: %w", err)
			}
			out = append(out, rec)
		}
		rs.Close()
		if n < count {
			break // the end of the log
		}
	}
	return out, nil
}

var _ eventlog.HeadReader = (*Store)(nil)
