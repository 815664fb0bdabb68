package projections

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/dbsession"
	"github.com/helpstream/helpstream/internal/subscriber"
)

// liveSchema is where the live tables are and where queries read them.
const liveSchema = "public"

// scratchPrefix starts the name of the schema a rebuild writes into: rebuild_<name>.
const scratchPrefix = "rebuild_"

// liveTx begins the transactions that write live tables: their unqualified table names resolve
// in public whatever the connection's search_path, in one round trip with BEGIN.
var liveTx = pgx.TxOptions{BeginQuery: "BEGIN; SET LOCAL search_path = " + liveSchema}

// SchemaHash is the hex SHA-256 of a projection's Schema(): the checkpoint row keeps the hash
// of the code that built the tables, and a runner whose projection has another hash rebuilds
// them before it applies anything.
func SchemaHash(p Projection) string {
	sum := sha256.Sum256([]byte(p.Schema()))
	return hex.EncodeToString(sum[:])
}

// LeaderLockKey is the key of the PostgreSQL session advisory lock that elects a projection's
// leader: the first 8 bytes of SHA-256("helpstream.projection."+name). In pg_locks it shows as
// locktype 'advisory', objsubid 1, classid the high and objid the low 32 bits.
func LeaderLockKey(name string) int64 { return lockKey("helpstream.projection." + name) }

// rebuildLockKey serialises rebuilds of one projection, which share one scratch schema.
func rebuildLockKey(name string) int64 { return lockKey("helpstream.projection-rebuild." + name) }

func lockKey(s string) int64 {
	sum := sha256.Sum256([]byte(s))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// projector is a projection with what the runtime derives from it once.
type projector struct {
	p      Projection
	name   string
	tables []string
	hash   string
}

func newProjector(p Projection) (*projector, error) {
	if err := validateProjection(p); err != nil {
		return nil, err
	}
	return &projector{p: p, name: p.Name(), tables: append([]string(nil), p.Tables()...), hash: SchemaHash(p)}, nil
}

// qualified renders schema.table for every table of the projection.
func (pr *projector) qualified(schema string) []string {
	out := make([]string, len(pr.tables))
	for i, t := range pr.tables {
		out[i] = pgx.Identifier{schema, t}.Sanitize()
	}
	return out
}

// lockCheckpointSQL locks the projection's checkpoint row, creating it first when it is missing
// (with an empty schema hash: "nothing built"), so that every writer of a projection's tables is
// serialised on the row whether it existed or not.
const lockCheckpointSQL = `INSERT INTO public.projection_checkpoints AS c (name, position, schema_hash)
VALUES ($1, $2, '')
ON CONFLICT (name) DO UPDATE SET name = c.name
RETURNING c.position, c.schema_hash, c.events_applied`

type checkpoint struct {
	pos     eventlog.Position
	hash    string
	applied int64
}

func lockCheckpoint(ctx context.Context, tx pgx.Tx, name string) (checkpoint, error) {
	var text string
	var cp checkpoint
	if err := tx.QueryRow(ctx, lockCheckpointSQL, name, eventlog.Start().String()).Scan(&text, &cp.hash, &cp.applied); err != nil {
		return cp, fmt.Errorf("lock checkpoint of %s: %w", name, err)
	}
	pos, err := eventlog.ParsePosition(text)
	if err != nil {
		return cp, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	cp.pos = pos
	return cp, nil
}

// ensureTables makes sure the projection's tables exist in public with a checkpoint. When the
// checkpoint row is missing (or was never completed) or a table is missing, it drops whatever
// tables remain, creates them with Schema() and sets the checkpoint to the start with the
// current schema hash, in one transaction. It returns the checkpoint, whether its schema hash is
// the projection's (when not, the tables must be rebuilt before anything is applied), and the
// tables it found missing when it (re)created them (nil otherwise; all of them the first time).
func ensureTables(ctx context.Context, pool *pgxpool.Pool, pr *projector) (cp checkpoint, current bool, created []string, err error) {
	tx, err := pool.BeginTx(ctx, liveTx)
	if err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: begin: %w", pr.name, err)
	}
	defer dbsession.Rollback(ctx, tx)
	cp, err = lockCheckpoint(ctx, tx, pr.name)
	if err != nil {
		return cp, false, nil, err
	}
	var missing []string
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(t) FILTER (WHERE to_regclass(format('public.%I', t)) IS NULL), '{}')
		FROM unnest($1::text[]) AS t`, pr.tables).Scan(&missing); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: look for its tables: %w", pr.name, err)
	}
	if cp.hash != "" && len(missing) == 0 {
		if err := tx.Commit(ctx); err != nil {
			return cp, false, nil, fmt.Errorf("prepare projection %s: commit: %w", pr.name, err)
		}
		return cp, cp.hash == pr.hash, nil, nil
	}
	if cp.hash == "" {
		missing = pr.tables // never built: every table is new, whatever was lying there
	}
	if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(pr.qualified(liveSchema), ", ")); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: drop incomplete tables: %w", pr.name, err)
	}
	if _, err := tx.Exec(ctx, pr.p.Schema()); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: create tables: %w", pr.name, err)
	}
	// The log is applied anew from the start: what it parks then is what stays parked.
	if err := dropParked(ctx, tx, pr.name); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: %w", pr.name, err)
	}
	cp = checkpoint{pos: eventlog.Start(), hash: pr.hash}
	if _, err := tx.Exec(ctx, `UPDATE public.projection_checkpoints
		SET position = $2, schema_hash = $3, events_applied = 0, updated_at = now() WHERE name = $1`,
		pr.name, cp.pos.String(), cp.hash); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: reset checkpoint: %w", pr.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return cp, false, nil, fmt.Errorf("prepare projection %s: commit: %w", pr.name, err)
	}
	return cp, true, missing, nil
}

// storedSchemaDiffers reports whether the projection's live tables were built by another schema
// than its own (false when they were never built: a leader creates them).
func storedSchemaDiffers(ctx context.Context, pool *pgxpool.Pool, pr *projector) (bool, error) {
	var hash string
	err := pool.QueryRow(ctx, `SELECT schema_hash FROM public.projection_checkpoints WHERE name = $1`, pr.name).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("projection %s: read the stored schema: %w", pr.name, err)
	}
	return hash != "" && hash != pr.hash, nil
}

// errSchemaChanged says the live tables were built by another schema than the projection's.
var errSchemaChanged = errors.New("tables were built by another version of the projection")

// errOtherSchema is errSchemaChanged met by a leader: it stands by (see follower.StandBy).
var errOtherSchema = fmt.Errorf("%w: %w", subscriber.ErrStandBy, errSchemaChanged)

// lockForBatch locks the projection's checkpoint row, checks that the tables are the
// projection's, and returns the checkpoint and whether the projection has parked events, in one
// round trip. The second statement runs after the lock is granted, so it sees what a retry that
// held the lock committed.
func lockForBatch(ctx context.Context, tx pgx.Tx, pr *projector) (stored eventlog.Position, anyParked bool, err error) {
	var b pgx.Batch
	b.Queue(`SELECT position, schema_hash FROM public.projection_checkpoints WHERE name = $1 FOR UPDATE`, pr.name)
	b.Queue(`SELECT EXISTS (SELECT 1 FROM public.projection_parked WHERE projection = $1)`, pr.name)
	results := tx.SendBatch(ctx, &b)
	var text, hash string
	err = results.QueryRow().Scan(&text, &hash)
	parkedErr := results.QueryRow().Scan(&anyParked)
	closeErr := results.Close()
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return stored, false, subscriber.ErrCheckpointMissing
	case err != nil:
		return stored, false, fmt.Errorf("lock checkpoint: %w", err)
	case parkedErr != nil:
		return stored, false, fmt.Errorf("look for parked events: %w", parkedErr)
	case closeErr != nil:
		return stored, false, fmt.Errorf("lock checkpoint: %w", closeErr)
	case hash != pr.hash:
		return stored, false, errOtherSchema
	}
	if stored, err = eventlog.ParsePosition(text); err != nil {
		return stored, false, fmt.Errorf("checkpoint: %w", err)
	}
	return stored, anyParked, nil
}

// readCheckpoints returns the stored checkpoints of names, by name.
func readCheckpoints(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, names []string,
) (map[string]storedCheckpoint, error) {
	rows, err := q.Query(ctx, `SELECT name, position, schema_hash, events_applied, updated_at
		FROM public.projection_checkpoints WHERE name = ANY($1)`, names)
	if err != nil {
		return nil, fmt.Errorf("read projection checkpoints: %w", err)
	}
	out := make(map[string]storedCheckpoint, len(names))
	var sc storedCheckpoint
	var name, text string
	_, err = pgx.ForEachRow(rows, []any{&name, &text, &sc.hash, &sc.applied, &sc.updatedAt}, func() error {
		pos, err := eventlog.ParsePosition(text)
		if err != nil {
			return fmt.Errorf("checkpoint of %s: %w", name, err)
		}
		sc.pos = pos
		out[name] = sc
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read projection checkpoints: %w", err)
	}
	return out, nil
}

type storedCheckpoint struct {
	checkpoint
	updatedAt time.Time
}
