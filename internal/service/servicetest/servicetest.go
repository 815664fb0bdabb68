// Package servicetest starts the whole service for a test, exactly as `helpstream serve`
// puts it together (internal/service), on a fresh PostgreSQL database of its own.
package servicetest

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/projections"
)

// PoolSize is a test service's connection pool: with the runtime's lock and LISTEN
// connections, a test stays near 16 of PostgreSQL's 100, whatever runs beside it.
const PoolSize = 8

// Option changes the Config before the service starts.
type Option func(*service.Config)

// Beside makes the service a second process of first's deployment: the same database and
// files, no projectors of its own (`serve --projectors=false`).
func Beside(first *service.Service) Option {
	return Joining(first.Config().DatabaseURL, first.Config().FilesDir)
}

// Joining makes the service another process on a database and files directory that exist
// already (and outlive it), without projectors of its own.
func Joining(databaseURL, filesDir string) Option {
	return func(c *service.Config) {
		c.DatabaseURL, c.FilesDir, c.Projectors = databaseURL, filesDir, false
	}
}

// New starts a service on a fresh database, with its projectors and live updates running, and
// returns once every read model is built, so that every query has its tables. The test's end
// stops it and drops the database.
func New(tb testing.TB, options ...Option) *service.Service {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := service.Config{
		PoolSize: PoolSize, FilesDir: tb.TempDir(), Projectors: true,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	for _, o := range options {
		o(&cfg)
	}
	drop := func() error { return nil }
	if cfg.DatabaseURL == "" {
		url, dropDatabase, err := pgtest.CreateDatabase(ctx)
		if err != nil {
			tb.Fatalf("create test database: %v", err)
		}
		cfg.DatabaseURL, drop = url, dropDatabase
	}
	svc, err := service.New(ctx, cfg)
	if err != nil {
		_ = drop()
		tb.Fatalf("start the service: %v", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { defer close(stopped); _ = svc.Run(runCtx) }()
	tb.Cleanup(func() {
		stop()
		<-stopped
		svc.Close()
		if err := drop(); err != nil {
			tb.Errorf("test database (scan for secrets, drop): %v", err)
		}
	})
	if cfg.Projectors {
		WaitUntilBuilt(tb, svc)
	}
	return svc
}

// WaitUntilBuilt waits until a runner leads and has built every read model of svc.
func WaitUntilBuilt(tb testing.TB, svc *service.Service) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, err := projections.Status(context.Background(), svc.Pool, svc.Store, svc.ReadModels)
		if err != nil {
			tb.Fatalf("read the projections' status: %v", err)
		}
		built := 0
		for _, s := range status {
			if s.Built && s.Leader {
				built++
			}
		}
		if built == len(status) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the runner has not built the read models: %+v", status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
