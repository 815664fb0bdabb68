package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

const benchSummary = "measure appends, whole commands, one busy chat and the HTTP API beside pgbench INSERTs on the same PostgreSQL (design §7); `bench projections`: the read models; `bench stream`: the Watermill event stream; `bench live`: consoles' live updates"

func init() {
	register(command{name: "bench", summary: benchSummary, run: func(ctx context.Context, args []string, out io.Writer) error {
		if len(args) > 0 {
			if m, ok := subcommand(benchMeasurements, args[0]); ok {
				return m.run(ctx, args[1:], out)
			}
		}
		return runBenchCommands(ctx, args, out)
	}})
}

// benchMeasurements are the subcommands of `helpstream bench`, which without one measures the
// commands.
var benchMeasurements = []command{
	{"projections", benchProjectionsSummary, runBenchProjections},
	{"stream", benchStreamSummary, runBenchStream},
	{"analytics", benchAnalyticsSummary, runBenchAnalytics},
	{"live", benchLiveSummary, runBenchLive},
	{"audit", benchAuditSummary, runBenchAudit},
}

// newBenchFlagSet returns the flag set of a measurement with the flag every one has: the
// PostgreSQL server its scratch database is created on.
func newBenchFlagSet(name, summary string, out io.Writer) (fs *flag.FlagSet, databaseURL *string) {
	fs = newFlagSet(name, summary, out)
	return fs, fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL server to measure; a scratch database is created on it and dropped after")
}

// cpuProfileFlag adds --cpuprofile, which startCPUProfile takes.
func cpuProfileFlag(fs *flag.FlagSet) *string {
	return fs.String("cpuprofile", "", "write a CPU profile of this process (go tool pprof) to this file")
}

// parseProfiled parses args into fs and starts the CPU profile its --cpuprofile flag,
// cpuProfile, asks for; stopProfile ends it.
func parseProfiled(fs *flag.FlagSet, args []string, cpuProfile *string) (stopProfile func(), err error) {
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return startCPUProfile(*cpuProfile)
}

// runBenchCommands is `helpstream bench` without a subcommand.
func runBenchCommands(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench", benchSummary, out)
	duration := fs.Duration("duration", 5*time.Second, "how long each measurement runs")
	rounds := fs.Int("rounds", 3, "how many interleaved rounds of every row and its baseline; a row reports the median of its rounds' ratios")
	pgbench := fs.String("pgbench", "pgbench", "the pgbench binary")
	stopProfile, err := parseProfiled(fs, args, cpuProfileFlag(fs))
	if err != nil {
		return err
	}
	defer stopProfile()
	scratchURL, pool, store, closeAll, err := benchDatabase(ctx, *dbURL, false, 48, pgstore.Config{}, out)
	if err != nil {
		return err
	}
	defer closeAll()
	svc, err := service.Assemble(service.Config{FilesDir: filepath.Join(os.TempDir(), "helpstream-bench-files")}, pool, store)
	if err != nil {
		return err
	}
	rows, err := bench.Run(ctx, bench.Config{Pool: pool, DatabaseURL: scratchURL, Store: store, App: svc.App,
		Accounts: svc.Accounts, Idempotency: svc.Credentials, Duration: *duration, Rounds: *rounds, Pgbench: *pgbench,
		CatchUp: func(ctx context.Context) error { return svc.ProjectUntilCurrent(ctx, time.Minute) }}, out)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tclients\trate/s\tbaseline\tbaseline/s\tratio (median)\trounds' ratios\tbar\trefused\tresult")
	for _, r := range rows {
		lowest, highest := r.Spread()
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%.0f\t%.0f%%\t%.0f–%.0f%%\t≥ %.0f%%\t%d\t%s\n", r.What, r.Clients, r.Rate, r.BaselineName, r.Baseline, 100*r.Ratio(), 100*lowest, 100*highest, 100*r.Bar, r.Refusals, verdict(r.Pass()))
	}
	return tw.Flush()
}

// scratchDatabase creates an empty database beside the one in url and returns its URL and a
// function that drops it.
func scratchDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, fmt.Errorf("parse database URL: %w", err)
	}
	name := "helpstream_bench_" + randomToken()[:12]
	u.Path = "/" + name
	scratch := u.String()
	if err := service.EnsureDatabase(ctx, scratch); err != nil {
		return "", nil, err
	}
	drop := func() { _ = service.DropDatabase(context.WithoutCancel(ctx), scratch) }
	return scratch, drop, nil
}

const benchProjectionsSummary = "seed N requests, rebuild the read models beside COPY, measure projection lag and list queries (design §7)"

// runBenchProjections is `helpstream bench projections`.
func runBenchProjections(ctx context.Context, args []string, out io.Writer) error {
	fs, dbURL := newBenchFlagSet("bench projections", benchProjectionsSummary, out)
	requests := fs.Int("requests", 1_000_000, "requests to seed (about 2.3 events each)")
	companies := fs.Int("companies", 20, "companies to seed")
	technicians := fs.Int("technicians", 50, "technicians to seed")
	writers := fs.Int("seed-writers", 2, "seeding transactions running at once")
	rates := fs.String("rate", "500", "commands/s of the lag measurement; a comma-separated list measures each in turn")
	lagFor := fs.Duration("lag-duration", 20*time.Second, "how long the lag is measured (after 2 s of warm-up)")
	waitEach := fs.Bool("lag-wait-each", false, "every command of the lag measurement waits for its own position with the runner's WaitFor, as read-your-writes does (default: one observer waits for all)")
	rebuildRate := fs.Float64("rebuild-lag-rate", 200, "commands/s while the request list is rebuilt beside the other read models, whose lag is measured meanwhile; 0 leaves that phase out")
	preciseAfter := fs.Duration("precise-horizon-after", pgstore.DefaultPreciseHorizonAfter, "how long the cluster's oldest transaction may hold the log back before reads look past it when it cannot write events; negative: never (as before issue 11)")
	samples := fs.Int("samples", 100, "timings of each list query")
	pageSize := fs.Int("page-size", 50, "list page size")
	keep := fs.Bool("keep", false, "keep the scratch database (its name is printed) instead of dropping it")
	verbose := fs.Bool("verbose", false, "log what the projection runtime does (rebuilds, leadership, failed batches) to stderr")
	stopProfile, err := parseProfiled(fs, args, cpuProfileFlag(fs))
	if err != nil {
		return err
	}
	defer stopProfile()
	var commandRates []float64
	for _, f := range strings.Split(*rates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return fmt.Errorf("--rate: %q is not a positive number", f)
		}
		commandRates = append(commandRates, r)
	}
	// As serve: one pool for commands, queries and the runner.
	_, pool, store, closeAll, err := benchDatabase(ctx, *dbURL, *keep, 64, pgstore.Config{PreciseHorizonAfter: *preciseAfter}, out)
	if err != nil {
		return err
	}
	defer closeAll()
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		return err
	}
	var logger *slog.Logger // discarded
	if *verbose {
		logger = slog.Default()
	}
	started := time.Now()
	rep, err := bench.RunProjections(ctx, bench.ProjectionsConfig{Logger: logger,
		Pool: pool, Store: store, App: a, Projections: service.ReadModels(),
		Requests: *requests, Companies: *companies, Technicians: *technicians, SeedWriters: *writers,
		CommandRates: commandRates, RebuildLagRate: rebuildLagRate(*rebuildRate), LagDuration: *lagFor, LagWaitEach: *waitEach, Samples: *samples, PageSize: *pageSize,
	}, out)
	if err != nil {
		return err
	}
	printProjectionsReport(out, rep, *pageSize, time.Since(started))
	return nil
}

// rebuildLagRate turns the flag's 0 (leave the phase out) into the config's negative.
func rebuildLagRate(flag float64) float64 {
	if flag <= 0 {
		return -1
	}
	return flag
}

func verdict(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func printProjectionsReport(out io.Writer, rep bench.ProjectionsReport, pageSize int, total time.Duration) {
	s := rep.Seed
	fmt.Fprintf(out, "\nSeed: %d requests (%d new, %d active, %d completed), %d events in %d transactions, %s: %.0f events/s\n",
		s.Requests, s.New, s.Active, s.Completed, s.Events, s.Transactions, s.Duration.Round(time.Millisecond), s.Rate())
	fmt.Fprintf(out, "Log read alone (pages of 5000, nothing applied): %d events in %s: %.0f events/s\n\n",
		rep.LogRead.Events, rep.LogRead.Duration.Round(time.Millisecond), float64(rep.LogRead.Events)/rep.LogRead.Duration.Seconds())

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "read model\tevents\trebuild s\tevents/s\trows\tCOPY s\tCOPY/rebuild\tbar\tresult")
	for _, r := range rep.Rebuilds {
		bar, result := "n/a (log read)", "—"
		if r.Bar > 0 {
			bar, result = fmt.Sprintf("≥ %.0f%%", 100*r.Bar), verdict(r.Pass())
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.0f\t%d\t%.2f\t%.0f%%\t%s\t%s\n", r.Name, r.Events, r.Rebuild.Seconds(), r.EventsPerSecond(),
			r.Rows, r.Copy.Seconds(), 100*r.Ratio(), bar, result)
	}
	_ = tw.Flush()

	fmt.Fprintf(out, "\nProjection lag (append returned → every read model's checkpoint at its position), %s each after 2 s of warm-up:\n", rep.Lags[0].Duration)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "commands/s\tachieved\tcommands\terrors\tnot issued\ttimed out\tp50 ms\tp95 ms\tp99 ms\tmax ms\tcommand p50/p99 ms\tbar\tresult")
	for _, l := range rep.Lags {
		bar, result := "n/a (rate)", "—"
		if l.BarApplies() {
			bar, result = fmt.Sprintf("p99 < %s", bench.LagBar), verdict(l.Pass())
		}
		fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s/%s\t%s\t%s\n", l.Target, l.Achieved, l.Commands, l.Errors, l.Skipped, l.TimedOut,
			ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), ms(l.CommandP50), ms(l.CommandP99), bar, result)
	}
	ca := rep.CommandsAlone
	fmt.Fprintf(tw, "%.0f, no read model\t%.0f\t%d\t%d\t%d\t\t\t\t\t\t%s/%s\t\t\n", ca.Target, ca.Achieved, ca.Commands, ca.Errors, ca.Skipped,
		ms(ca.CommandP50), ms(ca.CommandP99))
	_ = tw.Flush()
	if len(rep.Lags) > 0 && rep.Lags[0].WaitEach {
		fmt.Fprintln(out, "  (every command waited for its own position with the runner's WaitFor)")
	} else {
		fmt.Fprintln(out, "  (one observer waited, with the runner's WaitFor, for the oldest position not reached yet)")
	}
	if l := rep.RebuildLag; l.Commands > 0 {
		fmt.Fprintf(out, "\nLag of the other read models while %s is rebuilt beside them (%d events in %.1f s, its DDL included):\n",
			rep.RebuildBeside.Name, rep.RebuildBeside.Events, rep.RebuildBeside.Rebuild.Seconds())
		tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "commands/s\tachieved\tcommands\terrors\tnot issued\ttimed out\tp50 ms\tp95 ms\tp99 ms\tmax ms\tbar\tresult")
		fmt.Fprintf(tw, "%.0f\t%.0f\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\tp99 < %s\t%s\n", l.Target, l.Achieved, l.Commands, l.Errors, l.Skipped, l.TimedOut,
			ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max), bench.RebuildLagBar, verdict(l.PassDuringRebuild()))
		_ = tw.Flush()
	}
	fmt.Fprintln(out)

	// List: one line per view, sort and direction; p50/p99 in ms for each caller and page.
	type key struct {
		view app.View
		sort app.SortColumn
		desc bool
	}
	var order []key
	cells := map[key]map[string]bench.ListRow{}
	var callers []string
	worst := bench.ListRow{}
	pass := true
	for _, r := range rep.Lists {
		k := key{r.View, r.Sort, r.Descending}
		if cells[k] == nil {
			cells[k] = map[string]bench.ListRow{}
			order = append(order, k)
		}
		col := r.Caller + ", " + r.Page
		if !slices.Contains(callers, col) {
			callers = append(callers, col)
		}
		cells[k][col] = r
		if r.P99 > worst.P99 {
			worst = r
		}
		pass = pass && r.Pass()
	}
	fmt.Fprintf(out, "List query p50/p99 ms (page of %d, keyset; ! marks a p99 over the bar):\n", pageSize)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "view\tsort\torder")
	for _, c := range callers {
		fmt.Fprintf(tw, "\t%s", c)
	}
	fmt.Fprintln(tw)
	for _, k := range order {
		dir := "asc"
		if k.desc {
			dir = "desc"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s", k.view, k.sort, dir)
		for _, c := range callers {
			r := cells[k][c]
			mark := ""
			if !r.Pass() {
				mark = " !"
			}
			fmt.Fprintf(tw, "\t%s/%s%s", ms(r.P50), ms(r.P99), mark)
		}
		fmt.Fprintln(tw)
	}
	_ = tw.Flush()
	dir := "asc"
	if worst.Descending {
		dir = "desc"
	}
	fmt.Fprintf(out, "  worst p99 %s ms (%s, %s page, %s by %s %s) (bar: every p99 < %s): %s\n\n", ms(worst.P99), worst.Caller, worst.Page,
		worst.View, worst.Sort, dir, bench.ListBar, verdict(pass))
	for _, r := range rep.Lists {
		if !r.Pass() && r.Slowest != "" {
			fmt.Fprintf(out, "  slowest sample of %s, %s page, %s by %s (descending %t): %s\n", r.Caller, r.Page, r.View, r.Sort, r.Descending, r.Slowest)
		}
	}

	fmt.Fprintln(out, "Load average, and the cluster's checkpoints and WAL during each phase (all databases):")
	for i, ls := range rep.Load {
		if i == 0 {
			fmt.Fprintf(out, "  %-13s %s\n", ls.After, ls.Load)
			continue
		}
		prev := rep.Load[i-1]
		fmt.Fprintf(out, "  %-13s %s  %d checkpoints, %d MB WAL\n", ls.After, ls.Load, ls.Checkpoints-prev.Checkpoints, (ls.WAL-prev.WAL)>>20)
	}
	fmt.Fprintf(out, "Total %s.\n", total.Round(time.Second))
}

// startCPUProfile profiles the process into path until the returned function is called; with
// no path it does nothing.
func startCPUProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			slog.Error("bench: cannot write the CPU profile", "path", path, "error", err)
		}
	}, nil
}

// benchDatabase creates a scratch database on the server of dbURL, migrated, and opens a pool
// of conns connections and the event store on it. closeAll closes them and drops the database,
// unless keep: then its URL is printed and it stays.
func benchDatabase(ctx context.Context, dbURL string, keep bool, conns int32, storeCfg pgstore.Config, out io.Writer) (scratchURL string, pool *pgxpool.Pool, store *pgstore.Store, closeAll func(), err error) {
	scratchURL, drop, err := scratchDatabase(ctx, dbURL)
	if err != nil {
		return "", nil, nil, nil, err
	}
	if keep {
		fmt.Fprintf(out, "scratch database kept: %s\n", scratchURL)
		drop = func() {}
	}
	if pool, store, err = service.OpenPostgresEventStore(ctx, scratchURL, conns, storeCfg); err != nil {
		drop()
		return "", nil, nil, nil, err
	}
	return scratchURL, pool, store, func() { store.Close(); pool.Close(); drop() }, nil
}
