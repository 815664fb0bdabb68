package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

type retentionAnswer struct {
	CompanyID      uuid.UUID `json:"company_id"`
	EraseAfterDays int       `json:"erase_after_days"`
	Set            bool      `json:"set"`
}

// retentionSetAnswer is what the PUT answers: the command's result and the retention in force.
type retentionSetAnswer struct {
	commandResult
	retentionAnswer
}

// An administrator sets and reads a company's retention; every bad input is a 4xx in the one
// error shape and writes nothing.
func TestRetentionAdminRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	company := e.createCompany(t, "Acme")
	path := "/api/v1/admin/companies/" + company.String() + "/retention"
	put := func(c *client, body string, opts ...opt) *response {
		return c.raw(t, http.MethodPut, path, []byte(body), opts...)
	}

	var got retentionAnswer
	admin.get(t, path).want(t, http.StatusOK).decode(t, &got)
	if got != (retentionAnswer{CompanyID: company}) {
		t.Fatalf("retention never set: %+v", got)
	}

	for _, s := range []struct {
		name        string
		body        string
		wantDays    int
		wantWritten bool
		wantVersion int64
	}{
		{"set", `{"erase_after_days":30}`, 30, true, 0},
		{"the same again", `{"erase_after_days":30}`, 30, false, 0},
		{"ten years", `{"erase_after_days":3650}`, 3650, true, 1},
		{"keep", `{"erase_after_days":0}`, 0, true, 2},
		{"back to thirty", `{"erase_after_days":30}`, 30, true, 3},
	} {
		var res retentionSetAnswer
		put(admin, s.body).want(t, http.StatusOK).decode(t, &res)
		want := retentionAnswer{CompanyID: company, EraseAfterDays: s.wantDays, Set: true}
		if res.retentionAnswer != want || res.ID != company || res.Written != s.wantWritten || res.Version != s.wantVersion || res.Position == "" {
			t.Fatalf("%s: %+v", s.name, res)
		}
		admin.get(t, path).want(t, http.StatusOK).decode(t, &got)
		if got != want {
			t.Fatalf("%s: read back %+v, want %+v", s.name, got, want)
		}
	}

	for _, c := range []struct {
		name, body string
		opts       []opt
		status     int
		code       string
	}{
		{"empty", ``, nil, http.StatusBadRequest, "malformed_json"},
		{"malformed", `{"erase_after_days":`, nil, http.StatusBadRequest, "malformed_json"},
		{"two objects", `{"erase_after_days":1} {"erase_after_days":2}`, nil, http.StatusBadRequest, "malformed_json"},
		{"a NUL byte", "{\"erase_after_days\":3\x000}", nil, http.StatusBadRequest, "malformed_json"},
		{"invalid UTF-8", "{\"erase_after_days\":30,\"\xff\":1}", nil, http.StatusBadRequest, "malformed_json"},
		{"a lone surrogate", `{"erase_after_days":30,"\ud800":1}`, nil, http.StatusBadRequest, "malformed_json"},
		{"not an object", `[30]`, nil, http.StatusBadRequest, "wrong_type"},
		{"days as text", `{"erase_after_days":"30"}`, nil, http.StatusBadRequest, "wrong_type"},
		{"a NUL in text", `{"erase_after_days":"\u0000"}`, nil, http.StatusBadRequest, "wrong_type"},
		{"fractions of days", `{"erase_after_days":1.5}`, nil, http.StatusBadRequest, "wrong_type"},
		{"beyond any integer", `{"erase_after_days":1e30}`, nil, http.StatusBadRequest, "wrong_type"},
		{"unknown field", `{"erase_after_days":30,"erase_after_months":1}`, nil, http.StatusBadRequest, "unknown_field"},
		{"missing", `{}`, nil, http.StatusUnprocessableEntity, "missing_field"},
		{"null", `{"erase_after_days":null}`, nil, http.StatusUnprocessableEntity, "missing_field"},
		{"negative", `{"erase_after_days":-1}`, nil, http.StatusUnprocessableEntity, "invalid"},
		{"over ten years", `{"erase_after_days":3651}`, nil, http.StatusUnprocessableEntity, "invalid"},
		{"huge", `{"erase_after_days":9223372036854775807}`, nil, http.StatusUnprocessableEntity, "invalid"},
		{"huge body", `{"erase_after_days":30,"pad":"` + strings.Repeat("x", 70<<10) + `"}`, nil, http.StatusRequestEntityTooLarge, "too_large"},
		{"huge body with an Idempotency-Key", `{"erase_after_days":30,"pad":"` + strings.Repeat("x", 70<<10) + `"}`, []opt{idemKey("big")}, http.StatusRequestEntityTooLarge, "too_large"},
		{"not JSON", `{"erase_after_days":30}`, []opt{contentType("text/plain")}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, e, func() *response { return put(admin, c.body, c.opts...) }, c.status, c.code, "")
		})
	}

	// Unknown and malformed company IDs, and callers who are not the administrator.
	for _, p := range []string{"/api/v1/admin/companies/" + uuid.NewString() + "/retention", "/api/v1/admin/companies/acme/retention"} {
		admin.get(t, p).wantErr(t, http.StatusNotFound, "not_found")
		refused(t, e, func() *response { return admin.raw(t, http.MethodPut, p, []byte(`{"erase_after_days":30}`)) }, http.StatusNotFound, "not_found", "")
		refused(t, e, func() *response { return admin.raw(t, http.MethodPut, p, []byte(`{"erase_after_days":-1}`)) }, http.StatusNotFound, "not_found", "")
	}
	tech := e.technician(t, "Tess Tech", company)
	tech.get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
	e.anonymous().get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
	refused(t, e, func() *response { return put(tech, `{"erase_after_days":1}`) }, http.StatusUnauthorized, "unauthorized", "")
	refused(t, e, func() *response { return put(e.anonymous(), `{"erase_after_days":1}`) }, http.StatusUnauthorized, "unauthorized", "")
	refused(t, e, func() *response {
		return put(e.anonymous(), `{"erase_after_days":1}`, header("Authorization", "Bearer "+adminToken+"x"))
	}, http.StatusUnauthorized, "unauthorized", "")

	// What the refusals left is what was set.
	admin.get(t, path).want(t, http.StatusOK).decode(t, &got)
	if got != (retentionAnswer{CompanyID: company, EraseAfterDays: 30, Set: true}) {
		t.Fatalf("retention changed by refused requests: %+v", got)
	}
}
