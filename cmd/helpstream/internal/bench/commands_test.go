package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// The command rows at a small scale: every command answers, the busy chat refuses nothing, and
// the log holds what was counted.
func TestCommandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command measurements for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	svc := servicetest.New(t)
	a, pool, creds := svc.App, svc.Pool, svc.Credentials

	rate, refusals, err := bench.SameRequestMessages(ctx, a, 8, time.Second)
	if err != nil || rate <= 0 || refusals != 0 {
		t.Fatalf("same request: %.0f messages/s, %d refused, %v", rate, refusals, err)
	}
	var messages int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type = 'request.message_sent.v1'`).Scan(&messages); err != nil {
		t.Fatal(err)
	}
	if float64(messages) < rate*0.9 {
		t.Fatalf("%d messages stored after measuring %.0f/s for 1 s", messages, rate)
	}

	rate, err = bench.HTTPCommands(ctx, bench.HTTPConfig{App: a, Accounts: app.NewAccounts(a, creds, 0), Idempotency: creds}, 4, time.Second)
	if err != nil || rate <= 0 {
		t.Fatalf("through the API: %.0f commands/s, %v", rate, err)
	}
	var closed int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE event_type = 'request.closed.v1'`).Scan(&closed); err != nil {
		t.Fatal(err)
	}
	if closed == 0 {
		t.Fatal("no request went through its whole life through the API")
	}
}
