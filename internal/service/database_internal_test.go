package service

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

// pgx's own pool parameters work in the URL of every command: they size the pool and never
// reach PostgreSQL (which refuses them as settings), not even when the database is created.
func TestPoolParametersInTheURL(t *testing.T) {
	url, drop, err := pgtest.CreateDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil { // the scan for secrets in the log, or the drop
			t.Error(err)
		}
	})
	if err := drop(); err != nil { // so that openDatabase creates it, with the parameters in the URL
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, tt := range []struct {
		url  string
		want int32
	}{
		{url + sep + "pool_max_conns=5&pool_min_conns=1&pool_max_conn_idle_time=1m", 5},
		{url, ServerPoolSize()},
	} {
		pool, err := OpenDatabase(context.Background(), tt.url, ServerPoolSize())
		if err != nil {
			t.Fatalf("open %s: %v", tt.url, err)
		}
		if got := pool.Config().MaxConns; got != tt.want {
			t.Errorf("%s: pool of %d, want %d", tt.url, got, tt.want)
		}
		pool.Close()
	}
	if got, want := ServerPoolSize(), int32(16*runtime.NumCPU()); got != want {
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
