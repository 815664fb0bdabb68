package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The chat pane and the shared live connection of issue #15, in a real browser.

// chatAtBottom: the chat shows its newest message.
const chatAtBottom = `(() => { const c = document.getElementById('chat'); return !!c && c.scrollHeight - c.scrollTop - c.clientHeight < 24; })()`

// chatOverflows: the chat is longer than its pane (so that "at the bottom" means something).
const chatOverflows = `(() => { const c = document.getElementById('chat'); return !!c && c.scrollHeight > c.clientHeight + 200; })()`

// scrollChatUp scrolls the chat to its oldest message, as a reader going back would.
const scrollChatUp = `(() => { const c = document.getElementById('chat'); c.scrollTop = 0; c.dispatchEvent(new Event('scroll')); return c.scrollTop; })()`

// jumpShown: the "new messages" button is shown and can take the focus.
const jumpShown = `(() => { const b = document.getElementById('chat-new-messages'); return !!b && !b.hidden && b.tabIndex >= 0 && !b.disabled && b.getBoundingClientRect().height > 0; })()`

// contrastJS defines ratio(a, b), the WCAG contrast of two computed CSS colours.
const contrastJS = `const rgb = s => (s.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const ratio = (a, b) => { const x = lum(rgb(a)), y = lum(rgb(b)); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };`

// watchBusy records every moment a panel is marked busy, with the opacity it is shown with
// then (its own and its ancestors').
const watchBusy = `(() => {
  window.__e2eBusy = { n: 0, minOpacity: 1 };
  new MutationObserver(ms => ms.forEach(m => {
    const el = m.target;
    if (el.getAttribute('aria-busy') !== 'true' || !el.matches('[data-fragment]')) return;
    let o = 1;
    for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    window.__e2eBusy.n++;
    window.__e2eBusy.minOpacity = Math.min(window.__e2eBusy.minOpacity, o);
  })).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['aria-busy'] });
  return true;
})()`

// chatHas: an entry of the chat whose body is exactly text.
func chatHas(text string) string {
	return `Array.from(document.querySelectorAll('#chat li.entry .body')).some(b => b.textContent === ` + js(text) + `)`
}

// typeAndSend types two lines (Shift+Enter between them) in #message-body and sends them with
// Enter, checking that the page stays (no navigation) and the message appears in the chat.
func (a *actor) typeAndSend(first, second string) {
	a.t.Helper()
	step := "write two lines and send them with Enter"
	a.markPage()
	a.do(step, chromedp.Focus("#message-body"), chromedp.KeyEvent(first),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)), chromedp.KeyEvent(second))
	if got := eval[string](a, step, "document.getElementById('message-body').value"); got != first+"\n"+second {
		a.fail(step, "Shift+Enter did not start a new line: the box holds %q", got)
	}
	a.press(step, "\r")
	a.waitFor(step+": the message is in the chat", chatHas(first+"\n"+second))
	a.waitFor(step+": the box is empty again", "document.getElementById('message-body').value === ''")
	if !a.samePage() {
		a.fail(step, "sending left the page (a reload or navigation)")
	}
	if a.has("#send-message-error") {
		a.fail(step, "an error is shown next to the composer: %q", a.text("#send-message-error"))
	}
	a.waitFor(step+": the chat shows it at the bottom", chatAtBottom)
}

// scrolledUpGetsButton scrolls the chat up, lets send() write a message, and checks that the
// reader stays where they were and a "new messages" button appears that takes them down.
func (a *actor) scrolledUpGetsButton(send func(), text string) {
	a.t.Helper()
	step := "scroll up, then a message arrives"
	eval[float64](a, step, scrollChatUp)
	send()
	a.waitFor(step, chatHas(text))
	a.waitFor(step+": the New messages button", jumpShown)
	a.checkA11y("a chat with the New messages button")
	if top := eval[float64](a, step, "document.getElementById('chat').scrollTop"); top > 5 {
		a.fail(step, "the reader was moved to %v px; they had scrolled to the top", top)
	}
	step = "go down with the New messages button, by keyboard"
	a.do(step, chromedp.Focus("#chat-new-messages"))
	a.press(step, "\r")
	a.waitFor(step, chatAtBottom+" && document.getElementById('chat-new-messages').hidden")
}

// TestWorkspaceChat: the console's and the portal's chat open at the newest message and stay
// there as messages arrive, unless the reader scrolled up (then a New messages button); Enter
// sends without leaving the page and Shift+Enter starts a new line; a hidden tab counts the
// customer's messages in its title and, when the technician opted in, alerts; refreshing
// panels are never dimmed and say they are busy in full contrast; the focus outline is 3:1.
func TestWorkspaceChat(t *testing.T) {
	srv, br := shared(t)
	customer := br.actor(t, "customer", srv.URL, consoleSize)
	id := customer.submit(srv.Portal1.String(), submission{name: "Wanda Workspace", email: "wanda@example.com", description: "A long conversation", device: "windows"})
	wanda := srv.customerAPI(t, submitted{RequestID: id, CustomerToken: customer.customerToken(id)})
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.signIn(srv, srv.Alice, "available")
	api := srv.apiLogin(t, srv.Alice)
	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	api.command(http.MethodPost, "/requests/"+id+"/join", nil)
	for i := range 15 {
		wanda.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": fmt.Sprintf("customer line %d", i)}, nil)
		api.call(http.MethodPost, "/requests/"+id+"/messages", map[string]string{"body": fmt.Sprintf("technician line %d", i)}, nil)
	}
	fromCustomer := func(text string) func() {
		return func() {
			wanda.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": text}, nil)
		}
	}
	fromTechnician := func(text string) func() {
		return func() { api.call(http.MethodPost, "/requests/"+id+"/messages", map[string]string{"body": text}, nil) }
	}

	// ---- the console ----
	alice.open("/console/requests/" + id)
	alice.waitFor("the long chat", chatHas("technician line 14")+" && "+chatOverflows)
	alice.waitFor("live updates are on", hasText("#live-status", "on"))
	eval[bool](alice, "watch the busy panels", watchBusy)
	alice.waitFor("the chat opens at the newest message", chatAtBottom)

	fromCustomer("live while reading the newest")()
	alice.waitFor("a live message arrives", chatHas("live while reading the newest"))
	alice.waitFor("the chat stays at the newest message", chatAtBottom)
	if alice.has("#chat-new-messages:not([hidden])") {
		alice.fail("a live message arrives", "the New messages button shows although the reader is at the bottom")
	}

	alice.scrolledUpGetsButton(fromCustomer("arrived while scrolled up"), "arrived while scrolled up")
	alice.typeAndSend("Hello Wanda", "second line")

	// The composer is a few Tab stops away: a skip link takes the keyboard to it.
	alice.open("/console/requests/" + id)
	alice.waitFor("the page again", exists("#message-body"))
	alice.tabTo("tab to the skip link", "a#skip-to-chat", 15)
	alice.press("follow the skip link", "\r")
	alice.waitFor("the skip link leads to the message box", "document.activeElement && document.activeElement.id === 'message-body'")
	eval[bool](alice, "watch the busy panels", watchBusy)

	// The focus outline: 3:1 against white and the page's background.
	step := "the focus outline's contrast"
	outline := eval[[]float64](alice, step, `(() => { `+contrastJS+`
  const box = document.getElementById('message-body'); box.focus();
  const s = getComputedStyle(box);
  return [ratio(s.outlineColor, 'rgb(255, 255, 255)'), ratio(s.outlineColor, getComputedStyle(document.documentElement).backgroundColor), parseFloat(s.outlineWidth)];
})()`)
	if outline[0] < 3 || outline[1] < 3 || outline[2] < 2 {
		alice.fail(step, "the focus outline has %.2f:1 on white and %.2f:1 on the background (width %v px); 3:1 wanted", outline[0], outline[1], outline[2])
	}

	// Hidden: the title counts the customer's messages, and the opted-in alert fires. Headless
	// Chromium has no CDP call that hides a tab (Emulation has focus emulation, not visibility;
	// freezing the page stops its scripts), so the test overrides document.hidden and
	// visibilityState and dispatches visibilitychange, as a browser does when the tab goes to
	// the background. The desktop notification is a stand-in that records what it was given,
	// and its permission is asked only when the opt-in box is clicked.
	step = "opt in to alerts"
	eval[bool](alice, step, `(() => {
  window.__e2eNotes = []; window.__e2eAsked = 0;
  function N(title, o) { window.__e2eNotes.push(title + ': ' + (o && o.body)); this.close = () => {}; }
  N.permission = 'default';
  N.requestPermission = () => { window.__e2eAsked++; N.permission = 'granted'; return Promise.resolve('granted'); };
  window.Notification = N;
  return true;
})()`)
	if !alice.has("#notifications + p.chat-alerts input#chat-alerts[type=checkbox]") || !alice.has("label[for=chat-alerts]") {
		alice.fail(step, "no labelled opt-in box under the notifications")
	}
	if eval[bool](alice, step, "document.getElementById('chat-alerts').checked") {
		alice.fail(step, "alerts are on before the technician chose them")
	}
	alice.click(step, "#chat-alerts")
	alice.waitFor(step+": the permission is asked on the click", "window.__e2eAsked === 1 && localStorage.getItem('helpstream.chat-alerts') === 'on'")

	step = "the tab is hidden and the customer writes twice"
	base := eval[string](alice, step, "document.title")
	eval[bool](alice, step, `(() => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
  return true;
})()`)
	fromCustomer("are you there?")()
	fromCustomer("hello?")()
	alice.waitFor(step, chatHas("hello?")+" && document.title === "+js("(2) "+base))
	alice.waitFor(step+": a desktop notification", "window.__e2eNotes.some(n => n.includes('hello?') || n.includes('are you there?'))")
	step = "the tab is shown again"
	eval[bool](alice, step, `(() => {
  delete document.hidden; delete document.visibilityState;
  document.dispatchEvent(new Event('visibilitychange'));
  return true;
})()`)
	alice.waitFor(step+": the counter is gone", "document.title === "+js(base))

	// Refreshing panels: never dimmed, and the busy badge keeps its contrast.
	step = "panels being refreshed"
	busy := eval[map[string]float64](alice, step, "window.__e2eBusy")
	if busy["n"] == 0 {
		alice.fail(step, "no panel was marked busy during the live refreshes")
	}
	if busy["minOpacity"] < 1 {
		alice.fail(step, "a refreshing panel was shown with opacity %v", busy["minOpacity"])
	}
	eval[bool](alice, step, "(document.getElementById('details').setAttribute('aria-busy', 'true'), true)")
	time.Sleep(700 * time.Millisecond) // the badge shows when a refresh lasts 0.4 s
	badge := eval[[]float64](alice, step, `(() => { `+contrastJS+`
  const d = document.getElementById('details'); d.setAttribute('aria-busy', 'true');
  const b = getComputedStyle(d, '::before');
  const r = [b.content.includes('Updating') ? 1 : 0, b.visibility === 'visible' ? 1 : 0, ratio(b.color, b.backgroundColor), parseFloat(getComputedStyle(d).opacity)];
  d.removeAttribute('aria-busy');
  return r;
})()`)
	if badge[0] != 1 || badge[1] != 1 || badge[2] < 4.5 || badge[3] < 1 {
		alice.fail(step, "busy badge: shown %v, visible %v, contrast %.2f:1 (4.5:1 wanted), panel opacity %v", badge[0], badge[1], badge[2], badge[3])
	}

	// ---- the portal ----
	customer.open("/portal/requests/" + id)
	customer.waitFor("the portal's long chat", chatHas("hello?")+" && "+chatOverflows)
	customer.waitFor("live updates are on in the portal", hasText("#live-status", "on"))
	customer.waitFor("the portal's chat opens at the newest message", chatAtBottom)
	fromTechnician("the technician writes live")()
	customer.waitFor("a live message in the portal", chatHas("the technician writes live"))
	customer.waitFor("the portal's chat stays at the newest message", chatAtBottom)
	customer.scrolledUpGetsButton(fromTechnician("written while the customer reads back"), "written while the customer reads back")
	customer.typeAndSend("Thanks", "it works now")
	alice.waitFor("the customer's message reaches the console live", chatHas("Thanks\nit works now"))
}

// tab is one more tab in the browser context of a, sharing its cookies.
func (a *actor) tab(name string) *actor {
	a.t.Helper()
	ctx, cancel := chromedp.NewContext(a.ctx)
	a.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		a.t.Fatalf("%s: open a tab: %v", name, err)
	}
	t := &actor{t: a.t, name: name, ctx: ctx, base: a.base}
	t.do("set the viewport", chromedp.EmulateViewport(1280, 800))
	return t
}

// TestTenTabsShareOneLiveConnection: a technician with ten console tabs in one browser (which
// opens six HTTP/1.1 connections per host) gets all ten loaded and live, through one event
// stream that the tabs share; when the tab holding it closes, another takes over and every
// remaining tab stays live.
func TestTenTabsShareOneLiveConnection(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	sub := srv.apiSubmit(t, srv.Portal2, "Tess Tabs", "tess@example.com", "Ten tabs open", "windows")
	id := sub.RequestID
	// The first tab of the browser context stays blank: closing a tab cancels its context, and
	// the other tabs' contexts are its children.
	holder := br.actor(t, "carol", srv.URL, consoleSize)
	holder.signIn(srv, srv.Carol, "available")
	api := srv.apiLogin(t, srv.Carol)
	api.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})

	var tabs []*actor
	for i := 1; i <= 10; i++ {
		tabs = append(tabs, holder.tab(fmt.Sprintf("carol-%d", i)))
	}
	// Navigate without waiting for each load: a tab that holds a connection forever must not
	// keep the next from being opened.
	for _, tab := range tabs {
		ctx, cancel := context.WithTimeout(tab.ctx, stepTimeout)
		err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: tab.base + "/console/requests/" + id})
			return err
		}))
		cancel()
		if err != nil {
			tab.fail("open the request", "%v", err)
		}
	}
	for _, tab := range tabs {
		tab.waitFor("the tab loads", "document.readyState === 'complete' && "+exists("#request-status[data-status=new]"))
		tab.waitFor("the tab is live", hasText("#live-status", "Live updates are on"))
	}
	leaders := func() (all []int) {
		for i, tab := range tabs {
			if tab == nil {
				continue
			}
			if eval[bool](tab, "who holds the stream", "document.body.getAttribute('data-live-role') === 'leader'") {
				all = append(all, i)
			}
		}
		return all
	}
	lead := leaders()
	if len(lead) != 1 {
		t.Fatalf("%d tabs hold an event stream (tabs %v); one wanted", len(lead), lead)
	}

	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	for _, tab := range tabs {
		tab.waitFor("the assignment shows live", exists("#request-status[data-status=active]"))
	}

	// The tab holding the stream closes; another takes it over.
	closing := tabs[lead[0]]
	ctx, cancel := context.WithTimeout(closing.ctx, 10*time.Second)
	if err := chromedp.Cancel(ctx); err != nil {
		t.Fatalf("close the leader tab: %v", err)
	}
	cancel()
	tabs[lead[0]] = nil
	api.command(http.MethodPost, "/requests/"+id+"/unassign", nil)
	for _, tab := range tabs {
		if tab != nil {
			tab.waitFor("the remaining tabs stay live", exists("#request-status[data-status=new]"))
		}
	}
	oneLeader := func(when string) int {
		deadline := time.Now().Add(stepTimeout)
		for lead = leaders(); len(lead) != 1; lead = leaders() {
			if time.Now().After(deadline) {
				t.Fatalf("%s, %d tabs hold an event stream (%v); one wanted", when, len(lead), lead)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return lead[0]
	}
	// The browser freezes the new leader (as it does to background tabs to save energy): it
	// hands the stream on, and catches up when it runs again.
	frozenAt := oneLeader("after the leader closed")
	frozen := tabs[frozenAt]
	lifecycle := func(state page.SetWebLifecycleStateState) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.SetWebLifecycleState, page.SetWebLifecycleStateParams{State: state})
			return err
		})
	}
	frozen.do("freeze the leader tab", lifecycle(page.SetWebLifecycleStateStateFrozen))
	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	for _, tab := range tabs {
		if tab != nil && tab != frozen {
			tab.waitFor("the tabs stay live while the leader is frozen", exists("#request-status[data-status=active]"))
		}
	}
	frozen.do("resume the frozen tab", lifecycle(page.SetWebLifecycleStateStateActive))
	frozen.waitFor("the resumed tab catches up", exists("#request-status[data-status=active]"))
	if oneLeader("after the frozen tab resumed") == frozenAt {
		t.Fatal("the frozen tab still holds the stream: it did not hand it on")
	}
}

// TestLiveWithoutWebLocks: a browser without Web Locks (or BroadcastChannel) falls back to an
// event stream of each tab's own, and stays live.
func TestLiveWithoutWebLocks(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	id := srv.apiSubmit(t, srv.Portal2, "Otto Old", "otto@example.com", "An older browser", "windows").RequestID
	carol := br.actor(t, "carol", srv.URL, consoleSize)
	carol.signIn(srv, srv.Carol, "available")
	carol.do("take Web Locks and BroadcastChannel away", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined }); window.BroadcastChannel = undefined;`})
		return err
	}))
	carol.open("/console/requests/" + id)
	carol.waitFor("the page is live", hasText("#live-status", "Live updates are on"))
	if role := eval[string](carol, "no shared stream", "document.body.getAttribute('data-live-role') || ''"); role != "" {
		carol.fail("no shared stream", "the tab took the role %q without Web Locks", role)
	}
	api := srv.apiLogin(t, srv.Carol)
	api.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	api.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	carol.waitFor("the change shows live", exists("#request-status[data-status=active]"))
}
