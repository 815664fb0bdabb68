package storecopy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// PostgresCheckpoints keeps the checkpoint of one source and destination pair in the table
// event_copy_checkpoints of a PostgreSQL database, one row per pair:
//
//	event_copy_checkpoints(source text, destination text, position text, updated_at timestamptz,
//	                       PRIMARY KEY (source, destination))
//
// The position is the source's position in its text form (eventlog.Position.String). The table
// is created (CREATE TABLE IF NOT EXISTS) by NewPostgresCheckpoints in whichever database its pool
// points at; helpstream events copy uses the destination's database when the destination is
// PostgreSQL, so the checkpoint lives beside the copied events. Source and destination are names
// of the caller's choosing (the CLI uses the connection strings without their passwords).
type PostgresCheckpoints struct {
	pool        *pgxpool.Pool
	source      string
	destination string
}

// checkpointTableLock serialises the CREATE TABLE of concurrent first runs (two CREATE TABLE IF
// NOT EXISTS racing can still fail on the catalog's unique index).
const checkpointTableLock = 0x636f7079 // "copy"

// NewPostgresCheckpoints creates the table if needed and returns the checkpoints of the pair.
func NewPostgresCheckpoints(ctx context.Context, pool *pgxpool.Pool, source, destination string) (*PostgresCheckpoints, error) {
	if source == "" || destination == "" {
		return nil, errors.New("checkpoints: source and destination names are required")
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, checkpointTableLock); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS event_copy_checkpoints (
			source      text        NOT NULL,
			destination text        NOT NULL,
			position    text        NOT NULL,
			updated_at  timestamptz NOT NULL DEFAULT now(),
			PRIMARY KEY (source, destination))`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("checkpoints: create table event_copy_checkpoints: %w", err)
	}
	return &PostgresCheckpoints{pool: pool, source: source, destination: destination}, nil
}

// Load implements CheckpointStore.
func (c *PostgresCheckpoints) Load(ctx context.Context) (eventlog.Position, bool, error) {
	var text string
	err := c.pool.QueryRow(ctx, `SELECT position FROM event_copy_checkpoints WHERE source = $1 AND destination = $2`,
		c.source, c.destination).Scan(&text)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventlog.Start(), false, nil
	}
	if err != nil {
		return eventlog.Position{}, false, fmt.Errorf("load checkpoint: %w", err)
	}
	pos, err := eventlog.ParsePosition(text)
	if err != nil {
		return eventlog.Position{}, false, fmt.Errorf("load checkpoint: %w", err)
	}
	return pos, true, nil
}

// Save implements CheckpointStore.
func (c *PostgresCheckpoints) Save(ctx context.Context, pos eventlog.Position) error {
	_, err := c.pool.Exec(ctx, `INSERT INTO event_copy_checkpoints (source, destination, position) VALUES ($1, $2, $3)
		ON CONFLICT (source, destination) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
		c.source, c.destination, pos.String())
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// Reset forgets the pair's checkpoint: the next copy starts from the beginning (and the
// destination's dedupe by event ID keeps it from writing anything twice).
func (c *PostgresCheckpoints) Reset(ctx context.Context) error {
	_, err := c.pool.Exec(ctx, `DELETE FROM event_copy_checkpoints WHERE source = $1 AND destination = $2`, c.source, c.destination)
	if err != nil {
		return fmt.Errorf("reset checkpoint: %w", err)
	}
	return nil
}

// FileCheckpoints keeps the checkpoint of one pair in a small JSON file, for copies whose
// destination is not PostgreSQL. The file names its pair; loading it for another pair fails
// instead of resuming the wrong copy. It is replaced atomically on every save.
type FileCheckpoints struct {
	Path        string
	Source      string
	Destination string
}

type checkpointFile struct {
	Source      string            `json:"source"`
	Destination string            `json:"destination"`
	Position    eventlog.Position `json:"position"`
}

// Load implements CheckpointStore.
func (c FileCheckpoints) Load(context.Context) (eventlog.Position, bool, error) {
	b, err := os.ReadFile(c.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return eventlog.Start(), false, nil
	}
	if err != nil {
		return eventlog.Position{}, false, fmt.Errorf("load checkpoint: %w", err)
	}
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return eventlog.Position{}, false, fmt.Errorf("load checkpoint %s: %w", c.Path, err)
	}
	if f.Source != c.Source || f.Destination != c.Destination {
		return eventlog.Position{}, false, fmt.Errorf("checkpoint %s belongs to the copy from %s to %s, not from %s to %s",
			c.Path, f.Source, f.Destination, c.Source, c.Destination)
	}
	return f.Position, true, nil
}

// Save implements CheckpointStore.
func (c FileCheckpoints) Save(_ context.Context, pos eventlog.Position) error {
	b, err := json.Marshal(checkpointFile{Source: c.Source, Destination: c.Destination, Position: pos})
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.Path), filepath.Base(c.Path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.Path); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// MemoryCheckpoints keeps the checkpoint in memory: for tests and one-off copies that need not
// resume.
type MemoryCheckpoints struct {
	mu  sync.Mutex
	pos eventlog.Position
	set bool
}

// Load implements CheckpointStore.
func (m *MemoryCheckpoints) Load(context.Context) (eventlog.Position, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.pos, m.set, nil
}

// Save implements CheckpointStore.
func (m *MemoryCheckpoints) Save(_ context.Context, pos eventlog.Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pos, m.set = pos, true
	return nil
}
