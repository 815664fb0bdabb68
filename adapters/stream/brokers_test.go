package stream_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// The brokers these tests publish to: the real servers of this machine (and of CI).
var (
	amqpURL = envOr("HELPSTREAM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
	natsURL = envOr("HELPSTREAM_TEST_NATS_URL", "nats://127.0.0.1:4222")
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// brokerUnderTest is one broker opened for one test's topic.
type brokerUnderTest struct {
	// exactlyOnce: the broker publishes in the checkpoint's transaction.
	exactlyOnce bool
	// configure sets the forwarder's publisher, wrapped by wrap when it is not nil.
	configure func(cfg *stream.Config, wrap func(message.Publisher) message.Publisher)
	// subscribe starts a consumer of the topic; its messages come on the channel.
	subscribe func(t *testing.T, ctx context.Context) <-chan *message.Message
}

type brokerCase struct {
	name string
	open func(t *testing.T, ctx context.Context, log eventLog, topic string) brokerUnderTest
}

var brokerCases = []brokerCase{
	{"watermill-sql", openSQL},
	{"rabbitmq", openAMQP},
	{"nats-jetstream", openNATS},
}

// forwarderConfig configures a forwarder of a new name from log to topic, in batches of
// batchSize, that retries quickly.
func (log eventLog) forwarderConfig(topic string, batchSize int) stream.Config {
	return stream.Config{Name: unique("test-"), Topic: topic, Pool: log.pool, Store: log.store,
		BatchSize: batchSize, LeaderRetry: 100 * time.Millisecond, RetryDelay: 100 * time.Millisecond}
}

// forEachBroker runs test on every broker, in parallel, each started by its case's start.
func forEachBroker(t *testing.T, test func(t *testing.T, name string, ctx context.Context, log eventLog, topic string, broker brokerUnderTest, got *received)) {
	for _, bc := range brokerCases {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			ctx, log, topic, broker, got := bc.start(t)
			test(t, bc.name, ctx, log, topic, broker, got)
		})
	}
}

// start opens the case's broker on a fresh event log and a new topic, and receives what the
// broker delivers on the topic.
func (bc brokerCase) start(t *testing.T) (ctx context.Context, log eventLog, topic string, broker brokerUnderTest, got *received) {
	t.Helper()
	ctx = testContext(t)
	log = newEventLog(t)
	topic = unique("helpstream_test_")
	broker = bc.open(t, ctx, log, topic)
	return ctx, log, topic, broker, receive(t, ctx, broker.subscribe(t, ctx))
}

func openSQL(t *testing.T, ctx context.Context, log eventLog, topic string) brokerUnderTest {
	if err := stream.InitializeSQLTopic(ctx, log.pool, topic); err != nil {
		t.Fatal(err)
	}
	return brokerUnderTest{
		exactlyOnce: true,
		configure: func(cfg *stream.Config, wrap func(message.Publisher) message.Publisher) {
			cfg.Publisher = nil
			cfg.PublishInTx = func(tx pgx.Tx) (message.Publisher, error) {
				p, err := stream.SQLPublisherInTx(tx)
				if err != nil || wrap == nil {
					return p, err
				}
				return wrap(p), nil
			}
		},
		subscribe: func(t *testing.T, ctx context.Context) <-chan *message.Message {
			return streamtest.Subscribe(t, ctx, topic, func() (message.Subscriber, error) {
				return stream.NewSQLSubscriber(log.pool, stream.SQLSubscriberConfig{ConsumerGroup: "test", PollInterval: 20 * time.Millisecond}, quiet)
			})
		},
	}
}

// publisherBroker is a broker reached through a plain message.Publisher.
func publisherBroker(t *testing.T, publisher message.Publisher, newSubscriber func() (message.Subscriber, error), topic string) brokerUnderTest {
	t.Cleanup(func() { _ = publisher.Close() })
	return brokerUnderTest{
		configure: func(cfg *stream.Config, wrap func(message.Publisher) message.Publisher) {
			cfg.PublishInTx = nil
			cfg.Publisher = publisher
			if wrap != nil {
				cfg.Publisher = wrap(publisher)
			}
		},
		subscribe: func(t *testing.T, ctx context.Context) <-chan *message.Message {
			return streamtest.Subscribe(t, ctx, topic, newSubscriber)
		},
	}
}

func openAMQP(t *testing.T, ctx context.Context, log eventLog, topic string) brokerUnderTest {
	p, err := stream.NewAMQPPublisher(amqpURL, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { streamtest.DeleteAMQPTopic(t, amqpURL, topic, topic+"_test") })
	return publisherBroker(t, p, func() (message.Subscriber, error) { return stream.NewAMQPSubscriber(amqpURL, "test", quiet) }, topic)
}

func openNATS(t *testing.T, ctx context.Context, log eventLog, topic string) brokerUnderTest {
	if err := stream.EnsureNATSTopic(ctx, natsURL, topic); err != nil {
		t.Fatal(err)
	}
	p, err := stream.NewNATSPublisher(natsURL, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { streamtest.DeleteNATSTopic(t, natsURL, topic) })
	return publisherBroker(t, p, func() (message.Subscriber, error) { return stream.NewNATSSubscriber(natsURL, "test", quiet) }, topic)
}

// Every broker receives every event, backlog and live, with its metadata, in log order per
// stream; a forwarder stopped and started again resumes from its checkpoint and repeats
// nothing.
func TestForwardsToEveryBroker(t *testing.T) {
	forEachBroker(t, func(t *testing.T, name string, ctx context.Context, log eventLog, topic string, broker brokerUnderTest, got *received) {
		backlog := log.appendEvents(t, ctx, 3, 10)
		cfg := log.forwarderConfig(topic, 7)
		broker.configure(&cfg, nil)
		first := start(t, ctx, cfg)
		got.waitFor(t, len(backlog), 15*time.Second)
		live := log.appendEvents(t, ctx, 2, 5)
		got.waitFor(t, len(backlog)+len(live), 15*time.Second)
		first.waitPosition(t, live[len(live)-1].Position, 5*time.Second)
		first.stop(t)
		if pos, published := storedCheckpoint(t, ctx, log.pool, cfg.Name); pos != live[len(live)-1].Position.String() || published != int64(len(backlog)+len(live)) {
			t.Fatalf("checkpoint %s with %d published, want %s with %d", pos, published, live[len(live)-1].Position, len(backlog)+len(live))
		}

		later := log.appendEvents(t, ctx, 2, 5)
		second := start(t, ctx, cfg)
		all := append(append(append([]eventlog.RecordedEvent(nil), backlog...), live...), later...)
		got.waitFor(t, len(all), 15*time.Second)
		second.waitPosition(t, later[len(later)-1].Position, 5*time.Second)
		if n := second.fwd.Published(); n != int64(len(later)) {
			t.Errorf("the restarted forwarder published %d events, want the %d appended after its checkpoint", n, len(later))
		}
		time.Sleep(300 * time.Millisecond) // a repeat, if any, has time to arrive
		check(t, all, got.all(), true)
	})
}

// A forwarder killed in the middle of a batch (its context ends while it publishes, after
// half of the batch went out) and started again loses nothing; with the watermill-sql broker
// in the checkpoint's transaction, nothing arrives twice either.
func TestKilledHalfwayThroughABatch(t *testing.T) {
	forEachBroker(t, func(t *testing.T, name string, ctx context.Context, log eventLog, topic string, broker brokerUnderTest, got *received) {
		events := log.appendEvents(t, ctx, 4, 10)

		cfg := log.forwarderConfig(topic, 10)
		cfg.Logger = quiet
		runCtx, kill := context.WithCancel(ctx)
		calls := 0
		broker.configure(&cfg, func(p message.Publisher) message.Publisher { return halfway{next: p, kill: kill, calls: &calls} })
		doomed, err := stream.NewForwarder(cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- doomed.Run(runCtx) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("the killed forwarder did not stop")
		}
		if pos, _ := storedCheckpoint(t, ctx, log.pool, cfg.Name); pos != events[9].Position.String() {
			t.Fatalf("checkpoint after the kill at %s, want %s (the first batch)", pos, events[9].Position)
		}

		broker.configure(&cfg, nil)
		restarted := start(t, ctx, cfg)
		got.waitFor(t, len(events), 15*time.Second)
		restarted.waitPosition(t, events[len(events)-1].Position, 5*time.Second)
		time.Sleep(300 * time.Millisecond) // a repeat, if any, has time to arrive
		check(t, events, got.all(), broker.exactlyOnce)
		t.Logf("%s: %d messages for %d events", name, len(got.all()), len(events))
	})
}

// Two forwarders with the same name: one publishes, the other stands by and takes over, from
// the checkpoint, when the first stops.
func TestOneForwarderPerName(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	log := newEventLog(t)
	topic := unique("helpstream_test_")
	broker := openSQL(t, ctx, log, topic)
	got := receive(t, ctx, broker.subscribe(t, ctx))
	cfg := log.forwarderConfig(topic, 7)
	broker.configure(&cfg, nil)
	a, b := start(t, ctx, cfg), start(t, ctx, cfg)
	deadline := time.Now().Add(5 * time.Second)
	for !a.fwd.Leading() && !b.fwd.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("no forwarder leads after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	leader, standby := a, b
	if b.fwd.Leading() {
		leader, standby = b, a
	}
	first := log.appendEvents(t, ctx, 3, 10)
	got.waitFor(t, len(first), 15*time.Second)
	leader.waitPosition(t, first[len(first)-1].Position, 5*time.Second)
	if standby.fwd.Leading() || standby.fwd.Published() != 0 {
		t.Fatalf("the standby leads (%v) or published %d events", standby.fwd.Leading(), standby.fwd.Published())
	}

	leader.stop(t)
	deadline = time.Now().Add(5 * time.Second)
	for !standby.fwd.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("the standby did not take over within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	second := log.appendEvents(t, ctx, 2, 5)
	all := append(append([]eventlog.RecordedEvent(nil), first...), second...)
	got.waitFor(t, len(all), 15*time.Second)
	standby.waitPosition(t, second[len(second)-1].Position, 5*time.Second)
	if n := standby.fwd.Published(); n != int64(len(second)) {
		t.Errorf("the successor published %d events, want %d", n, len(second))
	}
	time.Sleep(300 * time.Millisecond)
	check(t, all, got.all(), true)
}

func TestOpenBroker(t *testing.T) {
	ctx := testContext(t)
	log := newEventLog(t)
	topic := unique("helpstream_test_")
	opts := stream.BrokerOptions{Database: log.pool, DatabaseURL: log.url, Topic: topic, Logger: quiet}
	for _, tc := range []struct {
		url         string
		kind        string
		exactlyOnce bool
	}{
		{log.url, "postgres", true},
		{strings.Replace(log.url, "postgres://", "postgresql://", 1), "postgres", true},
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres", false},
		{amqpURL, "amqp", false},
		{natsURL, "nats", false},
	} {
		b, err := stream.OpenBroker(ctx, tc.url, opts)
		if err != nil {
			t.Fatalf("OpenBroker(%s): %v", stream.Redact(tc.url), err)
		}
		if b.Kind != tc.kind || b.ExactlyOnce != tc.exactlyOnce {
			t.Errorf("OpenBroker(%s): kind %s, exactly-once %v; want %s, %v", stream.Redact(tc.url), b.Kind, b.ExactlyOnce, tc.kind, tc.exactlyOnce)
		}
		cfg := stream.Config{Pool: log.pool, Store: log.store}
		b.Configure(&cfg)
		if err := cfg.Validate(); err != nil {
			t.Errorf("OpenBroker(%s) configures an invalid forwarder: %v", stream.Redact(tc.url), err)
		}
		if err := b.Close(); err != nil {
			t.Errorf("close %s: %v", stream.Redact(tc.url), err)
		}
	}
	// The other database got the topic's table; this test leaves nothing behind there.
	streamtest.DropSQLTopic(t, "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", topic)
	streamtest.DeleteNATSTopic(t, natsURL, topic)
	for _, bad := range []string{"kafka://127.0.0.1:9092", "127.0.0.1:5672", "amqp://guest:secret@127.0.0.1:1/"} {
		b, err := stream.OpenBroker(ctx, bad, opts)
		if err == nil {
			_ = b.Close()
			if !strings.HasPrefix(bad, "amqp") { // RabbitMQ's client connects lazily on some versions
				t.Errorf("OpenBroker(%s) accepted it", bad)
			}
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("OpenBroker(%s): the error shows the password: %v", bad, err)
		}
	}
}
