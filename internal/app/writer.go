package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// The command path. In one process, the commands of one stream are decided one after the other
// by that stream's writer, on the stream's cached state, so they never conflict with each other;
// commands of different streams run in parallel. Commands that queue while the writer appends
// are decided together, each on the state the previous one left, and appended in one statement
// (a group commit): a busy chat is as fast as its store's round trip allows, whatever the number
// of people typing. The append also checks that every other stream the decisions read (the
// technician acting, a company's portals) is still at the version read. Only when another
// process wrote meanwhile does the writer read the tails it missed and decide again, with
// jittered backoff, until the command's deadline.

// DefaultConflictWait is how long a command keeps deciding again after losing races to other
// processes (Config.ConflictWait), unless its context ends sooner.
const DefaultConflictWait = 5 * time.Second

// maxGroup caps how many queued commands one append carries.
const maxGroup = 128

// decideFunc decides one command on a copy of the stream's aggregate (nil for a stream with no
// event) and returns it, possibly new (a submission), with the command's events recorded in
// its Changes. It reads other streams through r. It may run more than once, on newer states,
// and must not record anything when it refuses.
type decideFunc func(agg aggregate, r *reads) (aggregate, error)

// created returns a new aggregate as a decideFunc does: nil, not a typed nil, with a refusal.
func created[A aggregate](agg A, err error) (aggregate, error) {
	if err != nil {
		return nil, err
	}
	return agg, nil
}

// decision is one command waiting for its stream's writer.
type decision struct {
	ctx       context.Context
	deadline  time.Time
	meta      Meta
	assumeNew bool // the command creates the stream: a cache miss need not read it
	decide    decideFunc
	// lead is closed when the decision's caller becomes the stream's writer; done receives
	// the outcome.
	lead chan struct{}
	done chan outcome
}

type outcome struct {
	res Result
	err error
}

// commandCounters count what CommandStats reports.
type commandCounters struct {
	commands, appends, conflicts atomic.Int64
}

// streamWriter is the queue of one stream's commands in this process.
type streamWriter struct {
	refs    int // callers holding the writer; guarded by writers.mu
	mu      sync.Mutex
	queue   []*decision
	leading bool
}

// writers hands out one streamWriter per stream in use.
type writers struct {
	mu      sync.Mutex
	streams map[string]*streamWriter
}

func (ws *writers) join(streamID string) *streamWriter {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w, ok := ws.streams[streamID]
	if !ok {
		w = &streamWriter{}
		ws.streams[streamID] = w
	}
	w.refs++
	return w
}

func (ws *writers) leave(streamID string, w *streamWriter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if w.refs--; w.refs == 0 {
		delete(ws.streams, streamID)
	}
}

// execute runs one command on streamID: it queues the decision for the stream's writer, or is
// that writer, and answers when the decision's events are stored or it was refused.
func (a *App) execute(ctx context.Context, meta Meta, streamID string, kind *streamKind, assumeNew bool, decide decideFunc) (Result, error) {
	if res, done, err := a.answered(ctx, meta, streamID); err != nil || done {
		return res, err
	}
	// Deadlines are on the real clock: Config.Now is the events' clock, which tests set.
	deadline := time.Now().Add(a.conflictWait)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	d := &decision{ctx: ctx, deadline: deadline, meta: meta, assumeNew: assumeNew, decide: decide,
		lead: make(chan struct{}), done: make(chan outcome, 1)}
	w := a.writers.join(streamID)
	defer a.writers.leave(streamID, w)

	w.mu.Lock()
	w.queue = append(w.queue, d)
	leader := !w.leading
	w.leading = true
	w.mu.Unlock()
	if !leader {
		// The writer answers every queued decision, within the latest deadline of its group.
		select {
		case o := <-d.done:
			return o.res, o.err
		case <-d.lead:
		}
	}
	a.lead(streamID, kind, w)
	o := <-d.done
	return o.res, o.err
}

// create runs a command that starts an aggregate's stream: start decides on the streams it
// reads through r. A stream with events already is a conflict, as the append expecting no
// stream would find.
func create[A foldable[A]](ctx context.Context, a *App, meta Meta, k *aggregateKind[A], id uuid.UUID, start func(r *reads) (A, error)) (Result, error) {
	streamID := k.streamOf(id)
	return a.execute(ctx, meta, streamID, k.streamKind, true, func(agg aggregate, r *reads) (aggregate, error) {
		if agg != nil {
			return agg, &eventlog.ConcurrencyError{StreamID: streamID, Expected: eventlog.NoStream(), Actual: 0}
		}
		return created(start(r))
	})
}

// update runs a command on an existing aggregate: decide changes it, reading other streams
// through r. A stream with no event is ErrNotFound.
func update[A foldable[A]](ctx context.Context, a *App, meta Meta, k *aggregateKind[A], id uuid.UUID, decide func(agg A, r *reads) error) (Result, error) {
	return a.execute(ctx, meta, k.streamOf(id), k.streamKind, false, func(agg aggregate, r *reads) (aggregate, error) {
		if agg == nil {
			return nil, k.notFound(id)
		}
		typed := agg.(A)
		return typed, decide(typed, r)
	})
}

// lead decides and appends one group of queued commands, the caller's among them, then hands
// the writer to the first command still queued: every caller leads at most once, so none
// waits behind a queue that keeps growing.
func (a *App) lead(streamID string, kind *streamKind, w *streamWriter) {
	w.mu.Lock()
	n := min(len(w.queue), maxGroup)
	group := slices.Clone(w.queue[:n])
	w.queue = slices.Delete(w.queue, 0, n)
	w.mu.Unlock()

	a.decideGuarded(streamID, kind, group)

	w.mu.Lock()
	if len(w.queue) > 0 {
		close(w.queue[0].lead)
	} else {
		w.leading = false
	}
	w.mu.Unlock()
}

// ErrCommandPanicked answers the commands of a group whose decision or append panicked (a
// bug): the stream's writer goes on with the next group.
var ErrCommandPanicked = errors.New("the command failed unexpectedly")

// decideGuarded is decideAndAppend that turns a panic into an answer to every decision of the
// group not answered yet, so that no caller waits forever and the writer is handed on.
func (a *App) decideGuarded(streamID string, kind *streamKind, group []*decision) {
	defer func() {
		if p := recover(); p != nil {
			a.cache.forget(streamID)
			slog.Error("command path: a decision panicked; its group is answered with an error", "stream", streamID, "panic", p, "stack", string(debug.Stack()))
			for _, d := range group {
				select {
				case d.done <- outcome{err: fmt.Errorf("%w: %v", ErrCommandPanicked, p)}:
				default: // answered already
				}
			}
		}
	}()
	a.decideAndAppend(streamID, kind, group)
}

// reads is what a group of decisions read besides their own stream: each stream at the one
// version all of them saw, which the append then requires.
type reads struct {
	app    *App
	ctx    context.Context
	states map[string]*streamState
}

func (r *reads) state(streamID string, kind *streamKind) (*streamState, error) {
	if s, ok := r.states[streamID]; ok {
		return s, nil
	}
	s, err := r.app.stateOf(r.ctx, streamID, kind)
	if err != nil {
		return nil, err
	}
	r.states[streamID] = s
	return s, nil
}

// readAggregate returns the aggregate as read, or ErrNotFound. The command must not change it.
func readAggregate[A foldable[A]](r *reads, k *aggregateKind[A], id uuid.UUID) (A, error) {
	s, err := r.state(k.streamOf(id), k.streamKind)
	return k.found(id, s, err)
}

// technician returns the technician as read, or ErrNotFound. The command must not change it.
func (r *reads) technician(id uuid.UUID) (*directory.Technician, error) {
	return readAggregate(r, r.app.technicians, id)
}

// company returns the company as read, or ErrNotFound. The command must not change it.
func (r *reads) company(id uuid.UUID) (*directory.Company, error) {
	return readAggregate(r, r.app.companies, id)
}

func (r *reads) versions() []eventlog.StreamVersion {
	out := make([]eventlog.StreamVersion, 0, len(r.states))
	for id, s := range r.states {
		out = append(out, eventlog.StreamVersion{StreamID: id, Version: s.version})
	}
	slices.SortFunc(out, func(x, y eventlog.StreamVersion) int { return cmp.Compare(x.StreamID, y.StreamID) })
	return out
}

// planned is a group's decisions on one state: each command's events or refusal, and the
// aggregate after them.
type planned struct {
	agg      aggregate
	events   [][]eventlog.Event // per decision
	refusals []error            // per decision
	refused  bool
	count    int // events in all
}

// plan decides every decision of the group in order, each on the state the previous left.
func plan(state *streamState, group []*decision, r *reads) planned {
	p := planned{agg: state.working(), events: make([][]eventlog.Event, len(group)), refusals: make([]error, len(group))}
	for i := 0; i < len(group); i++ {
		before := 0
		if p.agg != nil {
			before = len(p.agg.Changes())
		}
		agg, err := group[i].decide(p.agg, r)
		if err != nil {
			if agg != nil && len(agg.Changes()) > before {
				// A refusal that recorded something leaves the copy changed: decide the group
				// again from the start without it.
				p2 := plan(state, slices.Delete(slices.Clone(group), i, i+1), r)
				return p2.with(i, fmt.Errorf("refused after recording events: %w", err))
			}
			p.refusals[i], p.refused = err, true
			continue
		}
		p.agg = agg
		p.events[i] = slices.Clone(agg.Changes()[before:])
		p.count += len(p.events[i])
	}
	return p
}

// with puts the refusal of the decision that plan left out back at its place i.
func (p planned) with(i int, err error) planned {
	p.events = slices.Insert(p.events, i, nil)
	p.refusals = slices.Insert(p.refusals, i, err)
	p.refused = true
	return p
}

// decideAndAppend answers every decision of group: it decides them on the stream's state and
// appends their events in one statement, deciding again on the tails it missed when another
// process wrote first.
func (a *App) decideAndAppend(streamID string, kind *streamKind, group []*decision) {
	latest := group[0].deadline
	for _, d := range group[1:] {
		latest = later(latest, d.deadline)
	}
	// The group outlives a caller that gave up: an append in flight finishes and is answered.
	ctx, cancel := context.WithDeadline(context.WithoutCancel(group[0].ctx), latest)
	defer cancel()

	var state *streamState
	if s := a.cache.get(streamID); s != nil {
		state = s
	} else if allNew(group) {
		state = &streamState{streamID: streamID, kind: kind, version: -1}
	} else {
		s, err := a.stateOf(ctx, streamID, kind)
		if err != nil {
			answerAll(group, Result{}, err)
			return
		}
		state = s
	}
	verified := false
	for attempt := 0; ; attempt++ {
		group = dropExpired(group, attempt)
		if len(group) == 0 {
			return
		}
		r := &reads{app: a, ctx: ctx, states: map[string]*streamState{}}
		p := plan(state, group, r)
		if p.count == 0 && !verified {
			// Nothing to append: the answers (refusals, or "nothing to change") rest on state
			// no append will check. They must not come from a state this process has not seen
			// the end of: read the tails of everything decided on (usually nothing), and decide
			// again if any. When the group appends, the append checks every stream it read,
			// which vouches for its refusals too.
			verified = true
			fresh, changed, err := a.refresh(ctx, state, r)
			if err != nil {
				answerAll(group, Result{}, err)
				return
			}
			if changed {
				state = fresh
				continue
			}
		}
		if p.count == 0 {
			a.counters.commands.Add(int64(len(group)))
			for i, d := range group {
				d.done <- outcome{res: Result{StreamID: streamID, Version: state.version}, err: p.refusals[i]}
			}
			return
		}
		next, results, err := a.appendPlanned(ctx, state, group, p, r)
		if err == nil {
			a.counters.commands.Add(int64(len(group)))
			a.counters.appends.Add(1)
			a.cache.put(next)
			for i, d := range group {
				d.done <- outcome{res: results[i], err: p.refusals[i]}
			}
			return
		}
		var conflict *eventlog.ConcurrencyError
		if !errors.As(err, &conflict) {
			if errors.Is(err, eventlog.ErrIDReused) && len(group) > 1 {
				// One command of the group was a retry of one already stored: each on its own
				// tells which, and the others still land.
				for _, d := range group {
					a.decideAndAppend(streamID, kind, []*decision{d})
				}
				return
			}
			// The append may or may not have happened: read the stream again next time.
			a.cache.forget(streamID)
			answerAll(group, Result{}, afterLostRaces(err, attempt))
			return
		}
		// Another process wrote first: read what it wrote and decide again.
		a.counters.conflicts.Add(1)
		if conflict.StreamID == streamID {
			state, _, err = a.catchUp(ctx, state)
		} else if s, ok := r.states[conflict.StreamID]; ok {
			_, _, err = a.catchUp(ctx, s)
		} else {
			a.cache.forget(conflict.StreamID)
		}
		if err != nil {
			answerAll(group, Result{}, afterLostRaces(err, attempt+1))
			return
		}
		if attempt > 0 && !a.backOff(ctx, attempt) {
			answerAll(group, Result{}, fmt.Errorf("%w: %w", ErrTooManyConflicts, conflict))
			return
		}
	}
}

// afterLostRaces marks a deadline that passed while deciding again after lost races as
// ErrTooManyConflicts: the caller is told why, not only that time ran out.
func afterLostRaces(err error, attempt int) error {
	if attempt > 0 && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTooManyConflicts, err)
	}
	return err
}

func allNew(group []*decision) bool {
	for _, d := range group {
		if !d.assumeNew {
			return false
		}
	}
	return true
}

func answerAll(group []*decision, res Result, err error) {
	for _, d := range group {
		d.done <- outcome{res: res, err: err}
	}
}

// dropExpired answers the decisions whose caller is gone or whose deadline passed, and returns
// the others.
func dropExpired(group []*decision, attempt int) []*decision {
	now := time.Now()
	kept := make([]*decision, 0, len(group))
	for _, d := range group {
		err := d.ctx.Err()
		if err == nil && !now.Before(d.deadline) {
			err = context.DeadlineExceeded
		}
		if err == nil {
			kept = append(kept, d)
			continue
		}
		if attempt > 0 {
			err = fmt.Errorf("%w: %w", ErrTooManyConflicts, err)
		}
		d.done <- outcome{err: err}
	}
	return kept
}

// backOff sleeps a jittered, growing while before the next attempt, and reports false when the
// group's deadline comes first.
func (a *App) backOff(ctx context.Context, attempt int) bool {
	ceiling := min(time.Millisecond<<min(attempt, 7), 100*time.Millisecond)
	t := time.NewTimer(rand.N(ceiling) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// refresh reads the tails of the stream and of every stream the decisions read, and reports
// whether any had news.
func (a *App) refresh(ctx context.Context, state *streamState, r *reads) (*streamState, bool, error) {
	fresh, changed, err := a.catchUp(ctx, state)
	if err != nil {
		return nil, false, err
	}
	for _, s := range r.states {
		_, news, err := a.catchUp(ctx, s)
		if err != nil {
			return nil, false, err
		}
		changed = changed || news
	}
	return fresh, changed, nil
}

// appendPlanned encodes and seals the group's events and appends them in one statement that
// also checks the streams read. It returns the stream's new state and each decision's result.
func (a *App) appendPlanned(ctx context.Context, state *streamState, group []*decision, p planned, r *reads) (*streamState, []Result, error) {
	data := make([]eventlog.EventData, 0, p.count)
	for i, d := range group {
		now := a.now().UTC()
		for j, change := range p.events[i] {
			typ, payload, err := state.kind.codec.Encode(change)
			if err != nil {
				return nil, nil, fmt.Errorf("encode %s: %w", typ, err)
			}
			data = append(data, eventlog.EventData{
				ID:   a.eventID(d.meta, state.streamID, j),
				Type: typ,
				Data: payload,
				Metadata: eventlog.Metadata{
					Actor:         d.meta.Actor.String(),
					OccurredAt:    now,
					CorrelationID: d.meta.CorrelationID,
					CausationID:   d.meta.IdempotencyKey,
					Decision:      d.meta.Decision,
				},
			})
		}
	}
	if a.protect != nil {
		if err := a.protect(ctx, state.streamID, data); err != nil {
			return nil, nil, fmt.Errorf("seal the personal fields of %s: %w", state.streamID, err)
		}
	}
	eventlog.Seal(state.streamID, state.version, state.lastHash, data)
	landed, err := a.appendChecked(ctx, state.streamID, eventlog.Exactly(state.version), r.versions(), data)
	if err != nil {
		return nil, nil, err
	}
	// Each decision answers where its last event landed; one that wrote nothing, the version
	// the stream had when it was decided.
	results := make([]Result, len(group))
	version, k := state.version, 0
	for i := range group {
		results[i] = Result{StreamID: state.streamID, Version: version}
		for range p.events[i] {
			l := landed[k]
			results[i] = Result{StreamID: state.streamID, Version: l.NextExpected, Position: l.Position, Written: true}
			version, k = l.NextExpected, k+1
		}
	}
	a.written.note(landed[len(landed)-1].Position)
	next := &streamState{streamID: state.streamID, kind: state.kind, agg: state.kind.clone(p.agg), version: version, lastHash: data[len(data)-1].Metadata.Hash}
	return next, results, nil
}

// appendChecked appends with the store's CheckedAppender, or, on a store without one, checks
// the reads with one tail read each before a plain append (not atomic, but the window is one
// round trip) and reports the batch's last position for every event.
func (a *App) appendChecked(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, checks []eventlog.StreamVersion, data []eventlog.EventData) ([]eventlog.AppendResult, error) {
	if checked, ok := a.store.(eventlog.CheckedAppender); ok {
		landed, err := checked.AppendChecked(ctx, streamID, expected, checks, data...)
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", streamID, err)
		}
		return landed, nil
	}
	for _, c := range checks {
		tail, err := a.store.ReadStream(ctx, c.StreamID, c.Version+1, eventlog.ReadOptions{Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("append to %s: check %s: %w", streamID, c.StreamID, err)
		}
		if len(tail) > 0 {
			return nil, &eventlog.ConcurrencyError{StreamID: c.StreamID, Expected: eventlog.Exactly(c.Version), Actual: tail[0].Version}
		}
	}
	res, err := a.store.Append(ctx, streamID, expected, data...)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", streamID, err)
	}
	first, _ := expected.Exact()
	landed := make([]eventlog.AppendResult, len(data))
	for i := range landed {
		landed[i] = eventlog.AppendResult{NextExpected: first + 1 + int64(i), Position: res.Position}
	}
	return landed, nil
}
