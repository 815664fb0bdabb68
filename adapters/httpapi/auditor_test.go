package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
)

// auditorProfile is what /api/v1/me and the admin routes answer of an auditor.
type auditorProfile struct {
	ID           uuid.UUID   `json:"id"`
	Role         string      `json:"role"`
	Name         string      `json:"name"`
	Email        string      `json:"email"`
	Companies    []uuid.UUID `json:"companies"`
	AllCompanies bool        `json:"all_companies"`
}

// auditorLogin is a login's answer for an auditor.
type auditorLogin struct {
	Token      string          `json:"token"`
	CSRFToken  string          `json:"csrf_token"`
	Role       string          `json:"role"`
	Auditor    *auditorProfile `json:"auditor"`
	Technician *struct{}       `json:"technician"`
}

// registerAuditor registers an auditor through the admin route and grants them the companies
// (uuid.Nil grants every company).
func (e *env) registerAuditor(t testing.TB, name, email string, companies ...uuid.UUID) uuid.UUID {
	t.Helper()
	id := e.admin().created(t, "/api/v1/admin/auditors", map[string]any{"name": name, "email": email, "password": password})
	for _, c := range companies {
		body := map[string]any{"company_id": c.String()}
		if c == uuid.Nil {
			body = map[string]any{"all_companies": true}
		}
		e.admin().post(t, "/api/v1/admin/auditors/"+id.String()+"/access", body).want(t, http.StatusOK)
	}
	return id
}

// loginAuditor logs an auditor in and returns a bearer client and a cookie client (with the
// session's CSRF token) of two sessions of theirs.
func (e *env) loginAuditor(t testing.TB, email string) (bearer, cookie *client) {
	t.Helper()
	var sessions []auditorLogin
	for range 2 {
		var lr auditorLogin
		e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": email, "password": password}).want(t, http.StatusOK).decode(t, &lr)
		if lr.Role != "auditor" || lr.Auditor == nil || lr.Technician != nil || lr.Auditor.Email != email {
			t.Fatalf("an auditor's login answered %+v", lr)
		}
		sessions = append(sessions, lr)
	}
	id := sessions[0].Auditor.ID
	return &client{e: e, bearer: sessions[0].Token, id: id}, &client{e: e, cookie: sessions[1].Token, csrf: sessions[1].CSRFToken, id: id}
}

// TestAuditorsChangeNothing loads the document the server serves, enumerates every one of its
// operations, and sends each as an auditor — with their bearer token, their cookie and its
// CSRF token, and their cookie without it — on real IDs: every operation that changes state
// answers 403 forbidden and writes nothing; none answers 5xx (send fails on any). Logging in
// and out are the exceptions: they change no state of the product, and an auditor must be able
// to end their own session.
func TestAuditorsChangeNothing(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, customer := w.inChat(t, uaWindows)
	var up commandResult
	customer.upload(t, custPath(id, "files"), "log.txt", []byte("error 42\n")).want(t, http.StatusCreated).decode(t, &up)
	auditorID := e.registerAuditor(t, "Ann Audit", "ann@example.com", w.companyA)
	bearer, cookie := e.loginAuditor(t, "ann@example.com")
	noCSRF := &client{e: e, cookie: cookie.cookie}

	served := e.anonymous().get(t, "/api/v1/openapi.yaml").want(t, http.StatusOK)
	doc, err := openapi3.NewLoader().LoadFromData(served.Body)
	if err != nil {
		t.Fatalf("the served document does not load: %v", err)
	}
	values := map[string]string{"{portalID}": w.portalA.String(), "{requestID}": id.String(), "{fileID}": up.ID.String(),
		"{companyID}": w.companyA.String(), "{technicianID}": w.techA.id.String(), "{auditorID}": auditorID.String()}
	exempt := map[string]int{"POST /api/v1/auth/login": http.StatusUnprocessableEntity, "POST /api/v1/auth/logout": 0}

	before := e.tail(t)
	var checked []string
	paths := doc.Paths.Map()
	for _, path := range slices.Sorted(func(yield func(string) bool) {
		for p := range paths {
			if !yield(p) {
				return
			}
		}
	}) {
		for method, op := range paths[path].Operations() {
			method = strings.ToUpper(method)
			route := method + " " + path
			checked = append(checked, route)
			want, isExempt := exempt[route]
			if isExempt && want == 0 {
				continue // logging out is checked last: it ends the session
			}
			concrete := path
			for k, v := range values {
				concrete = strings.ReplaceAll(concrete, k, v)
			}
			upload := op.RequestBody != nil && op.RequestBody.Value.Content.Get("multipart/form-data") != nil
			for _, who := range []*client{bearer, cookie, noCSRF} {
				var res *response
				switch {
				case upload:
					res = who.upload(t, concrete, "x.png", pngBytes(t))
				case op.RequestBody != nil:
					res = who.json(t, method, concrete, map[string]any{})
				default:
					res = who.raw(t, method, concrete, nil)
				}
				switch {
				case isExempt:
					res.want(t, want)
				case method == http.MethodGet:
					// Reading is theirs where it is a technician's; send checked it is no 5xx.
				default:
					if er := res.wantErr(t, http.StatusForbidden, "forbidden"); !strings.Contains(er.Message, "auditors read and never write") {
						t.Errorf("%s: message %q", route, er.Message)
					}
				}
			}
		}
	}
	e.unchanged(t, before, "an auditor's commands")
	sort.Strings(checked)
	if registered := registeredRoutes(t); !slices.Equal(checked, registered) {
		t.Fatalf("the served document's operations %v\ndiffer from the registered routes %v", checked, registered)
	}
	// The request is as it was, and the auditor still reads it.
	if d := bearer.details(t, reqPath(id)); d.Status != "active" || d.Chat != "joined" || len(d.Actions) != 0 {
		t.Fatalf("after the auditor's commands: %+v", d)
	}
	bearer.post(t, "/api/v1/auth/logout", nil).want(t, http.StatusNoContent)
	bearer.get(t, "/api/v1/me").wantErr(t, http.StatusUnauthorized, "unauthorized")
	cookie.get(t, "/api/v1/me").want(t, http.StatusOK) // another session of theirs
}

// accessPage is a page of the access log as the route answers it.
type accessPage struct {
	Entries []struct {
		Seq       int64             `json:"seq"`
		AuditorID uuid.UUID         `json:"auditor_id"`
		Kind      string            `json:"kind"`
		RequestID uuid.UUID         `json:"request_id"`
		CompanyID uuid.UUID         `json:"company_id"`
		FileID    uuid.UUID         `json:"file_id"`
		Params    map[string]string `json:"params"`
		ClientIP  string            `json:"client_ip"`
	} `json:"entries"`
	NextCursor string `json:"next_cursor"`
}

// TestAuditorReadsOverTheAPI: an auditor of company A reads every view (Completed and New
// included, whoever is available), a technician's queue, the details with the private note and
// no action, the file and the history of A's requests, and nothing of B's (404, as R2); every
// read lands in the access log, which holds no request content.
func TestAuditorReadsOverTheAPI(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	closed, customer := w.inChat(t, uaWindows)
	var up commandResult
	customer.upload(t, custPath(closed, "files"), "log.txt", []byte("error 42\n")).want(t, http.StatusCreated).decode(t, &up)
	w.techA.post(t, reqPath(closed, "notes"), map[string]any{"body": "the private note"}).want(t, http.StatusCreated)
	w.techA.post(t, reqPath(closed, "close"), nil).want(t, http.StatusOK)
	fresh, _ := e.submit(t, w.portalA, uaMac)
	w.techA.setAvailability(t, "away") // nobody of A is available: New is listed to auditors all the same
	e.registerAuditor(t, "Ann Audit", "ann@example.com", w.companyA)
	ann, _ := e.loginAuditor(t, "ann@example.com")

	var me auditorProfile
	ann.get(t, "/api/v1/me").want(t, http.StatusOK).decode(t, &me)
	if me.Role != "auditor" || me.AllCompanies || !slices.Equal(me.Companies, []uuid.UUID{w.companyA}) {
		t.Fatalf("/me = %+v", me)
	}
	for _, tt := range []struct {
		query string
		want  []uuid.UUID
	}{
		{"view=all", []uuid.UUID{closed, fresh}},
		{"view=completed", []uuid.UUID{closed}},
		{"view=new", []uuid.UUID{fresh}},
		{"view=active", nil},
		{"view=all&sort=customer&order=desc&q=printer", []uuid.UUID{closed, fresh}},
		{"company=" + w.companyB.String(), nil},
		{"assignee=" + w.techA.id.String() + "&view=completed", nil}, // a queue holds open requests only
	} {
		p := ann.list(t, tt.query)
		var got []uuid.UUID
		for _, r := range p.Requests {
			got = append(got, r.ID)
		}
		if len(got) != len(tt.want) || !slices.ContainsFunc(tt.want, p.has) && len(tt.want) > 0 || slices.ContainsFunc(tt.want, func(id uuid.UUID) bool { return !p.has(id) }) {
			t.Errorf("?%s listed %v, want %v", tt.query, got, tt.want)
		}
	}
	ann.get(t, "/api/v1/requests?mine=true").wantErr(t, http.StatusUnprocessableEntity, "invalid")

	d := ann.details(t, reqPath(closed))
	notes := 0
	for _, en := range d.Entries {
		if en.Kind == "note" && en.Body == "the private note" {
			notes++
		}
	}
	if notes != 1 || len(d.Actions) != 0 || d.Status != "completed" {
		t.Fatalf("details: %d notes, actions %v, status %s", notes, d.Actions, d.Status)
	}
	ann.download(t, reqPath(closed, "files", up.ID.String()), "log.txt", []byte("error 42\n"))
	if h := ann.history(t, closed); !h.Verified || countType(h, "request.closed.v1") != 1 {
		t.Fatalf("history: verified %v, %d events", h.Verified, len(h.Events))
	}

	// Company B's request does not exist for them.
	for _, path := range []string{reqPath(w.requestB), reqPath(w.requestB, "history"), reqPath(w.requestB, "files", up.ID.String())} {
		ann.get(t, path).wantErr(t, http.StatusNotFound, "not_found")
	}
	if ann.list(t, "view=all").has(w.requestB) {
		t.Fatal("company B's request is listed")
	}

	// The access log: every read above, by kind, and nothing of any request's content.
	var page accessPage
	ann.get(t, "/api/v1/audit/access-log?auditor="+ann.id.String()+"&limit=200").want(t, http.StatusOK).decode(t, &page)
	kinds := map[string]int{}
	for _, en := range page.Entries {
		kinds[en.Kind]++
		if en.AuditorID != ann.id || en.ClientIP == "" || en.RequestID == w.requestB {
			t.Errorf("entry %+v", en)
		}
	}
	if kinds["list"] != 8 || kinds["details"] != 1 || kinds["file"] != 1 || kinds["history"] != 1 || len(kinds) != 4 {
		t.Fatalf("recorded %v", kinds)
	}
	var rows string
	if err := e.pool.QueryRow(context.Background(), `SELECT string_agg(l::text, ' ') FROM auditor_access_log l`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// UUIDs are hexadecimal: one may well hold "ada", which is no content of the request's.
	rows = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`).ReplaceAllString(rows, "<uuid>")
	for _, content := range []string{"Ada", "ada@example.com", "printer", "private note", "log.txt", "error 42", "Acme"} {
		if strings.Contains(strings.ToLower(rows), strings.ToLower(content)) {
			t.Errorf("the access log holds %q: %s", content, rows)
		}
	}
	// Another auditor, of B, sees their own reads, A's list queries, and none of A's requests.
	e.registerAuditor(t, "Bea Audit", "bea@example.com", w.companyB)
	bea, _ := e.loginAuditor(t, "bea@example.com")
	bea.details(t, reqPath(w.requestB))
	page = accessPage{} // decoding into the old page would keep its entries' request IDs
	bea.get(t, "/api/v1/audit/access-log").want(t, http.StatusOK).decode(t, &page)
	for _, en := range page.Entries {
		if en.RequestID != uuid.Nil && en.RequestID != w.requestB {
			t.Errorf("B's auditor sees a read of %s", en.RequestID)
		}
	}
	if len(page.Entries) != 9 {
		t.Errorf("B's auditor sees %d entries, want A's 8 list queries and their own read", len(page.Entries))
	}
	// Only auditors read it, with known parameters.
	w.techA.get(t, "/api/v1/audit/access-log").wantErr(t, http.StatusForbidden, "forbidden")
	e.anonymous().get(t, "/api/v1/audit/access-log").wantErr(t, http.StatusUnauthorized, "unauthorized")
	for _, q := range []string{"bogus=1", "auditor=ann", "request=1", "since=yesterday", "until=2026-13-01T00:00:00Z", "limit=0", "limit=201",
		"limit=x", "cursor=abc", "since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "limit=1&limit=2"} {
		res := ann.get(t, "/api/v1/audit/access-log?"+q)
		if res.Status != http.StatusBadRequest && res.Status != http.StatusUnprocessableEntity {
			t.Errorf("?%s: %s, want 400 or 422", q, res)
		}
	}
	// Pages follow each other.
	var first, second accessPage
	ann.get(t, "/api/v1/audit/access-log?limit=3").want(t, http.StatusOK).decode(t, &first)
	ann.get(t, "/api/v1/audit/access-log?limit=3&cursor="+first.NextCursor).want(t, http.StatusOK).decode(t, &second)
	if len(first.Entries) != 3 || len(second.Entries) != 3 || second.Entries[0].Seq >= first.Entries[2].Seq {
		t.Fatalf("pages %+v then %+v", first, second)
	}
}

// TestAdminAuditorRoutes: the administrator registers auditors, lists and shows them, grants
// and takes back one company or every company, sets a password and unlocks; each refusal in
// the error shape, without a write.
func TestAdminAuditorRoutes(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	admin := e.admin()
	ann := e.registerAuditor(t, "Ann Audit", "ann@example.com")
	base := "/api/v1/admin/auditors/" + ann.String()
	show := func() auditorProfile {
		var p auditorProfile
		admin.get(t, base).want(t, http.StatusOK).decode(t, &p)
		return p
	}
	if p := show(); p.Name != "Ann Audit" || len(p.Companies) != 0 || p.AllCompanies || p.Role != "auditor" {
		t.Fatalf("a new auditor: %+v", p)
	}
	steps := []struct {
		name         string
		method, path string
		body         any
		status       int
		code         string
	}{
		{"grant A", "POST", base + "/access", map[string]any{"company_id": w.companyA.String()}, 200, ""},
		{"grant every company", "POST", base + "/access", map[string]any{"all_companies": true}, 200, ""},
		{"grant both at once", "POST", base + "/access", map[string]any{"company_id": w.companyB.String(), "all_companies": true}, 422, "invalid"},
		{"grant all_companies false", "POST", base + "/access", map[string]any{"all_companies": false}, 422, "invalid"},
		{"grant a company that is none", "POST", base + "/access", map[string]any{"company_id": w.portalA.String()}, 404, "not_found"},
		{"grant a company by name", "POST", base + "/access", map[string]any{"company_id": "acme"}, 422, "invalid"},
		{"grant an unknown auditor", "POST", "/api/v1/admin/auditors/" + uuid.NewString() + "/access", map[string]any{"all_companies": true}, 404, "not_found"},
		{"grant a technician", "POST", "/api/v1/admin/auditors/" + w.techA.id.String() + "/access", map[string]any{"all_companies": true}, 404, "not_found"},
		{"revoke B, never granted", "DELETE", base + "/access/" + w.companyB.String(), nil, 422, "invalid"},
		{"revoke every company", "DELETE", base + "/access/all", nil, 200, ""},
		{"revoke every company again", "DELETE", base + "/access/all", nil, 422, "invalid"},
		{"revoke by name", "DELETE", base + "/access/acme", nil, 404, "not_found"},
		{"register with a technician's address", "POST", "/api/v1/admin/auditors", map[string]any{"name": "X", "email": "ALICE.TECH" + strings.TrimPrefix(e.emailOf(t, w.techA), "alice.tech"), "password": "long enough"}, 409, "conflict"},
		{"register with a weak password", "POST", "/api/v1/admin/auditors", map[string]any{"name": "X", "email": "x@example.com", "password": "short"}, 422, "invalid"},
		{"register without a name", "POST", "/api/v1/admin/auditors", map[string]any{"name": " ", "email": "x@example.com", "password": "long enough"}, 422, "invalid"},
		{"register with an auditor's address", "POST", "/api/v1/admin/auditors", map[string]any{"name": "X", "email": "Ann@Example.com", "password": "long enough"}, 409, "conflict"},
		{"a technician's password route", "PUT", "/api/v1/admin/technicians/" + ann.String() + "/password", map[string]any{"password": "long enough"}, 404, "not_found"},
		{"an auditor's password route", "PUT", base + "/password", map[string]any{"password": "another password"}, 200, ""},
		{"unlock", "POST", base + "/unlock", nil, 200, ""},
		{"unlock an unknown auditor", "POST", "/api/v1/admin/auditors/" + uuid.NewString() + "/unlock", nil, 404, "not_found"},
		{"show an unknown auditor", "GET", "/api/v1/admin/auditors/" + w.techA.id.String(), nil, 404, "not_found"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := e.tail(t)
			res := admin.json(t, s.method, s.path, s.body)
			if s.status >= 400 {
				res.wantErr(t, s.status, s.code)
				e.unchanged(t, before, s.name)
				return
			}
			res.want(t, s.status)
		})
	}
	if p := show(); !slices.Equal(p.Companies, []uuid.UUID{w.companyA}) || p.AllCompanies {
		t.Fatalf("after the steps: %+v", p)
	}
	// The new password works, the old one no longer does.
	e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": "ann@example.com", "password": password}).wantErr(t, http.StatusUnauthorized, "unauthorized")
	e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": "ann@example.com", "password": "another password"}).want(t, http.StatusOK)
	e.registerAuditor(t, "Zed Audit", "zed@example.com", uuid.Nil)
	var list struct {
		Auditors []auditorProfile `json:"auditors"`
	}
	admin.get(t, "/api/v1/admin/auditors").want(t, http.StatusOK).decode(t, &list)
	if len(list.Auditors) != 2 || list.Auditors[0].Name != "Ann Audit" || !list.Auditors[1].AllCompanies {
		t.Fatalf("auditors: %+v", list.Auditors)
	}
	// A technician's login says so too.
	var lr struct {
		Role string `json:"role"`
	}
	e.anonymous().post(t, "/api/v1/auth/login", map[string]any{"email": e.emailOf(t, w.techA), "password": password}).want(t, http.StatusOK).decode(t, &lr)
	if lr.Role != "technician" {
		t.Fatalf("a technician's login answers role %q", lr.Role)
	}
	if !bytes.Contains(w.techA.get(t, "/api/v1/me").want(t, http.StatusOK).Body, []byte(`"role":"technician"`)) {
		t.Fatal("a technician's /me does not say their role")
	}
}

// emailOf is a technician's e-mail address, from the admin route.
func (e *env) emailOf(t testing.TB, c *client) string {
	t.Helper()
	var p struct {
		Email string `json:"email"`
	}
	e.admin().get(t, "/api/v1/admin/technicians/"+c.id.String()).want(t, http.StatusOK).decode(t, &p)
	return p.Email
}
