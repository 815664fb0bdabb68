// Package pgtest gives each test its own PostgreSQL database on the local server, so test
// packages running in parallel never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/schema"
)

// AdminURL is the server tests create their databases on; HELPSTREAM_TEST_DATABASE_URL overrides it.
func AdminURL() string {
	if u := os.Getenv("HELPSTREAM_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewDatabase creates an empty database, migrated to the current schema, and drops it when the
// test ends. It returns a pool on it and its connection URL.
func NewDatabase(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	url, drop, err := CreateDatabase(ctx)
	if err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatalf("parse test database URL: %v", err)
	}
	cfg.MaxConns = 8 // see servicetest.PoolSize: two test packages, each two tests at once, stay far below PostgreSQL's 100
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatalf("connect to test database: %v", err)
	}
	tb.Cleanup(func() {
		pool.Close()
		if err := drop(); err != nil {
			tb.Errorf("test database: %v", err)
		}
	})
	if _, err := schema.Migrate(ctx, pool); err != nil {
		tb.Fatalf("migrate test database: %v", err)
	}
	return pool, url
}

// CreateDatabase creates an empty, unmigrated database named helpstream_test_<random> and returns
// its URL and a function that drops it.
//
// Before it drops the database, that function scans every event in it for every secret the
// database keeps outside the log (ScanDatabase) and returns ErrSecretInLog, naming the events,
// when one is there: every test database goes through here (NewDatabase, servicetest, the
// commands' tests), so the whole test run's flows are checked against design §6.
func CreateDatabase(ctx context.Context) (string, func() error, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("random database name: %w", err)
	}
	name := "helpstream_test_" + hex.EncodeToString(b[:])
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", AdminURL(), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	cfg, err := pgx.ParseConfig(AdminURL())
	if err != nil {
		return "", nil, fmt.Errorf("parse %s: %w", AdminURL(), err)
	}
	url := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		_, scanErr := ScanDatabase(ctx, url)
		if err := dropDatabase(ctx, name); err != nil {
			return errors.Join(scanErr, err)
		}
		return scanErr
	}
	return url, drop, nil
}

// dropDatabase drops the test database name, closing the connections still on it.
func dropDatabase(ctx context.Context, name string) error {
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return fmt.Errorf("connect to drop %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}
