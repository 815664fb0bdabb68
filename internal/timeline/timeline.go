// Package timeline is a request's history as an auditor reads it: every event of the request's
// stream in order, with who did it (resolved to a name), a one-line summary of the change and
// the request's state after it, and a verdict on the stream: whether its hash chain holds
// (domain/eventlog's chain, checked over the whole stream) and whether every event could have
// followed the ones before it (the domain's own rules, request.Request.Admit).
//
// A timeline can stop early: at a version, at a position of the global log, or at a moment T.
// At T it keeps the stream's events up to, not including, the first one recorded after T: the
// position rule of internal/asof applied to the one stream. Two commits that overlap may be
// recorded in one order and logged in the other; where a timeline must agree with an
// asof.Snapshot to the event, stop it at the snapshot's position (Through).
package timeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Timeline is a request's history up to a stop.
type Timeline struct {
	RequestID uuid.UUID `json:"request_id"`
	// Verdict is what the checks of the whole stream found, past the stop too.
	Verdict Verdict `json:"verdict"`
	// Events is how many events the stream holds in all, past the stop too.
	Events int `json:"events"`
	// Stop says where the timeline stops.
	Stop Stop `json:"stop"`
	// Steps are the stream's events up to the stop, and up to the first that does not fold.
	Steps []Step `json:"steps"`
	// State is the request's state at the stop, after the last step; nil when no step comes
	// before it (the request did not exist yet).
	State *State `json:"state"`
}

// Verdict is what the checks of a whole stream found.
type Verdict struct {
	// OK is true when the hash chain holds and every event folds.
	OK bool `json:"ok"`
	// Chain is the first event where the hash chain breaks; nil when it holds.
	Chain *Finding `json:"chain,omitempty"`
	// Fold is the first event the domain does not admit (it does not decode, or no command
	// could have recorded it there); nil when every event folds.
	Fold *Finding `json:"fold,omitempty"`
}

// Finding names the event where a check failed and what it found.
type Finding struct {
	Version int64  `json:"version"`
	Problem string `json:"problem"`
	err     error
}

// Err is the check's own error (matching eventlog.ErrChainBroken, eventlog.ErrUnknownEventType,
// request.ErrImpossibleEvent, …).
func (f *Finding) Err() error { return f.err }

// Step is one event of the stream and the request's state after it.
type Step struct {
	Version    int64             `json:"version"`
	Position   eventlog.Position `json:"position"`
	EventID    uuid.UUID         `json:"event_id"`
	Type       string            `json:"type"`
	OccurredAt time.Time         `json:"occurred_at"`
	RecordedAt time.Time         `json:"recorded_at"`
	// Actor is who caused the event as the metadata says ("technician:<uuid>",
	// "customer:<request-id>", "admin", "system"); ActorName is that resolved to a name, or
	// Actor itself when it names nobody known.
	Actor     string `json:"actor"`
	ActorName string `json:"actor_name"`
	// Summary says in one line what changed. It quotes no message or note, only their length.
	Summary string `json:"summary"`
	State   State  `json:"state"`
}

// State is a request's state after an event.
type State struct {
	Status        request.Status        `json:"status"`
	Assignee      *app.Person           `json:"assignee"`
	Chat          request.ChatState     `json:"chat"`
	ScreenSharing request.ScreenSharing `json:"screen_sharing"`
	CompanyID     uuid.UUID             `json:"company_id"`
	CompanyName   string                `json:"company_name"`
	CustomerName  string                `json:"customer_name"`
	CustomerEmail string                `json:"customer_email"`
	Platform      request.Platform      `json:"platform"`
	Messages      int                   `json:"messages"`
	Notes         int                   `json:"notes"`
	Files         int                   `json:"files"`
	Closed        bool                  `json:"closed"`
	// Version is the version of the last event folded; LastActivity when it occurred.
	Version      int64     `json:"version"`
	LastActivity time.Time `json:"last_activity"`
}

// ErrNotFound is returned by Build for a request whose stream holds no event. It matches
// app.ErrNotFound too.
var ErrNotFound = fmt.Errorf("request history: %w", app.ErrNotFound)

// ErrNoSuchVersion is returned by Build for a version stop the stream does not hold.
var ErrNoSuchVersion = errors.New("the request's stream holds no event of that version")

// Build reads the request's stream from store, checks its hash chain over the whole stream,
// folds it through the domain and returns its timeline up to stop. A stream that breaks its
// chain or does not fold still has a timeline: the steps up to the first event that does not
// fold, and the finding in the verdict.
func Build(ctx context.Context, store eventlog.Store, requestID uuid.UUID, stop Stop) (Timeline, error) {
	events, decoded, failed, err := readAndAdmit(ctx, store, request.Stream(requestID))
	if err != nil {
		return Timeline{}, fmt.Errorf("history of request %s: %w", requestID, err)
	}
	if len(events) == 0 {
		return Timeline{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
	}
	end, err := stop.end(events)
	if err != nil {
		return Timeline{}, fmt.Errorf("history of request %s up to %s: %w", requestID, stop, err)
	}
	chain := make(chan *Finding, 1)
	go func() { chain <- chainFinding(events) }() // beside the steps: both take a while on long streams
	tl := Timeline{RequestID: requestID, Events: len(events), Stop: stop}
	tl.Verdict.Fold = failed
	end = min(end, len(decoded))
	n, err := resolveNames(ctx, store, requestID, decoded[:end])
	if err != nil {
		<-chain
		return Timeline{}, fmt.Errorf("history of request %s: %w", requestID, err)
	}
	tl.Steps = make([]Step, 0, end)
	var st State
	r := &request.Request{}
	for i, e := range decoded[:end] {
		rec := &events[i]
		r.Fold([]eventlog.Event{e}) // admitted already
		n.apply(&st, r, rec, e)
		tl.Steps = append(tl.Steps, Step{
			Version: rec.Version, Position: rec.Position, EventID: rec.ID, Type: rec.Type,
			OccurredAt: rec.Metadata.OccurredAt, RecordedAt: rec.RecordedAt,
			Actor: rec.Metadata.Actor, ActorName: n.actor(rec.Metadata.Actor),
			Summary: decided(n.summary(rec.Metadata.Actor, e), rec.Metadata.Decision), State: st,
		})
	}
	if len(tl.Steps) > 0 {
		final := tl.Steps[len(tl.Steps)-1].State
		tl.State = &final
	}
	tl.Verdict.Chain = <-chain
	tl.Verdict.OK = tl.Verdict.Chain == nil && tl.Verdict.Fold == nil
	return tl, nil
}

// readPage is how many versions of a stream one read covers.
const readPage = 2000

// readers is how many reads of a stream run at once: the store's client decodes rows, and the
// database finds them, on more than one core.
const readers = 2

// readAndAdmit reads a whole stream and folds it through the domain as it comes: each event
// decoded and admitted by the request as the events before it leave it. It returns the
// stream, the events that fold, in order, and the first event that does not, if any.
func readAndAdmit(ctx context.Context, store eventlog.Store, streamID string) ([]eventlog.RecordedEvent, []eventlog.Event, *Finding, error) {
	codec := request.Codec()
	r := &request.Request{}
	var all []eventlog.RecordedEvent
	var decoded []eventlog.Event
	var failed *Finding
	err := readInPages(ctx, store, streamID, func(page []eventlog.RecordedEvent) {
		all = append(all, page...)
		for i := 0; i < len(page) && failed == nil; i++ {
			rec := &page[i]
			e, err := codec.Decode(rec.Type, rec.Data)
			if err == nil {
				err = r.Admit(e)
			}
			if err != nil {
				failed = &Finding{Version: rec.Version, Problem: fmt.Sprintf("version %d: %v", rec.Version, err), err: err}
				return
			}
			decoded = append(decoded, e)
		}
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return all, decoded, failed, nil
}

// readInPages reads a whole stream, page n being the events of versions n×readPage up to the
// next page's, and passes the pages to fold in order as they arrive. Readers take every
// readers-th page; each stops after a short page, which holds every event from its first
// version on: the stream's end, whatever gaps a damaged stream has in its versions.
func readInPages(ctx context.Context, store eventlog.Store, streamID string, fold func([]eventlog.RecordedEvent)) error {
	type page struct {
		n      int
		events []eventlog.RecordedEvent
		last   bool
		err    error
	}
	results := make(chan page, readers)
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(done)
	for first := range readers {
		wg.Go(func() {
			for n := first; ; n += readers {
				from := int64(n) * readPage
				events, err := store.ReadStream(ctx, streamID, from, eventlog.ReadOptions{Limit: readPage})
				p := page{n: n, events: events, err: err, last: err != nil || len(events) < readPage}
				if !p.last {
					// A full page may reach past its versions where versions are missing: the
					// next page has those.
					for i := range events {
						if events[i].Version >= from+readPage {
							p.events = events[:i]
							break
						}
					}
				}
				select {
				case results <- p:
				case <-done:
					return
				}
				if p.last {
					return
				}
			}
		})
	}
	arrived := map[int]page{}
	for next := 0; ; {
		p, ok := arrived[next]
		if !ok {
			p = <-results
			arrived[p.n] = p
			continue
		}
		delete(arrived, next)
		if p.err != nil {
			return fmt.Errorf("read %s from version %d: %w", streamID, int64(next)*readPage, p.err)
		}
		fold(p.events)
		if p.last {
			return nil
		}
		next++
	}
}

// chainFinding checks the stream's hash chain. VerifyChain stops at the first event that breaks
// it, and a prefix of a stream verifies exactly when the break lies past it: the shortest prefix
// that fails ends with the broken event.
func chainFinding(events []eventlog.RecordedEvent) *Finding {
	err := eventlog.VerifyChain(events)
	if err == nil {
		return nil
	}
	holds, breaks := 0, len(events) // the prefix of `holds` events verifies, of `breaks` does not
	for breaks-holds > 1 {
		mid := (holds + breaks) / 2
		if eventlog.VerifyChain(events[:mid]) == nil {
			holds = mid
		} else {
			breaks = mid
		}
	}
	broken := events[breaks-1]
	return &Finding{Version: broken.Version, Problem: err.Error(), err: err}
}

// names are the people a timeline names: the technicians its events name or were caused by,
// the request's customer and company.
type names struct {
	requestID   uuid.UUID
	customer    string
	company     string
	technicians map[uuid.UUID]*app.Person
	// actors are the actors resolved so far: a long history has few.
	actors map[string]string
}

// resolveNames finds the names of the technicians and of the company the events name, by
// folding their streams from the same store (in one read when the store reads several streams
// at once).
func resolveNames(ctx context.Context, store eventlog.Store, requestID uuid.UUID, events []eventlog.Event) (*names, error) {
	n := &names{requestID: requestID, technicians: map[uuid.UUID]*app.Person{}, actors: map[string]string{}}
	var company uuid.UUID
	note := func(id uuid.UUID) {
		if id != uuid.Nil && n.technicians[id] == nil {
			n.technicians[id] = &app.Person{ID: id}
		}
	}
	for _, e := range events {
		switch e := e.(type) {
		case *request.Submitted:
			company, n.customer = e.CompanyID, e.Customer.Name
		case *request.Assigned:
			note(e.TechnicianID)
		case *request.Unassigned:
			note(e.TechnicianID)
		case *request.Transferred:
			note(e.From)
			note(e.To)
		case *request.ChatJoined:
			note(e.TechnicianID)
		case *request.MessageSent:
			note(e.TechnicianID)
		case *request.NoteAdded:
			note(e.TechnicianID)
		case *request.FileShared:
			note(e.TechnicianID)
		case *request.ScreenSharingRequested:
			note(e.TechnicianID)
		case *request.MobileProfileSent:
			note(e.TechnicianID)
		case *request.ScreenSharingSessionEnded:
			note(e.TechnicianID)
		case *request.MobileProfileFileSent:
			note(e.TechnicianID)
		case *request.ChatEnded:
			note(e.TechnicianID)
		case *request.Closed:
			note(e.TechnicianID)
		}
	}
	streams := make([]string, 0, len(n.technicians)+1)
	for id := range n.technicians {
		streams = append(streams, directory.TechnicianStream(id))
	}
	if company != uuid.Nil {
		streams = append(streams, directory.CompanyStream(company))
	}
	read, err := readStreams(ctx, store, streams)
	if err != nil {
		return nil, err
	}
	codec := directory.Codec()
	for id, p := range n.technicians {
		if t, err := directory.TechnicianFromHistory(decodeAll(codec, read[directory.TechnicianStream(id)])); err == nil {
			p.Name = t.Name()
		}
	}
	if c, err := directory.CompanyFromHistory(decodeAll(codec, read[directory.CompanyStream(company)])); err == nil {
		n.company = c.Name()
	}
	return n, nil
}

func readStreams(ctx context.Context, store eventlog.Store, streams []string) (map[string][]eventlog.RecordedEvent, error) {
	if len(streams) == 0 {
		return nil, nil
	}
	if many, ok := store.(eventlog.StreamsReader); ok {
		read, err := many.ReadStreams(ctx, streams)
		if err != nil {
			return nil, fmt.Errorf("read the streams of the people named: %w", err)
		}
		return read, nil
	}
	read := make(map[string][]eventlog.RecordedEvent, len(streams))
	for _, s := range streams {
		events, err := store.ReadStream(ctx, s, 0, eventlog.ReadOptions{})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s, err)
		}
		read[s] = events
	}
	return read, nil
}

// decodeAll decodes the events that decode; a name is all the timeline wants of these streams.
func decodeAll(codec *eventlog.Codec, events []eventlog.RecordedEvent) []eventlog.Event {
	out := make([]eventlog.Event, 0, len(events))
	for _, rec := range events {
		if e, err := codec.Decode(rec.Type, rec.Data); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// technician names a technician; "technician <id>" when their stream names nobody.
func (n *names) technician(id uuid.UUID) string {
	if p := n.technicians[id]; p != nil && p.Name != "" {
		return p.Name
	}
	return "technician " + id.String()
}

// person is the technician as a state's assignee; nil for none.
func (n *names) person(id uuid.UUID) *app.Person {
	if id == uuid.Nil {
		return nil
	}
	if p := n.technicians[id]; p != nil {
		return p
	}
	return &app.Person{ID: id}
}

// actor resolves an event's actor to a name: a technician's, the request's customer's, or the
// actor as written ("admin", "system", or what names nobody known).
func (n *names) actor(actor string) string {
	if name, ok := n.actors[actor]; ok {
		return name
	}
	name := n.resolve(actor)
	n.actors[actor] = name
	return name
}

func (n *names) resolve(actor string) string {
	kind, id, ok := strings.Cut(actor, ":")
	if !ok {
		return actor
	}
	parsed, err := uuid.Parse(id)
	if err != nil {
		return actor
	}
	switch kind {
	case "technician":
		if p := n.technicians[parsed]; p != nil && p.Name != "" {
			return p.Name
		}
	case "customer":
		if parsed == n.requestID && n.customer != "" {
			return n.customer
		}
	}
	return actor
}

// apply sets the timeline's state after one event: what the domain's request r holds once it
// folded e, and the counts the timeline adds.
func (n *names) apply(st *State, r *request.Request, rec *eventlog.RecordedEvent, e eventlog.Event) {
	switch e.(type) {
	case *request.Submitted:
		c := r.Customer()
		*st = State{CompanyID: r.CompanyID(), CompanyName: n.company, CustomerName: c.Name, CustomerEmail: c.Email, Platform: r.Platform()}
	case *request.MessageSent:
		st.Messages++
	case *request.NoteAdded:
		st.Notes++
	case *request.FileShared:
		st.Files++
	}
	st.Status, st.Assignee, st.Chat, st.ScreenSharing, st.Closed = r.Status(), n.person(r.Assignee()), r.Chat(), r.ScreenSharing(), r.IsClosed()
	st.Version, st.LastActivity = rec.Version, rec.Metadata.OccurredAt
}
