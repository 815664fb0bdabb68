package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

type contextT = context.Context

// rawJSON embeds a stored payload as it is.
type rawJSON = json.RawMessage

type nameBody struct {
	Name string `json:"name"`
}

type companyView struct {
	ID      uuid.UUID    `json:"id"`
	Name    string       `json:"name"`
	Portals []portalItem `json:"portals"`
}

type portalItem struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

type namedItem struct {
	ID   uuid.UUID `json:"id"`
	Name string    `json:"name"`
}

func sortedItems(m map[uuid.UUID]string) []namedItem {
	items := make([]namedItem, 0, len(m))
	for id, name := range m {
		items = append(items, namedItem{ID: id, Name: name})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].Name != items[j].Name {
			return items[i].Name < items[j].Name
		}
		return items[i].ID.String() < items[j].ID.String()
	})
	return items
}

func (a *API) listCompanies(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	companies, err := a.cfg.App.Companies(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]namedItem{"companies": sortedItems(companies)}, nil
}

func (a *API) listTechnicians(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	technicians, err := a.cfg.App.Technicians(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]namedItem{"technicians": sortedItems(technicians)}, nil
}

func (a *API) createCompany(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var body nameBody
	if err := a.decodeJSON(w, r, &body); err != nil {
		return 0, nil, err
	}
	if err := required(field("name", body.Name == "")); err != nil {
		return 0, nil, err
	}
	id := uuid.New()
	res, err := a.cfg.App.CreateCompany(r.Context(), meta(r, app.Admin), app.CreateCompany{CompanyID: id, Name: body.Name})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, result(id, res), nil
}

func (a *API) getCompany(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "companyID")
	if err != nil {
		return 0, nil, err
	}
	c, err := a.cfg.App.Company(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	view := companyView{ID: c.ID(), Name: c.Name(), Portals: []portalItem{}}
	for _, p := range c.Portals() {
		view.Portals = append(view.Portals, portalItem{ID: p.ID, Name: p.Name})
	}
	return http.StatusOK, view, nil
}

func (a *API) createPortal(w http.ResponseWriter, r *http.Request) (int, any, error) {
	companyID, err := pathID(r, "companyID")
	if err != nil {
		return 0, nil, err
	}
	var body nameBody
	if err := a.decodeJSON(w, r, &body); err != nil {
		return 0, nil, err
	}
	if err := required(field("name", body.Name == "")); err != nil {
		return 0, nil, err
	}
	id := uuid.New()
	res, err := a.cfg.App.CreatePortal(r.Context(), meta(r, app.Admin), app.CreatePortal{CompanyID: companyID, PortalID: id, Name: body.Name})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, result(id, res), nil
}

type technicianBody struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) registerTechnician(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var body technicianBody
	if err := a.decodeJSON(w, r, &body); err != nil {
		return 0, nil, err
	}
	if err := required(field("name", body.Name == ""), field("email", body.Email == ""), field("password", body.Password == "")); err != nil {
		return 0, nil, err
	}
	id := uuid.New()
	res, err := a.cfg.Accounts.RegisterTechnicianWithPassword(r.Context(), meta(r, app.Admin), app.RegisterTechnician{TechnicianID: id, Name: body.Name, Email: body.Email}, body.Password)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, result(id, res), nil
}

func (a *API) getTechnician(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "technicianID")
	if err != nil {
		return 0, nil, err
	}
	p, err := a.cfg.App.Profile(r.Context(), id)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, p, nil
}

type passwordBody struct {
	Password string `json:"password"`
}

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "technicianID")
	if err != nil {
		return 0, nil, err
	}
	var body passwordBody
	if err := a.decodeJSON(w, r, &body); err != nil {
		return 0, nil, err
	}
	if err := required(field("password", body.Password == "")); err != nil {
		return 0, nil, err
	}
	res, err := a.cfg.Accounts.SetPassword(r.Context(), meta(r, app.Admin), id, body.Password)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, result(id, res), nil
}

type accessBody struct {
	CompanyID string `json:"company_id"`
}

func (a *API) grantAccess(w http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "technicianID")
	if err != nil {
		return 0, nil, err
	}
	var body accessBody
	if err := a.decodeJSON(w, r, &body); err != nil {
		return 0, nil, err
	}
	if err := required(field("company_id", body.CompanyID == "")); err != nil {
		return 0, nil, err
	}
	companyID, err := uuid.Parse(body.CompanyID)
	if err != nil {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", "company_id must be a company's UUID")
	}
	res, err := a.cfg.App.GrantAccess(r.Context(), meta(r, app.Admin), app.GrantAccess{TechnicianID: id, CompanyID: companyID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, result(id, res), nil
}

func (a *API) revokeAccess(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "technicianID")
	if err != nil {
		return 0, nil, err
	}
	companyID, err := pathID(r, "companyID")
	if err != nil {
		return 0, nil, err
	}
	res, err := a.cfg.App.RevokeAccess(r.Context(), meta(r, app.Admin), app.RevokeAccess{TechnicianID: id, CompanyID: companyID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, result(id, res), nil
}

// projectionStatus reports each read model's position, lag and leader.
func (a *API) projectionStatus(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	if a.cfg.ProjectionStatus == nil {
		return 0, nil, errorf(http.StatusNotFound, "not_found", "this server keeps no read models")
	}
	status, err := a.cfg.ProjectionStatus(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"projections": status}, nil
}
