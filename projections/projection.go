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
