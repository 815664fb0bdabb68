package notifier_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
	"github.com/helpstream/helpstream/projections"
)

const (
	testTopic = "test.events"
	publicURL = "https://help.example.com"
)

var admin = app.Meta{Actor: app.Admin, CorrelationID: "notifier-test"}

// world is a whole service (projectors running) with a company, its portal, and a forwarder
// of the log to a watermill-sql topic in its database.
type world struct {
	svc      *service.Service
	company  uuid.UUID
	portal   uuid.UUID
	other    uuid.UUID // a company of its own, with its own portal
	otherPtl uuid.UUID
}

func newWorld(t *testing.T, options ...servicetest.Option) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{svc: servicetest.New(t, options...), company: uuid.New(), portal: uuid.New(), other: uuid.New(), otherPtl: uuid.New()}
	for _, c := range []struct {
		id, portal uuid.UUID
		name       string
	}{{w.company, w.portal, "Acme & Sons"}, {w.other, w.otherPtl, "Globex"}} {
		if _, err := w.svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: c.id, Name: c.name}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.App.CreatePortal(ctx, admin, app.CreatePortal{CompanyID: c.id, PortalID: c.portal, Name: c.name + " portal"}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// forward runs a forwarder of the log to testTopic until the test ends.
func (w *world) forward(t *testing.T) {
	t.Helper()
	if err := stream.InitializeSQLTopic(context.Background(), w.svc.Pool, testTopic); err != nil {
		t.Fatal(err)
	}
	fwd, err := stream.NewForwarder(stream.Config{Name: "notifier-test", Topic: testTopic, Pool: w.svc.Pool, Store: w.svc.Store,
		PublishInTx: stream.SQLPublisherInTx, LeaderRetry: 100 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, fwd.Run)
}

// technician registers a technician, grants them the company when access, turns their e-mail
// on when email, and gives them a webhook endpoint at h when h is set, as
// `PUT /api/v1/me/notifications` does (the app keeps the URL and a new signing secret in
// technician_webhooks, out of the event).
func (w *world) technician(t *testing.T, name string, access, email bool, h *hook) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	if _, err := w.svc.App.RegisterTechnician(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: name, Email: name + "@example.com"}); err != nil {
		t.Fatal(err)
	}
	company := w.other
	if access {
		company = w.company
	}
	if _, err := w.svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: company}); err != nil {
		t.Fatal(err)
	}
	settings := app.ChangeNotificationSettings{TechnicianID: id, Email: email, InConsole: true}
	if h != nil {
		settings.WebhookURL = h.url()
	}
	res, err := w.svc.App.ChangeNotificationSettings(ctx, admin, settings)
	if err != nil {
		t.Fatal(err)
	}
	if h != nil {
		h.trust(res.SigningSecret)
	}
	// Only Available technicians are notified (R2, R5): everyone here is, unless a test
	// changes it.
	w.setAvailability(t, id, directory.Available)
	return id
}

// setAvailability sets a technician's chat status.
func (w *world) setAvailability(t *testing.T, id uuid.UUID, a directory.Availability) {
	t.Helper()
	if _, err := w.svc.App.SetAvailability(context.Background(), admin, app.SetAvailability{TechnicianID: id, Availability: a}); err != nil {
		t.Fatal(err)
	}
}

// submit submits a request to the company.
func (w *world) submit(t testing.TB, description string) (uuid.UUID, eventlog.Position) {
	t.Helper()
	id := uuid.New()
	res, err := w.svc.App.SubmitRequest(context.Background(), app.Meta{Actor: app.Actor{Kind: "customer", ID: id}}, app.SubmitRequest{
		RequestID: id, PortalID: w.portal, CompanyID: w.company, Description: description,
		Customer: request.Customer{Name: "Ann Customer", Email: "ann@example.com"},
		Source:   request.Source{IP: "192.0.2.1", Platform: request.Windows, OS: "Windows", OSVersion: "11", Browser: "Edge"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Position
}

// notifierConfig is a notifier on testTopic in the world's database, fast to retry, with
// the receivers' settings left to the test.
func (w *world) notifierConfig(t *testing.T) notifier.Config {
	t.Helper()
	sub, err := stream.NewSQLSubscriber(w.svc.Pool, stream.SQLSubscriberConfig{ConsumerGroup: notifier.ConsumerGroup, PollInterval: 20 * time.Millisecond}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	poison, err := stream.NewSQLPublisher(w.svc.Pool, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = poison.Close() })
	heads := w.svc.Store.(eventlog.HeadReader)
	return notifier.Config{
		Pool: w.svc.Pool, Subscriber: sub, Topic: testTopic, PoisonPublisher: poison, Head: heads.Head,
		WaitForDirectory: func(ctx context.Context, pos eventlog.Position, timeout time.Duration) (bool, error) {
			return projections.WaitFor(ctx, w.svc.Pool, []string{"directory"}, pos, timeout)
		},
		PublicURL: publicURL, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		SendTimeout: 2 * time.Second, PollInterval: 50 * time.Millisecond, Logger: quietLogger(),
	}
}

// start runs a notifier until the function returned (or the test's end) stops it; the
// function waits until Run has returned.
func start(t *testing.T, cfg notifier.Config) (stop func()) {
	t.Helper()
	n, err := notifier.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop = runUntilCleanup(t, n.Run)
	// What is submitted from here on is after the notifier's starting point.
	eventually(t, "the notifier's starting point recorded", func() bool {
		var n int
		err := cfg.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notifier_start`).Scan(&n)
		return err == nil && n == 1
	})
	return stop
}

func runUntilCleanup(t *testing.T, run func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds, or fails the test after 30 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliveries counts the notification_deliveries rows by status.
func deliveries(t *testing.T, w *world) map[string]int {
	t.Helper()
	rows, err := w.svc.Pool.Query(context.Background(), `SELECT status, count(*) FROM notification_deliveries GROUP BY status`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

func countBy[T any](items []T, key func(T) string) map[string]int {
	out := map[string]int{}
	for _, it := range items {
		out[key(it)]++
	}
	return out
}

// removeBrokerTopic deletes what a test's topic left on a broker: the JetStream stream, or
// the RabbitMQ exchange and the notifier's queue.
func removeBrokerTopic(t *testing.T, broker, topic string) {
	t.Helper()
	switch {
	case strings.HasPrefix(broker, "nats://"):
		streamtest.DeleteNATSTopic(t, broker, topic)
	case strings.HasPrefix(broker, "amqp://"):
		streamtest.DeleteAMQPTopic(t, broker, topic, topic+"_"+notifier.ConsumerGroup)
	}
}
