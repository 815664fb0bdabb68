// Package stream forwards Helpstream's event log to analytics consumers through Watermill: a
// Forwarder follows the log from its checkpoint and publishes every event, as one message, to
// one topic of a Watermill broker (watermill-sql on PostgreSQL, RabbitMQ, NATS JetStream).
//
// A Forwarder is a consumer of internal/subscriber's runtime, which keeps its checkpoint, its
// leadership and its retries. Delivery is at-least-once: a batch is published, then the
// checkpoint moves, so a forwarder that dies in between publishes the batch again when it (or a
// standby) resumes. Messages carry
// the event ID as their UUID so that consumers and brokers can drop the repeats. With
// watermill-sql on the event store's own database (Config.PublishInTx) the batch and the
// checkpoint commit in one transaction, and nothing is published twice.
//
// Any number of forwarders with the same name may run, in any number of processes: a
// PostgreSQL advisory lock elects the one that publishes, and a standby takes over when it
// stops or its lock connection dies.
package stream

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// Metadata keys of every message. Values are strings, as Watermill metadata is.
const (
	MetadataEventType     = "event_type"     // the event's versioned type, "request.submitted.v1"
	MetadataStreamID      = "stream_id"      // "request-<uuid>", "technician-<uuid>", "company-<uuid>"
	MetadataStreamVersion = "stream_version" // the event's number in its stream, from 0, in decimal
	MetadataPosition      = "position"       // the global log position, eventlog.Position.String()
	MetadataOccurredAt    = "occurred_at"    // when the decision was taken, RFC 3339 with nanoseconds, UTC
	MetadataActor         = "actor"          // who caused the event
	MetadataCorrelationID = "correlation_id" // groups the events of one outside request; may be empty
)

// NewMessage is the message an event becomes: its UUID is the event's ID, its payload the
// event's JSON data, and its metadata says what the event is and where it stands in the log.
func NewMessage(e eventlog.RecordedEvent) *message.Message {
	msg := message.NewMessage(e.ID.String(), message.Payload(e.Data))
	msg.Metadata = message.Metadata{
		MetadataEventType:     e.Type,
		MetadataStreamID:      e.StreamID,
		MetadataStreamVersion: strconv.FormatInt(e.Version, 10),
		MetadataPosition:      e.Position.String(),
		MetadataOccurredAt:    e.Metadata.OccurredAt.UTC().Format(time.RFC3339Nano),
		MetadataActor:         e.Metadata.Actor,
		MetadataCorrelationID: e.Metadata.CorrelationID,
	}
	return msg
}

// LeaderLockKey is the key of the PostgreSQL session advisory lock that elects a forwarder's
// leader: the first 8 bytes of SHA-256("helpstream.stream."+name).
func LeaderLockKey(name string) int64 {
	sum := sha256.Sum256([]byte("helpstream.stream." + name))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// checkpoints is the table of the forwarders' checkpoints (migration 005).
var checkpoints = subscriber.NewCheckpoints("public", "stream_checkpoints", "events_published")

// catchUpRead is how many events the catch-up reads at once: a multiple of the batch.
func catchUpRead(batch int) int { return max(batch, 5000/batch*batch) }

// Forwarder publishes the event log to a Watermill topic. Create it with NewForwarder and start
// it with Run.
type Forwarder struct {
	cfg Config
	rt  *subscriber.Runtime
}

// NewForwarder checks cfg, fills in its defaults and returns a Forwarder.
func NewForwarder(cfg Config) (*Forwarder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	pace := cfg.pacing()
	pace.Logger = cfg.Logger.With("topic", cfg.Topic)
	rt, err := subscriber.New(subscriber.Config{
		Pool: cfg.Pool, Store: cfg.Store, Kind: "stream", Consumers: []subscriber.Consumer{publisher{cfg: &cfg}},
		Checkpoints: checkpoints, LeaderLockKey: LeaderLockKey, StartFrom: cfg.StartFrom,
		Pacing: pace, CatchUpRead: catchUpRead(cfg.BatchSize), Observer: cfg.Observer,
	})
	if err != nil {
		return nil, fmt.Errorf("stream forwarder: %w", err)
	}
	return &Forwarder{cfg: cfg, rt: rt}, nil
}

// Name is the forwarder's name, after defaults.
func (f *Forwarder) Name() string { return f.cfg.Name }

// Topic is the topic it publishes to, after defaults.
func (f *Forwarder) Topic() string { return f.cfg.Topic }

// Leading reports whether this forwarder holds the leader lock and publishes.
func (f *Forwarder) Leading() bool { return f.rt.Leads(f.cfg.Name) }

// Position is the last checkpoint this forwarder read or committed: every event up to it has
// been published. Start when it never led.
func (f *Forwarder) Position() eventlog.Position { return f.rt.Position(f.cfg.Name) }

// Published counts the events this forwarder published and checkpointed since it was created.
func (f *Forwarder) Published() int64 { return f.rt.Applied(f.cfg.Name) }

// Run campaigns for the leader lock every LeaderRetry and, while it leads, publishes the log
// from the checkpoint, until ctx ends; then it returns nil, a batch in flight abandoned (its
// checkpoint does not move). Failures of the database, the event store or the broker are logged
// and retried; they never end Run. A Forwarder runs once at a time.
func (f *Forwarder) Run(ctx context.Context) error { return f.rt.Run(ctx) }

// publisher is the forwarder as the runtime's consumer. The runtime applies each batch in a
// transaction that locks the checkpoint row, so two forwarders that both believe they lead are
// serialised on it, and the second one drops what the first published.
type publisher struct{ cfg *Config }

func (p publisher) Name() string { return p.cfg.Name }

// Apply publishes the batch with one Publish call. With PublishInTx the publisher writes into
// tx, which also moves the checkpoint: exactly-once. Otherwise the batch is out before the
// checkpoint commits: at-least-once.
func (p publisher) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error {
	pub := p.cfg.Publisher
	if p.cfg.PublishInTx != nil {
		var err error
		if pub, err = p.cfg.PublishInTx(tx); err != nil {
			return fmt.Errorf("publisher on the batch's transaction: %w", err)
		}
	}
	if err := pub.Publish(p.cfg.Topic, messages(ctx, batch)...); err != nil {
		return fmt.Errorf("publish (a batch published before its checkpoint moves will be again): %w", err)
	}
	return nil
}

// messages turns a batch into messages carrying ctx, so that a publisher that honours the
// messages' context gives up when the forwarder stops.
func messages(ctx context.Context, batch []eventlog.RecordedEvent) []*message.Message {
	msgs := make([]*message.Message, len(batch))
	for i, e := range batch {
		msgs[i] = NewMessage(e)
		msgs[i].SetContext(ctx)
	}
	return msgs
}
