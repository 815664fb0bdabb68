package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// TestCannedResponsesByKeyboard (issue 16): with the keyboard alone, a technician reaches the
// message box, opens the company's canned responses with Ctrl+/, filters them by title, moves
// with the arrows, inserts one with Enter (filled in with the customer's name and the
// request's ID, at the caret, nothing sent), edits and sends it with Enter; Escape leaves the
// picker for the box; the form beside the box inserts too. Accessible with the picker open.
func TestCannedResponsesByKeyboard(t *testing.T) {
	srv, br := shared(t)
	ctx := context.Background()
	for _, c := range []struct{ title, body string }{
		{"Greeting", "Hello {customer_name}, I am on it."},
		{"Reboot", "{customer_name}, please restart; your request is {request_id}."},
		{"Remote session", "May I see your screen?"},
	} {
		res, err := srv.App.SaveCannedResponse(ctx, app.Meta{Actor: app.Admin}, app.SaveCannedResponse{CompanyID: srv.Company1, ResponseID: uuid.New(), Title: c.title, Body: c.body})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.WaitFor(ctx, res.Position, stepTimeout); err != nil {
			t.Fatal(err)
		}
	}
	sub := srv.apiSubmit(t, srv.Portal1, "Vera Canned", "vera.canned@example.com", "My laptop is slow", "windows")
	id := sub.RequestID
	api := srv.apiLogin(t, srv.Alice)
	api.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	api.command(http.MethodPost, "/requests/"+id+"/join", nil)

	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.waitFor("the page is live", hasText("#live-status", "Live updates are on"))
	alice.tabTo("tab to the skip link", "a#skip-to-chat", 15)
	alice.press("follow the skip link", "\r")
	alice.waitFor("in the message box", "document.activeElement && document.activeElement.id === 'message-body'")
	// Select whatever the skip link's Enter left in the box, and type over it.
	alice.do("type a start", chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)), chromedp.KeyEvent("Hi! "))
	if got := eval[string](alice, "type a start", "document.getElementById('message-body').value"); got != "Hi! " {
		alice.fail("type a start", "the box holds %q", got)
	}

	step := "open the canned responses with Ctrl+/"
	alice.do(step, chromedp.KeyEvent("/", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	alice.waitFor(step, "document.activeElement && document.activeElement.id === 'canned-filter'")
	if n := eval[int](alice, step, "document.querySelectorAll('#canned-options [role=option]').length"); n != 3 {
		alice.fail(step, "%d canned responses offered, want 3", n)
	}
	alice.checkA11y("the canned responses' picker")

	step = "filter by title and move with the arrows"
	alice.do(step, chromedp.KeyEvent("re"))
	alice.waitFor(step, "document.querySelectorAll('#canned-options [role=option]').length === 3") // gREeting, REboot, REmote
	alice.do(step, chromedp.KeyEvent("m"))
	alice.waitFor(step+": only Remote session", "document.querySelectorAll('#canned-options [role=option]').length === 1")
	alice.do(step, chromedp.KeyEvent(kb.Backspace))
	alice.waitFor(step, "document.querySelectorAll('#canned-options [role=option]').length === 3")
	alice.do(step, chromedp.KeyEvent(kb.ArrowDown))
	alice.waitFor(step+": Reboot is the active option", `(() => { const f = document.getElementById('canned-filter'); const o = document.getElementById(f.getAttribute('aria-activedescendant')); return !!o && o.getAttribute('aria-selected') === 'true' && o.textContent.startsWith('Reboot'); })()`)

	step = "insert it with Enter"
	alice.press(step, "\r")
	want := "Hi! Vera Canned, please restart; your request is " + id + "."
	if !alice.settles("document.getElementById('message-body').value === "+js(want), 5*time.Second) {
		alice.fail(step, "the box holds %q, want %q", eval[string](alice, step, "document.getElementById('message-body').value"), want)
	}
	alice.waitFor(step, "document.getElementById('message-body').value === "+js(want))
	alice.waitFor(step+": back in the box, picker closed", "document.activeElement.id === 'message-body' && document.getElementById('canned-picker').hidden")
	if eval[bool](alice, step, chatHas(want)) {
		alice.fail(step, "inserting sent the message")
	}

	step = "Escape goes back to the box"
	alice.do(step, chromedp.KeyEvent("/", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	alice.waitFor(step, "document.activeElement.id === 'canned-filter'")
	alice.do(step, chromedp.KeyEvent(kb.Escape))
	alice.waitFor(step, "document.activeElement.id === 'message-body' && document.getElementById('canned-picker').hidden")
	if got := eval[string](alice, step, "document.getElementById('message-body').value"); got != want {
		alice.fail(step, "the box changed to %q", got)
	}

	step = "send it"
	alice.press(step, "\r")
	alice.waitFor(step, chatHas(want))

	// The form beside the box inserts without leaving the page (and, without the script,
	// reloads the page with the text in the box).
	step = "insert with the form"
	alice.markPage()
	alice.do(step, chromedp.SetValue("#canned-select", eval[string](alice, step, `Array.from(document.querySelectorAll('#canned-select option')).find(o => o.textContent === 'Greeting').value`)))
	alice.click(step, "#canned-insert")
	alice.waitFor(step, "document.getElementById('message-body').value === "+js("Hello Vera Canned, I am on it."))
	if !alice.samePage() {
		alice.fail(step, "inserting left the page")
	}
	noScript := eval[string](alice, "the form's address without the script", `location.pathname + '?canned=' + document.getElementById('canned-select').value`)
	alice.open(noScript)
	alice.waitFor("the page without the script's help has the text in the box", "document.getElementById('message-body').value === "+js("Hello Vera Canned, I am on it."))
}
