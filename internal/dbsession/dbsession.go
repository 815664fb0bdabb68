// Package dbsession opens PostgreSQL sessions of their own beside a pool, for work that must
// not share a pooled connection (a leader's advisory lock, a rebuild's search_path), and ends
// transactions whatever state their context is in.
package dbsession

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Open opens a connection outside pool with pool's settings and the run-time parameters
// params (application_name, search_path…). Ending ctx while a statement runs closes the
// connection at once instead of sending a cancel request: its users drop the connection then
// anyway.
func Open(ctx context.Context, pool *pgxpool.Pool, params map[string]string) (*pgx.Conn, error) {
	if pool == nil {
		return nil, errors.New("dbsession: nil pool")
	}
	cfg := pool.Config().ConnConfig.Copy()
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	for k, v := range params {
		cfg.RuntimeParams[k] = v
	}
	return pgx.ConnectConfig(ctx, cfg)
}

// Close closes conn, waiting a second at most for the server to hear it; nil is closed.
func Close(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// Rollback ends tx if it is still open, even when ctx has ended (bounded to 5 s); after a
// commit, or on a dead connection, there is nothing to roll back and it does nothing.
func Rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx)
}
