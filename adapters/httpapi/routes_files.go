package httpapi

import (
	"errors"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

// upload reads one multipart part named "file" within the size limit and shares it.
func (a *API) upload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID, share func(app.Upload) (app.Result, error)) (int, any, error) {
	reader, ok := httpserver.UploadReader(w, r, a.cfg.App.MaxFileSize())
	if !ok {
		return 0, nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", `send the file as multipart/form-data in a part named "file"`)
	}
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
		name, ok := httpserver.UploadName(part.FileName())
		if !ok {
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
	f, err := a.queries.OpenFile(r.Context(), viewer, requestID, fileID)
	if err != nil {
		return 0, nil, err
	}
	defer f.Content.Close()
	w.Header().Set("Digest", "sha-256="+f.SHA256)
	httpserver.SendFile(w, f)
	return 0, nil, errReplayed
}

func (a *API) technicianUpload(w http.ResponseWriter, r *http.Request, tech, requestID uuid.UUID) (int, any, error) {
	return a.upload(w, r, requestID, func(up app.Upload) (app.Result, error) {
		return a.cfg.App.ShareTechnicianFile(r.Context(), meta(r, technicianActor(tech)), up)
	})
}
