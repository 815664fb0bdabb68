package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWhoIsViewing (issue 16): Bob sees that Alice has the request open, live; Alice, who
// reached the message box with the keyboard alone, types and Bob sees "Alice Martin is
// typing…"; Alice sees Bob in turn; the list marks the request as open by her; when her tab
// closes, the line goes (her tab's beacon, or at the latest the viewing TTL). Accessible
// throughout.
func TestWhoIsViewing(t *testing.T) {
	srv, br := shared(t)
	sub := srv.apiSubmit(t, srv.Portal1, "Vera Viewers", "vera@example.com", "Two of us on it?", "windows")
	id := sub.RequestID
	api := srv.apiLogin(t, srv.Alice)
	api.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	api.command(http.MethodPost, "/requests/"+id+"/join", nil)

	// Alice's browser keeps a blank first tab: closing a tab cancels its context, and other
	// tabs are its children.
	holder := br.actor(t, "alice", srv.URL, consoleSize)
	holder.signIn(srv, srv.Alice, "available")
	alice := holder.tab("alice's tab")
	bob := br.actor(t, "bob", srv.URL, consoleSize)
	bob.signIn(srv, srv.Bob, "available")

	alice.open("/console/requests/" + id)
	alice.waitFor("Alice's page is live", hasText("#live-status", "Live updates are on"))
	bob.open("/console/requests/" + id)
	bob.waitFor("Bob's page is live", hasText("#live-status", "Live updates are on"))
	bob.waitFor("Bob sees Alice", hasText("#presence-viewing", "Also viewing: Alice Martin"))
	alice.waitFor("Alice sees Bob, live", hasText("#presence-viewing", "Also viewing: Bob Durand"))
	if alice.has("#presence-typing") {
		alice.fail("nobody types yet", "the typing line shows %q", alice.text("#presence-typing"))
	}
	bob.waitFor("the list marks the request open by Alice",
		`Array.from(document.querySelectorAll('[data-request-id="`+id+`"] .viewing-marker')).some(m => m.textContent === 'open by Alice Martin')`)
	bob.checkA11y("a request someone else has open")

	alice.tabTo("tab to the skip link", "a#skip-to-chat", 15)
	alice.press("follow the skip link", "\r")
	alice.waitFor("the skip link leads to the message box", "document.activeElement && document.activeElement.id === 'message-body'")
	alice.do("type to the customer", chromedp.KeyEvent("Hello Vera, I am"))
	bob.waitFor("Bob sees Alice typing", hasText("#presence-typing", "Alice Martin is typing…"))
	if got := bob.text("#presence-viewing"); got != "Also viewing: Alice Martin" {
		bob.fail("the viewing line stays", "it says %q", got)
	}
	bob.checkA11y("someone typing")
	// Typing stops: the line goes after the typing TTL (5 s).
	bob.waitForWithin("the typing line goes", "!"+exists("#presence-typing"), 15*time.Second)

	ctx, cancel := context.WithTimeout(alice.ctx, 10*time.Second)
	if err := chromedp.Cancel(ctx); err != nil {
		t.Fatalf("close Alice's tab: %v", err)
	}
	cancel()
	bob.waitForWithin("Alice's presence goes with her tab", "!"+exists("#presence-viewing"), 20*time.Second)
	bob.waitForWithin("and from the list", "!"+exists(`[data-request-id="`+id+`"] .viewing-marker`), 5*time.Second)
}
