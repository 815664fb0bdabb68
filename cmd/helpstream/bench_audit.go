package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

const benchAuditSummary = "seed N events and anchor them, then `audit verify --all` beside reading the same log without verifying, interleaved rounds (design §7)"

// runBenchAudit is `helpstream bench audit`.
func runBenchAudit(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench audit", benchAuditSummary, out)
	events := fs.Int("events", 1_000_000, "events to seed (whole requests, about 2.3 events each)")
	writers := fs.Int("seed-writers", 2, "seeding transactions running at once")
	rounds := fs.Int("rounds", 3, "interleaved rounds of the read and the verification; the ratio is the median of the rounds'")
	workers := fs.Int("workers", 0, "verify's workers (0: GOMAXPROCS)")
	pageSize := fs.Int("page-size", 5000, "events of one read of the log, both sides")
	noAnchors := fs.Bool("no-anchors", false, "do not anchor the log; verify chains, versions and folds only")
	keep := fs.Bool("keep", false, "keep the scratch database (its name is printed) instead of dropping it")
	verbose := fs.Bool("verbose", false, "log what the anchorer does to stderr")
	stopProfile, err := parseProfiled(fs, args, cpuProfileFlag(fs))
	if err != nil {
		return err
	}
	defer stopProfile()
	if *events <= 0 || *writers <= 0 || *rounds <= 0 || *workers < 0 || *pageSize <= 0 {
		return fmt.Errorf("bench audit: --events, --seed-writers, --rounds and --page-size must be positive, --workers not negative")
	}
	_, pool, store, closeAll, err := benchDatabase(ctx, *dbURL, *keep, 8, pgstore.Config{}, out)
	if err != nil {
		return err
	}
	defer closeAll()
	var logger *slog.Logger // discarded
	if *verbose {
		logger = slog.Default()
	}
	started := time.Now()
	rep, err := bench.RunAudit(ctx, bench.AuditConfig{Pool: pool, Store: store, Events: *events, SeedWriters: *writers,
		Rounds: *rounds, Workers: *workers, PageSize: *pageSize, NoAnchors: *noAnchors, Logger: logger}, out)
	if err != nil {
		return err
	}
	printAuditReport(out, rep, time.Since(started))
	return nil
}

func printAuditReport(out io.Writer, rep bench.AuditReport, total time.Duration) {
	s := rep.Seed
	fmt.Fprintf(out, "\nSeed: %d requests, %d events in %d transactions, %s: %.0f events/s; %d anchors written in %s\n\n",
		s.Requests, s.Events, s.Transactions, s.Duration.Round(time.Millisecond), s.Rate(), rep.Anchors, rep.Anchoring.Round(time.Millisecond))
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "round\tread events/s\tverify events/s\tratio\tread CPU µs/event\tverify CPU µs/event")
	for i, r := range rep.Ratios() {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f%%\t%.1f\t%.1f\n", i+1, rep.Read[i].Rate(), rep.Verify[i].Rate(), 100*r,
			bench.CPUPerEvent(rep.ReadCPU[i], rep.Read[i]), bench.CPUPerEvent(rep.VerifyCPU[i], rep.Verify[i]))
	}
	_ = tw.Flush()
	lowest, highest := rep.Spread()
	fmt.Fprintf(out, "\naudit verify --all over %d events: %.0f%% of the read rate (median; rounds %.0f–%.0f%%), bar ≥ %.0f%%, %d findings: %s\n",
		rep.Verify[len(rep.Verify)-1].Events, 100*rep.Ratio(), 100*lowest, 100*highest, 100*bench.AuditVerifyBar, len(rep.Findings), verdict(rep.Pass()))
	for i, f := range rep.Findings {
		if i == 10 {
			fmt.Fprintf(out, "  … and %d more\n", len(rep.Findings)-10)
			break
		}
		fmt.Fprintf(out, "  finding: %s\n", f.Message)
	}
	fmt.Fprint(out, "Load average after each phase:")
	for _, ls := range rep.Load {
		fmt.Fprintf(out, "  %s: %s", ls.After, ls.Load)
	}
	fmt.Fprintf(out, "\nTotal %s.\n", total.Round(time.Second))
}
