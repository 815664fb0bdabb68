package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
)

// technicianRoutes lists every technician route on one request, with a body that would be
// valid if the caller could see the request.
func technicianRoutes(id, fileID, other uuid.UUID) []struct {
	method, path string
	body         any
	upload       bool
} {
	return []struct {
		method, path string
		body         any
		upload       bool
	}{
		{"GET", reqPath(id), nil, false},
		{"GET", reqPath(id, "history"), nil, false},
		{"GET", reqPath(id, "files", fileID.String()), nil, false},
		{"POST", reqPath(id, "assign"), nil, false},
		{"POST", reqPath(id, "unassign"), nil, false},
		{"POST", reqPath(id, "transfer"), map[string]any{"technician_id": other.String()}, false},
		{"POST", reqPath(id, "transfer"), map[string]any{"technician_id": uuid.NewString()}, false},
		{"POST", reqPath(id, "join"), nil, false},
		{"POST", reqPath(id, "messages"), map[string]any{"body": "hi"}, false},
		{"POST", reqPath(id, "notes"), map[string]any{"body": "note"}, false},
		{"POST", reqPath(id, "files"), nil, true},
		{"POST", reqPath(id, "screen-sharing"), nil, false},
		{"POST", reqPath(id, "mobile-profiles"), map[string]any{"profile": "wifi"}, false},
		{"POST", reqPath(id, "end-chat"), nil, false},
		{"POST", reqPath(id, "close"), nil, false},
	}
}

// TestOtherCompaniesRequestsDoNotExist is R2: a technician without access to a request's
// company gets 404 — never 403 — on every route of that request, exactly as for an unknown
// request, and nothing is written.
func TestOtherCompaniesRequestsDoNotExist(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, customer := w.inChat(t, uaWindows)
	var up commandResult
	customer.upload(t, custPath(id, "files"), "log.txt", []byte("error 42\n")).want(t, http.StatusCreated).decode(t, &up)
	// techB serves company B only; a third technician of company A exists to transfer to.
	other := e.technician(t, "Carol Tech", w.companyA)

	before := e.tail(t)
	unknown := uuid.New()
	for _, route := range technicianRoutes(id, up.ID, other.id) {
		var res, ref *response
		if route.upload {
			res = w.techB.upload(t, route.path, "x.png", pngBytes(t))
			ref = w.techB.upload(t, reqPath(unknown, "files"), "x.png", pngBytes(t))
		} else {
			res = w.techB.json(t, route.method, route.path, route.body)
			ref = w.techB.json(t, route.method, replaceID(route.path, id, unknown), route.body)
		}
		er := res.wantErr(t, http.StatusNotFound, "not_found")
		if refErr := ref.wantErr(t, http.StatusNotFound, "not_found"); refErr.Message != er.Message || refErr.Code != er.Code {
			t.Errorf("%s %s: another company's request (%+v) differs from an unknown one (%+v)", route.method, route.path, er, refErr)
		}
	}
	e.unchanged(t, before, "another company's technician")
	if p := w.techB.list(t, "view=all"); p.has(id) {
		t.Error("another company's request is listed")
	}

	// Revoking access makes a request disappear in the same way (once the technician, whose
	// sessions the revocation ended, logs in again).
	e.admin().raw(t, http.MethodDelete, "/api/v1/admin/technicians/"+other.id.String()+"/access/"+w.companyA.String(), nil).want(t, http.StatusOK)
	e.relogin(t, other).get(t, reqPath(id)).wantErr(t, http.StatusNotFound, "not_found")
}

func replaceID(path string, from, to uuid.UUID) string {
	out := []byte(path)
	f, tt := from.String(), to.String()
	for i := 0; i+len(f) <= len(out); i++ {
		if string(out[i:i+len(f)]) == f {
			copy(out[i:], tt)
		}
	}
	return string(out)
}

// TestNewRequestsOnlyWhileAvailable is R2's second half: New requests are listed only while
// the technician is Available; their own active requests always are.
func TestNewRequestsOnlyWhileAvailable(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	mine, _ := w.inChat(t, uaMac)
	fresh, _ := e.submit(t, w.portalA, uaWindows)

	p := w.techA.list(t, "view=all")
	if !p.has(mine) || !p.has(fresh) {
		t.Fatalf("Available: %+v", p)
	}
	for _, status := range []string{"busy", "away", "offline"} {
		w.techA.setAvailability(t, status)
		for _, view := range []string{"view=all", "view=new", "", "sort=status&order=desc"} {
			if p := w.techA.list(t, view); p.has(fresh) {
				t.Errorf("%s: a New request is listed (%s)", status, view)
			}
		}
		if p := w.techA.list(t, "view=active"); !p.has(mine) {
			t.Errorf("%s: my active request is not listed", status)
		}
		if p := w.techA.list(t, "mine=true"); !p.has(mine) || p.Total != 1 {
			t.Errorf("%s: My Support Requests %+v", status, p)
		}
		// Not listed is not hidden: the details still open, but only an Available technician
		// may take it.
		w.techA.get(t, reqPath(fresh)).want(t, http.StatusOK)
		w.techA.post(t, reqPath(fresh, "assign"), nil).wantErr(t, http.StatusConflict, "conflict")
	}
	w.techA.setAvailability(t, "available")
	if p := w.techA.list(t, "view=new"); !p.has(fresh) || p.has(mine) {
		t.Errorf("Available again, view new: %+v", p)
	}
}

// TestCustomerTokenOpensOneRequest: a customer token opens its own request only; every
// customer route of another request is 404, like an unknown request.
func TestCustomerTokenOpensOneRequest(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	idA, customerA := w.inChat(t, uaWindows)
	idB, customerB := w.inChat(t, uaWindows)
	var up commandResult
	customerB.upload(t, custPath(idB, "files"), "b.txt", []byte("b\n")).want(t, http.StatusCreated).decode(t, &up)
	w.techA.post(t, reqPath(idB, "screen-sharing"), nil).want(t, http.StatusOK)

	before := e.tail(t)
	for _, target := range []uuid.UUID{idB, w.requestB, uuid.New()} {
		routes := []struct {
			method, path string
			body         any
		}{
			{"GET", custPath(target), nil},
			{"GET", custPath(target, "files", up.ID.String()), nil},
			{"POST", custPath(target, "messages"), map[string]any{"body": "hi"}},
			{"POST", custPath(target, "screen-sharing/accept"), nil},
			{"POST", custPath(target, "screen-sharing/decline"), nil},
		}
		for _, r := range routes {
			customerA.json(t, r.method, r.path, r.body).wantErr(t, http.StatusNotFound, "not_found")
		}
		customerA.upload(t, custPath(target, "files"), "a.png", pngBytes(t)).wantErr(t, http.StatusNotFound, "not_found")
	}
	e.unchanged(t, before, "a customer on another request")
	// A customer token opens no technician route.
	customerA.get(t, reqPath(idA)).wantErr(t, http.StatusUnauthorized, "unauthorized")
	customerA.get(t, "/api/v1/admin/companies").wantErr(t, http.StatusUnauthorized, "unauthorized")
	// And a technician's token opens no customer route.
	w.techA.get(t, custPath(idA)).wantErr(t, http.StatusUnauthorized, "unauthorized")
	customerA.get(t, custPath(idA)).want(t, http.StatusOK)
}

// TestOtherCompaniesRequestsDoNotExistForAuditors is R2 for auditors: an auditor of company B
// reads A's request on no route — every reading route answers 404 exactly as for an unknown
// request, every other 403 as it does to any auditor — and nothing is written. Taking the
// company back from an auditor of A makes the request disappear at their next read.
func TestOtherCompaniesRequestsDoNotExistForAuditors(t *testing.T) {
	t.Parallel()
	e, w := newWorld(t)
	id, customer := w.inChat(t, uaWindows)
	var up commandResult
	customer.upload(t, custPath(id, "files"), "log.txt", []byte("error 42\n")).want(t, http.StatusCreated).decode(t, &up)
	e.registerAuditor(t, "Bea Audit", "bea@example.com", w.companyB)
	bea, _ := e.loginAuditor(t, "bea@example.com")

	before := e.tail(t)
	unknown := uuid.New()
	for _, route := range technicianRoutes(id, up.ID, w.techA.id) {
		var res, ref *response
		if route.upload {
			res, ref = bea.upload(t, route.path, "x.png", pngBytes(t)), bea.upload(t, reqPath(unknown, "files"), "x.png", pngBytes(t))
		} else {
			res, ref = bea.json(t, route.method, route.path, route.body), bea.json(t, route.method, replaceID(route.path, id, unknown), route.body)
		}
		status, code := http.StatusForbidden, "forbidden"
		if route.method == http.MethodGet {
			status, code = http.StatusNotFound, "not_found"
		}
		er := res.wantErr(t, status, code)
		if refErr := ref.wantErr(t, status, code); refErr.Message != er.Message {
			t.Errorf("%s %s: another company's request (%+v) differs from an unknown one (%+v)", route.method, route.path, er, refErr)
		}
	}
	e.unchanged(t, before, "another company's auditor")
	if bea.list(t, "view=all").has(id) {
		t.Error("another company's request is listed to an auditor")
	}

	ann := e.registerAuditor(t, "Ann Audit", "ann@example.com", w.companyA)
	reader, _ := e.loginAuditor(t, "ann@example.com")
	reader.get(t, reqPath(id)).want(t, http.StatusOK)
	e.admin().raw(t, http.MethodDelete, "/api/v1/admin/auditors/"+ann.String()+"/access/"+w.companyA.String(), nil).want(t, http.StatusOK)
	reader.get(t, reqPath(id)).wantErr(t, http.StatusNotFound, "not_found")
	reader.get(t, reqPath(id, "history")).wantErr(t, http.StatusNotFound, "not_found")
}
