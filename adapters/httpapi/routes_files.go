package httpapi

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// upload reads one multipart part named "file" within the size limit and shares it.
func (a *API) upload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID, share func(app.Upload) (app.Result, error)) (int, any, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return 0, nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", `send the file as multipart/form-data in a part named "file"`)
	}
	// The multipart envelope adds a little to the file itself.
	r.Body = http.MaxBytesReader(w, r.Body, a.cfg.App.MaxFileSize()+64<<10)
	reader := multipart.NewReader(r.Body, params["boundary"])
	for {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "missing_field", `no part named "file" in the upload`)
		}
		if err != nil {
			var maxBytes *http.MaxBytesError
			if errors.As(err, &maxBytes) {
				return 0, nil, app.ErrFileTooLarge
			}
			return 0, nil, errorf(http.StatusBadRequest, "malformed_multipart", "the upload is not valid multipart/form-data")
		}
		if part.FormName() != "file" {
			_ = part.Close()
			continue
		}
		name := path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
		if name == "" || name == "." || name == "/" {
			return 0, nil, errorf(http.StatusUnprocessableEntity, "missing_field", "the file part needs a file name")
		}
		// The same on a retry of the same command, so that the stored bytes are replaced, not
		// duplicated, and the share is recognised.
		fileID := meta(r, app.Actor{Kind: "upload"}).NewID("file")
		res, err := share(app.Upload{RequestID: requestID, FileID: fileID, Name: name, Content: part})
		return commandAnswer(http.StatusCreated, fileID, res, err)
	}
}

func (a *API) download(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	fileID, err := pathID(r, "fileID")
	if err != nil {
		return 0, nil, err
	}
	f, err := a.cfg.App.OpenFile(r.Context(), viewer, requestID, fileID)
	if err != nil {
		return 0, nil, err
	}
	defer f.Content.Close()
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Digest", "sha-256="+f.SHA256)
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f.Content)
	return 0, nil, errReplayed
}

func (a *API) technicianUpload(w http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error) {
	return a.upload(w, r, requestID, func(up app.Upload) (app.Result, error) {
		return a.cfg.App.ShareTechnicianFile(r.Context(), meta(r, technicianActor(tech)), up)
	})
}

func (a *API) technicianDownload(w http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error) {
	return a.download(w, r, app.Viewer{TechnicianID: tech}, requestID)
}
