package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// Canned responses (issue 16): an administrator keeps a company's ready-made answers on its
// stream; a technician gets them filled in for the request they are answering, from the
// directory read model.

// SaveCannedResponse adds a canned response to a company, or replaces the one with that ID.
type SaveCannedResponse struct {
	CompanyID  uuid.UUID
	ResponseID uuid.UUID
	Title      string
	Body       string
}

// SaveCannedResponse records company.canned_response_saved; saving what is there records
// nothing. It is the administrators' (the HTTP layer authorises its callers).
func (a *App) SaveCannedResponse(ctx context.Context, meta Meta, cmd SaveCannedResponse) (Result, error) {
	return update(ctx, a, meta, a.companies, cmd.CompanyID, func(c *directory.Company, _ *reads) error {
		return c.SaveCannedResponse(cmd.ResponseID, cmd.Title, cmd.Body)
	})
}

// RemoveCannedResponse takes a canned response away from a company.
type RemoveCannedResponse struct {
	CompanyID  uuid.UUID
	ResponseID uuid.UUID
}

// RemoveCannedResponse records company.canned_response_removed; an unknown response is
// ErrNotFound.
func (a *App) RemoveCannedResponse(ctx context.Context, meta Meta, cmd RemoveCannedResponse) (Result, error) {
	res, err := update(ctx, a, meta, a.companies, cmd.CompanyID, func(c *directory.Company, _ *reads) error {
		return c.RemoveCannedResponse(cmd.ResponseID)
	})
	if errors.Is(err, directory.ErrUnknownCannedResponse) {
		return res, fmt.Errorf("canned response %s of company %s: %w", cmd.ResponseID, cmd.CompanyID, ErrNotFound)
	}
	return res, err
}

// CannedResponsesReadModel answers a company's canned responses from the directory read model.
type CannedResponsesReadModel interface {
	// CannedResponses returns the company's canned responses, by title.
	CannedResponses(ctx context.Context, companyID uuid.UUID) ([]directory.CannedResponse, error)
}

// CannedResponse is a canned response as a technician inserts it: its body filled in for one
// request.
type CannedResponse struct {
	ID    uuid.UUID `json:"id"`
	Title string    `json:"title"`
	// Text is the body with the request's customer name, request ID, the technician's name
	// and the company's name in place of the placeholders.
	Text string `json:"text"`
}

// CannedResponsesFor returns the canned responses of a request's company, filled in for that
// request and the technician asking. A request the technician cannot see is ErrNotFound (R2);
// auditors get ErrReadOnly, as they write nothing to anyone.
func (qs *Queries) CannedResponsesFor(ctx context.Context, v Viewer, requestID uuid.UUID) ([]CannedResponse, error) {
	if !v.IsTechnician() {
		return nil, ErrReadOnly
	}
	if qs.canned == nil {
		return nil, fmt.Errorf("canned responses: %w", ErrNoReadModel)
	}
	d, err := qs.RequestDetails(ctx, v, requestID)
	if err != nil {
		return nil, err
	}
	return qs.FillCannedResponses(ctx, v, d)
}

// FillCannedResponses is CannedResponsesFor on the details of a request the technician has
// read already (the console's details panel).
func (qs *Queries) FillCannedResponses(ctx context.Context, v Viewer, d RequestDetails) ([]CannedResponse, error) {
	if !v.IsTechnician() {
		return nil, ErrReadOnly
	}
	if qs.canned == nil {
		return nil, fmt.Errorf("canned responses: %w", ErrNoReadModel)
	}
	tech, err := qs.viewerTechnician(ctx, v.TechnicianID)
	if err != nil {
		return nil, err
	}
	stored, err := qs.canned.CannedResponses(ctx, d.CompanyID)
	if err != nil {
		return nil, fmt.Errorf("canned responses of company %s: %w", d.CompanyID, err)
	}
	values := directory.CannedValues{CustomerName: d.Customer.Name, RequestID: d.ID, TechnicianName: tech.Name(), Company: d.CompanyName}
	out := make([]CannedResponse, 0, len(stored))
	for _, r := range stored {
		out = append(out, CannedResponse{ID: r.ID, Title: r.Title, Text: directory.RenderCannedResponse(r.Body, values)})
	}
	return out, nil
}

// CompanyCannedResponses returns a company's canned responses as an administrator keeps them
// (placeholders unfilled), from its stream.
func (a *App) CompanyCannedResponses(ctx context.Context, companyID uuid.UUID) ([]directory.CannedResponse, error) {
	c, err := a.Company(ctx, companyID)
	if err != nil {
		return nil, err
	}
	return c.CannedResponses(), nil
}
