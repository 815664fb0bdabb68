package projections

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// DefaultLagCap is where Status stops counting the events a projection has yet to apply.
const DefaultLagCap = 1_000_000

// lagPage is the page Status reads the log in to count the lag.
const lagPage = 5000

// ProjectionStatus is where one projection stands.
type ProjectionStatus struct {
	// Name is the projection's name.
	Name string `json:"name"`
	// Built reports whether the projection has a checkpoint, that is whether a runner or a
	// rebuild has created its tables. The fields below that describe the checkpoint are zero
	// when not.
	Built bool `json:"built"`
	// SchemaCurrent reports whether the tables were built by the projection's current Schema;
	// when not, the next leader rebuilds them.
	SchemaCurrent bool `json:"schema_current"`
	// Position is the checkpoint: the last event applied.
	Position eventlog.Position `json:"position"`
	// EventsApplied counts the events folded into the current tables.
	EventsApplied int64 `json:"events_applied"`
	// UpdatedAt is when the checkpoint last moved.
	UpdatedAt time.Time `json:"updated_at"`
	// LagEvents counts the events of the log after the checkpoint, up to the cap.
	LagEvents int64 `json:"lag_events"`
	// LagCapped reports that counting stopped at the cap: the lag is LagEvents or more.
	LagCapped bool `json:"lag_capped"`
	// LagSeconds is how long ago the oldest event not applied yet was recorded; 0 when none.
	LagSeconds float64 `json:"lag_seconds"`
	// Leader reports whether a runner holds the projection's leader lock.
	Leader bool `json:"leader"`
	// Parked counts the events the projection could not apply and parked (see ParkedEvent);
	// FirstParked is the first of them in log order, nil when none is.
	Parked      int64        `json:"parked,omitempty"`
	FirstParked *ParkedEvent `json:"first_parked,omitempty"`
}

// Status reports where each projection stands, in the order given: its checkpoint, its lag
// behind the log (counted up to DefaultLagCap events), whether a leader runs it and the events
// it parked. It reads the log once, from the oldest checkpoint.
func Status(ctx context.Context, pool *pgxpool.Pool, store eventlog.Store, ps []Projection) ([]ProjectionStatus, error) {
	return StatusWithLagCap(ctx, pool, store, ps, DefaultLagCap)
}

// StatusWithLagCap is Status that stops counting a projection's lag at lagCap events (at least 1).
func StatusWithLagCap(ctx context.Context, pool *pgxpool.Pool, store eventlog.Store, ps []Projection, lagCap int64) ([]ProjectionStatus, error) {
	if pool == nil || store == nil {
		return nil, errors.New("projection status: nil pool or store")
	}
	lagCap = max(lagCap, 1)
	out := make([]ProjectionStatus, len(ps))
	names := make([]string, len(ps))
	for i, p := range ps {
		if err := validateProjection(p); err != nil {
			return nil, fmt.Errorf("projection status: %w", err)
		}
		names[i] = p.Name()
	}
	stored, err := readCheckpoints(ctx, pool, names)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	leaders, err := leaderLocks(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	parked, err := readParkedSummaries(ctx, pool, names)
	if err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	for i, p := range ps {
		s := ProjectionStatus{Name: names[i], Leader: leaders[LeaderLockKey(names[i])]}
		if cp, ok := stored[names[i]]; ok && cp.hash != "" {
			s.Built = true
			s.SchemaCurrent = cp.hash == SchemaHash(p)
			s.Position = cp.pos
			s.EventsApplied = cp.applied
			s.UpdatedAt = cp.updatedAt
		}
		if p, ok := parked[names[i]]; ok {
			s.Parked, s.FirstParked = p.count, &p.first
		}
		out[i] = s
	}
	if err := countLag(ctx, store, out, lagCap); err != nil {
		return nil, fmt.Errorf("projection status: %w", err)
	}
	return out, nil
}

// leaderLocks returns the keys of the bigint advisory locks held in the current database.
func leaderLocks(ctx context.Context, pool *pgxpool.Pool) (map[int64]bool, error) {
	rows, err := pool.Query(ctx, `SELECT classid::bigint, objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted
		  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
	if err != nil {
		return nil, fmt.Errorf("read advisory locks: %w", err)
	}
	defer rows.Close()
	held := make(map[int64]bool)
	for rows.Next() {
		var hi, lo int64
		if err := rows.Scan(&hi, &lo); err != nil {
			return nil, fmt.Errorf("read advisory locks: %w", err)
		}
		held[int64(uint64(hi)<<32|uint64(lo))] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read advisory locks: %w", err)
	}
	return held, nil
}

// countLag reads the log once, from the oldest checkpoint, and counts for each status the
// events after its position, up to lagCap, noting when the oldest of them was recorded. It
// skips the stretches of log that no status still counting needs.
func countLag(ctx context.Context, store eventlog.Store, out []ProjectionStatus, lagCap int64) error {
	if len(out) == 0 {
		return nil
	}
	order := make([]*ProjectionStatus, len(out))
	for i := range out {
		order[i] = &out[i]
	}
	sort.Slice(order, func(i, j int) bool { return order[i].Position.Compare(order[j].Position) < 0 })
	oldest := make(map[*ProjectionStatus]time.Time, len(out))
	cursor := order[0].Position
	for {
		var counting []*ProjectionStatus
		for _, s := range order {
			if !s.LagCapped {
				counting = append(counting, s)
			}
		}
		if len(counting) == 0 {
			break
		}
		if counting[0].Position.Compare(cursor) > 0 {
			cursor = counting[0].Position
		}
		page, err := store.ReadAll(ctx, cursor, eventlog.ReadOptions{Limit: lagPage})
		if err != nil {
			return fmt.Errorf("count lag after %s: %w", cursor, err)
		}
		for _, e := range page {
			for _, s := range counting {
				if s.LagCapped || e.Position.Compare(s.Position) <= 0 {
					continue
				}
				if s.LagEvents == 0 {
					oldest[s] = e.RecordedAt
				}
				s.LagEvents++
				if s.LagEvents >= lagCap {
					s.LagCapped = true
				}
			}
		}
		if len(page) < lagPage {
			break
		}
		cursor = page[len(page)-1].Position
	}
	now := time.Now()
	for s, at := range oldest {
		s.LagSeconds = max(now.Sub(at).Seconds(), 0)
	}
	return nil
}

// WaitFor waits until the checkpoint of every named projection has reached pos (read-your-
// writes: pos is the position a command wrote). It polls the checkpoints every 5ms and returns
// true once they have, false with no error when timeout passes first, and false with ctx's error
// when ctx ends first; a timeout of 0 or less looks once. A projection without a checkpoint has
// not reached anything but the start, which every projection has reached.
func WaitFor(ctx context.Context, pool *pgxpool.Pool, names []string, pos eventlog.Position, timeout time.Duration) (bool, error) {
	return subscriber.WaitFor(ctx, pool, checkpoints, names, pos, timeout)
}
