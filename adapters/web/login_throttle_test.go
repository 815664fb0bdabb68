package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver/httpservertest"
	"github.com/helpstream/helpstream/internal/app"
)

// throttledConsole is the world of a console whose logins are throttled by the default policy
// on a hand-moved clock.
type throttledConsole struct {
	*world
	clock *httpservertest.Clock // the login throttle's clock, moved by the test
}

func newThrottledConsole(t *testing.T) *throttledConsole {
	t.Helper()
	clk := httpservertest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	return &throttledConsole{world: newWorldWith(t, worldOptions{loginPolicy: &app.LoginPolicy{Now: clk.Now}}), clock: clk}
}

// technician registers a technician with access to Acme.
func (c *throttledConsole) technician(t *testing.T, name, email string) uuid.UUID {
	t.Helper()
	ctx, admin, id := context.Background(), app.Meta{Actor: app.Admin}, uuid.New()
	if _, err := c.accounts.RegisterTechnicianWithPassword(ctx, admin, app.RegisterTechnician{TechnicianID: id, Name: name, Email: email}, password); err != nil {
		t.Fatal(err)
	}
	if _, err := c.app.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: id, CompanyID: c.acme}); err != nil {
		t.Fatal(err)
	}
	return id
}

// tryLogin posts the login form with the page's token.
func tryLogin(b *browser, email, pw string) page {
	b.t.Helper()
	token := csrfOf(b.t, b.mustGet("/console/login").body)
	return b.post("/console/login", url.Values{"csrf_token": {token}, "email": {email}, "password": {pw}})
}

// The console's login form is throttled like the API: past five failures it answers the login
// page with 429, Retry-After and the wait in words, and the right password is refused until the
// window passes; a locked address answers 423 until an administrator unlocks it.
func TestConsoleLoginThrottled(t *testing.T) {
	t.Parallel()
	c := newThrottledConsole(t) // Alice and Bob of the world's seed
	b := c.browser(t, uaWindows)

	for i := range 5 {
		p := tryLogin(b, "alice@example.com", "wrong password")
		mustf(t, p.status == http.StatusUnauthorized, "wrong password #%d: %d", i+1, p.status)
	}
	for _, pw := range []string{"wrong password", password} {
		p := tryLogin(b, "alice@example.com", pw)
		mustf(t, p.status == http.StatusTooManyRequests, "inside the window: %d", p.status)
		mustf(t, p.header.Get("Retry-After") == "10", "Retry-After %q", p.header.Get("Retry-After"))
		contains(t, p, `id="error" role="alert"`, "Too many failed logins for this e-mail address. Wait 10 seconds before trying again",
			`<form id="login"`, `value="alice@example.com"`)
	}
	c.clock.Advance(10 * time.Second)
	p := tryLogin(b, "alice@example.com", password)
	mustf(t, p.status == http.StatusSeeOther && p.location == "/console", "after the window: %d %q", p.status, p.location)

	// Bob's address, pushed to the longest window and then locked (through the Accounts, for
	// speed: the form and the API share them).
	ctx := context.Background()
	for i := 0; ; i++ {
		mustf(t, i < 100, "no 15-minute window after %d attempts", i)
		_, err := c.accounts.Login(ctx, "bob@example.com", "wrong password")
		var throttled *app.LoginThrottledError
		if errors.As(err, &throttled) {
			if throttled.RetryAfter == 15*time.Minute {
				break
			}
			c.clock.Advance(throttled.RetryAfter)
		}
	}
	b = c.browser(t, uaWindows) // alice's is logged in
	p = tryLogin(b, "bob@example.com", password)
	mustf(t, p.status == http.StatusTooManyRequests && p.header.Get("Retry-After") == "900", "at the cap: %d %q", p.status, p.header.Get("Retry-After"))
	contains(t, p, "Wait 15 minutes before trying again")
	for i := 0; ; i++ {
		mustf(t, i < 100, "no lockout after %d attempts", i)
		_, err := c.accounts.Login(ctx, "bob@example.com", "wrong password")
		if errors.Is(err, app.ErrAccountLocked) {
			break
		}
		c.clock.Advance(15 * time.Minute)
	}
	p = tryLogin(b, "bob@example.com", password)
	mustf(t, p.status == http.StatusLocked && p.header.Get("Retry-After") == "", "locked: %d %q", p.status, p.header.Get("Retry-After"))
	contains(t, p, "This account is locked after too many failed logins. Ask an administrator to unlock it.")
	if u, err := c.accounts.Unlock(ctx, "Bob@Example.com"); err != nil || !u.WasLocked || u.Failures != 20 {
		t.Fatalf("Unlock = %+v, %v", u, err)
	}
	p = tryLogin(c.browser(t, uaWindows), "bob@example.com", password)
	mustf(t, p.status == http.StatusSeeOther && p.location == "/console", "after the unlock: %d %q", p.status, p.location)
}

// A password change or an access revocation ends the console sessions too: the cookie opens
// nothing any more, and logging in again works.
func TestConsoleSessionsEnd(t *testing.T) {
	t.Parallel()
	c := newThrottledConsole(t)
	ctx, admin := context.Background(), app.Meta{Actor: app.Admin}
	for _, tc := range []struct {
		name, email string
		act         func(tech uuid.UUID) error
		newPassword string
	}{
		{"password changed", "pat@example.com", func(tech uuid.UUID) error {
			_, err := c.accounts.SetPassword(ctx, admin, tech, "a brand new one")
			return err
		}, "a brand new one"},
		{"access revoked", "ray@example.com", func(tech uuid.UUID) error {
			_, err := c.accounts.RevokeAccess(ctx, admin, app.RevokeAccess{TechnicianID: tech, CompanyID: c.acme})
			return err
		}, password},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := tc.email
			tech := c.technician(t, "Tech "+email, email)
			b := c.browser(t, uaWindows)
			p := tryLogin(b, email, password)
			mustf(t, p.status == http.StatusSeeOther, "login: %d", p.status)
			b.mustGet("/console")
			if err := tc.act(tech); err != nil {
				t.Fatal(err)
			}
			p = b.get("/console")
			mustf(t, p.status == http.StatusSeeOther && p.location == "/console/login", "the old cookie on a page: %d %q", p.status, p.location)
			p = b.get("/console/fragments/my-requests")
			mustf(t, p.status == http.StatusUnauthorized, "the old cookie on a fragment: %d", p.status)
			p = tryLogin(b, email, tc.newPassword)
			mustf(t, p.status == http.StatusSeeOther && p.location == "/console", "login again: %d %q", p.status, p.location)
			b.mustGet("/console")
		})
	}
}
