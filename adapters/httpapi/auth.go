package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/clientinfo"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) (int, any, error)

// unsafe reports whether a method changes state and so needs CSRF protection and idempotency.
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// session resolves the caller's session from a bearer token or the session cookie. Changes
// made with the cookie must carry the session's CSRF token in X-CSRF-Token.
func (a *API) session(r *http.Request) (app.Session, error) {
	creds := a.cfg.Accounts.Credentials()
	token, viaCookie := bearer(r), false
	if token == "" {
		if c, err := r.Cookie(SessionCookie); err == nil {
			token, viaCookie = c.Value, true
		}
	}
	if token == "" {
		return app.Session{}, errorf(http.StatusUnauthorized, "unauthorized", "log in first: send a bearer token or the session cookie")
	}
	session, err := creds.LookupSession(r.Context(), token)
	if errors.Is(err, app.ErrNoSession) {
		return app.Session{}, errorf(http.StatusUnauthorized, "unauthorized", "the session is unknown or expired; log in again")
	}
	if err != nil {
		return app.Session{}, err
	}
	// An auditor changes nothing, whatever their CSRF token says.
	if session.IsAuditor() && unsafe(r.Method) {
		return app.Session{}, app.ErrReadOnly
	}
	if viaCookie && unsafe(r.Method) && !creds.CheckCSRF(session, r.Header.Get("X-CSRF-Token")) {
		return app.Session{}, errorf(http.StatusForbidden, "csrf", "missing or wrong X-CSRF-Token header")
	}
	return session, nil
}

// technician resolves the technician from a bearer token or the session cookie. An auditor is
// refused (403): these routes change things.
func (a *API) technician(fn func(w http.ResponseWriter, r *http.Request, technicianID uuid.UUID) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		session, err := a.session(r)
		if err != nil {
			return 0, nil, err
		}
		if session.IsAuditor() {
			return 0, nil, app.ErrReadOnly
		}
		scope := "technician:" + session.TechnicianID.String()
		return a.idempotent(w, r, scope, func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			return fn(w, r, session.TechnicianID)
		})
	}
}

// reader resolves a technician or an auditor, for a route that reads: fn gets the viewer, an
// auditor's with the client's address for the access log.
func (a *API) reader(fn func(w http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		session, err := a.session(r)
		if err != nil {
			return 0, nil, err
		}
		return fn(w, r, a.viewer(r, session))
	}
}

// viewer is who a session reads as.
func (a *API) viewer(r *http.Request, session app.Session) app.Viewer {
	if session.IsAuditor() {
		return app.Viewer{AuditorID: session.AuditorID, ClientIP: clientinfo.IP(r, a.cfg.TrustProxyHeaders)}
	}
	return app.Viewer{TechnicianID: session.TechnicianID}
}

// auditor resolves an auditor, for a route only auditors read; a technician is refused (403).
func (a *API) auditor(fn func(w http.ResponseWriter, r *http.Request, auditorID uuid.UUID) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		session, err := a.session(r)
		if err != nil {
			return 0, nil, err
		}
		if !session.IsAuditor() {
			return 0, nil, errorf(http.StatusForbidden, "forbidden", "only auditors read the access log")
		}
		return fn(w, r, session.AuditorID)
	}
}

// refuseAuditor answers an auditor's change on a route that is not theirs (the customer's, the
// administrator's) with 403, as every command route does, instead of taking their session for
// a wrong token: nil when the request carries no auditor's session, or changes nothing.
func (a *API) refuseAuditor(r *http.Request) error {
	if !unsafe(r.Method) {
		return nil
	}
	for _, token := range []string{bearer(r), cookieValue(r)} {
		if token == "" {
			continue
		}
		if s, err := a.cfg.Accounts.Credentials().LookupSession(r.Context(), token); err == nil && s.IsAuditor() {
			return app.ErrReadOnly
		}
	}
	return nil
}

func cookieValue(r *http.Request) string {
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// customer resolves the customer from their per-request token; it opens only its own request,
// and any other request ID answers 404 like an unknown one.
func (a *API) customer(fn func(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		token := bearer(r)
		if token == "" {
			if err := a.refuseAuditor(r); err != nil {
				return 0, nil, err
			}
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "send the customer token you got at submission as a bearer token")
		}
		requestID, err := a.cfg.Accounts.Credentials().CustomerRequest(r.Context(), token)
		if errors.Is(err, app.ErrNoCustomerToken) {
			if err := a.refuseAuditor(r); err != nil {
				return 0, nil, err
			}
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "unknown customer token")
		}
		if err != nil {
			return 0, nil, err
		}
		pathRequest, err := pathID(r, "requestID")
		if err != nil {
			return 0, nil, err
		}
		if pathRequest != requestID {
			return 0, nil, errorf(http.StatusNotFound, "not_found", "not found")
		}
		return a.idempotent(w, r, "customer:"+requestID.String(), func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			return fn(w, r, requestID)
		})
	}
}

// admin checks the admin token.
func (a *API) admin(fn handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		token := bearer(r)
		if a.cfg.AdminToken == "" || token == "" || !constantTimeEqual(token, a.cfg.AdminToken) {
			if err := a.refuseAuditor(r); err != nil {
				return 0, nil, err
			}
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "send the admin token as a bearer token")
		}
		return a.idempotent(w, r, "admin", fn)
	}
}

// idempotent answers a repeated command (same Idempotency-Key, same scope) with the first
// response, writing nothing; the same key with a different request is refused.
func (a *API) idempotent(w http.ResponseWriter, r *http.Request, scope string, fn handlerFunc) (int, any, error) {
	return a.idempotentWith(w, r, scope, fn, secretless{})
}

// secretless says how a response is kept and replayed when it holds a secret that must not be
// stored: keep strips the secret before the body is stored, replay puts a fresh one back.
type secretless struct {
	keep   func(body []byte) []byte
	replay func(r *http.Request, body []byte) ([]byte, error)
}

func (a *API) idempotentWith(w http.ResponseWriter, r *http.Request, scope string, fn handlerFunc, secrets secretless) (int, any, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || !unsafe(r.Method) {
		return fn(w, r)
	}
	fingerprint, err := a.fingerprint(w, r)
	if err != nil {
		return 0, nil, err
	}
	scope += " " + r.Method + " " + r.URL.Path
	store := a.cfg.Idempotency
	claim, err := store.ClaimIdempotencyKey(r.Context(), scope, key, fingerprint, a.cfg.IdempotencyLease)
	if err != nil {
		return 0, nil, err
	}
	if !claim.Claimed {
		rec := claim.Record
		switch {
		case rec.Fingerprint != fingerprint:
			return 0, nil, errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
		case rec.Status == 0:
			e := errorf(http.StatusConflict, "idempotency_in_progress", "a request with this Idempotency-Key is still running; retry after it ends")
			e.RetryAfter = max(claim.LeaseLeft, time.Second)
			return 0, nil, e
		}
		body := rec.Body
		if secrets.replay != nil && rec.Status < 300 {
			if body, err = secrets.replay(r, body); err != nil {
				return 0, nil, err
			}
		}
		w.Header().Set("Content-Type", rec.ContentType)
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(rec.Status)
		_, _ = w.Write(body)
		return 0, nil, errReplayed
	}
	if claim.TakenOver {
		slog.InfoContext(r.Context(), "idempotency key taken over from an attempt that died", "scope", scope)
	}
	// The command's identity, from which its event IDs derive (see app.Meta.Command).
	r = r.WithContext(context.WithValue(r.Context(), commandKey{}, r.Method+" "+r.URL.Path+" "+fingerprint))
	stopRenewing := a.renewLease(r.Context(), scope, key, claim.Token)
	buf := &bodyBuffer{ResponseWriter: w}
	status, body, err := fn(buf, r)
	stopRenewing()
	respond(buf, r, status, body, err)
	// The answer is written; what follows must not depend on the client still being there.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if buf.status >= 500 || buf.status == 0 {
		// A failure is not kept: the key is freed so that the client may try again at once.
		// Left claimed (the database is down too), its lease runs out and a retry takes it
		// over; the command then finds its own events if it wrote any.
		if err := store.ReleaseIdempotencyKey(ctx, scope, key, claim.Token); err != nil {
			slog.WarnContext(ctx, "idempotency key not released; a retry may run when its lease ends", "scope", scope, "lease", a.cfg.IdempotencyLease, "err", err)
		}
		return 0, nil, errReplayed
	}
	kept := buf.buf.Bytes()
	if secrets.keep != nil && buf.status < 300 {
		kept = secrets.keep(kept)
	}
	if err := store.CompleteIdempotencyKey(ctx, scope, key, claim.Token, buf.status, buf.Header().Get("Content-Type"), kept); err != nil {
		slog.WarnContext(ctx, "idempotency answer not kept; a retry runs the command again, which finds its own events", "scope", scope, "err", err)
	}
	return 0, nil, errReplayed
}

// commandKey carries a command's identity (method, path, body hash) in a request's context.
type commandKey struct{}

// renewLease keeps the claim alive while its request runs, renewing it at a third of the
// lease; the returned func stops it. A request that dies stops renewing, and the lease runs
// out.
func (a *API) renewLease(ctx context.Context, scope, key string, token uuid.UUID) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		ticker := time.NewTicker(a.cfg.IdempotencyLease / 3)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				if err := a.cfg.Idempotency.RenewIdempotencyKey(ctx, scope, key, token, a.cfg.IdempotencyLease); err != nil && ctx.Err() == nil {
					slog.WarnContext(ctx, "idempotency lease not renewed", "scope", scope, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// errReplayed tells handle that the response is already written.
var errReplayed = errors.New("response already written")

// fingerprint hashes what identifies a command: method, path and body. JSON bodies are read
// and put back. An upload is identified by its length and its first bytes (the part's headers,
// with the file name, and the start of the file) with the multipart boundary taken out, as a
// client's retry may choose another boundary; the rest streams on unread.
func (a *API) fingerprint(w http.ResponseWriter, r *http.Request) (string, error) {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.Path+"\n")
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && strings.HasPrefix(mt, "multipart/") {
		io.WriteString(h, r.Header.Get("Content-Length")+"\n")
		head := make([]byte, uploadFingerprintBytes)
		n, err := io.ReadFull(r.Body, head)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			return "", jsonError(err)
		}
		head = head[:n]
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		if b := params["boundary"]; b != "" {
			head = bytes.ReplaceAll(head, []byte(b), nil)
		}
		h.Write(head)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxJSONBody))
	if err != nil {
		return "", jsonError(err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// uploadFingerprintBytes is how much of an upload its fingerprint reads.
const uploadFingerprintBytes = 64 << 10
