package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/internal/app"
)

// ErrInvalidIdempotencyKey is returned for an empty key or one longer than
// MaxIdempotencyKeyLength bytes.
var ErrInvalidIdempotencyKey = errors.New("an idempotency key must be 1 to 255 bytes long")

// ErrIdempotencyKeyNotClaimed is returned by CompleteIdempotencyKey when the key has no claim in
// progress: it was never claimed, was released or purged, or is already complete.
var ErrIdempotencyKeyNotClaimed = errors.New("the idempotency key is not claimed")

// ErrInvalidStatus is returned by CompleteIdempotencyKey for a status that is not positive.
var ErrInvalidStatus = errors.New("a completed idempotency key needs a positive HTTP status")

// MaxIdempotencyKeyLength is the longest idempotency key accepted, in bytes.
const MaxIdempotencyKeyLength = 255

// IdempotencyRecord (app.IdempotencyRecord) is what is stored under an idempotency key:
// Fingerprint identifies the request that claimed the key, so that a retry with another
// fingerprint can be told apart as a different request reusing it; Status is the response's
// HTTP status, 0 while the first request is still in progress; ContentType and Body are the
// response to replay once Status is set.
type IdempotencyRecord = app.IdempotencyRecord

// ClaimIdempotencyKey claims key within scope for the request with this fingerprint. If the key
// is new it is claimed (status 0) and claimed is true: the caller runs the request, then calls
// CompleteIdempotencyKey, or ReleaseIdempotencyKey if it failed. Otherwise claimed is false and
// the stored record is returned, for the caller to compare fingerprints and replay or refuse.
// Of several concurrent claims of one key, exactly one is claimed.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, scope, key, fingerprint string) (IdempotencyRecord, bool, error) {
	if key == "" || len(key) > MaxIdempotencyKeyLength {
		return IdempotencyRecord{}, false, wrap("claim idempotency key", ErrInvalidIdempotencyKey)
	}
	op := fmt.Sprintf("claim idempotency key %q in scope %q", key, scope)
	// The existing record may be released between the insert and the select; then try again.
	for range 5 {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO idempotency_keys (scope, key, fingerprint) VALUES ($1, $2, $3)
			ON CONFLICT (scope, key) DO NOTHING`, scope, key, fingerprint)
		if err != nil {
			return IdempotencyRecord{}, false, wrap(op, err)
		}
		if tag.RowsAffected() == 1 {
			return IdempotencyRecord{Fingerprint: fingerprint}, true, nil
		}
		var rec IdempotencyRecord
		err = s.pool.QueryRow(ctx, `
			SELECT fingerprint, status, content_type, body FROM idempotency_keys
			WHERE scope = $1 AND key = $2`, scope, key).Scan(&rec.Fingerprint, &rec.Status, &rec.ContentType, &rec.Body)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return IdempotencyRecord{}, false, wrap(op, err)
		}
		return rec, false, nil
	}
	return IdempotencyRecord{}, false, wrap(op, errors.New("the key kept being claimed and released"))
}

// CompleteIdempotencyKey stores the response of the request that claimed key, for retries to
// replay. It returns ErrIdempotencyKeyNotClaimed if the key has no claim in progress.
func (s *Store) CompleteIdempotencyKey(ctx context.Context, scope, key string, status int, contentType string, body []byte) error {
	op := fmt.Sprintf("complete idempotency key %q in scope %q", key, scope)
	if status <= 0 {
		return wrap(op, ErrInvalidStatus)
	}
	if body == nil {
		body = []byte{} // pgx sends a nil slice as NULL
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5, completed_at = now()
		WHERE scope = $1 AND key = $2 AND status = 0`, scope, key, status, contentType, body)
	if err != nil {
		return wrap(op, err)
	}
	if tag.RowsAffected() == 0 {
		return wrap(op, ErrIdempotencyKeyNotClaimed)
	}
	return nil
}

// ReleaseIdempotencyKey deletes an in-progress claim after the request failed, so that a retry
// can run. A completed record is kept, and a missing one is not an error.
func (s *Store) ReleaseIdempotencyKey(ctx context.Context, scope, key string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status = 0`, scope, key); err != nil {
		return wrap(fmt.Sprintf("release idempotency key %q in scope %q", key, scope), err)
	}
	return nil
}

// PurgeIdempotencyKeys deletes the records claimed before olderThan, completed or not (a claim
// left in progress by a crashed server goes too), and returns how many there were.
func (s *Store) PurgeIdempotencyKeys(ctx context.Context, olderThan time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, olderThan)
	if err != nil {
		return 0, wrap("purge idempotency keys", err)
	}
	return tag.RowsAffected(), nil
}
