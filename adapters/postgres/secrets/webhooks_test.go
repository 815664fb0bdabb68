package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/secrets"
	"github.com/helpstream/helpstream/internal/app"
)

// The endpoint store on PostgreSQL: a new URL gets a fresh secret, the same URL keeps it, the
// higher source version stays, a rotation replaces the secret, removal deletes the row (the
// channel off), and the migration writes only over older rows.
func TestWebhooks(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	w := secrets.NewWebhooks(pool)
	tech := uuid.New()
	const u1, u2 = "https://hooks.example.com/a?token=one", "https://hooks.example.com/b?token=two"

	if _, ok, err := w.Webhook(ctx, tech); ok || err != nil {
		t.Fatalf("a technician without a row: %v %v", ok, err)
	}
	s1, created, err := w.SetWebhook(ctx, tech, u1, 3)
	if err != nil || !created || !strings.HasPrefix(s1, secrets.SecretPrefix) || len(s1) != len(secrets.SecretPrefix)+43 {
		t.Fatalf("set: %q %v %v", s1, created, err)
	}
	same, created, err := w.SetWebhook(ctx, tech, u1, 2)
	if err != nil || created || same != s1 {
		t.Fatalf("same URL: %q %v %v", same, created, err)
	}
	if e, _, _ := w.Webhook(ctx, tech); e.SourceVersion != 3 || e.URL != u1 {
		t.Fatalf("after an older version: %+v", e)
	}
	s2, created, err := w.SetWebhook(ctx, tech, u2, 5)
	if err != nil || !created || s2 == s1 {
		t.Fatalf("changed URL: %q %v %v", s2, created, err)
	}
	rotated, err := w.RotateWebhookSecret(ctx, tech)
	if err != nil || rotated == s2 {
		t.Fatalf("rotate: %q %v", rotated, err)
	}
	if e, _, _ := w.Webhook(ctx, tech); e != (app.WebhookEndpoint{URL: u2, SigningSecret: rotated, SourceVersion: 5}) {
		t.Fatalf("after rotation: %+v", e)
	}
	// The migration leaves a row at its version or later alone, and replaces an older one.
	if moved, err := w.MigrateWebhook(ctx, tech, u1, 5); moved || err != nil {
		t.Fatalf("migrate at the row's version: %v %v", moved, err)
	}
	if moved, err := w.MigrateWebhook(ctx, tech, u1, 6); !moved || err != nil {
		t.Fatalf("migrate a newer event: %v %v", moved, err)
	}
	if e, _, _ := w.Webhook(ctx, tech); e.URL != u1 || e.SourceVersion != 6 || e.SigningSecret == rotated {
		t.Fatalf("after migration: %+v", e)
	}
	if moved, err := w.MigrateWebhook(ctx, tech, "", 6); moved || err != nil {
		t.Fatalf("an off event no newer than the row: %v %v", moved, err)
	}
	if moved, err := w.MigrateWebhook(ctx, tech, "", 7); !moved || err != nil {
		t.Fatalf("a newer off event: %v %v", moved, err)
	}
	if err := w.PutWebhook(ctx, tech, app.WebhookEndpoint{URL: u2, SigningSecret: s2, SourceVersion: 1}); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := w.Webhook(ctx, tech); !ok || e != (app.WebhookEndpoint{URL: u2, SigningSecret: s2, SourceVersion: 1}) {
		t.Fatalf("put back: %+v", e)
	}
	if err := w.RemoveWebhook(ctx, tech); err != nil {
		t.Fatal(err)
	}
	if err := w.RemoveWebhook(ctx, tech); err != nil {
		t.Fatalf("removing twice: %v", err)
	}
	if _, err := w.RotateWebhookSecret(ctx, tech); !errors.Is(err, app.ErrNoWebhook) {
		t.Fatalf("rotate without a row: %v", err)
	}
	// The table refuses what no receiver could be, whatever the caller checked.
	if _, _, err := w.SetWebhook(ctx, tech, "ftp://x", 1); err == nil {
		t.Fatal("an ftp URL was stored")
	}
}
