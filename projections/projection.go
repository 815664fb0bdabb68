// Package projections builds Helpstream's read models: PostgreSQL tables folded from the event
// log, each kept by one active projector that writes its checkpoint in the same transaction as
// its rows, so that a crash never loses or doubles an event's effect.
package projections

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Projection turns events into rows of the tables it owns.
//
// A projection's SQL names its tables without a schema. The runner applies live batches with
// search_path set to the live schema (public) and rebuilds with search_path set to a scratch
// schema, then moves the rebuilt tables into public in one transaction; so one Apply serves
// both, and queries keep reading public.
//
// What the runtime (Runner, Rebuild) relies on:
//   - The rebuild's search_path is "rebuild_<name>, public": the scratch tables come first, and
//     public stays reachable for extensions' types and operator classes only. Apply must touch
//     no table besides its own.
//   - Schema creates exactly the tables of Tables() (with their indexes, constraints and owned
//     sequences), nothing else: no types, functions or views, which would not move with the
//     tables, and no foreign keys to another projection's tables. Rebuild checks the tables.
//   - The checkpoint row's schema_hash is SchemaHash (SHA-256 of Schema()): changing Schema
//     makes the next leader rebuild the tables side by side before it applies anything.
//   - Apply receives each event exactly once in effect: a batch whose transaction fails is
//     rolled back with the checkpoint and applied again. It may run on a pooled connection
//     (live) or a dedicated one (rebuild), and must not commit or roll back tx itself.
//   - Apply may be given any part of a batch, inside a savepoint: when it fails for a reason of
//     the events' own (not Transient), the runtime rolls back to the savepoint and applies the
//     halves of the batch apart, down to the single event that fails alone, which it parks
//     (ParkedEvent) with the later events of its stream. Apply must therefore leave nothing
//     outside tx that a rollback would not undo. Every string it writes should go through Text,
//     so that no text in the log can make it fail.
type Projection interface {
	// Name identifies the projection: its checkpoint row, its advisory lock, its metrics
	// ("request_list"). Lower-case letters, digits and underscores.
	Name() string
	// Tables lists the tables the projection owns, unqualified, all created by Schema.
	Tables() []string
	// Schema is the DDL that creates the tables and their indexes, unqualified and without
	// IF NOT EXISTS: it runs once in an empty schema.
	Schema() string
	// Apply folds a batch of events, in global order, into the tables, inside tx. It must use
	// multi-row statements (or COPY), not one statement per event, and must ignore event types
	// it does not know.
	Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.RecordedEvent) error
}

// BulkLoader is implemented by a projection whose rebuild can fold the log in memory and write
// each row once, with COPY, instead of applying page after page to rows it wrote a page earlier:
// that rewriting, not the reading of the log, is what makes a page-by-page rebuild slow.
type BulkLoader interface {
	Projection
	// NewBulkLoad starts a load into empty tables. Rebuild uses one load per rebuild.
	NewBulkLoad() BulkLoad
	// CopyOnlyTables names the tables of Tables() that a load only writes with COPY, never
	// upserting into them: Rebuild drops their primary keys and unique constraints for the load
	// and adds them back after it, as it builds every other index after it. The Apply of late
	// events (see BulkLoad.Fold) runs without those keys and must need them for speed only;
	// when a rebuild goes on with Apply (see RebuildOptions.MaxHeldRows), the keys are added
	// back first.
	CopyOnlyTables() []string
}

// BulkLoad folds the log, from its start, into a rebuild's empty tables.
//
// Rebuild calls Fold with each page of the log in order, and runs the writes it returns in that
// order, each in a transaction of its own, while the next pages are read and folded: a write
// must not share state that later Folds change. At the end of the log, or when Held passes
// RebuildOptions.MaxHeldRows, it runs the write of Rest and applies the rest of the log with
// the projection's Apply, so the tables must then hold exactly what Apply would have left after
// the same events.
type BulkLoad interface {
	// Fold folds a page of events, in global order, in memory, and returns the write of what
	// is final now (rows no later event can change, in practice those of closed requests),
	// which the load then forgets, followed by the Apply of any event that came for a row
	// already written. It must ignore event types it does not know, as Apply does.
	//
	// When it cannot fold one event (its payload does not decode), it returns an error that
	// wraps an *EventError naming it, having folded the events before it and none after it:
	// the rebuild parks that event and calls Fold again with the rest of the page. Any other
	// error, and any failure of a write, makes the rebuild start again without the bulk load.
	Fold(batch []eventlog.RecordedEvent) (BulkWrite, error)
	// Held is the number of rows the load keeps in memory for a later write: what bounds its
	// memory.
	Held() int
	// Rest returns the write of every row the load holds. The load is done afterwards.
	Rest() BulkWrite
}

// BulkWrite writes part of a bulk load inside tx.
type BulkWrite func(ctx context.Context, tx pgx.Tx) error
