package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

const benchAnalyticsSummary = "seed N events of request histories, forward them to watermill-sql, time the analytics job consuming them beside the forwarder, measure event-to-metric delay (design §7)"

// runBenchAnalytics is `helpstream bench analytics`.
func runBenchAnalytics(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench analytics", benchAnalyticsSummary, out)
	events := fs.Int("events", 1_000_000, "events of the backlog (requests of 10 events)")
	writers := fs.Int("seed-writers", 2, "seeding transactions running at once")
	batch := fs.Int("batch", stream.DefaultBatchSize, "the forwarder's batch: events per Publish call and checkpoint")
	rate := fs.Float64("rate", bench.AnalyticsDelayRate, "events/s of the delay measurement")
	delayFor := fs.Duration("delay-duration", 20*time.Second, "how long the delay is measured (after 2 s of warm-up)")
	poll := fs.Duration("subscriber-poll", 10*time.Millisecond, "poll interval of the job's watermill-sql subscriber")
	readBatch := fs.Int("read-batch", 1000, "messages the job's watermill-sql subscriber reads (and folds) at once")
	keep := fs.Bool("keep", false, "keep the scratch database (its name is printed) instead of dropping it")
	verbose := fs.Bool("verbose", false, "log what the forwarder and the job do to stderr")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *events <= 0 || *writers <= 0 || *readBatch <= 0 || *rate <= 0 || *delayFor <= 0 || *poll <= 0 {
		return fmt.Errorf("bench analytics: --events, --seed-writers, --rate, --delay-duration and --subscriber-poll must be positive")
	}
	_, pool, store, closeAll, err := benchDatabase(ctx, *dbURL, *keep, 16, pgstore.Config{}, out)
	if err != nil {
		return err
	}
	defer closeAll()
	var logger *slog.Logger
	if *verbose {
		logger = slog.Default()
	}
	started := time.Now()
	rep, err := bench.RunAnalytics(ctx, bench.AnalyticsConfig{Pool: pool, Store: store, Events: *events, SeedWriters: *writers,
		ForwarderBatch: *batch, Rate: *rate, DelayDuration: *delayFor, SubscriberPoll: *poll, ReadBatch: *readBatch, Logger: logger}, out)
	if err != nil {
		return err
	}
	s := rep.Seed
	fmt.Fprintf(out, "\nSeed: %d events in %d transactions, %s: %.0f events/s\n\n", s.Events, s.Transactions, s.Duration.Round(time.Millisecond), float64(s.Events)/s.Duration.Seconds())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tevents\tseconds\tevents/s\tratio\tbar\tresult")
	f, c := rep.Forward, rep.CatchUp
	fmt.Fprintf(tw, "forwarder to watermill-sql, backlog (batch %d)\t%d\t%.1f\t%.0f\t\t\t\n", f.Batch, f.Events, f.Duration.Seconds(), f.Rate())
	fmt.Fprintf(tw, "analytics job consuming it (exactly-once)\t%d\t%.1f\t%.0f\t%.0f%%\t≥ %.0f%%\t%s\n", c.Events, c.Duration.Seconds(), c.Rate(),
		100*rep.CatchUpRatio(), 100*bench.AnalyticsCatchUpBar, verdict(rep.CatchUpPass()))
	_ = tw.Flush()
	l := rep.Delay
	fmt.Fprintf(out, "\nAppend (start) to the commit of the fold that applied it, live, %s after 2 s of warm-up:\n", l.Duration)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "events/s\tachieved\tevents\tlost\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tbar\tresult")
	fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\tp99 < %s\t%s\n", l.Target, l.Achieved, l.Events, l.Lost, l.Errors,
		ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), bench.AnalyticsDelayBar, verdict(rep.DelayPass()))
	_ = tw.Flush()
	fmt.Fprint(out, "\nLoad average after each phase:")
	for _, ls := range rep.Load {
		fmt.Fprintf(out, "  %s: %s", ls.After, ls.Load)
	}
	fmt.Fprintf(out, "\nTotal %s.\n", time.Since(started).Round(time.Second))
	return nil
}
