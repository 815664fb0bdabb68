package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpserver"
	"github.com/helpstream/helpstream/internal/app"
)

type templateBody struct {
	Template string `json:"template"`
}

func (b templateBody) missingField() error { return required(field("template", b.Template == "")) }

// mobileProfileFile sends the customer the file built from a company template (R12).
func (a *API) mobileProfileFile(w http.ResponseWriter, r *http.Request, tech uuid.UUID) (int, any, error) {
	return jsonCommand(a, w, r, technicianActor(tech), "requestID", http.StatusOK, func(ctx contextT, m app.Meta, requestID uuid.UUID, body templateBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.App.SendMobileProfileFile(ctx, m, requestID, body.Template)
		return requestID, res, err
	})
}

// profileDownload answers the file a request's mobile_profile_file_sent event sent, built
// from its template version for the request's customer, as an attachment.
func (a *API) profileDownload(w http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	eventID, err := pathID(r, "eventID")
	if err != nil {
		return 0, nil, err
	}
	f, err := a.queries.MobileProfileFile(r.Context(), viewer, requestID, eventID, a.cfg.App.ProfileTemplates())
	if err != nil {
		return 0, nil, err
	}
	sum := sha256.Sum256(f.Content)
	w.Header().Set("Digest", "sha-256="+hex.EncodeToString(sum[:]))
	httpserver.SendFile(w, app.SharedFile{Name: f.Name, ContentType: f.ContentType, Size: int64(len(f.Content)),
		Content: io.NopCloser(bytes.NewReader(f.Content))})
	return 0, nil, errReplayed
}

func (a *API) customerProfileDownload(w http.ResponseWriter, r *http.Request, requestID uuid.UUID) (int, any, error) {
	return a.profileDownload(w, r, app.Viewer{CustomerOf: requestID}, requestID)
}
