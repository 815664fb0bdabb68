package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/app"
)

// ErrInvalidIdempotencyKey is returned for an empty key or one longer than
// MaxIdempotencyKeyLength bytes.
var ErrInvalidIdempotencyKey = errors.New("an idempotency key must be 1 to 255 bytes long")

// ErrIdempotencyKeyNotClaimed is returned by CompleteIdempotencyKey and RenewIdempotencyKey when
// the caller no longer holds the key's claim: it was never claimed, was released, purged or
// completed, or its lease ran out and another request took it over.
var ErrIdempotencyKeyNotClaimed = errors.New("the idempotency key is not claimed by this request")

// ErrInvalidStatus is returned by CompleteIdempotencyKey for a status that is not positive.
var ErrInvalidStatus = errors.New("a completed idempotency key needs a positive HTTP status")

// MaxIdempotencyKeyLength is the longest idempotency key accepted, in bytes.
const MaxIdempotencyKeyLength = 255

// IdempotencyRecord (app.IdempotencyRecord) is what is stored under an idempotency key.
type IdempotencyRecord = app.IdempotencyRecord

// IdempotencyClaim (app.IdempotencyClaim) is the outcome of a claim.
type IdempotencyClaim = app.IdempotencyClaim

// ClaimIdempotencyKey claims key within scope for the request with this fingerprint, for lease.
// The claim is granted (Claimed, with the Token the holder passes back) when the key is new, or
// when it is held by an earlier attempt of the same request (same fingerprint) whose lease ran
// out: that attempt died, and this one takes over (TakenOver). Otherwise the stored record is
// returned, for the caller to compare fingerprints and replay or refuse, with LeaseLeft telling
// how long an unfinished claim may still be held. Of several concurrent claims of one key, at
// most one is granted.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, scope, key, fingerprint string, lease time.Duration) (IdempotencyClaim, error) {
	if key == "" || len(key) > MaxIdempotencyKeyLength {
		return IdempotencyClaim{}, wrap("claim idempotency key", ErrInvalidIdempotencyKey)
	}
	op := fmt.Sprintf("claim idempotency key %q in scope %q", key, scope)
	token := uuid.New()
	// One statement: insert the claim, or take over an expired one of the same request. xmax
	// tells an update (a take-over) from an insert.
	var takenOver bool
	err := s.pool.QueryRow(ctx, `
		INSERT INTO idempotency_keys (scope, key, fingerprint, claim_token, lease_until)
		VALUES ($1, $2, $3, $4, now() + $5::interval)
		ON CONFLICT (scope, key) DO UPDATE
			SET claim_token = EXCLUDED.claim_token, lease_until = EXCLUDED.lease_until
			WHERE idempotency_keys.status = 0
			  AND idempotency_keys.fingerprint = EXCLUDED.fingerprint
			  AND idempotency_keys.lease_until < now()
		RETURNING xmax <> 0`, scope, key, fingerprint, token, lease).Scan(&takenOver)
	if err == nil {
		return IdempotencyClaim{Claimed: true, Token: token, TakenOver: takenOver, Record: IdempotencyRecord{Fingerprint: fingerprint}}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return IdempotencyClaim{}, wrap(op, err)
	}
	var c IdempotencyClaim
	var left time.Duration
	err = s.pool.QueryRow(ctx, `
		SELECT fingerprint, status, content_type, body, greatest(lease_until - now(), '0'::interval)
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key).
		Scan(&c.Record.Fingerprint, &c.Record.Status, &c.Record.ContentType, &c.Record.Body, &left)
	if errors.Is(err, pgx.ErrNoRows) {
		// Released (or purged) between the two statements: the key is free again.
		return s.ClaimIdempotencyKey(ctx, scope, key, fingerprint, lease)
	}
	if err != nil {
		return IdempotencyClaim{}, wrap(op, err)
	}
	c.LeaseLeft = left
	return c, nil
}

// RenewIdempotencyKey extends the lease of the claim token holds to lease from now.
func (s *Store) RenewIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID, lease time.Duration) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE idempotency_keys SET lease_until = now() + $4::interval
		WHERE scope = $1 AND key = $2 AND claim_token = $3 AND status = 0`, scope, key, token, lease)
	if err != nil {
		return wrap(fmt.Sprintf("renew idempotency key %q in scope %q", key, scope), err)
	}
	if tag.RowsAffected() == 0 {
		return wrap(fmt.Sprintf("renew idempotency key %q in scope %q", key, scope), ErrIdempotencyKeyNotClaimed)
	}
	return nil
}

// CompleteIdempotencyKey stores the response of the request holding the claim (token), for
// retries to replay. It returns ErrIdempotencyKeyNotClaimed if that request no longer holds it.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID, status int, contentType string, body []byte) error {
	op := fmt.Sprintf("complete idempotency key %q in scope %q", key, scope)
	if status <= 0 {
		return wrap(op, ErrInvalidStatus)
	}
	if body == nil {
		body = []byte{} // pgx sends a nil slice as NULL
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6, completed_at = now(), claim_token = NULL
		WHERE scope = $1 AND key = $2 AND claim_token = $3 AND status = 0`, scope, key, token, status, contentType, body)
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return wrap(op, ErrIdempotencyKeyNotClaimed)
	}
	return nil
}

// ReleaseIdempotencyKey deletes the claim token holds after its request failed, so that a retry
// can run at once. A completed record, or a claim another request holds, is kept; a missing one
// is not an error.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND claim_token = $3 AND status = 0`,
		scope, key, token); err != nil {
		return wrap(fmt.Sprintf("release idempotency key %q in scope %q", key, scope), err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes the records claimed before olderThan, completed or not, and
// returns how many there were.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, olderThan)
	if err != nil {
		return 0, wrap("purge idempotency keys", err)
	}
	return tag.RowsAffected(), nil
}
