package e2e_test

// What people do on the pages, in the words of docs/ui-contract.md.

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// ---- console (technicians) ----

// login logs a technician in through form#login and waits for the console.
func (a *actor) login(tech technician) {
	a.t.Helper()
	step := "log in as " + tech.Email
	a.open("/console/login")
	a.waitFor(step, exists("form#login"))
	a.fill(step, "form#login input[name=email]", tech.Email)
	a.fill(step, "form#login input[name=password]", password)
	a.clickAndLoad(step, submitOf("form#login"))
	if !a.has("form#availability") {
		a.fail(step, "no form#availability after logging in (at %s; error: %q)", eval[string](a, step, "location.pathname"), a.text("#error"))
	}
}

// signIn logs a technician in through the JSON API, sets their availability there and gives the
// tab the session cookie that the console's login form would set (the same helpstream_session).
// TestLifecycle goes through form#login and form#availability; the other tests take this
// shortcut.
func (a *actor) signIn(srv *server, tech technician, availability string) {
	a.t.Helper()
	c := srv.apiLogin(a.t, tech)
	c.command(http.MethodPut, "/me/availability", map[string]string{"availability": availability})
	a.do("sign in as "+tech.Email, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
			Name: "helpstream_session", Value: c.token, URL: a.base,
			HTTPOnly: new(true), SameSite: network.CookieSameSiteStrict,
		})
		return err
	}))
}

// setAvailability chooses available, busy or away in form#availability.
func (a *actor) setAvailability(v string) {
	a.t.Helper()
	step := "become " + v
	a.fill(step, "form#availability select[name=availability]", v)
	a.clickAndLoad(step, submitOf("form#availability"))
	a.noError(step)
	if got := eval[string](a, step, "(document.querySelector('form#availability select[name=availability]') || {}).value || ''"); got != v {
		a.fail(step, "select[name=availability] shows %q after choosing %q", got, v)
	}
}

// action clicks an action of the Details panel (#actions button[data-action=…]).
func (a *actor) action(name string) {
	a.t.Helper()
	step := "action " + name
	a.awaitAction(step, name)
	a.clickAndLoad(step, actionSel(name))
	a.noError(step)
}

// awaitAction waits until the Details panel offers the action. A page rendered while the read
// models lagged (more than the server's bounded wait, on a loaded machine) may not offer it
// yet: after a few seconds of waiting for a live update, it reloads, as a person would.
func (a *actor) awaitAction(step, name string) {
	a.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for i := 0; ; i++ {
		if ok, err := tryEval[bool](a, exists(actionSel(name))); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			a.fail(step, "the Details panel does not offer %s (%s)", name, actionSel(name))
		}
		if i > 0 && i%20 == 0 {
			a.do(step+": reload", chromedp.Reload())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// actionSel is the selector of an action's button.
func actionSel(name string) string { return "#actions button[data-action=" + name + "]" }

// requestRow is the selector of a request's row in the Support Requests panel.
func requestRow(id string) string {
	return "section#support-requests table#requests tr[data-request-id=" + js(id) + "]"
}

// ---- shared by both sides ----

// send posts a chat message through form#send-message. The page's script sends it with fetch
// (the page stays, #15), and the chat shows it through the panel's refresh.
func (a *actor) send(body string) {
	a.t.Helper()
	a.sendWith("form#send-message", "message", body)
}

// sendWith sends a composer form (form#send-message or form#add-note) and waits until the chat
// shows the entry of that kind with the body, the box is empty, and no error is shown.
func (a *actor) sendWith(form, kind, body string) {
	a.t.Helper()
	step := "send the " + kind + " " + short(body)
	a.fill(step, form+" textarea[name=body]", body)
	a.click(step, submitOf(form))
	a.waitFor(step+": it shows in the chat", anyHasText("ol#chat li.entry[data-kind="+kind+"]", body))
	a.waitFor(step+": the box is empty again", "(document.querySelector("+js(form+" textarea")+") || {}).value === ''")
	a.noError(step)
	if a.has(form + "-error") {
		a.fail(step, "an error is shown next to the composer: %q", a.text(form+"-error"))
	}
}

// upload shares a file through form#upload-file and returns the #error text, "" when none.
func (a *actor) upload(path string) string {
	a.t.Helper()
	step := "upload " + filepath.Base(path)
	a.do(step, chromedp.SetUploadFiles("form#upload-file input[name=file]", []string{path}))
	a.clickAndLoad(step, submitOf("form#upload-file"))
	if !a.has("#error") {
		return ""
	}
	return strings.TrimSpace(a.text("#error"))
}

// fileLink is a JavaScript expression: a download link in the chat whose text has name and
// whose href starts with prefix.
func fileLink(name, prefix string) string {
	return "Array.from(document.querySelectorAll('ol#chat li.entry a[download]')).some(e => e.textContent.includes(" + js(name) + ") && e.getAttribute('href').startsWith(" + js(prefix) + "))"
}

// ---- portal (customers) ----

type submission struct {
	name, email, description, device string
}

var requestPath = regexp.MustCompile(`^/portal/requests/([0-9a-f-]{36})$`)

// submit fills the portal's form#submit-request and returns the new request's ID.
func (a *actor) submit(portal string, s submission) string {
	a.t.Helper()
	step := "submit a request as " + short(s.name)
	a.open("/portal/" + portal)
	a.waitFor(step, exists("form#submit-request"))
	a.fill(step, "form#submit-request input[name=customer_name]", s.name)
	a.fill(step, "form#submit-request input[name=customer_email]", s.email)
	a.fill(step, "form#submit-request textarea[name=description]", s.description)
	if s.device != "" {
		a.fill(step, "form#submit-request select[name=device_type]", s.device)
	}
	a.clickAndLoad(step, submitOf("form#submit-request"))
	a.noError(step)
	path := eval[string](a, step, "location.pathname")
	m := requestPath.FindStringSubmatch(path)
	if m == nil {
		a.fail(step, "landed on %s, not /portal/requests/<requestID>", path)
	}
	a.waitFor(step+": the request page", exists("#request-status"))
	return m[1]
}

// customerToken reads the customer's token from the HttpOnly cookie the portal keeps for the
// request's pages (the one cookie scoped to a path under /portal/requests/<id>).
func (a *actor) customerToken(requestID string) string {
	a.t.Helper()
	step := "read the customer's cookie"
	cookies := run(a, step, chromedp.Action[[]*network.Cookie](func(ctx context.Context, _ *chromedp.Target) ([]*network.Cookie, error) {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{a.base + "/portal/requests/" + requestID}})
		return res.Cookies, err
	}))
	for _, c := range cookies {
		if strings.Contains(c.Path, requestID) {
			if !c.HTTPOnly {
				a.errorf(step, "the customer's cookie %s is not HttpOnly", c.Name)
			}
			return c.Value
		}
	}
	a.fail(step, "no cookie scoped to /portal/requests/%s among %d", requestID, len(cookies))
	return ""
}

// ---- files ----

// writePNG writes a small real PNG and returns its path.
func writePNG(t *testing.T, dir, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for x := range 16 {
		for y := range 16 {
			img.Set(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, buf.Bytes())
}

func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// exeBytes starts like a Windows executable.
var exeBytes = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 64)...)

// pdfBytes is a minimal PDF.
var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func short(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}
