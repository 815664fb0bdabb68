package kurrent

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"
)

// Config tunes the KurrentDB store. The zero value of every field means "use the default";
// DefaultConfig lists them.
type Config struct {
	// Namespace, when not empty, is prepended to every stream name on the server ("<Namespace><streamID>")
	// and stripped again on the way out; ReadAll and Subscribe then see only the namespace's
	// streams. It lets several Helpstream installations (or test runs) share one KurrentDB. The
	// default, empty, stores our stream IDs as they are ("request-<uuid>"). It must not start
	// with "$" (system streams); end it with a separator, for example "tenant-a.".
	Namespace string

	// ReadPageSize is how many events ReadAll asks the server for in one round trip. ReadAll
	// skips system events ($-prefixed streams and types) on the client, so a page may hold fewer
	// of ours than asked for; the store then reads the next page. Default 1000.
	ReadPageSize int

	// IDScanPageSize is the page size used when the store reads a stream backwards to look for
	// event IDs it is asked to append (appends with Any, and appends the server refused with a
	// wrong expected version). Default 500.
	IDScanPageSize int

	// AnyAppendAttempts caps how many times an append with eventlog.Any() re-reads the stream and
	// retries when another writer moves the stream between the read and the write (Any is
	// emulated with an exact expected revision, see Store.Append). Default 20.
	AnyAppendAttempts int

	// SubscriptionBuffer is how many server messages are buffered between the gRPC stream and
	// the batching loop of Subscribe. Default 4096.
	SubscriptionBuffer int

	// MaxSearchWindow is the server-side filter's search window: how many non-matching events
	// the server scans before it sends a checkpoint. Default 32 (the client's default).
	MaxSearchWindow int

	// ReconnectMinDelay is the wait before the first resubscription after a subscription drops.
	// Each further attempt doubles it, up to ReconnectMaxDelay. Default 100ms.
	ReconnectMinDelay time.Duration

	// ReconnectMaxDelay caps the resubscription backoff. Default 10s.
	ReconnectMaxDelay time.Duration

	// ReconnectJitter is the random fraction (0 to 1) taken off each backoff delay so that many
	// subscribers do not reconnect in lockstep: a delay d becomes a value in [d*(1-j), d].
	// Default 0.5; set NoJitter to disable it.
	ReconnectJitter float64

	// NoJitter disables ReconnectJitter (a zero ReconnectJitter means "default").
	NoJitter bool

	// RequireLeader makes every operation fail on a follower node instead of being served by
	// it. Appends always go to the leader; with nodePreference=leader (the connection-string
	// default) reads do too, so this only matters when the connection string prefers followers.
	RequireLeader bool

	// Logger receives the store's and the client's log lines. Default slog.Default().
	Logger *slog.Logger
}

// Defaults used for zero fields.
const (
	DefaultReadPageSize       = 1000
	DefaultIDScanPageSize     = 500
	DefaultAnyAppendAttempts  = 20
	DefaultSubscriptionBuffer = 4096
	DefaultMaxSearchWindow    = 32
	DefaultReconnectMinDelay  = 100 * time.Millisecond
	DefaultReconnectMaxDelay  = 10 * time.Second
	DefaultReconnectJitter    = 0.5
)

// DefaultConfig returns the configuration New uses for zero fields.
func DefaultConfig() Config {
	return Config{
		ReadPageSize:       DefaultReadPageSize,
		IDScanPageSize:     DefaultIDScanPageSize,
		AnyAppendAttempts:  DefaultAnyAppendAttempts,
		SubscriptionBuffer: DefaultSubscriptionBuffer,
		MaxSearchWindow:    DefaultMaxSearchWindow,
		ReconnectMinDelay:  DefaultReconnectMinDelay,
		ReconnectMaxDelay:  DefaultReconnectMaxDelay,
		ReconnectJitter:    DefaultReconnectJitter,
		Logger:             slog.Default(),
	}
}

// WithDefaults returns c with every zero field replaced by its default.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	c.ReadPageSize = cmp.Or(c.ReadPageSize, d.ReadPageSize)
	c.IDScanPageSize = cmp.Or(c.IDScanPageSize, d.IDScanPageSize)
	c.AnyAppendAttempts = cmp.Or(c.AnyAppendAttempts, d.AnyAppendAttempts)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, d.SubscriptionBuffer)
	c.MaxSearchWindow = cmp.Or(c.MaxSearchWindow, d.MaxSearchWindow)
	c.ReconnectMinDelay = cmp.Or(c.ReconnectMinDelay, d.ReconnectMinDelay)
	c.ReconnectMaxDelay = cmp.Or(c.ReconnectMaxDelay, d.ReconnectMaxDelay)
	c.ReconnectJitter = cmp.Or(c.ReconnectJitter, d.ReconnectJitter)
	if c.NoJitter {
		c.ReconnectJitter = 0
	}
	c.Logger = cmp.Or(c.Logger, d.Logger)
	return c
}

// Validate reports every field that has no meaning, after defaults are applied.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	if strings.HasPrefix(c.Namespace, "$") {
		errs = append(errs, fmt.Errorf("Namespace %q: must not start with $ (system streams)", c.Namespace))
	}
	positive := []struct {
		name string
		v    int
	}{
		{"ReadPageSize", c.ReadPageSize},
		{"IDScanPageSize", c.IDScanPageSize},
		{"AnyAppendAttempts", c.AnyAppendAttempts},
		{"SubscriptionBuffer", c.SubscriptionBuffer},
		{"MaxSearchWindow", c.MaxSearchWindow},
	}
	for _, f := range positive {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s %d: must be positive", f.name, f.v))
		}
	}
	if c.ReconnectMinDelay < 0 {
		errs = append(errs, fmt.Errorf("ReconnectMinDelay %s: must be positive", c.ReconnectMinDelay))
	}
	if c.ReconnectMaxDelay < c.ReconnectMinDelay {
		errs = append(errs, fmt.Errorf("ReconnectMaxDelay %s: must be at least ReconnectMinDelay %s", c.ReconnectMaxDelay, c.ReconnectMinDelay))
	}
	if c.ReconnectJitter < 0 || c.ReconnectJitter > 1 || math.IsNaN(c.ReconnectJitter) {
		errs = append(errs, fmt.Errorf("ReconnectJitter %v: must be between 0 and 1", c.ReconnectJitter))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("kurrent config: %w", err)
	}
	return nil
}

// ReconnectDelay is the wait before resubscription attempt number attempt (0 for the first
// retry after a drop): ReconnectMinDelay doubled per attempt, capped at ReconnectMaxDelay, with
// the jitter fraction taken off in proportion to rnd (a uniform random number in [0, 1)).
func (c Config) ReconnectDelay(attempt int, rnd float64) time.Duration {
	c = c.WithDefaults()
	if attempt < 0 {
		attempt = 0
	}
	d := c.ReconnectMinDelay
	for i := 0; i < attempt && d < c.ReconnectMaxDelay; i++ {
		d *= 2
	}
	if d > c.ReconnectMaxDelay || d <= 0 {
		d = c.ReconnectMaxDelay
	}
	if rnd < 0 {
		rnd = 0
	}
	if rnd > 1 {
		rnd = 1
	}
	return d - time.Duration(float64(d)*c.ReconnectJitter*rnd)
}
