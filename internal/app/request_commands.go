package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
)

// SubmitRequest is a customer's request for help through a portal (R1).
type SubmitRequest struct {
	RequestID   uuid.UUID
	PortalID    uuid.UUID
	CompanyID   uuid.UUID
	Customer    request.Customer
	Description string
	Source      request.Source
}

// ErrUnknownPortal is returned for a portal that is not one of the company's.
var ErrUnknownPortal = errors.New("portal not found")

// SubmitRequest checks the portal belongs to the company, then starts the request's stream.
func (a *App) SubmitRequest(ctx context.Context, meta Meta, cmd SubmitRequest) (Result, error) {
	return create(ctx, a, meta, a.requests, cmd.RequestID, func(r *reads) (*request.Request, error) {
		company, err := r.company(cmd.CompanyID)
		if err != nil {
			return nil, submissionRefused(err)
		}
		return a.submission(company, cmd)
	})
}

// decideSubmission validates a submission without writing anything.
func (a *App) decideSubmission(ctx context.Context, cmd SubmitRequest) (*request.Request, error) {
	s, err := a.stateOf(ctx, a.companies.streamOf(cmd.CompanyID), a.companies.streamKind)
	if err != nil {
		return nil, err
	}
	if !s.exists() {
		return nil, ErrUnknownPortal
	}
	return a.submission(s.agg.(*directory.Company), cmd)
}

func submissionRefused(err error) error {
	if errors.Is(err, ErrNotFound) {
		return ErrUnknownPortal
	}
	return err
}

func (a *App) submission(company *directory.Company, cmd SubmitRequest) (*request.Request, error) {
	if _, ok := company.Portal(cmd.PortalID); !ok {
		return nil, ErrUnknownPortal
	}
	return request.Submit(request.Submission{
		RequestID:   cmd.RequestID,
		CompanyID:   cmd.CompanyID,
		PortalID:    cmd.PortalID,
		Customer:    cmd.Customer,
		Description: cmd.Description,
		Source:      cmd.Source,
	})
}

// technicianCommand is a command a technician issues on a request. A request outside the
// technician's companies is ErrNotFound (R2: it does not exist for them).
func (a *App) technicianCommand(ctx context.Context, meta Meta, requestID uuid.UUID, decide func(*request.Request, *directory.Technician, *reads) error) (Result, error) {
	return update(ctx, a, meta, a.requests, requestID, func(req *request.Request, r *reads) error {
		tech, err := r.technician(meta.Actor.ID)
		if err != nil {
			return err
		}
		if !req.VisibleTo(tech) {
			return a.requests.notFound(requestID)
		}
		return decide(req, tech, r)
	})
}

// customerCommand is a command the customer holding the request's token issues.
func (a *App) customerCommand(ctx context.Context, meta Meta, requestID uuid.UUID, decide func(*request.Request) error) (Result, error) {
	return update(ctx, a, meta, a.requests, requestID, func(req *request.Request, _ *reads) error {
		return decide(req)
	})
}

// technicianAction is a technicianCommand that needs nothing but the request and the technician,
// such as the domain's (*request.Request).Assign.
func (a *App) technicianAction(ctx context.Context, meta Meta, requestID uuid.UUID, act func(*request.Request, *directory.Technician) error) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician, _ *reads) error {
		return act(r, t)
	})
}

// AssignToMe takes an open, unassigned request (R6). Of two technicians racing, exactly one
// wins; the other gets a *request.AlreadyAssignedError naming the winner.
func (a *App) AssignToMe(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).Assign)
}

// Unassign gives the request back to the New view (R7).
func (a *App) Unassign(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).Unassign)
}

// Transfer hands the request to another technician. An unknown target is refused like one
// without access, after the caller's own access is checked (R2 comes first).
func (a *App) Transfer(ctx context.Context, meta Meta, requestID, to uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician, rs *reads) error {
		target, err := rs.technician(to)
		if errors.Is(err, ErrNotFound) {
			target, err = nil, nil
		}
		if err != nil {
			return err
		}
		return r.Transfer(t, target)
	})
}

// JoinChat puts the assignee in the chat (R8).
func (a *App) JoinChat(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).JoinChat)
}

// SendTechnicianMessage adds the assignee's chat message (R9).
func (a *App) SendTechnicianMessage(ctx context.Context, meta Meta, requestID, messageID uuid.UUID, body string) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.SendTechnicianMessage(t, messageID, body)
	})
}

// AddNote adds a private note.
func (a *App) AddNote(ctx context.Context, meta Meta, requestID, noteID uuid.UUID, body string) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.AddNote(t, noteID, body)
	})
}

// RequestScreenSharing asks a Windows or Mac customer to share their screen (R11).
func (a *App) RequestScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).RequestScreenSharing)
}

// SendMobileProfile sends a configuration profile to an iOS or Android customer (R12).
func (a *App) SendMobileProfile(ctx context.Context, meta Meta, requestID uuid.UUID, profile string) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.SendMobileProfile(t, profile)
	})
}

// EndChat ends the chat (R13).
func (a *App) EndChat(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).EndChat)
}

// Close closes the request for good (R13).
func (a *App) Close(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianAction(ctx, meta, requestID, (*request.Request).Close)
}

// SendCustomerMessage adds the customer's chat message (R9).
func (a *App) SendCustomerMessage(ctx context.Context, meta Meta, requestID, messageID uuid.UUID, body string) (Result, error) {
	return a.customerCommand(ctx, meta, requestID, func(r *request.Request) error {
		return r.SendCustomerMessage(messageID, body)
	})
}

// DeclineScreenSharing is the customer's refusal (R11).
func (a *App) DeclineScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.customerCommand(ctx, meta, requestID, (*request.Request).DeclineScreenSharing)
}
