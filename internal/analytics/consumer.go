package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultTopic is the forwarder's default topic (adapters/stream).
const DefaultTopic = "helpstream.events"

// Config shapes a Consumer.
type Config struct {
	// DB is the database of the analytics tables (migration 013). Required.
	DB *pgxpool.Pool
	// Subscriber receives the forwarder's topic in the job's durable consumer group. Required.
	// A watermill-sql subscriber on DB whose transactions come from SQLBeginner folds each
	// message in the transaction that acknowledges it (exactly once, a fold per batch the
	// subscriber reads); any other folds each message in a transaction of its own before
	// acknowledging it (at least once, deduplicated by message UUID).
	Subscriber message.Subscriber
	// Topic is the forwarder's topic. Default DefaultTopic.
	Topic string
	// RetryDelay is how long the job waits before taking back a message it failed to fold (the
	// database down, say): the broker delivers it again. Default 1s.
	RetryDelay time.Duration
	// Logger receives the job's logs. Default slog.Default().
	Logger *slog.Logger
	// Folded, when set, is called after each commit of a message folded in a transaction of its
	// own, with its event, when it was new (see SQLBeginner's for the other way): the benchmark
	// times delivery with it.
	Folded func([]Event)
}

// Validate checks the required fields.
func (c Config) Validate() error {
	if c.DB == nil {
		return errors.New("analytics job: no database")
	}
	if c.Subscriber == nil {
		return errors.New("analytics job: no subscriber")
	}
	if c.RetryDelay < 0 {
		return errors.New("analytics job: negative retry delay")
	}
	return nil
}

// Consumer is the streaming analytics job.
type Consumer struct {
	cfg Config
}

// NewConsumer validates cfg and returns the job; start it with Run.
func NewConsumer(cfg Config) (*Consumer, error) {
	cfg.Topic = cmp.Or(cfg.Topic, DefaultTopic)
	cfg.RetryDelay = cmp.Or(cfg.RetryDelay, time.Second)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg}, nil
}

// Run consumes the topic until ctx ends, then returns nil; it returns an error when the
// subscription cannot start. A message that is not an event of the stream is logged and
// acknowledged (delivering it again would not make it one); a fold that fails is taken back
// (nack) after RetryDelay so the broker delivers it again.
func (c *Consumer) Run(ctx context.Context) error {
	messages, err := c.cfg.Subscriber.Subscribe(ctx, c.cfg.Topic)
	if err != nil {
		return fmt.Errorf("analytics job: subscribe to %s: %w", c.cfg.Topic, err)
	}
	c.cfg.Logger.Info("analytics job consuming", "topic", c.cfg.Topic)
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-messages:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("analytics job: the subscription to %s ended", c.cfg.Topic)
			}
			c.handle(ctx, msg)
		}
	}
}

func (c *Consumer) handle(ctx context.Context, msg *message.Message) {
	e, err := FromMessage(msg)
	switch {
	case errors.Is(err, ErrUndecodable):
		c.cfg.Logger.Warn("analytics job: event folded as unknown", "uuid", msg.UUID, "error", err)
	case err != nil:
		c.cfg.Logger.Error("analytics job: message skipped", "uuid", msg.UUID, "error", err)
		msg.Ack()
		return
	}
	if tx, ok := wmsql.TxFromContext(msg.Context()); ok {
		if dt, ok := tx.(*deferredTx); ok {
			dt.add(e)
			msg.Ack()
			return
		}
	}
	var applied int
	err = pgx.BeginFunc(ctx, c.cfg.DB, func(tx pgx.Tx) error {
		applied, err = Fold(ctx, tx, Live(), []Event{e})
		return err
	})
	if err != nil {
		c.cfg.Logger.Error("analytics job: fold failed; the message will come again", "uuid", msg.UUID, "type", e.Type, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(c.cfg.RetryDelay):
		}
		msg.Nack()
		return
	}
	if applied > 0 && c.cfg.Folded != nil {
		c.cfg.Folded([]Event{e})
	}
	msg.Ack()
}

// SQLBeginner is the transactions a watermill-sql subscriber on pool reads messages in, for
// the job: the messages a transaction delivers are folded into the live tables in that same
// transaction, together, just before it commits the consumer group's offset. A crash at any
// point loses nothing and applies nothing twice, and a batch of the subscriber's costs one
// fold. folded, when not nil, is called after each commit with the events of the messages the
// transaction delivered (a redelivered one included).
func SQLBeginner(pool *pgxpool.Pool, folded func([]Event)) wmsql.Beginner {
	return &deferredBeginner{Beginner: wmsql.BeginnerFromPgx(pool), folded: folded}
}

type deferredBeginner struct {
	wmsql.Beginner
	folded func([]Event)
}

func (b *deferredBeginner) BeginTx(ctx context.Context, opts *sql.TxOptions) (wmsql.Tx, error) {
	tx, err := b.Beginner.BeginTx(ctx, opts)
	if err != nil {
		return tx, err
	}
	pgxTx, ok := tx.(*wmsql.PgxTx)
	if !ok {
		return tx, nil
	}
	return &deferredTx{Tx: tx, pgx: pgxTx.Tx, ctx: ctx, folded: b.folded}, nil
}

// deferredTx is a subscriber's transaction that carries the events of the messages it
// delivered until it commits.
type deferredTx struct {
	wmsql.Tx
	pgx    pgx.Tx
	ctx    context.Context
	folded func([]Event)

	mu      sync.Mutex
	pending []Event
}

func (t *deferredTx) add(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending = append(t.pending, e)
}

// Commit folds the events delivered in the transaction, then commits it with the offset the
// subscriber acknowledged; a failed fold rolls everything back, and the subscriber reads the
// messages again.
func (t *deferredTx) Commit() error {
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	if len(pending) > 0 {
		// The fold and the consumer group's offset commit together or not at all: a commit
		// lost in a crash of PostgreSQL loses both, and the messages come again. So the commit
		// need not wait for the WAL's flush.
		if _, err := t.pgx.Exec(t.ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
			_ = t.Tx.Rollback()
			return fmt.Errorf("analytics: %w", err)
		}
		if _, err := Fold(t.ctx, t.pgx, Live(), pending); err != nil {
			_ = t.Tx.Rollback()
			return err
		}
	}
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	if len(pending) > 0 && t.folded != nil {
		t.folded(pending)
	}
	return nil
}
