package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgfault"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
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

// retryAfter is what a 503 tells clients: about how long a PostgreSQL restart takes.
const retryAfter = 2 * time.Second

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(body)
}

// classify maps an error to its status and a message a person understands. Domain errors say
// what is wrong in words already; they pass through.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var assigned *request.AlreadyAssignedError
	if errors.As(err, &assigned) {
		return &apiError{Status: http.StatusConflict, Code: "already_assigned", Message: err.Error(), Assignee: &app.Person{ID: assigned.Assignee}}
	}
	var fileType *request.FileTypeError
	if errors.As(err, &fileType) {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: "file_type_not_allowed", Message: fileType.Error(), Allowed: fileType.Allowed}
	}
	var mismatch *app.ContentMismatchError
	if errors.As(err, &mismatch) {
		return errorf(http.StatusUnsupportedMediaType, "file_content_mismatch", mismatch.Error())
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) || errors.Is(err, app.ErrFileTooLarge) {
		return errorf(http.StatusRequestEntityTooLarge, "too_large", "the request body is too large")
	}
	var body *bodyError
	if errors.As(err, &body) {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return errorf(http.StatusRequestTimeout, "body_timeout", "the body did not arrive in time; send it again, faster")
		}
		return errorf(http.StatusBadRequest, "body_unreadable", "the body could not be read to its end")
	}
	for _, m := range errorTable {
		for _, target := range m.errs {
			if errors.Is(err, target) {
				msg := m.message
				if msg == "" {
					msg = target.Error()
				}
				// A text refused by the one text rule says which character and where.
				var bad *text.Error
				if errors.As(err, &bad) {
					msg += ": " + bad.Error()
				}
				return errorf(m.status, m.code, msg)
			}
		}
	}
	switch {
	case pgfault.BadText(err):
		return errorf(http.StatusUnprocessableEntity, "invalid", "the request holds text that cannot be stored (a NUL character or bytes that are not UTF-8)")
	case pgfault.Transient(err):
		e := errorf(http.StatusServiceUnavailable, "unavailable", "the database is unavailable for a moment; try again")
		e.RetryAfter = retryAfter
		return e
	case errors.Is(err, context.DeadlineExceeded):
		e := errorf(http.StatusServiceUnavailable, "timeout", "the server took too long; try again")
		e.RetryAfter = retryAfter
		return e
	case errors.Is(err, context.Canceled):
		return errorf(499, "canceled", "the request was canceled")
	}
	return errorf(http.StatusInternalServerError, "internal", "something went wrong on our side; try again")
}

var errorTable = []struct {
	status  int
	code    string
	message string
	errs    []error
}{
	{http.StatusNotFound, "not_found", "not found", []error{app.ErrNotFound, request.ErrNoAccess}},
	{http.StatusNotFound, "portal_not_found", "", []error{app.ErrUnknownPortal}},
	{http.StatusConflict, "conflict", "", []error{
		request.ErrClosed, request.ErrNotAssigned, request.ErrNotAssignee, request.ErrNotAvailable,
		request.ErrChatNotJoined, request.ErrChatAlreadyJoined, request.ErrChatEnded,
		request.ErrScreenSharingPending, request.ErrNoScreenSharingRequest,
		directory.ErrPortalExists, app.ErrEmailTaken, app.ErrTooManyConflicts,
	}},
	{http.StatusConflict, "already_exists", "it already exists", []error{eventlog.ErrConcurrency, eventlog.ErrIDReused}},
	{http.StatusUnprocessableEntity, "not_supported", "", []error{
		request.ErrScreenSharingUnsupported, request.ErrMobileProfilesUnsupported,
		request.ErrSameTechnician, request.ErrTargetNoAccess, request.ErrTargetOffline,
	}},
	{http.StatusUnprocessableEntity, "invalid", "", []error{
		request.ErrMissingID, request.ErrInvalidCustomerName, request.ErrInvalidEmail, request.ErrInvalidDescription,
		request.ErrInvalidSource, request.ErrInvalidPlatform, request.ErrInvalidMessage, request.ErrInvalidFile,
		request.ErrInvalidProfile, directory.ErrInvalidName, directory.ErrMissingID, directory.ErrInvalidEmail,
		directory.ErrInvalidAvailability, directory.ErrInvalidWebhookURL, directory.ErrNoAccess,
		app.ErrWeakPassword, app.ErrInvalidView, app.ErrInvalidSort, app.ErrInvalidLimit, app.ErrEmptyFile,
		eventlog.ErrBadPosition,
	}},
	{http.StatusUnauthorized, "unauthorized", "", []error{app.ErrBadCredentials, app.ErrNoSession, app.ErrNoCustomerToken}},
	{http.StatusBadRequest, "body_unreadable", "", []error{app.ErrUploadCut}},
}
