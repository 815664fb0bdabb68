package secrets_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/secrets"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/memstore"
	"github.com/helpstream/helpstream/internal/app"
)

// failingStore refuses appends while fail is set: the event store gone between the endpoint's
// write and the settings event.
type failingStore struct {
	*memstore.Store
	fail atomic.Bool
}

var errStoreDown = errors.New("the event store is down")

func (s *failingStore) Append(ctx context.Context, streamID string, expected eventlog.ExpectedVersion, events ...eventlog.EventData) (eventlog.AppendResult, error) {
	if s.fail.Load() {
		return eventlog.AppendResult{}, errStoreDown
	}
	return s.Store.Append(ctx, streamID, expected, events...)
}

// ChangeNotificationSettings writes the endpoint before the event; when the event's append
// fails, the endpoint is put back as it was (the old URL and secret restored, a new row
// removed, a removed row written back), so that the row and the last event agree.
func TestChangeNotificationSettingsPutsTheEndpointBack(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	store := &failingStore{Store: &memstore.Store{}}
	webhooks := secrets.NewWebhooks(pool)
	a, err := app.New(app.Config{Store: store, Webhooks: webhooks, CachedStreams: -1})
	if err != nil {
		t.Fatal(err)
	}
	tech := uuid.New()
	meta := app.Meta{Actor: app.Admin}
	if _, err := a.RegisterTechnician(ctx, meta, app.RegisterTechnician{TechnicianID: tech, Name: "Tess", Email: "tess@example.com"}); err != nil {
		t.Fatal(err)
	}
	// The failing commands switch e-mail off too, so that each has an event to append (a new
	// URL alone, the channels the same, writes none).
	email := true
	set := func(url string) (app.NotificationSettingsResult, error) {
		return a.ChangeNotificationSettings(ctx, meta, app.ChangeNotificationSettings{TechnicianID: tech, Email: email, WebhookURL: url})
	}
	first, err := set("https://hooks.example.com/one")
	if err != nil || first.SigningSecret == "" || !first.Settings.Webhook {
		t.Fatalf("set: %+v %v", first, err)
	}
	want, _, _ := webhooks.Webhook(ctx, tech)
	if want.SourceVersion != first.Version {
		t.Fatalf("source version %d, want the event's %d", want.SourceVersion, first.Version)
	}

	store.fail.Store(true)
	email = false
	for _, url := range []string{"https://hooks.example.com/two", ""} {
		if _, err := set(url); !errors.Is(err, errStoreDown) {
			t.Fatalf("set %q with the store down: %v", url, err)
		}
		if got, ok, err := webhooks.Webhook(ctx, tech); !ok || err != nil || got != want {
			t.Fatalf("after a failed %q: %+v %v %v, want %+v", url, got, ok, err, want)
		}
	}

	store.fail.Store(false)
	email = true
	if _, err := set(""); err != nil {
		t.Fatal(err)
	}
	store.fail.Store(true)
	if _, err := set("https://hooks.example.com/three"); !errors.Is(err, errStoreDown) {
		t.Fatalf("set with the store down: %v", err)
	}
	if _, ok, err := webhooks.Webhook(ctx, tech); ok || err != nil {
		t.Fatalf("a failed command left a new endpoint: %v %v", ok, err)
	}
	tech2, err := a.Technician(ctx, tech)
	if err != nil || tech2.Notifications().Webhook {
		t.Fatalf("the technician's webhook: %+v %v", tech2.Notifications(), err)
	}
}

// Saves of one technician's settings racing each other (on at one URL, on at another, off)
// end with the endpoint and the technician's last event agreeing on whether the webhook is on,
// and the endpoint at the URL of the last event written.
func TestChangeNotificationSettingsRacing(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	webhooks := secrets.NewWebhooks(pool)
	a, err := app.New(app.Config{Store: &memstore.Store{}, Webhooks: webhooks})
	if err != nil {
		t.Fatal(err)
	}
	tech := uuid.New()
	meta := app.Meta{Actor: app.Admin}
	if _, err := a.RegisterTechnician(ctx, meta, app.RegisterTechnician{TechnicianID: tech, Name: "Tess", Email: "tess@example.com"}); err != nil {
		t.Fatal(err)
	}
	urls := []string{"https://a.example.com/x", "https://b.example.com/y", ""}
	for round := range 20 {
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := a.ChangeNotificationSettings(ctx, meta, app.ChangeNotificationSettings{
					TechnicianID: tech, Email: i%2 == 0, InConsole: true, WebhookURL: urls[(i+round)%len(urls)]})
				if err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		got, err := a.Technician(ctx, tech)
		if err != nil {
			t.Fatal(err)
		}
		_, on, err := webhooks.Webhook(ctx, tech)
		if err != nil {
			t.Fatal(err)
		}
		if on != got.Notifications().Webhook {
			t.Fatalf("round %d: endpoint present %v, the technician's webhook %v", round, on, got.Notifications().Webhook)
		}
	}
}
