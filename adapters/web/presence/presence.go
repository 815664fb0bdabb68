// Package presence keeps who has which request open in the console right now, and who is
// typing in its chat (issue 16), so that two technicians do not answer the same customer. It is
// ephemeral on purpose: not events, not a table, only what the consoles report, forgotten a TTL
// after their last report. Each server keeps a Hub; a Relay passes each server's reports to the
// others (PostgreSQL NOTIFY, adapters/postgres/presencerelay), so a technician on one server
// sees one on another.
//
// The Hub numbers its changes: an event stream asks for the requests changed since the last
// number it saw and gets each one's snapshot, with the server-sent message already encoded once
// for every stream.
package presence

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// State is what a console reports of a request.
type State string

const (
	// Viewing: the request is open in a visible tab.
	Viewing State = "viewing"
	// Typing: a message to the customer is being written in it.
	Typing State = "typing"
	// Left: the tab closed, was hidden or moved on.
	Left State = "left"
)

// ParseState reads a State; ErrUnknownState for anything else.
func ParseState(s string) (State, error) {
	switch st := State(s); st {
	case Viewing, Typing, Left:
		return st, nil
	}
	return "", ErrUnknownState
}

// ErrUnknownState is returned by ParseState.
var ErrUnknownState = errors.New(`state must be "viewing", "typing" or "left"`)

// ErrFull is returned by Report when the hub holds MaxViewers already.
var ErrFull = errors.New("too many consoles report presence on this server")

// Report is one console's report, as a Hub takes it and a Relay carries it.
type Report struct {
	// Server is the ID of the hub that took the report first (Hub.ID); a hub ignores its own
	// reports coming back through the relay.
	Server     string    `json:"server"`
	Technician uuid.UUID `json:"technician"`
	Name       string    `json:"name"`
	Company    uuid.UUID `json:"company"`
	Request    uuid.UUID `json:"request"`
	State      State     `json:"state"`
}

// Viewer is one technician who has a request open.
type Viewer struct {
	ID     uuid.UUID `json:"id"`
	Name   string    `json:"name"`
	Typing bool      `json:"typing"`
}

// Snapshot is a request's presence after a change.
type Snapshot struct {
	Request uuid.UUID
	Company uuid.UUID
	Viewers []Viewer
	// Message is the server-sent event "presence" telling it: {request_id, viewers}.
	Message []byte
}

// Relay passes a hub's reports to the hubs of the other servers.
type Relay interface {
	Publish(ctx context.Context, r Report) error
}

// Defaults of Config's zero fields.
const (
	DefaultViewingTTL = 30 * time.Second
	DefaultTypingTTL  = 5 * time.Second
	DefaultMaxViewers = 100_000
)

// Config configures a Hub.
type Config struct {
	// ViewingTTL is how long a "viewing" report holds without another. The console reports
	// every third of it. Default 30 s.
	ViewingTTL time.Duration
	// TypingTTL is how long a "typing" report holds. Default 5 s.
	TypingTTL time.Duration
	// MaxViewers caps the (technician, request) pairs a hub holds, so that memory stays
	// bounded whatever the consoles send. Default 100,000.
	MaxViewers int
	// Relay, when set, passes this hub's reports to the other servers'.
	Relay Relay
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger hears of relay failures. Default slog.Default().
	Logger *slog.Logger
}

type viewer struct {
	name         string
	seenUntil    time.Time
	typingUntil  time.Time
	relayedState State
	relayedAt    time.Time
}

type requestPresence struct {
	company uuid.UUID
	viewers map[uuid.UUID]*viewer
	version uint64
	// message is the encoded snapshot at version, made on demand once.
	message []byte
	emptyAt time.Time // when its last viewer went; forgotten a while after
}

// Hub is one server's presence. Create it with New; run its sweeper with Run.
type Hub struct {
	cfg Config
	id  string

	mu       sync.Mutex
	requests map[uuid.UUID]*requestPresence
	viewers  int
	version  uint64
	wake     chan struct{}
	// recent are the latest changes, oldest first: a stream asks for the few after its
	// version without a walk over every request (logSize at most; past it, a full walk).
	recent []changeEntry
}

type changeEntry struct {
	version uint64
	request uuid.UUID
}

// logSize caps Hub.recent.
const logSize = 4096

// New returns a Hub with cfg's defaults filled in.
func New(cfg Config) *Hub {
	cfg.ViewingTTL = cmp.Or(cfg.ViewingTTL, DefaultViewingTTL)
	cfg.TypingTTL = cmp.Or(cfg.TypingTTL, DefaultTypingTTL)
	cfg.MaxViewers = cmp.Or(cfg.MaxViewers, DefaultMaxViewers)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Hub{cfg: cfg, id: hex.EncodeToString(b[:]), requests: map[uuid.UUID]*requestPresence{}, wake: make(chan struct{})}
}

// ID identifies this hub among the servers' (Report.Server).
func (h *Hub) ID() string { return h.id }

// ViewingTTL is how long a "viewing" report holds.
func (h *Hub) ViewingTTL() time.Duration { return h.cfg.ViewingTTL }

// TypingTTL is how long a "typing" report holds.
func (h *Hub) TypingTTL() time.Duration { return h.cfg.TypingTTL }

// Report takes a local console's report, passes it to the other servers when it tells them
// something new (a change of state, or a third of the TTL since the last one: their copies
// expire as this one does) and returns the request's viewers but the reporter.
func (h *Hub) Report(ctx context.Context, r Report) ([]Viewer, error) {
	r.Server = h.id
	relay, err := h.apply(r)
	if err != nil {
		return nil, err
	}
	if relay && h.cfg.Relay != nil {
		if err := h.cfg.Relay.Publish(ctx, r); err != nil {
			h.cfg.Logger.WarnContext(ctx, "presence: passing a report to the other servers failed; they see it at the next one", "error", err)
		}
	}
	return h.Others(r.Request, r.Technician), nil
}

// Receive takes a report another server's hub relayed; this hub's own are ignored.
func (h *Hub) Receive(r Report) {
	if r.Server == h.id || r.Request == uuid.Nil || r.Technician == uuid.Nil {
		return
	}
	if _, err := ParseState(string(r.State)); err != nil {
		return
	}
	_, _ = h.apply(r)
}

// apply records r and reports whether the relay should carry it.
func (h *Hub) apply(r Report) (relay bool, err error) {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.requests[r.Request]
	if r.State == Left {
		if rp == nil || rp.viewers[r.Technician] == nil {
			return false, nil
		}
		delete(rp.viewers, r.Technician)
		h.viewers--
		h.changedLocked(r.Request, rp, now)
		return true, nil
	}
	if rp == nil {
		rp = &requestPresence{company: r.Company, viewers: map[uuid.UUID]*viewer{}}
		h.requests[r.Request] = rp
	}
	v := rp.viewers[r.Technician]
	changed := false
	if v == nil {
		if h.viewers >= h.cfg.MaxViewers {
			return false, ErrFull
		}
		v = &viewer{name: r.Name}
		rp.viewers[r.Technician] = v
		h.viewers++
		changed = true
	}
	if v.name != r.Name {
		v.name, changed = r.Name, true
	}
	v.seenUntil = later(v.seenUntil, now.Add(h.cfg.ViewingTTL))
	if r.State == Typing {
		if !v.typingUntil.After(now) {
			changed = true
		}
		v.typingUntil = now.Add(h.cfg.TypingTTL)
	}
	if changed {
		h.changedLocked(r.Request, rp, now)
	}
	relay = changed || v.relayedState != r.State || now.Sub(v.relayedAt) >= h.ttlOf(r.State)/3
	if relay {
		v.relayedState, v.relayedAt = r.State, now
	}
	return relay, nil
}

func (h *Hub) ttlOf(s State) time.Duration {
	if s == Typing {
		return h.cfg.TypingTTL
	}
	return h.cfg.ViewingTTL
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// changedLocked gives the request a new version and wakes the streams; h.mu is held.
func (h *Hub) changedLocked(id uuid.UUID, rp *requestPresence, now time.Time) {
	h.version++
	rp.version, rp.message = h.version, nil
	if len(h.recent) >= logSize {
		h.recent = slices.Delete(h.recent, 0, logSize/2)
	}
	h.recent = append(h.recent, changeEntry{h.version, id})
	if len(rp.viewers) == 0 {
		rp.emptyAt = now
	}
	close(h.wake)
	h.wake = make(chan struct{})
}

// Others returns the request's viewers but the one given, by name.
func (h *Hub) Others(request, but uuid.UUID) []Viewer {
	h.mu.Lock()
	defer h.mu.Unlock()
	rp := h.requests[request]
	if rp == nil {
		return nil
	}
	out := h.viewersLocked(rp, h.cfg.Now())
	return slices.DeleteFunc(out, func(v Viewer) bool { return v.ID == but })
}

func (h *Hub) viewersLocked(rp *requestPresence, now time.Time) []Viewer {
	out := make([]Viewer, 0, len(rp.viewers))
	for id, v := range rp.viewers {
		out = append(out, Viewer{ID: id, Name: v.name, Typing: v.typingUntil.After(now)})
	}
	slices.SortFunc(out, func(a, b Viewer) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID.String(), b.ID.String()))
	})
	return out
}

// Version is the number of the hub's last change.
func (h *Hub) Version() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version
}

// Changes returns the snapshots of the requests changed after version since, the version they
// bring the caller to, and a channel closed at the next change.
func (h *Hub) Changes(since uint64) ([]Snapshot, uint64, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if since >= h.version {
		return nil, h.version, h.wake
	}
	now := h.cfg.Now()
	var out []Snapshot
	add := func(id uuid.UUID, rp *requestPresence) {
		viewers := h.viewersLocked(rp, now)
		if rp.message == nil {
			rp.message = encode(id, viewers)
		}
		out = append(out, Snapshot{Request: id, Company: rp.company, Viewers: viewers, Message: rp.message})
	}
	if len(h.recent) > 0 && since+1 >= h.recent[0].version {
		i, _ := slices.BinarySearchFunc(h.recent, since+1, func(c changeEntry, v uint64) int { return cmp.Compare(c.version, v) })
		seen := map[uuid.UUID]bool{}
		for _, c := range h.recent[i:] {
			if rp := h.requests[c.request]; rp != nil && !seen[c.request] && rp.version > since {
				seen[c.request] = true
				add(c.request, rp)
			}
		}
		return out, h.version, h.wake
	}
	for id, rp := range h.requests {
		if rp.version > since {
			add(id, rp)
		}
	}
	return out, h.version, h.wake
}

// encode is the server-sent event of a snapshot. It carries no id: a presence message must not
// move the stream's Last-Event-ID, which is a position in the log.
func encode(id uuid.UUID, viewers []Viewer) []byte {
	data, _ := json.Marshal(struct {
		Request uuid.UUID `json:"request_id"`
		Viewers []Viewer  `json:"viewers"`
	}{id, viewers}) // UUIDs and strings always encode
	return fmt.Appendf(nil, "event: presence\ndata: %s\n\n", data)
}

// forgetAfter is how long a request without viewers keeps its last version, so that a stream a
// little behind still learns that everyone left.
const forgetAfter = time.Minute

// Sweep forgets the reports whose TTL passed and tells the streams.
func (h *Hub) Sweep() {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, rp := range h.requests {
		changed := false
		for tid, v := range rp.viewers {
			switch {
			case !v.seenUntil.After(now):
				delete(rp.viewers, tid)
				h.viewers--
				changed = true
			case !v.typingUntil.IsZero() && !v.typingUntil.After(now):
				v.typingUntil = time.Time{}
				changed = true
			}
		}
		if changed {
			h.changedLocked(id, rp, now)
			continue
		}
		if len(rp.viewers) == 0 && now.Sub(rp.emptyAt) > forgetAfter {
			delete(h.requests, id)
		}
	}
}

// Run sweeps until ctx ends, about four times a typing TTL.
func (h *Hub) Run(ctx context.Context) {
	t := time.NewTicker(min(h.cfg.TypingTTL/4, time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.Sweep()
		}
	}
}
