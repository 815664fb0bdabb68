package bench_test

import (
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

// The command rows at a small scale: every command answers, the busy chat refuses nothing, and
// the log holds what was counted.
func TestCommandRows(t *testing.T) {
	s := newScratch(t, "runs the command measurements for a few seconds", time.Minute)

	rate, refusals, err := bench.SameRequestMessages(s.ctx, s.app, 8, time.Second)
	if err != nil || rate <= 0 || refusals != 0 {
		t.Fatalf("same request: %.0f messages/s, %d refused, %v", rate, refusals, err)
	}
	messages := s.count(t, `SELECT count(*) FROM events WHERE event_type = 'request.message_sent.v1'`)
	if float64(messages) < rate*0.9 {
		t.Fatalf("%d messages stored after measuring %.0f/s for 1 s", messages, rate)
	}

	rate, err = bench.HTTPCommands(s.ctx, bench.HTTPConfig{App: s.app, Accounts: s.svc.Accounts, Idempotency: s.svc.Credentials}, 4, time.Second)
	if err != nil || rate <= 0 {
		t.Fatalf("through the API: %.0f commands/s, %v", rate, err)
	}
	if closed := s.count(t, `SELECT count(*) FROM events WHERE event_type = 'request.closed.v1'`); closed == 0 {
		t.Fatal("no request went through its whole life through the API")
	}
}
