package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

type notificationsAnswer struct {
	Version       int64 `json:"version"`
	Notifications struct {
		Email     bool `json:"email"`
		Webhook   bool `json:"webhook"`
		InConsole bool `json:"in_console"`
	} `json:"notifications"`
	WebhookURL    string `json:"webhook_url"`
	SigningSecret string `json:"webhook_signing_secret"`
}

type endpointRow struct {
	url, secret string
	version     int64
	ok          bool
}

// endpoint reads a technician's row of technician_webhooks as the notifier does.
func (e *env) endpoint(t *testing.T, c *client) endpointRow {
	t.Helper()
	var r endpointRow
	err := e.pool.QueryRow(context.Background(), `SELECT url, signing_secret, source_version FROM technician_webhooks WHERE technician_id = $1`, c.id).
		Scan(&r.url, &r.secret, &r.version)
	if err == pgx.ErrNoRows {
		return r
	}
	if err != nil {
		t.Fatal(err)
	}
	r.ok = true
	return r
}

// A technician sets a webhook whose URL carries a token: the URL and its signing secret go
// to technician_webhooks, the secret is answered once, the URL only ever comes back redacted,
// the same URL keeps its secret, a changed one and a rotation get new ones, turning it off
// deletes the row; bad URLs are refused with nothing changed; and no event of the whole flow
// holds the URL, its token or a secret.
func TestWebhookSecretsStayOutOfTheLog(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	tech := w.techA
	const token = "xoxb-7f3a9c1d2e4b5a6f-TOKEN"
	hookURL := "https://hooks.example.com/services/" + token + "?key=k3y-0123456789abcdef&x=1"
	put := func(body map[string]any) notificationsAnswer {
		t.Helper()
		res := tech.json(t, http.MethodPut, "/api/v1/me/notifications", body).want(t, http.StatusOK)
		if bytes.Contains(res.Body, []byte(token)) || bytes.Contains(res.Body, []byte("k3y-")) {
			t.Fatalf("the answer shows the URL: %s", res.Body)
		}
		var a notificationsAnswer
		res.decode(t, &a)
		return a
	}
	me := func() notificationsAnswer {
		t.Helper()
		res := tech.get(t, "/api/v1/me").want(t, http.StatusOK)
		if bytes.Contains(res.Body, []byte(token)) || bytes.Contains(res.Body, []byte("whsec_")) {
			t.Fatalf("the profile shows a secret: %s", res.Body)
		}
		var a notificationsAnswer
		res.decode(t, &a)
		return a
	}

	on := put(map[string]any{"email": true, "in_console": false, "webhook_url": hookURL})
	if !on.Notifications.Webhook || on.WebhookURL != "https://hooks.example.com/…" || !strings.HasPrefix(on.SigningSecret, "whsec_") {
		t.Fatalf("set: %+v", on)
	}
	row := e.endpoint(t, tech)
	if !row.ok || row.url != hookURL || row.secret != on.SigningSecret || row.version != on.Version {
		t.Fatalf("row %+v after %+v", row, on)
	}
	if p := me(); !p.Notifications.Webhook || p.WebhookURL != "https://hooks.example.com/…" {
		t.Fatalf("profile: %+v", p)
	}

	// The same URL keeps its secret, shown no more; so does keeping the webhook without its URL.
	same := put(map[string]any{"email": false, "in_console": true, "webhook_url": hookURL})
	if same.SigningSecret != "" || e.endpoint(t, tech).secret != on.SigningSecret {
		t.Fatalf("same URL: %+v", same)
	}
	kept := put(map[string]any{"email": true, "in_console": true, "webhook": true})
	if !kept.Notifications.Webhook || kept.SigningSecret != "" || kept.WebhookURL != "https://hooks.example.com/…" || e.endpoint(t, tech).secret != on.SigningSecret {
		t.Fatalf("kept: %+v", kept)
	}

	// Rotation answers a new secret, once.
	var rotated struct {
		Secret string `json:"webhook_signing_secret"`
	}
	tech.post(t, "/api/v1/me/notifications/webhook-secret", nil).want(t, http.StatusOK).decode(t, &rotated)
	if !strings.HasPrefix(rotated.Secret, "whsec_") || rotated.Secret == on.SigningSecret || e.endpoint(t, tech).secret != rotated.Secret {
		t.Fatalf("rotated %q, stored %+v", rotated.Secret, e.endpoint(t, tech))
	}

	// A changed URL gets a new secret.
	changedURL := hookURL + "&v=2"
	changed := put(map[string]any{"email": true, "in_console": true, "webhook_url": changedURL})
	if changed.SigningSecret == "" || changed.SigningSecret == rotated.Secret || e.endpoint(t, tech).url != changedURL {
		t.Fatalf("changed: %+v", changed)
	}

	// Bad URLs and bodies: 4xx, no event, the row as it was.
	before := e.endpoint(t, tech)
	for _, bad := range []struct {
		body   string
		status int
	}{
		{`{"email":true,"in_console":true,"webhook_url":"https://hooks.example.com/a\u0000b"}`, http.StatusUnprocessableEntity},
		{"{\"email\":true,\"in_console\":true,\"webhook_url\":\"https://hooks.example.com/\xff\xfe\"}", http.StatusBadRequest},
		{`{"email":true,"in_console":true,"webhook_url":"https://hooks.example.com/` + strings.Repeat("a", 2049) + `"}`, http.StatusUnprocessableEntity},
		{`{"email":true,"in_console":true,"webhook_url":"ftp://hooks.example.com/x"}`, http.StatusUnprocessableEntity},
		{`{"email":true,"in_console":true,"webhook_url":"/relative"}`, http.StatusUnprocessableEntity},
		{`{"email":true,"in_console":true,"webhook_url":"https://hooks.example.com/\u0085"}`, http.StatusUnprocessableEntity},
		{`{"email":true,"in_console":true,"webhook":false,"webhook_url":"https://hooks.example.com/x"}`, http.StatusUnprocessableEntity},
		{`{"email":true,"in_console":true,"webhook_url":"https://hooks.example.com/` + strings.Repeat("a", 70<<10) + `"}`, http.StatusRequestEntityTooLarge},
	} {
		mark := e.tail(t)
		res := tech.raw(t, http.MethodPut, "/api/v1/me/notifications", []byte(bad.body))
		if res.Status != bad.status {
			t.Errorf("%.80q: %s, want %d", bad.body, truncate(res.String()), bad.status)
			continue
		}
		res.err(t)
		e.unchanged(t, mark, "a refused webhook")
		if got := e.endpoint(t, tech); got != before {
			t.Errorf("%.80q changed the endpoint", bad.body)
		}
	}

	// Off deletes the row; rotating then is a 409.
	off := put(map[string]any{"email": true, "in_console": true, "webhook_url": ""})
	if off.Notifications.Webhook || off.WebhookURL != "" || e.endpoint(t, tech).ok {
		t.Fatalf("off: %+v, row %+v", off, e.endpoint(t, tech))
	}
	if p := me(); p.Notifications.Webhook || p.WebhookURL != "" {
		t.Fatalf("profile after off: %+v", p)
	}
	tech.post(t, "/api/v1/me/notifications/webhook-secret", nil).wantErr(t, http.StatusConflict, "webhook_off")
	if kept := put(map[string]any{"email": true, "in_console": true, "webhook": true}); kept.Notifications.Webhook {
		t.Fatalf("keeping a webhook that is off turned it on: %+v", kept)
	}

	// On again, so that the scan has a URL and a secret to look for; the technician's history
	// says only which channels were on.
	put(map[string]any{"email": true, "in_console": true, "webhook_url": hookURL})
	found, err := pgtest.ScanDatabase(context.Background(), e.pool.Config().ConnString())
	if err != nil || len(found) != 0 {
		t.Fatalf("secrets in the log: %v %v", found, err)
	}
	var types []string
	rows, err := e.pool.Query(context.Background(), `SELECT DISTINCT event_type FROM events WHERE event_type LIKE 'technician.notification%'`)
	if err != nil {
		t.Fatal(err)
	}
	types, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(types) != 1 || types[0] != "technician.notification_settings_changed.v2" {
		t.Fatalf("settings events written: %v %v", types, err)
	}
}

// The scan finds a secret in any event's payload, also written with JSON escapes, and a
// bearer token by its hash: planted in a message, each is reported by event and stream, the
// secret itself never printed.
func TestSecretScanFindsPlantedSecrets(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, customer := w.inChat(t, uaWindows)
	hookURL := "https://hooks.example.com/plant?token=plant-0123456789abcdef&b=2"
	var on notificationsAnswer
	w.techA.json(t, http.MethodPut, "/api/v1/me/notifications", map[string]any{"email": true, "in_console": true, "webhook_url": hookURL}).want(t, http.StatusOK).decode(t, &on)
	// The customer pastes the technician's signing secret, and the API client its own bearer
	// token, into messages: text the log must keep as it was sent, and which the scan reports.
	customer.post(t, custPath(id, "messages"), map[string]any{"body": "the secret is " + on.SigningSecret}).want(t, http.StatusCreated)
	w.techA.post(t, reqPath(id, "messages"), map[string]any{"body": "my token: " + w.techA.bearer + "."}).want(t, http.StatusCreated)
	url := e.pool.Config().ConnString()
	found, err := pgtest.ScanDatabase(context.Background(), url)
	if err == nil || len(found) != 2 {
		t.Fatalf("found %v, %v; want the two messages", found, err)
	}
	if strings.Contains(err.Error(), on.SigningSecret) || strings.Contains(err.Error(), w.techA.bearer) {
		t.Fatalf("the report prints a secret: %v", err)
	}
	wants := []string{"technician_webhooks.signing_secret", "a bearer token of sessions"}
	for i, f := range found {
		if f.EventType != "request.message_sent.v1" || f.StreamID != "request-"+id.String() || !strings.Contains(f.Secret, wants[i]) {
			t.Errorf("finding %d: %v, want a message holding %s", i, f, wants[i])
		}
	}
	// The test's end scans again: the secrets go first, as a rotation and a logout would.
	w.techA.post(t, "/api/v1/me/notifications/webhook-secret", nil).want(t, http.StatusOK)
	w.techA.post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
	if found, err := pgtest.ScanDatabase(context.Background(), url); err != nil || len(found) != 0 {
		t.Fatalf("after rotation and logout: %v %v", found, err)
	}
}
