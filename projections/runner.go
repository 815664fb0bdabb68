package projections

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

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/fault"
	"github.com/helpstream/helpstream/internal/leader"
)

// Runner keeps read models up to date: for every projection it campaigns for leadership with a
// PostgreSQL advisory lock, and while it leads, applies the event log to the projection's tables
// from its checkpoint, one transaction per batch that also moves the checkpoint.
//
// Any number of runners (in `serve` processes or `helpstream projections run`) may share a
// database: one leads each projection, the others stand by and take over when the leader stops
// or its lock connection dies. Correctness does not rest on the lock alone: every batch locks
// the checkpoint row and drops the events at or before the stored position, so even two
// projectors applying at once (a leader that has not noticed yet that it lost its lock, and its
// successor) never apply an event twice.
type Runner struct {
	cfg        Config
	log        *slog.Logger
	projectors []*projector
	states     map[string]*projectionState
	// outages tell each projection's failures as episodes: one line when it starts failing,
	// one when it applies again, not a line a retry.
	outages map[string]*fault.Episodes
	running atomic.Bool

	mu       sync.Mutex
	advanced chan struct{} // closed and replaced whenever a checkpoint this runner writes advances
}

// projectionState is what a Runner knows of one projection.
type projectionState struct {
	mu      sync.Mutex
	leading bool
	pos     eventlog.Position // last checkpoint this runner read or committed while leading
}

// NewRunner checks cfg, fills in its defaults and returns a Runner; Run starts it.
func NewRunner(cfg Config) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runner{
		cfg:      cfg,
		log:      cfg.Logger,
		states:   make(map[string]*projectionState, len(cfg.Projections)),
		outages:  make(map[string]*fault.Episodes, len(cfg.Projections)),
		advanced: make(chan struct{}),
	}
	for _, p := range cfg.Projections {
		pr, err := newProjector(p)
		if err != nil {
			return nil, err
		}
		r.projectors = append(r.projectors, pr)
		r.states[pr.name] = &projectionState{}
		r.outages[pr.name] = fault.NewEpisodes(fmt.Sprintf("projection %s: applying the log failed; resuming from the stored checkpoint every %s, nothing is skipped", pr.name, cfg.RetryDelay), cfg.Logger)
	}
	return r, nil
}

// Run keeps every projection until ctx ends, then returns nil once every projector has
// stopped (a batch in flight is rolled back). Failures of the database, of the event store and
// transient failures of a projection's Apply (see Transient) are logged and retried; an event
// that fails for a reason of its own is parked (see ParkedEvent) and the projection goes on.
// Nothing ends Run but ctx. A Runner runs once at a time.
func (r *Runner) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("projection runner: already running")
	}
	defer r.running.Store(false)
	if len(r.projectors) == 0 {
		r.log.WarnContext(ctx, "projection runner: no projections to run")
	}
	var wg sync.WaitGroup
	for _, pr := range r.projectors {
		wg.Go(func() { r.campaign(ctx, pr) })
	}
	wg.Wait()
	return nil
}

// Leading returns the names of the projections this runner leads now, sorted.
func (r *Runner) Leading() []string {
	var names []string
	for name, st := range r.states {
		st.mu.Lock()
		if st.leading {
			names = append(names, name)
		}
		st.mu.Unlock()
	}
	sort.Strings(names)
	return names
}

// WaitFor is the package's WaitFor for a process that runs this Runner: it returns as soon as a
// checkpoint this runner commits reaches pos, besides polling the database for the projections
// other runners lead (and for checkpoints moved by a rebuild).
func (r *Runner) WaitFor(ctx context.Context, names []string, pos eventlog.Position, timeout time.Duration) (bool, error) {
	return waitFor(ctx, r.cfg.Pool, names, pos, timeout, r.reached)
}

// reached reports whether this runner has committed pos for every named projection and whether
// it leads them all, and returns a channel closed at its next commit.
func (r *Runner) reached(names []string, pos eventlog.Position) (done, leadsAll bool, wake <-chan struct{}) {
	r.mu.Lock()
	wake = r.advanced
	r.mu.Unlock()
	done, leadsAll = true, true
	for _, name := range names {
		st, ok := r.states[name]
		if !ok {
			return false, false, wake
		}
		st.mu.Lock()
		leadsAll = leadsAll && st.leading
		done = done && st.leading && st.pos.Compare(pos) >= 0
		st.mu.Unlock()
	}
	return done, leadsAll, wake
}

func (r *Runner) setLeading(name string, leading bool, pos eventlog.Position) {
	st := r.states[name]
	st.mu.Lock()
	st.leading, st.pos = leading, pos
	st.mu.Unlock()
}

func (r *Runner) committed(name string, pos eventlog.Position) {
	st := r.states[name]
	st.mu.Lock()
	if pos.Compare(st.pos) > 0 {
		st.pos = pos
	}
	st.mu.Unlock()
	r.mu.Lock()
	close(r.advanced)
	r.advanced = make(chan struct{})
	r.mu.Unlock()
}

// campaign keeps the projection until ctx ends. When this runner starts and the tables were
// built by another schema, it first rebuilds them beside the live ones (see Rebuild), holding the
// rebuild's lock but never the projection's leadership: a leader elsewhere (a server of the
// previous version, during a rolling deploy) goes on applying the log to the live tables until
// the swap, and the rebuild's DDL holds back no reader of the log. Then it leads the projection
// whenever it holds its advisory lock. A leader whose tables another server swapped to another
// schema stops leading and stands by: those tables belong to the servers that know that schema
// (restarting this one rebuilds them to its own).
func (r *Runner) campaign(ctx context.Context, pr *projector) {
	log := r.log.With("projection", pr.name)
	for ctx.Err() == nil {
		if err := r.rebuildStale(ctx, pr, log); err == nil {
			break
		} else if ctx.Err() == nil {
			r.outages[pr.name].Failed(ctx, err, "projection "+pr.name)
			sleep(ctx, r.cfg.RetryDelay)
		}
	}
	for ctx.Err() == nil {
		campaignCtx, stop := context.WithCancel(ctx)
		var standBy bool
		leader.Run(campaignCtx, leader.Campaign{
			Pool: r.cfg.Pool, Key: LeaderLockKey(pr.name), Name: "helpstream projection " + pr.name,
			Retry: r.cfg.LeaderRetry, Logger: log,
		}, func(ctx context.Context) {
			if r.lead(ctx, pr, log) {
				standBy = true
				stop()
			}
		})
		stop()
		if standBy {
			log.WarnContext(ctx, "projection: another server swapped in tables of another schema; this one stands by until they are this schema's again", "every", r.cfg.LeaderRetry)
			r.standBy(ctx, pr)
		}
	}
}

// rebuildStale rebuilds the projection beside its live tables when they were built by another
// schema (once: Rebuild looks again under its lock, so a rebuild another server finished
// meanwhile is not done twice).
func (r *Runner) rebuildStale(ctx context.Context, pr *projector, log *slog.Logger) error {
	stale, err := storedSchemaDiffers(ctx, r.cfg.Pool, pr)
	if err != nil || !stale {
		return err
	}
	log.InfoContext(ctx, "projection: schema changed, rebuilding the tables beside the live ones")
	res, err := Rebuild(ctx, r.cfg.Pool, r.cfg.Store, pr.p, RebuildOptions{BatchSize: r.cfg.CatchUpBatch, Logger: r.log, OnlyIfStale: true})
	if err != nil {
		return err
	}
	if res.Skipped {
		log.InfoContext(ctx, "projection: another server rebuilt the tables meanwhile")
		return nil
	}
	log.InfoContext(ctx, "projection: rebuilt", "events", res.Events, "position", res.Position.String(), "duration", res.Duration)
	return nil
}

// standBy waits until the projection's tables are of its schema again, or ctx ends.
func (r *Runner) standBy(ctx context.Context, pr *projector) {
	for ctx.Err() == nil {
		sleep(ctx, r.cfg.LeaderRetry)
		if stale, err := storedSchemaDiffers(ctx, r.cfg.Pool, pr); err == nil && !stale {
			return
		}
	}
}

// lead applies the log to the projection until ctx ends (or leadership is lost). It returns true
// when the tables are of another schema: this runner should stop leading.
func (r *Runner) lead(ctx context.Context, pr *projector, log *slog.Logger) (otherSchema bool) {
	defer r.setLeading(pr.name, false, eventlog.Start())
	for ctx.Err() == nil {
		err := r.project(ctx, pr, log)
		if ctx.Err() != nil {
			return false
		}
		if errors.Is(err, errSchemaChanged) {
			return true
		}
		if errors.Is(err, errCheckpointMissing) || errors.Is(err, errCheckpointMoved) {
			log.InfoContext(ctx, "projection: tables changed under the leader, preparing them again", "reason", err)
			continue
		}
		r.outages[pr.name].Failed(ctx, err, "projection "+pr.name)
		sleep(ctx, r.cfg.RetryDelay)
	}
	return false
}

// project prepares the projection's tables, catches up from its checkpoint in pages of
// CatchUpBatch and then applies live batches until ctx ends or a batch fails.
func (r *Runner) project(ctx context.Context, pr *projector, log *slog.Logger) error {
	pos, err := r.prepare(ctx, pr, log)
	if err != nil {
		return err
	}
	r.outages[pr.name].Succeeded(ctx)
	r.setLeading(pr.name, true, pos)
	for {
		page, err := r.cfg.Store.ReadAll(ctx, pos, eventlog.ReadOptions{Limit: r.cfg.CatchUpBatch})
		if err != nil {
			return fmt.Errorf("catch up projection %s from %s: %w", pr.name, pos, err)
		}
		if len(page) == 0 {
			break
		}
		if pos, err = r.applyBatch(ctx, pr, pos, page); err != nil {
			return err
		}
		if len(page) < r.cfg.CatchUpBatch {
			break
		}
	}
	return r.cfg.Store.Subscribe(ctx, pos, eventlog.SubscribeOptions{MaxBatch: r.cfg.BatchSize},
		func(ctx context.Context, batch []eventlog.RecordedEvent) error {
			var err error
			pos, err = r.applyBatch(ctx, pr, pos, batch)
			return err
		})
}

// prepare makes sure the projection's tables exist (creating missing ones, to be projected from
// the start) and returns the checkpoint; errSchemaChanged when they were built by another
// schema, which this runner rebuilds only when it starts (campaign).
func (r *Runner) prepare(ctx context.Context, pr *projector, log *slog.Logger) (eventlog.Position, error) {
	cp, current, created, err := ensureTables(ctx, r.cfg.Pool, pr)
	if err != nil {
		return eventlog.Start(), err
	}
	if created != nil {
		log.InfoContext(ctx, "projection: tables created, projecting from the start", "tables", created)
	}
	if !current {
		return eventlog.Start(), fmt.Errorf("projection %s: %w", pr.name, errSchemaChanged)
	}
	return cp.pos, nil
}

// applyBatch applies the events of batch that come after the stored checkpoint, and moves the
// checkpoint, in one transaction. applied is the checkpoint this projector last read or wrote,
// the point its reading of the log has passed. It returns the checkpoint afterwards, which is
// past the batch when a rebuild moved it further meanwhile.
//
// When Apply fails for a reason of the events' own (see Transient), the batch is rolled back
// and applied again in parts, each in a savepoint, and the events that fail alone are parked
// (see applyParking), with the later events of their streams, in the transaction that moves
// the checkpoint past them. A transient failure rolls the batch back and returns the error:
// the leader applies it again from the checkpoint.
func (r *Runner) applyBatch(ctx context.Context, pr *projector, applied eventlog.Position, batch []eventlog.RecordedEvent) (eventlog.Position, error) {
	pos, err := r.tryBatch(ctx, pr, applied, batch, false)
	var failed *eventsFailed
	if !errors.As(err, &failed) {
		return pos, err
	}
	r.log.WarnContext(ctx, "projection: a batch failed on its events; applying it in parts to park the events that fail alone",
		"projection", pr.name, "events", failed.events, "after", failed.after.String(), "error", failed.err)
	return r.tryBatch(ctx, pr, applied, batch, true)
}

// eventsFailed is the failure of a whole batch's Apply for a reason of its events' own.
type eventsFailed struct {
	events int
	after  eventlog.Position
	err    error
}

func (e *eventsFailed) Error() string {
	return fmt.Sprintf("apply %d events after %s: %v", e.events, e.after, e.err)
}

func (e *eventsFailed) Unwrap() error { return e.err }

// tryBatch is one attempt at applyBatch: with careful, events that fail are parked; without, a
// failure of the events' own returns *eventsFailed.
func (r *Runner) tryBatch(ctx context.Context, pr *projector, applied eventlog.Position, batch []eventlog.RecordedEvent, careful bool) (eventlog.Position, error) {
	tx, err := r.cfg.Pool.BeginTx(ctx, liveTx)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("projection %s: begin batch: %w", pr.name, err)
	}
	defer rollback(ctx, tx)
	stored, anyParked, err := lockForBatch(ctx, tx, pr)
	if err != nil {
		return eventlog.Start(), err
	}
	if stored.Compare(applied) < 0 {
		// The tables were recreated from the start meanwhile (by another projector that took
		// over while this one had not yet noticed it lost its lock): the events between the
		// checkpoint and where this projector's reading stands would be skipped.
		return eventlog.Start(), fmt.Errorf("projection %s: checkpoint moved back from %s to %s: %w", pr.name, applied, stored, errCheckpointMoved)
	}
	// Drop what the checkpoint covers already: a rebuild, or another projector, may have moved it.
	first, _ := slices.BinarySearchFunc(batch, stored, func(e eventlog.RecordedEvent, p eventlog.Position) int {
		if e.Position.Compare(p) <= 0 {
			return -1
		}
		return 1
	})
	fresh := batch[first:]
	if len(fresh) == 0 {
		if stored.Compare(applied) > 0 {
			r.committed(pr.name, stored) // a rebuild moved it: wake the waiters
		}
		return stored, nil // the deferred rollback releases the row
	}
	park := newParking(pr.name)
	if anyParked {
		blocked, err := blockedStreams(ctx, tx, pr.name, fresh)
		if err != nil {
			return eventlog.Start(), fmt.Errorf("projection %s: %w", pr.name, err)
		}
		for _, s := range blocked {
			park.blocked[s] = true
		}
	}
	var n int
	if careful {
		if n, err = applyParking(ctx, tx, pr.p, fresh, park); err != nil {
			return eventlog.Start(), fmt.Errorf("projection %s: apply %d events after %s: %w", pr.name, len(fresh), stored, err)
		}
	} else if run := park.skipBlocked(fresh); len(run) > 0 {
		if err := pr.p.Apply(ctx, tx, run); err != nil {
			if transientIn(tx, err) || ctx.Err() != nil {
				return eventlog.Start(), fmt.Errorf("projection %s: apply %d events after %s: %w", pr.name, len(run), stored, err)
			}
			return eventlog.Start(), &eventsFailed{events: len(run), after: stored, err: err}
		}
		n = len(run)
	}
	parked := park.parked()
	if err := insertParked(ctx, tx, parked); err != nil {
		return eventlog.Start(), fmt.Errorf("projection %s: %w", pr.name, err)
	}
	last := fresh[len(fresh)-1].Position
	if _, err := tx.Exec(ctx, `UPDATE public.projection_checkpoints
		SET position = $2, events_applied = events_applied + $3, updated_at = now() WHERE name = $1`,
		pr.name, last.String(), n); err != nil {
		return eventlog.Start(), fmt.Errorf("projection %s: move checkpoint: %w", pr.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return eventlog.Start(), fmt.Errorf("projection %s: commit batch: %w", pr.name, err)
	}
	r.committed(pr.name, last)
	logParked(ctx, r.log, parked)
	return last, nil
}

// lockForBatch locks the projection's checkpoint row, checks that the tables are the
// projection's, and returns the checkpoint and whether the projection has parked events, in one
// round trip. The second statement runs after the lock is granted, so it sees what a retry that
// held the lock committed.
func lockForBatch(ctx context.Context, tx pgx.Tx, pr *projector) (stored eventlog.Position, anyParked bool, err error) {
	var b pgx.Batch
	b.Queue(`SELECT position, schema_hash FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE`, pr.name)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM public.projection_parked WHERE projection = $1)`, pr.name)
	results := tx.SendBatch(ctx, &b)
	var text, hash string
	err = results.QueryRow().Scan(&text, &hash)
	parkedErr := results.QueryRow().Scan(&anyParked)
	closeErr := results.Close()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return stored, false, fmt.Errorf("projection %s: %w", pr.name, errCheckpointMissing)
	case err != nil:
		return stored, false, fmt.Errorf("projection %s: lock checkpoint: %w", pr.name, err)
	case parkedErr != nil:
		return stored, false, fmt.Errorf("projection %s: look for parked events: %w", pr.name, parkedErr)
	case closeErr != nil:
		return stored, false, fmt.Errorf("projection %s: lock checkpoint: %w", pr.name, closeErr)
	case hash != pr.hash:
		return stored, false, fmt.Errorf("projection %s: %w", pr.name, errSchemaChanged)
	}
	if stored, err = eventlog.ParsePosition(text); err != nil {
		return stored, false, fmt.Errorf("projection %s: checkpoint: %w", pr.name, err)
	}
	return stored, anyParked, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
