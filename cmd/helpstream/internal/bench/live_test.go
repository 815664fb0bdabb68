package bench_test

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
	"github.com/helpstream/helpstream/internal/service"
)

// The live-consoles measurement at a small scale, on the API and console handlers serve
// mounts: every command's event reaches every open stream, and the latencies are measured
// from the append.
func TestRunLive(t *testing.T) {
	const admin = "live-test-admin"
	s := newScratch(t, "holds streams open while commands run for a few seconds", 2*time.Minute,
		func(c *service.Config) { c.AdminToken = admin })
	srv := httptest.NewServer(s.svc.Handler()) // as serve mounts it
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
