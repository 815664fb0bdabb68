package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// TestNilUUIDIsNotFound: the nil UUID names no request, file or technician: 404, never 200.
func TestNilUUIDIsNotFound(t *testing.T) {
	_, w := newWorld(t)
	for _, path := range []string{
		reqPath(uuid.Nil),
		reqPath(uuid.Nil, "history"),
		reqPath(uuid.Nil, "files", uuid.Nil.String()),
	} {
		w.techA.get(t, path).wantErr(t, http.StatusNotFound, "not_found")
	}
}
