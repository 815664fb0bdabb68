package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
)

type pastPage struct {
	Requests []struct {
		ID     uuid.UUID `json:"id"`
		Status string    `json:"status"`
	} `json:"requests"`
	Total    int       `json:"total"`
	AsOf     time.Time `json:"as_of"`
	Position string    `json:"position"`
}

type historyAnswer struct {
	Verified bool `json:"verified"`
	Total    int  `json:"total"`
	Events   []struct {
		Type      string `json:"type"`
		ActorName string `json:"actor_name"`
		Summary   string `json:"summary"`
		State     struct {
			Status string `json:"status"`
		} `json:"state"`
	} `json:"events"`
	State *struct {
		Status string `json:"status"`
	} `json:"state"`
}

// An auditor reads the list, a technician's queue, a request's details and its history as they
// were before and after the request was taken; every such read is in the access log; nobody
// else may ask for the past, and a moment to come or a malformed one is a 422.
func TestAuditorReadsThePast(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, _ := e.submit(t, w.portalA, uaWindows)
	e.registerAuditor(t, "Ann Audit", "ann@example.com", w.companyA)
	auditor, _ := e.loginAuditor(t, "ann@example.com")
	time.Sleep(20 * time.Millisecond)
	before := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	w.techA.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	w.techA.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)
	time.Sleep(20 * time.Millisecond)
	after := time.Now().UTC()
	at := func(t0 time.Time) string { return url.QueryEscape(t0.Format(time.RFC3339Nano)) }

	// statuses is the request's status in the page at path, once it is want: the log shows a
	// commit only once no earlier transaction can still land before it, so a moment just past
	// may need a moment more (the test's own commits have all returned by then).
	statuses := func(path, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var page pastPage
			auditor.get(t, path).want(t, http.StatusOK).decode(t, &page)
			got = ""
			for _, r := range page.Requests {
				if r.ID == id {
					got = r.Status
				}
			}
			if got == want {
				break
			}
		}
		return got
	}
	if got := statuses("/api/v1/requests?as_of="+at(before), "new"); got != "new" {
		t.Errorf("the list before the assignment shows the request %q, want new", got)
	}
	if got := statuses("/api/v1/requests?view=active&as_of="+at(after), "active"); got != "active" {
		t.Errorf("the Active view after the assignment shows the request %q, want active", got)
	}
	queue := fmt.Sprintf("/api/v1/requests?technician=%s&mine=true&as_of=", w.techA.id)
	if got := statuses(queue+at(before), ""); got != "" {
		t.Errorf("Alice's queue before she took it holds the request (%q)", got)
	}
	if got := statuses(queue+at(after), "active"); got != "active" {
		t.Errorf("Alice's queue after she took it: %q, want active", got)
	}

	var d struct {
		Status  string   `json:"status"`
		Actions []string `json:"actions"`
	}
	auditor.get(t, reqPath(id)+"?as_of="+at(before)).want(t, http.StatusOK).decode(t, &d)
	if d.Status != "new" || len(d.Actions) != 0 {
		t.Errorf("details before the assignment: %+v", d)
	}

	var h historyAnswer
	auditor.get(t, reqPath(id, "history")+"?version=0").want(t, http.StatusOK).decode(t, &h)
	if !h.Verified || h.Total != 3 || len(h.Events) != 1 || h.State == nil || h.State.Status != "new" || h.Events[0].Summary == "" {
		t.Errorf("history to version 0: %+v", h)
	}
	auditor.get(t, reqPath(id, "history")).want(t, http.StatusOK).decode(t, &h)
	if len(h.Events) != 3 || h.Events[1].ActorName != "Alice Tech" || h.Events[1].State.Status != "active" {
		t.Errorf("whole history: %+v", h)
	}
	w.techA.get(t, reqPath(id, "history")+"?as_of="+at(before)).want(t, http.StatusOK).decode(t, &h)
	if len(h.Events) != 1 {
		t.Errorf("a technician's history as of before the assignment has %d events, want 1", len(h.Events))
	}

	w.techA.get(t, "/api/v1/requests?as_of="+at(after)).wantErr(t, http.StatusForbidden, "forbidden")
	w.techA.get(t, reqPath(id)+"?as_of="+at(after)).wantErr(t, http.StatusForbidden, "forbidden")
	auditor.get(t, "/api/v1/requests?as_of="+at(time.Now().Add(time.Hour))).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	for _, bad := range []string{"yesterday", "2026-13-01T00:00:00Z", "%00"} {
		auditor.get(t, "/api/v1/requests?as_of="+bad).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	}
	auditor.get(t, reqPath(id, "history")+"?version=7").wantErr(t, http.StatusUnprocessableEntity, "invalid")
	auditor.get(t, reqPath(id, "history")+"?version=0&as_of="+at(after)).wantErr(t, http.StatusUnprocessableEntity, "invalid")
	auditor.get(t, "/api/v1/requests?technician="+w.techA.id.String()).wantErr(t, http.StatusUnprocessableEntity, "invalid")

	var log struct {
		Entries []struct {
			Kind   string            `json:"kind"`
			Params map[string]string `json:"params"`
		} `json:"entries"`
	}
	auditor.get(t, "/api/v1/audit/access-log?limit=200").want(t, http.StatusOK).decode(t, &log)
	pastReads := 0
	for _, entry := range log.Entries {
		if entry.Params["as_of"] != "" {
			pastReads++
		}
	}
	if pastReads < 5 {
		t.Errorf("the access log holds %d reads of the past, want at least 5: %+v", pastReads, log.Entries)
	}
}

// A request whose stream no longer folds (an event changed into one no codec knows) is what an
// auditor must still read: its history answers 200 with every event and a verdict that says
// what is wrong, never a 5xx.
func TestHistoryOfAStreamThatDoesNotFold(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, _ := e.submit(t, w.portalA, uaWindows)
	w.techA.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	if _, err := e.pool.Exec(context.Background(), `UPDATE events SET event_type = 'request.bogus.v1' WHERE stream_id = $1 AND stream_version = 1`, "request-"+id.String()); err != nil {
		t.Fatal(err)
	}
	e.registerAuditor(t, "Ann Audit", "ann@example.com", w.companyA)
	auditor, _ := e.loginAuditor(t, "ann@example.com")
	for _, c := range []*client{w.techA, auditor} {
		var h struct {
			Verified bool   `json:"verified"`
			Problem  string `json:"problem"`
			Total    int    `json:"total"`
		}
		c.get(t, reqPath(id, "history")).want(t, http.StatusOK).decode(t, &h)
		if h.Verified || h.Problem == "" || h.Total != 2 {
			t.Errorf("the history of a stream that does not fold: %+v", h)
		}
	}
	w.techB.get(t, reqPath(id, "history")).wantErr(t, http.StatusNotFound, "not_found")
}
