// Package httpapi is Helpstream's JSON API under /api/v1: the customer side (a per-request
// token), the technician side (bearer token or session cookie with CSRF) and the admin side
// (admin token). Every error answers {"error":{"code":"…","message":"…"}}.
package httpapi

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/fault"
)

// IdempotencyRecord is a stored response to a command sent with an Idempotency-Key.
type IdempotencyRecord = app.IdempotencyRecord

// IdempotencyStore remembers responses by key so that a repeated command is answered from
// memory and writes nothing. A claim is a lease held by the running request (renewed while it
// runs): when that request dies, the lease runs out and a retry of the same request takes the
// claim over.
type IdempotencyStore interface {
	// ClaimIdempotencyKey claims key in scope for the request with fingerprint, for lease, or
	// returns the stored record.
	ClaimIdempotencyKey(ctx context.Context, scope, key, fingerprint string, lease time.Duration) (app.IdempotencyClaim, error)
	// RenewIdempotencyKey extends the lease of the claim token holds.
	RenewIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID, lease time.Duration) error
	// CompleteIdempotencyKey stores the answer of the request holding the claim.
	CompleteIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID, status int, contentType string, body []byte) error
	// ReleaseIdempotencyKey frees the claim after its request failed.
	ReleaseIdempotencyKey(ctx context.Context, scope, key string, token uuid.UUID) error
}

// Config holds the API's dependencies and limits.
type Config struct {
	// App runs commands and queries.
	App *app.App
	// Accounts runs login, registration and submission with their secrets.
	Accounts *app.Accounts
	// Idempotency remembers responses to commands sent with an Idempotency-Key.
	Idempotency IdempotencyStore
	// Store is the event log, read for auditors' timelines (a request's history with its
	// states).
	Store eventlog.Store
	// AdminToken opens the admin routes; they are closed when it is empty.
	AdminToken string
	// MaxJSONBody caps a JSON request body, in bytes; 64 KiB when zero.
	MaxJSONBody int64
	// RequestTimeout bounds each request's work; 30 s when zero.
	RequestTimeout time.Duration
	// IdempotencyLease is how long an Idempotency-Key claim outlives the last sign of life of
	// the request holding it (it is renewed at a third of this while the request runs): the
	// longest a retry after a crash waits before it runs; 10 s when zero.
	IdempotencyLease time.Duration
	// SecureCookies marks the session cookie Secure; set it when serving over HTTPS.
	SecureCookies bool
	// TrustProxyHeaders takes the client IP from X-Forwarded-For; set it only behind a proxy
	// that overwrites that header.
	TrustProxyHeaders bool
	// Health says whether the server can serve: nil, or what is wrong (the database does not
	// answer, a read model has parked events). GET /healthz answers 503 with it; 200 when
	// Health is nil.
	Health func(ctx context.Context) error
	// HealthReport adds what an operator should know but that does not stop the server from
	// serving (such as a transaction that holds back the delivery of events) to the 200
	// answer of GET /healthz, under its keys; nil adds nothing.
	HealthReport func(ctx context.Context) (map[string]any, error)
	// ProjectionStatus reports where each read model stands, for the admin route
	// /api/v1/admin/projections; the route answers 404 when it is nil.
	ProjectionStatus func(ctx context.Context) (any, error)
	// EraseCustomer erases the personal data of the customer with an e-mail address, for a
	// reason, and answers what it did (POST /api/v1/admin/customers/erase, issue 17); nil
	// answers 404.
	EraseCustomer func(ctx context.Context, email, reason string) (any, error)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	if c.App == nil || c.Accounts == nil || c.Idempotency == nil {
		return errors.New("httpapi: App, Accounts and Idempotency are required")
	}
	return nil
}

// API serves the routes.
type API struct {
	cfg     Config
	queries *app.Queries // cfg.App's: the read side the GET routes answer from
	mux     *http.ServeMux
}

// SessionCookie is the console's session cookie.
const SessionCookie = "helpstream_session"

// New returns the API handler.
func New(cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.MaxJSONBody = httpserver.OrDefault(cfg.MaxJSONBody, 64<<10)
	cfg.RequestTimeout = httpserver.OrDefault(cfg.RequestTimeout, 30*time.Second)
	cfg.IdempotencyLease = httpserver.OrDefault(cfg.IdempotencyLease, 10*time.Second)
	a := &API{cfg: cfg, queries: cfg.App.Queries(), mux: http.NewServeMux()}
	a.routes()
	return a, nil
}

// ServeHTTP adds the security headers and a deadline, and turns the mux's own 404 and 405
// answers into the API's error shape.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.RequestTimeout)
	defer cancel()
	ctx = a.queries.WithWaitBudget(ctx)
	r = r.WithContext(ctx)
	if err := checkHeaders(r); err != nil {
		writeError(w, r, err)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &clientBody{ReadCloser: r.Body}
	}
	if pattern, status, allow := httpserver.Route(a.mux, r); pattern == "" {
		if allow != "" {
			h.Set("Allow", allow)
		}
		if status == http.StatusMethodNotAllowed {
			writeError(w, r, errorf(http.StatusMethodNotAllowed, "method_not_allowed", "this route does not take "+r.Method))
			return
		}
		writeError(w, r, errorf(http.StatusNotFound, "not_found", "no such route"))
		return
	}
	defer func() {
		if p := recover(); p != nil {
			slog.ErrorContext(ctx, "handler panicked", "path", r.URL.Path, "panic", p)
			writeError(w, r, fmt.Errorf("panic: %v", p))
		}
	}()
	a.mux.ServeHTTP(w, r) // not handler.ServeHTTP: only the mux sets the path values
}

// Limits on the headers the API reads.
const (
	// MaxHeaderBytes bounds the sum of a request's header names and values. Larger requests
	// get 431 in the error shape; net/http's own limit (Server.MaxHeaderBytes) must be larger
	// for this one to answer first.
	MaxHeaderBytes = 16 << 10
	// MaxIdempotencyKey and MaxCorrelationID bound the headers that become metadata.
	MaxIdempotencyKey = 200
	MaxCorrelationID  = 100
)

// checkHeaders refuses headers that cannot be stored as sent: an Idempotency-Key or
// X-Correlation-ID that is not printable ASCII or too long would otherwise be altered when it
// is written into an event's metadata, after the stream's hash chain covered it.
func checkHeaders(r *http.Request) error {
	size := 0
	for name, values := range r.Header {
		for _, v := range values {
			size += len(name) + len(v) + 4
		}
	}
	if size > MaxHeaderBytes {
		return errorf(http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", fmt.Sprintf("the request's headers are larger than %d bytes", MaxHeaderBytes))
	}
	for _, h := range []struct {
		name, code string
		max        int
	}{{"Idempotency-Key", "bad_idempotency_key", MaxIdempotencyKey}, {"X-Correlation-ID", "bad_correlation_id", MaxCorrelationID}} {
		values := r.Header.Values(h.name)
		if len(values) == 0 {
			continue
		}
		if len(values) > 1 {
			return errorf(http.StatusBadRequest, h.code, h.name+" must be sent once")
		}
		if err := text.Header(values[0]); err != nil {
			return errorf(http.StatusBadRequest, h.code, h.name+" must be printable ASCII: it "+err.Error())
		}
		if len(values[0]) > h.max {
			return errorf(http.StatusBadRequest, h.code, fmt.Sprintf("%s must be at most %d characters", h.name, h.max))
		}
	}
	return nil
}

// clientBody marks the errors of reading a request's body as the client's, so that a body cut
// by its read deadline, or a connection dropped mid-body, is told apart from a timeout or a
// dropped connection of the database, however deep in a command it surfaces.
type clientBody struct{ io.ReadCloser }

func (b *clientBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = &bodyError{err: err}
	}
	return n, err
}

// bodyError is an error reading the request's body.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read the request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// handle registers a route whose handler returns a status and body or an error.
func (a *API) handle(pattern string, fn func(w http.ResponseWriter, r *http.Request) (int, any, error)) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		status, body, err := fn(w, r)
		if err == nil || errors.Is(err, errReplayed) {
			fault.Database.Succeeded(r.Context())
		}
		if errors.Is(err, errReplayed) {
			return
		}
		respond(w, r, status, body, err)
	})
}

// respond writes what a handler returned: the error in the API's one shape, a bare status when
// there is no body, or the body as JSON.
func respond(w http.ResponseWriter, r *http.Request, status int, body any, err error) {
	switch {
	case err != nil:
		writeError(w, r, err)
	case body == nil:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, body)
	}
}

// decodeJSON reads a JSON body strictly: the right content type, one object, no unknown
// fields, within the size limit.
func (a *API) decodeJSON(w http.ResponseWriter, r *http.Request, into any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the body as application/json")
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxJSONBody))
	if err != nil {
		return jsonError(err)
	}
	// encoding/json would quietly turn bytes that are not UTF-8 into U+FFFD: refuse them, so
	// that what is stored is what was sent.
	if !utf8.Valid(raw) {
		return errorf(http.StatusBadRequest, "malformed_json", "the body is not valid UTF-8")
	}
	// Nor an escape of half a character (a lone surrogate, "\ud800"), which it would decode as
	// U+FFFD.
	if at := loneSurrogate(raw); at >= 0 {
		return errorf(http.StatusBadRequest, "malformed_json", fmt.Sprintf("the body escapes half a character (a lone UTF-16 surrogate) at byte %d", at))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "malformed_json", "the body must hold one JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "malformed_json", "the body must hold one JSON object")
	}
	return nil
}

// loneSurrogate returns the offset of the first \u escape in raw that is half of a UTF-16
// surrogate pair without its other half, or -1. Backslashes appear only inside JSON strings, so
// the escapes can be read without tracking where strings begin and end.
func loneSurrogate(raw []byte) int {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range raw[i+2 : i+6] {
			switch {
			case c >= '0' && c <= '9':
				r = r<<4 | rune(c-'0')
			case c >= 'a' && c <= 'f':
				r = r<<4 | rune(c-'a'+10)
			case c >= 'A' && c <= 'F':
				r = r<<4 | rune(c-'A'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // another escape: skip the escaped byte (it may be a backslash)
			continue
		}
		switch {
		case r >= 0xD800 && r <= 0xDBFF:
			if low, ok := hex4(i + 6); ok && low >= 0xDC00 && low <= 0xDFFF {
				i += 11
				continue
			}
			return i
		case r >= 0xDC00 && r <= 0xDFFF:
			return i
		}
		i += 5
	}
	return -1
}

// requestBody is a JSON request body that knows which of its fields are required.
type requestBody interface {
	// missingField returns required's 422 for the first required field the body lacks, or nil.
	missingField() error
}

// decodeBody reads a JSON body of type B strictly (see decodeJSON) and checks that its required
// fields are there.
func decodeBody[B requestBody](a *API, w http.ResponseWriter, r *http.Request) (B, error) {
	var body B
	if err := a.decodeJSON(w, r, &body); err != nil {
		return body, err
	}
	return body, body.missingField()
}

// jsonCommand is the shape most routes that change something share: the path ID named
// pathParam (none when it is empty), then a JSON body with its required fields, then one
// command run as actor, answered with status and where the command's events landed. The path
// comes first so that an unknown ID answers 404 whatever the body. run returns the ID the answer
// names: the path's, or the one the command created.
func jsonCommand[B requestBody](a *API, w http.ResponseWriter, r *http.Request, actor app.Actor, pathParam string, status int,
	run func(ctx context.Context, m app.Meta, pathID uuid.UUID, body B) (uuid.UUID, app.Result, error),
) (int, any, error) {
	var id uuid.UUID
	if pathParam != "" {
		var err error
		if id, err = pathID(r, pathParam); err != nil {
			return 0, nil, err
		}
	}
	body, err := decodeBody[B](a, w, r)
	if err != nil {
		return 0, nil, err
	}
	answerID, res, err := run(r.Context(), meta(r, actor), id, body)
	return commandAnswer(status, answerID, res, err)
}

func jsonError(err error) error {
	var body *bodyError
	if errors.As(err, &body) {
		return err // classify says what went wrong with the body
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes):
		return errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("the body is larger than %d bytes", maxBytes.Limit))

	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "malformed_json", "the body is not valid JSON")
	case errors.Is(err, io.EOF):
		return errorf(http.StatusBadRequest, "malformed_json", "the body is empty; send a JSON object")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return errorf(http.StatusBadRequest, "wrong_type", "the body must be a JSON object")
		}
		return errorf(http.StatusBadRequest, "wrong_type", fmt.Sprintf("field %q must be a %s", field, jsonKind(typeErr.Type.Kind().String())))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return errorf(http.StatusBadRequest, "unknown_field", "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return errorf(http.StatusBadRequest, "malformed_json", "the body is not valid JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "JSON object"
	case "slice", "array":
		return "JSON array"
	default:
		return "number"
	}
}

// required returns a 422 naming the first missing field.
func required(fields ...struct {
	name  string
	empty bool
}) error {
	for _, f := range fields {
		if f.empty {
			return errorf(http.StatusUnprocessableEntity, "missing_field", fmt.Sprintf("field %q is required", f.name))
		}
	}
	return nil
}

func field(name string, empty bool) struct {
	name  string
	empty bool
} {
	return struct {
		name  string
		empty bool
	}{name, empty}
}

// pathID reads a UUID path parameter; anything else is a 404, as an unknown ID would be.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue(name))
	// The nil UUID names nothing, and a read of it must not fall back to "none chosen".
	if err != nil || id == uuid.Nil {
		return uuid.Nil, errorf(http.StatusNotFound, "not_found", "not found")
	}
	return id, nil
}

// byPathID adapts a route that answers with what get returns for the UUID in the path
// parameter named param; a malformed one answers 404 before get runs.
func byPathID[T any](param string, get func(ctx context.Context, id uuid.UUID) (T, error)) handlerFunc {
	return func(_ http.ResponseWriter, r *http.Request) (int, any, error) {
		id, err := pathID(r, param)
		if err != nil {
			return 0, nil, err
		}
		return queryAnswer(get(r.Context(), id))
	}
}

// queryAnswer is a route's answer to a query: 200 with what it found, or err.
func queryAnswer[T any](found T, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, found, nil
}

// meta builds a command's metadata from the request. Its headers were checked by checkHeaders
// and are stored exactly as sent.
func meta(r *http.Request, actor app.Actor) app.Meta {
	correlation := r.Header.Get("X-Correlation-ID")
	if correlation == "" {
		correlation = uuid.NewString()
	}
	m := app.Meta{Actor: actor, CorrelationID: correlation}
	if command, ok := r.Context().Value(commandKey{}).(string); ok {
		m.IdempotencyKey, m.Command = r.Header.Get("Idempotency-Key"), command
	}
	return m
}

// bearer returns the request's bearer token, if any.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// commandResult is what every command answers: where its events landed, for read-your-writes.
type commandResult struct {
	ID       uuid.UUID `json:"id"`
	Version  int64     `json:"version"`
	Position string    `json:"position"`
	Written  bool      `json:"written"`
}

func result(id uuid.UUID, res app.Result) commandResult {
	return commandResult{ID: id, Version: res.Version, Position: res.Position.String(), Written: res.Written}
}

// commandAnswer is a route's answer to a command: status and its result, or err.
func commandAnswer(status int, id uuid.UUID, res app.Result, err error) (int, any, error) {
	if err != nil {
		return 0, nil, err
	}
	return status, result(id, res), nil
}

// bodyBuffer keeps a copy of what a handler wrote, for the idempotency store.
type bodyBuffer struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (b *bodyBuffer) WriteHeader(status int) {
	b.status = status
	b.ResponseWriter.WriteHeader(status)
}

func (b *bodyBuffer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.buf.Write(p)
	return b.ResponseWriter.Write(p)
}
