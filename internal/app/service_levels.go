package app

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// SetServiceLevels sets a company's service-level targets and business hours, all at once
// (issue 16). They apply to the requests submitted after they are set.
type SetServiceLevels struct {
	CompanyID uuid.UUID
	// Goals are the targets; a zero goal is no target.
	Goals servicelevel.Goals
	// Hours are the weekly business hours in the company's time zone; none is 24/7.
	Hours servicelevel.Hours
}

// SetServiceLevels records servicelevel.targets_set in the company's service-level stream,
// starting it the first time; the levels the company has already record nothing. It is the
// administrators' (the CLI; the HTTP layer authorises its callers). An unknown company is
// ErrNotFound.
func (a *App) SetServiceLevels(ctx context.Context, meta Meta, cmd SetServiceLevels) (Result, error) {
	if err := cmd.Goals.Validate(); err != nil {
		return Result{}, err
	}
	k := a.serviceLevels
	return a.execute(ctx, meta, k.streamOf(cmd.CompanyID), k.streamKind, false, func(agg aggregate, r *reads) (aggregate, error) {
		if _, err := r.company(cmd.CompanyID); err != nil {
			return nil, err
		}
		if agg == nil {
			return created(servicelevel.New(cmd.CompanyID, cmd.Goals, cmd.Hours))
		}
		p := agg.(*servicelevel.Policy)
		return p, p.Set(cmd.Goals, cmd.Hours)
	})
}

// ServiceLevels are a company's service levels as an administrator reads them.
type ServiceLevels struct {
	CompanyID uuid.UUID
	Goals     servicelevel.Goals
	Hours     servicelevel.Hours
	// TimeZone is the company's time zone the hours are in; "" counts UTC.
	TimeZone string
	// Set is false when the company never set any: no targets, 24/7.
	Set bool
}

// ServiceLevels reads a company's service levels from its stream. An unknown company is
// ErrNotFound; a company that never set any answers the zero levels.
func (a *App) ServiceLevels(ctx context.Context, companyID uuid.UUID) (ServiceLevels, error) {
	company, _, err := a.companies.load(ctx, a.store, companyID)
	if err != nil {
		return ServiceLevels{}, err
	}
	levels := ServiceLevels{CompanyID: companyID, TimeZone: company.TimeZone()}
	p, _, err := a.serviceLevels.load(ctx, a.store, companyID)
	switch {
	case errors.Is(err, ErrNotFound):
		return levels, nil
	case err != nil:
		return ServiceLevels{}, err
	}
	levels.Goals, levels.Hours, levels.Set = p.Goals(), p.Hours(), true
	return levels, nil
}

// RecordBreach is the system's: a request ran past a service-level target of its company.
type RecordBreach struct {
	RequestID uuid.UUID
	Target    servicelevel.Target
	// DueAt is when the target ran out; Goal the target's business time.
	DueAt time.Time
	Goal  time.Duration
}

// ErrSystemOnly is returned when anyone but the system records what only the system decides.
var ErrSystemOnly = errors.New("only the system records service-level breaches")

// RecordBreach appends request.sla_breached to the request (actor "system"): the
// service-level process manager's command. A request that breached the target already, or is
// closed, refuses it (request.ErrAlreadyBreached, request.ErrClosed).
func (a *App) RecordBreach(ctx context.Context, meta Meta, cmd RecordBreach) (Result, error) {
	if meta.Actor.Kind != "system" {
		return Result{}, ErrSystemOnly
	}
	return update(ctx, a, meta, a.requests, cmd.RequestID, func(r *request.Request, _ *reads) error {
		return r.RecordBreach(cmd.Target, cmd.DueAt, cmd.Goal)
	})
}
