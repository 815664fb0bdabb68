package e2e_test

import (
	"bytes"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestLifecycle walks one Windows customer's request from the portal to Completed, with the
// customer and Alice in two browser contexts, everything the other does arriving live.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)
	files := t.TempDir()

	// A wrong password is refused on the login page.
	alice.open("/console/login")
	alice.fill("a wrong password", "form#login input[name=email]", srv.Alice.Email)
	alice.fill("a wrong password", "form#login input[name=password]", "not the password")
	alice.clickAndLoad("a wrong password", submitOf("form#login"))
	alice.waitFor("a wrong password is refused", exists("[role=alert]#error"))
	if alice.has("form#availability") {
		alice.fail("a wrong password is refused", "the console opened")
	}

	alice.login(srv.Alice)
	if eval[bool](alice, "the session cookie", "document.cookie.includes('helpstream_session')") {
		alice.errorf("the session cookie", "helpstream_session is readable from JavaScript (not HttpOnly)")
	}
	alice.setAvailability("available")
	alice.open("/console?view=all")
	alice.waitFor("the console", exists("section#support-requests"))
	if v := eval[string](alice, "the live region", "(document.querySelector('#notifications') || {getAttribute(){return null}}).getAttribute('aria-live') || ''"); v != "polite" {
		alice.errorf("the live region", "#notifications has aria-live=%q, the contract says polite", v)
	}
	alice.markPage()

	// R1, R5: the customer submits; Alice sees it arrive without a reload, with a notification.
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Ada Lovelace", email: "ada@example.com", description: "My printer is on fire", device: "windows",
	})
	alice.waitFor("the new request appears live in Support Requests", exists(requestRow(id)))
	if !alice.samePage() {
		alice.fail("the new request appears live in Support Requests", "the page was reloaded; the contract asks for a live swap")
	}
	link := "#notifications li.notification a[href=" + js("/console/requests/"+id) + "]"
	alice.waitFor("the in-console notification of the new request (R5)", exists(link))
	if !alice.samePage() {
		alice.fail("the in-console notification of the new request (R5)", "the page was reloaded")
	}

	// The details (R14): status, the request's details and its source.
	alice.clickAndLoad("open the request from its notification", link)
	alice.waitFor("the Details panel", exists("section#details"))
	alice.waitFor("status new", hasText("#request-status", "new"))
	alice.waitFor("the request details", hasText("dl#request-details", "ada@example.com"))
	alice.waitFor("the request details name the company", hasText("dl#request-details", "Acme Corp"))
	alice.waitFor("the source information says Windows", hasText("dl#source-info", "windows"))

	alice.waitFor("every form that posts carries the CSRF token", "Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post').every(f => f.querySelector('input[type=hidden][name=csrf_token]') && f.querySelector('input[name=csrf_token]').value !== '')")
	customer.waitFor("every portal form that posts carries the CSRF token", "Array.from(document.querySelectorAll('form')).filter(f => f.method === 'post').every(f => f.querySelector('input[type=hidden][name=csrf_token]') && f.querySelector('input[name=csrf_token]').value !== '')")

	// R6, R8: Assign to Me, then Join Chat; the customer sees that Alice joined.
	alice.action("assign")
	alice.waitFor("My Support Requests lists it (R4)", exists("section#my-requests li[data-request-id="+js(id)+"]"))
	alice.waitFor("Join Chat is offered once assigned", exists(actionSel("join_chat")))
	if alice.has(actionSel("assign")) {
		alice.fail("after Assign to Me", "Assign to Me is still offered")
	}
	alice.action("join_chat")
	alice.waitFor("status active", hasText("#request-status", "active"))
	customer.waitFor("the customer sees that Alice joined (R8)", hasText("#technician-joined", "Alice Martin"))
	customer.waitFor("the customer sees that Alice joined (R8)", hasText("#technician-joined", "joined"))

	// R9: chat both ways, each message arriving live on the other side.
	alice.markPage()
	customer.send("Hello, it smells of toner.")
	customer.markPage()
	alice.waitFor("Alice sees the customer's message live", anyHasText("ol#chat li.entry[data-kind=message]", "Hello, it smells of toner."))
	if !alice.samePage() {
		alice.fail("Alice sees the customer's message live", "the page was reloaded")
	}
	alice.send("Hi Ada, I am on it.")
	customer.waitFor("the customer sees Alice's message live", anyHasText("ol#chat li.entry[data-kind=message]", "Hi Ada, I am on it."))
	if !customer.samePage() {
		customer.fail("the customer sees Alice's message live", "the page was reloaded")
	}

	// R10: both share an allowed file and the other side gets the link.
	if errMsg := customer.upload(writePNG(t, files, "printer-photo.png")); errMsg != "" {
		customer.fail("upload printer-photo.png", "refused: %q", errMsg)
	}
	customer.waitFor("the customer's file shows in their chat", fileLink("printer-photo.png", "/portal/requests/"+id+"/files/"))
	alice.waitFor("Alice sees the customer's file link", fileLink("printer-photo.png", "/console/requests/"+id+"/files/"))
	if errMsg := alice.upload(writePNG(t, files, "driver-settings.png")); errMsg != "" {
		alice.fail("upload driver-settings.png", "refused: %q", errMsg)
	}
	customer.waitFor("the customer sees Alice's file link", fileLink("driver-settings.png", "/portal/requests/"+id+"/files/"))
	for _, a := range []*actor{alice, customer} {
		code := run(a, "download the files", chromedp.Evaluate[int](`Promise.all(Array.from(document.querySelectorAll('ol#chat a[download]')).map(e => fetch(e.href).then(r => r.status))).then(s => s.find(c => c !== 200) || 200)`, chromedp.EvalAwaitPromise))
		if code != 200 {
			a.errorf("download the files", "a download link answered %d", code)
		}
	}

	// R10: both are refused a forbidden type, told which types are allowed.
	exe := writeFile(t, files, "setup.exe", exeBytes)
	for _, a := range []*actor{customer, alice} {
		msg := a.upload(exe)
		if !strings.Contains(msg, ".exe") || !strings.Contains(msg, "not allowed") || !strings.Contains(msg, ".png") {
			a.fail("upload setup.exe", "#error should refuse .exe and name the allowed types, it says %q", msg)
		}
		if a.has("ol#chat li.entry a[download]") && eval[bool](a, "upload setup.exe", anyHasText("ol#chat li.entry a[download]", "setup.exe")) {
			a.fail("upload setup.exe", "the refused file is in the chat")
		}
	}

	// R11: screen sharing is offered for a Windows customer, who accepts; no mobile profile.
	alice.open("/console/requests/" + id)
	if alice.has(actionSel("send_mobile_profile")) {
		alice.errorf("actions for a Windows customer", "Mobile Profiles is offered to a Windows customer")
	}
	alice.action("request_screen_sharing")
	accept := "#screen-sharing button[data-action=accept_screen_sharing]"
	customer.waitFor("the customer is asked to share their screen (R11)", exists(accept))
	customer.waitFor("the button says Share My Screen", hasText(accept, "Share My Screen"))
	customer.waitFor("a Decline button", hasText("#screen-sharing button[data-action=decline_screen_sharing]", "Decline"))
	customer.clickAndLoad("Share My Screen", accept)
	customer.noError("Share My Screen")
	customer.waitFor("the prompt goes once answered", "!("+exists(accept)+")")

	// R13: End Chat, Close Request; the request shows under Completed.
	alice.open("/console/requests/" + id)
	alice.action("end_chat")
	alice.waitFor("Close Request is offered after End Chat", exists(actionSel("close")))
	alice.action("close")
	alice.waitFor("status completed", hasText("#request-status", "completed"))
	customer.waitFor("the customer sees the request closed", exists("#closed"))
	alice.clickAndLoad("open the Completed view", "section#support-requests a[data-view=completed]")
	alice.waitFor("the request is under Completed", exists(requestRow(id)))
	alice.waitFor("Completed is the current view", "document.querySelector('a[data-view=completed]').getAttribute('aria-current') === 'page'")
	if alice.has("section#my-requests li[data-request-id=" + js(id) + "]") {
		alice.errorf("My Support Requests after closing", "the closed request is still listed as open (R4)")
	}
}

// TestScreenshots takes the README's pictures: the console (the list and a request's details
// with its chat) at 1280×800 and the portal's request page at 390×844. With
// HELPSTREAM_SCREENSHOTS=1 it writes them to docs/screenshots/console.png and portal.png;
// otherwise to a temporary directory, checking only that they are PNGs of the right size.
func TestScreenshots(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	if os.Getenv("HELPSTREAM_SCREENSHOTS") == "1" {
		out = filepath.Join("..", "..", "..", "docs", "screenshots")
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, br := shared(t)
	srv := newServer(t) // a server of its own: only these requests in the pictures
	alice := br.actor(t, "alice", srv.URL, consoleSize)
	customer := br.actor(t, "customer", srv.URL, phoneSize)

	// The scene is set through the API; TestLifecycle goes through the same steps on the pages.
	// A few requests in the list, in each state.
	bob := srv.apiLogin(t, srv.Bob)
	bob.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	done := srv.apiSubmit(t, srv.Portal1, "Charles Babbage", "charles@example.com", "The difference engine jams on column 3", "mac")
	for _, step := range []string{"assign", "join", "end-chat", "close"} {
		bob.call(http.MethodPost, "/requests/"+done.RequestID+"/"+step, nil, nil)
	}
	active := srv.apiSubmit(t, srv.Portal1, "Margaret Hamilton", "margaret@example.com", "VPN drops every ten minutes", "windows")
	bob.call(http.MethodPost, "/requests/"+active.RequestID+"/assign", nil, nil)
	bob.call(http.MethodPost, "/requests/"+active.RequestID+"/join", nil, nil)
	srv.apiSubmit(t, srv.Portal1, "Katherine Johnson", "katherine@example.com", "Cannot print the launch window charts", "android")

	// Ada submits in the browser; her page's cookie is her customer token.
	id := customer.submit(srv.Portal1.String(), submission{
		name: "Ada Lovelace", email: "ada@example.com", description: "My printer is on fire", device: "windows",
	})
	ada := srv.customerAPI(t, submitted{RequestID: id, CustomerToken: customer.customerToken(id)})
	srv.apiSubmit(t, srv.Portal1, "Alan Turing", "alan@example.com", "Outlook asks for my password again and again", "windows")

	api := srv.apiLogin(t, srv.Alice)
	api.call(http.MethodPut, "/me/availability", map[string]string{"availability": "available"}, nil)
	api.call(http.MethodPost, "/requests/"+id+"/assign", nil, nil)
	api.call(http.MethodPost, "/requests/"+id+"/join", nil, nil)
	ada.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": "Hello, the printer smells of burnt toner and shows error E-52."}, nil)
	api.call(http.MethodPost, "/requests/"+id+"/messages", map[string]string{"body": "Hi Ada, I am on it. Please switch it off at the wall first."}, nil)
	ada.call(http.MethodPost, "/customer/requests/"+id+"/messages", map[string]string{"body": "Done, it is off now."}, nil)
	picture, err := os.ReadFile(writePNG(t, t.TempDir(), "printer-panel.png"))
	if err != nil {
		t.Fatal(err)
	}
	ada.upload("/customer/requests/"+id+"/files", "printer-panel.png", picture)
	api.call(http.MethodPost, "/requests/"+id+"/notes", map[string]string{"body": "Known fault on this model: fuser unit, batch 42."}, nil)
	api.command(http.MethodPost, "/requests/"+id+"/screen-sharing", nil) // and wait for the read models

	alice.signIn(srv, srv.Alice, "available")
	alice.open("/console/requests/" + id)
	alice.waitFor("the details with the chat", exists("ol#chat li.entry[data-kind=note]"))
	customer.open("/portal/requests/" + id)
	customer.waitFor("the portal page with the chat", exists("ol#chat li.entry a[download]"))
	customer.waitFor("the screen-sharing prompt", exists("#screen-sharing button[data-action=accept_screen_sharing]"))
	// No focus ring or caret in the pictures, and the top of each page.
	for _, a := range []*actor{alice, customer} {
		eval[bool](a, "settle", "(document.activeElement && document.activeElement.blur(), window.scrollTo(0, 0), true)")
	}

	// Each side at a desk and on a phone: the page is laid out again at each size, then taken.
	for _, shot := range []struct {
		a             *actor
		file          string
		width, height int
	}{
		{alice, "console.png", 1280, 800}, {alice, "console-phone.png", 390, 844},
		{customer, "portal.png", 390, 844}, {customer, "portal-desk.png", 1280, 800},
	} {
		var viewport []chromedp.EmulateViewportOption
		if shot.width < 600 {
			viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulatePortrait)
		}
		shot.a.do("resize for "+shot.file, chromedp.EmulateViewport(int64(shot.width), int64(shot.height), viewport...))
		eval[bool](shot.a, "settle", "(window.scrollTo(0, 0), true)")
		time.Sleep(300 * time.Millisecond) // the layout of the new size
		b := run(shot.a, "screenshot "+shot.file, chromedp.CaptureScreenshot())
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			shot.a.fail("screenshot "+shot.file, "not a PNG: %v", err)
		}
		if cfg.Width != shot.width || cfg.Height != shot.height {
			shot.a.fail("screenshot "+shot.file, "%d×%d, want %d×%d", cfg.Width, cfg.Height, shot.width, shot.height)
		}
		path := filepath.Join(out, shot.file)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Fatalf("%s: empty or missing (%v)", path, err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(b))
	}
}
