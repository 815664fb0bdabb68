package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

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

func addStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{
		databaseURL: fs.String("database-url", envOr("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL for projections and secrets, and the default event store (env DATABASE_URL)"),
		eventStore:  fs.String("event-store", envOr("HELPSTREAM_EVENT_STORE", ""), "event store URL: postgres://… or esdb://host:2113?tls=false; default: the database (env HELPSTREAM_EVENT_STORE)"),
		filesDir:    fs.String("files-dir", envOr("HELPSTREAM_FILES_DIR", "data/files"), "directory for shared files (env HELPSTREAM_FILES_DIR)"),
		maxFileSize: fs.Int64("max-file-size", app.DefaultMaxFileSize, "largest file a chat accepts, in bytes"),
		readModels: fs.Bool("read-models", strings.HasSuffix(fs.Name(), " serve"),
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
	pool, err := openDatabase(ctx, *f.databaseURL, 64)
	if err != nil {
		return nil, err
	}
	storeURL := *f.eventStore
	if storeURL == "" {
		storeURL = *f.databaseURL
	}
	var store eventlog.Store
	var closeStore func()
	if storeURL == *f.databaseURL {
		// One database for both: share the pool rather than open a second one.
		pg, err := pgstore.New(pool, pgstore.Config{})
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open event store: %w", err)
		}
		store, closeStore = pg, pg.Close
	} else if store, closeStore, err = openEventStore(ctx, storeURL); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open event store: %w", err)
	}
	files, err := filestore.New(*f.filesDir)
	if err != nil {
		closeStore()
		pool.Close()
		return nil, fmt.Errorf("open file store: %w", err)
	}
	cfg := app.Config{Store: store, Files: files, MaxFileSize: *f.maxFileSize}
	if f.readModels != nil && *f.readModels {
		cfg = withReadModels(cfg, pool)
	}
	a, err := app.New(cfg)
	if err != nil {
		closeStore()
		pool.Close()
		return nil, err
	}
	creds := credentials.New(pool)
	return &services{
		pool: pool, store: store, creds: creds, app: a,
		accounts: app.NewAccounts(a, creds, 0),
		close: func() {
			closeStore()
			pool.Close()
		},
	}, nil
}
