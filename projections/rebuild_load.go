package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// rebuildSession is what the rebuild's own connection runs with. The scratch tables are thrown
// away when a rebuild fails, so their commits need not wait for the disk (the swap's commit
// does: it sets synchronous_commit back for its transaction); the deferred indexes are built
// with more sort memory than PostgreSQL's default 64MB.
var rebuildSession = map[string]string{
	"synchronous_commit":   "off",
	"maintenance_work_mem": "256MB",
}

// loadPlan is how a rebuild prepares the scratch tables for loading and what it does to them
// afterwards: statements, in order.
type loadPlan struct {
	prepare []string // before the load: unlogged, without deferred keys and indexes
	keys    []string // primary keys and unique constraints to add back
	finish  []string // after the load: logged again, the indexes, ANALYZE
	keysSet bool     // the keys were added back early, for Apply
}

// unlogged reports whether the scratch tables are loaded unlogged: when the log is applied page
// by page, rewriting rows written a page earlier, the WAL of every row version would cost more
// than logging the final table once. A BulkLoader writes each row once, as COPY does: making
// its tables logged afterwards would only write everything twice.
func (b *rebuilder) unlogged() bool { return b.bulkLoader() == nil }

// bulkLoader is the projection as a BulkLoader when the rebuild loads it so, nil when it applies
// the log page by page.
func (b *rebuilder) bulkLoader() BulkLoader {
	if b.careful {
		return nil
	}
	bl, _ := b.pr.p.(BulkLoader)
	return bl
}

// planLoad reads the scratch tables' indexes and constraints and makes the loadPlan: the tables
// unlogged (see unlogged); every index that backs no constraint built after the load; and the
// primary keys and unique constraints of a BulkLoader's CopyOnlyTables added after it too.
// Building an index once from sorted rows costs a fraction of keeping it up to date row by row:
// half of what COPY into request_details_entries costs is its primary key.
func (b *rebuilder) planLoad(ctx context.Context) (*loadPlan, error) {
	var copyOnly []string
	if bl := b.bulkLoader(); bl != nil {
		copyOnly = bl.CopyOnlyTables()
		for _, t := range copyOnly {
			if !slices.Contains(b.pr.tables, t) {
				return nil, fmt.Errorf("CopyOnlyTables() names %q, which Tables() does not list", t)
			}
		}
	}
	rows, err := b.conn.Query(ctx, `
		SELECT 'index', t.relname::text, c.relname::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
		WHERE c.relnamespace = $1::regnamespace
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
		UNION ALL
		SELECT 'key', t.relname::text, k.conname::text, pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
		WHERE t.relnamespace = $1::regnamespace AND k.contype IN ('p', 'u') AND t.relname = ANY($2::text[])
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = k.conrelid)
		ORDER BY 1 DESC, 2, 3`, b.scratch, copyOnly)
	if err != nil {
		return nil, fmt.Errorf("list the scratch indexes: %w", err)
	}
	type object struct{ kind, table, name, definition string }
	objects, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (object, error) {
		var o object
		return o, r.Scan(&o.kind, &o.table, &o.name, &o.definition)
	})
	if err != nil {
		return nil, fmt.Errorf("list the scratch indexes: %w", err)
	}
	plan := &loadPlan{}
	if b.careful {
		// Every index and key stays: what an event breaks fails on that event.
		objects = nil
	}
	if b.unlogged() {
		for _, t := range b.pr.qualified(b.scratch) {
			plan.prepare = append(plan.prepare, "ALTER TABLE "+t+" SET UNLOGGED")
			plan.finish = append(plan.finish, "ALTER TABLE "+t+" SET LOGGED")
		}
	}
	var scanned []string
	for _, o := range objects {
		table := pgx.Identifier{b.scratch, o.table}.Sanitize()
		name := pgx.Identifier{o.name}.Sanitize()
		switch o.kind {
		case "key":
			plan.prepare = append(plan.prepare, "ALTER TABLE "+table+" DROP CONSTRAINT "+name)
			plan.keys = append(plan.keys, "ALTER TABLE "+table+" ADD CONSTRAINT "+name+" "+o.definition)
		case "index":
			plan.prepare = append(plan.prepare, "DROP INDEX "+pgx.Identifier{b.scratch, o.name}.Sanitize())
			plan.finish = append(plan.finish, o.definition)
			if !slices.Contains(scanned, table) {
				scanned = append(scanned, table)
			}
		}
	}
	if len(scanned) > 0 {
		// A table with secondary indexes is one that queries walk in many orders: leave it as
		// autovacuum would after a while before they meet it, with statistics (so that they
		// choose among the indexes well), hint bits and visibility map set (or the first
		// queries after the swap set the bits, writing every page they read, while autovacuum's
		// vacuum of the new rows runs beside them) and rows frozen. A table read by key only
		// meets one page per query; autovacuum sees to it.
		plan.finish = append(plan.finish, "VACUUM (FREEZE, ANALYZE) "+strings.Join(scanned, ", "))
	}
	if len(plan.prepare) > 0 {
		if _, err := b.conn.Exec(ctx, strings.Join(plan.prepare, "; ")); err != nil {
			return nil, fmt.Errorf("prepare the scratch tables for loading: %w", err)
		}
	}
	return plan, nil
}

// setKeys adds the deferred keys back, once.
func (p *loadPlan) setKeys(ctx context.Context, q execer) error {
	if p.keysSet {
		return nil
	}
	for _, stmt := range p.keys {
		if _, err := q.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	p.keysSet = true
	return nil
}

// finishTables adds the deferred keys back, makes unlogged scratch tables logged, so that they
// survive a crash once swapped in, creates the deferred indexes and vacuums the tables.
func (b *rebuilder) finishTables(ctx context.Context, plan *loadPlan) error {
	if err := plan.setKeys(ctx, b.conn); err != nil {
		return fmt.Errorf("finish the scratch tables: %w", err)
	}
	for _, stmt := range plan.finish {
		if _, err := b.conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("finish the scratch tables: %s: %w", stmt, err)
		}
	}
	return nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// catchUp applies the log from its start to the scratch tables, up to the first page that
// comes back short, and returns how far it went. Three stages overlap: one goroutine reads the
// next page, this one folds the current page, a third runs the writes of the pages before.
func (b *rebuilder) catchUp(ctx context.Context, plan *loadPlan) (RebuildResult, error) {
	var res RebuildResult
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	pages, stopReading := subscriber.ReadAhead(ctx, b.store, eventlog.Start(), b.opts.BatchSize)
	defer stopReading()
	w := b.startWriter(ctx)
	var load BulkLoad
	if bl := b.bulkLoader(); bl != nil {
		load = bl.NewBulkLoad()
	}
	for page := range pages {
		if page.Err != nil {
			stop()
			w.wait()
			return res, &readError{fmt.Errorf("read the log after %s: %w", res.Position, page.Err)}
		}
		events := page.Events
		last := false
		if b.until != nil {
			// A bounded load (Comparer's) folds the log up to a position, not to its end.
			if i := slices.IndexFunc(events, func(e eventlog.RecordedEvent) bool { return e.Position.Compare(*b.until) > 0 }); i >= 0 {
				events, last = events[:i], true
			}
		}
		if len(events) == 0 {
			break
		}
		var write BulkWrite
		if load != nil {
			var err error
			if write, err = b.fold(load, events); err != nil {
				stop()
				w.wait()
				return res, fmt.Errorf("fold %d events after %s: %w", len(events), res.Position, err)
			}
			if load.Held() > b.opts.MaxHeldRows {
				b.log.InfoContext(ctx, "rebuild: the bulk load holds too many rows, applying the rest page by page",
					"held", load.Held(), "max", b.opts.MaxHeldRows, "position", events[len(events)-1].Position.String())
				// Apply finds rows by key.
				write = then(then(write, load.Rest()), func(ctx context.Context, tx pgx.Tx) error { return plan.setKeys(ctx, tx) })
				load = nil
			}
		} else {
			write = func(ctx context.Context, tx pgx.Tx) error {
				_, err := applyParking(ctx, tx, b.pr.p, events, b.park)
				return err
			}
		}
		res.Events += int64(len(events))
		res.Position = events[len(events)-1].Position
		if !w.send(write, len(events), res) || last {
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

// fold folds a page with the load. It parks the events of blocked streams without folding them,
// and an event Fold fails on (its error an *EventError naming it), then folds the rest of the
// page; a failure that names no event of the page is returned.
func (b *rebuilder) fold(load BulkLoad, events []eventlog.RecordedEvent) (BulkWrite, error) {
	rest := events
	for {
		rest = b.park.skipBlocked(rest)
		write, err := load.Fold(rest)
		if err == nil {
			return write, nil
		}
		var failed *EventError
		at := -1
		if errors.As(err, &failed) && !Transient(err) {
			at = slices.IndexFunc(rest, func(e eventlog.RecordedEvent) bool { return e.ID == failed.ID && e.Position == failed.Position })
		}
		if at < 0 {
			return nil, err
		}
		b.park.park(&rest[at], err.Error())
		rest = rest[at+1:]
	}
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

// readError is a failure to read the log: loading again would meet it again.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

func (e *readError) Unwrap() error { return e.err }
