package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/service"
	"github.com/helpstream/helpstream/internal/service/servicetest"
)

// A server started on a new database answers before its projectors have built the read
// models: the queries say so with 503 and Retry-After (there is no other read side to answer
// from), as openapi.yaml describes, while commands work.
func TestQueriesBeforeTheReadModelsAreBuilt(t *testing.T) {
	loadSpec(t)
	svc := servicetest.New(t, apiConfig, func(c *service.Config) { c.Projectors = false })
	srv := httptest.NewServer(svc.API)
	t.Cleanup(srv.Close)
	ctx, admin := context.Background(), app.Meta{Actor: app.Admin}
	company, tech := uuid.New(), uuid.New()
	for _, command := range []func() (app.Result, error){
		func() (app.Result, error) {
			return svc.App.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: company, Name: "Acme"})
		},
		func() (app.Result, error) {
			return svc.Accounts.RegisterTechnicianWithPassword(ctx, admin, app.RegisterTechnician{TechnicianID: tech, Name: "Ann Early", Email: "ann@example.com"}, password)
		},
		func() (app.Result, error) {
			return svc.App.GrantAccess(ctx, admin, app.GrantAccess{TechnicianID: tech, CompanyID: company})
		},
	} {
		if _, err := command(); err != nil {
			t.Fatalf("a command before the read models: %v", err)
		}
	}
	session, err := svc.Accounts.Login(ctx, "ann@example.com", password)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/requests", nil)
	req.Header.Set("Authorization", "Bearer "+session.Token)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var answer struct {
		Error apiError `json:"error"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || res.StatusCode != http.StatusServiceUnavailable ||
		answer.Error.Code != "unavailable" || answer.Error.Message != app.ErrReadModelNotReady.Error() || res.Header.Get("Retry-After") == "" {
		t.Fatalf("list before the read models: %d %s (Retry-After %q)", res.StatusCode, body, res.Header.Get("Retry-After"))
	}
	if err := checkResponse(req, &response{Status: res.StatusCode, Header: res.Header, Body: body}); err != nil {
		t.Errorf("the answer does not match openapi.yaml: %v", err)
	}
}
