package httpapi_test

import (
	"bytes"
	"go/ast"
	"go/token"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/httpapi"
)

// registeredRoutes reads the patterns that routes() registers ("GET /api/v1/me", …) from the
// package's source: every a.handle("…") and a.mux.HandleFunc("…") call.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	var patterns []string
	for _, f := range httpapi.ParseSource(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "handle" && sel.Sel.Name != "HandleFunc") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			p, err := strconv.Unquote(lit.Value)
			if err == nil && strings.Contains(p, " /") {
				patterns = append(patterns, p)
			}
			return true
		})
	}
	sort.Strings(patterns)
	if len(patterns) < 30 {
		t.Fatalf("found only %d routes in the package's source: %v", len(patterns), patterns)
	}
	return patterns
}

// documentedRoutes lists the document's operations in the same form.
func documentedRoutes(t *testing.T) []string {
	doc, _ := loadSpec(t)
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(ops)
	return ops
}

// TestOpenAPIDocumentsEveryRoute compares the routes registered in routes() with the
// document's operations, both ways.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	t.Parallel()
	registered := registeredRoutes(t)
	documented := documentedRoutes(t)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is not in openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.yaml documents %q, which the server does not register", d)
		}
	}
	doc, _ := loadSpec(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Summary == "" || op.Description == "" || op.OperationID == "" {
				t.Errorf("%s %s needs an operationId, a summary and a description", method, path)
			}
		}
	}
}

// TestOpenAPIServed checks that the server serves the very document the tests validate with,
// and that every registered route answers (with anything but the mux's "no such route").
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.anonymous().get(t, "/api/v1/openapi.yaml").want(t, http.StatusOK)
	if !bytes.Equal(res.Body, httpapi.OpenAPI) {
		t.Error("GET /api/v1/openapi.yaml does not serve the embedded document")
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/yaml") {
		t.Errorf("Content-Type %q", ct)
	}
	disk, err := os.ReadFile("openapi.yaml")
	if err != nil || !bytes.Equal(disk, httpapi.OpenAPI) {
		t.Errorf("embedded document differs from openapi.yaml on disk (%v)", err)
	}
	e.anonymous().get(t, "/healthz").want(t, http.StatusOK)

	id := uuid.NewString()
	for _, route := range registeredRoutes(t) {
		method, path, _ := strings.Cut(route, " ")
		for _, p := range []string{"{portalID}", "{requestID}", "{fileID}", "{companyID}", "{technicianID}", "{auditorID}"} {
			path = strings.ReplaceAll(path, p, id)
		}
		res := e.anonymous().raw(t, method, path, nil)
		if res.Status == http.StatusNotFound || res.Status == http.StatusMethodNotAllowed {
			if res.Status == http.StatusMethodNotAllowed || strings.Contains(string(res.Body), "no such route") {
				t.Errorf("%s does not answer: %s", route, res)
			}
		}
	}
}

// TestHarnessRejectsMismatches proves that the response check is not a no-op: responses that
// break the document are refused.
func TestHarnessRejectsMismatches(t *testing.T) {
	t.Parallel()
	loadSpec(t)
	hdr := func(ct string) http.Header {
		h := http.Header{}
		h.Set("Content-Type", ct)
		h.Set("Content-Security-Policy", "default-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		return h
	}
	req := func(method, path string) *http.Request {
		r, _ := http.NewRequest(method, "http://x"+path, nil)
		return r
	}
	id := uuid.NewString()
	good := []struct {
		req *http.Request
		res *response
	}{
		{req("GET", "/healthz"), &response{200, hdr("application/json"), []byte(`{"status":"ok"}`)}},
		{req("GET", "/nope"), &response{404, hdr("application/json"), []byte(`{"error":{"code":"not_found","message":"no such route"}}`)}},
		{req("POST", "/api/v1/requests/"+id+"/assign"), &response{409, hdr("application/json"),
			[]byte(`{"error":{"code":"already_assigned","message":"m","assignee":{"id":"` + id + `","name":"Ann"}}}`)}},
	}
	for _, c := range good {
		if err := checkResponse(c.req, c.res); err != nil {
			t.Errorf("%s %s %s: %v", c.req.Method, c.req.URL.Path, c.res, err)
		}
	}
	bad := []struct {
		req *http.Request
		res *response
	}{
		{req("GET", "/healthz"), &response{200, hdr("application/json"), []byte(`{"status":"fine"}`)}},
		{req("GET", "/healthz"), &response{418, hdr("application/json"), []byte(`{"error":{"code":"x","message":"y"}}`)}},
		{req("GET", "/healthz"), &response{200, http.Header{"Content-Type": {"application/json"}}, []byte(`{"status":"ok"}`)}},
		{req("GET", "/nope"), &response{404, hdr("text/plain"), []byte(`404 page not found`)}},
		{req("GET", "/nope"), &response{200, hdr("application/json"), []byte(`{}`)}},
		{req("POST", "/api/v1/requests/"+id+"/assign"), &response{200, hdr("application/json"), []byte(`{"id":"` + id + `","version":1,"position":"1-2","written":true,"extra":1}`)}},
		{req("POST", "/api/v1/requests/"+id+"/assign"), &response{200, hdr("application/json"), []byte(`{"id":"not-a-uuid","version":1,"position":"1-2","written":true}`)}},
		{req("POST", "/api/v1/requests/"+id+"/assign"), &response{409, hdr("application/json"), []byte(`{"error":{"code":"already_assigned","message":"m","assignee":null}}`)}},
		{req("POST", "/api/v1/requests/"+id+"/assign"), &response{409, hdr("application/json"), []byte(`{"code":"conflict","message":"m"}`)}},
		{req("GET", "/api/v1/requests/"+id+"/files/"+id), &response{200, hdr("image/png"), []byte("png")}},   // no Content-Disposition
		{req("GET", "/api/v1/requests/"+id+"/files"), &response{200, hdr("application/json"), []byte(`{}`)}}, // no such operation
	}
	for _, c := range bad {
		if err := checkResponse(c.req, c.res); err == nil {
			t.Errorf("%s %s %s passed the check", c.req.Method, c.req.URL.Path, c.res)
		}
	}
}

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
		for _, p := range []string{"{portalID}", "{requestID}", "{fileID}", "{companyID}", "{technicianID}", "{auditorID}"} {
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
