package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/app"
)

// scratch is what each measurement of these tests runs on: a fresh migrated database, its
// event store and the application over it, all closed when the test ends.
type scratch struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	store *pgstore.Store
	app   *app.App
}

// newScratch skips the test in -short mode, since it measures for seconds (skipReason says
// what it does), and otherwise opens a scratch whose context ends after timeout.
func newScratch(t *testing.T, skipReason string, timeout time.Duration) scratch {
	t.Helper()
	if testing.Short() {
		t.Skip(skipReason)
	}
	pool, _ := pgtest.NewDatabase(t)
	store, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel) // before the store closes: what runs on ctx stops first
	return scratch{ctx: ctx, pool: pool, store: store, app: a}
}

// count returns the number a SELECT count(*) query answers.
func (s scratch) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(s.ctx, query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
