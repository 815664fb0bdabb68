package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

// Errors of an upload form.
var (
	errNoFile    = errors.New("choose a file to share")
	errUploadCut = errors.New("the upload was cut short; try again")
)

// errBadFormToken refuses a form without its CSRF token: 403, nothing changed.
var errBadFormToken = errors.New("the form's token is missing or wrong")

// upload reads a multipart form whose csrf_token comes before its file, within the size
// limit, and shares the file. A missing or wrong token is errBadFormToken: nothing was read
// past it and nothing was written.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID, checkToken func(string) bool, share func(app.Upload) (app.Result, error)) (app.Result, error) {
	reader, ok := httpserver.UploadReader(w, r, h.cfg.App.MaxFileSize())
	if !ok {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		if err := r.ParseForm(); err != nil || !checkToken(r.PostForm.Get("csrf_token")) {
			return app.Result{}, errBadFormToken
		}
		return app.Result{}, errNoFile
	}
	tokenOK := false
	// refused is err, unless the form ended before a good token: then the form is refused.
	refused := func(err error) (app.Result, error) {
		if !tokenOK {
			return app.Result{}, errBadFormToken
		}
		return app.Result{}, err
	}
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return refused(errNoFile)
		}
		if err != nil {
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) {
				return refused(app.ErrFileTooLarge)
			}
			return refused(errUploadCut)
		}
		switch part.FormName() {
		case "csrf_token":
			b, _ := io.ReadAll(io.LimitReader(part, 512))
			if tokenOK = checkToken(string(b)); !tokenOK {
				return refused(nil)
			}
		case "file":
			if !tokenOK {
				return refused(nil)
			}
			name, ok := httpserver.UploadName(part.FileName())
			if !ok {
				return app.Result{}, errNoFile
			}
			return share(app.Upload{RequestID: requestID, FileID: uuid.New(), Name: name, Content: part})
		}
		_ = part.Close()
	}
}

// download sends a shared file as an attachment (httpserver.SendFile).
func (h *Handler) download(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) {
	fileID, ok := pathID(r, "fileID")
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "")
		return
	}
	f, err := h.queries.OpenFile(r.Context(), viewer, requestID, fileID)
	if err != nil {
		h.pageFailed(w, r, err, "")
		return
	}
	defer f.Content.Close()
	httpserver.SendFile(w, f)
}
