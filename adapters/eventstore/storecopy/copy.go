// Package storecopy copies the whole event log of one event store to another (PostgreSQL to
// KurrentDB, KurrentDB to PostgreSQL, or between two databases of one kind), through the
// event-store port only, so every pair of stores takes the same code path.
//
// What is kept: every event's ID, stream, version, type, data bytes and metadata, and the order
// of the global log (a stream's events are appended in version order, and events are appended
// in the source's global order). Positions are not kept: each store issues its own.
//
// How a copy stays correct when interrupted and re-run:
//   - each event is appended with the expected version its source version implies
//     (Exactly(version-1)), consecutive events of one stream as one append. The destination
//     therefore refuses to put an event anywhere but at its source version, and its dedupe by
//     event ID turns an append that already happened into a no-op that returns the original
//     result (the port's contract);
//   - after every page of the source's log the position of its last event is saved in a
//     CheckpointStore, and the next run starts after it. A run interrupted between two
//     checkpoints repeats at most one page, whose appends the destination recognises.
//
// A re-run of a finished copy reads nothing but an empty page and writes nothing. A copy reads
// the source up to the end it sees; events appended to the source meanwhile are copied by the
// next run. Run one copy per source and destination at a time.
package storecopy

import (
	"context"
	"errors"
	"fmt"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// CheckpointStore keeps the source position of the last copied event, for one source and
// destination pair.
type CheckpointStore interface {
	// Load returns the saved position, and false when nothing was saved yet.
	Load(ctx context.Context) (eventlog.Position, bool, error)
	// Save records the position of the last event copied.
	Save(ctx context.Context, pos eventlog.Position) error
}

// Options shape a copy.
type Options struct {
	// BatchSize is how many events one read of the source's log returns; the checkpoint is saved
	// after each such page. Default 500.
	BatchSize int
	// Progress, when set, is called after every saved checkpoint with the totals of this run.
	Progress func(Stats)
}

// DefaultBatchSize is the page size when Options.BatchSize is 0.
const DefaultBatchSize = 500

// Stats say what one run did.
type Stats struct {
	// Resumed is true when the run started from a saved checkpoint.
	Resumed bool
	// From is the source position the run started after (the start of the log when not resumed).
	From eventlog.Position
	// Last is the source position of the last event copied, From when nothing was.
	Last eventlog.Position
	// Events counts the events handed to the destination in this run (an event the destination
	// held already, after an interrupted run, counts too: the destination wrote it once).
	Events int64
	// Appends counts the append calls, one per run of consecutive events of a stream.
	Appends int64
	// Pages counts the pages read from the source that held events.
	Pages int64
}

// ErrDiverged is returned when the destination holds, at a version being copied, other events
// than the source: it is not a copy of the source (or of a prefix of it).
var ErrDiverged = errors.New("destination diverges from the source")

// Copy copies every event of from's global log after the saved checkpoint to to, in order, and
// returns what it did. It stops at the end of the source's log, at the first error, or when ctx
// ends; the checkpoint then marks the last page copied in full, so the next call resumes there.
func Copy(ctx context.Context, from, to eventlog.Store, checkpoints CheckpointStore, opts Options) (Stats, error) {
	if from == nil || to == nil || checkpoints == nil {
		return Stats{}, errors.New("copy: source, destination and checkpoints are required")
	}
	batch := opts.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	var st Stats
	start, ok, err := checkpoints.Load(ctx)
	if err != nil {
		return st, fmt.Errorf("copy: load checkpoint: %w", err)
	}
	st.Resumed, st.From, st.Last = ok, start, start

	cursor := start
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		page, err := from.ReadAll(ctx, cursor, eventlog.ReadOptions{Limit: batch})
		if err != nil {
			return st, fmt.Errorf("copy: read source after %s: %w", cursor, err)
		}
		if len(page) == 0 {
			return st, nil
		}
		for _, run := range Runs(page) {
			if err := appendRun(ctx, to, run); err != nil {
				return st, err
			}
			st.Appends++
			st.Events += int64(len(run))
		}
		cursor = page[len(page)-1].Position
		if err := checkpoints.Save(ctx, cursor); err != nil {
			return st, fmt.Errorf("copy: save checkpoint %s: %w", cursor, err)
		}
		st.Last = cursor
		st.Pages++
		if opts.Progress != nil {
			opts.Progress(st)
		}
	}
}

// Runs splits a page of the global log into the appends that copy it: maximal runs of
// consecutive events of one stream with consecutive versions, in log order.
func Runs(page []eventlog.RecordedEvent) [][]eventlog.RecordedEvent {
	var runs [][]eventlog.RecordedEvent
	startAt := 0
	for i := 1; i <= len(page); i++ {
		if i < len(page) && page[i].StreamID == page[i-1].StreamID && page[i].Version == page[i-1].Version+1 {
			continue
		}
		runs = append(runs, page[startAt:i])
		startAt = i
	}
	return runs
}

// appendRun appends one run at the versions it has in the source.
func appendRun(ctx context.Context, to eventlog.Store, run []eventlog.RecordedEvent) error {
	first, last := run[0], run[len(run)-1]
	events := make([]eventlog.EventData, len(run))
	for i, e := range run {
		events[i] = eventlog.EventData{ID: e.ID, Type: e.Type, Data: e.Data, Metadata: e.Metadata}
	}
	res, err := to.Append(ctx, first.StreamID, eventlog.Exactly(first.Version-1), events...)
	if err != nil {
		var ce *eventlog.ConcurrencyError
		if errors.As(err, &ce) {
			return fmt.Errorf("copy %s versions %d-%d: the destination's stream is at version %d: %w: %w",
				first.StreamID, first.Version, last.Version, ce.Actual, ErrDiverged, err)
		}
		if errors.Is(err, eventlog.ErrIDReused) {
			return fmt.Errorf("copy %s versions %d-%d: the destination holds these event IDs elsewhere: %w: %w",
				first.StreamID, first.Version, last.Version, ErrDiverged, err)
		}
		return fmt.Errorf("copy %s versions %d-%d: %w", first.StreamID, first.Version, last.Version, err)
	}
	if res.NextExpected != last.Version {
		return fmt.Errorf("copy %s versions %d-%d: the destination put them at version %d: %w",
			first.StreamID, first.Version, last.Version, res.NextExpected, ErrDiverged)
	}
	return nil
}
