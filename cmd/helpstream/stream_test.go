package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/stream"
	"github.com/helpstream/helpstream/adapters/stream/streamtest"
	"github.com/helpstream/helpstream/domain/eventlog"
)

func uniqueName(prefix string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// subscribeSQL reads a watermill-sql topic of the database.
func subscribeSQL(t *testing.T, ctx context.Context, pool *pgxpool.Pool, topic string) <-chan *message.Message {
	t.Helper()
	return streamtest.Subscribe(t, ctx, topic, func() (message.Subscriber, error) {
		return stream.NewSQLSubscriber(pool, stream.SQLSubscriberConfig{ConsumerGroup: "cli-test", PollInterval: 20 * time.Millisecond},
			slog.New(slog.DiscardHandler))
	})
}

// `stream run --broker postgres://<the database>` publishes the log, backlog and live, to
// watermill-sql in that database until interrupted.
func TestStreamRun(t *testing.T) {
	pool, url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	appendOne := func() uuid.UUID {
		id := uuid.New()
		data, _ := json.Marshal(map[string]string{"note": "hello"})
		if _, err := store.Append(ctx, "request-"+uuid.NewString(), eventlog.NoStream(), eventlog.EventData{
			ID: id, Type: "request.tested.v1", Data: data, Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()},
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	want := map[string]bool{appendOne().String(): true, appendOne().String(): true}

	topic := uniqueName("cli_test_")
	lines := runInBackground(t, "stream", "run", "--broker", url, "--database-url", url, "--topic", topic,
		"--name", uniqueName("cli-"), "--leader-retry", "100ms")
	select {
	case line := <-lines:
		if !strings.Contains(line, "forwarding the event log to topic \""+topic+"\"") {
			t.Fatalf("stream run said %q", line)
		}
	case <-ctx.Done():
		t.Fatal("stream run said nothing")
	}
	msgs := subscribeSQL(t, ctx, pool, topic)
	want[appendOne().String()] = true // live
	for len(want) > 0 {
		select {
		case m := <-msgs:
			m.Ack()
			if !want[m.UUID] {
				t.Fatalf("message %s: not an event of this test, or twice", m.UUID)
			}
			delete(want, m.UUID)
		case <-ctx.Done():
			t.Fatalf("%d events never arrived", len(want))
		}
	}
}

func TestStreamRunRefusesBadFlags(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"stream", "run", "--database-url", url}, "--broker is required"},
		{[]string{"stream", "run", "--database-url", url, "--broker", "kafka://127.0.0.1:9092"}, "unknown scheme"},
		{[]string{"stream", "run", "--database-url", url, "--broker", url, "--batch", "-1"}, "BatchSize -1"},
		{[]string{"stream", "run", "--database-url", url, "--broker", url, "extra"}, "unexpected arguments"},
	} {
		err := run(context.Background(), tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", strings.Join(tc.args[2:], " "), err, tc.want)
		}
	}
}

// serve --stream-broker runs a forwarder beside the server: the demo's events reach the topic,
// and /metrics counts what the forwarder published with what the read models applied.
func TestServeWithStreamBroker(t *testing.T) {
	pool, url := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lines := runInBackground(t, "serve", "--demo", "--addr", "127.0.0.1:0", "--database-url", url,
		"--files-dir", t.TempDir(), "--stream-broker", url)
	ready := make(chan string, 1) // the console's address
	go func() {
		for line := range lines { // keep the pipe flowing
			if console, ok := strings.CutPrefix(line, "Web console:"); ok {
				ready <- strings.Fields(console)[0]
			}
		}
	}()
	msgs := subscribeSQL(t, ctx, pool, stream.DefaultTopic)
	companies := 0
	for companies < 2 {
		select {
		case m := <-msgs:
			m.Ack()
			if strings.HasPrefix(m.Metadata.Get(stream.MetadataStreamID), "company-") && m.Metadata.Get(stream.MetadataStreamVersion) == "0" {
				companies++
			}
		case <-ctx.Done():
			t.Fatalf("%d of the demo's 2 companies reached the stream", companies)
		}
	}
	var console string
	select { // stopped while it seeds the demo, serve would fail
	case console = <-ready:
	case <-ctx.Done():
		t.Fatal("serve --demo never said it was ready")
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(console, "/console")+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+DemoAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `helpstream_subscriber_events_applied_total{consumer="analytics",kind="stream"}`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}
