// Package secrets keeps, in PostgreSQL, the technicians' webhook endpoints (table
// technician_webhooks, migration 011): the URL each technician's notifications are POSTed to,
// and the secret that signs them. Both are secrets (a URL carries its receiver's token), so
// they live here and never in the event log (design §6); a technician's events say only that
// their webhook channel is on. The channel is on exactly when the technician has a row: turning
// it off deletes the row, and the notifier reads this table alone to know where to POST.
//
// The signing secret is stored in the clear, because signing needs it: the database is the
// secrets' store, as it is for the credentials.
package secrets

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/internal/app"
)

// Webhooks keeps the technicians' webhook endpoints. It implements app.WebhookEndpoints.
type Webhooks struct {
	pool *pgxpool.Pool
}

var _ app.WebhookEndpoints = (*Webhooks)(nil)

// NewWebhooks returns the endpoints kept in pool's database, migrated to 011.
func NewWebhooks(pool *pgxpool.Pool) *Webhooks { return &Webhooks{pool: pool} }

// SecretPrefix starts every signing secret, so that one found where it should not be (a log,
// a paste) says what it is.
const SecretPrefix = "whsec_"

// NewSigningSecret returns a fresh signing secret: SecretPrefix and 32 random bytes,
// base64url without padding.
func NewSigningSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails; it crashes the program instead
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Webhook implements app.WebhookEndpoints.
func (w *Webhooks) Webhook(ctx context.Context, technicianID uuid.UUID) (app.WebhookEndpoint, bool, error) {
	var e app.WebhookEndpoint
	err := w.pool.QueryRow(ctx, `SELECT url, signing_secret, source_version FROM technician_webhooks WHERE technician_id = $1`,
		technicianID).Scan(&e.URL, &e.SigningSecret, &e.SourceVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.WebhookEndpoint{}, false, nil
	}
	if err != nil {
		return app.WebhookEndpoint{}, false, fmt.Errorf("read the webhook of technician %s: %w", technicianID, err)
	}
	return e, true, nil
}

// SetWebhook implements app.WebhookEndpoints in one statement: a new row, or the URL
// replaced, a fresh secret only when the URL changes, and the higher source version kept.
// Which secret the row ends with tells whether the fresh one was taken.
func (w *Webhooks) SetWebhook(ctx context.Context, technicianID uuid.UUID, rawURL string, sourceVersion int64) (string, bool, error) {
	fresh := NewSigningSecret()
	var secret string
	err := w.pool.QueryRow(ctx, `
		INSERT INTO technician_webhooks AS w (technician_id, url, signing_secret, source_version)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (technician_id) DO UPDATE SET
			url = excluded.url,
			signing_secret = CASE WHEN w.url = excluded.url THEN w.signing_secret ELSE excluded.signing_secret END,
			source_version = greatest(w.source_version, excluded.source_version),
			updated_at = now()
		RETURNING signing_secret`, technicianID, rawURL, fresh, sourceVersion).Scan(&secret)
	if err != nil {
		return "", false, fmt.Errorf("store the webhook of technician %s: %w", technicianID, err)
	}
	return secret, secret == fresh, nil
}

// PutWebhook implements app.WebhookEndpoints.
func (w *Webhooks) PutWebhook(ctx context.Context, technicianID uuid.UUID, e app.WebhookEndpoint) error {
	_, err := w.pool.Exec(ctx, `
		INSERT INTO technician_webhooks (technician_id, url, signing_secret, source_version) VALUES ($1, $2, $3, $4)
		ON CONFLICT (technician_id) DO UPDATE SET url = excluded.url, signing_secret = excluded.signing_secret,
			source_version = excluded.source_version, updated_at = now()`,
		technicianID, e.URL, e.SigningSecret, e.SourceVersion)
	if err != nil {
		return fmt.Errorf("put back the webhook of technician %s: %w", technicianID, err)
	}
	return nil
}

// RemoveWebhook implements app.WebhookEndpoints.
func (w *Webhooks) RemoveWebhook(ctx context.Context, technicianID uuid.UUID) error {
	if _, err := w.pool.Exec(ctx, `DELETE FROM technician_webhooks WHERE technician_id = $1`, technicianID); err != nil {
		return fmt.Errorf("remove the webhook of technician %s: %w", technicianID, err)
	}
	return nil
}

// RotateWebhookSecret implements app.WebhookEndpoints.
func (w *Webhooks) RotateWebhookSecret(ctx context.Context, technicianID uuid.UUID) (string, error) {
	fresh := NewSigningSecret()
	tag, err := w.pool.Exec(ctx, `UPDATE technician_webhooks SET signing_secret = $2, updated_at = now() WHERE technician_id = $1`,
		technicianID, fresh)
	if err != nil {
		return "", fmt.Errorf("rotate the webhook secret of technician %s: %w", technicianID, err)
	}
	if tag.RowsAffected() == 0 {
		return "", app.ErrNoWebhook
	}
	return fresh, nil
}

// MigrateWebhook moves what the technician's settings event at sourceVersion (version 1,
// which carried the URL) said into the table, unless the technician has an endpoint at that
// version or a later one: running it twice changes nothing, and a setting made since is never
// overwritten. A URL is stored with a fresh signing secret; an empty one (the webhook turned
// off) removes an older endpoint. It reports whether it changed the table.
func (w *Webhooks) MigrateWebhook(ctx context.Context, technicianID uuid.UUID, rawURL string, sourceVersion int64) (bool, error) {
	if rawURL == "" {
		tag, err := w.pool.Exec(ctx, `DELETE FROM technician_webhooks WHERE technician_id = $1 AND source_version < $2`, technicianID, sourceVersion)
		if err != nil {
			return false, fmt.Errorf("migrate the webhook of technician %s: %w", technicianID, err)
		}
		return tag.RowsAffected() == 1, nil
	}
	tag, err := w.pool.Exec(ctx, `
		INSERT INTO technician_webhooks AS w (technician_id, url, signing_secret, source_version)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (technician_id) DO UPDATE SET url = excluded.url, signing_secret = excluded.signing_secret,
			source_version = excluded.source_version, updated_at = now()
		WHERE w.source_version < excluded.source_version`,
		technicianID, rawURL, NewSigningSecret(), sourceVersion)
	if err != nil {
		return false, fmt.Errorf("migrate the webhook of technician %s: %w", technicianID, err)
	}
	return tag.RowsAffected() == 1, nil
}
