package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

type serviceLevelsAnswer struct {
	CompanyID         uuid.UUID           `json:"company_id"`
	TimeZone          string              `json:"time_zone"`
	Set               bool                `json:"set"`
	AssignSeconds     int64               `json:"assign_seconds"`
	FirstReplySeconds int64               `json:"first_reply_seconds"`
	ResolutionSeconds int64               `json:"resolution_seconds"`
	BusinessHours     []map[string]string `json:"business_hours"`
}

// An administrator sets and reads a company's service levels; every bad input is a 4xx in the
// one error shape and writes nothing.
func TestServiceLevelsAdminRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	admin := e.admin()
	company := e.createCompany(t, "Acme")
	path := "/api/v1/admin/companies/" + company.String() + "/service-levels"
	put := func(c *client, body string) *response { return c.raw(t, http.MethodPut, path, []byte(body)) }

	var got serviceLevelsAnswer
	admin.get(t, path).want(t, http.StatusOK).decode(t, &got)
	if got.Set || got.TimeZone != "UTC" || got.AssignSeconds != 0 || len(got.BusinessHours) != 0 || got.CompanyID != company {
		t.Fatalf("levels never set: %+v", got)
	}

	body := `{"assign_seconds":900,"resolution_seconds":28800,"business_hours":[{"day":"tue","from":"09:00","to":"17:00"},{"day":"monday","from":"09:00","to":"12:00"}]}`
	var res commandResult
	put(admin, body).want(t, http.StatusOK).decode(t, &res)
	if !res.Written || res.ID != company {
		t.Fatalf("set: %+v", res)
	}
	admin.get(t, path).want(t, http.StatusOK).decode(t, &got)
	wantHours := []map[string]string{{"day": "mon", "from": "09:00", "to": "12:00"}, {"day": "tue", "from": "09:00", "to": "17:00"}}
	if !got.Set || got.AssignSeconds != 900 || got.FirstReplySeconds != 0 || got.ResolutionSeconds != 28800 || !reflect.DeepEqual(got.BusinessHours, wantHours) {
		t.Fatalf("levels: %+v", got)
	}
	if put(admin, body).want(t, http.StatusOK).decode(t, &res); res.Written {
		t.Fatal("the same levels again wrote an event")
	}

	for _, c := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"malformed", `{"assign_seconds":`, http.StatusBadRequest, "malformed_json"},
		{"not an object", `[]`, http.StatusBadRequest, "wrong_type"},
		{"seconds as text", `{"assign_seconds":"900"}`, http.StatusBadRequest, "wrong_type"},
		{"fractions of seconds", `{"assign_seconds":1.5}`, http.StatusBadRequest, "wrong_type"},
		{"hours not a list", `{"business_hours":"9-5"}`, http.StatusBadRequest, "wrong_type"},
		{"unknown field", `{"assign_minutes":15}`, http.StatusBadRequest, "unknown_field"},
		{"unknown field in an opening", `{"business_hours":[{"day":"mon","from":"09:00","to":"17:00","tz":"UTC"}]}`, http.StatusBadRequest, "unknown_field"},
		{"negative", `{"assign_seconds":-1}`, http.StatusUnprocessableEntity, "invalid"},
		{"over a year", `{"resolution_seconds":31536001}`, http.StatusUnprocessableEntity, "invalid"},
		{"huge", `{"resolution_seconds":9223372036854775807}`, http.StatusUnprocessableEntity, "invalid"},
		{"unknown day", `{"business_hours":[{"day":"someday","from":"09:00","to":"17:00"}]}`, http.StatusUnprocessableEntity, "invalid"},
		{"end before start", `{"business_hours":[{"day":"mon","from":"17:00","to":"09:00"}]}`, http.StatusUnprocessableEntity, "invalid"},
		{"not a time", `{"business_hours":[{"day":"mon","from":"9am","to":"17:00"}]}`, http.StatusUnprocessableEntity, "invalid"},
		{"past midnight", `{"business_hours":[{"day":"mon","from":"09:00","to":"24:01"}]}`, http.StatusUnprocessableEntity, "invalid"},
		{"overlapping", `{"business_hours":[{"day":"mon","from":"09:00","to":"12:00"},{"day":"mon","from":"11:00","to":"13:00"}]}`, http.StatusUnprocessableEntity, "invalid"},
		{"missing times", `{"business_hours":[{"day":"mon"}]}`, http.StatusUnprocessableEntity, "invalid"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, e, func() *response { return put(admin, c.body) }, c.status, c.code, "")
		})
	}

	// Unknown and malformed company IDs, and callers who are not the administrator.
	for _, p := range []string{"/api/v1/admin/companies/" + uuid.NewString() + "/service-levels", "/api/v1/admin/companies/acme/service-levels"} {
		admin.get(t, p).wantErr(t, http.StatusNotFound, "not_found")
		refused(t, e, func() *response { return admin.raw(t, http.MethodPut, p, []byte(`{"assign_seconds":60}`)) }, http.StatusNotFound, "not_found", "")
	}
	tech := e.technician(t, "Tess Tech", company)
	tech.get(t, path).wantErr(t, http.StatusUnauthorized, "unauthorized")
	refused(t, e, func() *response { return put(tech, `{"assign_seconds":60}`) }, http.StatusUnauthorized, "unauthorized", "")
	refused(t, e, func() *response { return put(e.anonymous(), `{"assign_seconds":60}`) }, http.StatusUnauthorized, "unauthorized", "")

	// What the refusals left is what was set.
	var after serviceLevelsAnswer
	admin.get(t, path).want(t, http.StatusOK).decode(t, &after)
	if b1, _ := json.Marshal(after); string(b1) != mustJSON(t, got) {
		t.Fatalf("levels changed by refused requests: %s", b1)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A request left waiting past its company's target shows its breach in the list, which sorts
// by breach: the rows as the OpenAPI document says them.
func TestBreachesInTheList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Help")
	e.admin().raw(t, http.MethodPut, "/api/v1/admin/companies/"+company.String()+"/service-levels",
		[]byte(`{"assign_seconds":1}`)).want(t, http.StatusOK)
	late, _ := e.submit(t, portal, uaWindows)
	e.admin().raw(t, http.MethodPut, "/api/v1/admin/companies/"+company.String()+"/service-levels",
		[]byte(`{}`)).want(t, http.StatusOK) // later requests run no clock
	onTime, _ := e.submit(t, portal, uaMac)
	tech := e.technician(t, "Tess Tech", company)

	var page rmPage
	deadline := time.Now().Add(30 * time.Second)
	for {
		tech.get(t, "/api/v1/requests?sort=breach&order=desc").want(t, http.StatusOK).decode(t, &page)
		if len(page.Requests) == 2 && len(page.Requests[0].Breaches) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no breach in the list: %+v", page.Requests)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if page.Requests[0].ID != late || page.Requests[0].Breaches[0] != "assign" || page.Requests[1].ID != onTime || page.Requests[1].Breaches != nil {
		t.Fatalf("sorted by breach, descending: %+v", page.Requests)
	}
	var asc rmPage
	tech.get(t, "/api/v1/requests?sort=breach&order=asc&limit=1").want(t, http.StatusOK).decode(t, &asc)
	if len(asc.Requests) != 1 || asc.Requests[0].ID != onTime || asc.NextCursor == "" {
		t.Fatalf("first page ascending: %+v", asc)
	}
	var next rmPage
	tech.get(t, "/api/v1/requests?sort=breach&order=asc&limit=1&cursor="+asc.NextCursor).want(t, http.StatusOK).decode(t, &next)
	if len(next.Requests) != 1 || next.Requests[0].ID != late || next.NextCursor != "" {
		t.Fatalf("second page ascending: %+v", next)
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"breach","k":"x","i":"` + late.String() + `"}`))
	tech.get(t, "/api/v1/requests?sort=breach&cursor="+forged).wantErr(t, http.StatusUnprocessableEntity, "invalid")
}
