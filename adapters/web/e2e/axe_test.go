package e2e_test

// Accessibility checks with axe-core (WCAG 2.1 AA), the engine browsers' own audit tools use.
// axe-core comes from npm at test time: testdata/axe pins its version (package.json and
// package-lock.json), and the first check of a run installs it there with `npm ci` when
// missing. Nothing of it is committed.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeDir holds the pinned axe-core install.
const axeDir = "testdata/axe"

var (
	axeOnce   sync.Once
	axeSource string
	axeErr    error
)

// loadAxe returns axe.min.js, installing it with npm ci the first time.
func loadAxe() (string, error) {
	axeOnce.Do(func() {
		path := filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js")
		if _, err := os.Stat(path); err != nil {
			npm, err := exec.LookPath("npm")
			if err != nil {
				axeErr = fmt.Errorf("the accessibility checks need npm to install axe-core (apt-get install -y npm; make test does it): %w", err)
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
			cmd.Dir = axeDir
			if out, err := cmd.CombinedOutput(); err != nil {
				axeErr = fmt.Errorf("npm ci in %s: %w\n%s", axeDir, err, out)
				return
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			axeErr = fmt.Errorf("read axe-core: %w", err)
			return
		}
		axeSource = string(b)
	})
	return axeSource, axeErr
}

// axeViolation is one failed axe rule, with the first few elements that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n    … and %d more", len(v.Nodes)-3)
			break
		}
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, short(n.HTML), strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeRun runs axe on the whole document for the WCAG 2.0/2.1 A and AA rules.
const axeRun = `axe.run(document, {
  runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
  resultTypes: ['violations'],
}).then(r => JSON.stringify(r.violations))`

// checkA11y fails the step when axe finds a WCAG 2.1 AA violation on the page as it is now.
func (a *actor) checkA11y(step string) {
	a.t.Helper()
	step = "accessibility of " + step
	src, err := loadAxe()
	if err != nil {
		a.fail(step, "%v", err)
	}
	if !eval[bool](a, step, "typeof window.axe === 'object'") {
		// Through the DevTools protocol, as a browser extension injects it: the page's
		// Content-Security-Policy does not apply.
		run(a, step+": load axe-core", chromedp.Evaluate[bool](src+";true"))
	}
	raw := run(a, step, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	var violations []axeViolation
	if err := json.Unmarshal([]byte(raw), &violations); err != nil {
		a.fail(step, "axe's result: %v", err)
	}
	if len(violations) == 0 {
		return
	}
	lines := make([]string, len(violations))
	for i, v := range violations {
		lines[i] = v.String()
	}
	a.errorf(step, "%d WCAG 2.1 AA violations:\n  %s", len(violations), strings.Join(lines, "\n  "))
}

// checkA11yMidRefresh checks the page while every live panel is being refreshed: the state
// the live-update script puts a panel in between an event and the panel's fresh HTML.
func (a *actor) checkA11yMidRefresh(step string) {
	a.t.Helper()
	n := eval[int](a, step, `(() => {
  const panels = document.querySelectorAll('[data-fragment]');
  panels.forEach(p => p.setAttribute('aria-busy', 'true'));
  return panels.length;
})()`)
	if n == 0 {
		a.fail(step, "no live panel (data-fragment) to refresh")
	}
	// Transitions into the busy look finish before axe measures contrast.
	time.Sleep(400 * time.Millisecond)
	a.checkA11y(step + " mid-refresh")
	eval[bool](a, step, `(document.querySelectorAll('[data-fragment]').forEach(p => p.removeAttribute('aria-busy')), true)`)
}

// TestAccessibility walks every page state of the console and the portal, at a desk and on a
// phone, and checks each with axe (WCAG 2.1 AA): zero violations.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	srv, br := shared(t)
	if _, err := loadAxe(); err != nil {
		t.Fatal(err)
	}
	customer := br.actor(t, "a11y-customer", srv.URL, phoneSize)
	customer.open("/portal/" + srv.Portal1.String())
	customer.waitFor("the portal's form", exists("form#submit-request"))
	customer.checkA11y("the portal's form on a phone")
	id := customer.submit(srv.Portal1.String(), submission{name: "Åsa Axe", email: "asa@example.com", description: "The screen reader reads nothing", device: "windows"})
	customer.checkA11y("a new request on the portal")

	bob := srv.apiLogin(t, srv.Bob)
	bob.command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})
	bob.command(http.MethodPost, "/requests/"+id+"/assign", nil)
	bob.command(http.MethodPost, "/requests/"+id+"/join", nil)
	bob.command(http.MethodPost, "/requests/"+id+"/messages", map[string]string{"body": "Hello Åsa, which screen reader?"})
	bob.command(http.MethodPost, "/requests/"+id+"/notes", map[string]string{"body": "Probably NVDA"})
	bob.command(http.MethodPost, "/requests/"+id+"/screen-sharing", nil)
	customer.waitFor("the screen-sharing prompt", exists("#screen-sharing"))
	customer.waitFor("Bob's message", anyHasText("ol#chat li.entry[data-kind=message]", "which screen reader"))
	customer.checkA11y("the portal's chat with a screen-sharing prompt")
	customer.checkA11yMidRefresh("the portal's chat")

	desk := br.actor(t, "a11y-bob", srv.URL, consoleSize)
	desk.open("/console/login")
	desk.waitFor("the login page", exists("form#login"))
	desk.checkA11y("the login page")
	desk.fill("a wrong password", "form#login input[name=email]", srv.Bob.Email)
	desk.fill("a wrong password", "form#login input[name=password]", "not the password")
	desk.clickAndLoad("a wrong password", submitOf("form#login"))
	desk.waitFor("the refusal", exists("#error"))
	desk.checkA11y("the login page with an error")

	desk.signIn(srv, srv.Bob, "available")
	desk.open("/console?view=all")
	desk.waitFor("the list", exists(requestRow(id)))
	desk.waitFor("live updates are on", hasText("#live-status", "on"))
	desk.checkA11y("the console's list")
	desk.checkA11yMidRefresh("the console's list")
	srv.apiSubmit(t, srv.Portal1, "Noor Notified", "noor@example.com", "A notification for the check", "mac")
	desk.waitFor("a notification", exists("#notifications li.notification"))
	desk.checkA11y("the console with a notification")

	desk.open("/console/requests/" + id)
	desk.waitFor("the details", exists("section#details")+" && "+exists("ol#chat li.note"))
	desk.checkA11y("a request's details with chat, note and actions")
	desk.checkA11yMidRefresh("a request's details")
	desk.open("/console/requests/" + id + "/timeline")
	desk.waitFor("the timeline", exists("#verdict"))
	desk.checkA11y("a request's timeline")
	desk.open("/console/reports")
	desk.waitFor("the reports", exists("main h1"))
	desk.checkA11y("the reports page")

	phone := br.actor(t, "a11y-bob-phone", srv.URL, phoneSize)
	phone.signIn(srv, srv.Bob, "available")
	phone.open("/console/requests/" + id)
	phone.waitFor("the details on a phone", exists("section#details"))
	phone.checkA11y("a request's details on a phone")

	bob.command(http.MethodPost, "/requests/"+id+"/end-chat", nil)
	bob.command(http.MethodPost, "/requests/"+id+"/close", nil)
	customer.waitFor("the request is closed", exists("#closed"))
	customer.checkA11y("a closed request on the portal")
}
