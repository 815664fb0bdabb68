package process

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/subscriber"
)

// Querier is a pool, a connection or a transaction.
type Querier = subscriber.Querier

// Timers are one manager's durable timers (table process_timers), each under a key of the
// manager's choosing ("away/<technician>/<company>"). They are written in the transaction of the
// batch or tick that decided them: they survive a restart, and a batch rolled back takes its
// timers with it. A manager fires the due ones in its Tick.
type Timers struct {
	// Owner is the manager's name; every row of these timers carries it.
	Owner string
}

// Timer is one due time, with what its manager wanted to remember.
type Timer struct {
	Key     string
	DueAt   time.Time
	Payload json.RawMessage
}

// ErrEmptyKey is returned by Set for a timer without a key.
var ErrEmptyKey = errors.New("a timer needs a key")

// Set starts the keyed timer at due, or moves it there (with payload) when it runs already.
// payload is marshalled as JSON; nil stores {}.
func (t Timers) Set(ctx context.Context, tx pgx.Tx, key string, due time.Time, payload any) error {
	if key == "" {
		return ErrEmptyKey
	}
	data, err := marshalPayload(payload)
	if err != nil {
		return fmt.Errorf("timer %s/%s: %w", t.Owner, key, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO process_timers (owner, key, due_at, payload) VALUES ($1, $2, $3, $4)
		ON CONFLICT (owner, key) DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload`,
		t.Owner, key, due.UTC(), data); err != nil {
		return fmt.Errorf("set timer %s/%s: %w", t.Owner, key, err)
	}
	return nil
}

// Cancel stops the keyed timer; a timer that does not run is no error.
func (t Timers) Cancel(ctx context.Context, tx pgx.Tx, key string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM process_timers WHERE owner = $1 AND key = $2`, t.Owner, key); err != nil {
		return fmt.Errorf("cancel timer %s/%s: %w", t.Owner, key, err)
	}
	return nil
}

// CancelPrefix stops every timer whose key starts with prefix ("sla/<request>/").
func (t Timers) CancelPrefix(ctx context.Context, tx pgx.Tx, prefix string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM process_timers WHERE owner = $1 AND starts_with(key, $2)`, t.Owner, prefix); err != nil {
		return fmt.Errorf("cancel timers %s/%s*: %w", t.Owner, prefix, err)
	}
	return nil
}

// Fire deletes and returns up to limit of the timers due at now or before, earliest first (by
// key among equal times). Returned in tx, they run again if tx rolls back.
func (t Timers) Fire(ctx context.Context, tx pgx.Tx, now time.Time, limit int) ([]Timer, error) {
	rows, err := tx.Query(ctx, `DELETE FROM process_timers WHERE (owner, key) IN (
			SELECT owner, key FROM process_timers WHERE owner = $1 AND due_at <= $2
			ORDER BY due_at, key LIMIT $3 FOR UPDATE)
		RETURNING key, due_at, payload`, t.Owner, now.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("fire timers of %s: %w", t.Owner, err)
	}
	fired, err := pgx.CollectRows(rows, scanTimer)
	if err != nil {
		return nil, fmt.Errorf("fire timers of %s: %w", t.Owner, err)
	}
	// DELETE … RETURNING gives no order of its own.
	slices.SortFunc(fired, func(a, b Timer) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), strings.Compare(a.Key, b.Key))
	})
	return fired, nil
}

// Get returns the keyed timer, and false when it does not run.
func (t Timers) Get(ctx context.Context, q Querier, key string) (Timer, bool, error) {
	rows, err := q.Query(ctx, `SELECT key, due_at, payload FROM process_timers WHERE owner = $1 AND key = $2`, t.Owner, key)
	if err != nil {
		return Timer{}, false, fmt.Errorf("read timer %s/%s: %w", t.Owner, key, err)
	}
	found, err := pgx.CollectRows(rows, scanTimer)
	if err != nil {
		return Timer{}, false, fmt.Errorf("read timer %s/%s: %w", t.Owner, key, err)
	}
	if len(found) == 0 {
		return Timer{}, false, nil
	}
	return found[0], true, nil
}

// List returns the timers whose key starts with prefix, earliest first.
func (t Timers) List(ctx context.Context, q Querier, prefix string) ([]Timer, error) {
	rows, err := q.Query(ctx, `SELECT key, due_at, payload FROM process_timers
		WHERE owner = $1 AND starts_with(key, $2) ORDER BY due_at, key`, t.Owner, prefix)
	if err != nil {
		return nil, fmt.Errorf("list timers %s/%s*: %w", t.Owner, prefix, err)
	}
	timers, err := pgx.CollectRows(rows, scanTimer)
	if err != nil {
		return nil, fmt.Errorf("list timers %s/%s*: %w", t.Owner, prefix, err)
	}
	return timers, nil
}

func scanTimer(row pgx.CollectableRow) (Timer, error) {
	var tm Timer
	err := row.Scan(&tm.Key, &tm.DueAt, &tm.Payload)
	tm.DueAt = tm.DueAt.UTC()
	return tm, err
}

func marshalPayload(payload any) ([]byte, error) {
	if payload == nil {
		return []byte("{}"), nil
	}
	if raw, ok := payload.(json.RawMessage); ok && len(raw) > 0 {
		if !json.Valid(raw) {
			return nil, errors.New("payload is not valid JSON")
		}
		return raw, nil
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("marshal payload: %w", err)
	}
	return data, nil
}
