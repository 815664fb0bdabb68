package stream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v4/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	nc "github.com/nats-io/nats.go"
)

// --- watermill-sql on PostgreSQL ---------------------------------------------------------------
//
// A topic is a table, "watermill_<topic>", ordered like the event store by (transaction ID,
// offset); consumer groups keep their offsets in "watermill_offsets_<topic>".

// sqlSchema and sqlOffsets are watermill-sql's PostgreSQL defaults, which every publisher and
// subscriber of a topic must share.
var (
	sqlSchema  = wmsql.DefaultPostgreSQLSchema{}
	sqlOffsets = wmsql.DefaultPostgreSQLOffsetsAdapter{}
)

// InitializeSQLTopic creates the tables of a watermill-sql topic if they do not exist. A
// publisher on a transaction cannot create them (DDL would commit the caller's transaction
// early in other databases, and watermill-sql refuses), so the forwarder's topic is created
// before it starts.
func InitializeSQLTopic(ctx context.Context, pool *pgxpool.Pool, topic string) error {
	sub, err := wmsql.NewSubscriber(wmsql.BeginnerFromPgx(pool), wmsql.SubscriberConfig{
		SchemaAdapter: sqlSchema, OffsetsAdapter: sqlOffsets,
	}, watermill.NopLogger{})
	if err != nil {
		return fmt.Errorf("create watermill-sql topic %s: %w", topic, err)
	}
	defer sub.Close()
	if err := sub.SubscribeInitialize(topic); err != nil {
		return fmt.Errorf("create watermill-sql topic %s: %w", topic, err)
	}
	return nil
}

// NewSQLPublisher returns a watermill-sql publisher on pool: each Publish is one INSERT in its
// own transaction. It creates a topic's tables on first use.
func NewSQLPublisher(pool *pgxpool.Pool, logger *slog.Logger) (message.Publisher, error) {
	p, err := wmsql.NewPublisher(wmsql.BeginnerFromPgx(pool), wmsql.PublisherConfig{
		SchemaAdapter: sqlSchema, AutoInitializeSchema: true,
	}, watermillLogger(logger))
	return client[message.Publisher](p, err, "watermill-sql publisher", "")
}

// SQLPublisherInTx returns a watermill-sql publisher that inserts into tx: Config.PublishInTx
// for a topic in the database of the forwarder's checkpoint. The topic's tables must exist
// (InitializeSQLTopic).
func SQLPublisherInTx(tx pgx.Tx) (message.Publisher, error) {
	p, err := wmsql.NewPublisher(wmsql.TxFromPgx(tx), wmsql.PublisherConfig{SchemaAdapter: sqlSchema}, watermill.NopLogger{})
	return client[message.Publisher](p, err, "watermill-sql publisher on a transaction", "")
}

// SQLSubscriberConfig shapes NewSQLSubscriber.
type SQLSubscriberConfig struct {
	// ConsumerGroup names the consumer: each group receives every message once, and resumes
	// where it acknowledged. Empty is a group of its own.
	ConsumerGroup string
	// PollInterval is how often the subscriber looks for new messages when it found none.
	// Default 1s (watermill-sql's).
	PollInterval time.Duration
	// Beginner, when set, begins the transactions the subscriber reads messages in, instead of
	// plain ones on pool: a consumer that writes in the transaction that acknowledges its
	// messages (the analytics job, exactly once) brings its own. It must use pool's database.
	Beginner wmsql.Beginner
	// BatchSize is how many messages one query reads (and one transaction acknowledges).
	// Default 100 (watermill-sql's). A consumer catching up on a backlog reads fewer times
	// with more.
	BatchSize int
}

// NewSQLSubscriber returns a watermill-sql subscriber on pool. It creates a topic's tables when
// it subscribes.
func NewSQLSubscriber(pool *pgxpool.Pool, cfg SQLSubscriberConfig, logger *slog.Logger) (message.Subscriber, error) {
	beginner := cfg.Beginner
	if beginner == nil {
		beginner = wmsql.BeginnerFromPgx(pool)
	}
	schema := keysetSchema{sqlSchema}
	schema.SubscribeBatchSize = cfg.BatchSize
	s, err := wmsql.NewSubscriber(beginner, wmsql.SubscriberConfig{
		ConsumerGroup: cfg.ConsumerGroup, PollInterval: cfg.PollInterval,
		SchemaAdapter: schema, OffsetsAdapter: sqlOffsets, InitializeSchema: true,
	}, watermillLogger(logger))
	return client[message.Subscriber](s, err, "watermill-sql subscriber", "")
}

// keysetSchema is watermill-sql's PostgreSQL schema with a SELECT that reads the next batch
// after the consumer group's offset by a range scan of the primary key (transaction_id,
// offset), which stops after the batch. watermill-sql's own writes the same condition as an OR
// of two ranges, which PostgreSQL answers by gathering and sorting every message after the
// offset: each read of a backlog of a million messages sorted the rest of it, so catching up was
// quadratic (about 1,200 messages/s at 200,000 in, against 17,000/s over 100,000).
type keysetSchema struct {
	wmsql.DefaultPostgreSQLSchema
}

func (s keysetSchema) SelectQuery(params wmsql.SelectQueryParams) (wmsql.Query, error) {
	next, err := params.OffsetsAdapter.NextOffsetQuery(wmsql.NextOffsetQueryParams{Topic: params.Topic, ConsumerGroup: params.ConsumerGroup})
	if err != nil {
		return wmsql.Query{}, err
	}
	batch := s.SubscribeBatchSize
	if batch <= 0 {
		batch = 100
	}
	// the same rows in the same order as watermill-sql's: (t, o) > (t0, o0) is
	// t = t0 AND o > o0 OR t > t0; the offsets row stays locked (FOR UPDATE) for the transaction
	return wmsql.Query{Query: `WITH last_processed AS (` + next.Query + `)
		SELECT "offset", transaction_id, uuid, payload, metadata FROM ` + s.MessagesTable(params.Topic) + `
		WHERE (transaction_id, "offset") > ((SELECT last_processed_transaction_id FROM last_processed), (SELECT offset_acked FROM last_processed))
			AND transaction_id < pg_snapshot_xmin(pg_current_snapshot())
		ORDER BY transaction_id ASC, "offset" ASC
		LIMIT ` + strconv.Itoa(batch), Args: next.Args}, nil
}

// --- RabbitMQ ----------------------------------------------------------------------------------
//
// Durable publish/subscribe: a topic is a durable fanout exchange of the topic's name; each
// consumer group is a durable queue "<topic>_<group>" bound to it. Messages are persistent and
// the publisher waits for the broker's confirmation of each. An exchange keeps nothing for
// queues that are not bound yet: declare a consumer's queue (subscribe once) before the
// forwarder publishes what it must receive.

func amqpConfig(amqpURL, consumerGroup string) amqp.Config {
	cfg := amqp.NewDurablePubSubConfig(amqpURL, amqp.GenerateQueueNameTopicNameWithSuffix(consumerGroup))
	cfg.Publish.ConfirmDelivery = true
	return cfg
}

// NewAMQPPublisher returns a RabbitMQ publisher.
func NewAMQPPublisher(amqpURL string, logger *slog.Logger) (message.Publisher, error) {
	p, err := amqp.NewPublisher(amqpConfig(amqpURL, ""), watermillLogger(logger))
	return client[message.Publisher](p, err, "RabbitMQ publisher", amqpURL)
}

// NewAMQPSubscriber returns a RabbitMQ subscriber whose queue for a topic is
// "<topic>_<consumerGroup>".
func NewAMQPSubscriber(amqpURL, consumerGroup string, logger *slog.Logger) (message.Subscriber, error) {
	if consumerGroup == "" {
		return nil, errors.New("new RabbitMQ subscriber: a consumer group is required")
	}
	s, err := amqp.NewSubscriber(amqpConfig(amqpURL, consumerGroup), watermillLogger(logger))
	return client[message.Subscriber](s, err, "RabbitMQ subscriber", amqpURL)
}

// --- NATS JetStream ----------------------------------------------------------------------------
//
// A topic is a subject, stored by a JetStream stream that EnsureNATSTopic creates, named after
// the topic with its dots made underscores (stream names cannot hold dots; subjects can). The
// publisher waits for JetStream's acknowledgement of each message and sends the message UUID
// as Nats-Msg-Id, so JetStream itself drops a repeat published within its duplicate window (2
// minutes by default). A consumer group is a durable queue consumer.

// NATSStreamName is the JetStream stream that stores a topic.
func NATSStreamName(topic string) string {
	return strings.NewReplacer(".", "_", "*", "_", ">", "_", " ", "_").Replace(topic)
}

// EnsureNATSTopic creates the JetStream stream of a topic if it does not exist.
func EnsureNATSTopic(ctx context.Context, natsURL, topic string) error {
	conn, err := nc.Connect(natsURL, nc.Name("helpstream stream setup"))
	if err != nil {
		return fmt.Errorf("connect to NATS at %s: %w", Redact(natsURL), err)
	}
	defer conn.Close()
	js, err := conn.JetStream(nc.Context(ctx))
	if err != nil {
		return fmt.Errorf("NATS JetStream at %s: %w", Redact(natsURL), err)
	}
	name := NATSStreamName(topic)
	if _, err := js.StreamInfo(name, nc.Context(ctx)); err == nil {
		return nil
	} else if !errors.Is(err, nc.ErrStreamNotFound) {
		return fmt.Errorf("look up JetStream stream %s: %w", name, err)
	}
	if _, err := js.AddStream(&nc.StreamConfig{Name: name, Subjects: []string{topic}, Storage: nc.FileStorage}, nc.Context(ctx)); err != nil {
		return fmt.Errorf("create JetStream stream %s for topic %s: %w", name, topic, err)
	}
	return nil
}

func natsJetStream(durable string) wmnats.JetStreamConfig {
	return wmnats.JetStreamConfig{
		AutoProvision: false, // watermill-nats would name the stream after the topic, dots and all
		TrackMsgId:    true,
		DurablePrefix: durable,
	}
}

// NewNATSPublisher returns a NATS JetStream publisher. The topic's stream must exist
// (EnsureNATSTopic).
func NewNATSPublisher(natsURL string, logger *slog.Logger) (message.Publisher, error) {
	p, err := wmnats.NewPublisher(wmnats.PublisherConfig{
		URL:         natsURL,
		NatsOptions: []nc.Option{nc.Name("helpstream stream forwarder")},
		Marshaler:   &wmnats.NATSMarshaler{},
		JetStream:   natsJetStream(""),
	}, watermillLogger(logger))
	return client[message.Publisher](p, err, "NATS JetStream publisher", natsURL)
}

// NewNATSSubscriber returns a NATS JetStream subscriber whose durable consumer is named after
// consumerGroup. The topic's stream must exist (EnsureNATSTopic).
func NewNATSSubscriber(natsURL, consumerGroup string, logger *slog.Logger) (message.Subscriber, error) {
	if consumerGroup == "" {
		return nil, errors.New("new NATS JetStream subscriber: a consumer group is required")
	}
	s, err := wmnats.NewSubscriber(wmnats.SubscriberConfig{
		URL:              natsURL,
		QueueGroupPrefix: consumerGroup,
		SubscribersCount: 1, // one at a time keeps each stream's events in order
		AckWaitTimeout:   30 * time.Second,
		CloseTimeout:     5 * time.Second,
		Unmarshaler:      &wmnats.NATSMarshaler{},
		JetStream:        natsJetStream(consumerGroup),
	}, watermillLogger(logger))
	return client[message.Subscriber](s, err, "NATS JetStream subscriber", natsURL)
}

// --- opening a broker by URL -------------------------------------------------------------------

// BrokerOptions are what OpenBroker needs besides the broker's URL.
type BrokerOptions struct {
	// Database is the pool of the forwarder's checkpoint, and DatabaseURL its URL. A postgres://
	// broker URL naming the same database publishes in the checkpoint's transaction on this
	// pool; another database gets a pool of its own.
	Database    *pgxpool.Pool
	DatabaseURL string
	// Topic is created on a watermill-sql broker before publishing in a transaction.
	Topic string
	// Logger receives the broker client's logs. Default slog.Default().
	Logger *slog.Logger
}

// Broker is a Watermill broker opened by OpenBroker, for a Forwarder to publish to.
type Broker struct {
	// Kind is "postgres", "amqp" or "nats".
	Kind string
	// ExactlyOnce says the broker publishes in the checkpoint's transaction.
	ExactlyOnce bool

	publisher   message.Publisher
	publishInTx func(pgx.Tx) (message.Publisher, error)
	closers     []func() error
}

// Configure sets the forwarder's Publisher or PublishInTx to this broker's.
func (b *Broker) Configure(cfg *Config) {
	cfg.Publisher, cfg.PublishInTx = b.publisher, b.publishInTx
}

// Close closes the publisher and anything the broker opened; call it after the forwarder's Run
// has returned.
func (b *Broker) Close() error {
	var errs []error
	for i := len(b.closers) - 1; i >= 0; i-- {
		errs = append(errs, b.closers[i]())
	}
	return errors.Join(errs...)
}

// OpenBroker opens the broker a URL names, by its scheme:
//
//	postgres://… or postgresql://…  watermill-sql: on opts.Database in the checkpoint's
//	                                transaction when the URL names that database, otherwise
//	                                on a pool of its own
//	amqp://… or amqps://…           RabbitMQ
//	nats://… or tls://…             NATS JetStream
func OpenBroker(ctx context.Context, brokerURL string, opts BrokerOptions) (*Broker, error) {
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	opts.Topic = cmp.Or(opts.Topic, DefaultTopic)
	scheme, _, ok := strings.Cut(brokerURL, "://")
	if !ok {
		return nil, fmt.Errorf("stream broker %q: want a URL such as postgres://…, amqp://… or nats://…", Redact(brokerURL))
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if opts.Database != nil && samePostgresDatabase(brokerURL, opts.DatabaseURL) {
			if err := InitializeSQLTopic(ctx, opts.Database, opts.Topic); err != nil {
				return nil, err
			}
			return &Broker{Kind: "postgres", ExactlyOnce: true, publishInTx: SQLPublisherInTx}, nil
		}
		pool, err := pgxpool.New(ctx, brokerURL)
		if err != nil {
			return nil, fmt.Errorf("stream broker %s: %w", Redact(brokerURL), err)
		}
		if err := InitializeSQLTopic(ctx, pool, opts.Topic); err != nil {
			pool.Close()
			return nil, err
		}
		p, err := NewSQLPublisher(pool, opts.Logger)
		if err != nil {
			pool.Close()
			return nil, err
		}
		return &Broker{Kind: "postgres", publisher: p, closers: []func() error{func() error { pool.Close(); return nil }, p.Close}}, nil
	case "amqp", "amqps":
		p, err := NewAMQPPublisher(brokerURL, opts.Logger)
		if err != nil {
			return nil, err
		}
		return &Broker{Kind: "amqp", publisher: p, closers: []func() error{p.Close}}, nil
	case "nats", "tls":
		if err := EnsureNATSTopic(ctx, brokerURL, opts.Topic); err != nil {
			return nil, err
		}
		p, err := NewNATSPublisher(brokerURL, opts.Logger)
		if err != nil {
			return nil, err
		}
		return &Broker{Kind: "nats", publisher: p, closers: []func() error{p.Close}}, nil
	default:
		return nil, fmt.Errorf("stream broker %q: unknown scheme %q (want postgres, amqp or nats)", Redact(brokerURL), scheme)
	}
}

// samePostgresDatabase reports whether two PostgreSQL URLs name the same database on the same
// server as the same user.
func samePostgresDatabase(a, b string) bool {
	ca, errA := pgx.ParseConfig(a)
	cb, errB := pgx.ParseConfig(b)
	if errA != nil || errB != nil {
		return false
	}
	return ca.Host == cb.Host && ca.Port == cb.Port && ca.Database == cb.Database && ca.User == cb.User
}

// Redact hides the password of a URL, for logs and messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// client returns the publisher or subscriber a Watermill constructor made, or its error, which
// names the client and the broker's URL (redacted; none for a client on a pool or transaction).
func client[T any](c T, err error, what, brokerURL string) (T, error) {
	if err != nil {
		var none T
		if brokerURL == "" {
			return none, fmt.Errorf("new %s: %w", what, err)
		}
		return none, fmt.Errorf("new %s on %s: %w", what, Redact(brokerURL), err)
	}
	return c, nil
}

// watermillLogger hands a slog logger to Watermill.
func watermillLogger(l *slog.Logger) watermill.LoggerAdapter {
	return watermill.NewSlogLogger(cmp.Or(l, slog.Default()))
}
