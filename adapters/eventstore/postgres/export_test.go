package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// HoldOpenAppend, for the tests only, appends like Append but inside an explicit transaction that it leaves open:
// the events become visible, and subscribers are woken, only when commit succeeds. rollback
// abandons them; it is safe to call after commit (it then does nothing), so it can be deferred.
// Until one of them is called the transaction holds a pooled connection and delays delivery of
// every event committed after it to subscribers.
//
// A version conflict is reported at once as *eventlog.ConcurrencyError, with no transaction left
// open; so is eventlog.ErrIDReused. When every event is already stored (a retry), there is
// nothing to write: commit and rollback do nothing.
func (s *Store) HoldOpenAppend(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (commit, rollback func(context.Context) error, err error) {
	if len(events) == 0 {
		return nil, nil, fmt.Errorf("hold-open append to %q: no events", streamID)
	}
	batch, err := newAppendBatch(streamID, events)
	if err != nil {
		return nil, nil, err
	}
	nothing := func(context.Context) error { return nil }
	for attempt := 0; ; attempt++ {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("hold-open append to %q: begin transaction: %w", streamID, err)
		}
		_, inserted, err := batch.insert(ctx, tx, expected)
		if err == nil && inserted {
			commit := func(ctx context.Context) error {
				if err := tx.Commit(ctx); err != nil {
					return fmt.Errorf("commit append to %q: %w", streamID, err)
				}
				s.appended()
				return nil
			}
			rollback := func(ctx context.Context) error {
				if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
					return fmt.Errorf("roll back append to %q: %w", streamID, err)
				}
				return nil
			}
			return commit, rollback, nil
		}
		// The transaction wrote nothing (or failed): end it, then judge the conflict outside it.
		if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
			s.log.WarnContext(ctx, "event store: roll back failed append", "stream", streamID, "error", rbErr)
		}
		_, retry, err := s.afterConflict(ctx, batch, expected, err, attempt)
		if retry {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		return nothing, nothing, nil
	}
}
