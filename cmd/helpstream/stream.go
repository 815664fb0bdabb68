package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// brokerFlagUsage says which brokers a --broker or --stream-broker URL can name.
const brokerFlagUsage = "Watermill broker URL: postgres://… (watermill-sql; on the --database-url database, published in the checkpoint's transaction, exactly-once), amqp://… (RabbitMQ) or nats://… (NATS JetStream)"

const streamRunSummary = "publish every event of the log to a Watermill broker until interrupted; one forwarder per --name publishes across all processes"

func runStreamRun(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("stream run", streamRunSummary, out)
	broker := fs.String("broker", envOr("HELPSTREAM_STREAM_BROKER", ""), brokerFlagUsage+" (env HELPSTREAM_STREAM_BROKER)")
	name := fs.String("name", stream.DefaultName, "forwarder name: its checkpoint and its leader lock; one per destination")
	topic := fs.String("topic", stream.DefaultTopic, "topic every event is published to")
	batch := fs.Int("batch", stream.DefaultBatchSize, "most events of one Publish call and checkpoint write")
	worker := addWorkerFlags(fs, stream.DefaultLeaderRetry)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	if *broker == "" {
		return errors.New("stream run: --broker is required")
	}
	pool, store, closeStores, err := openProjectionStores(ctx, worker.projectionFlags)
	if err != nil {
		return err
	}
	defer closeStores()
	forwarder, closeBroker, err := openStreamForwarder(ctx, pool, *worker.databaseURL, store, *broker, stream.Config{
		Name: *name, Topic: *topic, BatchSize: *batch, LeaderRetry: *worker.leaderRetry,
	})
	if err != nil {
		return err
	}
	defer closeBroker()
	fmt.Fprintf(out, "forwarding the event log to topic %q of %s as %q until interrupted\n", forwarder.Topic(), stream.Redact(*broker), forwarder.Name())
	return forwarder.Run(ctx)
}

// openStreamForwarder opens the broker brokerURL names and a forwarder of store to it, whose
// checkpoint and leader lock live in pool (the database at databaseURL). cfg's Pool, Store,
// Publisher, PublishInTx and Logger are set here. The function returned closes the broker:
// call it after the forwarder's Run has returned.
func openStreamForwarder(ctx context.Context, pool *pgxpool.Pool, databaseURL string, store eventlog.Store, brokerURL string, cfg stream.Config) (*stream.Forwarder, func(), error) {
	topic := cfg.Topic
	if topic == "" {
		topic = stream.DefaultTopic
	}
	broker, err := stream.OpenBroker(ctx, brokerURL, stream.BrokerOptions{Database: pool, DatabaseURL: databaseURL, Topic: topic, Logger: slog.Default()})
	if err != nil {
		return nil, nil, err
	}
	cfg.Pool, cfg.Store, cfg.Logger = pool, store, slog.Default()
	broker.Configure(&cfg)
	forwarder, err := stream.NewForwarder(cfg)
	if err != nil {
		_ = broker.Close()
		return nil, nil, err
	}
	return forwarder, func() {
		if err := broker.Close(); err != nil {
			slog.Warn("stream: closing the broker failed", "error", err)
		}
	}, nil
}
