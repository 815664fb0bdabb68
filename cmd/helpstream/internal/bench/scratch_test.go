package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// scratch is what each measurement of these tests runs on: the service on a fresh database,
// with its event store and application, all closed when the test ends.
type scratch struct {
	ctx   context.Context
	svc   *service.Service
	pool  *pgxpool.Pool
	store *pgstore.Store
	app   *app.App
}

// newScratch skips the test in -short mode, since it measures for seconds (skipReason says
// what it does), and otherwise starts a scratch service whose context ends after timeout.
// Options change the service's Config: a measurement that runs projectors of its own turns the
// service's off.
func newScratch(t *testing.T, skipReason string, timeout time.Duration, options ...servicetest.Option) scratch {
	t.Helper()
	if testing.Short() {
		t.Skip(skipReason)
	}
	svc := servicetest.New(t, options...)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel) // before the service stops: what runs on ctx stops first
	return scratch{ctx: ctx, svc: svc, pool: svc.Pool, store: svc.Store.(*pgstore.Store), app: svc.App}
}

// withoutProjectors leaves the read models to the measurement's own runner.
func withoutProjectors(c *service.Config) { c.Projectors = false }

// count returns the number a SELECT count(*) query answers.
func (s scratch) count(t *testing.T, query string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(s.ctx, query).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
