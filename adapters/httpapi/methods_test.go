package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// TestWrongMethodAndUnknownRoute: a method a route does not take answers 405 (with Allow) and
// an unknown route 404, both in the one error shape.
func TestWrongMethodAndUnknownRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.anonymous()
	admin := e.admin()

	allowed := map[string][]string{} // path → methods
	for _, route := range registeredRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		allowed[path] = append(allowed[path], method)
	}
	id := uuid.NewString()
	before := e.tail(t)
	for path, methods := range allowed {
		concrete := path
		for _, p := range []string{"{portalID}", "{requestID}", "{fileID}", "{companyID}", "{technicianID}"} {
			concrete = strings.ReplaceAll(concrete, p, id)
		}
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if slices.Contains(methods, m) {
				continue
			}
			for _, c := range []*client{anon, admin} {
				res := c.raw(t, m, concrete, []byte(`{}`))
				er := res.wantErr(t, http.StatusMethodNotAllowed, "method_not_allowed")
				if !strings.Contains(er.Message, m) {
					t.Errorf("%s %s: message %q", m, path, er.Message)
				}
				allow := res.Header.Get("Allow")
				for _, want := range methods {
					if !strings.Contains(allow, want) {
						t.Errorf("%s %s: Allow %q lacks %s", m, path, allow, want)
					}
				}
			}
		}
	}
	for _, path := range []string{"/", "/api", "/api/v1", "/api/v1/", "/api/v2/requests", "/api/v1/nope", "/api/v1/requests/" + id + "/nope",
		"/api/v1/requests/" + id + "/files/" + id + "/more", "/api/v1/admin", "/api/v1/customer/requests", "/healthz/x", "/api/v1/openapi.json",
		"/api/v1/portals/" + id + "/requests/" + id, "/api/v1/%7e", "/api/v1/requests/" + id + "/assign/x"} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			res := admin.raw(t, m, path, nil)
			res.wantErr(t, http.StatusNotFound, "not_found")
		}
	}
	e.unchanged(t, before, "wrong methods and unknown routes")
}
