package subscriber

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Checkpoints is a table of checkpoints, one row per consumer of one kind, with the columns
// name (text, the primary key), position (text, eventlog.Position.String()), a bigint counter
// of the events applied, and updated_at (timestamptz).
type Checkpoints struct {
	open, create, lock, move, read string
}

// NewCheckpoints describes the checkpoint table schema.table whose counter column is counter.
func NewCheckpoints(schema, table, counter string) *Checkpoints {
	t := pgx.Identifier{schema, table}.Sanitize()
	n := pgx.Identifier{counter}.Sanitize()
	return &Checkpoints{
		create: `INSERT INTO ` + t + ` (name, position) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		open:   `SELECT position FROM ` + t + ` WHERE name = $1`,
		lock:   `SELECT position FROM ` + t + ` WHERE name = $1 FOR UPDATE`,
		move:   `UPDATE ` + t + ` SET position = $2, ` + n + ` = ` + n + ` + $3, updated_at = now() WHERE name = $1`,
		read:   `SELECT name, position FROM ` + t + ` WHERE name = ANY($1)`,
	}
}

// Querier is a pool, a connection or a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Open returns the named checkpoint, creating it at from when it is missing.
func (c *Checkpoints) Open(ctx context.Context, q Querier, name string, from eventlog.Position) (eventlog.Position, error) {
	if _, err := q.Exec(ctx, c.create, name, from.String()); err != nil {
		return eventlog.Start(), fmt.Errorf("create checkpoint: %w", err)
	}
	return scanPosition(q.QueryRow(ctx, c.open, name), "read checkpoint")
}

// Lock locks the named checkpoint row in tx until tx ends and returns its position;
// ErrCheckpointMissing when there is none.
func (c *Checkpoints) Lock(ctx context.Context, tx pgx.Tx, name string) (eventlog.Position, error) {
	return scanPosition(tx.QueryRow(ctx, c.lock, name), "lock checkpoint")
}

func scanPosition(row pgx.Row, doing string) (eventlog.Position, error) {
	var text string
	err := row.Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Start(), ErrCheckpointMissing
	}
	if err != nil {
		return eventlog.Start(), fmt.Errorf("%s: %w", doing, err)
	}
	pos, err := eventlog.ParsePosition(text)
	if err != nil {
		return eventlog.Start(), fmt.Errorf("checkpoint: %w", err)
	}
	return pos, nil
}

// Move sets the named checkpoint to pos in tx and adds applied to its counter.
func (c *Checkpoints) Move(ctx context.Context, tx pgx.Tx, name string, pos eventlog.Position, applied int) error {
	if _, err := tx.Exec(ctx, c.move, name, pos.String(), applied); err != nil {
		return fmt.Errorf("move checkpoint: %w", err)
	}
	return nil
}

// Read returns the stored positions of names, by name; a name without a checkpoint is missing.
func (c *Checkpoints) Read(ctx context.Context, q Querier, names []string) (map[string]eventlog.Position, error) {
	rows, err := q.Query(ctx, c.read, names)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	out := make(map[string]eventlog.Position, len(names))
	var name, text string
	_, err = pgx.ForEachRow(rows, []any{&name, &text}, func() error {
		pos, err := eventlog.ParsePosition(text)
		if err != nil {
			return fmt.Errorf("checkpoint of %s: %w", name, err)
		}
		out[name] = pos
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return out, nil
}
