// Package notifier notifies technicians of submitted requests (R5) by e-mail and by signed
// webhook. It is a consumer of the event stream through Watermill: a message.Router, with its
// middleware (panic recovery, correlation IDs, retries with exponential backoff and jitter, a
// poison queue), runs a handler subscribed to the events topic in its own durable consumer
// group. The handler acts on request.submitted only: it waits until the directory read model
// has reached the event, finds every technician with access to the request's company and the
// channel on, and records one delivery per (technician, channel), keyed by a deterministic
// idempotency key, before the message is acknowledged. A message delivered again records
// nothing new, so nothing is sent twice.
//
// Workers send the recorded deliveries: one lane per technician and channel, in log order
// (so a technician's webhook receives a request's notifications in order), each attempt
// bounded by a timeout, retried with backoff, and after Config.MaxAttempts failures left as a
// dead letter that an admin lists and replays (DeadLetters, Replay). Lanes run side by side: a
// slow, hanging or failing endpoint delays only its own lane.
package notifier

import (
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
)

// Metadata keys the stream forwarder sets on every message (adapters/stream).
const (
	metadataEventType  = "event_type"
	metadataPosition   = "position"
	metadataOccurredAt = "occurred_at"
)

// submittedType is the only event the notifier acts on.
const submittedType = "request.submitted.v1"

// Channels a technician is notified through besides the console.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
)

// IdempotencyKey is the key of the notification of one event to one technician on one
// channel: the same inputs give the same key in every process and every redelivery. It is the
// MD5 of "<event ID>/<technician ID>/<channel>" read as a UUID, which PostgreSQL computes
// alike (md5(…)::uuid) when it records the deliveries in one statement. (An identifier, not a
// secret: nothing depends on MD5's collision resistance beyond uniqueness among these inputs.)
func IdempotencyKey(eventID, technicianID uuid.UUID, channel string) uuid.UUID {
	return uuid.UUID(md5.Sum([]byte(eventID.String() + "/" + technicianID.String() + "/" + channel)))
}

// Notification is what a technician is told: the webhook's JSON body, and what the e-mail
// says. README, "Notifications", documents it field by field.
type Notification struct {
	ID          uuid.UUID `json:"id"`   // the idempotency key, also the Idempotency-Key header
	Type        string    `json:"type"` // "request.submitted"
	RequestID   uuid.UUID `json:"request_id"`
	CompanyID   uuid.UUID `json:"company_id"`
	CompanyName string    `json:"company_name"`
	Summary     string    `json:"summary"` // the description's first SummaryRunes characters, on one line
	SubmittedAt time.Time `json:"submitted_at"`
	URL         string    `json:"url"`      // the request in the console
	EventID     uuid.UUID `json:"event_id"` // the request.submitted event
	Position    string    `json:"position"` // its position in the log (webhook-replay --from)
}

// SummaryRunes caps Notification.Summary.
const SummaryRunes = 200

// Notifier consumes the events topic and sends the notifications. Create it with New and
// start it with Run.
type Notifier struct {
	cfg    Config
	start  eventlog.Position // set by Run: events at or before it are not notified
	mailer *mailer           // nil: e-mail is off
	sender *sender
}

// New checks cfg, fills in its defaults and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Notifier{cfg: cfg}
	if cfg.SMTPURL != "" {
		s, err := ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		n.mailer = &mailer{server: s, tls: cfg.SMTPTLS}
	}
	n.sender = newSender(&n.cfg, n.mailer)
	return n, nil
}

// EmailOn reports whether e-mail is sent (Config.SMTPURL is set).
func (n *Notifier) EmailOn() bool { return n.mailer != nil }

// Run consumes the topic and sends the deliveries until ctx ends; then it stops the router
// (a message in flight is not acknowledged and comes again to the consumer group), lets the
// attempts in flight finish (each bounded by SendTimeout) and closes the subscriber. Failures
// are retried and logged; Run returns an error only when the router cannot start.
func (n *Notifier) Run(ctx context.Context) error {
	log := n.cfg.Logger.With("component", "notifier")
	start, err := startingPoint(ctx, n.cfg.Pool, ConsumerGroup, n.cfg.Head)
	if err != nil {
		_ = n.cfg.Subscriber.Close()
		return err
	}
	n.start = start
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: n.cfg.SendTimeout}, watermill.NewSlogLogger(log))
	if err != nil {
		return fmt.Errorf("notifier router: %w", err)
	}
	// Stopping is not a failure of the message: it stays unacknowledged for the next run
	// rather than going to the poison queue.
	poison, err := middleware.PoisonQueueWithFilter(n.cfg.PoisonPublisher, n.cfg.PoisonTopic, func(err error) bool {
		return !errors.Is(err, context.Canceled)
	})
	if err != nil {
		return fmt.Errorf("notifier poison queue: %w", err)
	}
	router.AddMiddleware(
		middleware.CorrelationID,
		poison,
		middleware.Retry{
			MaxRetries: 5, InitialInterval: 100 * time.Millisecond, MaxInterval: 5 * time.Second,
			Multiplier: 2, RandomizationFactor: 0.5, Logger: watermill.NewSlogLogger(log),
			// An unreadable message fails the same way every time: straight to the poison queue.
			ShouldRetry: func(p middleware.RetryParams) bool {
				return !errors.Is(p.Err, context.Canceled) && !errors.Is(p.Err, errBadMessage)
			},
		}.Middleware,
		middleware.Recoverer,
	)
	router.AddConsumerHandler("notifier", n.cfg.Topic, n.cfg.Subscriber, n.handle)

	var wg sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	wg.Add(1)
	go func() { defer wg.Done(); n.sender.run(sendCtx) }()

	errc := make(chan error, 1)
	go func() { errc <- router.Run(ctx) }()
	var runErr error
	select {
	case runErr = <-errc:
	case <-ctx.Done():
		runErr = <-errc
	}
	_ = router.Close()
	_ = n.cfg.Subscriber.Close() // the router closes it too, once it has started its handler
	stopSending()
	wg.Wait()
	if runErr != nil && ctx.Err() == nil {
		return fmt.Errorf("notifier router: %w", runErr)
	}
	return nil
}

// errBadMessage and errDirectoryBehind are the handler's failures that the retries and the
// poison queue see.
var (
	errBadMessage      = errors.New("the message is not a request.submitted event the notifier can read")
	errDirectoryBehind = errors.New("the directory read model has not reached the event")
)

// handle is the router's handler: a request.submitted event becomes its deliveries, recorded
// before the message is acknowledged; any other event is acknowledged at once.
func (n *Notifier) handle(msg *message.Message) error {
	if msg.Metadata.Get(metadataEventType) != submittedType {
		return nil
	}
	ctx := msg.Context()
	note, pos, err := readSubmitted(msg, n.cfg.PublicURL)
	if err != nil {
		return err
	}
	if pos.Compare(n.start) <= 0 {
		return nil // before the notifier's first start: an old request
	}
	reached, err := n.cfg.WaitForDirectory(ctx, pos, n.cfg.DirectoryLag)
	if err != nil {
		return fmt.Errorf("wait for the directory to reach %s: %w", pos, err)
	}
	if !reached {
		return fmt.Errorf("%w within %s (position %s)", errDirectoryBehind, n.cfg.DirectoryLag, pos)
	}
	lanes, err := recordDeliveries(ctx, n.cfg.Pool, note, pos, n.mailer != nil)
	if err != nil {
		return err
	}
	n.sender.wake(lanes)
	return nil
}

// readSubmitted reads a request.submitted message into the notification it makes (its ID is
// set per delivery) and the event's position.
func readSubmitted(msg *message.Message, publicURL string) (Notification, eventlog.Position, error) {
	eventID, err := uuid.Parse(msg.UUID)
	if err != nil {
		return Notification{}, eventlog.Position{}, fmt.Errorf("%w: message UUID %q: %v", errBadMessage, msg.UUID, err)
	}
	pos, err := eventlog.ParsePosition(msg.Metadata.Get(metadataPosition))
	if err != nil {
		return Notification{}, eventlog.Position{}, fmt.Errorf("%w: position: %v", errBadMessage, err)
	}
	at, err := time.Parse(time.RFC3339Nano, msg.Metadata.Get(metadataOccurredAt))
	if err != nil {
		return Notification{}, eventlog.Position{}, fmt.Errorf("%w: occurred_at: %v", errBadMessage, err)
	}
	var e request.Submitted
	if err := json.Unmarshal(msg.Payload, &e); err != nil || e.RequestID == uuid.Nil || e.CompanyID == uuid.Nil {
		return Notification{}, eventlog.Position{}, fmt.Errorf("%w: payload: %v", errBadMessage, err)
	}
	return Notification{
		Type: "request.submitted", RequestID: e.RequestID, CompanyID: e.CompanyID,
		Summary: Summarize(e.Description), SubmittedAt: at.UTC(),
		URL:     publicURL + "/console/requests/" + e.RequestID.String(),
		EventID: eventID, Position: pos.String(),
	}, pos, nil
}

// Summarize is a description on one line, at most SummaryRunes characters: control
// characters and runs of spaces become one space.
func Summarize(description string) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.TrimSpace(description) {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if n == SummaryRunes {
			b.WriteString("…")
			break
		}
		if space && n > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// logf is the notifier's logger for a lane.
func laneLogger(l *slog.Logger, k lane) *slog.Logger {
	return l.With("component", "notifier", "technician", k.technician, "channel", k.channel)
}
