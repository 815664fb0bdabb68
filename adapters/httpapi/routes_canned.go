package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/internal/app"
)

// Canned responses (issue 16): an administrator keeps a company's; a technician reads them
// filled in for a request.

type cannedBody struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (b cannedBody) missingField() error {
	return required(field("title", b.Title == ""), field("body", b.Body == ""))
}

// cannedView is a canned response as an administrator keeps it.
type cannedView struct {
	ID    uuid.UUID `json:"id"`
	Title string    `json:"title"`
	Body  string    `json:"body"`
}

func (a *API) listCannedResponses(ctx context.Context, companyID uuid.UUID) ([]cannedView, error) {
	stored, err := a.cfg.App.CompanyCannedResponses(ctx, companyID)
	if err != nil {
		return nil, err
	}
	out := make([]cannedView, 0, len(stored))
	for _, r := range stored {
		out = append(out, cannedView(r))
	}
	return out, nil
}

// createCannedResponse adds a canned response under a new ID.
func (a *API) createCannedResponse(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return jsonCommand(a, w, r, app.Admin, "companyID", http.StatusCreated, func(ctx contextT, m app.Meta, companyID uuid.UUID, body cannedBody) (uuid.UUID, app.Result, error) {
		id := m.NewID("canned-response")
		res, err := a.cfg.App.SaveCannedResponse(ctx, m, app.SaveCannedResponse{CompanyID: companyID, ResponseID: id, Title: body.Title, Body: body.Body})
		return id, res, err
	})
}

// saveCannedResponse replaces (or adds) the canned response of the path.
func (a *API) saveCannedResponse(w http.ResponseWriter, r *http.Request) (int, any, error) {
	responseID, err := pathID(r, "responseID")
	if err != nil {
		return 0, nil, err
	}
	return jsonCommand(a, w, r, app.Admin, "companyID", http.StatusOK, func(ctx contextT, m app.Meta, companyID uuid.UUID, body cannedBody) (uuid.UUID, app.Result, error) {
		res, err := a.cfg.App.SaveCannedResponse(ctx, m, app.SaveCannedResponse{CompanyID: companyID, ResponseID: responseID, Title: body.Title, Body: body.Body})
		return responseID, res, err
	})
}

func (a *API) removeCannedResponse(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	companyID, err := pathID(r, "companyID")
	if err != nil {
		return 0, nil, err
	}
	responseID, err := pathID(r, "responseID")
	if err != nil {
		return 0, nil, err
	}
	res, err := a.cfg.App.RemoveCannedResponse(r.Context(), meta(r, app.Admin), app.RemoveCannedResponse{CompanyID: companyID, ResponseID: responseID})
	return commandAnswer(http.StatusOK, responseID, res, err)
}

// requestCannedResponses answers the canned responses of a request's company, filled in for it
// and the technician asking (auditors: 403).
func (a *API) requestCannedResponses(_ http.ResponseWriter, r *http.Request, viewer app.Viewer, requestID uuid.UUID) (int, any, error) {
	return queryAnswer(a.queries.CannedResponsesFor(r.Context(), viewer, requestID))
}
