// Package e2e_test drives the web console and the customer portal (package adapters/web) in
// headless Chromium, through the ids, names and data attributes of docs/ui-contract.md, against
// a real server wired like `helpstream serve` on a fresh PostgreSQL database.
//
// Chromium must be installed (`apt-get install -y chromium`; `make test` does it when missing):
// without it the tests fail, they do not skip. A failing step keeps a screenshot and the page's
// HTML in $HELPSTREAM_E2E_ARTIFACTS (default: a new helpstream-e2e-* directory under the system's
// temporary directory) and names them in the failure message.
//
// HELPSTREAM_SCREENSHOTS=1 go test -run TestScreenshots ./adapters/web/e2e/ regenerates the
// README's docs/screenshots/console.png, console-phone.png, portal.png and portal-desk.png (TestReports: reports.png).
package e2e_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// The tests that can share them share one server (they only see their own requests, by ID)
// and one browser (each person in a browser context of their own), started by the first test
// that asks and stopped after the last.
var (
	sharedOnce    sync.Once
	sharedServer  *server
	sharedBrowser *browser
	sharedErr     error
	sharedStops   []func()
)

func shared(t *testing.T) (*server, *browser) {
	t.Helper()
	sharedOnce.Do(func() {
		b, stop, err := startBrowser()
		if err != nil {
			sharedErr = err
			return
		}
		sharedStops = append(sharedStops, stop)
		s, stop, err := startServer()
		if err != nil {
			sharedErr = err
			return
		}
		sharedStops = append(sharedStops, stop)
		sharedServer, sharedBrowser = s, b
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedServer, sharedBrowser
}

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(sharedStops) - 1; i >= 0; i-- {
		sharedStops[i]()
	}
	if dropFailed && code == 0 {
		code = 1
	}
	if dir := artifactsDir; dir != "" {
		fmt.Fprintf(os.Stderr, "e2e: screenshots of failed steps are in %s\n", dir)
	}
	os.Exit(code)
}
