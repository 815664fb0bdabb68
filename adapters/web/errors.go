package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/fault"
)

// isNotFound marks what answers with the 404 page: an unknown ID, or one the viewer may not
// see (R2: another company's request does not exist for them).
func isNotFound(err error) bool {
	return httpserver.Classify(err).Status == http.StatusNotFound
}

// formErrors are the console's and portal's own refusals: their text is what a person reads.
var formErrors = []error{errNoFile, errUploadCut}

// message turns a refused action into words for the page (R6: who won an Assign race; R10:
// which file types are allowed), from what the error means for every front end.
func (h *Handler) message(ctx context.Context, err error) string {
	for _, target := range formErrors {
		if errors.Is(err, target) {
			return capitalize(target.Error()) + "."
		}
	}
	k := httpserver.Classify(err)
	switch {
	case k.Code == "already_assigned":
		name := "another technician"
		if t, terr := h.cfg.App.Technician(ctx, k.Assignee); terr == nil && t.Name() != "" {
			name = t.Name()
		}
		return "Already assigned to " + name
	case k.Code == "file_type_not_allowed" || k.Code == "file_content_mismatch":
		return k.Message
	case k.Code == "too_large":
		return fmt.Sprintf("The file is too large: files may be at most %s.", sizeText(h.cfg.App.MaxFileSize()))
	case k.Code == "already_exists":
		return "The request changed at the same time; try again."
	case k.Readable && k.Flaw != "":
		// A text refused by the one text rule says which character and where.
		return capitalize(k.Message) + ": it " + k.Flaw + "."
	case k.Readable:
		return capitalize(k.Message) + "."
	case k.RetryAfter > 0:
		fault.Database.Failed(ctx, err, "web action")
		return unavailableMessage
	case k.Code == "invalid": // not the error's own words: text the database cannot store
		return "The form holds text that cannot be stored (a NUL character or bytes that are not UTF-8)."
	case clientGone(ctx, err):
		slog.DebugContext(ctx, "web action cancelled: the client went away", "err", err)
		return "The request was cancelled."
	}
	slog.ErrorContext(ctx, "web action failed", "err", err)
	return "Something went wrong on our side; try again."
}

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
		w.WriteHeader(httpserver.StatusClientClosed)
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

// pageFailed answers a page whose work failed with err: the 404 page, saying notFound, when
// what it shows does not exist for the viewer (R2); the failure page otherwise (failed).
func (h *Handler) pageFailed(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	if isNotFound(err) {
		h.errorPage(w, r, http.StatusNotFound, notFound)
		return
	}
	h.failed(w, r, err, false, "")
}

// fragmentFailed is pageFailed for a fragment a page reloads: plain text, msg for a failure.
func (h *Handler) fragmentFailed(w http.ResponseWriter, r *http.Request, err error, msg string) {
	if isNotFound(err) {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	h.failed(w, r, err, true, msg)
}

// unavailable reports an outage worth retrying: the database down, restarting or out of
// connections, or the page's deadline passed waiting for it.
func unavailable(err error) bool {
	return httpserver.Classify(err).RetryAfter > 0
}

const unavailableMessage = "The service is unavailable for a moment. Nothing was lost; try again in a few seconds."

// retryAfterSeconds is the Retry-After header of an outage, as the API sends it.
var retryAfterSeconds = strconv.Itoa(int(httpserver.RetryAfter / time.Second))

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
