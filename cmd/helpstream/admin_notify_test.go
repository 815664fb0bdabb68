package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// `helpstream admin webhook-dead-letters` lists the dead notifications with their positions;
// `webhook-replay --from POSITION` queues again those at or after it, on the channel asked.
func TestAdminWebhookDeadLettersAndReplay(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	files := t.TempDir()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"admin"}, args...), "--database-url", url, "--files-dir", files), &out)
		return strings.TrimSpace(out.String()), err
	}
	if out, err := cli("webhook-dead-letters"); err != nil || out != "no dead notifications" {
		t.Fatalf("on an empty table: %q, %v", out, err)
	}
	type row struct {
		key     uuid.UUID
		hi, lo  int64
		channel string
	}
	rows := []row{{uuid.New(), 10, 1, "webhook"}, {uuid.New(), 12, 4, "webhook"}, {uuid.New(), 12, 5, "email"}}
	for _, r := range rows {
		if _, err := svc.Pool.Exec(ctx, `INSERT INTO notification_deliveries
(id, event_id, position_hi, position_lo, request_id, technician_id, channel, body, status, attempts, last_error)
VALUES ($1, $2, $3, $4, $5, $6, $7, '{}', 'dead', 8, 'webhook POST to https://hooks.example.com/…: 503 Service Unavailable')`,
			r.key, uuid.New(), r.hi, r.lo, uuid.New(), uuid.New(), r.channel); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cli("webhook-dead-letters")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"10-1", "12-4", rows[0].key.String(), "503 Service Unavailable", "webhook-replay --from"} {
		if !strings.Contains(out, want) {
			t.Errorf("dead letters say nothing of %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, rows[2].key.String()) {
		t.Errorf("the webhook dead letters list an e-mail:\n%s", out)
	}
	if out, err := cli("webhook-dead-letters", "--channel", "all", "--from", "12-0"); err != nil || strings.Contains(out, "10-1") || !strings.Contains(out, rows[2].key.String()) {
		t.Errorf("--channel all --from 12-0: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{"webhook-replay"}, {"webhook-replay", "--from", "yesterday"}, {"webhook-replay", "--from", "0", "--channel", "sms"}} {
		if _, err := cli(bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
	out, err = cli("webhook-replay", "--from", "12-0")
	if err != nil || !strings.HasPrefix(out, "1 dead notification(s) queued again") {
		t.Fatalf("replay --from 12-0: %q, %v", out, err)
	}
	statuses := map[uuid.UUID]string{}
	for _, r := range rows {
		var s string
		var attempts int
		if err := svc.Pool.QueryRow(ctx, `SELECT status, attempts FROM notification_deliveries WHERE id = $1`, r.key).Scan(&s, &attempts); err != nil {
			t.Fatal(err)
		}
		statuses[r.key] = s
		if s == "pending" && attempts != 0 {
			t.Errorf("a replayed delivery keeps %d attempts", attempts)
		}
	}
	if statuses[rows[0].key] != "dead" || statuses[rows[1].key] != "pending" || statuses[rows[2].key] != "dead" {
		t.Errorf("after replay: %v; want only the webhook at 12-4 pending", statuses)
	}
}
