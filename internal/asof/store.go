package asof

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ErrReadOnly is returned by Store.Append: the past is not written.
var ErrReadOnly = errors.New("the log as of a past moment is read-only")

// Store is an event store cut at a position: it reads what the store it wraps holds up to and
// including the position, and nothing after it. A stream is cut at its first event past the
// position, so its versions stay contiguous.
type Store struct {
	store    eventlog.Store
	position eventlog.Position
}

// NewStore returns store cut at position.
func NewStore(store eventlog.Store, position eventlog.Position) *Store {
	return &Store{store: store, position: position}
}

var _ eventlog.Store = (*Store)(nil)

// Position is where the store is cut.
func (s *Store) Position() eventlog.Position { return s.position }

// Append implements eventlog.Store: it refuses, with ErrReadOnly.
func (s *Store) Append(_ context.Context, streamID string, _ eventlog.ExpectedVersion, _ ...eventlog.EventData) (eventlog.AppendResult, error) {
	return eventlog.AppendResult{}, fmt.Errorf("append to %s: %w", streamID, ErrReadOnly)
}

// ReadStream implements eventlog.Store: the stream's events up to the position.
func (s *Store) ReadStream(ctx context.Context, streamID string, from int64, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if s.position.IsStart() {
		return nil, nil
	}
	events, err := s.store.ReadStream(ctx, streamID, from, opts)
	if err != nil {
		return nil, err
	}
	return s.cut(events), nil
}

// ReadAll implements eventlog.Store: the global log after from, up to the position.
func (s *Store) ReadAll(ctx context.Context, from eventlog.Position, opts eventlog.ReadOptions) ([]eventlog.RecordedEvent, error) {
	if from.Compare(s.position) >= 0 {
		return nil, nil
	}
	events, err := s.store.ReadAll(ctx, from, opts)
	if err != nil {
		return nil, err
	}
	return s.cut(events), nil
}

// Subscribe implements eventlog.Store: it delivers the log after from up to the position, then
// waits, as a subscription that has caught up does, until ctx ends: nothing is ever appended
// to the past.
func (s *Store) Subscribe(ctx context.Context, from eventlog.Position, opts eventlog.SubscribeOptions, handle eventlog.Handler) error {
	batch := opts.MaxBatch
	if batch <= 0 {
		batch = 500
	}
	for {
		events, err := s.ReadAll(ctx, from, eventlog.ReadOptions{Limit: batch})
		if err != nil {
			return err
		}
		if len(events) == 0 {
			break
		}
		from = events[len(events)-1].Position
		if kept := withPrefixes(events, opts.StreamPrefixes); len(kept) > 0 {
			if err := handle(ctx, kept); err != nil {
				return err
			}
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

// cut returns events up to the first one past the position.
func (s *Store) cut(events []eventlog.RecordedEvent) []eventlog.RecordedEvent {
	for i := range events {
		if events[i].Position.Compare(s.position) > 0 {
			return events[:i]
		}
	}
	return events
}

func withPrefixes(events []eventlog.RecordedEvent, prefixes []string) []eventlog.RecordedEvent {
	if len(prefixes) == 0 {
		return events
	}
	var kept []eventlog.RecordedEvent
	for _, e := range events {
		for _, p := range prefixes {
			if strings.HasPrefix(e.StreamID, p) {
				kept = append(kept, e)
				break
			}
		}
	}
	return kept
}
