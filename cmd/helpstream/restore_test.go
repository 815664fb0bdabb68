package main_test

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
)

// The README's two ways to move the event log to another PostgreSQL cluster, both into a fresh
// cluster whose transaction IDs are 20,000 behind the old one's (issue 11 item 1): pg_dump and
// pg_restore of the whole database, and `helpstream events copy` into an empty database. After
// either, serve starts on the new database as it is, new requests are appended after the old
// ones, the read models see them within a second, and the read models (resumed after the
// restore, built from scratch after the copy) equal a fresh rebuild.
func TestBackupAndRestoreKeepTheOrder(t *testing.T) {
	bin, old := faultCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	burn := connect(ctx, t, old.URL("postgres"))
	if _, err := burn.Exec(ctx, `CREATE PROCEDURE burn(n int) LANGUAGE plpgsql AS $$
		BEGIN FOR i IN 1..n LOOP PERFORM pg_current_xact_id(); COMMIT; END LOOP; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := burn.Exec(ctx, `CALL burn(20000)`); err != nil {
		t.Fatal(err)
	}

	// Every server of the test seals with one master key, kept apart from the database's
	// backups and given again after the restore (README, "Backup and restore").
	keyFile := filepath.Join(t.TempDir(), "master.key")
	if out, err := exec.CommandContext(ctx, bin, "master-key", "--out", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("master-key: %v\n%s", err, out)
	}

	// submitAndSee submits n requests through serve on dbURL and checks that each one's details
	// answer from the read models within a second of its acknowledgement.
	submitAndSee := func(dbURL string, n int) {
		t.Helper()
		runs := newServers(t, bin, dbURL)
		runs.masterKeyFile = keyFile
		srv := runs.start()
		defer srv.stop(t)
		c := newClient(srv.root)
		tech := c.login(ctx, t, "bob@example.com")
		for range n {
			a, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "", map[string]string{
				"customer_name": "Ada", "customer_email": "ada@example.com", "description": "Printer on fire", "device_type": "windows"})
			if a.status != http.StatusCreated {
				t.Fatalf("submit: %s", a)
			}
			id, pos := a.object()["request_id"].(string), a.object()["position"].(string)
			start := time.Now()
			details := c.call(ctx, "GET", "/api/v1/requests/"+id+"?min_position="+pos, tech, "", nil)
			if details.status != http.StatusOK || details.header.Get("X-Projection-Behind") != "" || time.Since(start) > time.Second {
				t.Fatalf("details of a request submitted on %s: %s after %s, behind %q", dbURL, details, time.Since(start), details.header.Get("X-Projection-Behind"))
			}
		}
		c.report(t)
	}
	submitAndSee(old.URL("helpstream"), 5)

	fresh := pgtest.StartCluster(t)
	admin := connect(ctx, t, fresh.URL("postgres"))
	var next int64
	if err := admin.QueryRow(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&next); err != nil || next > 20000 {
		t.Fatalf("the fresh cluster's next transaction is %d (%v): not behind the old one", next, err)
	}

	t.Run("pg_dump and pg_restore", func(t *testing.T) {
		dump := filepath.Join(t.TempDir(), "helpstream.dump")
		if out, err := exec.CommandContext(ctx, pgtest.Program(t, "pg_dump"), "--format=custom", "--file", dump, old.URL("helpstream")).CombinedOutput(); err != nil {
			t.Fatalf("pg_dump: %v\n%s", err, out)
		}
		if _, err := admin.Exec(ctx, "CREATE DATABASE restored"); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.CommandContext(ctx, pgtest.Program(t, "pg_restore"), "--no-owner", "--dbname", fresh.URL("restored"), dump).CombinedOutput(); err != nil {
			t.Fatalf("pg_restore: %v\n%s", err, out)
		}
		submitAndSee(fresh.URL("restored"), 5)
		checkOrderAndRebuild(ctx, t, bin, fresh.URL("restored"), keyFile, 10)
	})

	t.Run("helpstream events copy", func(t *testing.T) {
		if out, err := exec.CommandContext(ctx, bin, "events", "copy", "--from", old.URL("helpstream"), "--to", fresh.URL("copied")).CombinedOutput(); err != nil {
			t.Fatalf("events copy: %v\n%s", err, out)
		}
		// Passwords, customers' tokens and the data keys are not events: their tables follow
		// with pg_dump (README, "Backup and restore").
		dump := exec.CommandContext(ctx, pgtest.Program(t, "pg_dump"), "--data-only", "--table=technician_credentials", "--table=customer_tokens",
			"--table=customer_keys", "--table=request_keys", old.URL("helpstream"))
		load := exec.CommandContext(ctx, pgtest.Program(t, "psql"), "--quiet", "--set=ON_ERROR_STOP=1", fresh.URL("copied"))
		pipe, err := dump.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		load.Stdin = pipe
		if err := dump.Start(); err != nil {
			t.Fatal(err)
		}
		out, loadErr := load.CombinedOutput()
		if err := dump.Wait(); err != nil || loadErr != nil {
			t.Fatalf("pg_dump | psql: %v, %v\n%s", err, loadErr, out)
		}
		submitAndSee(fresh.URL("copied"), 5)
		checkOrderAndRebuild(ctx, t, bin, fresh.URL("copied"), keyFile, 10)
	})
}

// checkOrderAndRebuild checks that the log on dbURL holds requests submissions, the later
// ones after the earlier ones in the log's order as in time, and that its read models equal a
// fresh rebuild.
func checkOrderAndRebuild(ctx context.Context, t *testing.T, bin, dbURL, keyFile string, requests int) {
	t.Helper()
	conn := connect(ctx, t, dbURL)
	var submitted, outOfOrder int
	if err := conn.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE occurred < lag)
		FROM (SELECT (metadata->>'occurred_at')::timestamptz AS occurred,
		             lag((metadata->>'occurred_at')::timestamptz) OVER (ORDER BY transaction_id, global_position) AS lag
		      FROM events WHERE event_type = 'request.submitted.v1') AS s`).Scan(&submitted, &outOfOrder); err != nil {
		t.Fatal(err)
	}
	if submitted != requests || outOfOrder != 0 {
		t.Errorf("%d submissions in the log (want %d), %d of them before an earlier one in the log's order", submitted, requests, outOfOrder)
	}
	checkRebuild(ctx, t, conn, bin, dbURL, keyFile)
}
