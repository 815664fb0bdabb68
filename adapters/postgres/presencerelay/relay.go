// Package presencerelay passes the console's presence reports between the servers of one
// database with PostgreSQL NOTIFY and LISTEN: each server's hub (adapters/web/presence)
// publishes what it takes and receives what the others took. Nothing is stored; a server that
// was not listening only misses reports that expire within a TTL anyway.
package presencerelay

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/web/presence"
	"github.com/helpstream/helpstream/internal/fault"
)

// Channel is the NOTIFY channel of the reports.
const Channel = "helpstream_presence"

// reconnectDelay is how long the listener waits before it connects again after a failure.
const reconnectDelay = time.Second

// Relay publishes reports with NOTIFY on Pool.
type Relay struct {
	pool *pgxpool.Pool
}

// New returns a Relay on pool.
func New(pool *pgxpool.Pool) *Relay { return &Relay{pool: pool} }

// Publish tells the other servers of r.
func (rl *Relay) Publish(ctx context.Context, r presence.Report) error {
	payload, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode presence report: %w", err)
	}
	if _, err := rl.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Channel, string(payload)); err != nil {
		return fmt.Errorf("notify %s: %w", Channel, err)
	}
	return nil
}

// Listen passes the reports of the other servers to hub until ctx ends, on a connection of its
// own beside the pool, connecting again after a failure.
func (rl *Relay) Listen(ctx context.Context, hub *presence.Hub, log *slog.Logger) {
	outage := fault.NewEpisodes("presence: the LISTEN connection is lost; other servers' consoles are not seen until it is back (reconnecting every second)", log)
	for {
		err := rl.listenOnce(ctx, hub, outage)
		if ctx.Err() != nil {
			return
		}
		outage.Failed(ctx, err, "LISTEN "+Channel)
		fault.Pause(ctx, reconnectDelay)
	}
}

func (rl *Relay) listenOnce(ctx context.Context, hub *presence.Hub, outage *fault.Episodes) error {
	cfg := rl.pool.Config().ConnConfig.Copy()
	// Ending ctx closes the connection anyway: no cancel request needed.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel}.Sanitize()); err != nil {
		return fmt.Errorf("LISTEN %s: %w", Channel, err)
	}
	outage.Succeeded(ctx)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for a presence report: %w", err)
		}
		var r presence.Report
		if json.Unmarshal([]byte(n.Payload), &r) == nil {
			hub.Receive(r)
		}
	}
}
