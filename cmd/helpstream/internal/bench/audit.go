package bench

// The audit benchmark (design §7, issue 13 item 8): `audit verify --all` over a log of N events
// beside the rate at which the same process reads that log through the port without verifying,
// in the same run. The log is the projections benchmark's seed (real domain events, decided by
// the aggregates, sealed, spread through the log as in production), anchored, so that the
// verification does everything an auditor's does: every chain, every fold, every anchor.

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/anchor"
	"github.com/helpstream/helpstream/internal/subscriber"
	"github.com/helpstream/helpstream/internal/verify"
)

// AuditVerifyBar: verifying the whole log reaches at least this share of the rate of reading it
// without verifying, same run.
const AuditVerifyBar = 0.5

// eventsPerSeededRequest is what the projections benchmark's seed writes per request, on
// average: a submission, an assignment for two thirds, a message and a close for one third.
const eventsPerSeededRequest = 1 + 2.0/3 + 2.0/3

// AuditConfig configures RunAudit. Pool and Store are required; zero fields take the defaults
// named.
type AuditConfig struct {
	// Pool is the scratch database the log lives in.
	Pool *pgxpool.Pool
	// Store is the PostgreSQL event store on Pool.
	Store *pgstore.Store
	// Events is about how many events to seed (whole requests of the projections benchmark's
	// seed, so a few more). Default 1,000,000.
	Events int
	// SeedWriters is how many seeding transactions run at once. Default 2.
	SeedWriters int
	// Rounds is how many times the read and the verification are measured, interleaved; the
	// ratio is the median of the rounds'. Default 3.
	Rounds int
	// Workers is verify's workers. Default verify's (GOMAXPROCS).
	Workers int
	// PageSize is the events of one read of the log, both sides. Default verify's (5000).
	PageSize int
	// NoAnchors leaves anchors out: the log is not anchored and the verification checks
	// chains, versions and folds only.
	NoAnchors bool
	// Logger receives the anchorer's logs. Default: discarded.
	Logger *slog.Logger
}

func (c *AuditConfig) setDefaults() {
	c.Events = cmp.Or(c.Events, 1_000_000)
	c.SeedWriters = cmp.Or(c.SeedWriters, 2)
	c.Rounds = cmp.Or(c.Rounds, 3)
	c.PageSize = cmp.Or(c.PageSize, verify.DefaultPageSize)
	c.Logger = cmp.Or(c.Logger, slog.New(slog.DiscardHandler))
}

// AuditReport is what RunAudit measured.
type AuditReport struct {
	Seed SeedStats
	// Anchors is how many anchors cover the seed, and Anchoring how long writing them took.
	Anchors   int
	Anchoring time.Duration
	// Read and Verify are each round's read of the whole log without verifying, and
	// verification of it; ReadCPU and VerifyCPU the CPU time this process used for each
	// (zero where it is not known): on a machine shared with other work, what the rates alone
	// do not say.
	Read, Verify       []Throughput
	ReadCPU, VerifyCPU []time.Duration
	// Findings is what the last verification found: a seed written by the domain has none.
	Findings []verify.Finding
	// Load is the load average after each phase.
	Load []LoadSample
}

// Ratios are each round's verification rate over its read rate.
func (r AuditReport) Ratios() []float64 {
	out := make([]float64, len(r.Read))
	for i := range r.Read {
		out[i] = r.Verify[i].Rate() / r.Read[i].Rate()
	}
	return out
}

// Ratio is the median of the rounds' ratios.
func (r AuditReport) Ratio() float64 { return median(r.Ratios()) }

// Pass says whether the verification meets its bar and found nothing in the seed.
func (r AuditReport) Pass() bool { return r.Ratio() >= AuditVerifyBar && len(r.Findings) == 0 }

// RunAudit seeds the log, anchors it, then measures, Rounds times, the read of the whole log
// through the port (one page ahead, nothing done with it) and verify.Log over it.
func RunAudit(ctx context.Context, cfg AuditConfig, progress io.Writer) (AuditReport, error) {
	cfg.setDefaults()
	var rep AuditReport
	if cfg.Pool == nil || cfg.Store == nil || cfg.Events <= 0 {
		return rep, errors.New("bench audit: Pool, Store and a positive Events are required")
	}
	load := func(after string) { rep.Load = append(rep.Load, LoadSample{After: after, Load: loadAverage()}) }
	load("start")

	pc := ProjectionsConfig{Pool: cfg.Pool, Store: cfg.Store, Requests: int(float64(cfg.Events)/eventsPerSeededRequest) + 1,
		SeedWriters: cfg.SeedWriters, Companies: 20, Technicians: 50}
	pc.setDefaults()
	w := newWorld(pc)
	fmt.Fprintf(progress, "seeding %d requests (about %d events)…\n", pc.Requests, cfg.Events)
	seed, last, err := w.seed(ctx, pc, progress)
	rep.Seed = seed
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(progress, "seeded %d events in %s: %.0f events/s\n", seed.Events, seed.Duration.Round(time.Millisecond), seed.Rate())
	load("seed")
	if err := waitReadable(ctx, cfg.Store, last); err != nil {
		return rep, err
	}

	var pub ed25519.PublicKey
	if !cfg.NoAnchors {
		var priv ed25519.PrivateKey
		if pub, priv, err = ed25519.GenerateKey(rand.Reader); err != nil {
			return rep, fmt.Errorf("bench audit: %w", err)
		}
		a, err := anchor.New(anchor.Config{Store: cfg.Store, PrivateKey: priv, Interval: time.Hour, Logger: cfg.Logger})
		if err != nil {
			return rep, err
		}
		fmt.Fprintln(progress, "anchoring the log…")
		started := time.Now()
		for {
			_, wrote, err := a.AnchorNow(ctx)
			if err != nil {
				return rep, err
			}
			if !wrote {
				break
			}
			rep.Anchors++
		}
		rep.Anchoring = time.Since(started)
		fmt.Fprintf(progress, "%d anchors in %s\n", rep.Anchors, rep.Anchoring.Round(time.Millisecond))
	}
	if err := settle(ctx, cfg.Pool, "events"); err != nil {
		return rep, err
	}
	load("anchors")

	for round := 1; round <= cfg.Rounds; round++ {
		fmt.Fprintf(progress, "round %d/%d: reading the whole log without verifying…\n", round, cfg.Rounds)
		cpu := processCPU()
		read, err := readWholeLog(ctx, cfg.Store, cfg.PageSize)
		if err != nil {
			return rep, err
		}
		rep.ReadCPU = append(rep.ReadCPU, processCPU()-cpu)
		fmt.Fprintf(progress, "  %d events in %s: %.0f events/s\n", read.Events, read.Duration.Round(time.Millisecond), read.Rate())
		fmt.Fprintf(progress, "round %d/%d: verify --all…\n", round, cfg.Rounds)
		started, cpu := time.Now(), processCPU()
		vr, err := verify.Log(ctx, verify.Config{Store: cfg.Store, Anchors: pub, Workers: cfg.Workers, PageSize: cfg.PageSize})
		if err != nil {
			return rep, err
		}
		rep.VerifyCPU = append(rep.VerifyCPU, processCPU()-cpu)
		checked := Throughput{Events: vr.Events, Duration: time.Since(started), Batch: cfg.PageSize}
		fmt.Fprintf(progress, "  %d events, %d streams, %d anchors in %s: %.0f events/s, %.0f%% of the read; %d findings\n",
			vr.Events, vr.Streams, vr.Anchors, checked.Duration.Round(time.Millisecond), checked.Rate(), 100*checked.Rate()/read.Rate(), len(vr.Findings))
		rep.Read, rep.Verify, rep.Findings = append(rep.Read, read), append(rep.Verify, checked), vr.Findings
		load(fmt.Sprintf("round %d", round))
	}
	return rep, nil
}

// CPUPerEvent is a duration of CPU time per event of a throughput, in microseconds.
func CPUPerEvent(cpu time.Duration, t Throughput) float64 {
	if t.Events == 0 {
		return 0
	}
	return float64(cpu.Nanoseconds()) / 1000 / float64(t.Events)
}

// readWholeLog reads the log as verify does (pages of size, one page ahead of its reader) and
// does nothing with it: the floor under any verification.
func readWholeLog(ctx context.Context, store eventlog.Store, size int) (Throughput, error) {
	started := time.Now()
	pages, stop := subscriber.ReadAhead(ctx, store, eventlog.Start(), size)
	defer stop()
	var events int64
	for page := range pages {
		if page.Err != nil {
			return Throughput{}, fmt.Errorf("bench audit: read the log: %w", page.Err)
		}
		events += int64(len(page.Events))
	}
	return Throughput{Events: events, Duration: time.Since(started), Batch: size}, nil
}

// Spread is the lowest and highest of the rounds' ratios.
func (r AuditReport) Spread() (lowest, highest float64) {
	ratios := r.Ratios()
	if len(ratios) == 0 {
		return 0, 0
	}
	return slices.Min(ratios), slices.Max(ratios)
}
