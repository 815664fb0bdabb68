package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/requestlist"
)

// An event the read models cannot apply: `projections rebuild` parks it, `projections status`
// shows it, `projections retry` fails while it still fails, and applies it once the log is
// repaired.
func TestProjectionsParkedAndRetry(t *testing.T) {
	svc, url := openFreshService(t)
	ctx := context.Background()
	company, req := uuid.New(), uuid.New()
	appendRaw := func(stream, typ, data string) uuid.UUID {
		id := uuid.New()
		if _, err := svc.Store.Append(ctx, stream, eventlog.Any(), eventlog.EventData{ID: id, Type: typ, Data: json.RawMessage(data),
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: time.Now().UTC()}}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	appendRaw("company-"+company.String(), "company.created.v1", fmt.Sprintf(`{"company_id":%q,"name":"Acme"}`, company))
	bad := appendRaw("request-"+req.String(), "request.submitted.v1", fmt.Sprintf(`{"request_id":%q,"company_id":12}`, req))
	// A transaction of another test's database holds back what readers of the log see (the
	// xmin horizon is the cluster's): wait until the events appended here are readable, or the
	// rebuild reads an empty log.
	for deadline := time.Now().Add(30 * time.Second); ; {
		all, err := svc.Store.ReadAll(ctx, eventlog.Start(), eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the appended events are not readable after 30 s (%d of 2)", len(all))
		}
		time.Sleep(20 * time.Millisecond)
	}

	command := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(append([]string{"projections"}, args...), "--database-url", url), &out)
		return out.String(), err
	}
	out, err := command("rebuild")
	if err != nil {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if !strings.Contains(out, "1 events parked") {
		t.Errorf("rebuild does not say it parked an event:\n%s", out)
	}
	out, err = command("status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PARKED", "request_list: 1 parked", "request_details: 1 parked", "request.submitted.v1",
		"decode request.submitted.v1", "helpstream projections retry --projection request_list"} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
	out, err = command("status", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var statuses []projections.ProjectionStatus
	if err := json.Unmarshal([]byte(out), &statuses); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	for _, s := range statuses {
		wantParked := int64(1)
		if s.Name == "directory" {
			wantParked = 0
		}
		if s.Parked != wantParked || (wantParked == 1) != (s.FirstParked != nil) || s.FirstParked != nil && s.FirstParked.EventID != bad {
			t.Errorf("status --json of %s: %d parked, first %+v", s.Name, s.Parked, s.FirstParked)
		}
	}

	out, err = command("retry", "--projection", requestlist.Name)
	if err == nil || !strings.Contains(err.Error(), "1 events still parked") || !strings.Contains(out, "request_list: 0 applied, 1 failed again") {
		t.Fatalf("retry before the repair: %v\n%s", err, out)
	}
	if _, err := svc.Pool.Exec(ctx, `UPDATE events SET data = $2 WHERE event_id = $1`, bad, fmt.Sprintf(
		`{"request_id":%q,"company_id":%q,"portal_id":%q,"customer":{"name":"Una","email":"una@example.com"},"description":"repaired",`+
			`"source":{"ip":"192.0.2.1","device_type":"windows","os":"Windows","os_version":"11","browser":"Edge"}}`, req, company, uuid.New())); err != nil {
		t.Fatal(err)
	}
	out, err = command("retry")
	if err != nil {
		t.Fatalf("retry after the repair: %v\n%s", err, out)
	}
	for _, want := range []string{"directory: nothing parked", "request_list: 1 applied, 0 failed again", "request_details: 1 applied", "applied at"} {
		if !strings.Contains(out, want) {
			t.Errorf("retry does not say %q:\n%s", want, out)
		}
	}
	out, err = command("status")
	if err != nil || strings.Contains(out, "parked,") {
		t.Errorf("status after the retry (%v):\n%s", err, out)
	}
	if _, err := command("retry", "extra"); err == nil {
		t.Error("retry took a positional argument")
	}
	if _, err := command("retry", "--projection", "nope"); err == nil || !strings.Contains(err.Error(), `no read model "nope"`) {
		t.Errorf("retry of an unknown read model: %v", err)
	}
}
