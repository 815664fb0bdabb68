package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/service/servicetest"
)

type routingPolicy struct {
	CompanyID       uuid.UUID `json:"company_id"`
	Mode            string    `json:"mode"`
	DefaultCapacity int       `json:"default_capacity"`
	Capacities      []struct {
		TechnicianID uuid.UUID `json:"technician_id"`
		Capacity     int       `json:"capacity"`
	} `json:"capacities"`
	AwayLimitSeconds int64 `json:"away_limit_seconds"`
}

// An administrator sets and reads a company's routing policy; bad input is a 4xx in the one
// error shape and writes nothing; technicians and the anonymous cannot reach it.
func TestRoutingPolicyAPI(t *testing.T) {
	loadSpec(t)
	svc := servicetest.New(t, apiConfig)
	e := serve(t, svc)
	acme := e.createCompany(t, "Acme")
	alice := e.technician(t, "Alice Tech", acme)
	bobID := e.registerTechnician(t, "Bob Tech", "bob@example.com")
	path := "/api/v1/admin/companies/" + acme.String() + "/routing"

	var got routingPolicy
	e.admin().get(t, path).want(t, http.StatusOK).decode(t, &got)
	if got.Mode != "off" || got.DefaultCapacity != 5 || len(got.Capacities) != 0 || got.AwayLimitSeconds != 0 || got.CompanyID != acme {
		t.Fatalf("never set: %+v", got)
	}
	body := map[string]any{"mode": "least-busy", "default_capacity": 3, "away_limit_seconds": 600,
		"capacities": []map[string]any{{"technician_id": bobID.String(), "capacity": 7}}}
	e.admin().json(t, http.MethodPut, path, body).want(t, http.StatusOK)
	e.admin().get(t, path).want(t, http.StatusOK).decode(t, &got)
	if got.Mode != "least-busy" || got.DefaultCapacity != 3 || got.AwayLimitSeconds != 600 || len(got.Capacities) != 1 ||
		got.Capacities[0].TechnicianID != bobID || got.Capacities[0].Capacity != 7 {
		t.Fatalf("after set: %+v", got)
	}

	mark := e.tail(t)
	for _, tt := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no mode", map[string]any{"default_capacity": 3}, http.StatusUnprocessableEntity, ""},
		{"unknown mode", map[string]any{"mode": "fastest"}, http.StatusUnprocessableEntity, "invalid"},
		{"capacity 0", map[string]any{"mode": "round-robin", "default_capacity": 0}, http.StatusUnprocessableEntity, "invalid"},
		{"capacity too big", map[string]any{"mode": "round-robin", "default_capacity": 1001}, http.StatusUnprocessableEntity, "invalid"},
		{"capacity as text", map[string]any{"mode": "round-robin", "default_capacity": "3"}, http.StatusBadRequest, "wrong_type"},
		{"negative away limit", map[string]any{"mode": "off", "away_limit_seconds": -1}, http.StatusUnprocessableEntity, "invalid"},
		{"away limit over a week", map[string]any{"mode": "off", "away_limit_seconds": 604801}, http.StatusUnprocessableEntity, "invalid"},
		{"technician not a UUID", map[string]any{"mode": "off", "capacities": []map[string]any{{"technician_id": "alice", "capacity": 2}}}, http.StatusUnprocessableEntity, "invalid"},
		{"technician twice", map[string]any{"mode": "off", "capacities": []map[string]any{{"technician_id": bobID.String(), "capacity": 2}, {"technician_id": bobID.String(), "capacity": 3}}}, http.StatusUnprocessableEntity, "invalid"},
		{"override 0", map[string]any{"mode": "off", "capacities": []map[string]any{{"technician_id": bobID.String(), "capacity": 0}}}, http.StatusUnprocessableEntity, "invalid"},
		{"unknown field", map[string]any{"mode": "off", "speed": 3}, http.StatusBadRequest, ""},
		{"not an object", []int{1}, http.StatusBadRequest, "wrong_type"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := e.admin().json(t, http.MethodPut, path, tt.body)
			if tt.code == "" {
				res.want(t, tt.status)
				if res.err(t).Code == "" {
					t.Fatalf("no error code: %s", res)
				}
				return
			}
			res.wantErr(t, tt.status, tt.code)
		})
	}
	e.admin().raw(t, http.MethodPut, path, []byte(`{"mode":`)).wantErr(t, http.StatusBadRequest, "malformed_json")
	e.unchanged(t, mark, "refused routing policies")

	unknown := "/api/v1/admin/companies/" + uuid.NewString() + "/routing"
	e.admin().get(t, unknown).wantErr(t, http.StatusNotFound, "not_found")
	e.admin().json(t, http.MethodPut, unknown, map[string]any{"mode": "off"}).wantErr(t, http.StatusNotFound, "not_found")
	e.admin().get(t, "/api/v1/admin/companies/acme/routing").wantErr(t, http.StatusNotFound, "not_found")
	alice.get(t, path).want(t, http.StatusUnauthorized)
	e.anonymous().json(t, http.MethodPut, path, map[string]any{"mode": "off"}).want(t, http.StatusUnauthorized)
	var after routingPolicy
	e.admin().get(t, path).want(t, http.StatusOK).decode(t, &after)
	if after.Mode != "least-busy" || after.DefaultCapacity != 3 || len(after.Capacities) != 1 {
		t.Fatalf("the refused bodies changed the policy: %+v", after)
	}
}
