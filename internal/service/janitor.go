package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
)

// Retention of the bookkeeping that only serves a while: a replay of a command sent again
// within a day, a login throttle that forgets after a day without failures.
const (
	idempotencyRetention  = 24 * time.Hour
	loginCounterRetention = 48 * time.Hour // past the policy's 24 h forget-after, whatever it is set to
	janitorEvery          = time.Hour
)

// keepTidy deletes expired sessions, idempotency records older than a day and login counters
// older than two days, now and every hour, until ctx ends. Several servers may run it at once:
// each delete is one idempotent statement.
func keepTidy(ctx context.Context, creds *credentials.Store) {
	for {
		PurgeOldBookkeeping(ctx, creds, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(janitorEvery):
		}
	}
}

func PurgeOldBookkeeping(ctx context.Context, creds *credentials.Store, now time.Time) {
	sessions, err := creds.PurgeExpiredSessions(ctx)
	if err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "purge expired sessions failed; trying again in an hour", "err", err)
	}
	keys, err := creds.PurgeIdempotencyKeys(ctx, now.Add(-idempotencyRetention))
	if err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "purge old idempotency keys failed; trying again in an hour", "err", err)
	}
	counters, err := creds.PurgeLoginCounters(ctx, now.Add(-loginCounterRetention))
	if err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "purge old login counters failed; trying again in an hour", "err", err)
	}
	if sessions+keys+counters > 0 {
		slog.InfoContext(ctx, "purged old bookkeeping", "sessions", sessions, "idempotency_keys", keys, "login_counters", counters)
	}
}
