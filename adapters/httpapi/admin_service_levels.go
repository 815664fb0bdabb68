package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
)

// serviceLevelsBody sets a company's service levels, all at once: a target left out (or 0)
// is none; no business hours is 24/7.
type serviceLevelsBody struct {
	AssignSeconds     int64                      `json:"assign_seconds"`
	FirstReplySeconds int64                      `json:"first_reply_seconds"`
	ResolutionSeconds int64                      `json:"resolution_seconds"`
	BusinessHours     []servicelevel.OpeningData `json:"business_hours"`
}

func (serviceLevelsBody) missingField() error { return nil }

// serviceLevelsView is a company's service levels as the API shows them.
type serviceLevelsView struct {
	CompanyID uuid.UUID `json:"company_id"`
	// TimeZone is the company's time zone the business hours are in; "UTC" when none is set.
	TimeZone          string                     `json:"time_zone"`
	Set               bool                       `json:"set"`
	AssignSeconds     int64                      `json:"assign_seconds"`
	FirstReplySeconds int64                      `json:"first_reply_seconds"`
	ResolutionSeconds int64                      `json:"resolution_seconds"`
	BusinessHours     []servicelevel.OpeningData `json:"business_hours"`
}

func serviceLevelsOf(l app.ServiceLevels) serviceLevelsView {
	zone := l.TimeZone
	if zone == "" {
		zone = "UTC"
	}
	return serviceLevelsView{
		CompanyID: l.CompanyID, TimeZone: zone, Set: l.Set,
		AssignSeconds:     int64(l.Goals.Assign.Seconds()),
		FirstReplySeconds: int64(l.Goals.FirstReply.Seconds()),
		ResolutionSeconds: int64(l.Goals.Resolution.Seconds()),
		BusinessHours:     l.Hours.Data(),
	}
}

// serviceLevels answers GET /api/v1/admin/companies/{companyID}/service-levels.
func (a *API) serviceLevels(ctx contextT, companyID uuid.UUID) (serviceLevelsView, error) {
	l, err := a.cfg.App.ServiceLevels(ctx, companyID)
	if err != nil {
		return serviceLevelsView{}, err
	}
	return serviceLevelsOf(l), nil
}

// setServiceLevels answers PUT /api/v1/admin/companies/{companyID}/service-levels.
func (a *API) setServiceLevels(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "companyID", http.StatusOK, func(ctx contextT, m app.Meta, companyID uuid.UUID, body serviceLevelsBody) (uuid.UUID, app.Result, error) {
		goals, hours, err := servicelevel.Parse(body.AssignSeconds, body.FirstReplySeconds, body.ResolutionSeconds, body.BusinessHours)
		if err != nil {
			return uuid.Nil, app.Result{}, err
		}
		res, err := a.cfg.App.SetServiceLevels(ctx, m, app.SetServiceLevels{CompanyID: companyID, Goals: goals, Hours: hours})
		return companyID, res, err
	})
}
