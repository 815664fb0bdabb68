package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/internal/analytics"
)

const (
	analyticsRunSummary     = "fold the event stream, consumed from a Watermill broker in a durable consumer group, into the analytics tables until interrupted"
	analyticsRebuildSummary = "recompute the analytics tables from the start of the event log beside the live ones, and swap them in"
	analyticsExportSummary  = "write the analytics tables as CSV, one row per request"
)

// DefaultAnalyticsGroup is the analytics job's consumer group.
const DefaultAnalyticsGroup = "analytics"

func runAnalyticsRun(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("analytics run", analyticsRunSummary, out)
	broker := fs.String("broker", envOr("HELPSTREAM_STREAM_BROKER", ""), "Watermill broker URL the forwarder publishes to: postgres://… (watermill-sql; on the --database-url database, folded in the transaction that acknowledges the messages, exactly once), amqp://… (RabbitMQ) or nats://… (NATS JetStream) (env HELPSTREAM_STREAM_BROKER)")
	group := fs.String("group", DefaultAnalyticsGroup, "durable consumer group: the job resumes where the group acknowledged; two jobs of one group share the messages")
	topic := fs.String("topic", stream.DefaultTopic, "the forwarder's topic")
	readBatch := fs.Int("read-batch", 1000, "watermill-sql only: messages read, folded and acknowledged in one transaction")
	metricsAddr := fs.String("metrics-addr", envOr("HELPSTREAM_ANALYTICS_METRICS_ADDR", ""), "serve the job's Prometheus metrics (/metrics) on this address, e.g. 127.0.0.1:9091; none when empty (env HELPSTREAM_ANALYTICS_METRICS_ADDR)")
	stores := addProjectionFlags(fs)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	if *broker == "" {
		return errors.New("analytics run: --broker is required")
	}
	if *readBatch <= 0 {
		return errors.New("analytics run: --read-batch must be positive")
	}
	if *group == "" {
		return errors.New("analytics run: --group must not be empty")
	}
	pool, store, closeStores, err := openProjectionStores(ctx, stores)
	if err != nil {
		return err
	}
	defer closeStores()
	sub, closeSub, err := openAnalyticsSubscriber(ctx, pool, *stores.databaseURL, *broker, *topic, *group, *readBatch, nil)
	if err != nil {
		return err
	}
	defer closeSub()
	job, err := analytics.NewConsumer(analytics.Config{DB: pool, Subscriber: sub, Topic: *topic, Logger: slog.Default()})
	if err != nil {
		return err
	}
	if *metricsAddr != "" {
		registry := prometheus.NewRegistry()
		registry.MustRegister(analytics.NewCollector(pool, store))
		stop, addr, err := serveMetrics(ctx, *metricsAddr, promhttp.HandlerFor(registry, promhttp.HandlerOpts{}), false)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(out, "analytics metrics on http://%s/metrics\n", addr)
	}
	fmt.Fprintf(out, "folding topic %q of %s (consumer group %q) into the analytics tables until interrupted\n", *topic, stream.Redact(*broker), *group)
	return job.Run(ctx)
}

// openAnalyticsSubscriber opens a subscriber of brokerURL in group. On a watermill-sql broker in
// the database of pool (databaseURL), its transactions are the job's (analytics.SQLBeginner):
// messages are folded in the transaction that acknowledges them. folded is passed on to it.
func openAnalyticsSubscriber(ctx context.Context, pool *pgxpool.Pool, databaseURL, brokerURL, topic, group string, readBatch int, folded func([]analytics.Event)) (message.Subscriber, func(), error) {
	logger := slog.Default()
	scheme, _, _ := strings.Cut(brokerURL, "://")
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	var sub message.Subscriber
	var err error
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		cfg := stream.SQLSubscriberConfig{ConsumerGroup: group, PollInterval: 100 * time.Millisecond, BatchSize: readBatch}
		brokerPool := pool
		if samePostgres(brokerURL, databaseURL) {
			cfg.Beginner = analytics.SQLBeginner(pool, folded)
		} else {
			if brokerPool, err = pgxpool.New(ctx, brokerURL); err != nil {
				return nil, nil, fmt.Errorf("analytics: broker %s: %w", stream.Redact(brokerURL), err)
			}
			closers = append(closers, brokerPool.Close)
		}
		sub, err = stream.NewSQLSubscriber(brokerPool, cfg, logger)
	case "amqp", "amqps":
		sub, err = stream.NewAMQPSubscriber(brokerURL, group, logger)
	case "nats", "tls":
		if err = stream.EnsureNATSTopic(ctx, brokerURL, topic); err == nil {
			sub, err = stream.NewNATSSubscriber(brokerURL, group, logger)
		}
	default:
		err = fmt.Errorf("analytics: broker %q: unknown scheme %q (want postgres, amqp or nats)", stream.Redact(brokerURL), scheme)
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	closers = append(closers, func() {
		if err := sub.Close(); err != nil {
			slog.Warn("analytics: closing the subscriber failed", "error", err)
		}
	})
	return sub, closeAll, nil
}

// samePostgres reports whether two PostgreSQL URLs name the same database on the same server
// as the same user.
func samePostgres(a, b string) bool {
	ca, errA := pgx.ParseConfig(a)
	cb, errB := pgx.ParseConfig(b)
	return errA == nil && errB == nil && ca.Host == cb.Host && ca.Port == cb.Port && ca.Database == cb.Database && ca.User == cb.User
}

func runAnalyticsRebuild(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("analytics rebuild", analyticsRebuildSummary, out)
	batch := fs.Int("batch", 5000, "events read and folded at once")
	stores := addProjectionFlags(fs)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	pool, store, closeStores, err := openProjectionStores(ctx, stores)
	if err != nil {
		return err
	}
	defer closeStores()
	start := time.Now()
	res, err := analytics.Rebuild(ctx, analytics.RebuildConfig{DB: pool, Store: store, Batch: *batch, Logger: slog.Default()})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "analytics tables rebuilt: generation %d, %d events in %s (%.0f events/s), %d of them read during the swap\n",
		res.Generation, res.Events, elapsed.Round(time.Millisecond), float64(res.Events)/elapsed.Seconds(), res.AtSwap)
	return nil
}

func runAnalyticsExport(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("analytics export", analyticsExportSummary, out)
	format := fs.String("format", "csv", "output format: csv")
	from := fs.String("from", "", "first day of submission, YYYY-MM-DD, in each company's time zone; none when empty")
	to := fs.String("to", "", "last day of submission, YYYY-MM-DD, included; none when empty")
	company := fs.String("company", "", "one company's requests (its ID); every company's when empty")
	output := fs.String("output", "", "file to write; standard output when empty")
	databaseURL := fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL of the analytics tables (env DATABASE_URL)")
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	if *format != "csv" {
		return fmt.Errorf("analytics export: --format %q: only csv is written", *format)
	}
	var filter analytics.ExportFilter
	var err error
	if *from != "" {
		if filter.From, err = time.Parse(time.DateOnly, *from); err != nil {
			return fmt.Errorf("analytics export: --from must be a date YYYY-MM-DD, not %q", *from)
		}
	}
	if *to != "" {
		if filter.To, err = time.Parse(time.DateOnly, *to); err != nil {
			return fmt.Errorf("analytics export: --to must be a date YYYY-MM-DD, not %q", *to)
		}
	}
	if !filter.From.IsZero() && !filter.To.IsZero() && filter.To.Before(filter.From) {
		return errors.New("analytics export: --to is before --from")
	}
	if *company != "" {
		if filter.Company, err = uuid.Parse(*company); err != nil {
			return fmt.Errorf("analytics export: --company must be a company ID (a UUID), not %q", *company)
		}
	}
	pool, err := pgxpool.New(ctx, *databaseURL)
	if err != nil {
		return fmt.Errorf("analytics export: %w", err)
	}
	defer pool.Close()
	w := out
	if *output != "" {
		f, err := os.Create(*output)
		if err != nil {
			return fmt.Errorf("analytics export: %w", err)
		}
		defer f.Close()
		w = f
	}
	n, err := analytics.Export(ctx, pool, w, filter)
	if err != nil {
		return err
	}
	if *output != "" {
		fmt.Fprintf(out, "%d requests written to %s\n", n, *output)
	}
	return nil
}
