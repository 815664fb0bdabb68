package app

import (
	"container/list"
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// Defaults of the aggregate cache (Config.CachedStreams, Config.CachedBytes).
const (
	DefaultCachedStreams = 100_000
	DefaultCachedBytes   = 64 << 20
)

// aggregate is a domain object a command decides on: a request, a company, a technician, an
// auditor.
type aggregate interface {
	Changes() []eventlog.Event
}

// streamKind tells the command path how to fold, copy and weigh one kind of aggregate.
type streamKind struct {
	name  string
	codec *eventlog.Codec
	// fold builds the aggregate from its first events (agg nil) or brings it up to date with
	// later ones; agg is a copy the caller owns.
	fold func(agg aggregate, later []eventlog.Event) (aggregate, error)
	// clone copies an aggregate without its uncommitted changes.
	clone func(aggregate) aggregate
	// size is roughly what the aggregate holds in memory, in bytes.
	size func(aggregate) int
}

// foldable is what the command path needs of an aggregate's Go type: bring it up to date with
// later events, and copy it.
type foldable[A any] interface {
	aggregate
	Fold(later []eventlog.Event)
	Clone() A
}

// aggregateKind is a streamKind that knows its aggregate's Go type and how its streams are
// named: what commands and queries use to reach one request, company or technician by ID.
type aggregateKind[A foldable[A]] struct {
	*streamKind
	streamOf    func(id uuid.UUID) string
	fromHistory func(history []eventlog.Event) (A, error)
}

func newAggregateKind[A foldable[A]](name string, codec *eventlog.Codec, streamOf func(uuid.UUID) string,
	fromHistory func([]eventlog.Event) (A, error), size func(A) int) *aggregateKind[A] {
	return &aggregateKind[A]{
		streamKind: &streamKind{
			name:  name,
			codec: codec,
			fold: func(agg aggregate, later []eventlog.Event) (aggregate, error) {
				if agg == nil {
					return created(fromHistory(later))
				}
				agg.(A).Fold(later)
				return agg, nil
			},
			clone: func(agg aggregate) aggregate { return agg.(A).Clone() },
			size:  func(agg aggregate) int { return size(agg.(A)) },
		},
		streamOf:    streamOf,
		fromHistory: fromHistory,
	}
}

func requestKind() *aggregateKind[*request.Request] {
	return newAggregateKind("request", request.Codec(), request.Stream, request.FromHistory, func(r *request.Request) int {
		c, s := r.Customer(), r.Source()
		return 256 + len(r.Description()) + len(c.Name) + len(c.Email) + len(s.IP) + len(s.OS) + len(s.OSVersion) + len(s.Browser)
	})
}

func companyKind() *aggregateKind[*directory.Company] {
	return newAggregateKind("company", directory.Codec(), directory.CompanyStream, directory.CompanyFromHistory, func(c *directory.Company) int {
		n := 128 + len(c.Name())
		for _, p := range c.Portals() {
			n += 48 + len(p.Name)
		}
		return n
	})
}

func technicianKind() *aggregateKind[*directory.Technician] {
	return newAggregateKind("technician", directory.Codec(), directory.TechnicianStream, directory.TechnicianFromHistory, func(t *directory.Technician) int {
		return 192 + len(t.Name()) + len(t.Email()) + 16*len(t.Companies())
	})
}

func auditorKind() *aggregateKind[*directory.Auditor] {
	return newAggregateKind("auditor", directory.Codec(), directory.AuditorStream, directory.AuditorFromHistory, func(a *directory.Auditor) int {
		return 160 + len(a.Name()) + len(a.Email()) + 16*len(a.Companies())
	})
}

func policyKind() *aggregateKind[*routing.Policy] {
	return newAggregateKind("routing policy", routing.Codec(), routing.Stream, routing.PolicyFromHistory, func(p *routing.Policy) int {
		return 128 + 24*len(p.Settings().Capacities)
	})
}

func serviceLevelKind() *aggregateKind[*servicelevel.Policy] {
	return newAggregateKind("service levels", servicelevel.Codec(), servicelevel.Stream, servicelevel.FromHistory, func(p *servicelevel.Policy) int {
		return 160 + 24*len(p.Hours().Openings())
	})
}

func retentionKind() *aggregateKind[*retention.Policy] {
	return newAggregateKind("retention", retention.Codec(), retention.Stream, retention.FromHistory, func(*retention.Policy) int {
		return 96 // a company ID and a number of days, whatever was set
	})
}

// notFound is the error for an ID whose stream has no event.
func (k *aggregateKind[A]) notFound(id uuid.UUID) error {
	return fmt.Errorf("%s %s: %w", k.name, id, ErrNotFound)
}

// found returns the aggregate of id's stream from its state s, obtained with err; a stream
// with no event is ErrNotFound.
func (k *aggregateKind[A]) found(id uuid.UUID, s *streamState, err error) (A, error) {
	var none A
	if err != nil {
		return none, err
	}
	if !s.exists() {
		return none, k.notFound(id)
	}
	return s.agg.(A), nil
}

// load reads the aggregate with its whole history, not the cached state: what queries fold.
// A stream with no event is ErrNotFound.
func (k *aggregateKind[A]) load(ctx context.Context, store eventlog.Store, id uuid.UUID) (A, loaded, error) {
	var none A
	streamID := k.streamOf(id)
	recorded, err := store.ReadStream(ctx, streamID, 0, eventlog.ReadOptions{})
	if err != nil {
		return none, loaded{}, fmt.Errorf("read %s: %w", streamID, err)
	}
	l, err := decodeStream(streamID, recorded, k.codec)
	if err != nil {
		return none, loaded{}, err
	}
	if len(l.history) == 0 {
		return none, loaded{}, k.notFound(id)
	}
	agg, err := k.fromHistory(l.history)
	if err != nil {
		return none, loaded{}, fmt.Errorf("%s %s: %w", k.name, id, err)
	}
	return agg, l, nil
}

// streamState is a stream as the command path knows it: its aggregate folded up to version,
// and the hash its next event chains to. A state is never changed once built: a command
// decides on a copy, and a newer state replaces it in the cache.
type streamState struct {
	streamID string
	kind     *streamKind
	agg      aggregate // nil: the stream has no event
	version  int64
	lastHash string
}

// exists reports whether the stream has events.
func (s *streamState) exists() bool { return s.agg != nil }

// working returns a copy of the aggregate to decide on; nil for a stream with no event.
func (s *streamState) working() aggregate {
	if s.agg == nil {
		return nil
	}
	return s.kind.clone(s.agg)
}

// followedBy returns the state after the recorded events, which must follow s's version.
func (s *streamState) followedBy(recorded []eventlog.RecordedEvent) (*streamState, error) {
	if len(recorded) == 0 {
		return s, nil
	}
	events := make([]eventlog.Event, len(recorded))
	next := s.version
	for i, r := range recorded {
		if r.Version != next+1 {
			return nil, fmt.Errorf("read %s: version %d follows version %d", s.streamID, r.Version, next)
		}
		e, err := s.kind.codec.Decode(r.Type, r.Data)
		if err != nil {
			return nil, fmt.Errorf("read %s version %d: %w", s.streamID, r.Version, err)
		}
		events[i], next = e, r.Version
	}
	agg, err := s.kind.fold(s.working(), events)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", s.kind.name, s.streamID, err)
	}
	last := recorded[len(recorded)-1]
	return &streamState{streamID: s.streamID, kind: s.kind, agg: agg, version: last.Version, lastHash: last.Metadata.Hash}, nil
}

// stateOf returns the stream's state: the cached one, or read from the store and cached.
func (a *App) stateOf(ctx context.Context, streamID string, kind *streamKind) (*streamState, error) {
	if s := a.cache.get(streamID); s != nil {
		return s, nil
	}
	empty := &streamState{streamID: streamID, kind: kind, version: -1}
	recorded, err := a.store.ReadStream(ctx, streamID, 0, eventlog.ReadOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", streamID, err)
	}
	s, err := empty.followedBy(recorded)
	if err != nil {
		return nil, err
	}
	a.cache.put(s)
	return s, nil
}

// catchUp reads what was appended to s's stream after s (the tail only, never the whole
// stream) and returns the newer state, cached, and whether there was anything.
func (a *App) catchUp(ctx context.Context, s *streamState) (*streamState, bool, error) {
	recorded, err := a.store.ReadStream(ctx, s.streamID, s.version+1, eventlog.ReadOptions{})
	if err != nil {
		return nil, false, fmt.Errorf("read %s from version %d: %w", s.streamID, s.version+1, err)
	}
	if len(recorded) == 0 {
		return s, false, nil
	}
	next, err := s.followedBy(recorded)
	if err != nil {
		return nil, false, err
	}
	a.cache.put(next)
	return next, true, nil
}

// current returns the aggregate as the store has it now: the cached state and its tail (one
// short read), for a check made before a command, such as an upload's before its bytes are
// stored. A stream with no event is ErrNotFound.
func current[A foldable[A]](ctx context.Context, a *App, k *aggregateKind[A], id uuid.UUID) (A, error) {
	streamID := k.streamOf(id)
	if s := a.cache.get(streamID); s != nil {
		s, _, err := a.catchUp(ctx, s)
		return k.found(id, s, err)
	}
	s, err := a.stateOf(ctx, streamID, k.streamKind)
	return k.found(id, s, err)
}

// aggregateCache keeps the latest known state of recently used streams, least recently used
// first out, within a count and a byte budget. A cached state may be behind the store when
// another process wrote meanwhile: the append that relies on it says so, and the command
// path then reads the tail it missed.
type aggregateCache struct {
	maxStreams int
	maxBytes   int64

	mu      sync.Mutex
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
	bytes   int64
}

type cacheEntry struct {
	state *streamState
	size  int
}

// newAggregateCache returns a cache within the given bounds; a negative bound disables it.
func newAggregateCache(maxStreams int, maxBytes int64) *aggregateCache {
	return &aggregateCache{maxStreams: maxStreams, maxBytes: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

func (c *aggregateCache) disabled() bool { return c.maxStreams < 0 || c.maxBytes < 0 }

func (c *aggregateCache) get(streamID string) *streamState {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[streamID]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry).state
}

// put caches s unless the cache holds a newer state of its stream already (a slower command
// that read before a faster one appended).
func (c *aggregateCache) put(s *streamState) {
	if c.disabled() || !s.exists() {
		return
	}
	size := s.kind.size(s.agg) + len(s.streamID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[s.streamID]; ok {
		e := el.Value.(*cacheEntry)
		if e.state.version > s.version {
			c.order.MoveToFront(el)
			return
		}
		c.bytes += int64(size - e.size)
		e.state, e.size = s, size
		c.order.MoveToFront(el)
	} else {
		c.entries[s.streamID] = c.order.PushFront(&cacheEntry{state: s, size: size})
		c.bytes += int64(size)
	}
	for c.order.Len() > 1 && (c.order.Len() > c.maxStreams || c.bytes > c.maxBytes) {
		c.removeLocked(c.order.Back())
	}
}

// forget drops a stream's state: after an append whose outcome is unknown, the next command
// reads the stream again.
func (c *aggregateCache) forget(streamID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[streamID]; ok {
		c.removeLocked(el)
	}
}

func (c *aggregateCache) removeLocked(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.entries, e.state.streamID)
	c.bytes -= int64(e.size)
}

// CommandStats is what the command path has done since the App started.
type CommandStats struct {
	// CachedStreams and CachedBytes are what the aggregate cache holds now.
	CachedStreams int
	CachedBytes   int64
	// Commands counts the decisions taken; Appends the appends that stored them (several
	// commands queued on one stream share one); Conflicts the appends another process won.
	Commands  int64
	Appends   int64
	Conflicts int64
}

// CommandStats reports the command path's counters and the aggregate cache's size.
func (a *App) CommandStats() CommandStats {
	a.cache.mu.Lock()
	streams, bytes := a.cache.order.Len(), a.cache.bytes
	a.cache.mu.Unlock()
	return CommandStats{CachedStreams: streams, CachedBytes: bytes,
		Commands: a.counters.commands.Load(), Appends: a.counters.appends.Load(), Conflicts: a.counters.conflicts.Load()}
}
