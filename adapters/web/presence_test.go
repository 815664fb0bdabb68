package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// presenceAnswer is the JSON answer of POST /console/presence.
type presenceAnswer struct {
	RequestID uuid.UUID `json:"request_id"`
	Viewers   []struct {
		ID     uuid.UUID `json:"id"`
		Name   string    `json:"name"`
		Typing bool      `json:"typing"`
	} `json:"viewers"`
}

// reportPresence posts a console's presence report as the page's script does.
func (b *browser) reportPresence(token, requestID, state string) page {
	b.t.Helper()
	form := url.Values{"csrf_token": {token}, "request_id": {requestID}, "state": {state}}
	req, _ := http.NewRequest(http.MethodPost, b.w.srv.URL+"/console/presence", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Requested-With", "fetch")
	return b.do(req)
}

func answerOf(t *testing.T, p page) presenceAnswer {
	t.Helper()
	if p.status != http.StatusOK || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") {
		t.Fatalf("presence report: %d %s\n%s", p.status, p.header.Get("Content-Type"), p.body)
	}
	var a presenceAnswer
	if err := json.Unmarshal([]byte(p.body), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// Who is viewing: a technician's report reaches the event streams of the technicians of the
// request's company, the page of another shows it, the report's answer names the others, and
// "left" takes it back. Nothing of it reaches a technician of another company, who cannot
// report on the request either (404).
func TestWhoIsViewing(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	alice, bob, carol := w.login(t, "alice@example.com"), w.login(t, "bob@example.com"), w.login(t, "carol@example.com")
	aliceToken := csrfOf(t, alice.mustGet("/console/requests/"+id.String()).body)
	bobToken := csrfOf(t, bob.mustGet("/console").body)
	carolToken := csrfOf(t, carol.mustGet("/console").body)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bobLines := bob.events(ctx, "/console/events")
	carolLines := carol.events(ctx, "/console/events")
	waitLine(t, bobLines, ": live updates")
	waitLine(t, carolLines, ": live updates")

	first := answerOf(t, alice.reportPresence(aliceToken, id.String(), "viewing"))
	mustf(t, first.RequestID == id && len(first.Viewers) == 0, "Alice is the first viewer: %+v", first)
	waitLine(t, bobLines, "event: presence")
	data := waitLine(t, bobLines, "data: ")
	mustf(t, strings.Contains(data, id.String()) && strings.Contains(data, `"name":"Alice Martin"`), "Bob's stream: %s", data)

	// Bob's page shows Alice, in the details and in the list.
	p := bob.mustGet("/console/requests/" + id.String())
	contains(t, p, `<p id="presence-viewing">Also viewing: Alice Martin</p>`, `<span class="viewing-marker" data-viewing>open by Alice Martin</span>`)
	second := answerOf(t, bob.reportPresence(bobToken, id.String(), "typing"))
	mustf(t, len(second.Viewers) == 1 && second.Viewers[0].Name == "Alice Martin" && !second.Viewers[0].Typing, "Bob sees %+v", second.Viewers)
	p = alice.mustGet("/console/fragments/details/" + id.String())
	contains(t, p, "Also viewing: Bob Durand", `<p id="presence-typing">Bob Durand is typing…</p>`)
	lacks(t, p, "Also viewing: Alice")

	// Carol (Globex only) cannot report on Acme's request, and sees none of it.
	if p := carol.reportPresence(carolToken, id.String(), "viewing"); p.status != http.StatusNotFound || !strings.Contains(p.body, `"error"`) {
		t.Fatalf("Carol's report on Acme's request: %d %s", p.status, p.body)
	}
	globexID := w.submit(t, w.browser(t, uaWindows), w.globPort, "John Roe", "Help", "")
	answerOf(t, carol.reportPresence(carolToken, globexID.String(), "viewing"))
	for {
		l := waitLine(t, carolLines, "data: ")
		mustf(t, !strings.Contains(l, id.String()), "Carol's stream told her of Acme's request: %s", l)
		if strings.Contains(l, globexID.String()) && strings.Contains(l, "viewers") {
			break
		}
	}

	answerOf(t, alice.reportPresence(aliceToken, id.String(), "left"))
	p = bob.mustGet("/console/fragments/details/" + id.String())
	lacks(t, p, "Also viewing")
}

// A report is a form with the session's CSRF token, a request's ID and a known state; anything
// else is a clear 4xx in the one JSON error shape, and changes nothing.
func TestPresenceRefusesBadReports(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	alice, bob := w.login(t, "alice@example.com"), w.login(t, "bob@example.com")
	token := csrfOf(t, alice.mustGet("/console").body)
	for _, tc := range []struct {
		name, token, request, state string
		status                      int
	}{
		{"no token", "", id.String(), "viewing", http.StatusForbidden},
		{"another session's token", csrfOf(t, bob.mustGet("/console").body), id.String(), "viewing", http.StatusForbidden},
		{"no request", token, "", "viewing", http.StatusBadRequest},
		{"not an ID", token, "request-1", "viewing", http.StatusBadRequest},
		{"nil ID", token, uuid.Nil.String(), "viewing", http.StatusBadRequest},
		{"NUL in the ID", token, id.String() + "\x00", "viewing", http.StatusBadRequest},
		{"invalid UTF-8 state", token, id.String(), "view\xffing", http.StatusBadRequest},
		{"NUL state", token, id.String(), "viewing\x00", http.StatusBadRequest},
		{"unknown state", token, id.String(), "dancing", http.StatusBadRequest},
		{"unknown request", token, uuid.NewString(), "viewing", http.StatusNotFound},
		{"huge state", token, id.String(), strings.Repeat("v", 100<<10), http.StatusForbidden}, // past the form's cap: unread, refused
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := alice.reportPresence(tc.token, tc.request, tc.state)
			if p.status != tc.status || !strings.Contains(p.body, `"error":{"code":"`) {
				t.Fatalf("%d %s, want %d and the JSON error", p.status, p.body, tc.status)
			}
		})
	}
	lacks(t, bob.mustGet("/console/fragments/details/"+id.String()), "Also viewing")
}

// Two servers on one database: Alice's console on one and Bob's on the other see each other,
// through the relay (PostgreSQL NOTIFY), on the event stream and on the page.
func TestWhoIsViewingAcrossServers(t *testing.T) {
	w := newWorld(t)
	_, id := w.newRequest(t)
	second := servicetest.New(t, servicetest.Beside(w.svc))
	srv2 := httptest.NewServer(second.Handler())
	t.Cleanup(srv2.Close)
	w2 := *w
	w2.srv, w2.handler = srv2, second.Console
	alice, bob := w.login(t, "alice@example.com"), w2.login(t, "bob@example.com")
	aliceToken := csrfOf(t, alice.mustGet("/console").body)
	bobToken := csrfOf(t, bob.mustGet("/console").body)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bobLines := bob.events(ctx, "/console/events")
	waitLine(t, bobLines, ": live updates")
	answerOf(t, alice.reportPresence(aliceToken, id.String(), "typing"))
	for {
		l := waitLine(t, bobLines, "data: ")
		if strings.Contains(l, id.String()) && strings.Contains(l, `"name":"Alice Martin","typing":true`) {
			break
		}
	}
	contains(t, bob.mustGet("/console/fragments/details/"+id.String()), "Also viewing: Alice Martin", "Alice Martin is typing…")
	seen := answerOf(t, bob.reportPresence(bobToken, id.String(), "viewing"))
	mustf(t, len(seen.Viewers) == 1 && seen.Viewers[0].ID == w.alice, "Bob, on the other server, is told of %+v", seen.Viewers)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(alice.mustGet("/console/fragments/details/"+id.String()).body, "Also viewing: Bob Durand") {
		if time.Now().After(deadline) {
			t.Fatal("Alice's server never learned that Bob, on the other, has the request open")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A panel asked for a position the read models have not reached within the wait says so, and
// the page's script asks again; one asked for a position they have is not marked.
func TestFragmentSaysWhenTheReadModelsAreBehind(t *testing.T) {
	w := newWorld(t)
	customer, id := w.newRequest(t)
	alice := w.login(t, "alice@example.com")
	behind := alice.get("/console/fragments/details/" + id.String() + "?min_position=9223372036854775807-0")
	mustf(t, behind.status == http.StatusOK && behind.header.Get("X-Projection-Behind") == "true", "far position: %d %q", behind.status, behind.header.Get("X-Projection-Behind"))
	current := alice.get("/console/fragments/details/" + id.String() + "?min_position=1-0")
	mustf(t, current.status == http.StatusOK && current.header.Get("X-Projection-Behind") == "", "reached position: %d %q", current.status, current.header.Get("X-Projection-Behind"))
	portal := customer.get("/portal/requests/" + id.String() + "/fragment?min_position=9223372036854775807-0")
	mustf(t, portal.status == http.StatusOK && portal.header.Get("X-Projection-Behind") == "true", "portal, far position: %d %q", portal.status, portal.header.Get("X-Projection-Behind"))
}
