package bench_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/httpapi"
	"github.com/helpstream/helpstream/adapters/postgres/credentials"
	"github.com/helpstream/helpstream/adapters/web"
	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/app"
)

// The live-consoles measurement at a small scale, on the API and console handlers serve
// mounts: every command's event reaches every open stream, and the latencies are measured
// from the append.
func TestRunLive(t *testing.T) {
	s := newScratch(t, "holds streams open while commands run for a few seconds", 2*time.Minute)
	creds := credentials.New(s.pool)
	accounts := app.NewAccounts(s.app, creds, 0)
	const admin = "live-test-admin"
	api, err := httpapi.New(httpapi.Config{App: s.app, Accounts: accounts, Idempotency: creds, AdminToken: admin})
	if err != nil {
		t.Fatal(err)
	}
	console, err := web.New(web.Config{App: s.app, Accounts: accounts, Store: s.store})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = console.Run(s.ctx) }()
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("/console/", console)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	rep, err := bench.RunLive(s.ctx, bench.LiveConfig{Root: srv.URL, AdminToken: admin, Pool: s.pool,
		Connections: 20, Technicians: 4, Rate: 20, Duration: 2 * time.Second, Settle: 2 * time.Second}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Commands < 20 || rep.Missed != 0 || rep.Deliveries < rep.Commands*rep.Connections {
		t.Fatalf("%d commands, %d deliveries to %d streams, %d missed", rep.Commands, rep.Deliveries, rep.Connections, rep.Missed)
	}
	if rep.P50 <= 0 || rep.P99 < rep.P50 || rep.SentP99 <= 0 {
		t.Fatalf("latencies: p50 %s, p99 %s, from sending p99 %s", rep.P50, rep.P99, rep.SentP99)
	}
}
