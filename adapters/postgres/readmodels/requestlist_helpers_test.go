package readmodels

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest/listtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections/requestlist"
)

func newDB(t testing.TB) *pgxpool.Pool {
	return listtest.NewDB(t, requestlist.NewProjection().Schema())
}

func apply(t testing.TB, pool *pgxpool.Pool, events []eventlog.RecordedEvent, sizes ...int) {
	t.Helper()
	listtest.Apply(t, pool, requestlist.NewProjection(), events, sizes...)
}
