package notifier

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Defaults applied by New to zero fields of Config.
const (
	// DefaultTopic is the stream forwarder's default topic (adapters/stream.DefaultTopic).
	DefaultTopic        = "helpstream.events"
	DefaultPoisonTopic  = "helpstream.notifications.poison"
	DefaultMaxAttempts  = 8
	DefaultSendTimeout  = 10 * time.Second
	DefaultRetryBase    = time.Second
	DefaultRetryMax     = 10 * time.Minute
	DefaultPollInterval = time.Second
	DefaultDirectoryLag = 10 * time.Second
	DefaultMaxLanes     = 64
)

// ConsumerGroup is the notifier's durable consumer group on the events topic: it receives every
// event once, beside any other consumer (the analytics job has its own).
const ConsumerGroup = "notifier"

// Config configures a Notifier. Every zero field but Pool, Subscriber, PoisonPublisher,
// Head, WaitForDirectory and PublicURL takes its default.
type Config struct {
	// Pool is the PostgreSQL database of the directory read model, the technicians' webhook
	// endpoints (technician_webhooks) and the deliveries (notification_deliveries). Required.
	Pool *pgxpool.Pool

	// Subscriber receives the events topic in the consumer group ConsumerGroup (durable: what
	// was not acknowledged comes again after a restart). The Notifier closes it when Run ends.
	// Required.
	Subscriber message.Subscriber

	// Topic is the events topic the stream forwarder publishes to. Default "helpstream.events".
	Topic string

	// PoisonPublisher receives, on PoisonTopic, a message the handler still fails on after its
	// retries (an event it cannot read, a directory that never catches up), so that one bad
	// message never stops the notifications of the others. Required.
	PoisonPublisher message.Publisher

	// PoisonTopic is where poisoned messages go. Default "helpstream.notifications.poison".
	PoisonTopic string

	// WaitForDirectory waits until the directory read model has applied the log up to pos, or
	// timeout passes (false, no error): the recipients of a submission are read once the
	// directory is at least as recent as the submission. Required.
	WaitForDirectory func(ctx context.Context, pos eventlog.Position, timeout time.Duration) (bool, error)

	// Head returns the log's head (eventlog.HeadReader). The first time a notifier runs on a
	// database it records the head in notifier_start, and no notifier ever notifies about an
	// event at or before it: a new consumer group on a broker that keeps the whole history
	// would otherwise notify about every old request. Required.
	Head func(ctx context.Context) (eventlog.Position, error)

	// DirectoryLag bounds how long the handler waits for the directory before it fails the
	// message (which the retries then try again). Default 10 s.
	DirectoryLag time.Duration

	// PublicURL is the base URL of the console that links point to:
	// "<PublicURL>/console/requests/<request ID>". Required.
	PublicURL string

	// SMTPURL is the mail server: smtp://user:password@host:port?from=helpstream@example.com
	// (port 587 when absent; user and password optional; STARTTLS whenever the server offers
	// it). E-mail is off when empty.
	SMTPURL string

	// SMTPTLS is the TLS configuration of STARTTLS; the system's roots and the URL's host
	// when nil.
	SMTPTLS *tls.Config

	// HTTPClient posts the webhooks; one with no redirects followed when nil. SendTimeout
	// bounds each post whatever the client's own timeout.
	HTTPClient *http.Client

	// MaxAttempts is how many times a delivery is tried before it becomes a dead letter.
	// Default 8.
	MaxAttempts int

	// SendTimeout bounds one attempt (an SMTP conversation, a webhook POST): a hanging
	// endpoint holds only its own lane, and only this long. Default 10 s.
	SendTimeout time.Duration

	// RetryBase and RetryMax shape the backoff between a delivery's attempts: RetryBase ×
	// 2^(attempt-1), at most RetryMax, with ±50% jitter. Defaults 1 s and 10 min.
	RetryBase time.Duration
	RetryMax  time.Duration

	// PollInterval is how often the workers look for deliveries that are due (retries, rows
	// another process wrote); what this process's handler writes is sent at once. Default 1 s.
	PollInterval time.Duration

	// MaxLanes caps the lanes (one technician's deliveries on one channel, sent in order)
	// that send at once. Default 64.
	MaxLanes int

	// Logger receives the notifier's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c *Config) setDefaults() {
	c.Topic = cmp.Or(c.Topic, DefaultTopic)
	c.PoisonTopic = cmp.Or(c.PoisonTopic, DefaultPoisonTopic)
	c.DirectoryLag = cmp.Or(c.DirectoryLag, DefaultDirectoryLag)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.SendTimeout = cmp.Or(c.SendTimeout, DefaultSendTimeout)
	c.RetryBase = cmp.Or(c.RetryBase, DefaultRetryBase)
	c.RetryMax = cmp.Or(c.RetryMax, DefaultRetryMax)
	c.PollInterval = cmp.Or(c.PollInterval, DefaultPollInterval)
	c.MaxLanes = cmp.Or(c.MaxLanes, DefaultMaxLanes)
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
}

// Validate reports every field that holds an unusable value. Zero fields that have a default
// are valid: New fills them in before it validates.
func (c Config) Validate() error {
	var errs []error
	if c.Pool == nil {
		errs = append(errs, errors.New("Pool is required"))
	}
	if c.Subscriber == nil {
		errs = append(errs, errors.New("Subscriber is required"))
	}
	if c.PoisonPublisher == nil {
		errs = append(errs, errors.New("PoisonPublisher is required"))
	}
	if c.Head == nil {
		errs = append(errs, errors.New("Head is required"))
	}
	if c.WaitForDirectory == nil {
		errs = append(errs, errors.New("WaitForDirectory is required"))
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("PublicURL %q is not an http(s) URL", c.PublicURL))
	}
	if c.SMTPURL != "" {
		if _, err := ParseSMTPURL(c.SMTPURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Topic == c.PoisonTopic {
		errs = append(errs, fmt.Errorf("PoisonTopic %q is the events topic", c.PoisonTopic))
	}
	for name, d := range map[string]time.Duration{"DirectoryLag": c.DirectoryLag, "SendTimeout": c.SendTimeout,
		"RetryBase": c.RetryBase, "RetryMax": c.RetryMax, "PollInterval": c.PollInterval} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s %s is negative", name, d))
		}
	}
	if c.RetryMax < c.RetryBase {
		errs = append(errs, fmt.Errorf("RetryMax %s is below RetryBase %s", c.RetryMax, c.RetryBase))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("MaxAttempts %d is below 1", c.MaxAttempts))
	}
	if c.MaxLanes < 1 {
		errs = append(errs, fmt.Errorf("MaxLanes %d is below 1", c.MaxLanes))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid notifier config: %w", err)
	}
	return nil
}
