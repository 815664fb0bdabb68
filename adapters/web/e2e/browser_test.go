package e2e_test

// The browser side: one headless Chromium for the package (see shared), and one "actor" per
// person, each in a tab of its own browser context (its own cookies), driven through the ids, names and data attributes of
// docs/ui-contract.md. Every step that fails keeps a screenshot and the page's HTML in a kept
// artifacts directory and names them in the failure message.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step, live updates included.
// The event store delivers an event once every older transaction of the PostgreSQL server has
// ended, so a long transaction elsewhere on a shared server (a benchmark) delays live updates and
// the read models: the bound is generous.
const stepTimeout = 30 * time.Second

type browser struct {
	ctx context.Context
}

// errNoChromium says how to install Chromium.
var errNoChromium = errors.New("Chromium is required by the browser tests and was not found on PATH; install it with " +
	"`apt-get update && apt-get install -y chromium` (as root), or run `make test`, which installs it when missing")

// startBrowser starts a headless Chromium with a fresh profile; stop stops it and removes the
// profile. Without Chromium it returns errNoChromium: the browser tests fail then, they are
// never skipped (CI installs Chromium through the Makefile).
func startBrowser() (b *browser, stop func(), err error) {
	path, err := exec.LookPath("chromium")
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%v)", errNoChromium, err)
	}
	profile, err := os.MkdirTemp("", "helpstream-e2e-chromium-")
	if err != nil {
		return nil, nil, err
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root, in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	stop = func() {
		ctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(ctx)
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	}
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(bctx) }() // starts the browser, bound to bctx
	select {
	case err := <-done:
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("start Chromium (%s): %w", path, err)
		}
	case <-time.After(60 * time.Second):
		stop()
		return nil, nil, fmt.Errorf("Chromium (%s) did not start within 60 s", path)
	}
	return &browser{ctx: bctx}, stop, nil
}

// actor is one person in one tab of their own browser context.
type actor struct {
	t    *testing.T
	name string
	ctx  context.Context
	base string
}

// watchScript runs in every document before the page's scripts: it records the page's
// Content-Security-Policy violations, which would mean injected markup tried to run.
const watchScript = `window.__e2eCSP = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__e2eCSP.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sample || ''));
});`

// noLiveScript takes EventSource away from the page, so it cannot follow live updates: the
// Assign race needs a page that still shows the Assign button after someone else assigned.
const noLiveScript = `window.EventSource = undefined;`

type actorOptions struct {
	width, height int64
	mobile        bool
	userAgent     string
	noLive        bool
}

var (
	consoleSize = actorOptions{width: 1280, height: 800}
	phoneSize   = actorOptions{width: 390, height: 844, mobile: true}
)

// actor opens a tab in a new browser context (its own cookies), closed when the test ends.
func (b *browser) actor(t *testing.T, name, base string, o actorOptions) *actor {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	a := &actor{t: t, name: name, ctx: ctx, base: base}
	var viewport []chromedp.EmulateViewportOption
	if o.mobile {
		viewport = append(viewport, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.EmulateViewport(o.width, o.height, viewport...),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			scripts := []string{watchScript}
			if o.noLive {
				scripts = append(scripts, noLiveScript)
			}
			for _, s := range scripts {
				if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: s}); err != nil {
					return err
				}
			}
			if o.userAgent != "" {
				if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: o.userAgent}); err != nil {
					return err
				}
			}
			return nil
		}),
	}
	// The first Run creates the tab and binds it to the context it is given: ctx itself, never
	// a step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("%s: open a tab: %v", name, err)
	}
	a.do("set up the tab", steps...)
	return a
}

// ---- failures keep a screenshot ----

var (
	artifactsOnce sync.Once
	artifactsDir  string
	artifactsErr  error
)

// artifacts is where failing steps keep their screenshots: $HELPSTREAM_E2E_ARTIFACTS, or a
// directory made under the system's temporary directory once per run. It is never removed.
func artifacts() (string, error) {
	artifactsOnce.Do(func() {
		if d := os.Getenv("HELPSTREAM_E2E_ARTIFACTS"); d != "" {
			artifactsDir, artifactsErr = d, os.MkdirAll(d, 0o755)
			return
		}
		artifactsDir, artifactsErr = os.MkdirTemp("", "helpstream-e2e-")
	})
	return artifactsDir, artifactsErr
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// keep saves the tab's screenshot and HTML and returns where.
func (a *actor) keep(step string) string {
	dir, err := artifacts()
	if err != nil {
		return "(no screenshot: " + err.Error() + ")"
	}
	base := filepath.Join(dir, unsafeName.ReplaceAllString(a.t.Name()+"-"+a.name+"-"+step, "_"))
	if len(base) > 200 {
		base = base[:200]
	}
	ctx, cancel := context.WithTimeout(a.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return "(no screenshot: " + err.Error() + ")"
	}
	if err := os.WriteFile(base+".png", png, 0o644); err != nil {
		return "(no screenshot: " + err.Error() + ")"
	}
	where := base + ".png"
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n\n" + document.documentElement.outerHTML`)); err == nil {
		if os.WriteFile(base+".html", []byte(html), 0o644) == nil {
			where += " (and its HTML: " + base + ".html)"
		}
	}
	return where
}

// fail ends the test at a step, keeping its screenshot.
func (a *actor) fail(step, format string, args ...any) {
	a.t.Helper()
	a.t.Fatalf("%s, step %q: %s\n\tscreenshot of the step: %s", a.name, step, fmt.Sprintf(format, args...), a.keep(step))
}

// errorf records a failure at a step, keeping its screenshot, and lets the test go on.
func (a *actor) errorf(step, format string, args ...any) {
	a.t.Helper()
	a.t.Errorf("%s, step %q: %s\n\tscreenshot of the step: %s", a.name, step, fmt.Sprintf(format, args...), a.keep(step))
}

// ---- running steps ----

func (a *actor) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		a.fail(step, "%v", err)
	}
}

func run[T any](a *actor, step string, act chromedp.Action[T]) T {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, act)
	if err != nil {
		a.fail(step, "%v", err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](a *actor, step, expr string) T {
	a.t.Helper()
	return run(a, step, chromedp.Evaluate[T](expr))
}

// tryEval evaluates without failing: the page may be between two documents.
func tryEval[T any](a *actor, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(a.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// waitFor waits until the JavaScript expression is true in the tab's current document, across
// navigations and live swaps (Poll does not survive a navigation, so this polls from Go).
func (a *actor) waitFor(step, expr string) {
	a.t.Helper()
	a.waitForWithin(step, expr, stepTimeout)
}

func (a *actor) waitForWithin(step, expr string, d time.Duration) {
	a.t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for {
		ok, err := tryEval[bool](a, "!!("+expr+")")
		if err == nil && ok {
			return
		}
		if err != nil {
			last = err
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("still false after %s: %s", d, expr)
			if last != nil {
				msg += fmt.Sprintf(" (last error: %v)", last)
			}
			a.fail(step, "%s", msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settles reports whether the expression becomes true within d; an evaluation error (the page
// is between two documents) counts as true.
func (a *actor) settles(expr string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		ok, err := tryEval[bool](a, "!!("+expr+")")
		if err != nil || ok {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// exists is a JavaScript expression: an element matches the selector.
func exists(sel string) string { return "document.querySelector(" + js(sel) + ") !== null" }

// textOf is a JavaScript expression: the element's visible text, or "" when it is missing.
func textOf(sel string) string {
	return "((document.querySelector(" + js(sel) + ") || {}).innerText || '')"
}

// hasText is a JavaScript expression: the element's visible text contains s (case-insensitive).
func hasText(sel, s string) string {
	return textOf(sel) + ".toLowerCase().includes(" + js(strings.ToLower(s)) + ")"
}

// anyHasText is a JavaScript expression: one of the elements matching sel has s in its text
// content (as written in the HTML, before CSS transforms such as uppercase).
func anyHasText(sel, s string) string {
	return "Array.from(document.querySelectorAll(" + js(sel) + ")).some(e => e.textContent.includes(" + js(s) + "))"
}

func (a *actor) has(sel string) bool {
	a.t.Helper()
	return eval[bool](a, "look for "+sel, exists(sel))
}

func (a *actor) text(sel string) string {
	a.t.Helper()
	return eval[string](a, "read "+sel, textOf(sel))
}

// submitOf is the selector of a form's submit buttons.
func submitOf(form string) string {
	return form + " button:not([type]), " + form + " button[type=submit], " + form + " input[type=submit]"
}

// open navigates to a path of the server.
func (a *actor) open(path string) {
	a.t.Helper()
	a.do("open "+path, chromedp.Navigate(a.base+path))
}

// openStatus navigates to a path and returns the HTTP status of the document.
func (a *actor) openStatus(path string) int64 {
	a.t.Helper()
	res := run(a, "open "+path, chromedp.NavigateResponse(a.base+path))
	if res == nil {
		a.fail("open "+path, "no response")
	}
	return res.Status
}

// markPage marks the current document, so that a later check can tell whether it was replaced.
func (a *actor) markPage() {
	a.t.Helper()
	eval[bool](a, "mark the page", "(window.__e2eSamePage = true)")
}

// samePage reports whether the marked document is still the one shown (no reload).
func (a *actor) samePage() bool {
	a.t.Helper()
	return eval[bool](a, "check for a reload", "window.__e2eSamePage === true")
}

// clickAndLoad clicks an element that submits a form or follows a link, and waits until the
// next document has loaded (the plain-form POST, its redirect and the page it lands on).
func (a *actor) clickAndLoad(step, sel string) {
	a.t.Helper()
	mark := "(" + exists(sel) + ") && (window.__e2eLeaving = true, window.__e2eGone = false," +
		" document.addEventListener('submit', () => { window.__e2eGone = true }, true)," +
		" window.addEventListener('beforeunload', () => { window.__e2eGone = true }), true)"
	if !eval[bool](a, step, mark) {
		a.fail(step, "nothing matches %s", sel)
	}
	// A live update that swaps the element between the mouse press and its release swallows the
	// click: when neither a submission nor a navigation started, click again.
	deadline := time.Now().Add(stepTimeout)
	for {
		a.click(step, sel)
		if a.settles("window.__e2eLeaving === undefined || window.__e2eGone === true", 3*time.Second) {
			break
		}
		if time.Now().After(deadline) {
			a.fail(step, "clicking %s neither submitted a form nor left the page", sel)
		}
	}
	a.waitFor(step+": the next page loads", "window.__e2eLeaving === undefined && document.readyState === 'complete'")
}

// click clicks the element. A live update may replace it between the moment chromedp finds it
// and the click (the node is gone then), so a click that fails on a page still marked as not
// left is tried again on the fresh element, until the step's timeout.
func (a *actor) click(step, sel string) {
	a.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(a.ctx, stepTimeout)
		err := chromedp.Do(ctx, chromedp.Click(sel))
		cancel()
		if err == nil {
			return
		}
		stillHere, evalErr := tryEval[bool](a, "window.__e2eLeaving === true && "+exists(sel))
		if evalErr != nil || !stillHere || time.Now().After(deadline) {
			a.fail(step, "click %s: %v", sel, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fill sets the value of a field (input, textarea or select).
func (a *actor) fill(step, sel, value string) {
	a.t.Helper()
	a.do(step, chromedp.SetValue(sel, value))
}

// noError checks that the page shows no refused action.
func (a *actor) noError(step string) {
	a.t.Helper()
	if a.has("#error") {
		if msg := strings.TrimSpace(a.text("#error")); msg != "" {
			a.fail(step, "the page shows an error: %q", msg)
		}
	}
}

// cspViolations lists the Content-Security-Policy violations of the current document.
func (a *actor) cspViolations() []string {
	a.t.Helper()
	v, err := tryEval[[]string](a, "window.__e2eCSP || []")
	if err != nil && !errors.Is(err, chromedp.ErrJSNull) {
		a.fail("read CSP violations", "%v", err)
	}
	return v
}
