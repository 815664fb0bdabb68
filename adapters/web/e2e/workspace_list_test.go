package e2e_test

import (
	"net/http"
	"strings"
	"testing"
)

// fitsJS is a JavaScript expression: the element matched by the selector shows all its text
// (nothing clipped: its content is no wider than its box).
func fitsJS(sel string) string {
	return `(() => { const e = document.querySelector(` + js(sel) + `); return !!e && e.scrollWidth <= e.clientWidth; })()`
}

// headersOnOneLineJS lists the column headers whose text takes more than one line.
const headersOnOneLineJS = `Array.from(document.querySelectorAll('table#requests thead th')).filter(th => {
  const r = document.createRange(); r.selectNodeContents(th);
  const tops = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
  return tops.size > 1;
}).map(th => th.textContent.trim()).join(', ')`

// noPageScrollJS: the page is no wider than the window (no horizontal scrolling).
const noPageScrollJS = `document.documentElement.scrollWidth <= window.innerWidth`

// The console as a workspace (issue #15, items 1–3 and 6): at 1280×800 My Support Requests is
// on screen with its count, rows sit on one line with the company, status and assignee
// unclipped and no header word broken, names sort as people expect, the views count their
// requests; at 390×844 the list and the details stack with no horizontal page scroll.
func TestWorkspaceList(t *testing.T) {
	t.Parallel()
	_, br := shared(t)
	srv := newServer(t) // a list of this test's own: the order and counts are exact
	api := srv.apiLogin(t, srv.Alice)
	api.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	zoe := srv.apiSubmit(t, srv.Portal1, "Zoë Zhang", "zoe@example.com", "The printer in room 4 is on fire again", "ios").RequestID
	emile := srv.apiSubmit(t, srv.Portal1, "Émile Durand", "emile@example.com", "VPN drops every hour", "mac").RequestID
	asa := srv.apiSubmit(t, srv.Portal1, "Åsa Lind", "asa@example.com", "Cannot log in", "windows").RequestID
	srv.apiSubmit(t, srv.Portal1, "zed Shaw", "zed@example.com", "Keyboard missing keys", "android")
	srv.apiSubmit(t, srv.Portal1, "Katherine Johnson", "katherine@example.com", "Cannot print the launch window charts", "android")
	api.command(http.MethodPost, "/requests/"+asa+"/assign", nil)
	api.command(http.MethodPost, "/requests/"+asa+"/join", nil)
	api.command(http.MethodPost, "/requests/"+asa+"/close", nil)
	api.command(http.MethodPost, "/requests/"+zoe+"/assign", nil)

	alice := br.actor(t, "alice", srv.URL, consoleSize)
	alice.login(srv.Alice)
	alice.open("/console?view=all&sort=customer&order=asc")
	alice.waitFor("the list", exists(requestRow(asa)))

	step := "My Support Requests at the top"
	alice.waitFor(step, exists("#my-requests-count"))
	if got := strings.TrimSpace(alice.text("#my-requests-count")); !strings.Contains(got, "1") {
		alice.errorf(step, "the count says %q, want 1", got)
	}
	if !eval[bool](alice, step, `(() => { const r = document.querySelector('#my-requests').getBoundingClientRect();
		return r.top >= 0 && document.querySelector('#my-requests-title').getBoundingClientRect().bottom <= window.innerHeight
			&& document.querySelector('section#my-requests li[data-request-id="`+zoe+`"]').getBoundingClientRect().bottom <= window.innerHeight; })()`) {
		alice.errorf(step, "My Support Requests (its title, count and request) is not on screen without scrolling")
	}

	step = "the completed row fits at 1280 px"
	row := requestRow(asa)
	for i, want := range map[int]string{3: "Acme Corp", 4: "Completed", 5: "Alice Martin"} {
		cell := row + " td:nth-child(" + string(rune('0'+i)) + ")"
		if got := eval[string](alice, step, "getComputedStyle(document.querySelector("+js(cell)+")).textTransform === 'capitalize' ? "+
			textOf(cell)+".replace(/^./, c => c.toUpperCase()) : "+textOf(cell)); strings.TrimSpace(got) != want {
			alice.errorf(step, "cell %d says %q, want %q", i, got, want)
		}
		if !eval[bool](alice, step, fitsJS(cell)) {
			alice.errorf(step, "%q is clipped in its cell", want)
		}
	}
	// Every name shows, whole or cut with an ellipsis, before its description's preview: a name
	// in an inline-block cut by the cell's own ellipsis vanished whole behind a long preview.
	if hidden := eval[[]string](alice, "every name shows", `Array.from(document.querySelectorAll('table#requests td.customer a')).
		filter(a => { const r = a.getBoundingClientRect(), td = a.closest('td'), c = td.getBoundingClientRect();
			return r.width < Math.min(40, a.scrollWidth) || r.right > c.right - parseFloat(getComputedStyle(td).paddingRight) + 0.5; }).map(a => a.textContent)`); len(hidden) != 0 {
		alice.errorf("every name shows", "names hidden or cut to nothing: %q", hidden)
	}
	if broken := eval[string](alice, "the column headers", headersOnOneLineJS); broken != "" {
		alice.errorf("the column headers", "headers broken over lines: %s", broken)
	}
	if n := eval[float64](alice, "one line a row", `(() => { const rows = Array.from(document.querySelectorAll('table#requests tbody tr'));
		const lh = parseFloat(getComputedStyle(document.querySelector('table#requests td')).lineHeight) || 22;
		return rows.filter(r => r.getBoundingClientRect().height > 2.2 * lh).length; })()`); n != 0 {
		alice.errorf("one line a row", "%v rows take more than one line", n)
	}
	if got := eval[string](alice, "the waiting time", "document.querySelector("+js(requestRow(emile)+" td.when time")+").textContent"); !strings.HasPrefix(got, "waiting ") {
		alice.errorf("the waiting time", "the new request's time says %q", got)
	}
	if eval[string](alice, "the waiting time", "document.querySelector("+js(requestRow(emile)+" td.when time")+").title") == "" {
		alice.errorf("the waiting time", "no exact time in the title")
	}
	if got := eval[string](alice, "the device icon", "document.querySelector("+js(requestRow(emile)+" svg.device")+").getAttribute('aria-label')"); got != "Mac" {
		alice.errorf("the device icon", "the Mac request's icon is labelled %q", got)
	}
	if alice.has(row + " td.id") {
		alice.errorf("the short ID", "the list still shows the request ID")
	}

	step = "names sort as people expect"
	order := eval[string](alice, step, `Array.from(document.querySelectorAll('table#requests tbody tr td.customer a')).map(a => a.textContent).join(', ')`)
	if order != "Åsa Lind, Émile Durand, Katherine Johnson, zed Shaw, Zoë Zhang" {
		alice.errorf(step, "order %q", order)
	}
	alice.open("/console?view=all&sort=status&order=asc")
	alice.waitFor("by status", exists(requestRow(asa)))
	if got := eval[string](alice, "statuses by lifecycle", `Array.from(document.querySelectorAll('table#requests tbody tr')).map(r => r.dataset.status).join(',')`); got != "new,new,new,active,completed" {
		alice.errorf("statuses by lifecycle", "order %q", got)
	}
	for view, want := range map[string]string{"all": "5", "new": "3", "active": "1", "completed": "1"} {
		if got := strings.TrimSpace(alice.text("[data-count=" + view + "]")); !strings.Contains(got, want) {
			alice.errorf("the view counts", "%s says %q, want %s", view, got, want)
		}
	}

	step = "search from the form"
	alice.fill(step, "#list-q", "vpn")
	alice.clickAndLoad(step, submitOf("form#list-filters"))
	alice.waitFor(step, exists(requestRow(emile))+" && !"+exists(requestRow(asa)))
	alice.checkA11y("the list found by a search")

	// A phone: the list and the details, stacked, no horizontal page scroll.
	phone := br.actor(t, "alice on a phone", srv.URL, phoneSize)
	phone.login(srv.Alice)
	phone.open("/console")
	phone.waitFor("the list on a phone", exists(requestRow(emile)))
	if !eval[bool](phone, "the list on a phone", noPageScrollJS) {
		phone.errorf("the list on a phone", "the page scrolls sideways (%v px wide)", eval[float64](phone, "the list on a phone", "document.documentElement.scrollWidth"))
	}
	if !eval[bool](phone, "the list on a phone", `document.querySelector(`+js(requestRow(emile))+`).getBoundingClientRect().right <= window.innerWidth`) {
		phone.errorf("the list on a phone", "a row is wider than the screen")
	}
	phone.checkA11y("the list on a phone")
	phone.clickAndLoad("open a request on a phone", requestRow(emile)+" td.customer a")
	phone.waitFor("the details on a phone", exists("section#details"))
	if !eval[bool](phone, "the details on a phone", noPageScrollJS) {
		phone.errorf("the details on a phone", "the page scrolls sideways (%v px wide)", eval[float64](phone, "the details on a phone", "document.documentElement.scrollWidth"))
	}
	if !eval[bool](phone, "the details on a phone", `(() => { const r = document.querySelector('section#details').getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.top < window.innerHeight; })()`) {
		phone.errorf("the details on a phone", "the details panel does not fit the screen, or is not on it without scrolling")
	}
	// The list is still there, below the details.
	if !phone.has(requestRow(emile)) || !phone.has("section#my-requests") {
		phone.errorf("the details on a phone", "the lists are gone from the page with the details")
	}
}
