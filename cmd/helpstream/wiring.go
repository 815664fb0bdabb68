package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/filestore"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
)

// storeFlags are the flags every command that opens the stores shares.
type storeFlags struct {
	databaseURL *string
	eventStore  *string
	filesDir    *string
	maxFileSize *int64
	readModels  *bool
}

// addStoreFlags adds the flags of the stores; readModelsByDefault is --read-models' default.
func addStoreFlags(fs *flag.FlagSet, readModelsByDefault bool) storeFlags {
	return storeFlags{
		databaseURL: fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL for projections and secrets, and the default event store (env DATABASE_URL)"),
		eventStore:  eventStoreFlag(fs),
		filesDir:    fs.String("files-dir", envOr("HELPSTREAM_FILES_DIR", "data/files"), "directory for shared files (env HELPSTREAM_FILES_DIR)"),
		maxFileSize: fs.Int64("max-file-size", app.DefaultMaxFileSize, "largest file a chat accepts, in bytes"),
		readModels: fs.Bool("read-models", readModelsByDefault,
			"answer queries from the PostgreSQL read models (kept by serve's projectors or `helpstream projections run`) rather than from the log folded in memory; on by default for serve"),
	}
}

// services are the opened stores and the application on them.
type services struct {
	pool     *pgxpool.Pool
	store    eventlog.Store
	creds    *credentials.Store
	app      *app.App
	accounts *app.Accounts
	close    func()
}

func openServices(ctx context.Context, f storeFlags) (*services, error) {
	pool, store, closeStores, err := openStores(ctx, *f.databaseURL, *f.eventStore, serverPoolSize())
	if err != nil {
		return nil, err
	}
	files, err := filestore.New(*f.filesDir)
	if err != nil {
		closeStores()
		return nil, fmt.Errorf("open file store: %w", err)
	}
	cfg := app.Config{Store: store, Files: files, MaxFileSize: *f.maxFileSize}
	if f.readModels != nil && *f.readModels {
		cfg = withReadModels(cfg, pool)
	}
	a, err := app.New(cfg)
	if err != nil {
		closeStores()
		return nil, err
	}
	creds := credentials.New(pool)
	return &services{
		pool: pool, store: store, creds: creds, app: a,
		accounts: app.NewAccounts(a, creds, 0),
		close:    closeStores,
	}, nil
}

// openStores opens the database at databaseURL (created and migrated if needed) with at most
// maxConns connections unless the URL sets pool_max_conns, and the event store at eventStoreURL. When that is empty or the
// database itself, the event store shares the database's pool rather than opening a second
// one. The function returned closes both.
func openStores(ctx context.Context, databaseURL, eventStoreURL string, maxConns int32) (*pgxpool.Pool, eventlog.Store, func(), error) {
	pool, err := openDatabase(ctx, databaseURL, maxConns)
	if err != nil {
		return nil, nil, nil, err
	}
	if eventStoreURL == "" || eventStoreURL == databaseURL {
		pg, err := pgstore.New(pool, pgstore.Config{})
		if err != nil {
			pool.Close()
			return nil, nil, nil, fmt.Errorf("open event store: %w", err)
		}
		return pool, pg, func() { pg.Close(); pool.Close() }, nil
	}
	store, closeStore, err := openEventStore(ctx, eventStoreURL)
	if err != nil {
		pool.Close()
		return nil, nil, nil, fmt.Errorf("open event store: %w", err)
	}
	return pool, store, func() { closeStore(); pool.Close() }, nil
}
