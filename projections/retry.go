package projections

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/dbsession"
)

// RetryResult says what a Retry did, each list in log order.
type RetryResult struct {
	// Applied are the parked events that applied this time: no longer parked.
	Applied []ParkedEvent
	// Failed are the parked events that failed again, with this attempt's error.
	Failed []ParkedEvent
	// Waiting are the parked events not tried, because an earlier event of their stream failed
	// again.
	Waiting []ParkedEvent
}

// Retry applies the events the projection parked again, after a fix (of the projection's code,
// of a payload in the log): stream by stream, each stream's events in log order, each event in
// a savepoint. An event that applies is no longer parked, and the checkpoint counts it; one that
// fails keeps its place with the new error, and the later events of its stream stay parked
// without being tried, so that a stream's events are always applied in order.
//
// It holds the lock of the projection's checkpoint row (SELECT … FOR UPDATE) from the start to
// the commit: the live projector's next batch waits for it, and then sees what it left parked.
// Its whole work is one transaction; a transient failure (see Transient) rolls it all back and
// returns the error.
//
// An event applied by Retry lands after events of other streams that came later in the log. The
// rows of its own stream are right, since its later events waited for it; what other streams'
// rows copied from it (a company's name shown in the rows of its requests) is not rewritten. A
// rebuild gives exactly the fold of the log.
func Retry(ctx context.Context, pool *pgxpool.Pool, store eventlog.Store, p Projection) (RetryResult, error) {
	var res RetryResult
	if pool == nil || store == nil {
		return res, errors.New("retry parked events: nil pool or store")
	}
	pr, err := newProjector(p)
	if err != nil {
		return res, fmt.Errorf("retry parked events: %w", err)
	}
	tx, err := pool.BeginTx(ctx, liveTx)
	if err != nil {
		return res, fmt.Errorf("retry the parked events of %s: begin: %w", pr.name, err)
	}
	defer dbsession.Rollback(ctx, tx)
	var hash string
	err = tx.QueryRow(ctx, `SELECT schema_hash FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE`, pr.name).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return res, nil // never built: nothing parked
	}
	if err != nil {
		return res, fmt.Errorf("retry the parked events of %s: lock checkpoint: %w", pr.name, err)
	}
	if hash != pr.hash {
		return res, fmt.Errorf("retry the parked events of %s: %w; let a runner rebuild them first (a rebuild parks anew)", pr.name, errSchemaChanged)
	}
	parked, err := Parked(ctx, tx, pr.name)
	if err != nil {
		return res, fmt.Errorf("retry: %w", err)
	}
	for _, stream := range byStream(parked) {
		if err := retryStream(ctx, tx, store, pr, stream, &res); err != nil {
			return RetryResult{}, fmt.Errorf("retry the parked events of %s: %w", pr.name, err)
		}
	}
	if len(res.Applied) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE public.projection_checkpoints SET events_applied = events_applied + $2 WHERE name = $1`,
			pr.name, len(res.Applied)); err != nil {
			return RetryResult{}, fmt.Errorf("retry the parked events of %s: count the applied events: %w", pr.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return RetryResult{}, fmt.Errorf("retry the parked events of %s: commit: %w", pr.name, err)
	}
	for _, list := range [][]ParkedEvent{res.Applied, res.Failed, res.Waiting} {
		slices.SortFunc(list, func(a, b ParkedEvent) int { return a.Position.Compare(b.Position) })
	}
	return res, nil
}

// byStream groups parked events (in log order) by stream, streams in the order of their first
// parked event.
func byStream(parked []ParkedEvent) [][]ParkedEvent {
	index := map[string]int{}
	var out [][]ParkedEvent
	for _, e := range parked {
		i, ok := index[e.StreamID]
		if !ok {
			i = len(out)
			index[e.StreamID] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], e)
	}
	return out
}

// retryReadPage is the page Retry reads a stream in.
const retryReadPage = 1000

// retryStream applies again the parked events of one stream, in order, until one fails.
func retryStream(ctx context.Context, tx pgx.Tx, store eventlog.Store, pr *projector, parked []ParkedEvent, res *RetryResult) error {
	events, err := readParkedEvents(ctx, store, parked)
	if err != nil {
		return err
	}
	for i, pe := range parked {
		rec, ok := events[pe.EventID]
		var fault error
		if !ok {
			fault = errors.New("the event is no longer in the log's stream " + pe.StreamID)
		} else {
			if fault, err = trySavepoint(ctx, tx, func() error { return pr.p.Apply(ctx, tx, []eventlog.RecordedEvent{rec}) }); err != nil {
				return fmt.Errorf("apply %s at %s: %w", pe.Type, pe.Position, err)
			}
		}
		if fault == nil {
			if _, err := tx.Exec(ctx, `DELETE FROM public.projection_parked WHERE projection = $1 AND event_id = $2`, pr.name, pe.EventID); err != nil {
				return fmt.Errorf("unpark %s: %w", pe.EventID, err)
			}
			res.Applied = append(res.Applied, pe)
			continue
		}
		pe.Error, pe.Retries = Text(fault.Error()), pe.Retries+1
		if err := tx.QueryRow(ctx, `UPDATE public.projection_parked SET error = $3, retries = retries + 1, retried_at = now()
			WHERE projection = $1 AND event_id = $2 RETURNING retries`, pr.name, pe.EventID, pe.Error).Scan(&pe.Retries); err != nil {
			return fmt.Errorf("record the error of %s: %w", pe.EventID, err)
		}
		res.Failed = append(res.Failed, pe)
		res.Waiting = append(res.Waiting, parked[i+1:]...)
		return nil
	}
	return nil
}

// readParkedEvents reads from the store the parked events of one stream, by ID.
func readParkedEvents(ctx context.Context, store eventlog.Store, parked []ParkedEvent) (map[uuid.UUID]eventlog.RecordedEvent, error) {
	wanted := make(map[uuid.UUID]bool, len(parked))
	from, last := parked[0].StreamVersion, parked[0].StreamVersion
	for _, pe := range parked {
		wanted[pe.EventID] = true
		from, last = min(from, pe.StreamVersion), max(last, pe.StreamVersion)
	}
	out := make(map[uuid.UUID]eventlog.RecordedEvent, len(parked))
	stream := parked[0].StreamID
	for from <= last {
		page, err := store.ReadStream(ctx, stream, from, eventlog.ReadOptions{Limit: retryReadPage})
		if err != nil {
			return nil, fmt.Errorf("read stream %s from version %d: %w", stream, from, err)
		}
		for _, e := range page {
			if wanted[e.ID] {
				out[e.ID] = e
			}
		}
		if len(page) < retryReadPage {
			break
		}
		from = page[len(page)-1].Version + 1
	}
	return out, nil
}
