package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

const projectionsSummary = "read models: run their projectors, rebuild them, show where they stand"

func init() {
	register(commandGroup("projections", projectionsSummary, projectionsCommands))
}

// projectionsCommands are the subcommands of `helpstream projections`.
var projectionsCommands = []command{
	{"run", projectionsRunSummary, runProjectionsRun},
	{"rebuild", projectionsRebuildSummary, runProjectionsRebuild},
	{"status", projectionsStatusSummary, runProjectionsStatus},
}

// projectionFlags are the flags every projections command shares.
type projectionFlags struct {
	databaseURL *string
	eventStore  *string
}

func addProjectionFlags(fs *flag.FlagSet) projectionFlags {
	return projectionFlags{
		databaseURL: fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL of the read models, and the default event store (env DATABASE_URL)"),
		eventStore:  eventStoreFlag(fs),
	}
}

// openProjectionStores opens the read models' database (created and migrated if needed) and the
// event store.
func openProjectionStores(ctx context.Context, f projectionFlags) (*pgxpool.Pool, eventlog.Store, func(), error) {
	return openStores(ctx, *f.databaseURL, *f.eventStore, workerPoolSize())
}

const projectionsRunSummary = "run the projectors alone (without serve) until interrupted; one leads each read model across all runners"

func runProjectionsRun(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections run", projectionsRunSummary, out)
	batch := fs.Int("batch", projections.DefaultBatchSize, "most events one live transaction applies")
	catchUp := fs.Int("catch-up-batch", projections.DefaultCatchUpBatch, "events one transaction applies while catching up, and per page of a rebuild")
	leaderRetry := fs.Duration("leader-retry", projections.DefaultLeaderRetry, "how often a standby tries to become leader, and a leader checks its lock connection")
	stores := addProjectionFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("projections run: unexpected arguments %q", fs.Args())
	}
	pool, store, closeStores, err := openProjectionStores(ctx, stores)
	if err != nil {
		return err
	}
	defer closeStores()
	models := readModels()
	runner, err := projections.NewRunner(projections.Config{
		Pool: pool, Store: store, Projections: models,
		BatchSize: *batch, CatchUpBatch: *catchUp, LeaderRetry: *leaderRetry,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "projecting %d read models (%s) until interrupted\n", len(models), strings.Join(names(models), ", "))
	return runner.Run(ctx)
}

const projectionsRebuildSummary = "rebuild read models from the whole log beside the live tables and swap them in (all, or those named)"

func runProjectionsRebuild(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections rebuild", projectionsRebuildSummary, out)
	batch := fs.Int("batch", projections.DefaultCatchUpBatch, "events per page of the log, applied in one transaction")
	stores := addProjectionFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(out, "helpstream projections rebuild: %s\n\nUsage: helpstream projections rebuild [flags] [NAME...]\n\n", projectionsRebuildSummary)
		fmt.Fprintln(out, "Queries keep reading the live tables, and a running projector keeps applying to them,")
		fmt.Fprintln(out, "until the new tables are swapped in, in one transaction.")
		fmt.Fprintf(out, "Read models: %s\n\nFlags:\n", strings.Join(names(readModels()), ", "))
		fs.PrintDefaults()
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if *batch <= 0 {
		return fmt.Errorf("projections rebuild: --batch %d: must be positive", *batch)
	}
	selected, err := selectReadModels(fs.Args())
	if err != nil {
		return err
	}
	if len(selected) == 0 {
		fmt.Fprintln(out, "no read models to rebuild")
		return nil
	}
	pool, store, closeStores, err := openProjectionStores(ctx, stores)
	if err != nil {
		return err
	}
	defer closeStores()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, p := range selected {
		fmt.Fprintf(out, "rebuilding %s…\n", p.Name())
		lastReport := time.Now()
		res, err := projections.Rebuild(ctx, pool, store, p, projections.RebuildOptions{
			BatchSize: *batch, Logger: quiet,
			Progress: func(events int64, pos eventlog.Position) {
				if time.Since(lastReport) >= 5*time.Second {
					lastReport = time.Now()
					fmt.Fprintf(out, "  %s: %d events, at %s\n", p.Name(), events, pos)
				}
			},
		})
		if err != nil {
			return err
		}
		rate := float64(res.Events) / max(res.Duration.Seconds(), 1e-9)
		fmt.Fprintf(out, "rebuilt %s: %d events in %s (%.0f events/s), checkpoint %s\n",
			p.Name(), res.Events, res.Duration.Round(time.Millisecond), rate, res.Position)
	}
	return nil
}

const projectionsStatusSummary = "show each read model's position, lag in events and seconds, and whether a leader runs it"

func runProjectionsStatus(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections status", projectionsStatusSummary, out)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	stores := addProjectionFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	selected, err := selectReadModels(fs.Args())
	if err != nil {
		return err
	}
	pool, store, closeStores, err := openProjectionStores(ctx, stores)
	if err != nil {
		return err
	}
	defer closeStores()
	statuses, err := projections.Status(ctx, pool, store, selected)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if statuses == nil {
			statuses = []projections.ProjectionStatus{}
		}
		return enc.Encode(statuses)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPOSITION\tAPPLIED\tLAG EVENTS\tLAG SECONDS\tLEADER\tUPDATED")
	for _, s := range statuses {
		position, updated := s.Position.String(), s.UpdatedAt.UTC().Format(time.RFC3339)
		switch {
		case !s.Built:
			position, updated = "not built", "-"
		case !s.SchemaCurrent:
			position += " (old schema)"
		}
		lag := fmt.Sprint(s.LagEvents)
		if s.LagCapped {
			lag = "≥" + lag
		}
		leader := "no"
		if s.Leader {
			leader = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%.1f\t%s\t%s\n", s.Name, position, s.EventsApplied, lag, s.LagSeconds, leader, updated)
	}
	return w.Flush()
}

// selectReadModels returns the read models named, in the order given, or all when none is.
func selectReadModels(wanted []string) ([]projections.Projection, error) {
	all := readModels()
	if len(wanted) == 0 {
		return all, nil
	}
	var out []projections.Projection
	for _, name := range wanted {
		i := -1
		for j, p := range all {
			if p.Name() == name {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("no read model %q (have: %s)", name, strings.Join(names(all), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func names(ps []projections.Projection) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name()
	}
	return out
}
