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

const benchStreamSummary = "seed N events, forward the backlog to watermill-sql beside the broker's own batched publish rate, measure append-to-delivery latency (design §7)"

// runBenchStream is `helpstream bench stream`.
func runBenchStream(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench stream", benchStreamSummary, out)
	events := fs.Int("events", 1_000_000, "events of the backlog")
	perStream := fs.Int("events-per-stream", 10, "events of each seeded stream")
	writers := fs.Int("seed-writers", 2, "seeding transactions running at once")
	baselineBatch := fs.Int("baseline-batch", 100, "messages per Publish call of the broker's own rate")
	batch := fs.Int("batch", stream.DefaultBatchSize, "the forwarder's batch: events per Publish call and checkpoint")
	rate := fs.Float64("rate", bench.StreamLatencyRate, "events/s of the latency measurement")
	latencyFor := fs.Duration("latency-duration", 20*time.Second, "how long the latency is measured (after 2 s of warm-up)")
	poll := fs.Duration("subscriber-poll", 10*time.Millisecond, "poll interval of the watermill-sql subscriber of the latency measurement")
	keep := fs.Bool("keep", false, "keep the scratch database (its name is printed) instead of dropping it")
	verbose := fs.Bool("verbose", false, "log what the forwarder does to stderr")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *events <= 0 || *perStream <= 0 || *writers <= 0 || *baselineBatch <= 0 || *rate <= 0 || *latencyFor <= 0 {
		return fmt.Errorf("bench stream: --events, --events-per-stream, --seed-writers, --baseline-batch, --rate and --latency-duration must be positive")
	}
	_, pool, store, closeAll, err := benchDatabase(ctx, *dbURL, *keep, 16, pgstore.Config{}, out)
	if err != nil {
		return err
	}
	defer closeAll()
	var logger *slog.Logger // discarded
	if *verbose {
		logger = slog.Default()
	}
	started := time.Now()
	rep, err := bench.RunStream(ctx, bench.StreamConfig{
		Pool: pool, Store: store, Events: *events, EventsPerStream: *perStream, SeedWriters: *writers,
		BaselineBatch: *baselineBatch, ForwarderBatch: *batch, Rate: *rate, LatencyDuration: *latencyFor,
		SubscriberPoll: *poll, Logger: logger,
	}, out)
	if err != nil {
		return err
	}
	printStreamReport(out, rep, time.Since(started))
	return nil
}

func printStreamReport(out io.Writer, rep bench.StreamReport, total time.Duration) {
	s := rep.Seed
	fmt.Fprintf(out, "\nSeed: %d events in %d transactions, %s: %.0f events/s\n\n", s.Events, s.Transactions, s.Duration.Round(time.Millisecond), s.Rate())
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tbatch\tevents\tseconds\tevents/s\tratio\tbar\tresult")
	b, f := rep.Baseline, rep.Forward
	fmt.Fprintf(tw, "watermill-sql Publish alone (same messages)\t%d\t%d\t%.1f\t%.0f\t\t\t\n", b.Batch, b.Events, b.Duration.Seconds(), b.Rate())
	fmt.Fprintf(tw, "forwarder, backlog from the log (exactly-once)\t%d\t%d\t%.1f\t%.0f\t%.0f%%\t≥ %.0f%%\t%s\n", f.Batch, f.Events, f.Duration.Seconds(), f.Rate(),
		100*rep.ForwardRatio(), 100*bench.StreamForwardBar, verdict(rep.ForwardPass()))
	_ = tw.Flush()
	l := rep.Latency
	fmt.Fprintf(out, "\nAppend (start) to delivery to a watermill-sql subscriber, live, %s after 2 s of warm-up:\n", l.Duration)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "events/s\tachieved\tevents\tlost\terrors\tp50 ms\tp95 ms\tp99 ms\tmax ms\tbar\tresult")
	fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d\t%d\t%s\t%s\t%s\t%s\tp99 < %s\t%s\n", l.Target, l.Achieved, l.Events, l.Lost, l.Errors,
		ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), bench.StreamLatencyBar, verdict(l.Pass()))
	_ = tw.Flush()
	fmt.Fprint(out, "\nLoad average after each phase:")
	for _, ls := range rep.Load {
		fmt.Fprintf(out, "  %s: %s", ls.After, ls.Load)
	}
	fmt.Fprintf(out, "\nTotal %s.\n", total.Round(time.Second))
}
