package e2e_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestWorkspaceEdges: the edges of the workspace in a real browser (issue 15, item 6) — a
// logged-out deep link survives the login, an unknown address is the HTML 404 page, Back then
// Submit on the portal shows the request already made, and an Away technician is not called
// to a new request and is told on its details why they can do nothing. On a server of its own:
// Bob goes Away, which other tests must not see.
func TestWorkspaceEdges(t *testing.T) {
	t.Parallel()
	_, br := shared(t)
	srv := newServer(t)
	bob := br.actor(t, "bob", srv.URL, consoleSize)
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, consoleSize)

	// An unknown address, outside /console and /portal, is the HTML 404 page with a way back.
	if status := bob.openStatus("/no/such/page"); status != 404 {
		bob.errorf("an unknown address", "status %d, want 404", status)
	}
	bob.waitFor("the 404 page", exists("#error-message"))
	bob.waitFor("the 404 page's way back", exists("a#error-back[href='/console']"))
	bob.checkA11y("the HTML 404 page")

	// Back, then Submit: the same form sent twice makes one request and shows it.
	description := "Printer on fire " + uuid.NewString()
	id := customer.submit(srv.Portal1.String(), submission{name: "Ada Lovelace", email: "ada@example.com", description: description, device: "windows"})
	eval[bool](customer, "go back to the form", "(history.back(), true)")
	customer.waitFor("the form again", exists("form#submit-request"))
	if got := eval[string](customer, "the form again", "document.querySelector('form#submit-request textarea[name=description]').value"); got != description {
		// The browser brought the page back without what was typed: type it again, as a person would.
		customer.fill("the form again", "form#submit-request input[name=customer_name]", "Ada Lovelace")
		customer.fill("the form again", "form#submit-request input[name=customer_email]", "ada@example.com")
		customer.fill("the form again", "form#submit-request textarea[name=description]", description)
	}
	// Submitted from the page itself: after a history navigation chromedp's view of the DOM
	// may be the old document's, where a mouse click finds nothing.
	eval[bool](customer, "submit again", "(document.querySelector('form#submit-request').requestSubmit(), true)")
	customer.waitFor("submit again: the request page", "location.pathname.startsWith('/portal/requests/') && document.readyState === 'complete'")
	customer.noError("submit again")
	if path := eval[string](customer, "submit again", "location.pathname"); path != "/portal/requests/"+id {
		customer.errorf("submit again", "landed on %s, want the request already made, /portal/requests/%s", path, id)
	}
	var n int
	if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE event_type LIKE 'request.submitted%' AND data::text LIKE '%' || $1 || '%'`, description).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("the log holds %d submissions of the form, want 1", n)
	}

	// A logged-out deep link to the request survives the login.
	deep := "/console/requests/" + id
	bob.open(deep)
	bob.waitFor("the login page", exists("form#login"))
	bob.checkA11y("the login page of a deep link")
	if got := eval[string](bob, "the login page", "location.pathname + location.search"); got != "/console/login?next="+url.QueryEscape(deep) {
		bob.errorf("the login page", "at %s, want the login page keeping %s", got, deep)
	}
	// On the login page it was sent to (login would open a fresh one).
	bob.fill("log in", "form#login input[name=email]", srv.Bob.Email)
	bob.fill("log in", "form#login input[name=password]", password)
	bob.clickAndLoad("log in", submitOf("form#login"))
	if got := eval[string](bob, "after the login", "location.pathname"); got != deep {
		bob.errorf("after the login", "landed on %s, want %s", got, deep)
	}
	bob.waitFor("the request's details after the login", exists("#details-title"))

	// Away: no notification toast for a new request, and the details say why nothing can be done.
	bob.setAvailability("away")
	bob.open("/console")
	bob.waitFor("the console", exists("section#support-requests"))
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console")
	alice.waitFor("the console", exists("section#support-requests"))
	waitLive := func(a *actor) {
		a.waitFor("live updates are on", hasText("#live-status", "on"))
	}
	waitLive(alice)
	waitLive(bob)
	second := customer.submit(srv.Portal1.String(), submission{name: "Grace Hopper", email: "grace@example.com", description: "Cannot print", device: "mac"})
	link := "#notifications li.notification a[href=" + js("/console/requests/"+second) + "]"
	alice.waitFor("the Available technician's notification", exists(link))
	if bob.settles(exists(link), 2*time.Second) {
		bob.errorf("no notification while Away", "the Away technician got a notification of the new request")
	}
	bob.open("/console/requests/" + second)
	bob.waitFor("the explanation on the details", hasText("#no-actions", "You are Away: set yourself Available"))
	bob.checkA11y("the details explaining why nothing can be done")
}
