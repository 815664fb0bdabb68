package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/dbsession"
	"github.com/helpstream/helpstream/internal/fault"
)

// Defaults of RebuildOptions.
const (
	DefaultSwapLockTimeout = 500 * time.Millisecond
	DefaultSwapAttempts    = 20
)

// RebuildOptions tune Rebuild. The zero value takes every default.
type RebuildOptions struct {
	// BatchSize is how many events one page of the log holds, applied in one transaction into
	// the scratch tables. Default DefaultCatchUpBatch (5000).
	BatchSize int

	// SwapLockTimeout bounds the wait of the swap for the locks on the live tables (queries
	// running on them hold it back). When it passes, the swap rolls back, so that the queries
	// queued behind it go on, and it is tried again. It should stay below PostgreSQL's
	// deadlock_timeout (1s by default), so that in a lock cycle with a query the swap yields
	// and the query never fails. Default 500ms.
	SwapLockTimeout time.Duration

	// SwapAttempts caps how often the swap is tried before Rebuild gives up (the scratch
	// tables are then dropped and nothing changed). Default 20.
	SwapAttempts int

	// Logger receives the rebuild's progress. Default slog.Default().
	Logger *slog.Logger

	// Progress, when set, is called after every page applied to the scratch tables with the
	// events applied so far and the position reached.
	Progress func(events int64, pos eventlog.Position)

	// OnlyIfStale makes Rebuild do nothing (RebuildResult.Skipped) when, once it holds the
	// rebuild's lock, the live tables turn out to be built by the projection's current schema
	// already: by another server's rebuild that finished while this one waited.
	OnlyIfStale bool

	// MaxHeldRows bounds the memory of a BulkLoader's rebuild: when its load holds more rows
	// than this, the load writes them all and the rest of the log is applied page by page with
	// Apply. Default DefaultMaxHeldRows.
	MaxHeldRows int
}

// DefaultMaxHeldRows is RebuildOptions.MaxHeldRows's default: a million open requests, some
// hundreds of megabytes.
const DefaultMaxHeldRows = 1_000_000

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	// Events is the number of events folded into the new tables.
	Events int64
	// Parked is the number of events the rebuild could not apply and parked (see
	// ParkedEvent); they are not counted in Events.
	Parked int
	// Position is the checkpoint the new tables were swapped in at.
	Position eventlog.Position
	// Duration is the rebuild's wall time, swap included.
	Duration time.Duration
	// Skipped is true when OnlyIfStale found nothing to rebuild.
	Skipped bool
}

// Rebuild builds a projection's tables again from the whole log, beside the live ones, and
// swaps them in in one transaction; queries keep reading the live tables until then, and a
// live projector keeps applying to them.
//
//  1. On a dedicated connection whose search_path is "rebuild_<name>, public" (public only so
//     that extensions' types and operator classes resolve), it drops a leftover scratch
//     schema, creates rebuild_<name> and runs Schema() in it; Schema must create exactly the
//     tables of Tables() (and their indexes, constraints and owned sequences), nothing else.
//  2. It makes the scratch tables unlogged and drops their indexes that back no constraint:
//     the scratch tables are thrown away if anything fails, so nothing written to them needs
//     the WAL, and an index built once from sorted rows costs a fraction of keeping it up to
//     date row by row. Apply should therefore find rows by primary key or unique constraint.
//  3. It reads the log from the start in pages of BatchSize, the next page read while the
//     current one is applied. A BulkLoader folds the pages in memory and writes each row once
//     (see BulkLoad); any other projection applies each page in one transaction.
//  4. It makes the tables logged again, creates the deferred indexes and analyses the tables.
//  5. When a page comes back short, the swap transaction locks the checkpoint row (a live
//     projector's next commit waits), applies what the log gained meanwhile, drops the live
//     tables, moves the scratch ones into public, sets the checkpoint to the rebuilt position
//     with the current schema hash and events count, and commits. A live projector then drops
//     from its next batches the events the rebuild applied.
//  6. It drops the scratch schema.
//
// An event the projection cannot apply is parked as a live projector parks it (see
// ParkedEvent), with the later events of its stream; the swap replaces the projection's parked
// events with those of the rebuild. A BulkLoader's Fold names the event it cannot fold (an
// EventError); when the bulk load fails where no event can be named (a write, a deferred index),
// the rebuild loads the log again page by page with every index and key in place, so that the
// event at fault fails alone and is parked.
//
// Rebuilds of one projection are serialised by an advisory lock (a second one waits). A
// failed or cancelled rebuild changes nothing live; it drops its scratch schema when it can
// (the next rebuild drops a leftover one). The checkpoint row is created if missing, so
// Rebuild also builds a projection no runner has started yet.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, store eventlog.Store, p Projection, opts RebuildOptions) (RebuildResult, error) {
	started := time.Now()
	if pool == nil || store == nil {
		return RebuildResult{}, errors.New("rebuild: nil pool or store")
	}
	pr, err := newProjector(p)
	if err != nil {
		return RebuildResult{}, fmt.Errorf("rebuild: %w", err)
	}
	if opts.BatchSize < 0 || opts.SwapLockTimeout < 0 || opts.SwapAttempts < 0 || opts.MaxHeldRows < 0 {
		return RebuildResult{}, fmt.Errorf("rebuild %s: negative option", pr.name)
	}
	opts.BatchSize = cmp.Or(opts.BatchSize, DefaultCatchUpBatch)
	opts.SwapLockTimeout = cmp.Or(opts.SwapLockTimeout, DefaultSwapLockTimeout)
	opts.SwapAttempts = cmp.Or(opts.SwapAttempts, DefaultSwapAttempts)
	opts.MaxHeldRows = cmp.Or(opts.MaxHeldRows, DefaultMaxHeldRows)
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	b := &rebuilder{pool: pool, store: store, pr: pr, opts: opts, log: opts.Logger.With("projection", pr.name),
		scratch: scratchPrefix + pr.name}
	res, err := b.run(ctx)
	res.Duration = time.Since(started)
	if err != nil {
		return res, fmt.Errorf("rebuild %s: %w", pr.name, err)
	}
	return res, nil
}

type rebuilder struct {
	pool    *pgxpool.Pool
	store   eventlog.Store
	pr      *projector
	opts    RebuildOptions
	log     *slog.Logger
	scratch string
	conn    *pgx.Conn
	// careful is set once the fast load failed: the log is then applied page by page with every
	// index and key in place, so that whatever an event breaks fails on that event, which is
	// parked.
	careful bool
	// park holds the events this rebuild parked so far; the swap records them.
	park *parking
	// until, when set, ends the load at that position instead of the end of the log.
	until *eventlog.Position
}

func (b *rebuilder) run(ctx context.Context) (res RebuildResult, err error) {
	// A connection of its own: every statement on it, prepared or not, sees the scratch schema
	// first, and no pooled connection ever caches a statement planned against it.
	session := map[string]string{"application_name": "helpstream rebuild " + b.pr.name}
	maps.Copy(session, rebuildSession)
	b.conn, err = dbsession.Open(ctx, b.pool, session)
	if err != nil {
		return res, fmt.Errorf("connect: %w", err)
	}
	defer dbsession.Close(b.conn)
	if _, err := b.conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, rebuildLockKey(b.pr.name)); err != nil {
		return res, fmt.Errorf("wait for other rebuilds: %w", err)
	}
	if b.opts.OnlyIfStale {
		stale, err := storedSchemaDiffers(ctx, b.pool, b.pr)
		if err != nil {
			return res, err
		}
		if !stale {
			return RebuildResult{Skipped: true}, nil
		}
	}
	scratch := pgx.Identifier{b.scratch}.Sanitize()
	defer func() {
		if err != nil && !b.conn.IsClosed() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			if _, derr := b.conn.Exec(cctx, "DROP SCHEMA IF EXISTS "+scratch+" CASCADE"); derr != nil {
				b.log.WarnContext(ctx, "rebuild: cannot drop the scratch schema; the next rebuild will", "schema", b.scratch, "error", derr)
			}
		}
	}()
	res, err = b.load(ctx)
	var unreadable *readError
	if err != nil && !b.careful && ctx.Err() == nil && !b.conn.IsClosed() && !Transient(err) && !errors.As(err, &unreadable) {
		// Something in the log breaks the fast load where no event can be blamed (a bulk
		// write, a deferred index): load again the slow way, which parks the event at fault.
		b.log.WarnContext(ctx, "rebuild: the fast load failed; loading the log again page by page with every index in place, to park the events that cannot be applied",
			"error", err)
		b.careful = true
		res, err = b.load(ctx)
	}
	if err != nil {
		return res, err
	}

	for attempt := 1; ; attempt++ {
		swapped, err := b.swap(ctx, res)
		if err == nil {
			res = swapped
			break
		}
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "55P03" || attempt >= b.opts.SwapAttempts || ctx.Err() != nil {
			return res, err
		}
		b.log.InfoContext(ctx, "rebuild: live tables busy, trying the swap again", "attempt", attempt)
		fault.Pause(ctx, time.Duration(attempt)*50*time.Millisecond)
	}
	logParked(ctx, b.opts.Logger, b.park.parked())
	if _, err := b.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+scratch+" CASCADE"); err != nil {
		b.log.WarnContext(ctx, "rebuild: swapped, but cannot drop the scratch schema; the next rebuild will", "schema", b.scratch, "error", err)
	}
	return res, nil
}

// load creates the scratch schema and tables afresh, applies the log to them from its start and
// finishes them, ready for the swap.
func (b *rebuilder) load(ctx context.Context) (RebuildResult, error) {
	b.park = newParking(b.pr.name)
	scratch := pgx.Identifier{b.scratch}.Sanitize()
	if _, err := b.conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+scratch+" CASCADE; CREATE SCHEMA "+scratch+
		"; SET search_path = "+scratch+", "+liveSchema); err != nil {
		return RebuildResult{}, fmt.Errorf("create scratch schema %s: %w", b.scratch, err)
	}
	if err := b.createTables(ctx); err != nil {
		return RebuildResult{}, err
	}
	plan, err := b.planLoad(ctx)
	if err != nil {
		return RebuildResult{}, err
	}
	b.log.InfoContext(ctx, "rebuild: scratch tables created, reading the log", "schema", b.scratch,
		"deferred_keys", len(plan.keys), "deferred_statements", len(plan.finish), "careful", b.careful)
	caughtUp := time.Now()
	res, err := b.catchUp(ctx, plan)
	if err != nil {
		return res, err
	}
	finished := time.Now()
	if err := b.finishTables(ctx, plan); err != nil {
		return res, err
	}
	b.log.InfoContext(ctx, "rebuild: log applied, tables finished", "events", res.Events,
		"catch_up", finished.Sub(caughtUp), "indexes_and_logging", time.Since(finished))
	return res, nil
}

// createTables runs Schema() in the scratch schema and checks that it created exactly Tables().
func (b *rebuilder) createTables(ctx context.Context) error {
	if _, err := b.conn.Exec(ctx, b.pr.p.Schema()); err != nil {
		return fmt.Errorf("create scratch tables: %w", err)
	}
	var got []string
	if err := b.conn.QueryRow(ctx, `SELECT coalesce(array_agg(relname::text ORDER BY relname), '{}') FROM pg_class
		WHERE relnamespace = $1::regnamespace AND relkind IN ('r', 'p')`, b.scratch).Scan(&got); err != nil {
		return fmt.Errorf("list scratch tables: %w", err)
	}
	want := slices.Clone(b.pr.tables)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("Schema() created tables %v, Tables() lists %v", got, want)
	}
	return nil
}

// swap applies the rest of the log and moves the scratch tables into public, with the
// checkpoint and the events the rebuild parked (which replace those the live tables had), in
// one transaction. It starts from res, the state of the scratch tables before it (Events
// counting every event read, parked or not), and returns the state it committed.
func (b *rebuilder) swap(ctx context.Context, res RebuildResult) (RebuildResult, error) {
	// What this attempt parks counts only if it commits.
	park := b.park.clone()
	tx, err := b.conn.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("swap: begin: %w", err)
	}
	defer dbsession.Rollback(ctx, tx)
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
		return res, fmt.Errorf("swap: %w", err)
	}
	live, err := lockCheckpoint(ctx, tx, b.pr.name)
	if err != nil {
		return res, fmt.Errorf("swap: %w", err)
	}
	// The live projector may have been given events that ReadAll holds back here (its store
	// looks past a long transaction that writes no events; this one has not waited long enough
	// to): up to its checkpoint, read what it was delivered.
	delivered, _ := b.store.(eventlog.DeliveredReader)
	for {
		page, err := b.store.ReadAll(ctx, res.Position, eventlog.ReadOptions{Limit: b.opts.BatchSize})
		if err == nil && len(page) == 0 && delivered != nil && res.Position.Compare(live.pos) < 0 {
			page, err = delivered.ReadDelivered(ctx, res.Position, live.pos, eventlog.ReadOptions{Limit: b.opts.BatchSize})
		}
		if err != nil {
			return res, fmt.Errorf("swap: read the log after %s: %w", res.Position, err)
		}
		if len(page) == 0 {
			break
		}
		if _, err := applyParking(ctx, tx, b.pr.p, page, park); err != nil {
			return res, fmt.Errorf("swap: apply %d events after %s: %w", len(page), res.Position, err)
		}
		res.Events += int64(len(page))
		res.Position = page[len(page)-1].Position
	}
	if res.Position.Compare(live.pos) < 0 {
		// The live tables hold events the log did not give back: swapping would make the live
		// projector skip them.
		return res, fmt.Errorf("swap: the log read ended at %s, before the live checkpoint %s", res.Position, live.pos)
	}
	// Recorded before the live tables are locked, so that the queries that wait for the swap
	// from then on wait no longer for it.
	parked := park.parked()
	res.Events -= int64(len(parked))
	res.Parked = len(parked)
	if err := dropParked(ctx, tx, b.pr.name); err != nil {
		return res, fmt.Errorf("swap: %w", err)
	}
	if err := insertParked(ctx, tx, parked); err != nil {
		return res, fmt.Errorf("swap: %w", err)
	}
	stmts := []string{
		fmt.Sprintf("SET LOCAL lock_timeout = %d", b.opts.SwapLockTimeout.Milliseconds()),
		"DROP TABLE IF EXISTS " + strings.Join(b.pr.qualified(liveSchema), ", "),
	}
	for _, t := range b.pr.qualified(b.scratch) {
		stmts = append(stmts, "ALTER TABLE "+t+" SET SCHEMA "+liveSchema)
	}
	if _, err := tx.Exec(ctx, strings.Join(stmts, "; ")); err != nil {
		return res, fmt.Errorf("swap: move the tables into %s: %w", liveSchema, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE public.projection_checkpoints
		SET position = $2, schema_hash = $3, events_applied = $4, updated_at = now() WHERE name = $1`,
		b.pr.name, res.Position.String(), b.pr.hash, res.Events); err != nil {
		return res, fmt.Errorf("swap: set checkpoint: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("swap: commit: %w", err)
	}
	b.park = park
	b.log.InfoContext(ctx, "rebuild: swapped in", "events", res.Events, "parked", res.Parked, "position", res.Position.String())
	return res, nil
}
