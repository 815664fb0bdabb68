package subscriber

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Defaults applied by New to zero fields of Config.
const (
	DefaultBatchSize   = 500
	DefaultLeaderRetry = time.Second
	DefaultRetryDelay  = time.Second
	// defaultCatchUpRead is about how many events a catch-up reads at once by default.
	defaultCatchUpRead = 5000
)

// Config configures a Runtime. Every zero field but Pool, Store, Kind, Checkpoints and
// LeaderLockKey takes its default.
type Config struct {
	// Pool is the PostgreSQL database that holds the checkpoints. Each batch takes one pooled
	// connection for one transaction; every consumer keeps one dedicated connection besides
	// the pool for its leader lock. Required.
	Pool *pgxpool.Pool

	// Store is the event log the consumers follow. Required.
	Store eventlog.Store

	// Kind names the consumers' kind in logs ("projection", "stream"): their log lines carry
	// the attribute Kind=name, their errors start "Kind name:", and their lock connections are
	// named "helpstream Kind name". Required.
	Kind string

	// Consumers are what the runtime keeps, each led by one runtime across every runtime on
	// the database with the same Checkpoints and LeaderLockKey. Names must be unique. Empty is
	// allowed: Run then only waits for its context to end.
	Consumers []Consumer

	// Checkpoints is the table that keeps the consumers' checkpoints. Required.
	Checkpoints *Checkpoints

	// LeaderLockKey is the key of the advisory lock that elects a consumer's leader. Required.
	LeaderLockKey func(name string) int64

	// TxOptions begin each batch's transaction (a projection sets its search_path there).
	TxOptions pgx.TxOptions

	// StartFrom is where a consumer without a checkpoint starts, after this position, when it
	// is no Preparer. Default the start of the log.
	StartFrom eventlog.Position

	// Pacing is the live batch, the campaign's and the retries' periods, and the logger.
	Pacing

	// CatchUpBatch caps the events of one transaction while a new leader catches up from its
	// checkpoint. Default BatchSize.
	CatchUpBatch int

	// CatchUpRead is how many events the catch-up reads at once, one read ahead of the
	// batches it applies, until a read comes back short; then the runtime subscribes live.
	// Default the multiple of CatchUpBatch nearest below 5000, at least CatchUpBatch.
	CatchUpRead int

	// Observer, when set, hears of leadership changes, committed batches and failures, for
	// metrics.
	Observer Observer
}

// Pacing is what the configuration of every kind of consumer shares with the runtime's: each
// kind documents the fields for its own consumers and fills them in with WithDefaults.
type Pacing struct {
	// BatchSize caps the events of one live batch (SubscribeOptions.MaxBatch), so of one
	// transaction of the live phase. Default 500.
	BatchSize int

	// LeaderRetry is how often a standby tries to take a consumer's leader lock, and how often
	// a leader checks that the connection holding its lock is alive. Default 1s.
	LeaderRetry time.Duration

	// RetryDelay is how long a leader waits after a batch failed before it resumes from the
	// stored checkpoint. Default 1s.
	RetryDelay time.Duration

	// Logger receives leadership changes and failed batches. Default slog.Default().
	Logger *slog.Logger
}

// WithDefaults returns p with its zero fields set to their defaults.
func (p Pacing) WithDefaults() Pacing {
	p.BatchSize = cmp.Or(p.BatchSize, DefaultBatchSize)
	p.LeaderRetry = cmp.Or(p.LeaderRetry, DefaultLeaderRetry)
	p.RetryDelay = cmp.Or(p.RetryDelay, DefaultRetryDelay)
	p.Logger = cmp.Or(p.Logger, slog.Default())
	return p
}

// Problems reports each field of p that holds an unusable value: a negative one.
func (p Pacing) Problems() []error {
	var errs []error
	if p.BatchSize < 0 {
		errs = append(errs, fmt.Errorf("BatchSize %d is negative", p.BatchSize))
	}
	if p.LeaderRetry < 0 {
		errs = append(errs, fmt.Errorf("LeaderRetry %s is negative", p.LeaderRetry))
	}
	if p.RetryDelay < 0 {
		errs = append(errs, fmt.Errorf("RetryDelay %s is negative", p.RetryDelay))
	}
	return errs
}

// Observer hears what a Runtime does. Its methods are called on the runtime's goroutines and
// must return quickly.
type Observer interface {
	// Leading says that this runtime started or stopped applying the log for consumer.
	Leading(consumer string, leading bool)
	// Committed says that a batch of events moved consumer's checkpoint to pos, counting
	// applied events, in took (its transaction's wall time).
	Committed(consumer string, applied int, pos eventlog.Position, took time.Duration)
	// Failed says that applying the log for consumer failed with err; the leader resumes from
	// the stored checkpoint after RetryDelay.
	Failed(consumer string, err error)
}

func (c *Config) setDefaults() {
	c.Pacing = c.Pacing.WithDefaults()
	c.CatchUpBatch = cmp.Or(c.CatchUpBatch, c.BatchSize)
	if c.CatchUpRead == 0 && c.CatchUpBatch > 0 {
		c.CatchUpRead = max(c.CatchUpBatch, defaultCatchUpRead/c.CatchUpBatch*c.CatchUpBatch)
	}
}

// Validate reports every field that holds an unusable value.
func (c Config) Validate() error {
	if err := errors.Join(c.Problems()...); err != nil {
		return fmt.Errorf("invalid subscriber runtime config: %w", err)
	}
	return nil
}

// Problems lists what Validate reports, one error a field: for the configuration of a kind of
// consumer that checks its runtime's with its own fields.
func (c Config) Problems() []error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("Pool is nil"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is nil"))
	}
	if c.Kind == "" {
		errs = append(errs, errors.New("Kind is empty"))
	}
	if c.Checkpoints == nil {
		errs = append(errs, errors.New("Checkpoints is nil"))
	}
	if c.LeaderLockKey == nil {
		errs = append(errs, errors.New("LeaderLockKey is nil"))
	}
	errs = append(errs, c.Pacing.Problems()...)
	if c.CatchUpBatch < 0 {
		errs = append(errs, fmt.Errorf("CatchUpBatch %d is negative", c.CatchUpBatch))
	}
	if c.CatchUpRead < 0 {
		errs = append(errs, fmt.Errorf("CatchUpRead %d is negative", c.CatchUpRead))
	}
	names := make(map[string]bool, len(c.Consumers))
	for _, consumer := range c.Consumers {
		if consumer == nil {
			errs = append(errs, errors.New("nil consumer"))
			continue
		}
		if names[consumer.Name()] {
			errs = append(errs, fmt.Errorf("consumer %s listed twice", consumer.Name()))
		}
		names[consumer.Name()] = true
	}
	return errs
}
