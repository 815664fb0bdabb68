package projections

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/dbsession"
)

// comparePrefix starts the name of the schema a comparison folds into: verify_<name>, beside
// (and apart from) a rebuild's rebuild_<name>.
const comparePrefix = "verify_"

// DefaultMaxRowsPerTable is CompareOptions.MaxRows's default.
const DefaultMaxRowsPerTable = 100

// CompareOptions tune a Comparer. The zero value takes every default.
type CompareOptions struct {
	// MaxRows caps the rows reported of one table; past it, one difference says more rows
	// differ. Default 100.
	MaxRows int
	// BatchSize is how many events one read of the log takes. Default DefaultCatchUpBatch.
	BatchSize int
	// Logger receives the comparison's progress. Default slog.Default().
	Logger *slog.Logger
}

// Comparer compares read models with a fresh fold of the log: an auditor's check that no row
// was changed behind the projector's back (and that the projection folds the same way twice).
//
// For each projection it builds the tables again in a scratch schema, verify_<name>, beside the
// live ones, the way Rebuild does, up to the live checkpoint. Then, in one snapshot of the live
// tables and their checkpoint (a REPEATABLE READ transaction, which holds no lock the projector
// waits for), it folds into the scratch tables what the projector applied since, and diffs live
// and fresh rows both ways (EXCEPT ALL), naming each row by its primary key. It drops the
// scratch schema afterwards and changes nothing live.
type Comparer struct {
	pool       *pgxpool.Pool
	store      eventlog.Store
	projectors []*projector
	opts       CompareOptions
}

// NewComparer returns a Comparer of the projections ps, whose live tables are in pool's
// database and whose log is store.
func NewComparer(pool *pgxpool.Pool, store eventlog.Store, ps []Projection, opts CompareOptions) (*Comparer, error) {
	if pool == nil || store == nil {
		return nil, errors.New("compare read models: nil pool or store")
	}
	if opts.MaxRows < 0 || opts.BatchSize < 0 {
		return nil, errors.New("compare read models: negative option")
	}
	opts.MaxRows = cmp.Or(opts.MaxRows, DefaultMaxRowsPerTable)
	opts.BatchSize = cmp.Or(opts.BatchSize, DefaultCatchUpBatch)
	opts.Logger = cmp.Or(opts.Logger, slog.Default())
	c := &Comparer{pool: pool, store: store, opts: opts}
	for _, p := range ps {
		pr, err := newProjector(p)
		if err != nil {
			return nil, fmt.Errorf("compare read models: %w", err)
		}
		c.projectors = append(c.projectors, pr)
	}
	return c, nil
}

// Difference is a read model's row that differs from a fresh fold of the log, or, when Row is
// empty, something about a whole table or read model.
type Difference struct {
	Projection string
	Table      string
	// Row names the row by its primary key, "id=…" or "(request_id, version)=(…, 3)".
	Row string
	// How says what differs, in words.
	How string
}

// Compare compares every projection and returns the differences, sorted by table and row, and
// the number of tables compared.
func (c *Comparer) Compare(ctx context.Context) ([]Difference, int, error) {
	var all []Difference
	tables := 0
	for _, pr := range c.projectors {
		diffs, n, err := c.compare(ctx, pr)
		if err != nil {
			return all, tables, fmt.Errorf("compare %s with a fresh fold: %w", pr.name, err)
		}
		all, tables = append(all, diffs...), tables+n
	}
	return all, tables, nil
}

// CompareWithFold is Compare for an auditor's verification (verify.Projections): each
// difference is passed to differs.
func (c *Comparer) CompareWithFold(ctx context.Context, differs func(table, row, how string)) (int, error) {
	diffs, tables, err := c.Compare(ctx)
	for _, d := range diffs {
		differs(d.Table, d.Row, d.How)
	}
	return tables, err
}

// compare compares one projection; see Comparer.
func (c *Comparer) compare(ctx context.Context, pr *projector) (diffs []Difference, tables int, err error) {
	started := time.Now()
	log := c.opts.Logger.With("projection", pr.name)
	session := map[string]string{"application_name": "helpstream verify " + pr.name}
	maps.Copy(session, rebuildSession)
	conn, err := dbsession.Open(ctx, c.pool, session)
	if err != nil {
		return nil, 0, fmt.Errorf("connect: %w", err)
	}
	defer dbsession.Close(conn)
	// Comparisons of one projection share its scratch schema: one at a time.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey("helpstream.projection-verify."+pr.name)); err != nil {
		return nil, 0, fmt.Errorf("wait for other comparisons: %w", err)
	}
	whole := func(how string) []Difference {
		return []Difference{{Projection: pr.name, Table: pr.name, How: how}}
	}
	live, found, err := readCheckpoint(ctx, conn, pr.name)
	switch {
	case err != nil:
		return nil, 0, err
	case !found || live.hash == "":
		return whole("the read model was never built: there is nothing to compare"), 0, nil
	case live.hash != pr.hash:
		return whole("its tables were built by another version of the projection: rebuild it, then compare"), 0, nil
	}

	b := &rebuilder{pool: c.pool, store: c.store, pr: pr, log: log, scratch: comparePrefix + pr.name, conn: conn, until: &live.pos,
		opts: RebuildOptions{BatchSize: c.opts.BatchSize, MaxHeldRows: DefaultMaxHeldRows, Logger: c.opts.Logger}}
	scratch := pgx.Identifier{b.scratch}.Sanitize()
	defer func() {
		if conn.IsClosed() {
			return
		}
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, derr := conn.Exec(dctx, "DROP SCHEMA IF EXISTS "+scratch+" CASCADE"); derr != nil {
			log.WarnContext(ctx, "compare: cannot drop the scratch schema; the next comparison will", "schema", b.scratch, "error", derr)
		}
	}()
	res, err := b.load(ctx)
	var unreadable *readError
	if err != nil && ctx.Err() == nil && !conn.IsClosed() && !Transient(err) && !errors.As(err, &unreadable) {
		b.careful = true // as Rebuild: apply page by page, parking what cannot be applied
		res, err = b.load(ctx)
	}
	if err != nil {
		return nil, 0, err
	}

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadWrite})
	if err != nil {
		return nil, 0, fmt.Errorf("begin: %w", err)
	}
	defer dbsession.Rollback(ctx, tx) // the scratch tables go with the schema
	now, found, err := readCheckpoint(ctx, tx, pr.name)
	switch {
	case err != nil:
		return nil, 0, err
	case !found || now.hash != pr.hash:
		return whole("the read model was rebuilt while it was compared: compare again"), 0, nil
	case now.pos.Compare(res.Position) < 0:
		return whole(fmt.Sprintf("its checkpoint moved back from %s to %s while it was compared: compare again", res.Position, now.pos)), 0, nil
	}
	if err := c.catchUp(ctx, tx, b, res.Position, now.pos); err != nil {
		return nil, 0, err
	}
	for _, table := range pr.tables {
		d, err := c.diffTable(ctx, tx, pr, b.scratch, table)
		if err != nil {
			return nil, 0, err
		}
		diffs = append(diffs, d...)
	}
	log.InfoContext(ctx, "compare: compared with a fresh fold", "position", now.pos.String(), "differences", len(diffs),
		"took", time.Since(started).Round(time.Millisecond))
	return diffs, len(pr.tables), nil
}

// readCheckpoint reads a projection's checkpoint without locking it.
func readCheckpoint(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, name string,
) (checkpoint, bool, error) {
	var cp checkpoint
	var text string
	err := q.QueryRow(ctx, `SELECT position, schema_hash FROM public.projection_checkpoints WHERE name = $1`, name).Scan(&text, &cp.hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return cp, false, nil
	}
	if err != nil {
		return cp, false, fmt.Errorf("read the checkpoint of %s: %w", name, err)
	}
	if cp.pos, err = eventlog.ParsePosition(text); err != nil {
		return cp, false, fmt.Errorf("checkpoint of %s: %w", name, err)
	}
	return cp, true, nil
}

// catchUp applies the log after from up to until to the scratch tables inside tx, reading what
// the live projector was delivered when ReadAll holds it back (as the swap of a rebuild does).
func (c *Comparer) catchUp(ctx context.Context, tx pgx.Tx, b *rebuilder, from, until eventlog.Position) error {
	delivered, _ := c.store.(eventlog.DeliveredReader)
	for from.Compare(until) < 0 {
		page, err := c.store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: c.opts.BatchSize})
		if err == nil && len(page) == 0 && delivered != nil {
			page, err = delivered.ReadDelivered(ctx, from, until, eventlog.ReadOptions{Limit: c.opts.BatchSize})
		}
		if err != nil {
			return fmt.Errorf("read the log after %s: %w", from, err)
		}
		if i := slices.IndexFunc(page, func(e eventlog.RecordedEvent) bool { return e.Position.Compare(until) > 0 }); i >= 0 {
			page = page[:i]
		}
		if len(page) == 0 {
			return fmt.Errorf("the log read ended at %s, before the live checkpoint %s", from, until)
		}
		if _, err := applyParking(ctx, tx, b.pr.p, page, b.park); err != nil {
			return fmt.Errorf("apply %d events after %s: %w", len(page), from, err)
		}
		from = page[len(page)-1].Position
	}
	return nil
}

// diffTable diffs a live table with its fresh fold, both ways, and names each row that differs.
func (c *Comparer) diffTable(ctx context.Context, tx pgx.Tx, pr *projector, scratch, table string) ([]Difference, error) {
	liveName, freshName := pgx.Identifier{liveSchema, table}.Sanitize(), pgx.Identifier{scratch, table}.Sanitize()
	var columns, keys []string
	err := tx.QueryRow(ctx, `SELECT
		(SELECT coalesce(array_agg(attname::text ORDER BY attnum), '{}') FROM pg_attribute
		 WHERE attrelid = to_regclass($2) AND attnum > 0 AND NOT attisdropped),
		(SELECT coalesce(array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum)), '{}')
		 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
		 WHERE i.indrelid = to_regclass($1) AND i.indisprimary)`, liveName, freshName).Scan(&columns, &keys)
	if err != nil {
		return nil, fmt.Errorf("%s: read its columns: %w", table, err)
	}
	if len(columns) == 0 {
		return nil, fmt.Errorf("%s: the fresh fold has no such table", table)
	}
	list := make([]string, len(columns))
	for i, col := range columns {
		list[i] = pgx.Identifier{col}.Sanitize()
	}
	cols := strings.Join(list, ", ")
	if len(keys) == 0 {
		keys = columns // no primary key: a row is named by all it holds
	}
	var on, order []string
	for _, k := range keys {
		id := pgx.Identifier{k}.Sanitize()
		on = append(on, "l."+id+" = f."+id)
		order = append(order, "coalesce(l."+id+", f."+id+")")
	}
	// Rows only live and rows only fresh, paired by key: a row that differs is one of each.
	rows, err := tx.Query(ctx, fmt.Sprintf(`WITH l AS (SELECT %[1]s FROM %[2]s EXCEPT ALL SELECT %[1]s FROM %[3]s),
		f AS (SELECT %[1]s FROM %[3]s EXCEPT ALL SELECT %[1]s FROM %[2]s)
		SELECT to_jsonb(l)::text, to_jsonb(f)::text FROM l FULL JOIN f ON %[4]s ORDER BY %[5]s LIMIT %[6]d`,
		cols, liveName, freshName, strings.Join(on, " AND "), strings.Join(order, ", "), c.opts.MaxRows+1))
	if err != nil {
		return nil, fmt.Errorf("%s: diff: %w", table, err)
	}
	type pair struct{ live, fresh *string }
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		return p, r.Scan(&p.live, &p.fresh)
	})
	if err != nil {
		return nil, fmt.Errorf("%s: diff: %w", table, err)
	}
	decode := func(text *string) (map[string]json.RawMessage, error) {
		if text == nil {
			return nil, nil
		}
		var row map[string]json.RawMessage
		return row, json.Unmarshal([]byte(*text), &row)
	}
	key := func(row map[string]json.RawMessage) string {
		values := make([]string, len(keys))
		for i, k := range keys {
			values[i] = plain(row[k])
		}
		if len(keys) == 1 {
			return keys[0] + "=" + values[0]
		}
		return "(" + strings.Join(keys, ", ") + ")=(" + strings.Join(values, ", ") + ")"
	}
	var diffs []Difference
	add := func(row, how string) {
		diffs = append(diffs, Difference{Projection: pr.name, Table: table, Row: row, How: how})
	}
	for i, p := range pairs {
		if i == c.opts.MaxRows {
			add("", fmt.Sprintf("more rows differ than the first %d listed", c.opts.MaxRows))
			break
		}
		live, err := decode(p.live)
		if err != nil {
			return nil, fmt.Errorf("%s: read a row: %w", table, err)
		}
		fresh, err := decode(p.fresh)
		if err != nil {
			return nil, fmt.Errorf("%s: read a row: %w", table, err)
		}
		switch {
		case fresh == nil:
			add(key(live), "the row is not in a fresh fold")
		case live == nil:
			add(key(fresh), "the row is missing: a fresh fold has it")
		default:
			var changed []string
			for _, col := range columns {
				if string(live[col]) != string(fresh[col]) {
					changed = append(changed, fmt.Sprintf("%s is %s, a fresh fold gives %s", col, plain(live[col]), plain(fresh[col])))
				}
			}
			add(key(live), strings.Join(changed, "; "))
		}
	}
	return diffs, nil
}

// plain renders a JSON value for a person: a string without its quotes.
func plain(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	if len(v) == 0 {
		return "null"
	}
	return string(v)
}
