package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/helpstream/helpstream/adapters/eventstore/kurrent"
	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/jackc/pgx/v5/pgxpool"
)

// eventStorePoolSize is the connection pool of a PostgreSQL event store when its URL does not
// set pool_max_conns: enough for the 32 concurrent writers of the quality bars.
const eventStorePoolSize = 32

// OpenEventStore opens the event store a URL names, by its scheme:
//
//	postgres://… or postgresql://…   PostgreSQL: the database is created if missing and migrated
//	esdb://host:2113?tls=false        KurrentDB / EventStoreDB (also esdb+discover://, kurrentdb://,
//	                                  kurrentdb+discover://)
//
// It returns the store and a function that closes it.
func OpenEventStore(ctx context.Context, rawURL string) (eventlog.Store, func(), error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, nil, fmt.Errorf("event store %q: want a URL such as postgres://… or esdb://host:2113?tls=false", kurrent.Redact(rawURL))
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		pool, store, err := OpenPostgresEventStore(ctx, rawURL, eventStorePoolSize, pgstore.Config{})
		if err != nil {
			return nil, nil, fmt.Errorf("event store %s: %w", kurrent.Redact(rawURL), err)
		}
		return store, func() { store.Close(); pool.Close() }, nil
	default:
		if !kurrent.IsURL(rawURL) {
			return nil, nil, fmt.Errorf("event store %s: unknown scheme %q (want postgres, postgresql, %s)",
				kurrent.Redact(rawURL), scheme, strings.Join(kurrent.Schemes, ", "))
		}
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		store, err := kurrent.Open(ctx, rawURL)
		if err != nil {
			return nil, nil, err
		}
		return store, func() { _ = store.Close() }, nil
	}
}

// OpenPostgresEventStore opens the database at url as OpenDatabase does (created and migrated
// if needed, a pool of the URL's pool_max_conns connections or else defaultConns) and a
// PostgreSQL event store of cfg on it. The caller closes the store, then the pool.
func OpenPostgresEventStore(ctx context.Context, url string, defaultConns int32, cfg pgstore.Config) (*pgxpool.Pool, *pgstore.Store, error) {
	pool, err := OpenDatabase(ctx, url, defaultConns)
	if err != nil {
		return nil, nil, err
	}
	store, err := pgstore.New(pool, cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return pool, store, nil
}
