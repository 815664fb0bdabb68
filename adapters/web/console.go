package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

// maxFormBody caps a form that is not an upload.
const maxFormBody = 64 << 10

// formPost reports whether r posts a form that is not an upload: uploads check their token
// themselves, before they read the file.
func formPost(r *http.Request) bool {
	return r.Method == http.MethodPost && r.PathValue("action") != "files"
}

// parseForm reads a form that is not an upload, within maxFormBody, and checks its CSRF token
// with tokenOK. A form that cannot be read or has no good token is refused with 403 and
// changes nothing; parseForm reports whether the handler may go on.
func (h *Handler) parseForm(w http.ResponseWriter, r *http.Request, tokenOK func(token string) bool) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil || !tokenOK(r.PostForm.Get("csrf_token")) {
		if fromScript(r) {
			writeFetchError(w, http.StatusForbidden, "forbidden", badTokenMessage)
			return false
		}
		h.errorPage(w, r, http.StatusForbidden, "")
		return false
	}
	return true
}

// technician resolves the session cookie, a technician's or an auditor's. A page without a
// session goes to the login page; a form without the session's CSRF token is refused with 403
// and changes nothing. Uploads check their token themselves, before they read the file. An
// auditor's POST, whatever it is (but logging out), is refused with 403 before anything else:
// auditors read and never write.
func (h *Handler) technician(fn func(w http.ResponseWriter, r *http.Request, s app.Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		creds := h.cfg.Accounts.Credentials()
		var session app.Session
		err := app.ErrNoSession
		if c, cerr := r.Cookie(SessionCookie); cerr == nil && c.Value != "" {
			session, err = creds.LookupSession(r.Context(), c.Value)
		}
		if errors.Is(err, app.ErrNoSession) {
			switch {
			case strings.HasPrefix(r.URL.Path, "/console/fragments/") || r.URL.Path == "/console/events":
				http.Error(w, "Your session has ended; log in again.", http.StatusUnauthorized)
			default:
				http.Redirect(w, r, loginURL(r), http.StatusSeeOther)
			}
			return
		}
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		if session.IsAuditor() && r.Method != http.MethodGet && r.URL.Path != "/console/logout" {
			h.readOnly(w, r)
			return
		}
		if formPost(r) && !h.parseForm(w, r, func(token string) bool { return creds.CheckCSRF(session, token) }) {
			return
		}
		fn(w, r, session)
	}
}

// readOnly answers an auditor's attempt to change something: 403, and nothing changed.
func (h *Handler) readOnly(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusForbidden, "error", errorData{page: page{Title: "Auditors read and never write", Body: "plain"},
		Status: http.StatusForbidden, Back: "/console", BackText: "Back to the Support Center", Heading: "Auditors read and never write",
		Message: "You are logged in as an auditor: you may read every request of your companies, and change none. Nothing was changed."})
}

// viewer is who a session reads as: a technician, or an auditor (whose reads are recorded in
// the access log with the browser's address).
func (h *Handler) viewer(r *http.Request, s app.Session) app.Viewer {
	if s.IsAuditor() {
		return app.Viewer{AuditorID: s.AuditorID, ClientIP: clientinfo.IP(r, h.cfg.TrustProxyHeaders)}
	}
	return app.Viewer{TechnicianID: s.TechnicianID}
}

// ---- login and logout ----

type loginData struct {
	page
	Email string
	// Next is where the login goes on to: a console address a logged-out browser asked for.
	Next string
}

// loginURL is the login page for a logged-out browser that asked for r: a page it asked for
// with GET comes back after the login (a deep link to a request or a report survives it).
func loginURL(r *http.Request) string {
	if r.Method != http.MethodGet {
		return "/console/login"
	}
	next := safeNext(r.URL.RequestURI())
	if next == "/console" {
		return "/console/login"
	}
	return "/console/login?next=" + url.QueryEscape(next)
}

// safeNext is a login's next address when it is a page of this console, or /console: never
// another site ("//evil", "/\evil", "https://evil"), never another part of this one, never
// anything with control bytes or bytes that are not printable ASCII (which a Location header
// cannot carry), never a path that leaves /console once a browser resolves its dot segments.
func safeNext(s string) string {
	const home = "/console"
	if s == "" || len(s) > 2000 || text.Header(s) != nil || strings.ContainsAny(s, "\\ ") {
		return home
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(s, "//") {
		return home
	}
	p := u.EscapedPath()
	if p != home && !strings.HasPrefix(p, home+"/") {
		return home
	}
	// Dot segments, plain or encoded, move a browser out of /console.
	if path.Clean(u.Path) != u.Path && path.Clean(u.Path)+"/" != u.Path {
		return home
	}
	if strings.Contains(strings.ToLower(p), "%2e") || strings.Contains(strings.ToLower(p), "%2f") || strings.Contains(strings.ToLower(p), "%5c") {
		return home
	}
	switch u.Path {
	case "/console/login", "/console/logout", "/console/events":
		return home
	}
	if strings.HasPrefix(u.Path, "/console/fragments/") {
		return home
	}
	return s
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if c, err := r.Cookie(SessionCookie); err == nil {
		if _, err := h.cfg.Accounts.Credentials().LookupSession(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, next, http.StatusSeeOther)
			return
		}
	}
	h.render(w, r, http.StatusOK, "login", loginData{page: page{Title: "Log in", Body: "plain", CSRF: h.formToken(w, r), Error: h.takeFlash(w, r)}, Next: next})
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	if !h.parseForm(w, r, formTokenOf(r)) {
		return
	}
	email, password := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	fail := func(status int, msg string) {
		h.render(w, r, status, "login", loginData{page: page{Title: "Log in", Body: "plain", CSRF: h.formToken(w, r), Error: msg}, Email: email, Next: next})
	}
	if email == "" || password == "" {
		fail(http.StatusUnprocessableEntity, "Enter your e-mail address and your password.")
		return
	}
	session, err := h.cfg.Accounts.LoginFrom(r.Context(), clientinfo.IP(r, h.cfg.TrustProxyHeaders), email, password)
	var throttled *app.LoginThrottledError
	switch {
	case errors.Is(err, app.ErrBadCredentials):
		fail(http.StatusUnauthorized, "Wrong e-mail address or password.")
		return
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(throttled.RetrySeconds()))
		who := "for this e-mail address"
		if throttled.ByAddress {
			who = "from your network address"
		}
		fail(http.StatusTooManyRequests, fmt.Sprintf("Too many failed logins %s. Wait %s before trying again; until then the password is not checked.", who, humanDuration(throttled.RetrySeconds())))
		return
	case errors.Is(err, app.ErrAccountLocked):
		fail(http.StatusLocked, "This account is locked after too many failed logins. Ask an administrator to unlock it.")
		return
	}
	if err != nil {
		if clientGone(r.Context(), err) {
			h.failed(w, r, err, false, "")
			return
		}
		fail(http.StatusInternalServerError, h.message(r.Context(), err))
		return
	}
	h.setCookie(w, SessionCookie, session.Token, "/", session.ExpiresAt, 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// humanDuration says a number of seconds the way a person would.
func humanDuration(seconds int) string {
	switch minutes := (seconds + 59) / 60; {
	case seconds <= 1:
		return "1 second"
	case seconds < 60:
		return strconv.Itoa(seconds) + " seconds"
	case minutes == 1:
		return "1 minute"
	default:
		return strconv.Itoa(minutes) + " minutes"
	}
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s app.Session) {
	if err := h.cfg.Accounts.Credentials().DeleteSession(r.Context(), s.Token); err != nil {
		h.failed(w, r, err, false, "")
		return
	}
	h.setCookie(w, SessionCookie, "", "/", time.Time{}, -1)
	http.Redirect(w, r, "/console/login", http.StatusSeeOther)
}

// returnTo is a console address to come back to after a header form, or /console.
func returnTo(s string) string {
	// Printable ASCII only (text.Header): a control character would go out in the Location
	// header, which no client can read, and a browser sends anything else percent-encoded.
	if !strings.HasPrefix(s, "/console") || strings.ContainsAny(s, "\\") || strings.HasPrefix(s, "//") || text.Header(s) != nil {
		return "/console"
	}
	return s
}

func (h *Handler) setAvailability(w http.ResponseWriter, r *http.Request, s app.Session) {
	back := returnTo(r.PostForm.Get("return_to"))
	res, err := h.cfg.App.SetAvailability(r.Context(), meta(technicianActor(s.TechnicianID)), app.SetAvailability{
		TechnicianID: s.TechnicianID, Availability: directory.Availability(r.PostForm.Get("availability")),
	})
	if err != nil {
		h.setFlash(w, h.message(r.Context(), err))
	} else {
		h.setSeen(w, res)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
