package httpserver

import (
	"cmp"
	"io"
	"mime"
	"mime/multipart"
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

// UploadReader reads r's multipart/form-data body, capped at a file of maxFile bytes with room
// for the multipart envelope around it; ok is false, and the body left as it is, when r's body
// is not multipart/form-data.
func UploadReader(w http.ResponseWriter, r *http.Request, maxFile int64) (reader *multipart.Reader, ok bool) {
	boundary, ok := MultipartBoundary(r)
	if !ok {
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFile+multipartEnvelope)
	return multipart.NewReader(r.Body, boundary), true
}

// multipartEnvelope is what an upload's multipart envelope (the boundaries, the part's headers
// and any small field beside the file) may add to the file itself.
const multipartEnvelope = 64 << 10

// UploadName is the name to keep of an uploaded file: the last element of the name the client
// sent, which some browsers send as a Windows path. ok is false when no name is left.
func UploadName(sent string) (name string, ok bool) {
	name = path.Base(strings.ReplaceAll(sent, `\`, "/"))
	if name == "." || name == "/" {
		return "", false
	}
	return name, true
}
