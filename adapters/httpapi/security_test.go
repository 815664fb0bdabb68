package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/helpstream/helpstream/adapters/httpapi"
)

// cookieLogin logs in and returns the session cookie as the server set it, and the login's body.
func cookieLogin(t *testing.T, e *env, email string) (*http.Cookie, loginResponse) {
	t.Helper()
	res := e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": password}).want(t, http.StatusOK)
	var lr loginResponse
	res.decode(t, &lr)
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == httpapi.SessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("login set no %s cookie: %v", httpapi.SessionCookie, res.Header.Values("Set-Cookie"))
	}
	return cookie, lr
}

// TestSessionCookieAndCSRF: the console's cookie is HttpOnly and SameSite=Strict, and every
// change made with it needs the session's CSRF token; without it nothing is written.
func TestSessionCookieAndCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Acme support")
	tech := e.registerTechnician(t, "Alice Tech", "alice@example.com")
	e.grant(t, tech, company)

	cookie, lr := cookieLogin(t, e, "alice@example.com")
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Value != lr.Token {
		t.Errorf("session cookie %+v", cookie)
	}
	if lr.CSRFToken == "" || lr.CSRFToken == lr.Token {
		t.Errorf("CSRF token %q", lr.CSRFToken)
	}

	noCSRF := &client{e: e, cookie: cookie.Value}
	wrongCSRF := &client{e: e, cookie: cookie.Value, csrf: "not-the-token"}
	withCSRF := &client{e: e, cookie: cookie.Value, csrf: lr.CSRFToken}

	// Reading needs no CSRF token.
	noCSRF.get(t, "/api/v1/me").want(t, http.StatusOK)

	id, _ := e.submit(t, portal, uaWindows)
	before := e.tail(t)
	for _, c := range []*client{noCSRF, wrongCSRF} {
		c.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": "available"}).wantErr(t, http.StatusForbidden, "csrf")
		c.json(t, http.MethodPut, "/api/v1/me/notifications", map[string]any{"email": false, "in_console": true}).wantErr(t, http.StatusForbidden, "csrf")
		c.post(t, reqPath(id, "assign"), nil).wantErr(t, http.StatusForbidden, "csrf")
		c.post(t, reqPath(id, "notes"), map[string]any{"body": "forged"}).wantErr(t, http.StatusForbidden, "csrf")
		c.upload(t, reqPath(id, "files"), "x.png", pngBytes(t)).wantErr(t, http.StatusForbidden, "csrf")
		c.post(t, "/api/v1/auth/logout", nil).wantErr(t, http.StatusForbidden, "csrf")
	}
	e.unchanged(t, before, "cookie requests without the CSRF token")
	noCSRF.get(t, "/api/v1/me").want(t, http.StatusOK) // the forged logout did not log out

	// With the token the same requests work.
	withCSRF.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": "available"}).want(t, http.StatusOK)
	withCSRF.post(t, reqPath(id, "assign"), nil).want(t, http.StatusOK)
	withCSRF.post(t, reqPath(id, "notes"), map[string]any{"body": "real"}).want(t, http.StatusCreated)

	// A bearer token needs no CSRF token (it cannot be sent by another site's page).
	bearer := &client{e: e, bearer: lr.Token}
	bearer.post(t, reqPath(id, "join"), nil).want(t, http.StatusOK)

	// Logging out with the cookie clears it and ends the session.
	res := withCSRF.post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
	cleared := false
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == httpapi.SessionCookie && c.MaxAge < 0 && c.HttpOnly {
			cleared = true
		}
	}
	if !cleared {
		t.Errorf("logout does not clear the cookie: %v", res.Header.Values("Set-Cookie"))
	}
	noCSRF.get(t, "/api/v1/me").wantErr(t, http.StatusUnauthorized, "unauthorized")
	bearer.get(t, "/api/v1/me").wantErr(t, http.StatusUnauthorized, "unauthorized")
}

// TestLogoutInvalidatesToken: after logout the bearer token opens nothing; other sessions of
// the same technician are not affected.
func TestLogoutInvalidatesToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	company := e.createCompany(t, "Acme")
	e.grant(t, e.registerTechnician(t, "Alice Tech", "alice@example.com"), company)
	first := e.login(t, "alice@example.com")
	second := e.login(t, "alice@example.com")
	first.get(t, "/api/v1/me").want(t, http.StatusOK)
	first.post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
	first.get(t, "/api/v1/me").wantErr(t, http.StatusUnauthorized, "unauthorized")
	first.get(t, "/api/v1/requests").wantErr(t, http.StatusUnauthorized, "unauthorized")
	first.json(t, http.MethodPut, "/api/v1/me/availability", map[string]any{"availability": "busy"}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	second.get(t, "/api/v1/me").want(t, http.StatusOK)
	// Logging out twice, or with nothing, is harmless.
	first.post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
	e.anonymous().post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
}

// TestAuthentication: no, malformed or wrong credentials answer 401 on every side.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, _ := e.submit(t, w.portalA, uaWindows)
	anon := e.anonymous()
	bad := []opt{
		noAuth(),
		header("Authorization", "Bearer "),
		header("Authorization", "Bearer not-a-token"),
		header("Authorization", "Basic "+adminToken),
		header("Authorization", "Bearer "+adminToken+"x"),
		header("Cookie", httpapi.SessionCookie+"=forged"),
	}
	paths := []struct{ method, path string }{
		{"GET", "/api/v1/me"},
		{"GET", "/api/v1/requests"},
		{"GET", reqPath(id)},
		{"POST", reqPath(id, "assign")},
		{"GET", custPath(id)},
		{"POST", custPath(id, "messages")},
		{"GET", "/api/v1/admin/companies"},
		{"POST", "/api/v1/admin/companies"},
	}
	before := e.tail(t)
	for _, p := range paths {
		for _, o := range bad {
			anon.raw(t, p.method, p.path, []byte(`{"body":"x","name":"x"}`), o).wantErr(t, http.StatusUnauthorized, "unauthorized")
		}
	}
	// Technician and customer tokens do not open the admin side.
	w.techA.get(t, "/api/v1/admin/technicians").wantErr(t, http.StatusUnauthorized, "unauthorized")
	e.unchanged(t, before, "unauthenticated requests")

	// Wrong passwords and unknown addresses look the same.
	r1 := anon.post(t, "/api/v1/auth/login", map[string]any{"email": "alice.tech@example.com", "password": "wrong password"}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	r2 := anon.post(t, "/api/v1/auth/login", map[string]any{"email": "nobody@example.com", "password": "wrong password"}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	if r1.Message != r2.Message {
		t.Errorf("login tells unknown addresses apart: %q / %q", r1.Message, r2.Message)
	}
}

// TestSecurityHeaders: every kind of response carries the Content-Security-Policy and
// X-Content-Type-Options headers (the harness checks it on every response; this names it).
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.anonymous()
	for _, res := range []*response{
		anon.get(t, "/healthz"),
		anon.get(t, "/api/v1/openapi.yaml"),
		anon.get(t, "/api/v1/nowhere"),
		anon.raw(t, http.MethodDelete, "/healthz", nil),
		anon.get(t, "/api/v1/me"),
		anon.post(t, "/api/v1/auth/login", map[string]any{"email": "a@b.c", "password": "x"}),
	} {
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: headers %v", res, res.Header)
		}
	}
}
