package pgstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Store. The zero value is ready to use: every zero field takes its default.
type Config struct {
	// NotifyChannel is the PostgreSQL LISTEN/NOTIFY channel that wakes subscribers in other
	// processes after appends. Every process sharing a database must use the same channel.
	// At most 63 bytes. Default "helpstream_events".
	NotifyChannel string

	// DisableNotify stops this Store from issuing NOTIFY after its appends. Its own subscribers
	// are still woken directly; subscribers of other Stores then see its appends only when they
	// poll. Default false (notify).
	DisableNotify bool

	// PollInterval is how often a live subscription reads the log when nothing wakes it: the
	// fallback for lost notifications and for writers that do not notify. Default 500ms.
	PollInterval time.Duration

	// HeldBackPollInterval is how soon a live subscription reads again when committed events are
	// held back behind a transaction that is still open (they cannot be delivered before it ends,
	// or an event could be skipped). It doubles after every read that makes no progress, up to
	// PollInterval. Must not exceed PollInterval. Default 10ms.
	HeldBackPollInterval time.Duration

	// PreciseHorizonAfter is how long the cluster's oldest running transaction may hold
	// events back before reads look past it: they then ask PostgreSQL which running
	// transactions can still write events (event_log_horizon in 009_event_log_clock.sql) and
	// deliver everything committed below the oldest of those. That costs a look at pg_locks
	// and pg_stat_activity per read, so reads do it only while the cheap horizon is stuck.
	// Negative: never. Default 100ms.
	PreciseHorizonAfter time.Duration

	// ReconnectDelay is how long a subscription waits before re-establishing a LISTEN connection
	// that failed or dropped, and before retrying a read of the log that failed. Default 1s.
	ReconnectDelay time.Duration

	// MaxConflictRetries caps how often one append is retried when a concurrent writer took the
	// version it was about to write and the append may still succeed: always for
	// eventlog.Any(), and for an exact expected version that the stream reached only after the
	// append looked. Default 100.
	MaxConflictRetries int

	// NotifyTimeout bounds one NOTIFY statement of the background notifier. Default 5s.
	NotifyTimeout time.Duration
	// NotifyEvery is the shortest time between two NOTIFYs: under load, the appends of that
	// while share one, which spares PostgreSQL a notifying transaction per round trip; other
	// processes' subscribers are woken at most that much later. Default 5ms.
	NotifyEvery time.Duration

	// Logger receives the store's logs (failed notifications, lost LISTEN connections, read
	// retries of subscriptions). Default slog.Default().
	Logger *slog.Logger
}

// Defaults applied by New to zero fields of Config.
const (
	DefaultNotifyChannel        = "helpstream_events"
	DefaultPollInterval         = 500 * time.Millisecond
	DefaultHeldBackPollInterval = 10 * time.Millisecond
	DefaultReconnectDelay       = time.Second
	DefaultPreciseHorizonAfter  = 100 * time.Millisecond
	DefaultMaxConflictRetries   = 100
	DefaultNotifyTimeout        = 5 * time.Second
	DefaultNotifyEvery          = 5 * time.Millisecond
)

// maxIdentifierBytes is PostgreSQL's NAMEDATALEN-1, the longest channel name NOTIFY accepts.
const maxIdentifierBytes = 63

func (c *Config) setDefaults() {
	if c.NotifyChannel == "" {
		c.NotifyChannel = DefaultNotifyChannel
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.HeldBackPollInterval == 0 {
		c.HeldBackPollInterval = min(DefaultHeldBackPollInterval, c.PollInterval)
	}
	if c.ReconnectDelay == 0 {
		c.ReconnectDelay = DefaultReconnectDelay
	}
	if c.PreciseHorizonAfter == 0 {
		c.PreciseHorizonAfter = DefaultPreciseHorizonAfter
	}
	if c.MaxConflictRetries == 0 {
		c.MaxConflictRetries = DefaultMaxConflictRetries
	}
	if c.NotifyEvery == 0 {
		c.NotifyEvery = DefaultNotifyEvery
	}
	if c.NotifyTimeout == 0 {
		c.NotifyTimeout = DefaultNotifyTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every field that holds an unusable value. Zero fields are valid: New replaces
// them with defaults before it validates.
func (c Config) Validate() error {
	var errs []error
	if len(c.NotifyChannel) > maxIdentifierBytes {
		errs = append(errs, fmt.Errorf("NotifyChannel %q is longer than %d bytes", c.NotifyChannel, maxIdentifierBytes))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("PollInterval %s is negative", c.PollInterval))
	}
	if c.HeldBackPollInterval < 0 {
		errs = append(errs, fmt.Errorf("HeldBackPollInterval %s is negative", c.HeldBackPollInterval))
	}
	if c.PollInterval > 0 && c.HeldBackPollInterval > c.PollInterval {
		errs = append(errs, fmt.Errorf("HeldBackPollInterval %s exceeds PollInterval %s", c.HeldBackPollInterval, c.PollInterval))
	}
	if c.ReconnectDelay < 0 {
		errs = append(errs, fmt.Errorf("ReconnectDelay %s is negative", c.ReconnectDelay))
	}
	if c.MaxConflictRetries < 0 {
		errs = append(errs, fmt.Errorf("MaxConflictRetries %d is negative", c.MaxConflictRetries))
	}
	if c.NotifyEvery < 0 {
		errs = append(errs, fmt.Errorf("NotifyEvery %s is negative", c.NotifyEvery))
	}
	if c.NotifyTimeout < 0 {
		errs = append(errs, fmt.Errorf("NotifyTimeout %s is negative", c.NotifyTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid event store config: %w", err)
	}
	return nil
}
