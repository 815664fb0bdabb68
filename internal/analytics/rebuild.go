package analytics

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// RebuildConfig shapes Rebuild.
type RebuildConfig struct {
	// DB is the database of the analytics tables. Required.
	DB *pgxpool.Pool
	// Store is the event log, read from the start. Required.
	Store eventlog.Store
	// Batch is how many events are read and folded at once. Default 5000.
	Batch int
	// Logger receives progress. Default slog.Default().
	Logger *slog.Logger
}

// RebuildResult says what a rebuild did.
type RebuildResult struct {
	// Generation is the number of the tables now live (analytics_state.generation).
	Generation int
	// Events is how many events of the log the new tables hold.
	Events int64
	// AtSwap is how many of them were read while the swap held the live job back.
	AtSwap int
}

// Rebuild recomputes the analytics tables from the start of the log into new tables beside the
// live ones (analytics_*_v<N>), then swaps them in, in one transaction: the old tables are
// dropped and the new ones renamed to the live names. The live job may run meanwhile: the swap
// takes the advisory lock every fold takes shared, so no fold runs while it reads the events
// appended since the copy and renames the tables; a message the job receives after the swap
// is folded into the new tables unless the rebuild read its event already (its UUID is in the
// new tables' set). So a fixed metric corrects history without losing an event.
//
// That holds because every message the job folds is an event the forwarder read from the same
// log through the same port, and a store's ReadAll never takes back what it once returned (on
// PostgreSQL its delivery horizon only moves forward): whatever the job folded before the swap,
// the swap reads again.
func Rebuild(ctx context.Context, cfg RebuildConfig) (RebuildResult, error) {
	cfg.Batch = cmp.Or(cfg.Batch, 5000)
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	if cfg.DB == nil || cfg.Store == nil {
		return RebuildResult{}, errors.New("analytics rebuild: a database and an event store are required")
	}
	var live int
	if err := cfg.DB.QueryRow(ctx, `SELECT generation FROM analytics_state`).Scan(&live); err != nil {
		return RebuildResult{}, fmt.Errorf("analytics rebuild: read the live generation: %w", err)
	}
	next := generation(live + 1)
	if err := pgx.BeginFunc(ctx, cfg.DB, func(tx pgx.Tx) error {
		for i, name := range next.all() {
			if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+name); err != nil { // an interrupted rebuild's
				return err
			}
			if _, err := tx.Exec(ctx, `CREATE TABLE `+name+` (LIKE `+Live().all()[i]+` INCLUDING ALL)`); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+next.State()+` (generation) VALUES ($1)`, live+1)
		return err
	}); err != nil {
		return RebuildResult{}, fmt.Errorf("analytics rebuild: create generation %d: %w", live+1, err)
	}

	res := RebuildResult{Generation: live + 1}
	pos := eventlog.Start()
	for {
		n, last, err := copyBatch(ctx, cfg.Store, pos, cfg.Batch, cfg.Logger, func(events []Event) error {
			return pgx.BeginFunc(ctx, cfg.DB, func(tx pgx.Tx) error {
				_, err := Fold(ctx, tx, next, events)
				return err
			})
		})
		if err != nil {
			return res, fmt.Errorf("analytics rebuild: fold from %s: %w", pos, err)
		}
		if n == 0 {
			break
		}
		res.Events += int64(n)
		pos = last
		if res.Events%(int64(cfg.Batch)*20) < int64(n) {
			cfg.Logger.Info("analytics rebuild", "events", res.Events, "position", pos.String())
		}
	}

	err := pgx.BeginFunc(ctx, cfg.DB, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(swapLock)); err != nil {
			return fmt.Errorf("hold the live job back: %w", err)
		}
		var now int
		if err := tx.QueryRow(ctx, `SELECT generation FROM analytics_state`).Scan(&now); err != nil {
			return err
		}
		if now != live {
			return fmt.Errorf("another rebuild swapped generation %d in meanwhile", now)
		}
		// Read to the end of the log, then until the new tables hold every event the live ones
		// folded: this process's reader may see less of the log than the forwarder's did (a
		// reader stops at the readable horizon, which a transaction open anywhere in the
		// cluster holds back), and an event the live job folded and acknowledged would be lost
		// with the old tables.
		deadline := time.Now().Add(swapCatchUp)
		for {
			n, last, err := copyBatch(ctx, cfg.Store, pos, cfg.Batch, cfg.Logger, func(events []Event) error {
				_, err := Fold(ctx, tx, next, events)
				return err
			})
			if err != nil {
				return fmt.Errorf("fold from %s: %w", pos, err)
			}
			res.Events += int64(n)
			res.AtSwap += n
			pos = last
			if n > 0 {
				continue
			}
			var missing int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+Live().Applied()+` l
				WHERE NOT EXISTS (SELECT 1 FROM `+next.Applied()+` n WHERE n.message_id = l.message_id)`).Scan(&missing); err != nil {
				return fmt.Errorf("compare the live tables' events with the new ones': %w", err)
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%d events the live job folded are still not readable from the log after %s (a transaction held open in the cluster?): nothing swapped, run the rebuild again", missing, swapCatchUp)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		for i, name := range Live().all() {
			if _, err := tx.Exec(ctx, `DROP TABLE `+name); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `ALTER TABLE `+next.all()[i]+` RENAME TO `+name); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE analytics_state SET rebuilt_at = now()`)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("analytics rebuild: swap generation %d in: %w", live+1, err)
	}
	cfg.Logger.Info("analytics rebuild swapped in", "generation", res.Generation, "events", res.Events, "read_at_swap", res.AtSwap)
	return res, nil
}

// swapCatchUp bounds how long the swap, holding the live job back, waits for the log to show it
// the events the live job folded.
const swapCatchUp = 30 * time.Second

// copyBatch reads up to n events after pos and hands them to fold; it returns how many it read
// and the position of the last.
func copyBatch(ctx context.Context, store eventlog.Store, pos eventlog.Position, n int, logger *slog.Logger, fold func([]Event) error) (int, eventlog.Position, error) {
	recorded, err := store.ReadAll(ctx, pos, eventlog.ReadOptions{Limit: n})
	if err != nil || len(recorded) == 0 {
		return 0, pos, err
	}
	events := make([]Event, len(recorded))
	for i, r := range recorded {
		if events[i], err = FromRecorded(r); err != nil {
			logger.Warn("analytics rebuild: event folded as unknown", "error", err)
		}
	}
	if err := fold(events); err != nil {
		return 0, pos, err
	}
	return len(recorded), recorded[len(recorded)-1].Position, nil
}
