package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

// The chat's composer sends its form with fetch (app.js), so that what the reader is looking
// at, and typing, stays; the same routes answer a plain form POST with a redirect. A fetch says
// so with X-Requested-With: fetch or Accept: application/json and gets a small JSON answer
// instead: {"position":"…"} (the log position its event has, which the script passes as
// min_position to the panels it re-fetches), or the one error shape of the JSON API,
// {"error":{"code":"…","message":"…"}}, with the message the page would have shown.

// fromScript reports whether r is the page's script asking for a JSON answer. A browser's
// navigation never sends either header (its Accept names text/html and */*).
func fromScript(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") == "fetch" {
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, _ := strings.Cut(strings.TrimSpace(part), ";"); strings.EqualFold(mt, "application/json") {
			return true
		}
	}
	return false
}

type fetchError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeFetchJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(body)
}

func writeFetchError(w http.ResponseWriter, status int, code, msg string) {
	writeFetchJSON(w, status, map[string]fetchError{"error": {Code: code, Message: msg}})
}

// badTokenMessage is what a script shows next to the composer when the form's CSRF token was
// refused: the same advice as the 403 page.
const badTokenMessage = "The form did not carry a valid security token, so nothing was changed. Reload the page and try again."

// fetchDone answers an action sent by the script: the counterpart of actionDone's redirect.
func (h *Handler) fetchDone(w http.ResponseWriter, r *http.Request, res app.Result, err error) {
	switch {
	case err == nil:
		writeFetchJSON(w, http.StatusOK, map[string]string{"position": res.Position.String()})
	case errors.Is(err, errBadFormToken):
		writeFetchError(w, http.StatusForbidden, "forbidden", badTokenMessage)
	case isNotFound(err):
		writeFetchError(w, http.StatusNotFound, "not_found", "This request is no longer available to you.")
	default:
		msg := h.message(r.Context(), err)
		k := httpserver.Classify(err)
		status, code := k.Status, k.Code
		if status < 400 {
			status = http.StatusBadRequest
		}
		if code == "" {
			code = "refused"
		}
		writeFetchError(w, status, code, msg)
	}
}
