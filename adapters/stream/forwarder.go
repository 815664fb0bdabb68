// Package stream forwards Helpstream's event log to analytics consumers through Watermill: a
// Forwarder follows the log from its checkpoint and publishes every event, as one message, to
// one topic of a Watermill broker (watermill-sql on PostgreSQL, RabbitMQ, NATS JetStream).
//
// Delivery is at-least-once: a batch is published, then the checkpoint moves, so a forwarder
// that dies in between publishes the batch again when it (or a standby) resumes. Messages carry
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
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/fault"
	"github.com/helpstream/helpstream/internal/leader"
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

// errCheckpointMoved says the stored checkpoint is not where this forwarder left it: another
// forwarder of the same name published meanwhile (one that had not yet noticed it lost its
// lock), or someone reset it. The leader reads it again and resubscribes from there.
var errCheckpointMoved = errors.New("the checkpoint moved under this forwarder")

// Forwarder publishes the event log to a Watermill topic. Create it with NewForwarder and start
// it with Run.
type Forwarder struct {
	cfg     Config
	log     *slog.Logger
	running atomic.Bool
	leading atomic.Bool

	mu        sync.Mutex
	position  eventlog.Position // the last checkpoint this forwarder read or committed while leading
	published int64             // events this forwarder published and checkpointed

	// outage tells its failures as episodes: one line when publishing starts failing, one
	// when it works again, not one a retry.
	outage *fault.Episodes
}

// NewForwarder checks cfg, fills in its defaults and returns a Forwarder.
func NewForwarder(cfg Config) (*Forwarder, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("forwarder", cfg.Name, "topic", cfg.Topic)
	return &Forwarder{cfg: cfg, log: log,
		outage: fault.NewEpisodes(fmt.Sprintf("stream forwarder: publishing failed; resuming from the stored checkpoint every %s, nothing is lost", cfg.RetryDelay), log)}, nil
}

// Name is the forwarder's name, after defaults.
func (f *Forwarder) Name() string { return f.cfg.Name }

// Topic is the topic it publishes to, after defaults.
func (f *Forwarder) Topic() string { return f.cfg.Topic }

// Leading reports whether this forwarder holds the leader lock and publishes.
func (f *Forwarder) Leading() bool { return f.leading.Load() }

// Position is the last checkpoint this forwarder read or committed: every event up to it has
// been published. Start when it never led.
func (f *Forwarder) Position() eventlog.Position {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.position
}

// Published counts the events this forwarder published and checkpointed since it was created.
func (f *Forwarder) Published() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.published
}

// Run campaigns for the leader lock every LeaderRetry and, while it leads, publishes the log
// from the checkpoint, until ctx ends; then it returns nil, a batch in flight abandoned (its
// checkpoint does not move). Failures of the database, the event store or the broker are logged
// and retried; they never end Run. A Forwarder runs once at a time.
func (f *Forwarder) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("stream forwarder: already running")
	}
	defer f.running.Store(false)
	leader.Run(ctx, leader.Campaign{
		Pool: f.cfg.Pool, Key: LeaderLockKey(f.cfg.Name), Name: "helpstream stream " + f.cfg.Name,
		Retry: f.cfg.LeaderRetry, Logger: f.log,
	}, f.lead)
	return nil
}

// lead publishes the log until ctx ends (or leadership is lost).
func (f *Forwarder) lead(ctx context.Context) {
	f.leading.Store(true)
	defer f.leading.Store(false)
	for ctx.Err() == nil {
		err := f.forward(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errCheckpointMoved) {
			f.log.InfoContext(ctx, "stream forwarder: checkpoint moved under the leader, reading it again", "reason", err)
			continue
		}
		f.outage.Failed(ctx, err, "forwarder "+f.cfg.Name)
		sleep(ctx, f.cfg.RetryDelay)
	}
}

// forward reads the checkpoint (creating it at the start of the log) and publishes the log
// from there, batch by batch, until ctx ends or a batch fails.
func (f *Forwarder) forward(ctx context.Context) error {
	if _, err := f.cfg.Pool.Exec(ctx, `INSERT INTO public.stream_checkpoints (name, position) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING`, f.cfg.Name, f.cfg.StartFrom.String()); err != nil {
		return fmt.Errorf("stream forwarder %s: create checkpoint: %w", f.cfg.Name, err)
	}
	var text string
	if err := f.cfg.Pool.QueryRow(ctx, `SELECT position FROM public.stream_checkpoints WHERE name = $1`, f.cfg.Name).Scan(&text); err != nil {
		return fmt.Errorf("stream forwarder %s: read checkpoint: %w", f.cfg.Name, err)
	}
	pos, err := eventlog.ParsePosition(text)
	if err != nil {
		return fmt.Errorf("stream forwarder %s: checkpoint: %w", f.cfg.Name, err)
	}
	f.setPosition(pos, 0)
	f.log.InfoContext(ctx, "stream forwarder: publishing from the checkpoint", "position", pos.String())
	var publish publishFunc = f.publishThenCheckpoint
	if f.cfg.PublishInTx != nil {
		publish = f.publishWithCheckpoint
	}
	if pos, err = f.catchUp(ctx, pos, publish); err != nil {
		return err
	}
	return f.cfg.Store.Subscribe(ctx, pos, eventlog.SubscribeOptions{MaxBatch: f.cfg.BatchSize},
		func(ctx context.Context, batch []eventlog.RecordedEvent) error {
			var err error
			pos, err = publish(ctx, pos, batch)
			return err
		})
}

// publishFunc publishes a batch read after from and moves the checkpoint; it returns the new
// checkpoint.
type publishFunc func(ctx context.Context, from eventlog.Position, batch []eventlog.RecordedEvent) (eventlog.Position, error)

// catchUpPage is how many events the catch-up reads at once (a multiple of the batch).
func catchUpPage(batch int) int { return max(batch, 5000/batch*batch) }

// catchUp publishes the backlog after pos in batches, reading the log one page ahead in a
// goroutine of its own, so that reading the next page overlaps publishing this one, until a
// page comes back short; Subscribe takes over from the position it returns. ReadAll gives the
// same guarantee as a subscription: it returns nothing that a later commit could precede.
func (f *Forwarder) catchUp(ctx context.Context, pos eventlog.Position, publish publishFunc) (eventlog.Position, error) {
	page := catchUpPage(f.cfg.BatchSize)
	ctx, cancel := context.WithCancel(ctx)
	var reader sync.WaitGroup
	defer reader.Wait()
	defer cancel()
	pages := make(chan []eventlog.RecordedEvent, 1)
	var readErr error
	reader.Go(func() {
		defer close(pages)
		from := pos
		for {
			events, err := f.cfg.Store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: page})
			if err != nil {
				readErr = fmt.Errorf("stream forwarder %s: catch up from %s: %w", f.cfg.Name, from, err)
				return
			}
			if len(events) == 0 {
				return
			}
			select {
			case pages <- events:
			case <-ctx.Done():
				return
			}
			if len(events) < page {
				return
			}
			from = events[len(events)-1].Position
		}
	})
	for events := range pages {
		for len(events) > 0 {
			n := min(f.cfg.BatchSize, len(events))
			var err error
			if pos, err = publish(ctx, pos, events[:n]); err != nil {
				return pos, err
			}
			events = events[n:]
		}
	}
	// pages is closed: the reader has stopped, and readErr is its last word.
	return pos, readErr
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

// publishThenCheckpoint publishes the batch with one Publish call, then moves the checkpoint
// from where this forwarder left it (compare-and-set): at-least-once. It returns the new
// checkpoint.
func (f *Forwarder) publishThenCheckpoint(ctx context.Context, from eventlog.Position, batch []eventlog.RecordedEvent) (eventlog.Position, error) {
	if err := f.cfg.Publisher.Publish(f.cfg.Topic, messages(ctx, batch)...); err != nil {
		return from, fmt.Errorf("stream forwarder %s: publish %d events after %s: %w", f.cfg.Name, len(batch), from, err)
	}
	last := batch[len(batch)-1].Position
	tag, err := f.cfg.Pool.Exec(ctx, `UPDATE public.stream_checkpoints
		SET position = $3, events_published = events_published + $4, updated_at = now()
		WHERE name = $1 AND position = $2`, f.cfg.Name, from.String(), last.String(), len(batch))
	if err != nil {
		return from, fmt.Errorf("stream forwarder %s: move checkpoint to %s (the batch is published and will be again): %w", f.cfg.Name, last, err)
	}
	if tag.RowsAffected() != 1 {
		return from, fmt.Errorf("stream forwarder %s: moving the checkpoint from %s: %w", f.cfg.Name, from, errCheckpointMoved)
	}
	f.setPosition(last, len(batch))
	return last, nil
}

// publishWithCheckpoint publishes the events of the batch after the stored checkpoint through
// a publisher on the transaction that moves the checkpoint: exactly-once. The checkpoint row is
// locked first, so two forwarders that both believe they lead are serialised on it, and the
// second one drops what the first published.
func (f *Forwarder) publishWithCheckpoint(ctx context.Context, from eventlog.Position, batch []eventlog.RecordedEvent) (eventlog.Position, error) {
	tx, err := f.cfg.Pool.Begin(ctx)
	if err != nil {
		return from, fmt.Errorf("stream forwarder %s: begin batch: %w", f.cfg.Name, err)
	}
	defer rollback(ctx, tx)
	var text string
	if err := tx.QueryRow(ctx, `SELECT position FROM public.stream_checkpoints WHERE name = $1 FOR UPDATE`, f.cfg.Name).Scan(&text); err != nil {
		return from, fmt.Errorf("stream forwarder %s: lock checkpoint: %w", f.cfg.Name, err)
	}
	stored, err := eventlog.ParsePosition(text)
	if err != nil {
		return from, fmt.Errorf("stream forwarder %s: checkpoint: %w", f.cfg.Name, err)
	}
	if stored.Compare(from) < 0 {
		// Reset behind this forwarder's reading: resubscribing from it is the only way not to
		// skip the events in between.
		return from, fmt.Errorf("stream forwarder %s: checkpoint moved back from %s to %s: %w", f.cfg.Name, from, stored, errCheckpointMoved)
	}
	first, _ := slices.BinarySearchFunc(batch, stored, func(e eventlog.RecordedEvent, p eventlog.Position) int {
		if e.Position.Compare(p) <= 0 {
			return -1
		}
		return 1
	})
	fresh := batch[first:]
	if len(fresh) == 0 {
		return stored, nil // another forwarder published it all; the deferred rollback releases the row
	}
	publisher, err := f.cfg.PublishInTx(tx)
	if err != nil {
		return from, fmt.Errorf("stream forwarder %s: publisher on the batch's transaction: %w", f.cfg.Name, err)
	}
	if err := publisher.Publish(f.cfg.Topic, messages(ctx, fresh)...); err != nil {
		return from, fmt.Errorf("stream forwarder %s: publish %d events after %s: %w", f.cfg.Name, len(fresh), stored, err)
	}
	last := fresh[len(fresh)-1].Position
	if _, err := tx.Exec(ctx, `UPDATE public.stream_checkpoints
		SET position = $2, events_published = events_published + $3, updated_at = now() WHERE name = $1`,
		f.cfg.Name, last.String(), len(fresh)); err != nil {
		return from, fmt.Errorf("stream forwarder %s: move checkpoint: %w", f.cfg.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return from, fmt.Errorf("stream forwarder %s: commit batch: %w", f.cfg.Name, err)
	}
	f.setPosition(last, len(fresh))
	f.outage.Succeeded(ctx)
	return last, nil
}

func (f *Forwarder) setPosition(pos eventlog.Position, published int) {
	f.mu.Lock()
	f.position = pos
	f.published += int64(published)
	f.mu.Unlock()
}

func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // after a commit, or on a dead connection, there is nothing to roll back
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
