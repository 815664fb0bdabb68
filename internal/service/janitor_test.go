package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/service"
)

// serve's janitor deletes what only serves a while and keeps the rest: expired sessions, and
// idempotency records and login counters past their retention.
func TestTidyPurgesOldBookkeeping(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	creds := credentials.New(pool)
	tech := uuid.New()
	if err := creds.Reserve(ctx, tech, "tidy@example.com"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := creds.CreateSession(ctx, tech, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{"old", "recent"} {
		if _, err := creds.ClaimIdempotencyKey(ctx, "s", key, "fp", time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{
		`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE ctid IN (SELECT ctid FROM sessions LIMIT 1)`,
		`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'old'`,
		`INSERT INTO login_attempts (scope, key_hash, failures, last_failure_at) VALUES
			('account', sha256('old'), 3, now() - interval '3 days'), ('ip', sha256('recent'), 1, now())`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	service.PurgeOldBookkeeping(ctx, creds, time.Now())
	for _, c := range []struct {
		sql  string
		want int
	}{
		{`SELECT count(*) FROM sessions`, 1},
		{`SELECT count(*) FROM idempotency_keys WHERE key = 'recent'`, 1},
		{`SELECT count(*) FROM idempotency_keys`, 1},
		{`SELECT count(*) FROM login_attempts`, 1},
	} {
		var n int
		if err := pool.QueryRow(ctx, c.sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != c.want {
			t.Errorf("%s = %d after tidying, want %d", c.sql, n, c.want)
		}
	}
}
