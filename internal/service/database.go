package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"runtime"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/schema"
)

// EnsureDatabase creates the URL's database when it does not exist yet, so that the first
// `helpstream serve` on a fresh machine needs nothing done by hand.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := ConnConfig(url)
	if err != nil {
		return err
	}
	name := cfg.Database
	if name == "" || name == "postgres" {
		return nil
	}
	conn, err := connectMaintenance(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look for database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	slog.InfoContext(ctx, "database created", "name", name)
	return nil
}

// DropDatabase drops the URL's database, ending the sessions still on it; one that does not
// exist is no error.
func DropDatabase(ctx context.Context, url string) error {
	cfg, err := ConnConfig(url)
	if err != nil {
		return err
	}
	conn, err := connectMaintenance(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{cfg.Database}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", cfg.Database, err)
	}
	return nil
}

// connectMaintenance connects with cfg's settings to the database postgres of cfg's server,
// where databases are created and dropped.
func connectMaintenance(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	maintenance := cfg.Copy()
	maintenance.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, maintenance)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// ConnConfig is the URL's connection settings for a single connection: pgx's pool parameters
// (pool_max_conns, pool_min_conns, pool_max_conn_lifetime, …) are read by pgxpool and taken
// out, where pgx.ParseConfig would send them to the server as settings it refuses.
func ConnConfig(url string) (*pgx.ConnConfig, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	return cfg.ConnConfig, nil
}

// Pool sizes when the URL does not set pool_max_conns: they follow the machine, since what a
// pool can keep busy is the server's cores (this machine's, when PostgreSQL runs beside the
// server, as by default), and PostgreSQL's max_connections (100 by default) is shared by
// every process. A server gets 16 connections per core (32 on 2 cores): its commands, queries,
// live updates and projectors; a process that only runs projections or the stream gets 4 per
// core.
func ServerPoolSize() int32 { return int32(16 * runtime.NumCPU()) }
func WorkerPoolSize() int32 { return int32(max(4, 4*runtime.NumCPU())) }

// OpenDatabase creates the database if needed, connects and migrates it, with a pool of the
// URL's pool_max_conns connections or else defaultConns.
func OpenDatabase(ctx context.Context, url string, defaultConns int32) (*pgxpool.Pool, error) {
	pool, _, err := OpenAndMigrate(ctx, url, defaultConns)
	return pool, err
}

// OpenAndMigrate is OpenDatabase that also says how many migrations it applied.
func OpenAndMigrate(ctx context.Context, url string, defaultConns int32) (*pgxpool.Pool, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := EnsureDatabase(ctx, url); err != nil {
		return nil, 0, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, 0, fmt.Errorf("parse database URL: %w", err)
	}
	if defaultConns > 0 && !setsPoolParam(url, "pool_max_conns") {
		cfg.MaxConns = defaultConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("connect to database: %w", err)
	}
	applied, err := schema.Migrate(ctx, pool)
	if err != nil {
		pool.Close()
		return nil, 0, err
	}
	return pool, applied, nil
}

// setsPoolParam reports whether a database URL (postgres://… or key=value form) sets param.
func setsPoolParam(raw, param string) bool {
	if u, err := neturl.Parse(raw); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return u.Query().Has(param)
	}
	for _, field := range strings.Fields(raw) {
		if k, _, ok := strings.Cut(field, "="); ok && k == param {
			return true
		}
	}
	return false
}
