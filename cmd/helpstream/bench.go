package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/bench"
)

func init() {
	const summary = "measure appends and whole commands beside pgbench INSERTs on the same PostgreSQL (design §7)"
	register(command{name: "bench", summary: summary, run: func(ctx context.Context, args []string, out io.Writer) error {
		fs := newFlagSet("bench", summary, out)
		dbURL := fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL server to measure; a scratch database is created on it and dropped after")
		duration := fs.Duration("duration", 10*time.Second, "how long each measurement runs")
		pgbench := fs.String("pgbench", "pgbench", "the pgbench binary")
		if err := fs.Parse(args); err != nil {
			return err
		}
		scratchURL, drop, err := scratchDatabase(ctx, *dbURL)
		if err != nil {
			return err
		}
		defer drop()
		pool, err := openDatabase(ctx, scratchURL, 48)
		if err != nil {
			return err
		}
		defer pool.Close()
		store, err := pgstore.New(pool, pgstore.Config{})
		if err != nil {
			return err
		}
		defer store.Close()
		files, err := filestore.New(filepath.Join(os.TempDir(), "helpstream-bench-files"))
		if err != nil {
			return err
		}
		a, err := app.New(app.Config{Store: store, Files: files})
		if err != nil {
			return err
		}
		rows, err := bench.Run(ctx, bench.Config{Pool: pool, DatabaseURL: scratchURL, Store: store, App: a, Duration: *duration, Pgbench: *pgbench}, out)
		if err != nil {
			return err
		}
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "measurement\tclients\trate/s\tpgbench INSERT tps\tratio\tbar\tresult")
		for _, r := range rows {
			verdict := "PASS"
			if !r.Pass() {
				verdict = "FAIL"
			}
			fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.0f\t%.0f%%\t≥ %.0f%%\t%s\n", r.What, r.Clients, r.Rate, r.Baseline, 100*r.Ratio(), 100*r.Bar, verdict)
		}
		return tw.Flush()
	}})
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
	if err := ensureDatabase(ctx, scratch); err != nil {
		return "", nil, err
	}
	drop := func() {
		u.Path = "/postgres"
		conn, err := pgx.Connect(context.WithoutCancel(ctx), u.String())
		if err != nil {
			return
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return scratch, drop, nil
}
