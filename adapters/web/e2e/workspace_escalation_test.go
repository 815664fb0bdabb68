package e2e_test

import (
	"strings"
	"testing"
)

// TestScreenSharingSession: after the customer accepts screen sharing, both sides get the
// session's link live, Request Screen Sharing is not offered while the request waits or the
// session runs, the technician ends the session from the console, and screen sharing can be
// requested again (#15, item 7).
func TestScreenSharingSession(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	bob := br.actor(t, "bob", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)

	bob.login(srv.Bob)
	bob.setAvailability("available")
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Grace Hopper", email: "grace@example.com", description: "The spreadsheet crashes when I print", device: "mac",
	})
	bob.open("/console/requests/" + id)
	bob.waitFor("the Details panel", exists("section#details"))
	bob.action("assign")
	bob.waitFor("Join Chat is offered once assigned", exists(actionSel("join_chat")))
	bob.action("join_chat")
	bob.waitFor("Request Screen Sharing is offered in the chat", exists(actionSel("request_screen_sharing")))

	bob.action("request_screen_sharing")
	bob.waitFor("the console says the request waits for the customer", hasText("#screen-sharing-pending", "waiting for the customer"))
	if bob.has(actionSel("request_screen_sharing")) {
		bob.errorf("while the customer has not answered", "Request Screen Sharing is offered again")
	}
	accept := "#screen-sharing button[data-action=accept_screen_sharing]"
	customer.waitFor("the customer is asked to share their screen", exists(accept))
	bob.markPage()
	customer.clickAndLoad("Share My Screen", accept)
	customer.noError("Share My Screen")

	// Both sides get the link; the console's arrives live, without a reload.
	wantPrefix := "https://meet.example/" + id + "?session="
	customer.waitFor("the portal shows the session link", exists("#screen-session a#screen-session-link"))
	bob.waitFor("the console shows the session link live", exists("#screen-session a#screen-session-link"))
	if !bob.samePage() {
		bob.errorf("the console shows the session link live", "the page was reloaded")
	}
	techLink := eval[string](bob, "the console's link", "document.querySelector('#screen-session-link').href")
	custLink := eval[string](customer, "the portal's link", "document.querySelector('#screen-session-link').href")
	if !strings.HasPrefix(techLink, wantPrefix) || techLink != custLink || len(techLink) != len(wantPrefix)+36 {
		bob.fail("the session link", "console %q, portal %q, want %s<session ID> on both", techLink, custLink, wantPrefix)
	}
	for _, a := range []*actor{bob, customer} {
		if rel := eval[string](a, "the link opens apart", "document.querySelector('#screen-session-link').rel"); !strings.Contains(rel, "noopener") {
			a.errorf("the link opens apart", "rel=%q lacks noopener", rel)
		}
	}
	customer.waitFor("the prompt goes once accepted", "!("+exists(accept)+")")
	bob.waitFor("the chat says the session started", anyHasText("ol#chat li.entry", "Screen sharing session started"))
	if bob.has(actionSel("request_screen_sharing")) {
		bob.errorf("while the session runs", "Request Screen Sharing is offered")
	}

	// End Session: the link goes on both sides, and screen sharing can be asked for again.
	bob.waitFor("End Session is offered", hasText(actionSel("end_screen_sharing_session"), "End Session"))
	bob.action("end_screen_sharing_session")
	bob.noError("End Session")
	bob.waitFor("the console's link goes", "!("+exists("#screen-session-link")+")")
	customer.waitFor("the portal's link goes live", "!("+exists("#screen-session-link")+")")
	bob.waitFor("Request Screen Sharing is offered again", exists(actionSel("request_screen_sharing")))
	bob.waitFor("the chat says who ended the session", anyHasText("ol#chat li.entry", "Screen sharing session ended by Bob Durand"))
	bob.action("request_screen_sharing")
	customer.waitFor("the customer is asked again", exists(accept))
}
