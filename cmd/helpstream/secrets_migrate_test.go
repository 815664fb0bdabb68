package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
)

// appendRawV1 appends a technician.notification_settings_changed.v1 event as the old binary
// wrote it (the URL in the payload), sealed into the stream's hash chain, and returns its
// version.
func appendRawV1(t *testing.T, svc *service.Service, tech uuid.UUID, webhookURL string) int64 {
	t.Helper()
	ctx := context.Background()
	stream := directory.TechnicianStream(tech)
	recorded, err := svc.Store.ReadStream(ctx, stream, 0, eventlog.ReadOptions{})
	if err != nil || len(recorded) == 0 {
		t.Fatalf("read %s: %d events, %v", stream, len(recorded), err)
	}
	last := recorded[len(recorded)-1]
	data := fmt.Sprintf(`{"technician_id":%q,"settings":{"email":true,"webhook_url":%q,"in_console":true}}`, tech, webhookURL)
	events := []eventlog.EventData{{ID: uuid.New(), Type: directory.NotificationSettingsChangedV1, Data: []byte(data),
		Metadata: eventlog.Metadata{Actor: "technician:" + tech.String(), OccurredAt: last.Metadata.OccurredAt}}}
	eventlog.Seal(stream, last.Version, last.Metadata.Hash, events)
	if _, err := svc.Store.Append(ctx, stream, eventlog.Exactly(last.Version), events...); err != nil {
		t.Fatal(err)
	}
	return last.Version + 1
}

// `helpstream admin secrets-migrate` moves the URL of each technician's newest v1 settings
// event into technician_webhooks with a fresh secret, reading the log as stored; it never
// overwrites a newer (v2) setting, treats a later v1 without a URL as off, skips URLs no
// receiver could be, prints no URL, and a second run changes nothing. The scan of the log then
// finds the URL the old event still holds: the check every test database gets at its end
// catches a secret in the log.
func TestAdminSecretsMigrate(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	techs := map[string]uuid.UUID{}
	for _, name := range []string{"moved", "off", "newer", "newer-off", "invalid", "untouched"} {
		id := uuid.New()
		if _, err := svc.App.RegisterTechnician(ctx, adminMeta(), app.RegisterTechnician{TechnicianID: id, Name: "Tech " + name, Email: name + "@example.com"}); err != nil {
			t.Fatal(err)
		}
		techs[name] = id
	}
	const movedURL = "https://hooks.example.com/services/T0/B0?token=tok-moved-3f9a8b7c6d"
	movedVersion := appendRawV1(t, svc, techs["moved"], movedURL)
	appendRawV1(t, svc, techs["off"], "https://hooks.example.com/off?token=tok-off-1234567890")
	appendRawV1(t, svc, techs["off"], "")
	appendRawV1(t, svc, techs["newer"], "https://old.example.com/x?token=tok-old-1234567890")
	appendRawV1(t, svc, techs["newer-off"], "https://old.example.com/y?token=tok-old-0987654321")
	appendRawV1(t, svc, techs["invalid"], "ftp://files.example.com/drop")
	const newerURL = "https://new.example.com/hook?token=tok-new-abcdef123456"
	set, err := svc.App.ChangeNotificationSettings(ctx, adminMeta(), app.ChangeNotificationSettings{TechnicianID: techs["newer"], Email: true, WebhookURL: newerURL})
	if err != nil || set.SigningSecret == "" {
		t.Fatalf("set a newer webhook: %+v, %v", set, err)
	}
	if _, err := svc.App.ChangeNotificationSettings(ctx, adminMeta(), app.ChangeNotificationSettings{TechnicianID: techs["newer-off"], InConsole: true}); err != nil {
		t.Fatal(err)
	}

	files := t.TempDir()
	migrate := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := run(ctx, []string{"admin", "secrets-migrate", "--database-url", url, "--files-dir", files}, &out); err != nil {
			t.Fatal(err)
		}
		if s := out.String(); strings.Contains(s, "://") || strings.Contains(s, "tok-") {
			t.Fatalf("secrets-migrate printed a URL: %q", s)
		}
		return out.String()
	}
	out := migrate()
	for _, want := range []string{
		"moved    1  " + techs["moved"].String(),
		"off      1  " + techs["off"].String(),
		"invalid  1  " + techs["invalid"].String(),
		"current  0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("first run: %q does not say %q", out, want)
		}
	}
	if !strings.Contains(out, "newer    2") || !strings.Contains(out, techs["newer"].String()) || !strings.Contains(out, techs["newer-off"].String()) {
		t.Errorf("first run: %q does not count the two newer settings", out)
	}
	if strings.Contains(out, techs["untouched"].String()) {
		t.Errorf("first run names a technician who never set a webhook: %q", out)
	}

	moved, ok, err := svc.Webhooks.Webhook(ctx, techs["moved"])
	if err != nil || !ok || moved.URL != movedURL || moved.SourceVersion != movedVersion || !strings.HasPrefix(moved.SigningSecret, "whsec_") || len(moved.SigningSecret) != 6+43 {
		t.Fatalf("moved endpoint: %+v %v %v (version want %d)", moved, ok, err, movedVersion)
	}
	newer, ok, err := svc.Webhooks.Webhook(ctx, techs["newer"])
	if err != nil || !ok || newer.URL != newerURL || newer.SigningSecret != set.SigningSecret {
		t.Fatalf("a newer setting was overwritten: %+v %v %v", newer, ok, err)
	}
	for _, name := range []string{"off", "newer-off", "invalid", "untouched"} {
		if _, ok, err := svc.Webhooks.Webhook(ctx, techs[name]); ok || err != nil {
			t.Errorf("%s: an endpoint was written (%v)", name, err)
		}
	}

	// Twice changes nothing.
	out = migrate()
	if !strings.Contains(out, "moved    0") || !strings.Contains(out, "current  1  "+techs["moved"].String()) {
		t.Errorf("second run: %q", out)
	}
	again, _, err := svc.Webhooks.Webhook(ctx, techs["moved"])
	if err != nil || again != moved {
		t.Fatalf("second run changed the endpoint: %+v, %v", again, err)
	}

	// The technician's settings, read through the upcaster, have the webhook on; the profile
	// shows the URL redacted.
	p, err := svc.Queries.Profile(ctx, techs["moved"])
	if err != nil || !p.Notifications.Webhook || p.WebhookURL != "https://hooks.example.com/…" {
		t.Fatalf("profile: %+v, %v", p, err)
	}

	// The old event still holds the URL that is a secret now: the scan finds it, naming the
	// event and never the secret.
	found, err := pgtest.ScanDatabase(ctx, url)
	if !errors.Is(err, pgtest.ErrSecretInLog) {
		t.Fatalf("scan: %v, want ErrSecretInLog", err)
	}
	if strings.Contains(err.Error(), "tok-") || strings.Contains(err.Error(), "hooks.example.com") {
		t.Fatalf("the scan's report shows the secret: %v", err)
	}
	stream := directory.TechnicianStream(techs["moved"])
	if len(found) == 0 {
		t.Fatal("no finding")
	}
	for _, f := range found {
		if f.StreamID != stream || f.EventType != directory.NotificationSettingsChangedV1 || f.Version != movedVersion || f.Where != "data" {
			t.Errorf("finding %v, want the v1 event %s@%d", f, stream, movedVersion)
		}
	}
	// A log written before version 2 keeps its URLs for ever; here the endpoint goes, so that
	// the scan at the test's end checks the rest of what the test wrote.
	if err := svc.Webhooks.RemoveWebhook(ctx, techs["moved"]); err != nil {
		t.Fatal(err)
	}
	if found, err := pgtest.ScanDatabase(ctx, url); err != nil || len(found) != 0 {
		t.Fatalf("scan after the endpoint went: %v %v", found, err)
	}
}
