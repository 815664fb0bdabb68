package analytics_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"
	"github.com/helpstream/helpstream/internal/analytics"
)

var (
	amqpURL = envOr("HELPSTREAM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
	natsURL = envOr("HELPSTREAM_TEST_NATS_URL", "nats://127.0.0.1:4222")
	quiet   = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// TestForwarderToEveryBrokerToTheJob runs the whole path on each broker: the forwarder
// publishes the log to a new topic, the analytics job consumes it in its consumer group, and the
// tables are the oracle's reading of the log, though a rebuild swapped the tables under the job
// while the log grew. On watermill-sql the job folds in the
// subscriber's transactions (analytics.SQLBeginner); on RabbitMQ and NATS JetStream, one
// transaction a message.
func TestForwarderToEveryBrokerToTheJob(t *testing.T) {
	for _, broker := range []struct {
		name string
		url  func(databaseURL string) string
		sub  func(t *testing.T, ctx context.Context, db *pgxpool.Pool, topic string) message.Subscriber
	}{
		{"watermill-sql", func(u string) string { return u }, func(t *testing.T, ctx context.Context, db *pgxpool.Pool, topic string) message.Subscriber {
			// every message is folded in the subscriber's transaction, none on its own
			inTx := 0
			t.Cleanup(func() {
				if inTx == 0 {
					t.Error("no message was folded in the subscriber's transaction")
				}
			})
			beginner := analytics.SQLBeginner(db, func(events []analytics.Event) { inTx += len(events) })
			s, err := stream.NewSQLSubscriber(db, stream.SQLSubscriberConfig{ConsumerGroup: "analytics", PollInterval: 20 * time.Millisecond, Beginner: beginner}, quiet)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"rabbitmq", func(string) string { return amqpURL }, func(t *testing.T, ctx context.Context, db *pgxpool.Pool, topic string) message.Subscriber {
			t.Cleanup(func() { streamtest.DeleteAMQPTopic(t, amqpURL, topic, topic+"_analytics") })
			s, err := stream.NewAMQPSubscriber(amqpURL, "analytics", quiet)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
		{"nats-jetstream", func(string) string { return natsURL }, func(t *testing.T, ctx context.Context, db *pgxpool.Pool, topic string) message.Subscriber {
			if err := stream.EnsureNATSTopic(ctx, natsURL, topic); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { streamtest.DeleteNATSTopic(t, natsURL, topic) })
			s, err := stream.NewNATSSubscriber(natsURL, "analytics", quiet)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}},
	} {
		t.Run(broker.name, func(t *testing.T) {
			db, databaseURL := pgtest.NewDatabase(t)
			store := pgtest.OpenEventStore(t, db, pgstore.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			topic := "helpstream_test_analytics_" + uuid.NewString()[:8]
			w := randomWorld(7, 12, 400)
			w.append(t, ctx, store, 0, len(w.log)/2)

			sub := broker.sub(t, ctx, db, topic)
			defer sub.Close()
			if init, ok := sub.(message.SubscribeInitializer); ok { // the queue is bound before anything is published
				if err := init.SubscribeInitialize(topic); err != nil {
					t.Fatal(err)
				}
			}
			job, err := analytics.NewConsumer(analytics.Config{DB: db, Subscriber: sub, Topic: topic, Logger: quiet, RetryDelay: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			jobCtx, stopJob := context.WithCancel(ctx)
			jobDone := make(chan error, 1)
			go func() { jobDone <- job.Run(jobCtx) }()
			defer func() { stopJob(); <-jobDone }()

			b, err := stream.OpenBroker(ctx, broker.url(databaseURL), stream.BrokerOptions{Database: db, DatabaseURL: databaseURL, Topic: topic, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			cfg := stream.Config{Name: "analytics-test", Topic: topic, Pool: db, Store: store, BatchSize: 50,
				LeaderRetry: 100 * time.Millisecond, RetryDelay: 100 * time.Millisecond, Logger: quiet}
			b.Configure(&cfg)
			forwarder, err := stream.NewForwarder(cfg)
			if err != nil {
				t.Fatal(err)
			}
			fwdCtx, stopForwarder := context.WithCancel(ctx)
			fwdDone := make(chan error, 1)
			go func() { fwdDone <- forwarder.Run(fwdCtx) }()
			defer func() { stopForwarder(); <-fwdDone }()

			// the backlog, then the rest live while a rebuild swaps new tables in under the job
			appended := make(chan struct{})
			go func() {
				defer close(appended)
				for i := len(w.log) / 2; i < len(w.log); i += 5 {
					w.append(t, ctx, store, i, min(i+5, len(w.log)))
					time.Sleep(2 * time.Millisecond)
				}
			}()
			res, err := analytics.Rebuild(ctx, analytics.RebuildConfig{DB: db, Store: store, Batch: 20, Logger: quiet})
			<-appended
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rebuild during the run: %+v", res)
			waitApplied(t, ctx, db, len(w.log))
			if d := diffRows(readRows(t, ctx, db), oracle(w.log)); d != "" {
				t.Fatalf("tables after %s: %s", broker.name, d)
			}
			if c := companies(t, ctx, db); c == "" {
				t.Error("no company folded")
			}
		})
	}
}

// waitApplied waits until the live tables applied n events.
func waitApplied(t *testing.T, ctx context.Context, db *pgxpool.Pool, n int) {
	t.Helper()
	var applied int
	for {
		if err := db.QueryRow(ctx, `SELECT applied FROM analytics_state`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied >= n {
			if applied > n {
				t.Fatalf("%d events applied, the log has %d", applied, n)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d events applied before the deadline", applied, n)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
