package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// WebhookEndpoint is where a technician's webhook posts and the secret that signs what it posts
// (R5). Both are secrets (a URL carries its receiver's token), kept out of the event log
// (design §6): the technician's events say only that the webhook channel is on.
type WebhookEndpoint struct {
	// URL is the absolute http(s) URL the notifier POSTs to.
	URL string
	// SigningSecret keys the HMAC-SHA256 signature of every POST ("whsec_" and 32 random
	// bytes, base64url).
	SigningSecret string
	// SourceVersion is the version, in the technician's stream, of the settings this endpoint
	// goes with: `helpstream admin secrets-migrate` never overwrites an endpoint with an older
	// event's.
	SourceVersion int64
}

// WebhookEndpoints keeps the technicians' webhook endpoints. A technician's webhook channel is
// on exactly when they have an endpoint: turning it off removes the endpoint, so the notifier
// reads one place to know whom to POST to.
type WebhookEndpoints interface {
	// Webhook returns the technician's endpoint; ok is false when their webhook is off.
	Webhook(ctx context.Context, technicianID uuid.UUID) (e WebhookEndpoint, ok bool, err error)
	// SetWebhook makes rawURL the technician's endpoint, for the settings at sourceVersion of
	// their stream (a higher version already stored is kept). A new or changed URL gets a fresh
	// signing secret, returned with created true; the same URL keeps its secret, returned with
	// created false.
	SetWebhook(ctx context.Context, technicianID uuid.UUID, rawURL string, sourceVersion int64) (secret string, created bool, err error)
	// PutWebhook writes e as the technician's endpoint exactly: it puts back what a command
	// changed before it failed.
	PutWebhook(ctx context.Context, technicianID uuid.UUID, e WebhookEndpoint) error
	// RemoveWebhook deletes the technician's endpoint; having none is no error.
	RemoveWebhook(ctx context.Context, technicianID uuid.UUID) error
	// RotateWebhookSecret gives the technician's endpoint a fresh signing secret and returns
	// it, or ErrNoWebhook when they have no endpoint.
	RotateWebhookSecret(ctx context.Context, technicianID uuid.UUID) (string, error)
}

// ErrNoWebhook is returned when rotating the signing secret of a technician whose webhook is
// off. (Keeping a webhook that is off keeps it off: no error.)
var ErrNoWebhook = errors.New("the webhook is off: set a webhook URL first")

// ErrNoWebhookEndpoints is returned by the webhook commands of an App built without
// Config.WebhookEndpoints.
var ErrNoWebhookEndpoints = errors.New("app: no webhook endpoint store is configured")

// ErrInvalidWebhookURL is returned for a webhook that is not an absolute http or https URL of at
// most MaxWebhookURL bytes of valid UTF-8 without control characters.
var ErrInvalidWebhookURL = errors.New("webhook URL must be an absolute http or https URL of at most 2048 bytes")

// MaxWebhookURL is the longest webhook URL, in bytes (the secrets table checks it too).
const MaxWebhookURL = 2048

// CheckWebhookURL validates a webhook URL where it enters: the API and the migration of old
// events. It refuses what no receiver could be: relative URLs, other schemes, no host, NUL
// and other control characters, invalid UTF-8, spaces.
func CheckWebhookURL(raw string) error {
	if len(raw) > MaxWebhookURL || !utf8.ValidString(raw) {
		return ErrInvalidWebhookURL
	}
	for _, r := range raw {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return ErrInvalidWebhookURL
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return ErrInvalidWebhookURL
	}
	return nil
}

// RedactWebhookURL is how a webhook URL is shown back, once set: its scheme and host, the
// rest (the path and query that carry the receiver's token, a user and password) elided, so
// that the owner recognises it and nobody reading over a shoulder or a log can use it.
func RedactWebhookURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "…"
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host + "/…"
}

// ChangeNotificationSettings sets which channels tell a technician of new requests, and where
// their webhook posts.
type ChangeNotificationSettings struct {
	TechnicianID uuid.UUID
	Email        bool
	InConsole    bool
	// WebhookURL turns the webhook on, posting there; empty turns it off.
	WebhookURL string
	// KeepWebhook leaves the webhook as it is (on at its URL and secret, or off) and ignores
	// WebhookURL: a client that shows only the redacted URL changes the other switches.
	KeepWebhook bool
}

// NotificationSettingsResult is where the settings event landed and, when the command set a
// new or changed webhook URL, the endpoint's new signing secret: the only time it is shown.
type NotificationSettingsResult struct {
	Result
	// Settings are the channels now on.
	Settings directory.NotificationSettings
	// WebhookURL is the webhook's URL redacted (RedactWebhookURL), when it is on.
	WebhookURL string
	// SigningSecret is the new endpoint's signing secret, or empty when the URL was unchanged
	// or the webhook is off.
	SigningSecret string
}

// ChangeNotificationSettings validates the webhook URL, writes (or removes) the technician's
// endpoint, then appends the settings event (technician.notification_settings_changed.v2,
// which says only which channels are on).
//
// The endpoint is written first because it is the current state the notifier reads, and the
// event only its history. The commands of one technician run one at a time in this process,
// so that two saves in a row (a double click) cannot leave the row of one and the event of
// the other; two servers saving the same technician's settings at the same instant can, until
// the next save (the row is then the one the notifier follows).
// a failure of the append puts the endpoint back as it was (restored
// or removed), so that the endpoint and the last event agree on whether the webhook is on. If
// that fails too (the database is gone), both errors are returned and logged: the endpoint
// then holds the newer setting, the technician's settings the older one, until they save
// again. An endpoint's source version is the version of the event written with it (the
// stream's version when nothing was written: the same channels, another URL).
func (a *App) ChangeNotificationSettings(ctx context.Context, meta Meta, cmd ChangeNotificationSettings) (NotificationSettingsResult, error) {
	if a.webhooks == nil {
		return NotificationSettingsResult{}, ErrNoWebhookEndpoints
	}
	on := cmd.WebhookURL != ""
	if !cmd.KeepWebhook && on {
		if err := CheckWebhookURL(cmd.WebhookURL); err != nil {
			return NotificationSettingsResult{}, err
		}
	}
	unlock := a.webhookLocks.lock(cmd.TechnicianID)
	defer unlock()
	_, l, err := a.technicians.load(ctx, a.store, cmd.TechnicianID)
	if err != nil {
		return NotificationSettingsResult{}, err
	}
	prev, had, err := a.webhooks.Webhook(ctx, cmd.TechnicianID)
	if err != nil {
		return NotificationSettingsResult{}, fmt.Errorf("read the webhook endpoint: %w", err)
	}
	var secret, redacted string
	switch {
	case cmd.KeepWebhook:
		on = had
		if had {
			redacted = RedactWebhookURL(prev.URL)
		}
	case on:
		redacted = RedactWebhookURL(cmd.WebhookURL)
		s, created, err := a.webhooks.SetWebhook(ctx, cmd.TechnicianID, cmd.WebhookURL, l.version)
		if err != nil {
			return NotificationSettingsResult{}, fmt.Errorf("store the webhook endpoint: %w", err)
		}
		if created {
			secret = s
		}
	case had:
		if err := a.webhooks.RemoveWebhook(ctx, cmd.TechnicianID); err != nil {
			return NotificationSettingsResult{}, fmt.Errorf("remove the webhook endpoint: %w", err)
		}
	}
	settings := directory.NotificationSettings{Email: cmd.Email, Webhook: on, InConsole: cmd.InConsole}
	res, err := update(ctx, a, meta, a.technicians, cmd.TechnicianID, func(t *directory.Technician, _ *reads) error {
		t.ChangeNotificationSettings(settings)
		return nil
	})
	if err != nil {
		if undo := a.putBackWebhook(context.WithoutCancel(ctx), cmd, prev, had); undo != nil {
			return NotificationSettingsResult{}, errors.Join(err, undo)
		}
		return NotificationSettingsResult{}, err
	}
	if on && !cmd.KeepWebhook && res.Version > l.version {
		// The endpoint goes with the event just written; SetWebhook keeps its secret (same URL).
		if _, _, err := a.webhooks.SetWebhook(ctx, cmd.TechnicianID, cmd.WebhookURL, res.Version); err != nil {
			slog.WarnContext(ctx, "webhook endpoint kept at the stream's version before its settings event", "technician", cmd.TechnicianID, "err", err)
		}
	}
	return NotificationSettingsResult{Result: res, Settings: settings, WebhookURL: redacted, SigningSecret: secret}, nil
}

// putBackWebhook undoes what ChangeNotificationSettings did to the endpoint before its append
// failed: the previous endpoint written back, or the new one removed.
func (a *App) putBackWebhook(ctx context.Context, cmd ChangeNotificationSettings, prev WebhookEndpoint, had bool) error {
	if cmd.KeepWebhook {
		return nil
	}
	var err error
	switch {
	case had:
		err = a.webhooks.PutWebhook(ctx, cmd.TechnicianID, prev)
	case cmd.WebhookURL != "":
		err = a.webhooks.RemoveWebhook(ctx, cmd.TechnicianID)
	}
	if err != nil {
		slog.ErrorContext(ctx, "the settings event failed and the webhook endpoint could not be put back: it is ahead of the technician's settings until they save again",
			"technician", cmd.TechnicianID, "err", err)
		return fmt.Errorf("put the webhook endpoint back: %w", err)
	}
	return nil
}

// RotateWebhookSecret gives a technician's webhook a fresh signing secret and returns it: the
// only time it is shown. The old one stops signing at once. It writes no event: the secret
// is not in the log, and the channel stays on.
func (a *App) RotateWebhookSecret(ctx context.Context, technicianID uuid.UUID) (string, error) {
	if a.webhooks == nil {
		return "", ErrNoWebhookEndpoints
	}
	if _, _, err := a.technicians.load(ctx, a.store, technicianID); err != nil {
		return "", err
	}
	unlock := a.webhookLocks.lock(technicianID)
	defer unlock()
	return a.webhooks.RotateWebhookSecret(ctx, technicianID)
}

// keyedLocks serialises what one technician's webhook commands do to their endpoint and
// stream. A lock is kept once made: one small mutex per technician who ever saved.
type keyedLocks struct {
	locks sync.Map // uuid.UUID → *sync.Mutex
}

func (k *keyedLocks) lock(id uuid.UUID) (unlock func()) {
	m, _ := k.locks.LoadOrStore(id, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
