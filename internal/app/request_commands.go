package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
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
	r, err := a.decideSubmission(ctx, cmd)
	if err != nil {
		return Result{}, err
	}
	l := loaded{streamID: request.Stream(cmd.RequestID), version: -1}
	return a.append(ctx, l, a.requests, meta, r.Changes())
}

// decideSubmission validates a submission without writing anything.
func (a *App) decideSubmission(ctx context.Context, cmd SubmitRequest) (*request.Request, error) {
	company, _, err := a.loadCompany(ctx, cmd.CompanyID)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnknownPortal
	}
	if err != nil {
		return nil, err
	}
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

// loadRequest reads a request; a missing one is ErrNotFound.
func (a *App) loadRequest(ctx context.Context, id uuid.UUID) (*request.Request, loaded, error) {
	recorded, err := a.store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		return nil, loaded{}, fmt.Errorf("read %s: %w", request.Stream(id), err)
	}
	return a.requestFrom(id, recorded)
}

func (a *App) requestFrom(id uuid.UUID, recorded []eventlog.RecordedEvent) (*request.Request, loaded, error) {
	l, err := decodeStream(request.Stream(id), recorded, a.requests)
	if err != nil {
		return nil, loaded{}, err
	}
	if len(l.history) == 0 {
		return nil, loaded{}, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	r, err := request.FromHistory(l.history)
	if err != nil {
		return nil, loaded{}, fmt.Errorf("request %s: %w", id, err)
	}
	return r, l, nil
}

// technicianCommand is a command a technician issues on a request: load both, decide, append,
// and re-decide on a conflict. A request outside the technician's companies is ErrNotFound
// (R2: it does not exist for them).
func (a *App) technicianCommand(ctx context.Context, meta Meta, requestID uuid.UUID, decide func(*request.Request, *directory.Technician) error) (Result, error) {
	// Both streams in one round trip when the store can; the request again on a retry only.
	preloaded, err := a.preload(ctx, directory.TechnicianStream(meta.Actor.ID), request.Stream(requestID))
	if err != nil {
		return Result{}, err
	}
	var tech *directory.Technician
	if preloaded != nil {
		tech, err = a.technicianFrom(meta.Actor.ID, preloaded[directory.TechnicianStream(meta.Actor.ID)])
	} else {
		tech, _, err = a.loadTechnician(ctx, meta.Actor.ID)
	}
	if err != nil {
		return Result{}, err
	}
	return a.retry(ctx, meta, request.Stream(requestID), func() (Result, error) {
		var r *request.Request
		var l loaded
		var err error
		if preloaded != nil {
			r, l, err = a.requestFrom(requestID, preloaded[request.Stream(requestID)])
			preloaded = nil
		} else {
			r, l, err = a.loadRequest(ctx, requestID)
		}
		if err != nil {
			return Result{}, err
		}
		if !r.VisibleTo(tech) {
			return Result{}, fmt.Errorf("request %s: %w", requestID, ErrNotFound)
		}
		if err := decide(r, tech); err != nil {
			return Result{}, err
		}
		return a.append(ctx, l, a.requests, meta, r.Changes())
	})
}

// customerCommand is a command the customer holding the request's token issues.
func (a *App) customerCommand(ctx context.Context, meta Meta, requestID uuid.UUID, decide func(*request.Request) error) (Result, error) {
	return a.retry(ctx, meta, request.Stream(requestID), func() (Result, error) {
		r, l, err := a.loadRequest(ctx, requestID)
		if err != nil {
			return Result{}, err
		}
		if err := decide(r); err != nil {
			return Result{}, err
		}
		return a.append(ctx, l, a.requests, meta, r.Changes())
	})
}

// AssignToMe takes an open, unassigned request (R6). Of two technicians racing, exactly one
// wins; the other gets a *request.AlreadyAssignedError naming the winner.
func (a *App) AssignToMe(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.Assign(t)
	})
}

// Unassign gives the request back to the New view (R7).
func (a *App) Unassign(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.Unassign(t)
	})
}

// Transfer hands the request to another technician. An unknown target is refused like one
// without access, after the caller's own access is checked (R2 comes first).
func (a *App) Transfer(ctx context.Context, meta Meta, requestID, to uuid.UUID) (Result, error) {
	target, _, err := a.loadTechnician(ctx, to)
	if errors.Is(err, ErrNotFound) {
		target, err = nil, nil
	}
	if err != nil {
		return Result{}, err
	}
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.Transfer(t, target)
	})
}

// JoinChat puts the assignee in the chat (R8).
func (a *App) JoinChat(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.JoinChat(t)
	})
}

// SendTechnicianMessage adds the assignee's chat message (R9).
func (a *App) SendTechnicianMessage(ctx context.Context, meta Meta, requestID, messageID uuid.UUID, body string) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.SendTechnicianMessage(t, messageID, body)
	})
}

// AddNote adds a private note.
func (a *App) AddNote(ctx context.Context, meta Meta, requestID, noteID uuid.UUID, body string) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.AddNote(t, noteID, body)
	})
}

// RequestScreenSharing asks a Windows or Mac customer to share their screen (R11).
func (a *App) RequestScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.RequestScreenSharing(t)
	})
}

// SendMobileProfile sends a configuration profile to an iOS or Android customer (R12).
func (a *App) SendMobileProfile(ctx context.Context, meta Meta, requestID uuid.UUID, profile string) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.SendMobileProfile(t, profile)
	})
}

// EndChat ends the chat (R13).
func (a *App) EndChat(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.EndChat(t)
	})
}

// Close closes the request for good (R13).
func (a *App) Close(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.technicianCommand(ctx, meta, requestID, func(r *request.Request, t *directory.Technician) error {
		return r.Close(t)
	})
}

// SendCustomerMessage adds the customer's chat message (R9).
func (a *App) SendCustomerMessage(ctx context.Context, meta Meta, requestID, messageID uuid.UUID, body string) (Result, error) {
	return a.customerCommand(ctx, meta, requestID, func(r *request.Request) error {
		return r.SendCustomerMessage(messageID, body)
	})
}

// AcceptScreenSharing is the customer's "Share My Screen" (R11).
func (a *App) AcceptScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.customerCommand(ctx, meta, requestID, func(r *request.Request) error {
		return r.AcceptScreenSharing()
	})
}

// DeclineScreenSharing is the customer's refusal (R11).
func (a *App) DeclineScreenSharing(ctx context.Context, meta Meta, requestID uuid.UUID) (Result, error) {
	return a.customerCommand(ctx, meta, requestID, func(r *request.Request) error {
		return r.DeclineScreenSharing()
	})
}
