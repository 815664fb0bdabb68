package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// press types keys (chromedp key events: "\t" is Tab, "\r" Enter, " " Space).
func (a *actor) press(step, keys string) {
	a.t.Helper()
	a.do(step, chromedp.KeyEvent(keys))
}

// pressAndLoad presses keys that submit a form or follow a link, and waits for the next page.
func (a *actor) pressAndLoad(step, keys string) {
	a.t.Helper()
	eval[bool](a, step, "(window.__e2eLeaving = true)")
	a.press(step, keys)
	a.waitFor(step+": the next page loads", "window.__e2eLeaving === undefined && document.readyState === 'complete'")
}

// focusVisible is a JavaScript expression: the focused element shows a visible focus outline.
const focusVisible = `(() => {
  const e = document.activeElement;
  if (!e || e === document.body) return false;
  const s = getComputedStyle(e);
  return e.matches(':focus-visible') && s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
})()`

// tabTo presses Tab until the focused element matches sel, checking at every stop that the
// focus is visible, and fails after max stops.
func (a *actor) tabTo(step, sel string, max int) {
	a.t.Helper()
	for range max {
		a.press(step, "\t")
		if eval[bool](a, step, "document.activeElement !== null && document.activeElement.matches("+js(sel)+")") {
			if !eval[bool](a, step, focusVisible) {
				a.fail(step, "the focused %s has no visible focus outline", sel)
			}
			return
		}
		if !eval[bool](a, step, focusVisible) {
			a.fail(step, "the focused element %s has no visible focus outline",
				eval[string](a, step, "document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'none'"))
		}
	}
	a.fail(step, "%s not reached after %d presses of Tab (focus on %s)", sel, max,
		eval[string](a, step, "document.activeElement ? document.activeElement.outerHTML.slice(0, 200) : 'none'"))
}

// TestKeyboardOnly: a technician logs in, finds a request in the list, opens it and assigns it
// to themselves with the keyboard alone (Tab, Enter, Space), and every stop shows its focus.
// It runs alone (not parallel): nobody else changes Alice's status meanwhile.
func TestKeyboardOnly(t *testing.T) {
	srv, br := shared(t)
	srv.apiLogin(t, srv.Alice).command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	id := srv.apiSubmit(t, srv.Portal1, "Kim Keyboard", "kim@example.com", "Only a keyboard here", "windows").RequestID
	alice := br.actor(t, "alice", srv.URL, consoleSize)

	alice.open("/console/login")
	alice.waitFor("the login form has the focus", "document.activeElement && document.activeElement.name === 'email'")
	alice.press("type the e-mail address", srv.Alice.Email)
	alice.press("go to the password", "\t")
	if !eval[bool](alice, "go to the password", "document.activeElement.name === 'password'") {
		alice.fail("go to the password", "Tab from the e-mail address did not reach the password")
	}
	alice.press("type the password", password)
	alice.pressAndLoad("log in with Enter", "\r")
	alice.waitFor("the console", exists("form#availability"))
	alice.waitFor("the request is listed", exists(requestRow(id)))

	link := requestRow(id) + " a[href]"
	alice.tabTo("tab to the request's row", link, 80)
	alice.pressAndLoad("open the request with Enter", "\r")
	alice.waitFor("the Details panel", exists("section#details"))
	alice.tabTo("tab to Assign to Me", actionSel("assign"), 200)
	alice.pressAndLoad("assign with Space", " ")
	alice.noError("assign with Space")
	alice.waitFor("the request is Alice's", exists("#request-status[data-status=active]")+" && "+hasText("#details-head", "Alice Martin"))
	alice.waitFor("it is in My Support Requests", exists("section#my-requests li[data-request-id="+js(id)+"]"))
}

// TestClickDuringLiveUpdate: a live update that arrives while the mouse button is down on
// Assign to Me does not swallow the click, even when it changes the actions shown; the form
// is submitted when the button is released.
func TestClickDuringLiveUpdate(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	id := srv.apiSubmit(t, srv.Portal1, "Paula Press", "paula@example.com", "Click me while I change", "windows").RequestID
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.awaitAction("the Assign button", "assign")
	alice.waitFor("live updates are on", hasText("#live-status", "on"))

	step := "press the mouse button on Assign to Me"
	xy := eval[[]float64](alice, step, `(() => {
  const b = document.querySelector(`+js(actionSel("assign"))+`);
  b.scrollIntoView({block: 'center'});
  const r = b.getBoundingClientRect();
  window.__e2eLeaving = true; window.__e2eGone = false;
  document.addEventListener('submit', () => { window.__e2eGone = true });
  return [r.x + r.width / 2, r.y + r.height / 2];
})()`)
	fetches := `performance.getEntriesByType('resource').filter(e => e.name.includes('/console/fragments/details/')).length`
	before := eval[float64](alice, step, fetches)
	alice.do(step, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0], xy[1]), chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1)))

	// Bob takes the request and gives it back while Alice holds the button: two live updates,
	// the first of which takes Assign to Me away.
	bob := srv.apiLogin(t, srv.Bob)
	bob.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	bob.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	alice.waitFor("the Details panel fetched Bob's assignment", fetches+" > "+fmt.Sprint(int(before)))
	time.Sleep(300 * time.Millisecond)
	bob.command(http.MethodPost, "/requests/"+id+"/unassign", nil)
	alice.waitFor("the Details panel fetched Bob's unassignment", fetches+" > "+fmt.Sprint(int(before)+1))
	time.Sleep(300 * time.Millisecond)

	alice.do("release the mouse button", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, xy[0], xy[1], chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if !alice.settles("window.__e2eLeaving === undefined || window.__e2eGone === true", 5*time.Second) {
		alice.fail("release the mouse button", "the click was swallowed: the form was not submitted")
	}
	alice.waitFor("the next page loads", "window.__e2eLeaving === undefined && document.readyState === 'complete'")
	alice.noError("assign")
	alice.waitFor("the request is Alice's", exists("#request-status[data-status=active]")+" && "+hasText("#details-head", "Alice Martin"))
}

// noHorizontalScroll is a JavaScript expression: the page is no wider than the window.
const noHorizontalScroll = "document.documentElement.scrollWidth <= window.innerWidth"

// TestLongNamesFit: the longest customer name, a long e-mail address and a long description
// keep the console within 1280×800 and the portal within a phone's 390×844: no horizontal
// scrolling; the list cuts the name with an ellipsis and keeps it whole in a title.
func TestLongNamesFit(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	longName := strings.Repeat("W", 200) // the longest name R1 accepts, with nowhere to break
	longEmail := strings.Repeat("l", 64) + "@" + strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + ".example"
	longDescription := strings.Repeat("Unbreakable", 300)

	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console?view=new")
	alice.waitFor("live updates are on", hasText("#live-status", "on"))

	customer := br.actor(t, "phone-customer", srv.URL, phoneSize)
	customer.open("/portal/" + srv.Portal1.String())
	customer.waitFor("the portal's form", exists("form#submit-request"))
	if !eval[bool](customer, "the portal's form at 390×844", noHorizontalScroll) {
		customer.errorf("the portal's form at 390×844", "the page scrolls sideways: %v > %v",
			eval[float64](customer, "width", "document.documentElement.scrollWidth"), eval[float64](customer, "width", "window.innerWidth"))
	}
	id := customer.submit(srv.Portal1.String(), submission{name: longName, email: longEmail, description: longDescription, device: "android"})
	if !eval[bool](customer, "the request page at 390×844", noHorizontalScroll) {
		customer.errorf("the request page at 390×844", "the page scrolls sideways: %v > %v",
			eval[float64](customer, "width", "document.documentElement.scrollWidth"), eval[float64](customer, "width", "window.innerWidth"))
	}

	alice.waitFor("the request and its notification arrive live", exists(requestRow(id))+" && "+exists("#notifications a[href="+js("/console/requests/"+id)+"]"))
	checkConsole := func(step string) {
		t.Helper()
		if !eval[bool](alice, step, noHorizontalScroll) {
			alice.errorf(step, "the console scrolls sideways at 1280×800: %v > %v",
				eval[float64](alice, step, "document.documentElement.scrollWidth"), eval[float64](alice, step, "window.innerWidth"))
		}
		if !eval[bool](alice, step, "Array.from(document.querySelectorAll('.table-wrap')).every(e => e.scrollWidth <= e.clientWidth)") {
			alice.errorf(step, "the request list scrolls sideways inside its panel")
		}
	}
	checkConsole("the list with a long name, live")
	cell := requestRow(id) + " a[href]"
	if got := eval[string](alice, "the name's title", "document.querySelector("+js(cell)+").title"); got != longName {
		alice.errorf("the name's title", "the row's link has title %q, want the whole name", short(got))
	}
	if !eval[bool](alice, "the name is cut", "(e => e.scrollWidth > e.clientWidth && getComputedStyle(e).textOverflow === 'ellipsis')(document.querySelector("+js(cell)+"))") {
		alice.errorf("the name is cut", "the long name is not cut with an ellipsis")
	}

	srv.apiLogin(t, srv.Alice).command(http.MethodPost, "/requests/"+id+"/assign", nil)
	alice.open("/console/requests/" + id + "?view=all")
	alice.waitFor("the Details panel", exists("section#details")+" && "+exists("section#my-requests li[data-request-id="+js(id)+"]"))
	checkConsole("the details of a request with a long name")
}
