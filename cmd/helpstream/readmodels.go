package main

import (
	"context"
	"github.com/helpstream/helpstream/adapters/postgres/readmodels"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/directory"
	"github.com/helpstream/helpstream/projections/requestdetails"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// readModels lists the read models every runner keeps, `projections rebuild` rebuilds and
// `projections status` reports: the directory (R2's access and availability, portals), the
// request list (R3, R4) and the request details (R14).
func readModels() []projections.Projection {
	return []projections.Projection{
		directory.NewProjection(),
		requestlist.NewProjection(),
		requestdetails.NewProjection(),
	}
}

// withReadModels makes the application answer its queries from the read models in pool: the
// list, the details, portals, companies and technicians. Read-your-writes waits for the
// checkpoints of all three read models: explicitly with min_position, and implicitly for this
// process's own writes (ReadOwnWrites, as the in-memory catalog did), both bounded.
func withReadModels(cfg app.Config, pool *pgxpool.Pool) app.Config {
	cfg.RequestList = readmodels.NewRequestList(pool)
	cfg.RequestDetails = readmodels.NewDetails(pool)
	cfg.Directory = readmodels.NewDirectory(pool)
	cfg.ReadOwnWrites = true
	names := make([]string, 0, 3)
	for _, p := range readModels() {
		names = append(names, p.Name())
	}
	cfg.WaitFor = func(ctx context.Context, pos eventlog.Position) (bool, error) {
		return projections.WaitFor(ctx, pool, names, pos, app.MaxProjectionWait)
	}
	return cfg
}
