// Package subscriber is the runtime of everything that follows the event log from a checkpoint
// kept in PostgreSQL: the read models' projectors, the event stream's forwarder, and the
// consumers to come (notifier, analytics, process managers).
//
// For each consumer a Runtime campaigns for leadership with a PostgreSQL advisory lock (see
// internal/leader); while it leads, it catches up from the stored checkpoint in pages read one
// ahead, then subscribes to the live log, and applies every batch in one transaction that locks
// the checkpoint row (SELECT … FOR UPDATE), drops the events the checkpoint covers already,
// calls the consumer's Apply and moves the checkpoint. A failed batch is rolled back and the
// leader resumes from the stored checkpoint after RetryDelay.
//
// Correctness does not rest on the advisory lock alone: two runtimes applying at once (a
// leader that has not noticed yet that it lost its lock, and its successor) are serialised on
// the checkpoint row, and the second drops what the first applied, so Apply sees each event
// once in effect.
//
// A Consumer supplies Name and Apply. What only some consumers need comes from optional
// interfaces: Starter (work before the first campaign), Preparer (make ready before leading, in
// place of opening the checkpoint), StandByer (wait while the consumer must not lead),
// BatchConsumer (lock the checkpoint and apply a batch its own way, such as a projection that
// parks the events it cannot apply), Ticker (decide on a clock, such as a process manager's
// timers) and Flusher (act outside the database on what was decided, such as appending the
// commands of a process manager's outbox).
package subscriber

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Consumer is what follows the log.
type Consumer interface {
	// Name identifies the consumer among those of its kind: its checkpoint row and its leader
	// lock.
	Name() string
	// Apply applies a batch of events, in log order, inside tx, the transaction that moves the
	// checkpoint past them and commits after Apply returns. A batch whose transaction fails is
	// rolled back with the checkpoint and applied again, so Apply sees each event once in
	// effect if it leaves nothing outside tx; a consumer that must act outside tx (publish to a
	// broker) does so before it returns, and gets at-least-once. Apply must not commit or roll
	// back tx.
	Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error
}

// Starter is a Consumer with work to do once before the runtime first campaigns for it (a
// projection rebuilds tables of an older schema beside the live ones, without leading). Start
// is tried again every RetryDelay until it returns nil or ctx ends.
type Starter interface {
	Start(ctx context.Context) error
}

// Preparer is a Consumer that makes itself ready each time the runtime starts applying the log
// for it (after it won the leadership, and after a batch found the checkpoint moved or missing):
// Prepare replaces Checkpoints.Open and returns the checkpoint to apply from. An error that
// wraps ErrStandBy makes the runtime give the leadership up (see StandByer).
type Preparer interface {
	Prepare(ctx context.Context) (eventlog.Position, error)
}

// StandByer is a Consumer that knows when it may lead again after it answered ErrStandBy:
// StandBy returns then, or when ctx ends. Without it, the runtime campaigns again after
// LeaderRetry.
type StandByer interface {
	StandBy(ctx context.Context)
}

// Ticker is a Consumer with work on a clock while it leads: a process manager's timers, and the
// decisions it takes on the state its Apply keeps. Once the leader has caught up with the log,
// the runtime calls Tick after each committed live batch and otherwise about every
// TickEvery, each time in a transaction that locks the consumer's checkpoint row, so that a Tick
// never runs beside a batch (even one of another leader that has not noticed yet that it lost
// the lock), and commits it when Tick returns nil. A failed Tick is rolled back, logged and
// tried again at the next one; it does not stop the log. Ticks do not run during catch-up:
// a decision taken on a state the log has moved past would be taken on the past.
type Ticker interface {
	TickEvery() time.Duration
	// Tick decides at now, inside tx. It must not commit or roll back tx.
	Tick(ctx context.Context, tx pgx.Tx, now time.Time) error
}

// Flusher is a Consumer that acts outside the database on what its transactions decided (a
// process manager's outbox of commands). The runtime calls Flush once it leads, before it
// catches up (a crash may have left decisions unacted on), and after every committed batch or
// tick. A failed Flush is logged and tried again after the next commit or tick; it does not stop
// the log. Flush runs on the leader's goroutines one at a time, never beside another Flush of
// the same runtime; two runtimes that both believe they lead may flush at once, so what Flush
// does must be idempotent (a command whose ID is its idempotency key).
type Flusher interface {
	Flush(ctx context.Context) error
}

// BatchConsumer is a Consumer that needs more than Apply in the transaction of each batch. The
// runtime calls BeginBatch in place of Checkpoints.Lock, drops the events at or before the
// position it returns, and applies the rest with the Batch it returned instead of Apply.
type BatchConsumer interface {
	Consumer
	// BeginBatch locks the consumer's checkpoint row in tx and returns its position, with the
	// Batch that applies the events after it in tx. careful is set when the batch is applied
	// again after its first attempt failed with a *PoisonedBatch.
	BeginBatch(ctx context.Context, tx pgx.Tx, careful bool) (eventlog.Position, Batch, error)
}

// Batch applies the events of one batch in its transaction.
type Batch interface {
	// Apply applies fresh, the events after the locked checkpoint, in tx, and returns how many
	// of them count as applied (the checkpoint's counter): the others were set aside. The
	// checkpoint moves past all of them. An error wrapping a *PoisonedBatch makes the runtime
	// roll back and begin the batch again, carefully.
	Apply(ctx context.Context, tx pgx.Tx, fresh []eventlog.RecordedEvent) (applied int, err error)
	// Committed is called once the transaction has committed.
	Committed(ctx context.Context)
}

// PoisonedBatch is the failure of a batch for a reason of its events' own (a payload that does
// not decode, a value the database refuses), which applying the same events again would meet
// again: the runtime rolls the batch back and has the BatchConsumer begin it again with careful
// set, once.
type PoisonedBatch struct {
	Events int               // how many events the failed attempt applied
	After  eventlog.Position // the checkpoint they came after
	Err    error
}

func (e *PoisonedBatch) Error() string { return e.Err.Error() }

func (e *PoisonedBatch) Unwrap() error { return e.Err }

var (
	// ErrStandBy, wrapped by a Preparer's or a BatchConsumer's error, says the consumer must not
	// lead now: the runtime gives the leadership up and stands by (see StandByer).
	ErrStandBy = errors.New("the consumer stands by")
	// ErrCheckpointMoved says the stored checkpoint is not where this leader left it: moved
	// back (the consumer's state was recreated, someone reset it), which resuming from here
	// would skip. The leader prepares again and resumes from the stored checkpoint.
	ErrCheckpointMoved = errors.New("the checkpoint moved under this leader")
	// ErrCheckpointMissing says the checkpoint row is gone: the leader prepares again, which
	// creates it.
	ErrCheckpointMissing = errors.New("checkpoint row is missing")
)

// plainBatch is the Batch of a Consumer that is no BatchConsumer: its Apply, every event
// counted.
type plainBatch struct{ c Consumer }

func (b plainBatch) Apply(ctx context.Context, tx pgx.Tx, fresh []eventlog.RecordedEvent) (int, error) {
	return len(fresh), b.c.Apply(ctx, tx, fresh)
}

func (plainBatch) Committed(context.Context) {}
