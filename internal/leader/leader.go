// Package leader elects, among any number of processes sharing a PostgreSQL database, the one
// that runs a piece of work (a projection, a forwarder), with a session advisory lock held on a
// connection of its own. The server releases the lock when that connection dies, so a standby
// takes over from a leader that crashed or lost the network; the leader checks its connection
// and steps down as soon as it stops answering.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/internal/dbsession"
	"github.com/helpstream/helpstream/internal/fault"
)

// pingTimeout bounds the leader's periodic check of its lock connection.
const pingTimeout = 5 * time.Second

// Campaign configures Run.
type Campaign struct {
	// Pool gives the connection settings of the lock connection, which is opened beside the
	// pool, not taken from it. Required.
	Pool *pgxpool.Pool
	// Key is the advisory lock's key: one per piece of work.
	Key int64
	// Name is the lock connection's application_name, and names the work in logs. Required.
	Name string
	// Retry is how often a standby tries to take the lock, and how often the leader checks its
	// lock connection. Required.
	Retry time.Duration
	// Logger receives leadership changes. Required.
	Logger *slog.Logger
}

// Run campaigns for the lock every Retry until ctx ends. While it holds the lock it calls lead
// with a context that ends when ctx does or when the lock connection stops answering; when lead
// returns before ctx ends, Run releases the lock, waits one Retry (a healthy standby's turn) and
// campaigns again.
func Run(ctx context.Context, c Campaign, lead func(ctx context.Context)) {
	// A campaign that cannot reach the database says so once, and once when it can again.
	outage := fault.NewEpisodes(fmt.Sprintf("leader campaign of %s: the database does not answer; trying every %s", c.Name, c.Retry), c.Logger)
	var conn *pgx.Conn
	defer func() { dbsession.Close(conn) }()
	for ctx.Err() == nil {
		if conn == nil {
			var err error
			if conn, err = connect(ctx, c.Pool, c.Name); err != nil {
				if ctx.Err() == nil {
					outage.Failed(ctx, err, "connect")
				}
				fault.Pause(ctx, c.Retry)
				continue
			}
		}
		var got bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, c.Key).Scan(&got); err != nil {
			if ctx.Err() == nil {
				outage.Failed(ctx, err, "lock request")
			}
			dbsession.Close(conn)
			conn = nil
			fault.Pause(ctx, c.Retry)
			continue
		}
		outage.Succeeded(ctx)
		if !got {
			fault.Pause(ctx, c.Retry)
			continue
		}
		c.Logger.InfoContext(ctx, "leader elected")
		hold(ctx, c, conn, lead)
		// Closing the lock connection releases the lock, if the server has not already.
		dbsession.Close(conn)
		conn = nil
		if ctx.Err() == nil {
			c.Logger.WarnContext(ctx, "leadership lost, campaigning again", "in", c.Retry)
			fault.Pause(ctx, c.Retry)
		}
	}
}

// hold runs lead while the lock connection answers.
func hold(ctx context.Context, c Campaign, conn *pgx.Conn, lead func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		ticker := time.NewTicker(c.Retry)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			pingCtx, stop := context.WithTimeout(ctx, pingTimeout)
			_, err := conn.Exec(pingCtx, "SELECT 1")
			stop()
			if err != nil {
				if ctx.Err() == nil {
					c.Logger.WarnContext(ctx, "leader lock connection lost, stepping down", "error", err)
				}
				cancel()
				return
			}
		}
	}()
	defer func() { <-watched }()
	defer cancel()
	lead(ctx)
}

// connect opens the lock connection outside the pool with the pool's settings.
func connect(ctx context.Context, pool *pgxpool.Pool, name string) (*pgx.Conn, error) {
	conn, err := dbsession.Open(ctx, pool, map[string]string{"application_name": name})
	if err != nil {
		return nil, fmt.Errorf("open the lock connection of %s: %w", name, err)
	}
	return conn, nil
}
