package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// retentionBody sets a company's retention. erase_after_days is required, 0 included: a body
// that left it out would otherwise read as "keep", silently undoing a retention.
type retentionBody struct {
	EraseAfterDays *int `json:"erase_after_days"`
}

func (b retentionBody) missingField() error {
	return required(field("erase_after_days", b.EraseAfterDays == nil))
}

// retentionView is a company's retention as the API shows it.
type retentionView struct {
	CompanyID      uuid.UUID `json:"company_id"`
	EraseAfterDays int       `json:"erase_after_days"`
	// Set is false when the company never set a retention (its customers' data is kept).
	Set bool `json:"set"`
}

func retentionOf(r app.Retention) retentionView {
	return retentionView{CompanyID: r.CompanyID, EraseAfterDays: r.EraseAfterDays, Set: r.Set}
}

// retentionAnswer is what setting a retention answers: where the event landed (or that nothing
// changed), and the retention now in force, so that a client needs no second read.
type retentionAnswer struct {
	commandResult
	retentionView
}

// retention answers GET /api/v1/admin/companies/{companyID}/retention.
func (a *API) retention(ctx contextT, companyID uuid.UUID) (retentionView, error) {
	r, err := a.cfg.App.Retention(ctx, companyID)
	if err != nil {
		return retentionView{}, err
	}
	return retentionOf(r), nil
}

// setRetention answers PUT /api/v1/admin/companies/{companyID}/retention. As jsonCommand does,
// the path comes first, so that an unknown or malformed company ID answers 404 whatever the
// body.
func (a *API) setRetention(w http.ResponseWriter, r *http.Request) (int, any, error) {
	companyID, err := pathID(r, "companyID")
	if err != nil {
		return 0, nil, err
	}
	body, err := decodeBody[retentionBody](a, w, r)
	if err != nil {
		return 0, nil, err
	}
	days := *body.EraseAfterDays
	res, err := a.cfg.App.SetRetention(r.Context(), meta(r, app.Admin), app.SetRetention{CompanyID: companyID, EraseAfterDays: days})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, retentionAnswer{
		commandResult: result(companyID, res),
		retentionView: retentionView{CompanyID: companyID, EraseAfterDays: days, Set: true},
	}, nil
}
