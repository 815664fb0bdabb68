package bench_test

import (
	"context"
	"testing"
	"time"

	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/app"
)

// The command rows at a small scale: every command answers, the busy chat refuses nothing, and
// the log holds what was counted.
func TestCommandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command measurements for a few seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, _ := pgtest.NewDatabase(t)
	store, err := pgstore.New(pool, pgstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a, err := app.New(app.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.New(pool)

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
