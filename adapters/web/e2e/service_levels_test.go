package e2e_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
)

// TestServiceLevelBreaches: a request left waiting past its company's time-to-assign target
// shows a breach marker in words in the Support Requests list, and the list sorts by breach
// from the keyboard alone (Tab to the Service level header, Enter; again for descending).
func TestServiceLevelBreaches(t *testing.T) {
	t.Parallel()
	_, br := shared(t)
	srv := newServer(t) // the company's targets and the list's order are this test's own
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	set := func(goals servicelevel.Goals) {
		if _, err := srv.App.SetServiceLevels(ctx, admin, app.SetServiceLevels{CompanyID: srv.Company1, Goals: goals}); err != nil {
			t.Fatal(err)
		}
	}
	set(servicelevel.Goals{Assign: time.Second})
	late := srv.apiSubmit(t, srv.Portal1, "Bea Breach", "bea@example.com", "Nobody came", "windows").RequestID
	deadline := time.Now().Add(30 * time.Second)
	for !breached(t, srv, uuid.MustParse(late)) {
		if time.Now().After(deadline) {
			t.Fatal("the waiting request did not breach its target")
		}
		time.Sleep(100 * time.Millisecond)
	}
	set(servicelevel.Goals{}) // later requests run no clock
	onTime := srv.apiSubmit(t, srv.Portal1, "Nora Ontime", "nora@example.com", "No hurry", "mac").RequestID
	srv.apiLogin(t, srv.Alice).command(http.MethodPut, "/me/availability", map[string]string{"availability": "available"})

	alice := br.actor(t, "alice-sla", srv.URL, consoleSize)
	alice.login(srv.Alice)
	alice.open("/console?view=all&sort=submitted&order=asc")
	alice.waitFor("both requests are listed", exists(requestRow(late))+" && "+exists(requestRow(onTime)))

	step := "the breach marker"
	alice.waitFor(step, exists(requestRow(late)+" td.sla .breach[data-breach=assign]"))
	words := func(sel string) string {
		return eval[string](alice, step, "(document.querySelector("+js(sel)+") || {textContent: ''}).textContent.replace(/\\s+/g, ' ').trim()")
	}
	if got := words(requestRow(late) + " td.sla .breach"); got != "⚠ breached: assign" {
		alice.errorf(step, "the marker says %q, want the breach in words", got)
	}
	if !alice.has(requestRow(onTime)+" td.sla .sla-none") || alice.has(requestRow(onTime)+" .breach") {
		alice.errorf(step, "the request on time shows a breach")
	}
	if got := words(requestRow(onTime) + " td.sla .visually-hidden"); got != "no breach" {
		alice.errorf(step, "a request on time reads %q to screen readers, want \"no breach\"", got)
	}
	alice.checkA11y("the list with a breach marker")

	order := func() string {
		return eval[string](alice, "the order", `[...document.querySelectorAll('#requests tbody tr')].map(r => r.dataset.requestId).filter(id => id === `+js(late)+` || id === `+js(onTime)+`).join(' ')`)
	}
	header := "#requests th.th-breach a[data-sort=breach]"
	alice.tabTo("tab to the Service level header", header, 80)
	alice.pressAndLoad("sort by breach with Enter", "\r")
	alice.waitFor("sorted by breach, ascending", exists("#requests th.th-breach[aria-sort=ascending]"))
	if got, want := order(), onTime+" "+late; got != want {
		alice.errorf("sorted by breach, ascending", "rows %s, want the request on time first (%s)", got, want)
	}
	alice.tabTo("tab to the Service level header again", header, 80)
	alice.pressAndLoad("sort by breach, descending, with Enter", "\r")
	alice.waitFor("sorted by breach, descending", exists("#requests th.th-breach[aria-sort=descending]"))
	if got, want := order(), late+" "+onTime; got != want {
		alice.errorf("sorted by breach, descending", "rows %s, want the breached request first (%s)", got, want)
	}
}

// breached reports whether the request's stream holds a breach.
func breached(t *testing.T, srv *server, id uuid.UUID) bool {
	t.Helper()
	events, err := srv.Store.ReadStream(context.Background(), request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Type == (*request.SLABreached)(nil).EventType() {
			return true
		}
	}
	return false
}
