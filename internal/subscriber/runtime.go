package subscriber

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/dbsession"
	"github.com/helpstream/helpstream/internal/fault"
	"github.com/helpstream/helpstream/internal/leader"
)

// Runtime keeps consumers up to date with the log. Create it with New and start it with Run.
type Runtime struct {
	cfg     Config
	subs    []*subscription
	byName  map[string]*subscription
	running atomic.Bool

	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever a checkpoint this runtime writes advances
}

// subscription is one consumer as its Runtime keeps it.
type subscription struct {
	c     Consumer
	name  string
	label string // "<kind> <name>", the prefix of its errors
	log   *slog.Logger
	// outage tells the consumer's failures as episodes: one line when it starts failing, one
	// when it applies again, not a line a retry.
	outage *fault.Episodes

	flushing sync.Mutex // held while the consumer's Flush runs

	mu      sync.Mutex
	leading bool
	pos     eventlog.Position // the last checkpoint this runtime read or committed while leading
	applied int64             // events this runtime applied and checkpointed
}

// New checks cfg, fills in its defaults and returns a Runtime.
func New(cfg Config) (*Runtime, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, byName: make(map[string]*subscription, len(cfg.Consumers)), advanced: make(chan struct{})}
	for _, c := range cfg.Consumers {
		s := &subscription{c: c, name: c.Name(), label: cfg.Kind + " " + c.Name(), log: cfg.Logger.With(cfg.Kind, c.Name())}
		s.outage = fault.NewEpisodes(fmt.Sprintf("%s: applying the log failed; resuming from the stored checkpoint every %s, nothing is skipped", s.label, cfg.RetryDelay), s.log)
		r.subs = append(r.subs, s)
		r.byName[s.name] = s
	}
	return r, nil
}

// Run keeps every consumer until ctx ends, then returns nil once each has stopped (a batch in
// flight is rolled back). Failures of the database, of the event store and of a consumer are
// logged and retried; nothing but ctx ends Run. A Runtime runs once at a time.
func (r *Runtime) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%s runtime: already running", r.cfg.Kind)
	}
	defer r.running.Store(false)
	if len(r.subs) == 0 {
		r.cfg.Logger.WarnContext(ctx, r.cfg.Kind+" runtime: nothing to run")
	}
	var wg sync.WaitGroup
	for _, s := range r.subs {
		wg.Go(func() { r.keep(ctx, s) })
	}
	wg.Wait()
	return nil
}

// Leading returns the names of the consumers this runtime applies the log for now, sorted.
func (r *Runtime) Leading() []string {
	var names []string
	for _, s := range r.subs {
		s.mu.Lock()
		if s.leading {
			names = append(names, s.name)
		}
		s.mu.Unlock()
	}
	sort.Strings(names)
	return names
}

// Leads reports whether this runtime applies the log for the named consumer now.
func (r *Runtime) Leads(name string) bool {
	s, ok := r.byName[name]
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// Position is the last checkpoint this runtime read or committed for the named consumer while
// leading it: every event up to it has been applied. Start when it never led.
func (r *Runtime) Position(name string) eventlog.Position {
	s, ok := r.byName[name]
	if !ok {
		return eventlog.Start()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// Applied counts the events this runtime applied for the named consumer and checkpointed
// since it was created (as the consumer's Batch counted them).
func (r *Runtime) Applied(name string) int64 {
	s, ok := r.byName[name]
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applied
}

func (r *Runtime) setLeading(s *subscription, leading bool, pos eventlog.Position) {
	s.mu.Lock()
	s.leading = leading
	if leading {
		s.pos = pos
	}
	s.mu.Unlock()
	if r.cfg.Observer != nil {
		r.cfg.Observer.Leading(s.name, leading)
	}
}

// committed records that s's checkpoint is at pos now, applied events further, and wakes the
// waiters.
func (r *Runtime) committed(s *subscription, pos eventlog.Position, applied int) {
	s.mu.Lock()
	if pos.Compare(s.pos) > 0 {
		s.pos = pos
	}
	s.applied += int64(applied)
	s.mu.Unlock()
	r.mu.Lock()
	close(r.advanced)
	r.advanced = make(chan struct{})
	r.mu.Unlock()
}

// keep keeps the consumer until ctx ends: its Start first, then campaigns for its leadership,
// leading whenever it holds the lock and standing by when the consumer says so.
func (r *Runtime) keep(ctx context.Context, s *subscription) {
	if starter, ok := s.c.(Starter); ok {
		for ctx.Err() == nil {
			err := starter.Start(ctx)
			if err == nil {
				break
			}
			if ctx.Err() == nil {
				r.failed(ctx, s, err)
			}
		}
	}
	for ctx.Err() == nil {
		campaignCtx, stop := context.WithCancel(ctx)
		var standBy bool
		leader.Run(campaignCtx, leader.Campaign{
			Pool: r.cfg.Pool, Key: r.cfg.LeaderLockKey(s.name), Name: "helpstream " + s.label,
			Retry: r.cfg.LeaderRetry, Logger: s.log,
		}, func(ctx context.Context) {
			if r.lead(ctx, s) {
				standBy = true
				stop()
			}
		})
		stop()
		if standBy && ctx.Err() == nil {
			s.log.WarnContext(ctx, r.cfg.Kind+": stands by, not to be led by this server for now", "every", r.cfg.LeaderRetry)
			if sb, ok := s.c.(StandByer); ok {
				sb.StandBy(ctx)
			} else {
				fault.Pause(ctx, r.cfg.LeaderRetry)
			}
		}
	}
}

// failed tells a failure, and waits RetryDelay.
func (r *Runtime) failed(ctx context.Context, s *subscription, err error) {
	s.outage.Failed(ctx, err, s.label)
	if r.cfg.Observer != nil {
		r.cfg.Observer.Failed(s.name, err)
	}
	fault.Pause(ctx, r.cfg.RetryDelay)
}

// lead applies the log for the consumer until ctx ends (or leadership is lost). It returns true
// when the consumer must stand by.
func (r *Runtime) lead(ctx context.Context, s *subscription) (standBy bool) {
	defer func() { r.setLeading(s, false, eventlog.Start()) }()
	for ctx.Err() == nil {
		err := r.follow(ctx, s)
		switch {
		case ctx.Err() != nil:
			return false
		case errors.Is(err, ErrStandBy):
			return true
		case errors.Is(err, ErrCheckpointMissing) || errors.Is(err, ErrCheckpointMoved):
			s.log.InfoContext(ctx, r.cfg.Kind+": the checkpoint changed under the leader, preparing again", "reason", err)
			continue
		}
		r.failed(ctx, s, err)
	}
	return false
}

// follow prepares the consumer, catches up from its checkpoint and then applies live batches,
// until ctx ends or a batch fails.
func (r *Runtime) follow(ctx context.Context, s *subscription) error {
	pos, err := r.prepare(ctx, s)
	if err != nil {
		return err
	}
	r.setLeading(s, true, pos)
	r.flush(ctx, s)
	s.log.DebugContext(ctx, r.cfg.Kind+": applying the log from the checkpoint", "position", pos.String())
	if pos, err = r.catchUp(ctx, s, pos); err != nil {
		return err
	}
	s.outage.Succeeded(ctx)
	var poke chan struct{}
	if t, ok := s.c.(Ticker); ok {
		poke = make(chan struct{}, 1)
		tickCtx, stopTicks := context.WithCancel(ctx)
		var ticks sync.WaitGroup
		ticks.Go(func() { r.tickWhileLive(tickCtx, s, t, poke) })
		defer ticks.Wait()
		defer stopTicks()
	}
	return r.cfg.Store.Subscribe(ctx, pos, eventlog.SubscribeOptions{MaxBatch: r.cfg.BatchSize},
		func(ctx context.Context, batch []eventlog.RecordedEvent) error {
			var err error
			if pos, err = r.applyBatch(ctx, s, pos, batch); err == nil && poke != nil {
				select {
				case poke <- struct{}{}:
				default: // a tick is due already
				}
			}
			return err
		})
}

// defaultTickEvery is the period of a Ticker whose TickEvery is not positive.
const defaultTickEvery = time.Second

// tickWhileLive ticks t after each live batch (poke) and about every TickEvery until ctx ends.
func (r *Runtime) tickWhileLive(ctx context.Context, s *subscription, t Ticker, poke <-chan struct{}) {
	every := t.TickEvery()
	if every <= 0 {
		every = defaultTickEvery
	}
	clock := time.NewTicker(every)
	defer clock.Stop()
	for {
		if err := r.tick(ctx, s, t); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.WarnContext(ctx, r.cfg.Kind+": a tick failed; trying again at the next one", "error", err)
			if r.cfg.Observer != nil {
				r.cfg.Observer.Failed(s.name, err)
			}
		} else {
			r.flush(ctx, s)
		}
		select {
		case <-ctx.Done():
			return
		case <-clock.C:
		case <-poke:
		}
	}
}

// tick runs one Tick in a transaction that holds the consumer's checkpoint row.
func (r *Runtime) tick(ctx context.Context, s *subscription, t Ticker) error {
	tx, err := r.cfg.Pool.BeginTx(ctx, r.cfg.TxOptions)
	if err != nil {
		return fmt.Errorf("%s: begin tick: %w", s.label, err)
	}
	defer dbsession.Rollback(ctx, tx)
	if _, err := r.cfg.Checkpoints.Lock(ctx, tx, s.name); err != nil {
		return fmt.Errorf("%s: tick: %w", s.label, err)
	}
	if err := t.Tick(ctx, tx, time.Now()); err != nil {
		return fmt.Errorf("%s: tick: %w", s.label, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: commit tick: %w", s.label, err)
	}
	return nil
}

// flush calls the consumer's Flush, when it is a Flusher, one at a time; a failure is logged.
func (r *Runtime) flush(ctx context.Context, s *subscription) {
	f, ok := s.c.(Flusher)
	if !ok {
		return
	}
	s.flushing.Lock()
	defer s.flushing.Unlock()
	if err := f.Flush(ctx); err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, r.cfg.Kind+": acting on its decisions failed; trying again after the next commit", "error", err)
		if r.cfg.Observer != nil {
			r.cfg.Observer.Failed(s.name, err)
		}
	}
}

// prepare returns the checkpoint to apply from: the Preparer's, or the stored one (created at
// StartFrom when missing).
func (r *Runtime) prepare(ctx context.Context, s *subscription) (eventlog.Position, error) {
	if p, ok := s.c.(Preparer); ok {
		return p.Prepare(ctx)
	}
	pos, err := r.cfg.Checkpoints.Open(ctx, r.cfg.Pool, s.name, r.cfg.StartFrom)
	if err != nil {
		return pos, fmt.Errorf("%s: %w", s.label, err)
	}
	return pos, nil
}

// catchUp applies the log after pos in batches of CatchUpBatch, reading it in pages of
// CatchUpRead one page ahead, so that reading the next page overlaps applying this one, until a
// page comes back short; Subscribe takes over from the position it returns. ReadAll gives the
// same guarantee as a subscription: it returns nothing that a later commit could precede.
func (r *Runtime) catchUp(ctx context.Context, s *subscription, pos eventlog.Position) (eventlog.Position, error) {
	pages, stop := ReadAhead(ctx, r.cfg.Store, pos, r.cfg.CatchUpRead)
	defer stop()
	for page := range pages {
		if page.Err != nil {
			return pos, fmt.Errorf("%s: catch up from %s: %w", s.label, pos, page.Err)
		}
		for events := page.Events; len(events) > 0; {
			n := min(r.cfg.CatchUpBatch, len(events))
			var err error
			if pos, err = r.applyBatch(ctx, s, pos, events[:n]); err != nil {
				return pos, err
			}
			events = events[n:]
		}
	}
	return pos, nil
}

// applyBatch applies the events of batch that come after the stored checkpoint, and moves the
// checkpoint, in one transaction. applied is the checkpoint this leader last read or wrote, the
// point its reading of the log has passed. It returns the checkpoint afterwards, which is past
// the batch when something else moved it further meanwhile. A batch that fails with a
// *PoisonedBatch is begun again, carefully, once.
func (r *Runtime) applyBatch(ctx context.Context, s *subscription, applied eventlog.Position, batch []eventlog.RecordedEvent) (eventlog.Position, error) {
	pos, err := r.tryBatch(ctx, s, applied, batch, false)
	var poisoned *PoisonedBatch
	if !errors.As(err, &poisoned) {
		return pos, err
	}
	s.log.WarnContext(ctx, r.cfg.Kind+": a batch failed on its events; applying it again carefully, to set aside the events that fail alone",
		"events", poisoned.Events, "after", poisoned.After.String(), "error", poisoned.Err)
	return r.tryBatch(ctx, s, applied, batch, true)
}

// tryBatch is one attempt at applyBatch.
func (r *Runtime) tryBatch(ctx context.Context, s *subscription, applied eventlog.Position, batch []eventlog.RecordedEvent, careful bool) (eventlog.Position, error) {
	began := time.Now()
	tx, err := r.cfg.Pool.BeginTx(ctx, r.cfg.TxOptions)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("%s: begin batch: %w", s.label, err)
	}
	defer dbsession.Rollback(ctx, tx)
	var stored eventlog.Position
	var b Batch
	if bc, ok := s.c.(BatchConsumer); ok {
		stored, b, err = bc.BeginBatch(ctx, tx, careful)
	} else {
		stored, err = r.cfg.Checkpoints.Lock(ctx, tx, s.name)
		b = plainBatch{s.c}
	}
	if err != nil {
		return eventlog.Start(), fmt.Errorf("%s: %w", s.label, err)
	}
	if stored.Compare(applied) < 0 {
		// The consumer's state was recreated from the start meanwhile (by another leader that
		// took over while this one had not yet noticed it lost its lock), or the checkpoint was
		// reset: the events between it and where this leader's reading stands would be skipped.
		return eventlog.Start(), fmt.Errorf("%s: checkpoint moved back from %s to %s: %w", s.label, applied, stored, ErrCheckpointMoved)
	}
	fresh := after(batch, stored)
	if len(fresh) == 0 {
		if stored.Compare(applied) > 0 {
			r.committed(s, stored, 0) // moved by someone else: wake the waiters
		}
		return stored, nil // the deferred rollback releases the row
	}
	n, err := b.Apply(ctx, tx, fresh)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("%s: apply %d events after %s: %w", s.label, len(fresh), stored, err)
	}
	last := fresh[len(fresh)-1].Position
	if err := r.cfg.Checkpoints.Move(ctx, tx, s.name, last, n); err != nil {
		return eventlog.Start(), fmt.Errorf("%s: %w", s.label, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return eventlog.Start(), fmt.Errorf("%s: commit batch: %w", s.label, err)
	}
	r.committed(s, last, n)
	b.Committed(ctx)
	if r.cfg.Observer != nil {
		r.cfg.Observer.Committed(s.name, n, last, time.Since(began))
	}
	r.flush(ctx, s)
	return last, nil
}

// after returns the events of batch, in log order, that come after pos.
func after(batch []eventlog.RecordedEvent, pos eventlog.Position) []eventlog.RecordedEvent {
	first, _ := slices.BinarySearchFunc(batch, pos, func(e eventlog.RecordedEvent, p eventlog.Position) int {
		if e.Position.Compare(p) <= 0 {
			return -1
		}
		return 1
	})
	return batch[first:]
}
