package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

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
