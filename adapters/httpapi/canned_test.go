package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/service/servicetest"
)

type cannedResponse struct {
	ID    uuid.UUID `json:"id"`
	Title string    `json:"title"`
	Body  string    `json:"body"`
	Text  string    `json:"text"`
}

// Canned responses through the API: an administrator adds, replaces, lists and removes a
// company's; a technician of the company gets them filled in for a request; a technician of
// another company gets 404, as for the request itself.
func TestCannedResponsesAPI(t *testing.T) {
	loadSpec(t)
	svc := servicetest.New(t, apiConfig)
	e := serve(t, svc)
	acme, globex := e.createCompany(t, "Acme"), e.createCompany(t, "Globex")
	portal := e.createPortal(t, acme, "Acme support")
	alice := e.technician(t, "Alice Tech", acme)
	bob := e.technician(t, "Bob Tech", globex)
	admin := e.admin()
	base := "/api/v1/admin/companies/" + acme.String() + "/canned-responses"

	var created struct {
		ID uuid.UUID `json:"id"`
	}
	admin.post(t, base, map[string]string{"title": "Greeting", "body": "Hello {customer_name}, about {request_id}: {technician_name} of {company} here. {other}"}).
		want(t, http.StatusCreated).decode(t, &created)
	admin.post(t, base, map[string]string{"title": "Reboot", "body": "Please restart."}).want(t, http.StatusCreated)
	admin.post(t, base, map[string]string{"title": "GREETING", "body": "again"}).wantErr(t, http.StatusConflict, "conflict")
	// Replacing with the same title and body writes nothing.
	var same struct {
		Written bool `json:"written"`
	}
	admin.json(t, http.MethodPut, base+"/"+created.ID.String(), map[string]string{"title": "Greeting", "body": "Hello {customer_name}, about {request_id}: {technician_name} of {company} here. {other}"}).
		want(t, http.StatusOK).decode(t, &same)
	if same.Written {
		t.Fatal("the same canned response again wrote an event")
	}
	var list []cannedResponse
	admin.get(t, base).want(t, http.StatusOK).decode(t, &list)
	if len(list) != 2 || list[0].Title != "Greeting" || list[1].Title != "Reboot" || !strings.Contains(list[0].Body, "{customer_name}") {
		t.Fatalf("list %+v", list)
	}

	id, _ := e.submit(t, portal, uaWindows)
	var filled []cannedResponse
	waitFor(t, "the read model has the canned responses", func() bool {
		filled = nil
		alice.get(t, "/api/v1/requests/"+id.String()+"/canned-responses").want(t, http.StatusOK).decode(t, &filled)
		return len(filled) == 2
	})
	want := "Hello Ada Customer, about " + id.String() + ": Alice Tech of Acme here. {other}"
	if filled[0].Title != "Greeting" || filled[0].Text != want {
		t.Fatalf("filled %q, want %q", filled[0].Text, want)
	}
	bob.get(t, "/api/v1/requests/"+id.String()+"/canned-responses").wantErr(t, http.StatusNotFound, "not_found")
	alice.get(t, "/api/v1/requests/"+uuid.NewString()+"/canned-responses").wantErr(t, http.StatusNotFound, "not_found")
	alice.get(t, "/api/v1/requests/not-a-uuid/canned-responses").wantErr(t, http.StatusNotFound, "not_found")
	e.anonymous().get(t, "/api/v1/requests/"+id.String()+"/canned-responses").wantErr(t, http.StatusUnauthorized, "unauthorized")
	alice.get(t, base).wantErr(t, http.StatusUnauthorized, "unauthorized")

	admin.json(t, http.MethodDelete, base+"/"+created.ID.String(), nil).want(t, http.StatusOK)
	admin.json(t, http.MethodDelete, base+"/"+created.ID.String(), nil).wantErr(t, http.StatusNotFound, "not_found")
	waitFor(t, "the read model drops the removed one", func() bool {
		filled = nil
		alice.get(t, "/api/v1/requests/"+id.String()+"/canned-responses").want(t, http.StatusOK).decode(t, &filled)
		return len(filled) == 1 && filled[0].Title == "Reboot"
	})
	admin.get(t, "/api/v1/admin/companies/"+uuid.NewString()+"/canned-responses").wantErr(t, http.StatusNotFound, "not_found")
}

// Bad canned responses are a clear 4xx in the one error shape, and write nothing.
func TestCannedResponsesRefuseBadInput(t *testing.T) {
	loadSpec(t)
	svc := servicetest.New(t, apiConfig)
	e := serve(t, svc)
	acme := e.createCompany(t, "Acme")
	admin := e.admin()
	base := "/api/v1/admin/companies/" + acme.String() + "/canned-responses"
	mark := e.tail(t)
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"no title", `{"body":"b"}`, http.StatusUnprocessableEntity, "missing_field"},
		{"no body", `{"title":"t"}`, http.StatusUnprocessableEntity, "missing_field"},
		{"blank title", `{"title":"  ","body":"b"}`, http.StatusUnprocessableEntity, "invalid"},
		{"two-line title", `{"title":"a\nb","body":"b"}`, http.StatusUnprocessableEntity, "invalid"},
		{"NUL in the body", `{"title":"t","body":"a\u0000b"}`, http.StatusUnprocessableEntity, "invalid"},
		{"a control character", `{"title":"t\u0007","body":"b"}`, http.StatusUnprocessableEntity, "invalid"},
		{"body too long", `{"title":"t","body":"` + strings.Repeat("x", 5001) + `"}`, http.StatusUnprocessableEntity, "invalid"},
		{"title too long", `{"title":"` + strings.Repeat("x", 101) + `","body":"b"}`, http.StatusUnprocessableEntity, "invalid"},
		{"wrong type", `{"title":1,"body":"b"}`, http.StatusBadRequest, "wrong_type"},
		{"unknown field", `{"title":"t","body":"b","shortcut":"x"}`, http.StatusBadRequest, "unknown_field"},
		{"invalid UTF-8", "{\"title\":\"t\xff\",\"body\":\"b\"}", http.StatusBadRequest, ""},
		{"not JSON", `title=t`, http.StatusBadRequest, "malformed_json"},
		{"huge", `{"title":"t","body":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge, "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := admin.raw(t, http.MethodPost, base, []byte(tc.body))
			if tc.code == "" {
				if res.Status < 400 || res.Status >= 500 {
					t.Fatalf("%d, want a 4xx", res.Status)
				}
				res.err(t)
				return
			}
			res.wantErr(t, tc.status, tc.code)
		})
	}
	admin.json(t, http.MethodPut, base+"/not-a-uuid", map[string]string{"title": "t", "body": "b"}).wantErr(t, http.StatusNotFound, "not_found")
	admin.json(t, http.MethodPut, base+"/"+uuid.Nil.String(), map[string]string{"title": "t", "body": "b"}).wantErr(t, http.StatusNotFound, "not_found")
	e.unchanged(t, mark, "refused canned responses")
}

// waitFor polls cond for up to 10 s: the server reads its own writes, and this only covers a
// read model that another runner applies.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
