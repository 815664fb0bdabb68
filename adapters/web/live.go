package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/web/presence"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/fault"
)

// Live updates: one broadcaster per server follows the request streams of the event log from
// its head, keeps the latest changes in a ring, and wakes every open event stream; each stream
// passes on only what its viewer may see (R2), and the page then re-fetches its panels through
// the application, which applies R2 again.

// ringSize is how many recent changes a reconnecting page can catch up on.
const ringSize = 1024

// change is one event of a request stream, as the event streams need it, with the messages
// the streams send for it encoded once: a thousand consoles following the log must not
// encode every event a thousand times.
type change struct {
	Pos       eventlog.Position
	RequestID uuid.UUID
	Type      string
	CompanyID uuid.UUID
	Customer  string

	consoleChange       []byte // "change" for a console: request, type, position
	consoleNotification []byte // "notification" of a new request; nil for other events
	customerChange      []byte // "change" for the request's customer: the position only
}

// encode fills c's messages.
func (c *change) encode() {
	pos := c.Pos.String()
	c.consoleChange = sseMessage(pos, "change", map[string]string{"request_id": c.RequestID.String(), "type": c.Type, "position": pos})
	if strings.HasPrefix(c.Type, "request.submitted.") {
		c.consoleNotification = sseMessage(pos, "notification", map[string]string{
			"request_id": c.RequestID.String(), "url": "/console/requests/" + c.RequestID.String(),
			"customer": c.Customer, "position": pos,
		})
	}
	c.customerChange = sseMessage(pos, "change", map[string]string{"position": pos})
}

// sseMessage is one message of an event stream, with its ID.
func sseMessage(id, name string, data map[string]string) []byte {
	payload, _ := json.Marshal(data) // a map of strings always encodes
	return fmt.Appendf(nil, "id: %s\nevent: %s\ndata: %s\n\n", id, name, payload)
}

type broadcaster struct {
	store      eventlog.Store
	head       func(context.Context) (eventlog.Position, error)
	headReader eventlog.HeadReader
	scanOnce   sync.Once
	ready      chan struct{}

	mu        sync.RWMutex // read by every open stream at each wake-up
	ring      []change
	dropped   eventlog.Position // the newest change that fell out of the ring
	last      eventlog.Position
	wake      chan struct{}
	lastWake  time.Time
	wakeDue   bool // a wake-up is scheduled
	companies map[uuid.UUID]uuid.UUID

	// outage tells the failures of following the log as episodes, not a line a retry.
	outage *fault.Episodes
}

func newBroadcaster(store eventlog.Store, head func(context.Context) (eventlog.Position, error)) *broadcaster {
	b := &broadcaster{store: store, head: head, ready: make(chan struct{}), wake: make(chan struct{}), companies: map[uuid.UUID]uuid.UUID{},
		outage: fault.NewEpisodes("live updates: following the log failed; consoles get no live updates until it works again (retrying every second)", nil)}
	b.headReader, _ = store.(eventlog.HeadReader)
	return b
}

// run finds the head of the log, then follows it until ctx ends, subscribing again after a
// failure. Nothing before the head is passed on: pages render the current state from the read
// models, and the live updates only tell them what changed after.
func (b *broadcaster) run(ctx context.Context) error {
	var head eventlog.Position
	for {
		var err error
		head, err = b.findHead(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		b.outage.Failed(ctx, err, "find the log's head")
		if !sleep(ctx, time.Second) {
			return nil
		}
	}
	b.mu.Lock()
	b.last = head
	b.mu.Unlock()
	close(b.ready)
	for {
		from := b.position()
		err := b.store.Subscribe(ctx, from, eventlog.SubscribeOptions{StreamPrefixes: []string{request.StreamPrefix}}, b.handle)
		if ctx.Err() != nil {
			return nil
		}
		b.outage.Failed(ctx, err, "live updates from "+from.String())
		if !sleep(ctx, time.Second) {
			return nil
		}
	}
}

// findHead asks Config.Head, or the store when it is an eventlog.HeadReader. A store that can do
// neither is read through to its end, once, keeping nothing of what it reads.
func (b *broadcaster) findHead(ctx context.Context) (eventlog.Position, error) {
	switch {
	case b.head != nil:
		return b.head(ctx)
	case b.headReader != nil:
		return b.headReader.Head(ctx)
	}
	b.scanOnce.Do(func() {
		slog.WarnContext(ctx, "live updates: the event store cannot tell where the log ends (no Head method and no web.Config.Head); reading the whole log to find it")
	})
	head := eventlog.Start()
	for {
		batch, err := b.store.ReadAll(ctx, head, eventlog.ReadOptions{Limit: 1000})
		if err != nil {
			return eventlog.Start(), fmt.Errorf("read the log after %s: %w", head, err)
		}
		if len(batch) == 0 {
			return head, nil
		}
		head = batch[len(batch)-1].Position
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// position is the last position the broadcaster has passed on.
func (b *broadcaster) position() eventlog.Position {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.last
}

func (b *broadcaster) handle(ctx context.Context, batch []eventlog.RecordedEvent) error {
	b.outage.Succeeded(ctx)
	changes := make([]change, 0, len(batch))
	for _, rec := range batch {
		id, err := uuid.Parse(strings.TrimPrefix(rec.StreamID, request.StreamPrefix))
		if err != nil {
			continue
		}
		c := change{Pos: rec.Position, RequestID: id, Type: rec.Type}
		if strings.HasPrefix(rec.Type, "request.submitted.") {
			var s struct {
				CompanyID uuid.UUID        `json:"company_id"`
				Customer  request.Customer `json:"customer"`
			}
			if json.Unmarshal(rec.Data, &s) == nil {
				c.CompanyID, c.Customer = s.CompanyID, s.Customer.Name
			}
		} else {
			c.CompanyID = b.companyOf(ctx, id)
		}
		c.encode()
		if c.CompanyID != uuid.Nil {
			b.mu.Lock()
			if len(b.companies) > 200_000 {
				clear(b.companies)
			}
			b.companies[id] = c.CompanyID
			b.mu.Unlock()
		}
		changes = append(changes, c)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ring = append(b.ring, changes...)
	if over := len(b.ring) - ringSize; over > 0 {
		b.dropped = b.ring[over-1].Pos
		b.ring = slices.Delete(b.ring, 0, over)
	}
	if len(batch) > 0 {
		b.last = batch[len(batch)-1].Position
	}
	b.wakeLocked()
	return nil
}

// wakeEvery is the shortest time between two wake-ups of the open streams. Under load, the
// changes of that while go out together, in one write per stream: a thousand consoles and
// two hundred commands a second cost a thousand writes every wakeEvery, not two hundred
// thousand a second. The first change after a quiet while goes out at once.
const wakeEvery = 25 * time.Millisecond

// wakeLocked wakes the streams now, or at the end of the current wakeEvery; b.mu is held.
func (b *broadcaster) wakeLocked() {
	if b.wakeDue {
		return
	}
	wait := wakeEvery - time.Since(b.lastWake)
	if wait <= 0 {
		b.publishLocked()
		return
	}
	b.wakeDue = true
	time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.wakeDue = false
		b.publishLocked()
	})
}

func (b *broadcaster) publishLocked() {
	close(b.wake)
	b.wake = make(chan struct{})
	b.lastWake = time.Now()
}

// companyOf finds a request's company: remembered, or read from its first event.
func (b *broadcaster) companyOf(ctx context.Context, id uuid.UUID) uuid.UUID {
	b.mu.Lock()
	company, ok := b.companies[id]
	b.mu.Unlock()
	if ok {
		return company
	}
	first, err := b.store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{Limit: 1})
	if err != nil || len(first) == 0 {
		return uuid.Nil
	}
	var s struct {
		CompanyID uuid.UUID `json:"company_id"`
	}
	_ = json.Unmarshal(first[0].Data, &s)
	return s.CompanyID
}

// after returns the changes after pos, whether some of them are no longer known (the page
// must then refresh everything), the channel closed by the next change, and the newest
// position.
func (b *broadcaster) after(pos eventlog.Position) (changes []change, gap bool, wake <-chan struct{}, last eventlog.Position) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	i, _ := slices.BinarySearchFunc(b.ring, pos, func(c change, p eventlog.Position) int { return c.Pos.Compare(p) })
	for i < len(b.ring) && b.ring[i].Pos.Compare(pos) <= 0 {
		i++
	}
	gap = !b.dropped.IsStart() && pos.Compare(b.dropped) < 0
	return slices.Clone(b.ring[i:]), gap, b.wake, b.last
}

// stream serves an event stream: from the position the page's content includes (Last-Event-ID
// on a reconnection, ?after= the first time), every change the filter lets through, and a
// comment every heartbeat so that proxies keep the connection open.
//
// presenceOf, when set, passes on the presence changes (who has which request open) it lets
// through; they carry no ID, so they never move the stream's place in the log.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, filter func(buf []byte, c change) []byte, presenceOf func(buf []byte, snaps []presence.Snapshot) []byte, onBeat func()) {
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := r.Context()
	select {
	case <-h.live.ready:
	case <-ctx.Done():
		return
	}
	cursor := h.live.position()
	for _, s := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("after")} {
		if p, err := eventlog.ParsePosition(s); err == nil && s != "" {
			cursor = p
			break
		}
	}
	// A stream has no server-wide write deadline (see adapters/httpserver): each write gets
	// its own, so that a client that stops reading is cut and the others are not.
	writeBy := func() { _ = rc.SetWriteDeadline(time.Now().Add(h.cfg.Heartbeat + streamWriteGrace)) }
	writeBy()
	if _, err := fmt.Fprint(w, "retry: 3000\n: live updates\n\n"); err != nil {
		return
	}
	_ = rc.Flush()
	// Each stream beats at its own phase: streams opened together (a server restart, a
	// thousand consoles reconnecting) must not all beat, and reload their viewer, at once.
	beat := time.NewTimer(h.cfg.Heartbeat/2 + rand.N(h.cfg.Heartbeat))
	defer beat.Stop()
	var buf []byte
	// The page was rendered with the presence of now: only later changes are news.
	var seen uint64
	var presenceWake <-chan struct{}
	if presenceOf != nil {
		seen = h.presence.Version()
	}
	for {
		changes, gap, wake, last := h.live.after(cursor)
		buf = buf[:0]
		if gap {
			buf = append(buf, sseMessage(last.String(), "change", map[string]string{"position": last.String()})...)
		}
		for _, c := range changes {
			buf = filter(buf, c)
		}
		if presenceOf != nil {
			var snaps []presence.Snapshot
			snaps, seen, presenceWake = h.presence.Changes(seen)
			buf = presenceOf(buf, snaps)
		}
		if len(buf) > 0 {
			// Everything new in one write and one flush: one system call per wake-up, not
			// one per event.
			writeBy()
			if _, err := w.Write(buf); err != nil || rc.Flush() != nil {
				return
			}
		}
		if !last.IsStart() && last.Compare(cursor) > 0 {
			cursor = last
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-presenceWake:
		case <-beat.C:
			beat.Reset(h.cfg.Heartbeat)
			if onBeat != nil {
				onBeat()
			}
			writeBy()
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// streamWriteGrace is how long past a heartbeat interval a stream's client may take to read
// what was written before it is cut.
const streamWriteGrace = 10 * time.Second

// consoleEvents streams the changes of the requests of the technician's companies (R2), and
// a notification for each new one when they chose in-console notifications (R5). An auditor
// gets the changes of their companies' requests (IDs and event types, no content: the panels
// they reload are the reads the access log records), and no notification.
func (h *Handler) consoleEvents(w http.ResponseWriter, r *http.Request, s app.Session) {
	if s.IsAuditor() {
		h.auditorEvents(w, r, s)
		return
	}
	var mu sync.Mutex
	var profile app.TechnicianProfile
	load := func() {
		p, err := h.queries.Profile(r.Context(), s.TechnicianID)
		if err == nil {
			mu.Lock()
			profile = p
			mu.Unlock()
		}
	}
	load()
	h.stream(w, r, func(buf []byte, c change) []byte {
		mu.Lock()
		p := profile
		mu.Unlock()
		if !slices.Contains(p.Companies, c.CompanyID) {
			return buf
		}
		buf = append(buf, c.consoleChange...)
		// Only an Available technician sees unassigned requests (R2): one who is not is not
		// called to a request they cannot take. The status may have changed in another tab
		// since the last heartbeat: it is read fresh, once for all the streams of the server.
		if c.consoleNotification != nil && p.Notifications.InConsole && h.available.available(r.Context(), s.TechnicianID) {
			buf = append(buf, c.consoleNotification...)
		}
		return buf
	}, presenceFilter(func() []uuid.UUID {
		mu.Lock()
		defer mu.Unlock()
		return profile.Companies
	}), load)
}

func (h *Handler) auditorEvents(w http.ResponseWriter, r *http.Request, s app.Session) {
	var mu sync.Mutex
	var profile app.AuditorProfile
	load := func() {
		p, err := h.queries.AuditorProfile(r.Context(), s.AuditorID)
		if err == nil {
			mu.Lock()
			profile = p
			mu.Unlock()
		}
	}
	load()
	h.stream(w, r, func(buf []byte, c change) []byte {
		mu.Lock()
		p := profile
		mu.Unlock()
		if !p.AllCompanies && !slices.Contains(p.Companies, c.CompanyID) {
			return buf
		}
		return append(buf, c.consoleChange...)
	}, nil, load)
}

// customerEvents streams the changes of the customer's own request, private notes left out.
func (h *Handler) customerEvents(w http.ResponseWriter, r *http.Request, id uuid.UUID) {
	h.stream(w, r, func(buf []byte, c change) []byte {
		if c.RequestID != id || strings.HasPrefix(c.Type, "request.note_added.") {
			return buf
		}
		return append(buf, c.customerChange...)
	}, nil, nil)
}
