package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	"github.com/helpstream/helpstream/adapters/eventstore/storecopy"
	"github.com/helpstream/helpstream/internal/service"
)

const copySummary = "copy every event of one store to another, keeping IDs, order and metadata; resumable"

func runEventsCopy(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlagSet("events copy", copySummary, out)
	from := fs.String("from", "", "source event store URL: postgres://… or esdb://host:2113?tls=false (required)")
	to := fs.String("to", "", "destination event store URL (required); a PostgreSQL database is created and migrated if missing")
	checkpoint := fs.String("checkpoint", "", "where the copy's checkpoint lives: a postgres:// URL (table event_copy_checkpoints) or a file path;\ndefault: the destination's database when it is PostgreSQL, else the file helpstream-copy-<hash>.checkpoint here")
	batch := fs.Int("batch", storecopy.DefaultBatchSize, "events read from the source per page; the checkpoint is saved after each page")
	restart := fs.Bool("restart", false, "forget the checkpoint and copy from the start (the destination skips events it holds already)")
	fs.Usage = func() {
		fmt.Fprintf(out, "helpstream events copy: %s\n\nUsage: helpstream events copy --from URL --to URL [flags]\n\n", copySummary)
		fmt.Fprintln(out, "Every event keeps its ID, stream, version, type, data and metadata, in the source's")
		fmt.Fprintln(out, "global order. A re-run resumes after the last page copied and writes nothing twice.")
		fmt.Fprintln(out, "\nFlags:")
		fs.PrintDefaults()
	}
	if help, err := parseFlagsOnly(fs, args); help || err != nil {
		return err
	}
	if *from == "" || *to == "" {
		fs.Usage()
		return errors.New("events copy: --from and --to are required")
	}
	if *from == *to {
		return errors.New("events copy: --from and --to name the same store")
	}
	if *batch <= 0 {
		return fmt.Errorf("events copy: --batch %d: must be positive", *batch)
	}
	source, destination := kurrent.Redact(*from), kurrent.Redact(*to)

	src, closeSrc, err := service.OpenEventStore(ctx, *from)
	if err != nil {
		return fmt.Errorf("open source: %w", err)
	}
	defer closeSrc()
	dst, closeDst, err := service.OpenEventStore(ctx, *to)
	if err != nil {
		return fmt.Errorf("open destination: %w", err)
	}
	defer closeDst()

	checkpoints, where, reset, closeCheckpoints, err := openCheckpoints(ctx, *checkpoint, *to, source, destination)
	if err != nil {
		return err
	}
	defer closeCheckpoints()
	if *restart {
		if err := reset(ctx); err != nil {
			return err
		}
	}

	fmt.Fprintf(out, "copying events from %s to %s (checkpoint: %s)\n", source, destination, where)
	started := time.Now()
	lastReport := started
	st, err := storecopy.Copy(ctx, src, dst, checkpoints, storecopy.Options{
		BatchSize: *batch,
		Progress: func(s storecopy.Stats) {
			if time.Since(lastReport) >= 2*time.Second {
				lastReport = time.Now()
				fmt.Fprintf(out, "  %d events in %d appends so far, up to source position %s\n", s.Events, s.Appends, s.Last)
			}
		},
	})
	elapsed := time.Since(started).Round(time.Millisecond)
	if st.Resumed {
		fmt.Fprintf(out, "resumed after source position %s\n", st.From)
	}
	if err != nil {
		fmt.Fprintf(out, "stopped after %d events in %d appends (%s); the checkpoint is at source position %s, run again to resume\n",
			st.Events, st.Appends, elapsed, st.Last)
		return fmt.Errorf("events copy: %w", err)
	}
	if st.Events == 0 {
		fmt.Fprintf(out, "nothing to copy: %s already holds every event of %s\n", destination, source)
		return nil
	}
	rate := float64(st.Events) / max(time.Since(started).Seconds(), 1e-9)
	fmt.Fprintf(out, "copied %d events in %d appends (%d pages) in %s, %.0f events/s; last source position %s\n",
		st.Events, st.Appends, st.Pages, elapsed, rate, st.Last)
	if *restart {
		fmt.Fprintln(out, "(events the destination held already were recognised by their IDs and not written again)")
	}
	return nil
}

// openCheckpoints picks where the checkpoint of a copy lives (see the --checkpoint flag) and
// returns it, a description, a function that forgets it, and one that closes what it opened.
func openCheckpoints(ctx context.Context, flagValue, to, source, destination string) (storecopy.CheckpointStore, string, func(context.Context) error, func(), error) {
	target := flagValue
	if target == "" {
		if isPostgresURL(to) {
			target = to
		} else {
			sum := sha256.Sum256([]byte(source + "\n" + destination))
			target = "helpstream-copy-" + hex.EncodeToString(sum[:6]) + ".checkpoint"
		}
	}
	if isPostgresURL(target) {
		pool, err := pgxpool.New(ctx, target)
		if err != nil {
			return nil, "", nil, nil, fmt.Errorf("checkpoint database: %w", err)
		}
		c, err := storecopy.NewPostgresCheckpoints(ctx, pool, source, destination)
		if err != nil {
			pool.Close()
			return nil, "", nil, nil, err
		}
		return c, "table event_copy_checkpoints in " + kurrent.Redact(target), c.Reset, pool.Close, nil
	}
	c := storecopy.FileCheckpoints{Path: target, Source: source, Destination: destination}
	reset := func(context.Context) error {
		if err := os.Remove(target); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("forget checkpoint: %w", err)
		}
		return nil
	}
	return c, "file " + target, reset, func() {}, nil
}

func isPostgresURL(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
