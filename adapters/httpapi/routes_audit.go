package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// The administrator's routes about auditors, and the auditors' own route: the access log.

type auditorBody struct {
	Name     string `json:"name"`
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (b auditorBody) missingField() error {
	return required(field("name", b.Name == ""), field("email", b.Email == ""), field("password", b.Password == ""))
}

func (a *API) registerAuditor(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "", http.StatusCreated, func(ctx contextT, m app.Meta, _ uuid.UUID, body auditorBody) (uuid.UUID, app.Result, error) {
		id := m.NewID("auditor")
		res, err := a.cfg.Accounts.RegisterAuditorWithPassword(ctx, m, app.RegisterAuditor{AuditorID: id, Name: body.Name, Email: body.Email}, body.Password)
		return id, res, err
	})
}

func (a *API) listAuditors(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	auditors, err := a.queries.Auditors(r.Context())
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string][]app.AuditorProfile{"auditors": auditors}, nil
}

func (a *API) setAuditorPassword(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "auditorID", http.StatusOK, func(ctx contextT, m app.Meta, id uuid.UUID, body passwordBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.Accounts.SetAuditorPassword(ctx, m, id, body.Password)
		return id, res, err
	})
}

// auditorAccessBody grants one company ({"company_id": …}) or every company
// ({"all_companies": true}).
type auditorAccessBody struct {
	CompanyID    string `json:"company_id"`
	AllCompanies *bool  `json:"all_companies"`
}

func (b auditorAccessBody) missingField() error {
	return required(field("company_id", b.CompanyID == "" && b.AllCompanies == nil))
}

func (a *API) grantAuditorAccess(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "auditorID", http.StatusOK, func(ctx contextT, m app.Meta, id uuid.UUID, body auditorAccessBody) (uuid.UUID, app.Result, error) {
		cmd := app.GrantAuditorAccess{AuditorID: id, AllCompanies: body.AllCompanies != nil && *body.AllCompanies}
		switch {
		case body.CompanyID != "" && body.AllCompanies != nil:
			return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "send either company_id or all_companies, not both")
		case body.AllCompanies != nil && !*body.AllCompanies:
			return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "all_companies grants every company: send true, or company_id instead")
		case body.CompanyID != "":
			companyID, err := uuid.Parse(body.CompanyID)
			if err != nil {
				return uuid.Nil, app.Result{}, errorf(http.StatusUnprocessableEntity, "invalid", "company_id must be a company's UUID")
			}
			cmd.CompanyID = companyID
		}
		res, err := a.cfg.App.GrantAuditorAccess(ctx, m, cmd)
		return id, res, err
	})
}

// revokeAuditorAccess takes back one company, or with "all" in the company's place, the grant
// of every company.
func (a *API) revokeAuditorAccess(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	id, err := pathID(r, "auditorID")
	if err != nil {
		return 0, nil, err
	}
	cmd := app.RevokeAuditorAccess{AuditorID: id, AllCompanies: r.PathValue("companyID") == "all"}
	if !cmd.AllCompanies {
		if cmd.CompanyID, err = pathID(r, "companyID"); err != nil {
			return 0, nil, err
		}
	}
	res, err := a.cfg.App.RevokeAuditorAccess(r.Context(), meta(r, app.Admin), cmd)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, result(id, res), nil
}

// unlockAuditor lifts the login lockout of an auditor's e-mail address.
func (a *API) unlockAuditor(ctx contextT, id uuid.UUID) (unlockView, error) {
	u, err := a.cfg.Accounts.UnlockAuditor(ctx, id)
	if err != nil {
		return unlockView{}, err
	}
	return unlockView{ID: id, Email: u.Email, Failures: u.Failures, WasLocked: u.WasLocked}, nil
}

// accessLog lists the access log as the calling auditor may read it: the reads of their
// companies' requests, by any auditor, and every auditor's list queries; newest first.
func (a *API) accessLog(_ http.ResponseWriter, r *http.Request, auditorID uuid.UUID) (int, any, error) {
	q := r.URL.Query()
	for key, values := range q {
		switch key {
		case "auditor", "request", "since", "until", "limit", "cursor":
		default:
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
		if len(values) > 1 {
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("query parameter %q is given more than once", key))
		}
	}
	var lq app.AccessLogQuery
	var err error
	if lq.AuditorID, err = idParam(q, "auditor"); err != nil {
		return 0, nil, err
	}
	if lq.RequestID, err = idParam(q, "request"); err != nil {
		return 0, nil, err
	}
	if lq.Since, err = timeParam(q.Get("since"), "since"); err != nil {
		return 0, nil, err
	}
	if lq.Until, err = timeParam(q.Get("until"), "until"); err != nil {
		return 0, nil, err
	}
	if lq.Limit, err = intParam(q, "limit"); err != nil {
		return 0, nil, err
	}
	if _, has := q["limit"]; has && (lq.Limit < 1 || lq.Limit > app.MaxAccessLogPage) {
		return 0, nil, errorf(http.StatusUnprocessableEntity, "invalid", app.ErrInvalidLimit.Error())
	}
	lq.Cursor = q.Get("cursor")
	return queryAnswer(a.queries.AuditorAccessLog(r.Context(), auditorID, lq))
}

// timeParam reads an optional RFC 3339 time.
func timeParam(v, name string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, errorf(http.StatusUnprocessableEntity, "invalid", name+" must be a time like 2026-01-02T15:04:05Z")
	}
	return t, nil
}
