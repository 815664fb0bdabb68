package stream

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// Defaults applied by NewForwarder to zero fields of Config.
const (
	DefaultName        = "analytics"
	DefaultTopic       = "helpstream.events"
	DefaultBatchSize   = subscriber.DefaultBatchSize
	DefaultLeaderRetry = subscriber.DefaultLeaderRetry
	DefaultRetryDelay  = subscriber.DefaultRetryDelay
)

// MaxBatchSize caps Config.BatchSize: watermill-sql inserts a batch with one statement, whose
// parameters (a few per message) PostgreSQL limits to 65535.
const MaxBatchSize = 10_000

// maxNameBytes keeps names readable in logs and in application_name (63 bytes in all).
const maxNameBytes = 40

// Config configures a Forwarder. Every zero field but Pool, Store and one of Publisher or
// PublishInTx takes its default.
type Config struct {
	// Name identifies the forwarder across processes: its checkpoint row (table
	// stream_checkpoints, migration 005) and its leader lock. Forwarders with the same name
	// share one checkpoint and one of them publishes at a time; give each destination its own
	// name. Default "analytics".
	Name string

	// Topic is the Watermill topic every event is published to. Default "helpstream.events".
	Topic string

	// Pool is the PostgreSQL database that holds the checkpoint and the leader lock. Required.
	// Each batch takes one pooled connection for one transaction, which locks the checkpoint
	// row while the batch is published (a second forwarder that believes it leads waits, then
	// drops what the first checkpointed); the leader lock holds one dedicated connection
	// besides the pool, opened with the pool's settings.
	Pool *pgxpool.Pool

	// Store is the event log that is forwarded. Required.
	Store eventlog.Store

	// Publisher receives each batch in one Publish call, before the checkpoint moves: a crash
	// between the two publishes the batch again when the forwarder restarts (at-least-once;
	// consumers deduplicate by message UUID, which is the event ID). Set Publisher or
	// PublishInTx, not both.
	Publisher message.Publisher

	// PublishInTx returns a publisher that writes into tx, the transaction that also moves the
	// checkpoint: the batch and the checkpoint commit together, or neither does, so nothing is
	// published twice. Only a broker living in the same PostgreSQL database can do that
	// (watermill-sql: see SQLPublisherInTx). Set Publisher or PublishInTx, not both.
	PublishInTx func(tx pgx.Tx) (message.Publisher, error)

	// StartFrom is where a forwarder whose checkpoint does not exist yet starts: after this
	// position. Start (the zero value) publishes the whole log; the head of the log
	// (eventlog.HeadReader) publishes only what comes next. It is ignored once the checkpoint
	// exists. Default Start.
	StartFrom eventlog.Position

	// BatchSize caps the events of one batch, so of one Publish call and one checkpoint write
	// (SubscribeOptions.MaxBatch). At most MaxBatchSize. Default 500.
	BatchSize int

	// LeaderRetry is how often a standby tries to take the leader lock, and how often the
	// leader checks that the connection holding its lock is alive (a leader whose lock
	// connection died stops publishing and campaigns again). Default 1s.
	LeaderRetry time.Duration

	// RetryDelay is how long the leader waits after a failed batch (a broker error, a lost
	// database connection) before it resubscribes from the stored checkpoint. Default 1s.
	RetryDelay time.Duration

	// Logger receives the forwarder's logs (leadership, failed batches). Default slog.Default().
	Logger *slog.Logger

	// Observer, when set, hears what the runtime does for the forwarder (leadership, published
	// batches, failures), for metrics.
	Observer subscriber.Observer
}

func (c *Config) setDefaults() {
	c.Name = cmp.Or(c.Name, DefaultName)
	c.Topic = cmp.Or(c.Topic, DefaultTopic)
	pace := c.pacing().WithDefaults()
	c.BatchSize, c.LeaderRetry, c.RetryDelay, c.Logger = pace.BatchSize, pace.LeaderRetry, pace.RetryDelay, pace.Logger
}

// pacing is what c shares with the runtime's configuration.
func (c *Config) pacing() subscriber.Pacing {
	return subscriber.Pacing{BatchSize: c.BatchSize, LeaderRetry: c.LeaderRetry, RetryDelay: c.RetryDelay, Logger: c.Logger}
}

// Validate reports every field that holds an unusable value. Zero fields that have a default
// are valid: NewForwarder fills them in before it validates.
func (c Config) Validate() error {
	var errs []error
	if c.Name != strings.TrimSpace(c.Name) {
		errs = append(errs, fmt.Errorf("Name %q has leading or trailing spaces", c.Name))
	}
	if len(c.Name) > maxNameBytes {
		errs = append(errs, fmt.Errorf("Name %q is longer than %d bytes", c.Name, maxNameBytes))
	}
	if strings.TrimSpace(c.Topic) != c.Topic {
		errs = append(errs, fmt.Errorf("Topic %q has leading or trailing spaces", c.Topic))
	}
	if c.Pool == nil {
		errs = append(errs, errors.New("Pool is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	switch {
	case c.Publisher == nil && c.PublishInTx == nil:
		errs = append(errs, errors.New("Publisher or PublishInTx is required"))
	case c.Publisher != nil && c.PublishInTx != nil:
		errs = append(errs, errors.New("set Publisher or PublishInTx, not both"))
	}
	errs = append(errs, c.pacing().Problems()...)
	if c.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("BatchSize %d is above %d", c.BatchSize, MaxBatchSize))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid stream forwarder config: %w", err)
	}
	return nil
}
