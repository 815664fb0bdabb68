package fault_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/httpserver/httpservertest"
	"github.com/helpstream/helpstream/internal/fault"
)

func TestOneLineAnEpisode(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, nil))
	e := fault.NewEpisodes("database unavailable; answering 503", log)
	clock := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	e.Now = func() time.Time { return clock }
	ctx := context.Background()
	cause := errors.New("dial tcp 127.0.0.1:5432: connect: connection refused")

	e.Succeeded(ctx) // no episode: says nothing
	for i := range 100 {
		e.Failed(ctx, cause, "POST /api/v1/requests")
		if i%10 == 0 {
			clock = clock.Add(time.Second)
		}
	}
	if active, since := e.Active(); !active || !since.Equal(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("Active = %v, %v", active, since)
	}
	clock = clock.Add(25 * time.Second) // 35 s into the episode: one reminder
	e.Failed(ctx, cause, "GET /healthz")
	e.Succeeded(ctx) // a success between failures, as while a server shuts down: the same outage
	e.Failed(ctx, cause, "GET /healthz")
	clock = clock.Add(2 * time.Second) // past Settle: the next success ends it
	e.Succeeded(ctx)
	e.Succeeded(ctx)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for one episode of 102 failures, want 3 (start, reminder, end):\n%s", len(lines), out.String())
	}
	for i, want := range []string{
		`level=ERROR msg="database unavailable; answering 503" cause="dial tcp 127.0.0.1:5432: connect: connection refused" first_at="POST /api/v1/requests"`,
		`level=ERROR msg="database unavailable; answering 503 (still)" for=35s failures=101`,
		`level=INFO msg="recovered: database unavailable; answering 503 is over" lasted=37s failures=102`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s\nwant it to contain %s", i+1, lines[i], want)
		}
	}
	if active, _ := e.Active(); active {
		t.Error("still active after a success")
	}
}

func TestEpisodesAreSafeForConcurrentUse(t *testing.T) {
	var out httpservertest.ErrorLog
	e := fault.NewEpisodes("outage", slog.New(slog.NewTextHandler(&out, nil)))
	e.Settle = 0
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 1000 {
				e.Failed(context.Background(), errors.New("refused"), "x")
			}
		})
	}
	wg.Wait()
	e.Succeeded(context.Background())
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("%d lines for 16000 concurrent failures, want 2:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "failures=16000") {
		t.Errorf("the end line does not count 16000 failures:\n%s", out.String())
	}
}
