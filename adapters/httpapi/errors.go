package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/fault"
)

// apiError is the one error shape every route answers: {"error":{"code":"…","message":"…"}}.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Assignee names who holds a request, for the loser of an Assign race (R6).
	Assignee *app.Person `json:"assignee,omitempty"`
	// Allowed lists the file types that may be shared, for a refused upload (R10).
	Allowed []string `json:"allowed_types,omitempty"`
	// RetryAfter, when set, is sent as the Retry-After header: when trying again makes sense.
	RetryAfter time.Duration `json:"-"`
}

func (e *apiError) Error() string { return e.Message }

func errorf(status int, code, message string) *apiError {
	return &apiError{Status: status, Code: code, Message: message}
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := classify(err)
	switch {
	case e.Code == "unavailable" || e.Code == "timeout":
		// One line per outage, not one per request that met it (see fault.Database).
		fault.Database.Failed(r.Context(), err, r.Method+" "+r.URL.Path)
	case e.Status >= 500:
		slog.ErrorContext(r.Context(), "request failed; answered 500", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, e.Status, map[string]*apiError{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(body)
}

// classify maps an error to its answer: the route's own apiError as it is, a body that could
// not be read, or what the error means for every front end (httpserver.Classify).
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	// Before the shared table: an upload cut by its read deadline is app.ErrUploadCut too, and
	// a dropped connection would look like the database's.
	var body *bodyError
	var maxBytes *http.MaxBytesError
	if errors.As(err, &body) && !errors.As(err, &maxBytes) {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errorf(http.StatusRequestTimeout, "body_timeout", "the body did not arrive in time; send it again, faster")
		}
		return errorf(http.StatusBadRequest, "body_unreadable", "the body could not be read to its end")
	}
	k := httpserver.Classify(err)
	e := &apiError{Status: k.Status, Code: k.Code, Message: k.Message, Allowed: k.Allowed, RetryAfter: k.RetryAfter}
	if k.Flaw != "" {
		e.Message += ": " + k.Flaw
	}
	if k.Assignee != uuid.Nil {
		e.Assignee = &app.Person{ID: k.Assignee}
	}
	return e
}
