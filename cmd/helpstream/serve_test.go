package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

// pgx's own pool parameters work in the URL of every command: they size the pool and never
// reach PostgreSQL (which refuses them as settings), not even when the database is created.
func TestPoolParametersInTheURL(t *testing.T) {
	url := absentDatabaseURL(t) // so that openDatabase creates it, with the parameters in the URL
	for _, tt := range []struct {
		url  string
		want int32
	}{
		{withParameters(url, "pool_max_conns=5&pool_min_conns=1&pool_max_conn_idle_time=1m"), 5},
		{url, serverPoolSize()},
	} {
		pool, err := openDatabase(context.Background(), tt.url, serverPoolSize())
		if err != nil {
			t.Fatalf("open %s: %v", tt.url, err)
		}
		if got := pool.Config().MaxConns; got != tt.want {
			t.Errorf("%s: pool of %d, want %d", tt.url, got, tt.want)
		}
		pool.Close()
	}
	if got, want := serverPoolSize(), int32(16*runtime.NumCPU()); got != want {
		t.Errorf("server pool %d, want 16 per core (%d)", got, want)
	}
	for raw, want := range map[string]bool{
		"postgres://h/db?pool_max_conns=3":                true,
		"postgresql://h/db?sslmode=disable":               false,
		"host=h dbname=db pool_max_conns=3":               true,
		"host=h dbname=db application_name=x":             false,
		"postgres://h/db?application_name=pool_max_conns": false,
	} {
		if got := setsPoolParam(raw, "pool_max_conns"); got != want {
			t.Errorf("setsPoolParam(%q) = %v, want %v", raw, got, want)
		}
	}
}

// serve with pool parameters in its URL starts; with --metrics-addr, /metrics is served there
// to scrapers and not on the public address.
func TestServeMetricsAddrAndPoolURL(t *testing.T) {
	_, url := pgtest.NewDatabase(t)
	lines := runInBackground(t, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0",
		"--database-url", withParameters(url, "pool_max_conns=6"), "--files-dir", t.TempDir())
	banner := regexp.MustCompile(`API on (http://[^/]+)/api/v1 .*metrics: (http://\S+/metrics)`)
	var base, metrics string
	for line := range lines {
		if m := banner.FindStringSubmatch(line); m != nil {
			base, metrics = m[1], m[2]
			break
		}
	}
	if base == "" {
		t.Fatal("serve printed no API and metrics address")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	get := func(u string) (int, string) {
		t.Helper()
		res, err := client.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if status, body := get(metrics); status != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("metrics listener: %d %.100s", status, body)
	}
	if status, _ := get(base + "/metrics"); status != http.StatusNotFound {
		t.Errorf("/metrics on the public address: %d, want 404", status)
	}
	if status, body := get(base + "/healthz"); status != http.StatusOK {
		t.Errorf("/healthz: %d %s", status, body)
	}
}

// withParameters adds query parameters to a URL that may have some already.
func withParameters(url, params string) string {
	if strings.Contains(url, "?") {
		return url + "&" + params
	}
	return url + "?" + params
}
