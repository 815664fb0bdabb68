package httpserver

import (
	"cmp"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/helpstream/helpstream/internal/app"
)

// SendFile answers with a shared file as an attachment, never rendered by the browser: no
// sniffing of its type, and a sandbox for a browser that opens it anyway. Headers set before
// it are sent too.
func SendFile(w http.ResponseWriter, f app.SharedFile) {
	h := w.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Content-Disposition", cmp.Or(mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}), "attachment"))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, f.Content)
}

// MultipartBoundary is the boundary of r's multipart/form-data body; ok is false when r's body
// is not one.
func MultipartBoundary(r *http.Request) (boundary string, ok bool) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", false
	}
	return params["boundary"], true
}

// UploadName is the name to keep of an uploaded file: the last element of the name the client
// sent, which some browsers send as a Windows path. ok is false when no name is left.
func UploadName(sent string) (name string, ok bool) {
	name = path.Base(strings.ReplaceAll(sent, `\`, "/"))
	if name == "." || name == "/" {
		return "", false
	}
	return name, true
}
