package anchor

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Defaults of Config.
const (
	DefaultInterval   = time.Minute
	DefaultPageSize   = 5000
	DefaultMaxStreams = 10_000
)

// Config configures an Anchorer. Every zero field but Store and PrivateKey takes its default.
type Config struct {
	// Store is the event log the anchors cover and are appended to (in Stream). Required.
	Store eventlog.Store

	// PrivateKey signs the anchors (LoadPrivateKey). It never enters the log; auditors keep
	// the public key. Required.
	PrivateKey ed25519.PrivateKey

	// Interval is how often the log's head is anchored when something was written since the
	// last anchor. Every anchor records it: a verifier reports a log that goes on more than
	// twice the interval after its last anchor. Default 1m.
	Interval time.Duration

	// PageSize is how many events one read of the log takes. Default 5000.
	PageSize int

	// MaxStreams caps the streams one anchor lists; when more changed since the last anchor,
	// the anchor covers the log up to where the cap is reached and the next one follows at
	// once. It bounds the size of one anchor event. Default 10,000.
	MaxStreams int

	// Logger receives failures (retried at the next interval) and, at debug level, every
	// anchor written. Default slog.Default().
	Logger *slog.Logger

	// Clock tells the time an anchor is signed at. Default time.Now.
	Clock func() time.Time
}

func (c *Config) setDefaults() {
	c.Interval = cmp.Or(c.Interval, DefaultInterval)
	c.PageSize = cmp.Or(c.PageSize, DefaultPageSize)
	c.MaxStreams = cmp.Or(c.MaxStreams, DefaultMaxStreams)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// Validate reports every field that holds an unusable value. Zero fields that have a default
// are valid: New fills them in first.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if len(c.PrivateKey) != ed25519.PrivateKeySize {
		errs = append(errs, fmt.Errorf("PrivateKey: %w (%d bytes)", ErrNotEd25519Key, len(c.PrivateKey)))
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("Interval %s is negative", c.Interval))
	}
	if c.PageSize < 0 {
		errs = append(errs, fmt.Errorf("PageSize %d is negative", c.PageSize))
	}
	if c.MaxStreams < 0 {
		errs = append(errs, fmt.Errorf("MaxStreams %d is negative", c.MaxStreams))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("anchor config: %w", err)
	}
	return nil
}

// Anchorer writes anchors. Several servers may run one each on the same log: each anchor is
// appended with the exact version the previous anchor left, so exactly one of them writes
// anchor N, and the others find it there and go on from it.
type Anchorer struct {
	cfg Config
	key string // the public key's fingerprint

	mu sync.Mutex // one anchor at a time
	// last is where the anchors stand, read from the log when loaded is false (at the start,
	// and after another server wrote an anchor first).
	loaded bool
	last   lastAnchor
	// rest is the part of the log the last anchor read and left to the next one (it stopped at
	// MaxStreams).
	rest []eventlog.RecordedEvent
}

// lastAnchor is what the next anchor needs of the previous one.
type lastAnchor struct {
	exists    bool
	number    int64
	position  eventlog.Position
	events    int64
	head      string
	chainHash string // the anchor event's own hash in Stream's chain
}

// New returns an Anchorer, with defaults for what cfg leaves unset.
func New(cfg Config) (*Anchorer, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pub, _ := cfg.PrivateKey.Public().(ed25519.PublicKey)
	return &Anchorer{cfg: cfg, key: Fingerprint(pub)}, nil
}

// Run anchors the log at once, then every Interval, until ctx ends; then it returns nil.
// Failures (the store unreachable, a log it cannot read) are logged and tried again at the next
// interval: nothing but ctx ends Run.
func (a *Anchorer) Run(ctx context.Context) error {
	a.cfg.Logger.InfoContext(ctx, "anchoring the event log", "interval", a.cfg.Interval, "key", a.key)
	for {
		for {
			_, _, more, err := a.anchor(ctx)
			if err != nil && ctx.Err() == nil {
				a.cfg.Logger.WarnContext(ctx, "anchor: cannot anchor the log now; trying again at the next interval", "error", err)
			}
			if err != nil || !more {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(a.cfg.Interval):
		}
	}
}

// AnchorNow anchors what the log gained since the last anchor, and returns the anchor and true;
// it returns false and no error when nothing was written since, or when another server wrote
// the next anchor first.
func (a *Anchorer) AnchorNow(ctx context.Context) (Anchor, bool, error) {
	anchor, wrote, _, err := a.anchor(ctx)
	return anchor, wrote, err
}

// anchor writes the next anchor; more reports that it stopped at MaxStreams, and the log holds
// more to anchor at once.
func (a *Anchorer) anchor(ctx context.Context) (_ Anchor, wrote, more bool, _ error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.loaded {
		last, err := a.loadLast(ctx)
		if err != nil {
			return Anchor{}, false, false, err
		}
		a.last, a.loaded = last, true
	}
	next := Anchor{Number: 0, Position: a.last.position, Events: a.last.events, PreviousHead: a.last.head,
		Key: a.key, Interval: a.cfg.Interval}
	if a.last.exists {
		next.Number = a.last.number + 1
	}
	heads, more, err := a.readSince(ctx, &next)
	if err != nil {
		return Anchor{}, false, false, err
	}
	if len(heads) == 0 {
		return Anchor{}, false, false, nil
	}
	next.Streams = make([]StreamHead, 0, len(heads))
	for _, h := range heads {
		next.Streams = append(next.Streams, h)
	}
	slices.SortFunc(next.Streams, func(x, y StreamHead) int { return strings.Compare(x.Stream, y.Stream) })
	next.SignedAt = a.cfg.Clock().UTC()
	next.Head = next.HeadOver(next.Streams)
	data, err := sign(&next, a.cfg.PrivateKey)
	if err != nil {
		return Anchor{}, false, false, err
	}
	events := []eventlog.EventData{{ID: uuid.New(), Type: EventType, Data: data,
		Metadata: eventlog.Metadata{Actor: "system", OccurredAt: next.SignedAt}}}
	expected := eventlog.NoStream()
	previousVersion := int64(-1)
	if a.last.exists {
		expected, previousVersion = eventlog.Exactly(a.last.number), a.last.number
	}
	eventlog.Seal(Stream, previousVersion, a.last.chainHash, events)
	if _, err := a.cfg.Store.Append(ctx, Stream, expected, events...); err != nil {
		a.loaded, a.rest = false, nil // read where the anchors stand again next time
		if errors.Is(err, eventlog.ErrConcurrency) {
			return Anchor{}, false, false, nil // another server wrote this anchor
		}
		return Anchor{}, false, false, fmt.Errorf("anchor: append anchor #%d: %w", next.Number, err)
	}
	a.last = lastAnchor{exists: true, number: next.Number, position: next.Position, events: next.Events,
		head: next.Head, chainHash: events[0].Metadata.Hash}
	a.cfg.Logger.DebugContext(ctx, "anchored the event log", "anchor", next.Number, "position", next.Position.String(),
		"events", next.Events, "streams", len(next.Streams))
	return next, true, more, nil
}

// readSince reads the log after next.Position and moves next's Position and Events over what
// it covers; it returns the last (version, hash) of every stream it met, and whether it
// stopped at MaxStreams with more of the log to read. The rest of the page it stopped in is
// kept for the next anchor, which starts where this one stops.
func (a *Anchorer) readSince(ctx context.Context, next *Anchor) (map[string]StreamHead, bool, error) {
	heads := map[string]StreamHead{}
	from := next.Position
	page := a.rest
	a.rest = nil
	if len(page) > 0 && page[0].Position.Compare(from) <= 0 {
		page = nil // not the rest of this anchor's log: read it again
	}
	for {
		last := false // a short page read ends the log as it is now
		if page == nil {
			var err error
			if page, err = a.cfg.Store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: a.cfg.PageSize}); err != nil {
				return nil, false, fmt.Errorf("anchor: read the log after %s: %w", from, err)
			}
			if last = len(page) < a.cfg.PageSize; len(page) == 0 {
				return heads, false, nil
			}
		}
		for i := range page {
			e := &page[i]
			if e.StreamID == Stream {
				continue
			}
			h, seen := heads[e.StreamID]
			if !seen && len(heads) >= a.cfg.MaxStreams {
				a.rest = page[i:]
				return heads, true, nil
			}
			if !seen || e.Version > h.Version {
				heads[e.StreamID] = StreamHead{Stream: e.StreamID, Version: e.Version, Hash: e.Metadata.Hash}
			}
			next.Position = e.Position
			next.Events++
		}
		if last {
			return heads, false, nil
		}
		from = page[len(page)-1].Position
		page = nil
	}
}

// loadLast finds the last anchor of the log without reading the whole anchor stream: it probes
// versions 1, 2, 4, 8… past the first, then halves the gap, one event per read.
func (a *Anchorer) loadLast(ctx context.Context) (lastAnchor, error) {
	first := func(from int64) (eventlog.RecordedEvent, bool, error) {
		events, err := a.cfg.Store.ReadStream(ctx, Stream, from, eventlog.ReadOptions{Limit: 1})
		if err != nil {
			return eventlog.RecordedEvent{}, false, fmt.Errorf("anchor: find the last anchor: %w", err)
		}
		if len(events) == 0 {
			return eventlog.RecordedEvent{}, false, nil
		}
		return events[0], true, nil
	}
	last, ok, err := first(0)
	if err != nil || !ok {
		return lastAnchor{}, err
	}
	step := int64(1)
	for {
		e, ok, err := first(last.Version + step)
		if err != nil {
			return lastAnchor{}, err
		}
		if !ok {
			break
		}
		last, step = e, step*2
	}
	// No anchor at last.Version+step or after: search the gap below it.
	lo, hi := last.Version, last.Version+step
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		e, ok, err := first(mid)
		if err != nil {
			return lastAnchor{}, err
		}
		if ok {
			last, lo = e, e.Version
		} else {
			hi = mid
		}
	}
	anchor, err := DecodeSigned(last)
	if err != nil {
		return lastAnchor{}, fmt.Errorf("anchor: the last anchor of the log: %w", err)
	}
	if anchor.Key != a.key {
		a.cfg.Logger.Warn("anchor: the log's last anchor was signed by another key; the anchors after it are signed by this one, and verifying the log needs both keys",
			"anchor", anchor.Number, "its_key", anchor.Key, "key", a.key)
	}
	return lastAnchor{exists: true, number: anchor.Number, position: anchor.Position, events: anchor.Events,
		head: anchor.Head, chainHash: last.Metadata.Hash}, nil
}
