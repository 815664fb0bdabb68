package notifier_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/notifier"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// R5: every technician with access to the company and the channel on is notified once per
// channel, with a link to the request; nobody else is, and other events notify nobody.
func TestSubmissionNotifiesEveryTechnicianWithAccessOncePerChannel(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	box := newMailbox(t)
	hookBoth, hookOnly, hookOutsider := newHook(t), newHook(t), newHook(t)
	emailOnly := w.technician(t, "emma", true, true, nil)
	w.technician(t, "bob", true, true, hookBoth)
	w.technician(t, "will", true, false, hookOnly)     // webhook only
	w.technician(t, "quiet", true, false, nil)         // access, every channel off
	w.technician(t, "olga", false, true, hookOutsider) // both on, no access
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.SMTPURL, cfg.SMTPTLS = box.url(), box.tls
	start(t, cfg)

	requestID, pos := w.submit(t, "  The printer\r\nis on fire.\nSubject: injected\n  ")
	// Events that are not submissions notify nobody.
	if _, err := w.svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: uuid.New(), Name: "Initech"}); err != nil {
		t.Fatal(err)
	}
	sentinel, _ := w.submit(t, "second")

	eventually(t, "two e-mails for each of emma and bob, a webhook for bob's and will's endpoints per request", func() bool {
		return len(box.mails()) == 4 && len(hookBoth.calls()) == 2 && len(hookOnly.calls()) == 2
	})
	// The receipt comes just before the row is marked sent.
	eventually(t, "8 deliveries marked sent, nothing else", func() bool {
		got := deliveries(t, w)
		return got["sent"] == 8 && len(got) == 1
	})
	if n := len(hookOutsider.calls()); n != 0 {
		t.Errorf("the technician without access got %d webhooks", n)
	}
	wantTo := map[string]int{"emma@example.com": 2, "bob@example.com": 2}
	if got := countBy(box.mails(), func(m received) string { return m.To }); !equalCounts(got, wantTo) {
		t.Errorf("e-mails by recipient = %v, want %v", got, wantTo)
	}
	for _, m := range box.mails() {
		if !m.TLS || m.User != "hs" || m.From != "helpstream@example.com" {
			t.Errorf("e-mail to %s: TLS %v, user %q, from %q; want STARTTLS, AUTH as hs, from helpstream@example.com", m.To, m.TLS, m.User, m.From)
		}
		if m.Subject != "New support request for Acme & Sons" {
			t.Errorf("subject %q", m.Subject)
		}
		if strings.Contains(m.Body, "\nSubject:") {
			t.Errorf("the description broke out of its line:\n%s", m.Body)
		}
		link := publicURL + "/console/requests/"
		if !strings.Contains(m.Body, link+requestID.String()) && !strings.Contains(m.Body, link+sentinel.String()) {
			t.Errorf("e-mail without a link to the request:\n%s", m.Body)
		}
	}
	// The Message-ID is the idempotency key's.
	firstKeyEmma := notifier.IdempotencyKey(eventIDAt(t, w, pos), emailOnly, notifier.ChannelEmail)
	if !slices.ContainsFunc(box.mails(), func(m received) bool { return m.MessageID == notifier.MessageID(firstKeyEmma) }) {
		t.Errorf("no e-mail with Message-ID %s among %v", notifier.MessageID(firstKeyEmma), box.mails())
	}
	for name, h := range map[string]*hook{"bob": hookBoth, "will": hookOnly} {
		calls := h.calls()
		for i, c := range calls {
			if c.SignatureOK != nil {
				t.Errorf("%s's webhook %d: signature: %v", name, i, c.SignatureOK)
			}
			if c.Idempotency != c.Note.ID.String() {
				t.Errorf("%s's webhook %d: Idempotency-Key %q, body id %s", name, i, c.Idempotency, c.Note.ID)
			}
			if c.Note.Type != "request.submitted" || c.Note.CompanyID != w.company || c.Note.CompanyName != "Acme & Sons" ||
				c.Note.URL != publicURL+"/console/requests/"+c.Note.RequestID.String() || c.Note.SubmittedAt.IsZero() {
				t.Errorf("%s's webhook %d: body %+v", name, i, c.Note)
			}
		}
		// In order: the first request's notification before the second's.
		if calls[0].Note.RequestID != requestID || calls[1].Note.RequestID != sentinel {
			t.Errorf("%s's webhooks came in the order %s, %s; want %s, %s", name, calls[0].Note.RequestID, calls[1].Note.RequestID, requestID, sentinel)
		}
		if calls[0].Note.Summary != "The printer is on fire. Subject: injected" {
			t.Errorf("summary %q", calls[0].Note.Summary)
		}
	}
}

// eventIDAt is the ID of the event at pos.
func eventIDAt(t *testing.T, w *world, pos eventlog.Position) uuid.UUID { return eventAt(t, w, pos).ID }

// eventAt is the event at pos, read back from the log.
func eventAt(t *testing.T, w *world, pos eventlog.Position) eventlog.RecordedEvent {
	t.Helper()
	from := eventlog.Start()
	for {
		batch, err := w.svc.Store.ReadAll(context.Background(), from, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			t.Fatalf("no event at %s", pos)
		}
		for _, e := range batch {
			if e.Position == pos {
				return e
			}
		}
		from = batch[len(batch)-1].Position
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A message delivered again records nothing new and sends nothing twice.
func TestRedeliveredMessageSendsNothingTwice(t *testing.T) {
	w := newWorld(t)
	box := newMailbox(t)
	h := newHook(t)
	w.technician(t, "bob", true, true, h)
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.SMTPURL, cfg.SMTPTLS = box.url(), box.tls
	start(t, cfg)

	_, pos := w.submit(t, "first")
	eventually(t, "the first notification", func() bool { return len(box.mails()) == 1 && len(h.calls()) == 1 })
	// The same event published again, as an at-least-once broker or a forwarder that crashed
	// before its checkpoint would.
	again := stream.NewMessage(eventAt(t, w, pos))
	pub, err := stream.NewSQLPublisher(w.svc.Pool, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish(testTopic, again); err != nil {
		t.Fatal(err)
	}
	// A later submission, published after the repeat, is handled after it: once its
	// notifications are out, the repeat has been handled too.
	w.submit(t, "sentinel")
	eventually(t, "the sentinel's notifications", func() bool { return len(box.mails()) >= 2 && len(h.calls()) >= 2 })
	if n, m := len(box.mails()), len(h.calls()); n != 2 || m != 2 {
		t.Errorf("after a repeated message: %d e-mails and %d webhooks, want 2 and 2", n, m)
	}
}

// The handler killed mid-batch (its router stopped while messages are in flight) and a new
// one started on the same consumer group: every recipient gets exactly one e-mail and one
// webhook per submission, by idempotency key.
func TestHandlerKilledMidBatchSendsEachNotificationOnce(t *testing.T) {
	w := newWorld(t)
	box := newMailbox(t)
	hooks := []*hook{newHook(t), newHook(t), newHook(t)}
	for i, h := range hooks {
		w.technician(t, "tech"+string(rune('a'+i)), true, true, h)
	}
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.SMTPURL, cfg.SMTPTLS = box.url(), box.tls
	stop := start(t, cfg)

	const submissions = 40
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range submissions {
			w.submit(t, "a request among many")
		}
	}()
	eventually(t, "some notifications recorded", func() bool { return deliveries(t, w)["sent"] > 0 })
	stop() // mid-batch: submissions are still coming
	<-done
	second := w.notifierConfig(t)
	second.SMTPURL, second.SMTPTLS = box.url(), box.tls
	start(t, second)

	want := submissions * len(hooks)
	eventually(t, "every notification sent", func() bool {
		return deliveries(t, w)["sent"] == 2*want
	})
	mails := countBy(box.mails(), func(m received) string { return m.MessageID })
	if len(mails) != want {
		t.Errorf("%d distinct e-mails, want %d", len(mails), want)
	}
	for id, n := range mails {
		if n != 1 {
			t.Errorf("e-mail %s arrived %d times", id, n)
		}
	}
	for i, h := range hooks {
		keys := countBy(h.calls(), func(c hookCall) string { return c.Idempotency })
		if len(keys) != submissions {
			t.Errorf("webhook %d: %d distinct notifications, want %d", i, len(keys), submissions)
		}
		for k, n := range keys {
			if n != 1 {
				t.Errorf("webhook %d: %s arrived %d times", i, k, n)
			}
		}
	}
}

// A failing, a hanging and a healthy endpoint: the healthy one is served at once, the failing
// one in order once it recovers, the hanging one's deliveries become dead letters, and replay
// sends them once it answers.
func TestWebhookEndpointsFailHangAndRecoverIndependently(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	healthy, failing, hanging := newHook(t), newHook(t), newHook(t)
	w.technician(t, "healthy", true, false, healthy)
	w.technician(t, "failing", true, false, failing)
	hangingTech := w.technician(t, "hanging", true, false, hanging)
	failing.setFailing(2) // within MaxAttempts
	hanging.setHanging(true)
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.SendTimeout, cfg.MaxAttempts = 300*time.Millisecond, 3
	start(t, cfg)

	var requests []uuid.UUID
	var first eventlog.Position
	for i := range 3 {
		id, pos := w.submit(t, "request")
		requests = append(requests, id)
		if i == 0 {
			first = pos
		}
	}
	eventually(t, "the healthy endpoint's three notifications", func() bool { return len(healthy.calls()) == 3 })
	if len(hanging.calls()) != 0 {
		t.Fatal("the hanging endpoint answered")
	}
	eventually(t, "the failing endpoint's three notifications after it recovered", func() bool { return len(failing.calls()) == 3 })
	for name, h := range map[string]*hook{"healthy": healthy, "failing": failing} {
		got := []uuid.UUID{}
		for _, c := range h.calls() {
			got = append(got, c.Note.RequestID)
		}
		if !slices.Equal(got, requests) {
			t.Errorf("%s endpoint got %v, want %v in that order", name, got, requests)
		}
	}
	// The hanging endpoint: 3 attempts each, then dead.
	eventually(t, "the hanging endpoint's deliveries dead", func() bool { return deliveries(t, w)["dead"] == 3 })
	dead, err := notifier.DeadLetters(ctx, w.svc.Pool, notifier.ChannelWebhook, eventlog.Start(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 3 {
		t.Fatalf("%d dead letters, want 3", len(dead))
	}
	for _, d := range dead {
		if d.TechnicianID != hangingTech || d.Attempts != 3 || !strings.Contains(d.LastError, "deadline") || strings.Contains(d.LastError, "token-in-path") {
			t.Errorf("dead letter %+v: want the hanging technician's, 3 attempts, a timeout, no URL path", d)
		}
	}
	if dead[0].Position != first {
		t.Errorf("first dead letter at %s, want %s", dead[0].Position, first)
	}
	// Replay from the second submission: only the last two are queued again.
	hanging.setHanging(false)
	n, err := notifier.Replay(ctx, w.svc.Pool, notifier.ChannelWebhook, dead[1].Position)
	if err != nil || n != 2 {
		t.Fatalf("replay = %d, %v; want 2", n, err)
	}
	eventually(t, "the replayed notifications", func() bool { return len(hanging.calls()) == 2 })
	if got := []uuid.UUID{hanging.calls()[0].Note.RequestID, hanging.calls()[1].Note.RequestID}; !slices.Equal(got, requests[1:]) {
		t.Errorf("replayed %v, want %v", got, requests[1:])
	}
	if _, err := notifier.Replay(ctx, w.svc.Pool, "sms", eventlog.Start()); err == nil {
		t.Error("replay of an unknown channel: no error")
	}
}

// A message the handler cannot read goes to the poison queue, and the next one is handled.
func TestUnreadableMessageGoesToThePoisonQueue(t *testing.T) {
	w := newWorld(t)
	h := newHook(t)
	w.technician(t, "bob", true, false, h)
	w.forward(t)
	cfg := w.notifierConfig(t)
	cfg.PoisonTopic = "test.poison"
	poisoned := streamtest.Subscribe(t, context.Background(), cfg.PoisonTopic, func() (message.Subscriber, error) {
		return stream.NewSQLSubscriber(w.svc.Pool, stream.SQLSubscriberConfig{ConsumerGroup: "test", PollInterval: 20 * time.Millisecond}, quietLogger())
	})
	start(t, cfg)
	pub, err := stream.NewSQLPublisher(w.svc.Pool, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	bad := message.NewMessage(uuid.NewString(), []byte(`{"request_id": 42}`))
	bad.Metadata.Set("event_type", "request.submitted.v1")
	bad.Metadata.Set("position", "99999999-0")
	bad.Metadata.Set("occurred_at", time.Now().UTC().Format(time.RFC3339Nano))
	if err := pub.Publish(testTopic, bad); err != nil {
		t.Fatal(err)
	}
	w.submit(t, "after the bad one")
	select {
	case msg := <-poisoned:
		if msg.UUID != bad.UUID {
			t.Errorf("poisoned %s, want %s", msg.UUID, bad.UUID)
		}
		msg.Ack()
	case <-time.After(30 * time.Second):
		t.Fatal("nothing reached the poison queue")
	}
	eventually(t, "the next submission's webhook", func() bool { return len(h.calls()) == 1 })
}

// The service runs the notifier with Config.Notifications: a forwarder of its own to
// watermill-sql that starts at the log's head (a request submitted before the first start is
// not notified), e-mail and webhooks.
func TestServiceRunsTheNotifier(t *testing.T) {
	box := newMailbox(t)
	h := newHook(t)
	w := newWorld(t)
	w.technician(t, "bob", true, true, h)
	_, before := w.submit(t, "before the notifier's first start")
	// The notifier starts from the log's head as a reader sees it, which an append still
	// open elsewhere may hold back a moment.
	eventually(t, "the log's head at the first submission", func() bool {
		head, err := w.svc.Store.(eventlog.HeadReader).Head(context.Background())
		return err == nil && head.Compare(before) >= 0
	})
	servicetest.New(t, servicetest.Beside(w.svc), func(c *service.Config) {
		c.Notifications, c.PublicURL, c.SMTPURL, c.SMTPTLS = true, publicURL, box.url(), box.tls
		c.NotifyPollInterval, c.NotifyRetryBase = 50*time.Millisecond, 50*time.Millisecond
	})
	// The notifier starts in the background: submit until one is notified, then check
	// that only what came after its start was.
	var after []uuid.UUID
	eventually(t, "an e-mail and a webhook", func() bool {
		id, _ := w.submit(t, "after the start")
		after = append(after, id)
		time.Sleep(100 * time.Millisecond)
		return len(box.mails()) > 0 && len(h.calls()) > 0
	})
	for _, c := range h.calls() {
		if !slices.Contains(after, c.Note.RequestID) {
			t.Errorf("notified of %s, submitted before the notifier's first start", c.Note.RequestID)
		}
		if c.SignatureOK != nil {
			t.Errorf("signature: %v", c.SignatureOK)
		}
	}
}

// With a broker (serve --stream-broker), the notifier subscribes to the forwarder's topic
// there, in its own durable consumer group.
func TestServiceNotifiesThroughABroker(t *testing.T) {
	for _, broker := range []string{"nats://127.0.0.1:4222", "amqp://guest:guest@127.0.0.1:5672/"} {
		t.Run(strings.SplitN(broker, ":", 2)[0], func(t *testing.T) {
			ctx := context.Background()
			topic := "test.notify." + strings.ReplaceAll(uuid.NewString(), "-", "")
			h := newHook(t)
			w := newWorld(t, func(c *service.Config) {
				c.Notifications, c.PublicURL, c.NotifyBroker, c.NotifyTopic = true, publicURL, broker, topic
				c.NotifyPollInterval = 50 * time.Millisecond
			})
			t.Cleanup(func() { removeBrokerTopic(t, broker, topic) })
			w.technician(t, "bob", true, false, h)
			b, err := stream.OpenBroker(ctx, broker, stream.BrokerOptions{Topic: topic, Logger: quietLogger()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			fcfg := stream.Config{Name: "t" + topic[len(topic)-12:], Topic: topic, Pool: w.svc.Pool, Store: w.svc.Store, LeaderRetry: 100 * time.Millisecond, Logger: quietLogger()}
			b.Configure(&fcfg)
			fwd, err := stream.NewForwarder(fcfg)
			if err != nil {
				t.Fatal(err)
			}
			runUntilCleanup(t, fwd.Run)
			// The consumer's queue or durable consumer appears when the notifier subscribes:
			// submit until one submission is notified, then each once.
			var submitted []uuid.UUID
			eventually(t, "a webhook through "+broker, func() bool {
				id, _ := w.submit(t, "through a broker")
				submitted = append(submitted, id)
				time.Sleep(200 * time.Millisecond)
				return len(h.calls()) > 0
			})
			last, _ := w.submit(t, "the last one")
			eventually(t, "the last submission's webhook", func() bool {
				return slices.ContainsFunc(h.calls(), func(c hookCall) bool { return c.Note.RequestID == last })
			})
			for id, n := range countBy(h.calls(), func(c hookCall) string { return c.Note.RequestID.String() }) {
				if n != 1 {
					t.Errorf("request %s notified %d times", id, n)
				}
			}
		})
	}
}
