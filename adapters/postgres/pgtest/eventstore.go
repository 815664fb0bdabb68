package pgtest

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
)

// NewEventStore is NewDatabase with a PostgreSQL event store on it, closed when the test ends
// (before the database is dropped). It returns the store and the database's pool, for the
// tests that also read or write tables beside the event log.
func NewEventStore(tb testing.TB, cfg pgstore.Config) (*pgstore.Store, *pgxpool.Pool) {
	tb.Helper()
	pool, _ := NewDatabase(tb)
	return OpenEventStore(tb, pool, cfg), pool
}

// OpenEventStore opens a PostgreSQL event store on pool, a migrated database, and closes it
// when the test ends.
func OpenEventStore(tb testing.TB, pool *pgxpool.Pool, cfg pgstore.Config) *pgstore.Store {
	tb.Helper()
	store, err := pgstore.New(pool, cfg)
	if err != nil {
		tb.Fatalf("new event store: %v", err)
	}
	tb.Cleanup(store.Close)
	return store
}
