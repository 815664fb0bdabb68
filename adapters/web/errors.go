package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/helpstream/helpstream/adapters/postgres/pgfault"
	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/text"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/fault"
)

// errNotFound marks what answers with the 404 page: an unknown ID, or one the viewer may not
// see (R2: another company's request does not exist for them).
func isNotFound(err error) bool {
	return errors.Is(err, app.ErrNotFound) || errors.Is(err, request.ErrNoAccess) || errors.Is(err, app.ErrUnknownPortal)
}

// sayable are the errors whose own text is what a person should read.
var sayable = []error{
	request.ErrClosed, request.ErrNotAssigned, request.ErrNotAssignee, request.ErrNotAvailable,
	request.ErrChatNotJoined, request.ErrChatAlreadyJoined, request.ErrChatEnded,
	request.ErrScreenSharingPending, request.ErrNoScreenSharingRequest,
	request.ErrScreenSharingUnsupported, request.ErrMobileProfilesUnsupported,
	request.ErrSameTechnician, request.ErrTargetNoAccess, request.ErrTargetOffline,
	request.ErrMissingID, request.ErrInvalidCustomerName, request.ErrInvalidEmail, request.ErrInvalidDescription,
	request.ErrInvalidSource, request.ErrInvalidPlatform, request.ErrInvalidMessage, request.ErrInvalidFile,
	request.ErrInvalidProfile, directory.ErrInvalidAvailability, directory.ErrNoAccess,
	app.ErrTooManyConflicts, app.ErrEmptyFile, app.ErrBadCredentials, app.ErrInvalidView, app.ErrInvalidSort,
	app.ErrInvalidCursor, app.ErrUploadCut, errNoFile, errUploadCut,
}

// message turns a refused action into words for the page (R6: who won an Assign race; R10:
// which file types are allowed).
func (h *Handler) message(ctx context.Context, err error) string {
	var assigned *request.AlreadyAssignedError
	if errors.As(err, &assigned) {
		name := "another technician"
		if t, terr := h.cfg.App.Technician(ctx, assigned.Assignee); terr == nil && t.Name() != "" {
			name = t.Name()
		}
		return "Already assigned to " + name
	}
	var fileType *request.FileTypeError
	if errors.As(err, &fileType) {
		return fileType.Error()
	}
	var mismatch *app.ContentMismatchError
	if errors.As(err, &mismatch) {
		return mismatch.Error()
	}
	var maxBytes *http.MaxBytesError
	if errors.As(err, &maxBytes) || errors.Is(err, app.ErrFileTooLarge) {
		return fmt.Sprintf("The file is too large: files may be at most %s.", sizeText(h.cfg.App.MaxFileSize()))
	}
	if errors.Is(err, eventlog.ErrConcurrency) {
		return "The request changed at the same time; try again."
	}
	for _, target := range sayable {
		if errors.Is(err, target) {
			// A text refused by the one text rule says which character and where.
			var bad *text.Error
			if errors.As(err, &bad) {
				return capitalize(target.Error()) + ": it " + bad.Error() + "."
			}
			return capitalize(target.Error()) + "."
		}
	}
	if unavailable(err) {
		fault.Database.Failed(ctx, err, "web action")
		return unavailableMessage
	}
	if pgfault.BadText(err) {
		return "The form holds text that cannot be stored (a NUL character or bytes that are not UTF-8)."
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "The server took too long to answer; try again."
	}
	if clientGone(ctx, err) {
		slog.DebugContext(ctx, "web action cancelled: the client went away", "err", err)
		return "The request was cancelled."
	}
	slog.ErrorContext(ctx, "web action failed", "err", err)
	return "Something went wrong on our side; try again."
}

// statusClientClosed answers a request whose client went away before it was served (as nginx
// logs it): not a server error.
const statusClientClosed = 499

// clientGone reports whether err comes from the client cancelling its request.
func clientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// failed answers a page or fragment whose work failed with err: the 500 page, or nothing but
// a 499 when the client went away (a cancelled request is not a server error). fragment
// answers in plain text with msg instead of the page.
func (h *Handler) failed(w http.ResponseWriter, r *http.Request, err error, fragment bool, msg string) {
	if clientGone(r.Context(), err) {
		slog.DebugContext(r.Context(), "web page cancelled: the client went away", "path", r.URL.Path, "err", err)
		w.WriteHeader(statusClientClosed)
		return
	}
	if unavailable(err) {
		fault.Database.Failed(r.Context(), err, r.Method+" "+r.URL.Path)
		w.Header().Set("Retry-After", retryAfterSeconds)
		if fragment {
			http.Error(w, unavailableMessage, http.StatusServiceUnavailable)
			return
		}
		h.errorPage(w, r, http.StatusServiceUnavailable, unavailableMessage)
		return
	}
	slog.ErrorContext(r.Context(), "web page failed; answered 500", "path", r.URL.Path, "err", err)
	if fragment {
		http.Error(w, msg, http.StatusInternalServerError)
		return
	}
	h.errorPage(w, r, http.StatusInternalServerError, msg)
}

// unavailable reports an outage worth retrying: the database down, restarting or out of
// connections, or the page's deadline passed waiting for it.
func unavailable(err error) bool {
	return pgfault.Transient(err) || errors.Is(err, context.DeadlineExceeded)
}

// statusOf is the status a failed action answers with: 503 for an outage, 500 otherwise.
func statusOf(err error) int {
	if unavailable(err) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

const (
	unavailableMessage = "The service is unavailable for a moment. Nothing was lost; try again in a few seconds."
	retryAfterSeconds  = "2"
)

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// sizeText writes a byte count for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
