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

func (b nameBody) missingField() error { return required(field("name", b.Name == "")) }

type companyView struct {
	ID      uuid.UUID   `json:"id"`
	Name    string      `json:"name"`
	Portals []namedItem `json:"portals"`
}

// namedItem is an ID with its name: a row of the admin lists, or a company's portal.
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
	companies, err := a.queries.Companies(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]namedItem{"companies": sortedItems(companies)}, nil
}

func (a *API) listTechnicians(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	technicians, err := a.queries.Technicians(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]namedItem{"technicians": sortedItems(technicians)}, nil
}

func (a *API) createCompany(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "", http.StatusCreated, func(ctx contextT, m app.Meta, _ uuid.UUID, body nameBody) (uuid.UUID, app.Result, error) {
		id := m.NewID("company")
		res, err := a.cfg.App.CreateCompany(ctx, m, app.CreateCompany{CompanyID: id, Name: body.Name})
		return id, res, err
	})
}

// company is the admin's view of a company and its portals.
func (a *API) company(ctx contextT, id uuid.UUID) (companyView, error) {
	c, err := a.cfg.App.Company(ctx, id)
	if err != nil {
		return companyView{}, err
	}
	view := companyView{ID: c.ID(), Name: c.Name(), Portals: []namedItem{}}
	for _, p := range c.Portals() {
		view.Portals = append(view.Portals, namedItem{ID: p.ID, Name: p.Name})
	}
	return view, nil
}

func (a *API) createPortal(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "companyID", http.StatusCreated, func(ctx contextT, m app.Meta, companyID uuid.UUID, body nameBody) (uuid.UUID, app.Result, error) {
		id := m.NewID("portal")
		res, err := a.cfg.App.CreatePortal(ctx, m, app.CreatePortal{CompanyID: companyID, PortalID: id, Name: body.Name})
		return id, res, err
	})
}

type technicianBody struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (b technicianBody) missingField() error {
	return required(field("name", b.Name == ""), field("email", b.Email == ""), field("password", b.Password == ""))
}

func (a *API) registerTechnician(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "", http.StatusCreated, func(ctx contextT, m app.Meta, _ uuid.UUID, body technicianBody) (uuid.UUID, app.Result, error) {
		id := m.NewID("technician")
		res, err := a.cfg.Accounts.RegisterTechnicianWithPassword(ctx, m, app.RegisterTechnician{TechnicianID: id, Name: body.Name, Email: body.Email}, body.Password)
		return id, res, err
	})
}

type passwordBody struct {
	Password string `json:"password"`
}

func (b passwordBody) missingField() error { return required(field("password", b.Password == "")) }

func (a *API) setPassword(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "technicianID", http.StatusOK, func(ctx contextT, m app.Meta, id uuid.UUID, body passwordBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.Accounts.SetPassword(ctx, m, id, body.Password)
		return id, res, err
	})
}

type accessBody struct {
	CompanyID string `json:"company_id"`
}

func (b accessBody) missingField() error { return required(field("company_id", b.CompanyID == "")) }

func (a *API) grantAccess(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "technicianID", http.StatusOK, func(ctx contextT, m app.Meta, id uuid.UUID, body accessBody) (uuid.UUID, app.Result, error) {
		companyID, err := uuid.Parse(body.CompanyID)
		if err != nil {
			return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "company_id must be a company's UUID")
		}
		res, err := a.cfg.App.GrantAccess(ctx, m, app.GrantAccess{TechnicianID: id, CompanyID: companyID})
		return id, res, err
	})
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
	res, err := a.cfg.Accounts.RevokeAccess(r.Context(), meta(r, app.Admin), app.RevokeAccess{TechnicianID: id, CompanyID: companyID})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, result(id, res), nil
}

// unlockView is what an unlock answers.
type unlockView struct {
	ID        uuid.UUID `json:"id"`
	Email     string    `json:"email"`
	Failures  int       `json:"failures"`
	WasLocked bool      `json:"was_locked"`
}

// unlockTechnician lifts the login lockout of a technician's e-mail address and forgets its
// failed logins.
func (a *API) unlockTechnician(ctx contextT, id uuid.UUID) (unlockView, error) {
	u, err := a.cfg.Accounts.UnlockTechnician(ctx, id)
	if err != nil {
		return unlockView{}, err
	}
	return unlockView{ID: id, Email: u.Email, Failures: u.Failures, WasLocked: u.WasLocked}, nil
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
