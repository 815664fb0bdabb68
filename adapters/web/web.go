// Package web is Helpstream's web console for technicians (under /console) and its customer
// portal (under /portal): pages rendered on the server with html/template, plain forms that
// POST and redirect (every action works without JavaScript), and one small script that keeps
// the panels live through server-sent events. docs/ui-contract.md is the contract between
// these pages and their browser tests.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/adapters/web/presence"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/app"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SessionCookie is the technician's session cookie, the same one the JSON API reads.
const SessionCookie = "helpstream_session"

// formCookie holds the double-submit CSRF token of forms made before a session exists (the
// login form, the portal's forms).
const formCookie = "helpstream_form"

// flashCookie carries a refused action's message across the redirect that follows it.
const flashCookie = "helpstream_flash"

// seenCookie holds the log position of the browser's last action, for the page it is
// redirected to (read-your-writes, whichever server answers).
const seenCookie = "helpstream_seen"

// customerCookie holds a customer's token, scoped to the pages of their request.
const customerCookie = "helpstream_customer"

// ContentSecurityPolicy is sent with every page: scripts and styles only from /static.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"

// Config holds the web handler's dependencies.
type Config struct {
	// App runs commands and queries.
	App *app.App
	// Accounts runs login and submissions with their secrets.
	Accounts *app.Accounts
	// Store is the event store the live updates follow.
	Store eventlog.Store
	// Head returns the position of the log's last event, where the live updates start. When
	// nil, the Store's own Head method is used (see eventlog.HeadReader); a store without one is read
	// through once at start.
	Head func(ctx context.Context) (eventlog.Position, error)
	// SecureCookies marks cookies Secure; set it when serving over HTTPS.
	SecureCookies bool
	// TrustProxyHeaders takes the client IP from X-Forwarded-For.
	TrustProxyHeaders bool
	// RequestTimeout bounds the work of each page (not the event streams); 30 s when zero.
	RequestTimeout time.Duration
	// Heartbeat is the interval of the event streams' keep-alive comments; 15 s when zero.
	Heartbeat time.Duration
	// Presence keeps who has which request open, and who is typing (issue 16). When nil, the
	// handler keeps its own, with the default TTLs and no relay: a server alone.
	Presence *presence.Hub
}

// Handler serves the console, the portal and their static files.
type Handler struct {
	cfg     Config
	queries *app.Queries // cfg.App's: the read side the pages show
	mux     *http.ServeMux
	pages   *pages
	live    *broadcaster
	// available is the technicians' status as the live notifications filter by it.
	available *availability
	// presence is who has which request open (Config.Presence).
	presence *presence.Hub
}

// New returns the handler. Call Run to start the live updates.
func New(cfg Config) (*Handler, error) {
	if cfg.App == nil || cfg.Accounts == nil || cfg.Store == nil {
		return nil, errors.New("web: App, Accounts and Store are required")
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, queries: cfg.App.Queries(), mux: http.NewServeMux(), pages: p, live: newBroadcaster(cfg.Store, cfg.Head)}
	h.available = newAvailability(h.queries)
	h.presence = cfg.Presence
	if h.presence == nil {
		h.presence = presence.New(presence.Config{})
	}
	h.routes()
	return h, nil
}

// Run follows the event log for the live updates, and forgets the presence reports whose time
// is up, until ctx ends.
func (h *Handler) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() { defer close(done); h.presence.Run(ctx) }()
	defer func() { <-done }()
	return h.live.run(ctx)
}

// Ready is closed once the live updates follow the log.
func (h *Handler) Ready() <-chan struct{} { return h.live.ready }

func (h *Handler) routes() {
	static, _ := fs.Sub(staticFS, "static")
	h.mux.HandleFunc("GET /static/", h.staticFile(static))

	// Open to anyone: the console's login and the portals' submit forms.
	h.mux.HandleFunc("GET /console/{$}", redirectTo("/console"))
	h.mux.HandleFunc("GET /console/login", h.loginPage)
	h.mux.HandleFunc("POST /console/login", h.login)
	h.mux.HandleFunc("GET /portal/{portalID}", h.portalPage)
	h.mux.HandleFunc("POST /portal/{portalID}", h.submit)

	handleGuarded(h.mux, h.technician, map[string]func(http.ResponseWriter, *http.Request, app.Session){
		"POST /console/logout":                             h.logout,
		"POST /console/availability":                       h.setAvailability,
		"GET /console":                                     h.consolePage,
		"GET /console/requests/{requestID}":                h.consolePage,
		"GET /console/requests/{requestID}/files/{fileID}": h.technicianDownload,
		"GET /console/requests/{requestID}/timeline":       h.timelinePage,
		"POST /console/requests/{requestID}/{action}":      h.technicianAction,
		"GET /console/fragments/support-requests":          h.supportRequestsFragment,
		"GET /console/fragments/my-requests":               h.myRequestsFragment,
		"GET /console/fragments/details/{requestID}":       h.detailsFragment,
		"GET /console/events":                              h.consoleEvents,
		"POST /console/presence":                           h.reportPresence,
		"GET /console/reports":                             h.reportsPage,
		"GET /console/reports.csv":                         h.reportsCSV,
	})
	handleGuarded(h.mux, h.customer, map[string]func(http.ResponseWriter, *http.Request, uuid.UUID){
		"GET /portal/requests/{requestID}":                h.requestPage,
		"GET /portal/requests/{requestID}/fragment":       h.requestFragment,
		"GET /portal/requests/{requestID}/events":         h.customerEvents,
		"GET /portal/requests/{requestID}/files/{fileID}": h.customerDownload,
		"POST /portal/requests/{requestID}/{action}":      h.customerAction,
	})
	h.profileRoutes()
}

// handleGuarded registers routes whose handlers need what guard resolves first: the signed-in
// technician's session (h.technician) or the request a customer's browser holds (h.customer).
func handleGuarded[H any](mux *http.ServeMux, guard func(H) http.HandlerFunc, routes map[string]H) {
	for pattern, handle := range routes {
		mux.HandleFunc(pattern, guard(handle))
	}
}

// ServeHTTP sets the security headers, bounds the page's work and answers unknown routes with
// a page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	pattern, status, allow := httpserver.Route(h.mux, r)
	if pattern == "" {
		if status == http.StatusMethodNotAllowed {
			hd.Set("Allow", allow)
			h.errorPage(w, r, http.StatusMethodNotAllowed, "This page does not take that kind of request.")
			return
		}
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	if !strings.HasPrefix(pattern, "GET /static/") {
		hd.Set("Cache-Control", "no-store")
	}
	if !strings.HasSuffix(pattern, "/events") {
		ctx, cancel := context.WithTimeout(r.Context(), h.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(h.queries.WithWaitBudget(ctx))
	}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			slog.ErrorContext(r.Context(), "web page panicked", "path", r.URL.Path, "panic", p)
			h.errorPage(w, r, http.StatusInternalServerError, "")
		}
	}()
	h.mux.ServeHTTP(w, r)
}

// staticFile serves the console's and portal's assets; a miss (or a folder) is the 404 page,
// not the file server's plain text, so a browser that follows a stale link sees a way back.
func (h *Handler) staticFile(static fs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if !fs.ValidPath(name) {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		if st, err := fs.Stat(static, name); err != nil || st.IsDir() {
			h.errorPage(w, r, http.StatusNotFound, "")
			return
		}
		http.ServeFileFS(w, r, static, name)
	}
}

// WantsPage reports whether r is a browser's navigation rather than an API client's call: its
// Accept header ranks text/html above application/json. No Accept header, "*/*" alone, or
// JSON ranked at least as high is an API client, answered in JSON.
func WantsPage(r *http.Request) bool {
	html, json := acceptQuality(r.Header.Values("Accept"))
	return html > 0 && html > json
}

// acceptQuality ranks text/html and application/json in Accept headers (RFC 9110 §12.5.1):
// the most specific range that matches each gives its weight.
func acceptQuality(headers []string) (html, json float64) {
	type best struct {
		q           float64
		specificity int // 0 none, 1 */*, 2 type/*, 3 type/subtype
	}
	var h, j best
	consider := func(b *best, q float64, spec int) {
		if spec > b.specificity {
			b.q, b.specificity = q, spec
		}
	}
	for _, header := range headers {
		for _, part := range strings.Split(header, ",") {
			fields := strings.Split(part, ";")
			media := strings.ToLower(strings.TrimSpace(fields[0]))
			q := 1.0
			for _, param := range fields[1:] {
				k, v, ok := strings.Cut(strings.TrimSpace(param), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
					if err != nil || !(f >= 0 && f <= 1) { // NaN too
						f = 0
					}
					q = f
				}
			}
			switch media {
			case "*/*":
				consider(&h, q, 1)
				consider(&j, q, 1)
			case "text/*":
				consider(&h, q, 2)
			case "application/*":
				consider(&j, q, 2)
			case "text/html", "application/xhtml+xml":
				consider(&h, q, 3)
			case "application/json", "application/problem+json":
				consider(&j, q, 3)
			}
		}
	}
	return h.q, j.q
}

func redirectTo(target string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusSeeOther)
	}
}

// ---- cookies and CSRF ----

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func constantTimeEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (h *Handler) setCookie(w http.ResponseWriter, name, value, path string, expires time.Time, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: path, Expires: expires, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: h.cfg.SecureCookies,
	})
}

// formToken returns the browser's double-submit token, making one when it has none.
func (h *Handler) formToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(formCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	token := randomToken()
	h.setCookie(w, formCookie, token, "/", time.Time{}, 0)
	return token
}

// formTokenOf checks a form's csrf_token against r's browser cookie (double submit): the
// check of the login and portal forms, which come before any session.
func formTokenOf(r *http.Request) func(presented string) bool {
	return func(presented string) bool {
		c, err := r.Cookie(formCookie)
		return err == nil && constantTimeEqual(c.Value, presented)
	}
}

// setFlash keeps a message for the page the browser is redirected to.
func (h *Handler) setFlash(w http.ResponseWriter, msg string) {
	h.setCookie(w, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(msg)), "/", time.Time{}, 60)
}

// takeFlash reads and clears the message of the previous action.
func (h *Handler) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	h.setCookie(w, flashCookie, "", "/", time.Time{}, -1)
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) > 2000 {
		return ""
	}
	return string(b)
}

// setSeen keeps the position an action wrote for the page the browser is redirected to.
func (h *Handler) setSeen(w http.ResponseWriter, res app.Result) {
	if !res.Position.IsStart() {
		h.setCookie(w, seenCookie, res.Position.String(), "/", time.Time{}, 60)
	}
}

// awaitSeen waits, bounded, until the read models include the browser's last action, so that
// the page shows its effect everywhere at once (the header, the lists and the details), and
// forgets the position.
func (h *Handler) awaitSeen(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(seenCookie)
	if err != nil {
		return
	}
	h.setCookie(w, seenCookie, "", "/", time.Time{}, -1)
	pos, err := eventlog.ParsePosition(c.Value)
	if err != nil {
		return
	}
	_, _ = h.queries.WaitForPosition(r.Context(), pos)
}

// ---- helpers ----

func pathID(r *http.Request, name string) (uuid.UUID, bool) {
	id, err := uuid.Parse(r.PathValue(name))
	// The nil UUID names nothing: no request, file or portal has it.
	return id, err == nil && id != uuid.Nil
}

func meta(actor app.Actor) app.Meta {
	return app.Meta{Actor: actor, CorrelationID: uuid.NewString()}
}

func technicianActor(id uuid.UUID) app.Actor { return app.Actor{Kind: "technician", ID: id} }
func customerActor(id uuid.UUID) app.Actor   { return app.Actor{Kind: "customer", ID: id} }

// projectionBehindHeader says, on a fragment asked with min_position, that the read models had
// not reached it within the wait (about 2 s, more on a busy server): the page fetches the panel
// again a moment later, so that it converges on the change it was told of.
const projectionBehindHeader = "X-Projection-Behind"

// waitForPosition serves read-your-writes for a fragment asked with min_position: the page
// saw that event go by and wants the panels to include it.
func (h *Handler) waitForPosition(w http.ResponseWriter, r *http.Request) {
	s := r.URL.Query().Get("min_position")
	if s == "" {
		return
	}
	pos, err := eventlog.ParsePosition(s)
	if err != nil {
		return
	}
	if reached, err := h.queries.WaitForPosition(r.Context(), pos); err == nil && !reached {
		w.Header().Set(projectionBehindHeader, "true")
	}
}

// positionText is a position for a page to send back, empty for the start.
func positionText(p eventlog.Position) string {
	if p.IsStart() {
		return ""
	}
	return p.String()
}
