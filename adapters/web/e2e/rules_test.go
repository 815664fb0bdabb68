package e2e_test

import (
	"net/http"
	"strings"
	"testing"
)

const iPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"

// TestIOSCustomer: for an iOS customer the technician is offered Mobile Profiles and not
// Request Screen Sharing (R11, R12), and the customer may share images only (R10).
func TestIOSCustomer(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	customer := br.actor(t, "ios-customer", srv.URL, actorOptions{width: 390, height: 844, mobile: true, userAgent: iPhoneUA})
	alice := br.actor(t, "alice", srv.URL, consoleSize)

	customer.open("/portal/" + srv.Portal1.String())
	customer.waitFor("the portal's form", exists("form#submit-request select[name=device_type]"))
	if got := eval[string](customer, "the platform is detected", "document.querySelector('form#submit-request select[name=device_type]').value"); got != "ios" {
		customer.errorf("the platform is detected from the browser", "an iPhone's select[name=device_type] is preselected %q, not ios", got)
	}
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Grace Hopper", email: "grace@example.com", description: "Mail does not sync on my iPhone", device: "ios",
	})

	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.waitFor("the Details panel", exists("section#details"))
	alice.waitFor("the source information says iOS", hasText("dl#source-info", "ios"))
	alice.action("assign")
	alice.action("join_chat")
	customer.waitFor("the customer sees that Alice joined", hasText("#technician-joined", "Alice Martin"))

	alice.open("/console/requests/" + id)
	if alice.has(actionSel("request_screen_sharing")) {
		alice.errorf("actions for an iOS customer", "Request Screen Sharing is offered to an iOS customer (R11)")
	}
	if !alice.has(actionSel("send_mobile_profile")) {
		alice.errorf("actions for an iOS customer", "Mobile Profiles is not offered to an iOS customer (R12)")
	} else if !alice.has("#actions input[name=profile]") {
		alice.errorf("actions for an iOS customer", "the Mobile Profiles form has no input[name=profile]")
	}

	// R10: the iOS customer's input lists images only, and the server refuses a PDF.
	accept := eval[string](customer, "the file input's accept list", "(document.querySelector('form#upload-file input[name=file]') || {getAttribute(){return ''}}).getAttribute('accept') || ''")
	if !strings.Contains(accept, ".png") || strings.Contains(accept, ".pdf") {
		customer.errorf("the file input's accept list", "an iOS customer's input[name=file] accepts %q; it should list images (.png …) and not .pdf", accept)
	}
	msg := customer.upload(writeFile(t, t.TempDir(), "manual.pdf", pdfBytes))
	if !strings.Contains(msg, ".pdf") || !strings.Contains(msg, "not allowed") || !strings.Contains(msg, ".png") {
		customer.fail("upload manual.pdf", "#error should refuse .pdf and name the allowed types, it says %q", msg)
	}
	if eval[bool](customer, "upload manual.pdf", anyHasText("ol#chat li.entry a[download]", "manual.pdf")) {
		customer.fail("upload manual.pdf", "the refused file is in the chat")
	}
	alice.open("/console/requests/" + id)
	if eval[bool](alice, "the refused file", anyHasText("ol#chat li.entry a[download]", "manual.pdf")) {
		alice.fail("the refused file", "Alice sees the refused manual.pdf in the chat")
	}
}

// TestNoAccess: Carol, who has no access to company 1, never sees its requests: not live, not in
// any view, and their details URL answers a not-found page (R2).
func TestNoAccess(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	carol := br.actor(t, "carol", srv.URL, consoleSize)
	alice := br.actor(t, "alice", srv.URL, consoleSize)

	carol.signIn(srv, srv.Carol, "available")
	carol.open("/console?view=all")
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console?view=all")

	hidden := srv.apiSubmit(t, srv.Portal1, "Hidden Hedy", "hedy@example.com", "Acme's secret printer", "windows").RequestID
	// The control: a request of company 2 does reach Carol, live, after the first one.
	visible := srv.apiSubmit(t, srv.Portal2, "Visible Vera", "vera@example.com", "Globex's printer", "mac").RequestID
	alice.waitFor("Alice (company 1) sees the request live", exists(requestRow(hidden)))
	carol.waitFor("Carol sees company 2's request live (the control)", exists(requestRow(visible)))
	carol.waitFor("Carol is notified of company 2's request (the control)", exists("#notifications a[href="+js("/console/requests/"+visible)+"]"))

	notThere := func(step string) {
		t.Helper()
		if carol.has("[data-request-id=" + js(hidden) + "]") {
			carol.fail(step, "company 1's request %s is listed", hidden)
		}
		if carol.has("a[href*=" + js(hidden) + "]") {
			carol.fail(step, "a link leads to company 1's request %s", hidden)
		}
		if eval[bool](carol, step, "document.body.innerText.includes('Hidden Hedy')") {
			carol.fail(step, "the page shows company 1's customer")
		}
	}
	notThere("the live page")
	for _, view := range []string{"all", "new", "active", "completed"} {
		carol.open("/console?view=" + view)
		carol.waitFor("the "+view+" view", exists("section#support-requests"))
		if cur := eval[string](carol, "the "+view+" view", "(document.querySelector('a[data-view="+view+"]') || {getAttribute(){return ''}}).getAttribute('aria-current') || ''"); cur != "page" {
			carol.errorf("the "+view+" view", "a[data-view=%s] has aria-current=%q, not page", view, cur)
		}
		notThere("the " + view + " view")
	}
	// Carol has nothing completed: the empty state is written out.
	if !carol.has("#requests-empty") || strings.TrimSpace(carol.text("#requests-empty")) == "" {
		carol.errorf("the empty Completed view", "no #requests-empty saying the list is empty")
	}
	for _, col := range []string{"submitted", "customer", "company", "status", "assignee"} {
		if !carol.has("table#requests th a[data-sort=" + col + "]") {
			carol.errorf("the sortable columns", "no column header link th a[data-sort=%s]", col)
		}
	}
	// The request ID is in the details, not a column; the list still sorts by it (R3).
	if !carol.has("section#support-requests a[data-sort=id]") {
		carol.errorf("the sortable columns", "no link a[data-sort=id] to sort by request ID")
	}
	// Once assigned and active, it is still not Carol's.
	bob := srv.apiLogin(t, srv.Bob)
	bob.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	bob.call(http.MethodPost, "/requests/"+hidden+"/assign", nil, nil)
	bob.call(http.MethodPost, "/requests/"+hidden+"/join", nil, nil)
	alice.waitFor("the assignment reaches Alice's list", hasText(requestRow(hidden), "Bob"))
	carol.open("/console?view=active")
	notThere("the active view after the assignment")

	code := carol.openStatus("/console/requests/" + hidden)
	if code != http.StatusNotFound {
		carol.errorf("open company 1's request by its URL", "answered %d, not 404", code)
	}
	if carol.has("section#details") || eval[bool](carol, "open company 1's request by its URL", "document.body.innerText.includes('Hidden Hedy') || document.body.innerText.includes('secret printer')") {
		carol.fail("open company 1's request by its URL", "the page shows the request")
	}
	if !eval[bool](carol, "open company 1's request by its URL", "/not found/i.test(document.body.innerText)") {
		carol.errorf("open company 1's request by its URL", "the page does not say the request was not found")
	}
}

// TestAssignRaceLost: Bob assigns through the API just before Alice clicks Assign to Me on a page
// that still offers it; Alice is told who won.
func TestAssignRaceLost(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	// Alice's tab follows no live updates, so her page still offers Assign when Bob has won.
	alice := br.actor(t, "alice", srv.URL, actorOptions{width: 1280, height: 800, noLive: true})

	id := srv.apiSubmit(t, srv.Portal1, "Ada Racer", "racer@example.com", "Two technicians, one printer", "windows").RequestID
	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.waitFor("Assign to Me is offered", exists(actionSel("assign")))

	bob := srv.apiLogin(t, srv.Bob)
	bob.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	bob.call(http.MethodPost, "/requests/"+id+"/assign", nil, nil)

	step := "Alice clicks Assign to Me after Bob"
	alice.clickAndLoad(step, actionSel("assign"))
	alice.waitFor(step+": the page says who won", exists("[role=alert]#error"))
	if msg := alice.text("#error"); !strings.Contains(msg, "Bob Durand") {
		alice.fail(step, "#error says %q; it should name the winner, Bob Durand", msg)
	}
	if alice.has(actionSel("assign")) {
		alice.errorf(step, "Assign to Me is still offered")
	}
	alice.waitFor(step+": the details name the assignee", hasText("dl#request-details", "Bob Durand"))
}

// TestEscaping: markup in a customer's name, description, messages and file name, and in a
// technician's message and note, renders as text in the console and the portal, and nothing
// of it runs.
func TestEscaping(t *testing.T) {
	t.Parallel()
	const (
		script = `<script>window.__xss=1</script>`
		img    = `"><img src=x onerror="window.__xss=1">`
	)
	srv, br := shared(t)
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)

	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console?view=all")
	id := customer.submit(srv.Portal1.String(), submission{name: script, email: "xss@example.com", description: img, device: "windows"})
	alice.waitFor("the request arrives live", exists(requestRow(id)))

	safe := func(a *actor, step string, texts ...string) {
		t.Helper()
		if eval[bool](a, step, "window.__xss !== undefined") {
			a.fail(step, "window.__xss is set: injected markup ran")
		}
		if n := eval[int](a, step, `document.querySelectorAll('img[src="x"], img[onerror]').length`); n > 0 {
			a.fail(step, "%d injected <img> elements in the page", n)
		}
		if eval[bool](a, step, "Array.from(document.scripts).some(s => s.textContent.includes('__xss'))") {
			a.fail(step, "an injected <script> element is in the page")
		}
		for _, v := range a.cspViolations() {
			if strings.HasPrefix(v, "script-src") {
				a.fail(step, "the Content-Security-Policy blocked a script: %s (markup was injected)", v)
			}
			t.Logf("%s, %s: CSP violation (not a script): %s", a.name, step, v)
		}
		for _, s := range texts {
			if !eval[bool](a, step, "document.body.innerText.includes("+js(s)+")") {
				a.fail(step, "the text %q is not shown as text", s)
			}
		}
	}
	safe(alice, "the list and the notification", script)

	alice.open("/console/requests/" + id)
	alice.waitFor("the Details panel", exists("section#details"))
	safe(alice, "the details", script, img)
	alice.action("assign")
	alice.action("join_chat")
	alice.send("tech says " + script + img)
	alice.sendWith("form#add-note", "note", "note "+img)
	alice.waitFor("the note is marked Private note", anyHasText("ol#chat li.entry[data-kind=note]", "Private note"))

	customer.send("customer says " + img + script)
	fileName := `"><img src=x onerror="window.__xss=1">.png`
	// The browser itself sends a file name's quotes as %22 in the multipart form (HTML's rule
	// for the filename parameter); the rest of the markup reaches the server as typed.
	shownName := strings.ReplaceAll(fileName, `"`, "%22")
	fileShown := true
	if msg := customer.upload(writePNG(t, t.TempDir(), fileName)); msg != "" {
		t.Logf("a file named with markup was refused (%q); its name is not shown then", msg)
		fileShown = false
	}
	customer.open("/portal/requests/" + id)
	customer.waitFor("the portal page", exists("ol#chat"))
	safe(customer, "the portal", "tech says "+script+img, "customer says "+img+script)
	if fileShown && !eval[bool](customer, "the file named with markup", anyHasText("ol#chat li.entry a[download]", shownName)) {
		customer.errorf("the file named with markup", "no download link shows the file name %q as text", shownName)
	}
	if eval[bool](customer, "the portal", "document.body.innerText.includes('note ')") {
		customer.fail("the portal", "the customer sees the private note")
	}

	alice.open("/console/requests/" + id)
	alice.waitFor("the customer's message", anyHasText("ol#chat li.entry", "customer says"))
	safe(alice, "the details with the chat", script, img, "tech says "+script+img, "customer says "+img+script, "note "+img)
	if fileShown && !eval[bool](alice, "the file named with markup", anyHasText("ol#chat li.entry a[download]", shownName)) {
		alice.errorf("the file named with markup", "no download link shows the file name %q as text", shownName)
	}
	alice.open("/console?view=active")
	safe(alice, "the active view", script)
}
