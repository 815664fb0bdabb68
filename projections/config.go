package projections

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// Defaults applied by NewRunner to zero fields of Config, and by Rebuild to zero fields of
// RebuildOptions: the runtime's (see internal/subscriber), but for the catch-up's batch.
const (
	DefaultBatchSize    = subscriber.DefaultBatchSize
	DefaultCatchUpBatch = 5000
	DefaultLeaderRetry  = subscriber.DefaultLeaderRetry
	DefaultRetryDelay   = subscriber.DefaultRetryDelay
)

// Config configures a Runner. Every zero field but Pool and Store takes its default.
type Config struct {
	// Pool is the PostgreSQL database that holds the read models and their checkpoints
	// (table projection_checkpoints, migration 003). Required.
	//
	// Each batch takes one pooled connection for one transaction. Besides the pool, every
	// projection keeps one dedicated connection for its leader lock (opened with the pool's
	// connection settings), and a PostgreSQL event store opens one LISTEN connection per
	// subscription.
	Pool *pgxpool.Pool

	// Store is the event store the projections fold. Required.
	Store eventlog.Store

	// Projections are the read models the runner keeps, each led by one active projector across
	// every runner on the same database. Names must be unique and valid (see Projection.Name).
	// Empty is allowed: Run then only waits for its context to end.
	Projections []Projection

	// BatchSize caps the events of one live batch (SubscribeOptions.MaxBatch), so of one
	// transaction of the live phase. Default 500.
	BatchSize int

	// CatchUpBatch is how many events one transaction applies while a projection is behind: a
	// new leader first reads the log from its checkpoint in pages of CatchUpBatch until a page
	// comes back short, then subscribes live. It is also the page of the rebuilds the runner
	// starts. Default 5000.
	CatchUpBatch int

	// LeaderRetry is how often a standby tries to take a projection's advisory lock, and how
	// often a leader checks that the connection holding its lock is alive (a leader whose lock
	// connection died stops applying and campaigns again). Default 1s.
	LeaderRetry time.Duration

	// RetryDelay is how long a leader waits after a batch failed for a transient reason (a lost
	// database connection, a serialization failure; see Transient) before it resubscribes from
	// the stored checkpoint. An event that fails for a reason of its own is parked at once
	// instead. Default 1s.
	RetryDelay time.Duration

	// Logger receives leadership changes, rebuilds, failed batches and one WARN line per parked
	// event. Default slog.Default().
	Logger *slog.Logger

	// Observer, when set, hears what the runtime does for each read model (leadership,
	// committed batches, failures), for metrics.
	Observer subscriber.Observer
}

func (c *Config) setDefaults() {
	pace := c.pacing().WithDefaults()
	c.BatchSize, c.LeaderRetry, c.RetryDelay, c.Logger = pace.BatchSize, pace.LeaderRetry, pace.RetryDelay, pace.Logger
	c.CatchUpBatch = cmp.Or(c.CatchUpBatch, DefaultCatchUpBatch)
}

// pacing is what c shares with the runtime's configuration.
func (c *Config) pacing() subscriber.Pacing {
	return subscriber.Pacing{BatchSize: c.BatchSize, LeaderRetry: c.LeaderRetry, RetryDelay: c.RetryDelay, Logger: c.Logger}
}

// runtime is the configuration of the runtime that keeps the projections, consumers being
// their followers (see follower): one transaction per catch-up page, which is read one ahead.
func (c *Config) runtime(consumers []subscriber.Consumer) subscriber.Config {
	return subscriber.Config{
		Pool: c.Pool, Store: c.Store, Kind: "projection", Consumers: consumers,
		Checkpoints: checkpoints, LeaderLockKey: LeaderLockKey, TxOptions: liveTx,
		Pacing: c.pacing(), CatchUpBatch: c.CatchUpBatch, CatchUpRead: c.CatchUpBatch, Observer: c.Observer,
	}
}

// Validate reports every field that holds an unusable value. Zero fields other than Pool and
// Store are valid: NewRunner replaces them with defaults before it validates.
func (c Config) Validate() error {
	errs := c.runtime(nil).Problems()
	if err := validateProjections(c.Projections); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid projection runner config: %w", err)
	}
	return nil
}

// maxNameBytes keeps "rebuild_<name>" within PostgreSQL's 63-byte identifiers.
const maxNameBytes = 63 - len(scratchPrefix)

var validName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// ValidateName reports whether name can name a projection: lower-case letters, digits and
// underscores, starting with a letter, at most 55 bytes.
func ValidateName(name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("projection name %q: want lower-case letters, digits and underscores, starting with a letter", name)
	}
	if len(name) > maxNameBytes {
		return fmt.Errorf("projection name %q: longer than %d bytes", name, maxNameBytes)
	}
	return nil
}

var validTable = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// validateProjection checks what the runtime relies on: a valid name and table names that need
// no quoting.
func validateProjection(p Projection) error {
	if p == nil {
		return errors.New("nil projection")
	}
	if err := ValidateName(p.Name()); err != nil {
		return err
	}
	tables := p.Tables()
	if len(tables) == 0 {
		return fmt.Errorf("projection %s: no tables", p.Name())
	}
	seen := make(map[string]bool, len(tables))
	for _, t := range tables {
		if !validTable.MatchString(t) || len(t) > 63 {
			return fmt.Errorf("projection %s: table name %q: want an unqualified lower-case identifier", p.Name(), t)
		}
		if seen[t] {
			return fmt.Errorf("projection %s: table %s listed twice", p.Name(), t)
		}
		seen[t] = true
	}
	return nil
}

func validateProjections(ps []Projection) error {
	var errs []error
	names := make(map[string]bool, len(ps))
	tables := make(map[string]string)
	for _, p := range ps {
		if err := validateProjection(p); err != nil {
			errs = append(errs, err)
			continue
		}
		if names[p.Name()] {
			errs = append(errs, fmt.Errorf("projection %s listed twice", p.Name()))
			continue
		}
		names[p.Name()] = true
		for _, t := range p.Tables() {
			if other, ok := tables[t]; ok {
				errs = append(errs, fmt.Errorf("table %s belongs to both %s and %s", t, other, p.Name()))
			}
			tables[t] = p.Name()
		}
	}
	return errors.Join(errs...)
}
