package main_test

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// A transaction held open in ANOTHER database of the cluster (the xmin horizon is cluster-wide)
// no longer holds the log back: reads look past it within a second, and /healthz and /metrics
// name it (issue 11 items 2 to 4). An append held open in the server's own database does hold
// the log back, and reads keep their bounds (issue 18 item 3): min_position waits at most about
// 2 s in all and then answers with X-Projection-Behind: true; the details of a request whose
// submission was acknowledged are folded from its stream rather than answered 404; an unknown
// request is 404 with the header; /healthz says delivery is held and by whom. Once the
// transaction ends, the read models catch up and the header goes.
func TestReadsWhileTheLogIsHeldBack(t *testing.T) {
	cluster, runs := faultServers(t)
	srv := runs.start()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := newClient(srv.root)
	tech := c.login(ctx, t, "bob@example.com")
	submit := func() (id, position string) {
		t.Helper()
		a, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
			"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Printer on fire", "device_type": "windows"})
		if a.status != http.StatusCreated {
			t.Fatalf("submit: %s", a)
		}
		return a.object()["request_id"].(string), a.object()["position"].(string)
	}
	// A read that must keep the bound, and what it answered.
	read := func(path string) (answer, time.Duration) {
		t.Helper()
		start := time.Now()
		a := c.call(ctx, "GET", path, tech, "", nil)
		return a, time.Since(start)
	}
	const bound = 2*time.Second + 700*time.Millisecond // the documented 2 s, and a slow machine's margin

	// Before: the read models keep up.
	first, pos := submit()
	if a, took := read("/api/v1/requests/" + first + "?min_position=" + pos); a.status != http.StatusOK || a.header.Get("X-Projection-Behind") != "" {
		t.Fatalf("before the transaction: %s after %s, behind %q", a, took, a.header.Get("X-Projection-Behind"))
	}

	// A transaction with an xid, held open in another database of the same cluster.
	admin := connect(ctx, t, cluster.URL("postgres"))
	if _, err := admin.Exec(ctx, "CREATE DATABASE elsewhere"); err != nil {
		t.Fatal(err)
	}
	other, err := connect(ctx, t, cluster.URL("elsewhere")).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	lookedPast, pos := submit()
	if a, took := read("/api/v1/requests/" + lookedPast + "?min_position=" + pos); a.status != http.StatusOK || a.header.Get("X-Projection-Behind") != "" || took > time.Second {
		t.Errorf("while a transaction of another database is open: %s after %s, behind %q; want 200 within 1 s", a, took, a.header.Get("X-Projection-Behind"))
	}
	time.Sleep(time.Second) // /healthz names transactions open for a second or more
	health := c.call(ctx, "GET", "/healthz", "", "", nil)
	report, _ := health.object()["event_log"].(map[string]any)
	if health.status != http.StatusOK || report["delivery_held"] != false || !strings.Contains(fmt.Sprint(report["summary"]), `database "elsewhere"`) {
		t.Errorf("/healthz while another database's transaction is open: %s", health)
	}
	if metrics := c.call(ctx, "GET", "/metrics", demoAdminToken, "", nil); !metricAbove(string(metrics.body), `helpstream_event_log_horizon_held_seconds{application_name="",database="elsewhere"}`, 1) {
		t.Errorf("/metrics does not say the horizon is held by database elsewhere:\n%s", metrics.body)
	}
	if out, err := exec.CommandContext(ctx, runs.bin, "projections", "status", "--database-url", cluster.URL("helpstream")).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), `database "elsewhere"`) || !strings.Contains(string(out), "cannot write events") {
		t.Errorf("projections status while another database's transaction is open (%v):\n%s", err, out)
	}
	if err := other.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	// An append held open in the server's own database: the log is held back for real.
	tx, err := connect(ctx, t, cluster.URL("helpstream")).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO events (stream_id, stream_version, event_id, event_type, data, metadata)
		VALUES ('held-open', 0, gen_random_uuid(), 'test.held_open.v1', '{}', '{}')`); err != nil {
		t.Fatal(err)
	}
	var writer int
	if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&writer); err != nil {
		t.Fatal(err)
	}

	id, pos := submit() // appends are not held back: only what readers see of them is
	for _, r := range []struct {
		name, path string
		status     int
	}{
		{"the list", "/api/v1/requests?view=new&min_position=" + pos, http.StatusOK},
		{"the details", "/api/v1/requests/" + id + "?min_position=" + pos, http.StatusOK},
		{"the details without min_position", "/api/v1/requests/" + id, http.StatusOK},
		{"an unknown request", "/api/v1/requests/" + uuid.NewString() + "?min_position=" + pos, http.StatusNotFound},
	} {
		a, took := read(r.path)
		if a.status != r.status || took > bound {
			t.Errorf("%s while the log is held back: %s after %s, want %d within %s", r.name, a, took, r.status, bound)
		}
		if a.header.Get("X-Projection-Behind") != "true" {
			t.Errorf("%s while the log is held back: no X-Projection-Behind: true (%s)", r.name, a)
		}
		if r.name == "the details" && a.object()["id"] != id {
			t.Errorf("the details folded from the log name %v, want %s", a.object()["id"], id)
		}
	}
	customer, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
		"customer_name": "Bea", "customer_email": "bea@example.com", "description": "Screen is blue", "device_type": "windows"})
	token, _ := customer.object()["customer_token"].(string)
	start := time.Now()
	own := c.call(ctx, "GET", "/api/v1/customer/requests/"+customer.object()["request_id"].(string)+"?min_position="+customer.object()["position"].(string), token, "", nil)
	if own.status != http.StatusOK || time.Since(start) > bound {
		t.Errorf("the customer's own request while the log is held back: %s after %s", own, time.Since(start))
	}

	time.Sleep(time.Second)
	if out, err := exec.CommandContext(ctx, runs.bin, "projections", "status", "--database-url", cluster.URL("helpstream")).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), fmt.Sprintf("event delivery is held back by the transaction of backend %d", writer)) {
		t.Errorf("projections status while an append is held open (%v):\n%s", err, out)
	}
	health = c.call(ctx, "GET", "/healthz", "", "", nil)
	report, _ = health.object()["event_log"].(map[string]any)
	if health.status != http.StatusOK || report["delivery_held"] != true || !strings.Contains(fmt.Sprint(report["summary"]), fmt.Sprintf("held back by the transaction of backend %d", writer)) {
		t.Errorf("/healthz while an append is held open: %s", health)
	}

	// Released: the read models catch up and the answers are theirs again.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, _ := read("/api/v1/requests/" + id + "?min_position=" + pos)
		if a.status == http.StatusOK && a.header.Get("X-Projection-Behind") == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after the transaction ended the details still answer %s, behind %q", a, a.header.Get("X-Projection-Behind"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.report(t)
}

// metricAbove reports whether the exposition text has series with a value above least.
func metricAbove(exposition, series string, least float64) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return err == nil && v >= least
		}
	}
	return false
}
