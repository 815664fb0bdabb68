package main_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// An Idempotency-Key whose server died mid-command (issue 18 item 2): killed after the claim
// and before the append, and after the append and before the answer was stored. After a
// restart each retry with the same key succeeds exactly once: one message each, and the second
// answers as its first attempt would have, pointing at the event that attempt wrote. No hook
// in the server: the test holds it at the right moment with locks from its own connections.
func TestFaultsIdempotencyAfterKill(t *testing.T) {
	_, runs := faultServers(t)
	srv := runs.start()
	c := newClient(srv.root)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	bob := c.login(ctx, t, "bob@example.com")
	submitted, _ := c.command(ctx, "POST", "/api/v1/portals/"+acmePortal+"/requests", "",
		map[string]string{"customer_name": "Ada", "customer_email": "ada@example.com", "description": "killed mid-command"})
	requestID, _ := submitted.object()["request_id"].(string)
	if submitted.status != http.StatusCreated || requestID == "" {
		t.Fatalf("submit: %s", submitted)
	}
	for _, step := range []string{"assign", "join"} {
		if a, _ := c.command(ctx, "POST", "/api/v1/requests/"+requestID+"/"+step, bob, nil); a.status != http.StatusOK {
			t.Fatalf("%s: %s", step, a)
		}
	}
	stream := "request-" + requestID
	path := "/api/v1/requests/" + requestID + "/messages"
	type command struct {
		name, key, text string
		first           chan answer // what the attempt the server died in got, if anything
	}
	afterAppend := command{name: "killed after the append", key: "after-append-" + uuid.NewString(), text: "after append " + uuid.NewString(), first: make(chan answer, 1)}
	beforeAppend := command{name: "killed before the append", key: "before-append-" + uuid.NewString(), text: "before append " + uuid.NewString(), first: make(chan answer, 1)}
	send := func(cmd command) {
		go func() { cmd.first <- c.call(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text}) }()
	}

	connect := func() *pgx.Conn {
		conn := connect(ctx, t, runs.dbURL)
		if _, err := conn.Exec(ctx, `SET lock_timeout = '10s'`); err != nil {
			t.Fatal(err)
		}
		return conn
	}
	check, events, keys := connect(), connect(), connect()
	pid := func(conn *pgx.Conn) int32 { return int32(conn.PgConn().PID()) }
	// blockedBy waits until a backend of the server waits for a lock held by holder while
	// running a statement that contains like, and returns its pid.
	blockedBy := func(holder *pgx.Conn, like, what string) int32 {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var blocked int32
			err := check.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
				WHERE datname = current_database() AND $1::int = ANY(pg_blocking_pids(pid)) AND query ILIKE $2 LIMIT 1`,
				pid(holder), "%"+like+"%").Scan(&blocked)
			if err == nil {
				return blocked
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				t.Fatal(err)
			}
		}
		t.Fatalf("no statement of the server blocked %s within 10 s", what)
		return 0
	}
	messages := func(text string) int {
		t.Helper()
		var n int
		if err := check.QueryRow(ctx, `SELECT count(*) FROM events WHERE stream_id = $1 AND data->>'body' = $2`, stream, text).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	claimStatus := func(key string) int {
		t.Helper()
		var status int
		if err := check.QueryRow(ctx, `SELECT status FROM idempotency_keys WHERE key = $1`, key).Scan(&status); err != nil {
			t.Fatalf("the claim of key %s: %v", key, err)
		}
		return status
	}
	begin := func(conn *pgx.Conn, sql string, args ...any) pgx.Tx {
		t.Helper()
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
		return tx
	}

	// After the append: hold the command at its append (events locked), lock its claim row,
	// let the append commit: storing the answer now waits for the claim row.
	eventsLock := begin(events, `LOCK TABLE events IN EXCLUSIVE MODE`)
	send(afterAppend)
	blockedBy(events, "INSERT INTO events", "on the events table (after-append case)")
	if s := claimStatus(afterAppend.key); s != 0 {
		t.Fatalf("claim of the after-append command has status %d before its append, want 0 (claimed)", s)
	}
	claimLock := begin(keys, `SELECT 1 FROM idempotency_keys WHERE key = $1 FOR UPDATE`, afterAppend.key)
	if err := eventsLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); messages(afterAppend.text) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the after-append command did not append within 10 s")
		}
	}
	blockedBy(keys, "completed_at", "on the claim row (storing the answer)")

	// Before the append: another command held at its append, its key claimed.
	eventsLock = begin(events, `LOCK TABLE events IN EXCLUSIVE MODE`)
	send(beforeAppend)
	blockedBy(events, "INSERT INTO events", "on the events table (before-append case)")
	if s := claimStatus(beforeAppend.key); s != 0 {
		t.Fatalf("claim of the before-append command has status %d, want 0 (claimed)", s)
	}

	srv.kill()
	killedAt := time.Now()
	// PostgreSQL notices that a client died only when it next talks to it: the dead server's
	// statements waiting for our locks would run when we let go (the append would commit, the
	// answer be stored) as if the server were alive. Ending them is the server's death reaching
	// the database.
	if _, err := check.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pg_blocking_pids(pid) && $1::int[]`, []int32{pid(events), pid(keys)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var left int
		if err := check.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND pg_blocking_pids(pid) && $1::int[]`, []int32{pid(events), pid(keys)}).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed server's blocked statements are still there 10 s after they were terminated")
		}
	}
	if err := eventsLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := claimLock.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []command{afterAppend, beforeAppend} {
		if a := <-cmd.first; a.err == nil {
			// The server answered before it died: that answer is what a retry must repeat.
			cmd.first <- a
		}
	}
	if n := messages(afterAppend.text); n != 1 {
		t.Fatalf("after the kill the log holds the after-append message %d times, want 1", n)
	}
	if n := messages(beforeAppend.text); n != 0 {
		t.Fatalf("after the kill the log holds the before-append message %d times, want 0", n)
	}
	if claimStatus(afterAppend.key) != 0 || claimStatus(beforeAppend.key) != 0 {
		t.Fatal("a key the killed server claimed is no longer just claimed")
	}

	srv = runs.start()
	c.root.Store(&srv.root)
	type outcome struct {
		answer answer
		took   time.Duration
	}
	results := make([]outcome, 2)
	var wg sync.WaitGroup
	for i, cmd := range []command{afterAppend, beforeAppend} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].answer = c.retry(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text})
			results[i].took = time.Since(killedAt)
		}()
	}
	wg.Wait()
	c.report(t)

	type storedMessage struct {
		id, body, position string
		version            int64
	}
	var messageEvents []storedMessage
	rows, err := check.Query(ctx, `SELECT data->>'message_id', data->>'body', transaction_id::text || '-' || global_position, stream_version
		FROM events WHERE stream_id = $1 AND event_type = 'request.message_sent.v1' ORDER BY stream_version`, stream)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e storedMessage
		if err := rows.Scan(&e.id, &e.body, &e.position, &e.version); err != nil {
			t.Fatal(err)
		}
		messageEvents = append(messageEvents, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(messageEvents) != 2 {
		t.Errorf("the stream holds %d messages, want 2, one per command: %+v", len(messageEvents), messageEvents)
	}
	for i, cmd := range []command{afterAppend, beforeAppend} {
		got := results[i].answer
		if got.status != http.StatusCreated {
			t.Errorf("%s: the retry after the restart answered %s, want 201", cmd.name, got)
			continue
		}
		obj := got.object()
		var stored *storedMessage
		for j := range messageEvents {
			if messageEvents[j].body == cmd.text {
				if stored != nil {
					t.Errorf("%s: the message is in the log twice", cmd.name)
				}
				stored = &messageEvents[j]
			}
		}
		if stored == nil {
			t.Errorf("%s: acknowledged %s, but its message is not in the log", cmd.name, got)
			continue
		}
		if obj["id"] != stored.id || obj["position"] != stored.position || obj["version"] != float64(stored.version) {
			t.Errorf("%s: the retry answered %s, the message is in the log as id %s, version %d, position %s",
				cmd.name, got, stored.id, stored.version, stored.position)
		}
		select {
		case first := <-cmd.first:
			if !bytes.Equal(first.body, got.body) || first.status != got.status {
				t.Errorf("%s: the dying server answered %s, the retry %s", cmd.name, first, got)
			}
		default:
		}
		// And once more: now the answer is kept, and replayed as is.
		again := c.call(ctx, "POST", path, bob, cmd.key, map[string]string{"body": cmd.text})
		if again.status != got.status || !bytes.Equal(again.body, got.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s: a second retry answered %s (Idempotent-Replayed %q), want the first retry's %s replayed",
				cmd.name, again, again.header.Get("Idempotent-Replayed"), got)
		}
		// The README's lease is 10 s: a retry runs once the dead attempt's lease has run out.
		if results[i].took > 25*time.Second {
			t.Errorf("%s: the retry succeeded only %v after the kill, want soon after the 10 s lease", cmd.name, results[i].took)
		}
		t.Logf("%s: the retry succeeded %v after the kill", cmd.name, results[i].took.Round(time.Millisecond))
	}
	if n := messages(afterAppend.text) + messages(beforeAppend.text); n != 2 {
		t.Errorf("%d messages in the log after the retries, want 2", n)
	}
	t.Logf("%d answers 409 idempotency_in_progress (with Retry-After) while the dead server's leases ran out; %d ERROR lines in the server log",
		c.inProgress.Load(), runs.errorLines())
}
