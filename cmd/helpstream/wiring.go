package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

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
	// The command path's aggregate cache and its patience with other processes.
	cacheStreams *int
	cacheBytes   *int64
	conflictWait *time.Duration
	authCache    *time.Duration
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
		cacheStreams: fs.Int("cache-streams", app.DefaultCachedStreams, "streams (requests, technicians, companies) whose state commands keep in memory between commands, least recently used out first; -1 keeps none"),
		cacheBytes:   fs.Int64("cache-bytes", app.DefaultCachedBytes, "bytes those cached states may take, roughly; -1 keeps none"),
		authCache:    fs.Duration("auth-cache", app.DefaultAuthCacheTTL, "how long a session or customer token looked up is trusted before the database is asked again; sessions ended on another server stop working here within it; 0 asks every time"),
		conflictWait: fs.Duration("conflict-wait", app.DefaultConflictWait, "how long a command keeps deciding again after other processes wrote to its streams first, before answering 409 (a request's own deadline, when shorter, wins)"),
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
	if f.cacheStreams != nil {
		cfg.CachedStreams, cfg.CachedBytes, cfg.ConflictWait = *f.cacheStreams, *f.cacheBytes, *f.conflictWait
	}
	if f.readModels != nil && *f.readModels {
		cfg = withReadModels(cfg, pool)
	}
	a, err := app.New(cfg)
	if err != nil {
		closeStores()
		return nil, err
	}
	creds := credentials.New(pool)
	accounts := app.NewAccounts(a, creds, 0)
	if f.authCache != nil {
		accounts = accounts.WithAuthCache(*f.authCache)
	}
	return &services{
		pool: pool, store: store, creds: creds, app: a,
		accounts: accounts,
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

// commandCollector exposes the command path's counters and aggregate cache on /metrics.
func commandCollector(a *app.App) prometheus.Collector {
	return commandMetrics{app: a}
}

type commandMetrics struct{ app *app.App }

var (
	commandsDesc       = prometheus.NewDesc("helpstream_commands_total", "Commands decided (accepted or refused by the domain).", nil, nil)
	commandAppendsDesc = prometheus.NewDesc("helpstream_command_appends_total", "Appends that stored commands; commands queued on one stream share one.", nil, nil)
	conflictsDesc      = prometheus.NewDesc("helpstream_command_conflicts_total", "Appends another process won; the commands were decided again on the tails read.", nil, nil)
	cachedStreamsDesc  = prometheus.NewDesc("helpstream_aggregate_cache_streams", "Streams whose state the command path keeps in memory.", nil, nil)
	cachedBytesDesc    = prometheus.NewDesc("helpstream_aggregate_cache_bytes", "Rough size of the cached states, in bytes.", nil, nil)
)

func (m commandMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{commandsDesc, commandAppendsDesc, conflictsDesc, cachedStreamsDesc, cachedBytesDesc} {
		ch <- d
	}
}

func (m commandMetrics) Collect(ch chan<- prometheus.Metric) {
	s := m.app.CommandStats()
	ch <- prometheus.MustNewConstMetric(commandsDesc, prometheus.CounterValue, float64(s.Commands))
	ch <- prometheus.MustNewConstMetric(commandAppendsDesc, prometheus.CounterValue, float64(s.Appends))
	ch <- prometheus.MustNewConstMetric(conflictsDesc, prometheus.CounterValue, float64(s.Conflicts))
	ch <- prometheus.MustNewConstMetric(cachedStreamsDesc, prometheus.GaugeValue, float64(s.CachedStreams))
	ch <- prometheus.MustNewConstMetric(cachedBytesDesc, prometheus.GaugeValue, float64(s.CachedBytes))
}
