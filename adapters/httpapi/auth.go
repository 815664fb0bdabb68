package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) (int, any, error)

// unsafe reports whether a method changes state and so needs CSRF protection and idempotency.
func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// technician resolves the technician from a bearer token or the session cookie. Changes made
// with the cookie must carry the session's CSRF token in X-CSRF-Token.
func (a *API) technician(fn func(w http.ResponseWriter, r *http.Request, technicianID uuid.UUID) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		creds := a.cfg.Accounts.Credentials()
		token, viaCookie := bearer(r), false
		if token == "" {
			if c, err := r.Cookie(SessionCookie); err == nil {
				token, viaCookie = c.Value, true
			}
		}
		if token == "" {
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "log in first: send a bearer token or the session cookie")
		}
		session, err := creds.LookupSession(r.Context(), token)
		if errors.Is(err, app.ErrNoSession) {
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "the session is unknown or expired; log in again")
		}
		if err != nil {
			return 0, nil, err
		}
		if viaCookie && unsafe(r.Method) && !creds.CheckCSRF(session, r.Header.Get("X-CSRF-Token")) {
			return 0, nil, errorf(http.StatusForbidden, "csrf", "missing or wrong X-CSRF-Token header")
		}
		scope := "technician:" + session.TechnicianID.String()
		return a.idempotent(w, r, scope, func(w http.ResponseWriter, r *http.Request) (int, any, error) {
			return fn(w, r, session.TechnicianID)
		})
	}
}

// customer resolves the customer from their per-request token; it opens only its own request,
// and any other request ID answers 404 like an unknown one.
func (a *API) customer(fn func(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		token := bearer(r)
		if token == "" {
			return 0, nil, errorf(http.StatusUnauthorized, "unauthorized", "send the customer token you got at submission as a bearer token")
		}
		requestID, err := a.cfg.Accounts.Credentials().CustomerRequest(r.Context(), token)
		if errors.Is(err, app.ErrNoCustomerToken) {
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
	if len(key) > 200 {
		return 0, nil, errorf(http.StatusBadRequest, "bad_idempotency_key", "Idempotency-Key must be at most 200 characters")
	}
	fingerprint, err := a.fingerprint(w, r)
	if err != nil {
		return 0, nil, err
	}
	scope += " " + r.Method + " " + r.URL.Path
	store := a.cfg.Idempotency
	rec, claimed, err := store.ClaimIdempotencyKey(r.Context(), scope, key, fingerprint)
	if err != nil {
		return 0, nil, err
	}
	if !claimed {
		switch {
		case rec.Fingerprint != fingerprint:
			return 0, nil, errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
		case rec.Status == 0:
			return 0, nil, errorf(http.StatusConflict, "idempotency_in_progress", "a request with this Idempotency-Key is still running")
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
	buf := &bodyBuffer{ResponseWriter: w}
	status, body, err := fn(buf, r)
	respond(buf, r, status, body, err)
	ctx := r.Context()
	if buf.status >= 500 || buf.status == 0 {
		// A failure is not kept: the key is freed so that the client may try again. The answer
		// is written already, so a key left claimed (a retry is told "still running") is only
		// logged.
		if err := store.ReleaseIdempotencyKey(ctx, scope, key); err != nil {
			slog.WarnContext(ctx, "idempotency key not released", "scope", scope, "err", err)
		}
		return 0, nil, errReplayed
	}
	kept := buf.buf.Bytes()
	if secrets.keep != nil && buf.status < 300 {
		kept = secrets.keep(kept)
	}
	_ = store.CompleteIdempotencyKey(ctx, scope, key, buf.status, buf.Header().Get("Content-Type"), kept)
	return 0, nil, errReplayed
}

// errReplayed tells handle that the response is already written.
var errReplayed = errors.New("response already written")

// fingerprint hashes what identifies a command: method, path and body (JSON bodies are read
// and put back; uploads are identified by their length, as their multipart boundary changes
// from one attempt to the next).
func (a *API) fingerprint(w http.ResponseWriter, r *http.Request) (string, error) {
	h := sha256.New()
	io.WriteString(h, r.Method+" "+r.URL.Path+"\n")
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		io.WriteString(h, r.Header.Get("Content-Length"))
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
