package credentials

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/app"
)

// LoginCounter (app.LoginCounter) is what is known of the failed logins of one e-mail address
// or one client address.
type LoginCounter = app.LoginCounter

// The scopes of table login_attempts (migration 007).
const (
	scopeAccount = "account"
	scopeIP      = "ip"
)

// errChangeRefused stands for the error of a change callback while its transaction rolls back.
var errChangeRefused = errors.New("change refused")

// UpdateLoginCounters runs change on the counters of an e-mail address and of a client
// address, stores what it leaves and forgets a counter left at zero (app.LoginAttempts).
//
// Both rows are created if missing and locked by one INSERT … ON CONFLICT DO UPDATE, the
// address's before the client address's in every caller, so that two callers sharing either
// row wait for each other and never deadlock. The lock lasts a few round trips, never the
// bcrypt comparison of the login it guards.
func (s *Store) UpdateLoginCounters(ctx context.Context, account, ip string, change func(account, ip *LoginCounter) error) error {
	scopes, hashes := []string{scopeAccount}, [][]byte{counterKey(account)}
	if ip != "" {
		scopes, hashes = append(scopes, scopeIP), append(hashes, counterKey(ip))
	}
	var changeErr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		counters, err := lockCounters(ctx, tx, scopes, hashes)
		if err != nil {
			return err
		}
		var ipCounter *LoginCounter
		if ip != "" {
			ipCounter = &counters[1]
		}
		if changeErr = change(&counters[0], ipCounter); changeErr != nil {
			return errChangeRefused
		}
		batch := &pgx.Batch{}
		for i, c := range counters {
			if c.Failures == 0 && !c.Locked() {
				batch.Queue(`DELETE FROM login_attempts WHERE scope = $1 AND key_hash = $2`, scopes[i], hashes[i])
				continue
			}
			batch.Queue(`
				UPDATE login_attempts SET failures = $3, last_failure_at = $4, locked_at = $5
				WHERE scope = $1 AND key_hash = $2`,
				scopes[i], hashes[i], c.Failures, nullTime(c.LastFailure), nullTime(c.LockedAt))
		}
		return tx.SendBatch(ctx, batch).Close()
	})
	if changeErr != nil {
		return changeErr
	}
	if err != nil {
		return wrap("update login counters", err)
	}
	return nil
}

// lockCounters creates the rows that are missing, locks them all in the order given and
// returns their counters in that order.
func lockCounters(ctx context.Context, tx pgx.Tx, scopes []string, hashes [][]byte) ([]LoginCounter, error) {
	query := `INSERT INTO login_attempts (scope, key_hash) VALUES ($1, $2)`
	args := []any{scopes[0], hashes[0]}
	if len(scopes) == 2 {
		query += `, ($3, $4)`
		args = append(args, scopes[1], hashes[1])
	}
	// The no-op update is what locks a row that exists and returns it.
	query += ` ON CONFLICT (scope, key_hash) DO UPDATE SET failures = login_attempts.failures
		RETURNING scope, failures, last_failure_at, locked_at`
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("lock login counters: %w", err)
	}
	defer rows.Close()
	counters := make([]LoginCounter, len(scopes))
	for rows.Next() {
		var (
			scope                 string
			c                     LoginCounter
			lastFailure, lockedAt *time.Time
		)
		if err := rows.Scan(&scope, &c.Failures, &lastFailure, &lockedAt); err != nil {
			return nil, fmt.Errorf("read login counters: %w", err)
		}
		if lastFailure != nil {
			c.LastFailure = *lastFailure
		}
		if lockedAt != nil {
			c.LockedAt = *lockedAt
		}
		for i := range scopes {
			if scopes[i] == scope {
				counters[i] = c
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read login counters: %w", err)
	}
	return counters, nil
}

// ClearLoginCounter forgets the failures and the lockout of an e-mail address and returns what
// they were (zero for an address without failures).
func (s *Store) ClearLoginCounter(ctx context.Context, account string) (LoginCounter, error) {
	var (
		c                     LoginCounter
		lastFailure, lockedAt *time.Time
	)
	err := s.pool.QueryRow(ctx, `
		DELETE FROM login_attempts WHERE scope = $1 AND key_hash = $2
		RETURNING failures, last_failure_at, locked_at`, scopeAccount, counterKey(account)).Scan(&c.Failures, &lastFailure, &lockedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return LoginCounter{}, nil
	}
	if err != nil {
		return LoginCounter{}, wrap("clear login counter", err)
	}
	if lastFailure != nil {
		c.LastFailure = *lastFailure
	}
	if lockedAt != nil {
		c.LockedAt = *lockedAt
	}
	return c, nil
}

// PurgeLoginCounters deletes the counters whose latest failure is older than olderThan, except
// lockouts, and returns how many there were. Pass a time further back than the policy's
// longest ForgetAfter: those counters are ignored anyway, and this only reclaims space.
func (s *Store) PurgeLoginCounters(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM login_attempts WHERE locked_at IS NULL AND last_failure_at < $1`, olderThan)
	if err != nil {
		return 0, wrap("purge login counters", err)
	}
	return tag.RowsAffected(), nil
}

// counterKey is what login_attempts stores of an address: its SHA-256, so that the table never
// holds what people typed (see migration 007).
func counterKey(key string) []byte {
	sum := sha256.Sum256([]byte(key))
	return sum[:]
}

// nullTime is t, or NULL for the zero time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
