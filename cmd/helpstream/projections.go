package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/privacy"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/projections"
)

// projectionFlags are the flags every projections command shares.
type projectionFlags struct {
	databaseURL *string
	eventStore  *string
	masterKey   *string
}

func addProjectionFlags(fs *flag.FlagSet) projectionFlags {
	return projectionFlags{
		databaseURL: fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL of the read models, and the default event store (env DATABASE_URL)"),
		eventStore:  eventStoreFlag(fs),
		masterKey:   masterKeyFlag(fs),
	}
}

// workerFlags are the flags of a command that runs a leader-elected worker on the log until
// interrupted (the projectors, a stream forwarder): its stores, and how often it tries to lead.
type workerFlags struct {
	projectionFlags
	leaderRetry *time.Duration
}

func addWorkerFlags(fs *flag.FlagSet, defaultLeaderRetry time.Duration) workerFlags {
	return workerFlags{
		projectionFlags: addProjectionFlags(fs),
		leaderRetry:     fs.Duration("leader-retry", defaultLeaderRetry, "how often a standby tries to become leader, and a leader checks its lock connection"),
	}
}

// openProjectionStores opens the read models' database (created and migrated if needed) and the
// event store, read as the server reads it: with the master key, sealed personal fields are
// opened (privacy.Open; privacy.Unwrap gives the log as stored), and a database holding sealed
// fields is refused without one.
func openProjectionStores(ctx context.Context, f projectionFlags) (*pgxpool.Pool, eventlog.Store, func(), error) {
	master, err := readMasterKey(*f.masterKey)
	if err != nil {
		return nil, nil, nil, err
	}
	pool, store, closeStores, err := service.OpenStores(ctx, *f.databaseURL, *f.eventStore, service.WorkerPoolSize())
	if err != nil {
		return nil, nil, nil, err
	}
	opened, _, err := privacy.Open(ctx, pool, store, master)
	if err != nil {
		closeStores()
		return nil, nil, nil, err
	}
	return pool, opened, closeStores, nil
}

// openLogAsStored opens the database and the event store as openProjectionStores does, without
// opening sealed fields (and so without a master key): for the audit's chain checks and
// exports, which cover the log as stored.
func openLogAsStored(ctx context.Context, f projectionFlags) (*pgxpool.Pool, eventlog.Store, func(), error) {
	return service.OpenStores(ctx, *f.databaseURL, *f.eventStore, service.WorkerPoolSize())
}

// storeOpener opens the read models' database and the event store.
type storeOpener func(context.Context, projectionFlags) (*pgxpool.Pool, eventlog.Store, func(), error)

// openReadModels selects the read models named (all when none is), as selectReadModels, and
// opens their database and the event store with open.
func openReadModels(ctx context.Context, f projectionFlags, names []string, open storeOpener) (selected []projections.Projection, pool *pgxpool.Pool, store eventlog.Store, closeStores func(), err error) {
	if selected, err = selectReadModels(names); err != nil {
		return nil, nil, nil, nil, err
	}
	if pool, store, closeStores, err = open(ctx, f); err != nil {
		return nil, nil, nil, nil, err
	}
	return selected, pool, store, closeStores, nil
}

const projectionsRunSummary = "run the projectors alone (without serve) until interrupted; one leads each read model across all runners"

func runProjectionsRun(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections run", projectionsRunSummary, out)
	batch := fs.Int("batch", projections.DefaultBatchSize, "most events one live transaction applies")
	catchUp := fs.Int("catch-up-batch", projections.DefaultCatchUpBatch, "events one transaction applies while catching up, and per page of a rebuild")
	worker := addWorkerFlags(fs, projections.DefaultLeaderRetry)
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	pool, store, closeStores, err := openProjectionStores(ctx, worker.projectionFlags)
	if err != nil {
		return err
	}
	defer closeStores()
	models := service.ReadModels()
	runner, err := projections.NewRunner(projections.Config{
		Pool: pool, Store: store, Projections: models,
		BatchSize: *batch, CatchUpBatch: *catchUp, LeaderRetry: *worker.leaderRetry,
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
		fmt.Fprintf(out, "Read models: %s\n\nFlags:\n", strings.Join(names(service.ReadModels()), ", "))
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
		if res.Parked > 0 {
			fmt.Fprintf(out, "  %d events parked: projections status lists them, projections retry applies them after a fix\n", res.Parked)
		}
	}
	return nil
}

const projectionsStatusSummary = "show each read model's position, lag in events and seconds, whether a leader runs it, and its parked events"

func runProjectionsStatus(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections status", projectionsStatusSummary, out)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	listParked := fs.Bool("parked", false, "list every parked event, not only the first of each read model")
	stores := addProjectionFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	// Positions and parked events' IDs: no personal field is read, no master key is needed.
	selected, pool, store, closeStores, err := openReadModels(ctx, stores, fs.Args(), openLogAsStored)
	if err != nil {
		return err
	}
	defer closeStores()
	statuses, err := projections.Status(ctx, pool, store, selected)
	if err != nil {
		return err
	}
	if *asJSON {
		if statuses == nil {
			statuses = []projections.ProjectionStatus{}
		}
		return writeJSON(out, statuses)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tPOSITION\tAPPLIED\tLAG EVENTS\tLAG SECONDS\tLEADER\tPARKED\tUPDATED")
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
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%.1f\t%s\t%d\t%s\n", s.Name, position, s.EventsApplied, lag, s.LagSeconds, leader, s.Parked, updated)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if pg, ok := store.(*pgstore.Store); ok {
		r, err := pg.Horizon(ctx)
		if err != nil {
			return err
		}
		if summary := r.Summary(service.HeldBackAfter); summary != "" {
			fmt.Fprintf(out, "\n%s\n", summary)
		}
	}
	for _, s := range statuses {
		if s.Parked == 0 {
			continue
		}
		fmt.Fprintf(out, "\n%s: %d parked, which its tables lack (helpstream projections retry --projection %s applies them after a fix)\n",
			s.Name, s.Parked, s.Name)
		list := []projections.ParkedEvent{*s.FirstParked}
		if *listParked {
			if list, err = projections.Parked(ctx, pool, s.Name); err != nil {
				return err
			}
		}
		for _, e := range list {
			printParked(out, "", e, "")
		}
		if !*listParked && s.Parked > 1 {
			fmt.Fprintf(out, "  … and %d more (--parked lists them)\n", s.Parked-1)
		}
	}
	return nil
}

// printParked prints one parked event on one line, after what, and its error after because.
func printParked(out io.Writer, what string, e projections.ParkedEvent, because string) {
	if what != "" {
		what += " "
	}
	fmt.Fprintf(out, "  %sat %s: %s v%d %s (event %s, parked %s", what, e.Position, e.StreamID, e.StreamVersion, e.Type, e.EventID,
		e.ParkedAt.UTC().Format(time.RFC3339))
	if e.Retries > 0 {
		fmt.Fprintf(out, ", retries: %d", e.Retries)
	}
	fmt.Fprintf(out, "): %s%s\n", because, e.Error)
}

const projectionsRetrySummary = "apply the events the read models parked again, after a fix; each stream's in order"

func runProjectionsRetry(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("projections retry", projectionsRetrySummary, out)
	var only []string
	fs.Func("projection", "retry this read model's parked events only (repeatable; default: every read model)", func(name string) error {
		only = append(only, name)
		return nil
	})
	stores := addProjectionFlags(fs)
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("projections retry: unexpected arguments %q (name a read model with --projection)", fs.Args())
	}
	selected, pool, store, closeStores, err := openReadModels(ctx, stores, only, openProjectionStores)
	if err != nil {
		return err
	}
	defer closeStores()
	left := 0
	for _, p := range selected {
		res, err := projections.Retry(ctx, pool, store, p)
		if err != nil {
			return err
		}
		if len(res.Applied)+len(res.Failed)+len(res.Waiting) == 0 {
			fmt.Fprintf(out, "%s: nothing parked\n", p.Name())
			continue
		}
		fmt.Fprintf(out, "%s: %d applied, %d failed again, %d still waiting behind them\n", p.Name(), len(res.Applied), len(res.Failed), len(res.Waiting))
		for _, e := range res.Applied {
			printParked(out, "applied", e, "had failed with: ")
		}
		for _, e := range res.Failed {
			printParked(out, "failed ", e, "")
		}
		for _, e := range res.Waiting {
			printParked(out, "waiting", e, "")
		}
		left += len(res.Failed) + len(res.Waiting)
	}
	if left > 0 {
		return fmt.Errorf("projections retry: %d events still parked", left)
	}
	return nil
}

// selectReadModels returns the read models named, in the order given, or all when none is.
func selectReadModels(wanted []string) ([]projections.Projection, error) {
	all := service.ReadModels()
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
