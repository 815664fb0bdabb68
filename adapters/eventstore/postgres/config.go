package pgstore

import (
	"cmp"
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
	c.NotifyChannel = cmp.Or(c.NotifyChannel, DefaultNotifyChannel)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	// A held-back read never waits longer than an idle one.
	c.HeldBackPollInterval = cmp.Or(c.HeldBackPollInterval, min(DefaultHeldBackPollInterval, c.PollInterval))
	c.ReconnectDelay = cmp.Or(c.ReconnectDelay, DefaultReconnectDelay)
	c.PreciseHorizonAfter = cmp.Or(c.PreciseHorizonAfter, DefaultPreciseHorizonAfter)
	c.MaxConflictRetries = cmp.Or(c.MaxConflictRetries, DefaultMaxConflictRetries)
	c.NotifyEvery = cmp.Or(c.NotifyEvery, DefaultNotifyEvery)
	c.NotifyTimeout = cmp.Or(c.NotifyTimeout, DefaultNotifyTimeout)
	c.Logger = cmp.Or(c.Logger, slog.Default())
}

// Validate reports every field that holds an unusable value. Zero fields are valid: New replaces
// them with defaults before it validates.
func (c Config) Validate() error {
	var errs []error
	if len(c.NotifyChannel) > maxIdentifierBytes {
		errs = append(errs, fmt.Errorf("NotifyChannel %q is longer than %d bytes", c.NotifyChannel, maxIdentifierBytes))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"PollInterval", c.PollInterval},
		{"HeldBackPollInterval", c.HeldBackPollInterval},
		{"ReconnectDelay", c.ReconnectDelay},
		{"NotifyEvery", c.NotifyEvery},
		{"NotifyTimeout", c.NotifyTimeout},
	} {
		if d.value < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", d.name, d.value))
		}
	}
	if c.PollInterval > 0 && c.HeldBackPollInterval > c.PollInterval {
		errs = append(errs, fmt.Errorf("HeldBackPollInterval %s exceeds PollInterval %s", c.HeldBackPollInterval, c.PollInterval))
	}
	if c.MaxConflictRetries < 0 {
		errs = append(errs, fmt.Errorf("MaxConflictRetries %d is negative", c.MaxConflictRetries))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid event store config: %w", err)
	}
	return nil
}
