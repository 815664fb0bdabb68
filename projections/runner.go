package projections

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/fault"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// Runner keeps read models up to date: for every projection it campaigns for leadership with a
// PostgreSQL advisory lock, and while it leads, applies the event log to the projection's tables
// from its checkpoint, one transaction per batch that also moves the checkpoint. The runtime
// that does so is internal/subscriber's; a Runner adds what a projection needs around it: its
// tables created or rebuilt to its schema before it leads, a leader that stands by while the
// tables are of another schema, and the events it cannot apply parked.
//
// Any number of runners (in `serve` processes or `helpstream projections run`) may share a
// database: one leads each projection, the others stand by and take over when the leader stops
// or its lock connection dies. Correctness does not rest on the lock alone: every batch locks
// the checkpoint row and drops the events at or before the stored position, so even two
// projectors applying at once (a leader that has not noticed yet that it lost its lock, and its
// successor) never apply an event twice.
type Runner struct {
	rt *subscriber.Runtime
}

// checkpoints is the table of the projections' checkpoints (migration 003).
var checkpoints = subscriber.NewCheckpoints(liveSchema, "projection_checkpoints", "events_applied")

// NewRunner checks cfg, fills in its defaults and returns a Runner; Run starts it.
func NewRunner(cfg Config) (*Runner, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	consumers := make([]subscriber.Consumer, 0, len(cfg.Projections))
	for _, p := range cfg.Projections {
		pr, err := newProjector(p)
		if err != nil {
			return nil, err
		}
		consumers = append(consumers, &follower{projector: pr, cfg: &cfg, log: cfg.Logger.With("projection", pr.name)})
	}
	rt, err := subscriber.New(cfg.runtime(consumers))
	if err != nil {
		return nil, fmt.Errorf("projection runner: %w", err)
	}
	return &Runner{rt: rt}, nil
}

// Run keeps every projection until ctx ends, then returns nil once every projector has
// stopped (a batch in flight is rolled back). Failures of the database, of the event store and
// transient failures of a projection's Apply (see Transient) are logged and retried; an event
// that fails for a reason of its own is parked (see ParkedEvent) and the projection goes on.
// Nothing ends Run but ctx. A Runner runs once at a time.
func (r *Runner) Run(ctx context.Context) error { return r.rt.Run(ctx) }

// Leading returns the names of the projections this runner leads now, sorted.
func (r *Runner) Leading() []string { return r.rt.Leading() }

// WaitFor is the package's WaitFor for a process that runs this Runner: it returns as soon as a
// checkpoint this runner commits reaches pos, besides polling the database for the projections
// other runners lead (and for checkpoints moved by a rebuild).
func (r *Runner) WaitFor(ctx context.Context, names []string, pos eventlog.Position, timeout time.Duration) (bool, error) {
	return r.rt.WaitFor(ctx, names, pos, timeout)
}

// follower is a projection as the runtime keeps it for a Runner.
type follower struct {
	*projector
	cfg *Config
	log *slog.Logger
}

// Name implements subscriber.Consumer.
func (f *follower) Name() string { return f.name }

// Apply implements subscriber.Consumer; the runtime applies batches through BeginBatch.
func (f *follower) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	return f.p.Apply(ctx, tx, batch)
}

// Start implements subscriber.Starter. When this runner starts and the tables were built by
// another schema, it first rebuilds them beside the live ones (see Rebuild), holding the
// rebuild's lock but never the projection's leadership: a leader elsewhere (a server of the
// previous version, during a rolling deploy) goes on applying the log to the live tables until
// the swap, and the rebuild's DDL holds back no reader of the log. Rebuild looks again under its
// lock, so a rebuild another server finished meanwhile is not done twice.
func (f *follower) Start(ctx context.Context) error {
	stale, err := storedSchemaDiffers(ctx, f.cfg.Pool, f.projector)
	if err != nil || !stale {
		return err
	}
	f.log.InfoContext(ctx, "projection: schema changed, rebuilding the tables beside the live ones")
	res, err := Rebuild(ctx, f.cfg.Pool, f.cfg.Store, f.p, RebuildOptions{BatchSize: f.cfg.CatchUpBatch, Logger: f.cfg.Logger, OnlyIfStale: true})
	if err != nil {
		return err
	}
	if res.Skipped {
		f.log.InfoContext(ctx, "projection: another server rebuilt the tables meanwhile")
		return nil
	}
	f.log.InfoContext(ctx, "projection: rebuilt", "events", res.Events, "position", res.Position.String(), "duration", res.Duration)
	return nil
}

// StandBy implements subscriber.StandByer: a leader whose tables another server swapped to
// another schema stops leading and waits until they are of its schema again. Those tables
// belong to the servers that know that schema (restarting this one rebuilds them to its own).
func (f *follower) StandBy(ctx context.Context) {
	for ctx.Err() == nil {
		fault.Pause(ctx, f.cfg.LeaderRetry)
		if stale, err := storedSchemaDiffers(ctx, f.cfg.Pool, f.projector); err == nil && !stale {
			return
		}
	}
}

// Prepare implements subscriber.Preparer: it makes sure the projection's tables exist
// (creating missing ones, to be projected from the start) and returns the checkpoint; it stands
// by when they were built by another schema, which this runner rebuilds only when it starts.
func (f *follower) Prepare(ctx context.Context) (eventlog.Position, error) {
	cp, current, created, err := ensureTables(ctx, f.cfg.Pool, f.projector)
	if err != nil {
		return eventlog.Start(), err
	}
	if created != nil {
		f.log.InfoContext(ctx, "projection: tables created, projecting from the start", "tables", created)
	}
	if !current {
		return eventlog.Start(), fmt.Errorf("projection %s: %w", f.name, errOtherSchema)
	}
	return cp.pos, nil
}

// BeginBatch implements subscriber.BatchConsumer: it locks the checkpoint row, checks that the
// tables are the projection's and learns whether the projection has parked events (see
// lockForBatch), and returns the batch that applies the events.
func (f *follower) BeginBatch(ctx context.Context, tx pgx.Tx, careful bool) (eventlog.Position, subscriber.Batch, error) {
	stored, anyParked, err := lockForBatch(ctx, tx, f.projector)
	if err != nil {
		return stored, nil, err
	}
	return stored, &liveBatch{follower: f, stored: stored, anyParked: anyParked, careful: careful}, nil
}

// liveBatch applies one batch to the live tables. The events of streams with a parked event are
// parked too, in the transaction that moves the checkpoint past them. When Apply fails for a
// reason of the events' own (see Transient), the runtime rolls the batch back and begins it
// again, careful: it is applied in parts, each in a savepoint, and the events that fail alone
// are parked (see applyParking). A transient failure rolls the batch back and returns the
// error: the leader applies it again from the checkpoint.
type liveBatch struct {
	*follower
	stored    eventlog.Position
	anyParked bool
	careful   bool
	parked    []ParkedEvent
}

func (b *liveBatch) Apply(ctx context.Context, tx pgx.Tx, fresh []eventlog.RecordedEvent) (int, error) {
	park := newParking(b.name)
	if b.anyParked {
		blocked, err := blockedStreams(ctx, tx, b.name, fresh)
		if err != nil {
			return 0, err
		}
		for _, s := range blocked {
			park.blocked[s] = true
		}
	}
	var n int
	if b.careful {
		var err error
		if n, err = applyParking(ctx, tx, b.p, fresh, park); err != nil {
			return 0, err
		}
	} else if run := park.skipBlocked(fresh); len(run) > 0 {
		if err := b.p.Apply(ctx, tx, run); err != nil {
			if transientIn(tx, err) || ctx.Err() != nil {
				return 0, err
			}
			return 0, &subscriber.PoisonedBatch{Events: len(run), After: b.stored, Err: err}
		}
		n = len(run)
	}
	b.parked = park.parked()
	if err := insertParked(ctx, tx, b.parked); err != nil {
		return 0, err
	}
	return n, nil
}

// Committed logs the events the batch parked.
func (b *liveBatch) Committed(ctx context.Context) { logParked(ctx, b.cfg.Logger, b.parked) }
