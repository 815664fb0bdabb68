package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// jsonField is one field of a route's JSON body.
type jsonField struct {
	name     string
	kind     string // string, bool or nullable (a string that may be null)
	required bool
}

// jsonRoute is a route that takes a JSON body.
type jsonRoute struct {
	name   string
	method string
	path   string // a real path the caller may use
	who    *client
	valid  map[string]any
	fields []jsonField
	// paths that must answer 404 with a valid body: unknown IDs, non-UUID IDs, other
	// companies' (or requests') IDs
	notFound []string
	// public routes take no credentials
	public bool
}

// plainRoute is a route without a body (or a GET with parameters in the path).
type plainRoute struct {
	name     string
	method   string
	who      *client
	notFound []string
	public   bool
	upload   bool
}

// badInputFixture is a world with requests in every state the routes need.
type badInputFixture struct {
	*world
	winID, iosID uuid.UUID
	customer     *client // the Windows request's customer
	other        *client // a technician of company A to transfer to
	fileID       uuid.UUID
	// passwordTarget is the technician whose password the set-password route changes: a
	// change ends their sessions, so it is nobody the other routes act as.
	passwordTarget uuid.UUID
	// auditor is granted and revoked companies; auditorPasswordTarget's password is changed.
	auditor, auditorPasswordTarget uuid.UUID
}

// newBadInputFixture starts a server and builds the fixture on it.
func newBadInputFixture(t *testing.T) (*env, *badInputFixture) {
	t.Helper()
	e, w := newWorld(t)
	f := &badInputFixture{world: w}
	f.winID, f.customer = w.inChat(t, uaWindows)
	f.iosID, _ = w.inChat(t, uaIOS)
	f.other = e.technician(t, "Carol Tech", w.companyA)
	f.passwordTarget = e.registerTechnician(t, "Pat Password", "pat.password@example.com")
	f.auditor = e.registerAuditor(t, "Ann Audit", "ann.audit@example.com", w.companyA)
	f.auditorPasswordTarget = e.registerAuditor(t, "Pam Password", "pam.password@example.com")
	var up commandResult
	f.customer.upload(t, custPath(f.winID, "files"), "a.txt", []byte("a\n")).want(t, http.StatusCreated).decode(t, &up)
	f.fileID = up.ID
	return e, f
}

func (f *badInputFixture) jsonRoutes() []jsonRoute {
	unknown := uuid.NewString()
	admin := f.e.admin()
	str := func(name string) jsonField { return jsonField{name, "string", true} }
	techPaths := func(sub string) []string {
		return []string{reqPath(uuid.New(), sub), "/api/v1/requests/not-a-uuid/" + sub, reqPath(f.requestB, sub)}
	}
	custPaths := func(sub string) []string {
		return []string{custPath(uuid.New(), sub), "/api/v1/customer/requests/not-a-uuid/" + sub, custPath(f.requestB, sub)}
	}
	return []jsonRoute{
		{
			name: "submit", method: "POST", path: "/api/v1/portals/" + f.portalA.String() + "/requests", who: f.e.anonymous().with(uaWindows), public: true,
			valid:    map[string]any{"customer_name": "Ada", "customer_email": "ada@example.com", "description": "help", "device_type": "windows", "os": "Windows", "os_version": "11", "browser": "Edge"},
			fields:   []jsonField{str("customer_name"), str("customer_email"), str("description"), {"device_type", "string", false}, {"os", "string", false}, {"os_version", "string", false}, {"browser", "string", false}},
			notFound: []string{"/api/v1/portals/" + unknown + "/requests", "/api/v1/portals/portal-1/requests", "/api/v1/portals/" + f.companyA.String() + "/requests"},
		},
		{
			name: "customer message", method: "POST", path: custPath(f.winID, "messages"), who: f.customer,
			valid: map[string]any{"body": "hello"}, fields: []jsonField{str("body")}, notFound: custPaths("messages"),
		},
		{
			name: "login", method: "POST", path: "/api/v1/auth/login", who: f.e.anonymous(), public: true,
			valid: map[string]any{"email": "nobody@example.com", "password": "whatever1"}, fields: []jsonField{str("email"), str("password")},
		},
		{
			name: "availability", method: "PUT", path: "/api/v1/me/availability", who: f.techA,
			valid: map[string]any{"availability": "busy"}, fields: []jsonField{str("availability")},
		},
		{
			name: "notifications", method: "PUT", path: "/api/v1/me/notifications", who: f.techA,
			valid:  map[string]any{"email": false, "in_console": true, "webhook_url": "https://example.com/hook"},
			fields: []jsonField{{"email", "bool", true}, {"in_console", "bool", true}, {"webhook_url", "nullable", false}},
		},
		{
			name: "transfer", method: "POST", path: reqPath(f.winID, "transfer"), who: f.techA,
			valid: map[string]any{"technician_id": f.other.id.String()}, fields: []jsonField{str("technician_id")}, notFound: techPaths("transfer"),
		},
		{
			name: "technician message", method: "POST", path: reqPath(f.winID, "messages"), who: f.techA,
			valid: map[string]any{"body": "hello"}, fields: []jsonField{str("body")}, notFound: techPaths("messages"),
		},
		{
			name: "note", method: "POST", path: reqPath(f.winID, "notes"), who: f.techA,
			valid: map[string]any{"body": "note"}, fields: []jsonField{str("body")}, notFound: techPaths("notes"),
		},
		{
			name: "mobile profile", method: "POST", path: reqPath(f.iosID, "mobile-profiles"), who: f.techA,
			valid: map[string]any{"profile": "Wi-Fi"}, fields: []jsonField{str("profile")}, notFound: techPaths("mobile-profiles"),
		},
		{
			name: "create company", method: "POST", path: "/api/v1/admin/companies", who: admin,
			valid: map[string]any{"name": "Initech"}, fields: []jsonField{str("name")},
		},
		{
			name: "create portal", method: "POST", path: "/api/v1/admin/companies/" + f.companyA.String() + "/portals", who: admin,
			valid: map[string]any{"name": "Second portal"}, fields: []jsonField{str("name")},
			notFound: []string{"/api/v1/admin/companies/" + unknown + "/portals", "/api/v1/admin/companies/acme/portals", "/api/v1/admin/companies/" + f.techA.id.String() + "/portals"},
		},
		{
			name: "register technician", method: "POST", path: "/api/v1/admin/technicians", who: admin,
			valid: map[string]any{"name": "Dan", "email": "dan@example.com", "password": "long enough"}, fields: []jsonField{str("name"), str("email"), str("password")},
		},
		{
			name: "set password", method: "PUT", path: "/api/v1/admin/technicians/" + f.passwordTarget.String() + "/password", who: admin,
			valid: map[string]any{"password": "another long one"}, fields: []jsonField{str("password")},
			notFound: []string{"/api/v1/admin/technicians/" + unknown + "/password", "/api/v1/admin/technicians/alice/password", "/api/v1/admin/technicians/" + f.companyA.String() + "/password"},
		},
		{
			name: "register auditor", method: "POST", path: "/api/v1/admin/auditors", who: admin,
			valid: map[string]any{"name": "Abe", "email": "abe@example.com", "password": "long enough"}, fields: []jsonField{str("name"), str("email"), str("password")},
		},
		{
			name: "set auditor password", method: "PUT", path: "/api/v1/admin/auditors/" + f.auditorPasswordTarget.String() + "/password", who: admin,
			valid: map[string]any{"password": "another long one"}, fields: []jsonField{str("password")},
			notFound: []string{"/api/v1/admin/auditors/" + unknown + "/password", "/api/v1/admin/auditors/ann/password", "/api/v1/admin/auditors/" + f.techA.id.String() + "/password"},
		},
		{
			name: "grant auditor access", method: "POST", path: "/api/v1/admin/auditors/" + f.auditor.String() + "/access", who: admin,
			valid: map[string]any{"company_id": f.companyB.String()}, fields: []jsonField{str("company_id"), {"all_companies", "bool", false}},
			notFound: []string{"/api/v1/admin/auditors/" + unknown + "/access", "/api/v1/admin/auditors/ann/access", "/api/v1/admin/auditors/" + f.companyA.String() + "/access"},
		},
		{
			name: "grant access", method: "POST", path: "/api/v1/admin/technicians/" + f.techB.id.String() + "/access", who: admin,
			valid: map[string]any{"company_id": f.companyB.String()}, fields: []jsonField{str("company_id")},
			notFound: []string{"/api/v1/admin/technicians/" + unknown + "/access", "/api/v1/admin/technicians/bob/access", "/api/v1/admin/technicians/" + f.companyA.String() + "/access"},
		},
	}
}

func (f *badInputFixture) plainRoutes() []plainRoute {
	unknown := uuid.New()
	tech := func(sub string) plainRoute {
		return plainRoute{name: sub, method: "POST", who: f.techA, notFound: []string{reqPath(unknown, sub), "/api/v1/requests/123/" + sub, reqPath(f.requestB, sub)}}
	}
	cust := func(sub string) plainRoute {
		return plainRoute{name: "customer " + sub, method: "POST", who: f.customer, notFound: []string{custPath(unknown, sub), "/api/v1/customer/requests/123/" + sub, custPath(f.requestB, sub)}}
	}
	admin := f.e.admin()
	routes := []plainRoute{
		tech("assign"), tech("unassign"), tech("join"), tech("screen-sharing"), tech("end-chat"), tech("close"),
		cust("screen-sharing/accept"), cust("screen-sharing/decline"),
		{name: "technician upload", method: "POST", who: f.techA, upload: true, notFound: []string{reqPath(unknown, "files"), "/api/v1/requests/123/files", reqPath(f.requestB, "files")}},
		{name: "customer upload", method: "POST", who: f.customer, upload: true, notFound: []string{custPath(unknown, "files"), "/api/v1/customer/requests/123/files", custPath(f.requestB, "files")}},
		{name: "details", method: "GET", who: f.techA, notFound: []string{reqPath(unknown), "/api/v1/requests/123", reqPath(f.requestB)}},
		{name: "history", method: "GET", who: f.techA, notFound: []string{reqPath(unknown, "history"), "/api/v1/requests/123/history", reqPath(f.requestB, "history")}},
		{name: "download", method: "GET", who: f.techA, notFound: []string{
			reqPath(f.winID, "files", unknown.String()), reqPath(f.winID, "files", "a.txt"), reqPath(unknown, "files", f.fileID.String()), reqPath(f.requestB, "files", f.fileID.String())}},
		{name: "customer details", method: "GET", who: f.customer, notFound: []string{custPath(unknown), "/api/v1/customer/requests/123", custPath(f.requestB)}},
		{name: "customer download", method: "GET", who: f.customer, notFound: []string{
			custPath(f.winID, "files", unknown.String()), custPath(f.winID, "files", "a.txt"), custPath(f.requestB, "files", f.fileID.String())}},
		{name: "portal", method: "GET", who: f.e.anonymous(), public: true, notFound: []string{"/api/v1/portals/" + unknown.String(), "/api/v1/portals/x", "/api/v1/portals/" + f.companyA.String()}},
		{name: "company", method: "GET", who: admin, notFound: []string{"/api/v1/admin/companies/" + unknown.String(), "/api/v1/admin/companies/acme", "/api/v1/admin/companies/" + f.portalA.String()}},
		{name: "technician", method: "GET", who: admin, notFound: []string{"/api/v1/admin/technicians/" + unknown.String(), "/api/v1/admin/technicians/alice", "/api/v1/admin/technicians/" + f.companyA.String()}},
		{name: "auditor", method: "GET", who: admin, notFound: []string{"/api/v1/admin/auditors/" + unknown.String(), "/api/v1/admin/auditors/ann", "/api/v1/admin/auditors/" + f.techA.id.String()}},
		{name: "unlock auditor", method: "POST", who: admin, notFound: []string{"/api/v1/admin/auditors/" + unknown.String() + "/unlock", "/api/v1/admin/auditors/ann/unlock", "/api/v1/admin/auditors/" + f.techA.id.String() + "/unlock"}},
		{name: "revoke auditor access", method: "DELETE", who: admin, notFound: []string{
			"/api/v1/admin/auditors/" + unknown.String() + "/access/" + f.companyA.String(),
			"/api/v1/admin/auditors/ann/access/" + f.companyA.String(),
			"/api/v1/admin/auditors/" + f.auditor.String() + "/access/acme",
			"/api/v1/admin/auditors/" + f.auditor.String() + "/access/" + unknown.String(),
			"/api/v1/admin/auditors/" + f.techA.id.String() + "/access/all",
		}},
		{name: "revoke access", method: "DELETE", who: admin, notFound: []string{
			"/api/v1/admin/technicians/" + unknown.String() + "/access/" + f.companyA.String(),
			"/api/v1/admin/technicians/alice/access/" + f.companyA.String(),
			"/api/v1/admin/technicians/" + f.techA.id.String() + "/access/acme",
			"/api/v1/admin/technicians/" + f.techA.id.String() + "/access/" + unknown.String(),
		}},
	}
	return routes
}

// refused sends a request that must be refused with status (and code, and a message naming
// mention, when given) and checks that nothing was written.
func refused(t *testing.T, e *env, send func() *response, status int, code, mention string) {
	t.Helper()
	before := e.tail(t)
	res := send()
	er := res.wantErr(t, status, code)
	if mention != "" && !strings.Contains(er.Message, mention) {
		t.Errorf("message %q does not name %q", er.Message, mention)
	}
	e.unchanged(t, before, "a refused request")
}

func with(m map[string]any, key string, value any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	if value == nil {
		delete(out, key)
	} else {
		out[key] = value
	}
	return out
}

type jsonNull struct{}

func (jsonNull) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

// TestBadInputJSONRoutes: every route with a JSON body refuses malformed JSON, wrong types,
// missing and unknown fields, unknown and foreign IDs, oversized bodies, other content types
// and missing credentials — each with a 4xx in the one error shape, and no write.
func TestBadInputJSONRoutes(t *testing.T) {
	t.Parallel()
	e, f := newBadInputFixture(t)
	for _, r := range f.jsonRoutes() {
		t.Run(r.name, func(t *testing.T) {
			c := r.who
			send := func(body []byte, opts ...opt) func() *response {
				return func() *response { return c.raw(t, r.method, r.path, body, opts...) }
			}
			sendJSON := func(v any, opts ...opt) func() *response {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				return send(b, opts...)
			}

			// Malformed JSON.
			for _, body := range []string{``, `{`, `{"`, `not json`, `{"a":1,}`, `{} {}`, `{}x`, `nul`, "\xff\xfe{}", strings.Repeat("[", 10000)} {
				refused(t, e, send([]byte(body)), http.StatusBadRequest, "malformed_json", "")
			}
			// Not an object.
			for _, body := range []string{`[]`, `"text"`, `42`, `true`, `[{"body":"x"}]`} {
				refused(t, e, send([]byte(body)), http.StatusBadRequest, "wrong_type", "")
			}
			// Wrong types, naming the field.
			for _, fl := range r.fields {
				wrong := []any{5, 1.5, []any{"x"}, map[string]any{"x": 1}}
				if fl.kind == "bool" {
					wrong = []any{"yes", 1, []any{true}}
				} else {
					wrong = append(wrong, true)
				}
				for _, v := range wrong {
					refused(t, e, sendJSON(with(r.valid, fl.name, v)), http.StatusBadRequest, "wrong_type", fl.name)
				}
			}
			// Missing required fields, naming the field.
			for _, fl := range r.fields {
				if !fl.required {
					continue
				}
				refused(t, e, sendJSON(with(r.valid, fl.name, nil)), http.StatusUnprocessableEntity, "missing_field", fl.name)
				refused(t, e, sendJSON(with(r.valid, fl.name, jsonNull{})), http.StatusUnprocessableEntity, "missing_field", fl.name)
				if fl.kind == "string" {
					refused(t, e, sendJSON(with(r.valid, fl.name, "")), http.StatusUnprocessableEntity, "missing_field", fl.name)
				}
			}
			refused(t, e, send([]byte(`{}`)), http.StatusUnprocessableEntity, "missing_field", "")
			// Unknown fields.
			for _, extra := range []string{"extra", "ID", "customer_token", "__proto__"} {
				refused(t, e, sendJSON(with(r.valid, extra, "x")), http.StatusBadRequest, "unknown_field", extra)
			}
			// Oversized bodies, with and without an Idempotency-Key.
			big := with(r.valid, r.fields[0].name, strings.Repeat("x", 70<<10))
			refused(t, e, sendJSON(big), http.StatusRequestEntityTooLarge, "too_large", "")
			if !r.public || r.name == "submit" {
				refused(t, e, sendJSON(big, idemKey("big")), http.StatusRequestEntityTooLarge, "too_large", "")
			}
			// Other content types.
			for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json-patch+json", "bogus"} {
				refused(t, e, sendJSON(r.valid, contentType(ct)), http.StatusUnsupportedMediaType, "unsupported_media_type", "")
			}
			// Unknown, malformed and foreign IDs in the path.
			for _, p := range r.notFound {
				b, _ := json.Marshal(r.valid)
				refused(t, e, func() *response { return c.raw(t, r.method, p, b) }, http.StatusNotFound, "", "")
			}
			// Credentials.
			if !r.public {
				refused(t, e, sendJSON(r.valid, noAuth()), http.StatusUnauthorized, "unauthorized", "")
				refused(t, e, sendJSON(r.valid, header("Authorization", "Bearer nope")), http.StatusUnauthorized, "unauthorized", "")
			}
		})
	}

	t.Run("invalid values", func(t *testing.T) {
		admin := e.admin()
		cases := []struct {
			who          *client
			method, path string
			body         map[string]any
			status       int
			code         string
		}{
			{f.techA, "PUT", "/api/v1/me/availability", map[string]any{"availability": "sleeping"}, 422, "invalid"},
			{f.techA, "PUT", "/api/v1/me/notifications", map[string]any{"email": true, "in_console": true, "webhook_url": "javascript:alert(1)"}, 422, "invalid"},
			{f.techA, "POST", reqPath(f.winID, "transfer"), map[string]any{"technician_id": "bob"}, 422, "invalid"},
			{f.techA, "POST", reqPath(f.winID, "transfer"), map[string]any{"technician_id": uuid.NewString()}, 422, "not_supported"},
			{f.techA, "POST", reqPath(f.winID, "transfer"), map[string]any{"technician_id": f.techB.id.String()}, 422, "not_supported"},
			{f.techA, "POST", reqPath(f.winID, "transfer"), map[string]any{"technician_id": f.techA.id.String()}, 422, "not_supported"},
			{f.techA, "POST", reqPath(f.winID, "messages"), map[string]any{"body": "   "}, 422, "invalid"},
			{f.techA, "POST", reqPath(f.winID, "messages"), map[string]any{"body": strings.Repeat("x", 10001)}, 422, "invalid"},
			{f.techA, "POST", reqPath(f.iosID, "mobile-profiles"), map[string]any{"profile": strings.Repeat("p", 201)}, 422, "invalid"},
			{f.customer, "POST", custPath(f.winID, "messages"), map[string]any{"body": "\t\n"}, 422, "invalid"},
			{f.e.anonymous(), "POST", "/api/v1/portals/" + f.portalA.String() + "/requests", map[string]any{"customer_name": "A", "customer_email": "not an address", "description": "x", "device_type": "mac"}, 422, "invalid"},
			{f.e.anonymous(), "POST", "/api/v1/portals/" + f.portalA.String() + "/requests", map[string]any{"customer_name": strings.Repeat("n", 201), "customer_email": "a@b.example", "description": "x", "device_type": "mac"}, 422, "invalid"},
			{f.e.anonymous(), "POST", "/api/v1/portals/" + f.portalA.String() + "/requests", map[string]any{"customer_name": "A", "customer_email": "a@b.example", "description": "x", "device_type": "mac", "browser": strings.Repeat("b", 201)}, 422, "invalid"},
			{f.e.anonymous(), "POST", "/api/v1/auth/login", map[string]any{"email": f.techA.name, "password": "wrong password"}, 401, "unauthorized"},
			{admin, "POST", "/api/v1/admin/technicians", map[string]any{"name": "Eve", "email": "eve@example.com", "password": "short"}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/technicians", map[string]any{"name": "Eve", "email": "not an address", "password": "long enough"}, 422, "invalid"},
			{admin, "PUT", "/api/v1/admin/technicians/" + f.techA.id.String() + "/password", map[string]any{"password": strings.Repeat("p", 73)}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/technicians/" + f.techA.id.String() + "/access", map[string]any{"company_id": "acme"}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/technicians/" + f.techA.id.String() + "/access", map[string]any{"company_id": uuid.NewString()}, 404, "not_found"},
			{admin, "POST", "/api/v1/admin/technicians/" + f.techA.id.String() + "/access", map[string]any{"company_id": f.portalA.String()}, 404, "not_found"},
			{admin, "POST", "/api/v1/admin/companies", map[string]any{"name": "   "}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors", map[string]any{"name": "Eve", "email": "not an address", "password": "long enough"}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors", map[string]any{"name": "Eve", "email": "eve@example.com", "password": "short"}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors/" + f.auditor.String() + "/access", map[string]any{"company_id": "acme"}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors/" + f.auditor.String() + "/access", map[string]any{"company_id": f.companyB.String(), "all_companies": true}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors/" + f.auditor.String() + "/access", map[string]any{"all_companies": false}, 422, "invalid"},
			{admin, "POST", "/api/v1/admin/auditors/" + f.auditor.String() + "/access", map[string]any{"company_id": uuid.NewString()}, 404, "not_found"},
			{admin, "DELETE", "/api/v1/admin/auditors/" + f.auditor.String() + "/access/" + f.companyB.String(), nil, 422, "invalid"},
			{admin, "PUT", "/api/v1/admin/auditors/" + f.auditorPasswordTarget.String() + "/password", map[string]any{"password": strings.Repeat("p", 73)}, 422, "invalid"},
		}
		for _, c := range cases {
			refused(t, e, func() *response { return c.who.json(t, c.method, c.path, c.body) }, c.status, c.code, "")
		}
		// An e-mail address that is taken, in any case.
		e.registerTechnician(t, "Dup", "dup@example.com")
		refused(t, e, func() *response {
			return admin.post(t, "/api/v1/admin/technicians", map[string]any{"name": "Dup Two", "email": "DUP@example.com", "password": "long enough"})
		}, http.StatusConflict, "conflict", "")
		refused(t, e, func() *response {
			return admin.post(t, "/api/v1/admin/auditors", map[string]any{"name": "Dup Three", "email": "Dup@Example.com", "password": "long enough"})
		}, http.StatusConflict, "conflict", "")
	})
}

// TestBadInputPlainRoutes: routes without a JSON body refuse unknown, malformed and foreign
// IDs with 404, missing credentials with 401, and an oversized body sent with an
// Idempotency-Key with 413 — with no write.
func TestBadInputPlainRoutes(t *testing.T) {
	t.Parallel()
	e, f := newBadInputFixture(t)
	for _, r := range f.plainRoutes() {
		t.Run(r.name, func(t *testing.T) {
			send := func(path string, opts ...opt) func() *response {
				return func() *response {
					if r.upload {
						return r.who.upload(t, path, "x.png", pngBytes(t), opts...)
					}
					return r.who.raw(t, r.method, path, nil, opts...)
				}
			}
			for _, p := range r.notFound {
				refused(t, e, send(p), http.StatusNotFound, "", "")
			}
			if !r.public {
				refused(t, e, send(r.notFound[0], noAuth()), http.StatusUnauthorized, "unauthorized", "")
				refused(t, e, send(r.notFound[0], header("Authorization", "Bearer nope")), http.StatusUnauthorized, "unauthorized", "")
			}
		})
	}

	t.Run("oversized bodies with an Idempotency-Key", func(t *testing.T) {
		big := []byte(`{"x":"` + strings.Repeat("x", 70<<10) + `"}`)
		for _, c := range []struct {
			who          *client
			method, path string
		}{
			{f.techA, "POST", reqPath(f.winID, "end-chat")},
			{f.customer, "POST", custPath(f.winID, "screen-sharing/decline")},
			{f.e.admin(), "DELETE", "/api/v1/admin/technicians/" + f.techA.id.String() + "/access/" + f.companyA.String()},
		} {
			refused(t, e, func() *response { return c.who.raw(t, c.method, c.path, big, idemKey("big")) }, http.StatusRequestEntityTooLarge, "too_large", "")
		}
	})

	t.Run("list parameters", func(t *testing.T) {
		for _, q := range []string{"bogus=1", "view=old", "view=NEW", "sort=price", "order=up", "limit=abc", "limit=-1", "limit=201",
			"limit=1.5", "offset=-3", "offset=x", "offset=5", "mine=yes", "view=all&view=new&x=1", "limit=99999999999999999999"} {
			res := f.techA.get(t, "/api/v1/requests?"+q)
			if res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
				t.Errorf("?%s: %s, want 400 or 422", q, res)
			}
		}
		for _, q := range []string{"limit=1&offset=0", "limit=200", "view=completed&sort=assignee&order=desc", "mine=false", "sort=last_activity"} {
			f.techA.get(t, "/api/v1/requests?"+q).want(t, http.StatusOK)
		}
		p := f.techA.list(t, "limit=1")
		if len(p.Requests) != 1 || p.NextCursor == "" || p.Total != 2 {
			t.Errorf("paging: %+v", p)
		}
	})

	t.Run("states", func(t *testing.T) {
		// Commands that do not fit the request's state are 409 and write nothing.
		fresh, customer := e.submit(t, f.portalA, uaWindows)
		for _, sub := range []string{"unassign", "join", "end-chat", "close", "screen-sharing"} {
			refused(t, e, func() *response { return f.techA.post(t, reqPath(fresh, sub), nil) }, http.StatusConflict, "conflict", "")
		}
		refused(t, e, func() *response { return f.techA.post(t, reqPath(fresh, "messages"), map[string]any{"body": "x"}) }, http.StatusConflict, "conflict", "")
		refused(t, e, func() *response { return customer.upload(t, custPath(fresh, "files"), "x.png", pngBytes(t)) }, http.StatusConflict, "conflict", "")
		refused(t, e, func() *response { return f.other.post(t, reqPath(f.winID, "join"), nil) }, http.StatusConflict, "conflict", "")
		refused(t, e, func() *response { return f.other.post(t, reqPath(f.winID, "assign"), nil) }, http.StatusConflict, "already_assigned", "")
		refused(t, e, func() *response { return f.techA.post(t, reqPath(f.winID, "join"), nil) }, http.StatusConflict, "conflict", "")
	})
}

// TestBadBytesEveryRoute: on every route, bytes no person's text holds — NUL, bytes that are
// not UTF-8, control characters — in any JSON string field, and odd values in the headers that
// become metadata, are refused with a 4xx in the error shape and write nothing: never a 5xx,
// never an event a read model cannot store, never a header altered after it was hashed.
func TestBadBytesEveryRoute(t *testing.T) {
	t.Parallel()
	e, f := newBadInputFixture(t)

	const marker = "MARKER-7f3a"
	poison := []struct {
		name string
		raw  string // as it appears inside the JSON string, bytes or escapes
	}{
		{"NUL escaped", `ab\u0000cd`},
		{"NUL raw", "ab\x00cd"},
		{"invalid UTF-8", "ab\xff\xfecd"},
		{"lone surrogate byte", "ab\xed\xa0\x80cd"},
		{"escape sequence", `ab\u001b[2Jcd`},
		{"C1 control", `ab\u0085cd`},
		{"lone high surrogate escape", `ab\ud800cd`},
		{"lone low surrogate escape", `\udc00abcd`},
		{"reversed surrogate pair", `ab\ude00\ud83dcd`},
	}
	for _, r := range f.jsonRoutes() {
		t.Run(r.name, func(t *testing.T) {
			for _, fl := range r.fields {
				if fl.kind == "bool" {
					continue
				}
				for _, p := range poison {
					body, err := json.Marshal(with(r.valid, fl.name, marker))
					if err != nil {
						t.Fatal(err)
					}
					body = bytes.Replace(body, []byte(marker), []byte(p.raw), 1)
					before := e.tail(t)
					res := r.who.raw(t, r.method, r.path, body)
					switch {
					case res.Status >= 500:
						t.Fatalf("%s in %s: %s", p.name, fl.name, res)
					case res.Status < 400 && fl.name == "password":
						// A password never enters an event; any bytes may be a password.
					case res.Status < 400:
						t.Errorf("%s in %s accepted: %s", p.name, fl.name, res)
					default:
						res.err(t) // the error shape
						e.unchanged(t, before, p.name+" in "+fl.name)
					}
				}
			}
			// Headers that become metadata, refused rather than altered.
			for _, h := range []struct{ name, value, code string }{
				{"Idempotency-Key", "key\xffone", "bad_idempotency_key"},
				{"Idempotency-Key", "clé", "bad_idempotency_key"},
				{"Idempotency-Key", strings.Repeat("k", 201), "bad_idempotency_key"},
				{"X-Correlation-ID", "corr\xc3(", "bad_correlation_id"},
				{"X-Correlation-ID", strings.Repeat("c", 101), "bad_correlation_id"},
			} {
				b, _ := json.Marshal(r.valid)
				refused(t, e, func() *response { return r.who.raw(t, r.method, r.path, b, header(h.name, h.value)) }, http.StatusBadRequest, h.code, h.name)
			}
			// Control characters in a header value are not HTTP: the server refuses them with
			// 400 before any route runs (Go's net/http, in plain text).
			for _, v := range []string{"key\x00one", "corr\x1bid", "a\x7fb"} {
				before := e.tail(t)
				if status := rawStatus(t, e, r.method+" "+r.path+" HTTP/1.1\r\nHost: x\r\nIdempotency-Key: "+v+"\r\nContent-Length: 2\r\n\r\n{}"); status != http.StatusBadRequest {
					t.Errorf("Idempotency-Key %q: %d, want 400", v, status)
				}
				e.unchanged(t, before, "a control character in a header")
			}
			b, _ := json.Marshal(r.valid)
			refused(t, e, func() *response {
				return r.who.raw(t, r.method, r.path, b, header("X-Padding", strings.Repeat("p", 20<<10)))
			}, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "")
		})
	}

	t.Run("escapes of whole characters are text", func(t *testing.T) {
		for _, body := range []string{`{"body":"smile \ud83d\ude00"}`, `{"body":"a literal \\ud800 is text"}`, `{"body":"\u00e9t\u00e9"}`} {
			f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte(body)).want(t, http.StatusCreated)
		}
	})
	t.Run("messages keep their line breaks, names refuse them", func(t *testing.T) {
		f.techA.post(t, reqPath(f.winID, "messages"), map[string]any{"body": "line one\nline two\ttabbed"}).want(t, http.StatusCreated)
		refused(t, e, func() *response {
			return e.anonymous().with(uaWindows).post(t, "/api/v1/portals/"+f.portalA.String()+"/requests",
				map[string]any{"customer_name": "Ada\nLovelace", "customer_email": "ada@example.com", "description": "x"})
		}, http.StatusUnprocessableEntity, "invalid", "control character")
	})
	t.Run("the message says what and where", func(t *testing.T) {
		res := f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte(`{"body":"hello\u0000world"}`))
		er := res.wantErr(t, http.StatusUnprocessableEntity, "invalid")
		if !strings.Contains(er.Message, "NUL") || !strings.Contains(er.Message, "character 6") {
			t.Errorf("message %q does not say what is wrong and where", er.Message)
		}
		res = f.customer.raw(t, http.MethodPost, custPath(f.winID, "messages"), []byte("{\"body\":\"caf\xe9\"}"))
		if er := res.wantErr(t, http.StatusBadRequest, "malformed_json"); !strings.Contains(er.Message, "UTF-8") {
			t.Errorf("message %q does not say UTF-8", er.Message)
		}
	})
	t.Run("a correlation ID is stored as sent and the chain verifies", func(t *testing.T) {
		f.techA.post(t, reqPath(f.winID, "notes"), map[string]any{"body": "traced"}, header("X-Correlation-ID", "trace-42 (retry 1)")).want(t, http.StatusCreated)
		var h struct {
			Verified bool `json:"verified"`
			Events   []struct {
				Metadata map[string]any `json:"metadata"`
			} `json:"events"`
		}
		f.techA.get(t, reqPath(f.winID, "history")).want(t, http.StatusOK).decode(t, &h)
		last := h.Events[len(h.Events)-1].Metadata
		if !h.Verified || last["correlation_id"] != "trace-42 (retry 1)" {
			t.Errorf("verified %v, correlation %v", h.Verified, last["correlation_id"])
		}
	})
}

// rawStatus sends request as bytes, which no client library would send, and returns the
// status the server answers.
func rawStatus(t *testing.T, e *env, request string) int {
	t.Helper()
	method, _, _ := strings.Cut(request, " ")
	res, err := sendRaw(strings.TrimPrefix(e.srv.URL, "http://"), []byte(request), method)
	if err != nil {
		t.Fatal(err)
	}
	return res.status
}
