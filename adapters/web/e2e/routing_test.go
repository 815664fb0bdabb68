package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

// TestAutomaticAssignmentLive: under round-robin with an away limit, a request assigned to Bob
// automatically is given back when Bob stays Away past the limit and goes to Alice, whose
// console shows it arrive live in My Support Requests with her load against her capacity; with
// the keyboard alone she opens it and reads in the chat how each move was decided.
func TestAutomaticAssignmentLive(t *testing.T) {
	srv := newServer(t) // its own: auto-assignment would take the shared server's requests
	_, br := shared(t)
	ctx := context.Background()
	if _, err := srv.App.SetRoutingPolicy(ctx, app.Meta{Actor: app.Admin}, app.SetRoutingPolicy{CompanyID: srv.Company1,
		Settings: routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 2, AwayLimit: time.Second}}); err != nil {
		t.Fatal(err)
	}
	bob := srv.apiLogin(t, srv.Bob)
	bob.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	id := srv.apiSubmit(t, srv.Portal1, "Ada Auto", "ada@example.com", "Route me", "windows").RequestID
	waitAssignee(t, srv, id, srv.Bob.ID)

	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.open("/console/login")
	alice.waitFor("the login form has the focus", "document.activeElement && document.activeElement.name === 'email'")
	alice.press("type the e-mail address", srv.Alice.Email)
	alice.press("go to the password", "\t")
	alice.press("type the password", password)
	alice.pressAndLoad("log in with Enter", "\r")
	alice.waitFor("the console", exists("form#availability"))
	alice.waitFor("live updates are on", hasText("#live-status", "on"))
	alice.markPage()

	srv.apiLogin(t, srv.Alice).command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	bob.command(http.MethodPut, "/me/availability", map[string]string{"availability": "away"})
	mine := "section#my-requests li[data-request-id=" + js(id) + "]"
	alice.waitForWithin("the request arrives in My Support Requests", exists(mine), 20*time.Second)
	if !alice.samePage() {
		alice.fail("the request arrives in My Support Requests", "the page was reloaded: the assignment did not arrive live")
	}
	alice.waitFor("her load against her capacity", hasText("#routing-loads", "Acme Corp: 1 of 2")+" && "+hasText("#routing-loads", "round-robin"))
	alice.checkA11y("the console with the load under auto-assignment")

	alice.tabTo("tab to the request in My Support Requests", mine+" a[href]", 80)
	alice.pressAndLoad("open it with Enter", "\r")
	alice.waitFor("the Details panel", exists("section#details"))
	alice.waitFor("the chat says Bob got it automatically", anyHasText("#chat .event", "Assigned automatically (round-robin) to Bob Durand"))
	alice.waitFor("the chat says why it was given back",
		anyHasText("#chat .event", "Given back automatically for Bob Durand: away_limit: Bob Durand was Away 1s with 1 unanswered request"))
	alice.waitFor("the chat says Alice got it automatically", anyHasText("#chat .event", "Assigned automatically (round-robin) to Alice Martin"))
	alice.checkA11y("the details with automatic moves in the chat")
	alice.noError("open it with Enter")
}

// waitAssignee waits until the request's stream says it is assigned to tech.
func waitAssignee(t *testing.T, srv *server, id string, tech uuid.UUID) {
	t.Helper()
	requestID := uuid.MustParse(id)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		events, err := srv.Store.ReadStream(context.Background(), request.Stream(requestID), 0, eventlog.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var holder uuid.UUID
		for _, e := range events {
			decoded, err := request.Codec().Decode(e.Type, e.Data)
			if err != nil {
				t.Fatal(err)
			}
			switch e := decoded.(type) {
			case *request.Assigned:
				holder = e.TechnicianID
			case *request.Unassigned:
				holder = uuid.Nil
			}
		}
		if holder == tech {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("request %s was not assigned to %s in time", id, tech)
}
