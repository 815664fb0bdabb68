package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// rebuildSession is what the rebuild's own connection runs with. The scratch tables are thrown
// away when a rebuild fails, so their commits need not wait for the disk (the swap's commit
// does: it sets synchronous_commit back for its transaction); the deferred indexes are built
// with more sort memory than PostgreSQL's default 64MB.
var rebuildSession = map[string]string{
	"synchronous_commit":   "off",
	"maintenance_work_mem": "256MB",
}

// deferredIndex is an index dropped from a scratch table until the log is applied.
type deferredIndex struct {
	name       string
	definition string
}

// unlogged reports whether the scratch tables are loaded unlogged: when the log is applied page
// by page, rewriting rows written a page earlier, the WAL of every row version would cost more
// than logging the final table once. A BulkLoader writes each row once, as COPY does: making
// its tables logged afterwards would only write everything twice.
func (b *rebuilder) unlogged() bool {
	_, bulk := b.pr.p.(BulkLoader)
	return !bulk
}

// deferIndexes makes the scratch tables unlogged (see unlogged) and drops their indexes that back no
// constraint, returning their definitions for finishTables.
func (b *rebuilder) deferIndexes(ctx context.Context) ([]deferredIndex, error) {
	rows, err := b.conn.Query(ctx, `SELECT c.relname::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
		WHERE c.relnamespace = $1::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		ORDER BY c.relname`, b.scratch)
	if err != nil {
		return nil, fmt.Errorf("list the scratch indexes: %w", err)
	}
	indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (deferredIndex, error) {
		var d deferredIndex
		return d, r.Scan(&d.name, &d.definition)
	})
	if err != nil {
		return nil, fmt.Errorf("list the scratch indexes: %w", err)
	}
	var stmts []string
	if b.unlogged() {
		for _, t := range b.pr.qualified(b.scratch) {
			stmts = append(stmts, "ALTER TABLE "+t+" SET UNLOGGED")
		}
	}
	for _, d := range indexes {
		stmts = append(stmts, "DROP INDEX "+pgx.Identifier{b.scratch, d.name}.Sanitize())
	}
	if _, err := b.conn.Exec(ctx, strings.Join(stmts, "; ")); err != nil {
		return nil, fmt.Errorf("prepare the scratch tables for loading: %w", err)
	}
	return indexes, nil
}

// finishTables makes unlogged scratch tables logged, so that they survive a crash once swapped
// in, then creates the deferred indexes and analyses the tables, so that the first
// queries after the swap get good plans.
func (b *rebuilder) finishTables(ctx context.Context, deferred []deferredIndex) error {
	tables := b.pr.qualified(b.scratch)
	var stmts []string
	if b.unlogged() {
		for _, t := range tables {
			stmts = append(stmts, "ALTER TABLE "+t+" SET LOGGED")
		}
	}
	for _, d := range deferred {
		stmts = append(stmts, d.definition)
	}
	stmts = append(stmts, "ANALYZE "+strings.Join(tables, ", "))
	for _, stmt := range stmts {
		if _, err := b.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("finish the scratch tables: %s: %w", stmt, err)
		}
	}
	return nil
}

// catchUp applies the log from its start to the scratch tables, up to the first page that
// comes back short, and returns how far it went. Three stages overlap: one goroutine reads the
// next page, this one folds the current page, a third runs the writes of the pages before.
func (b *rebuilder) catchUp(ctx context.Context) (RebuildResult, error) {
	var res RebuildResult
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	pages := readAhead(ctx, b.store, b.opts.BatchSize)
	w := b.startWriter(ctx)
	var load BulkLoad
	if bl, ok := b.pr.p.(BulkLoader); ok {
		load = bl.NewBulkLoad()
	}
	for page := range pages {
		if page.err != nil {
			stop()
			w.wait()
			return res, page.err
		}
		events := page.events
		if len(events) == 0 {
			break
		}
		var write BulkWrite
		if load != nil {
			var err error
			if write, err = load.Fold(events); err != nil {
				stop()
				w.wait()
				return res, fmt.Errorf("fold %d events after %s: %w", len(events), res.Position, err)
			}
			if load.Held() > b.opts.MaxHeldRows {
				b.log.InfoContext(ctx, "rebuild: the bulk load holds too many rows, applying the rest page by page",
					"held", load.Held(), "max", b.opts.MaxHeldRows, "position", events[len(events)-1].Position.String())
				write = then(write, load.Rest())
				load = nil
			}
		} else {
			write = func(ctx context.Context, tx pgx.Tx) error { return b.pr.p.Apply(ctx, tx, events) }
		}
		res.Events += int64(len(events))
		res.Position = events[len(events)-1].Position
		if !w.send(write, len(events), res) {
			break
		}
	}
	if load != nil {
		w.send(load.Rest(), 0, res)
	}
	if err := w.wait(); err != nil {
		return res, err
	}
	return res, nil
}

// then is the write of a followed by that of b, either of which may be nil.
func then(a, b BulkWrite) BulkWrite {
	if a == nil {
		return b
	}
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := a(ctx, tx); err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		return b(ctx, tx)
	}
}

// writer runs a rebuild's writes on its connection, in order, one transaction each.
type writer struct {
	jobs   chan writeJob
	failed chan struct{} // closed at the first failed write
	done   chan struct{}
	err    error // set before failed is closed
}

type writeJob struct {
	write  BulkWrite
	events int
	res    RebuildResult // where the rebuild stands once the write is done, for Progress
}

func (b *rebuilder) startWriter(ctx context.Context) *writer {
	w := &writer{jobs: make(chan writeJob, 2), failed: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for job := range w.jobs {
			if w.err != nil {
				continue // drain
			}
			if job.write != nil {
				if err := pgx.BeginFunc(ctx, b.conn, func(tx pgx.Tx) error { return job.write(ctx, tx) }); err != nil {
					w.err = fmt.Errorf("write %d events up to %s: %w", job.events, job.res.Position, err)
					close(w.failed)
					continue
				}
			}
			if b.opts.Progress != nil && job.events > 0 {
				b.opts.Progress(job.res.Events, job.res.Position)
			}
		}
	}()
	return w
}

// send queues a write; it reports false when an earlier write failed, and the rebuild should
// stop reading.
func (w *writer) send(write BulkWrite, events int, res RebuildResult) bool {
	select {
	case <-w.failed:
		return false
	case w.jobs <- writeJob{write: write, events: events, res: res}:
		return true
	}
}

// wait ends the writes queued and returns the first error.
func (w *writer) wait() error {
	close(w.jobs)
	<-w.done
	return w.err
}

// page is one page of the log, or the error that ended the reading.
type page struct {
	events []eventlog.RecordedEvent
	err    error
}

// readAhead reads the log from its start in pages of size, one page ahead of the consumer, so
// that reading and applying overlap. The channel ends after a short page, an error, or when
// ctx ends.
func readAhead(ctx context.Context, store eventlog.Store, size int) <-chan page {
	pages := make(chan page, 1)
	go func() {
		defer close(pages)
		pos := eventlog.Start()
		for {
			events, err := store.ReadAll(ctx, pos, eventlog.ReadOptions{Limit: size})
			if err != nil {
				err = fmt.Errorf("read the log after %s: %w", pos, err)
			}
			select {
			case pages <- page{events: events, err: err}:
			case <-ctx.Done():
				return
			}
			if err != nil || len(events) < size {
				return
			}
			pos = events[len(events)-1].Position
		}
	}()
	return pages
}
