package app

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
)

// SetRoutingPolicy is the administrator's command to set a company's routing: the mode of
// auto-assignment, the capacities and the away limit of reassignment.
type SetRoutingPolicy struct {
	CompanyID uuid.UUID
	Settings  routing.Settings
}

// SetRoutingPolicy checks that the company exists, then starts or updates its policy's stream.
// The same settings again write nothing.
func (a *App) SetRoutingPolicy(ctx context.Context, meta Meta, cmd SetRoutingPolicy) (Result, error) {
	k := a.policies
	return a.execute(ctx, meta, k.streamOf(cmd.CompanyID), k.streamKind, false, func(agg aggregate, r *reads) (aggregate, error) {
		if _, err := r.company(cmd.CompanyID); err != nil {
			return nil, err
		}
		if agg == nil {
			return created(routing.NewPolicy(cmd.CompanyID, cmd.Settings))
		}
		p := agg.(*routing.Policy)
		return p, p.Set(cmd.Settings)
	})
}

// RoutingPolicy returns a company's routing settings: routing.DefaultSettings when its
// administrator never set any. An unknown company is ErrNotFound.
func (a *App) RoutingPolicy(ctx context.Context, companyID uuid.UUID) (routing.Settings, error) {
	if _, _, err := a.companies.load(ctx, a.store, companyID); err != nil {
		return routing.Settings{}, err
	}
	p, _, err := a.policies.load(ctx, a.store, companyID)
	if errors.Is(err, ErrNotFound) {
		return routing.DefaultSettings(), nil
	}
	if err != nil {
		return routing.Settings{}, err
	}
	return p.Settings(), nil
}

// ErrNotSystem is returned when a command only the system issues comes from someone else.
var ErrNotSystem = errors.New("only the system issues this command")

// AutoAssign is the routing manager's decision to give a waiting request to a technician. The
// technician must still be Available with access to the request's company and the request
// still New (R6): otherwise the domain's refusal (request.ErrAlreadyAssigned,
// request.ErrNotAvailable, request.ErrNoAccess, request.ErrClosed) answers, and nothing is
// written. The append checks that the technician's stream did not change meanwhile.
type AutoAssign struct {
	RequestID    uuid.UUID
	TechnicianID uuid.UUID
	// Assignments is how many times the request had been assigned when the decision was
	// taken: request.ErrStaleDecision answers when it was assigned since.
	Assignments int
}

// AutoAssign records the assignment with meta's Decision in its metadata.
func (a *App) AutoAssign(ctx context.Context, meta Meta, cmd AutoAssign) (Result, error) {
	if err := systemDecision(meta); err != nil {
		return Result{}, err
	}
	return update(ctx, a, meta, a.requests, cmd.RequestID, func(req *request.Request, r *reads) error {
		tech, err := r.technician(cmd.TechnicianID)
		if err != nil {
			return err
		}
		return req.AutoAssign(tech, cmd.Assignments)
	})
}

// GiveBack is the routing manager's decision to give a request back on its assignee's behalf
// (reassignment): refused with request.ErrNotAssignee when the request is no longer theirs.
type GiveBack struct {
	RequestID    uuid.UUID
	TechnicianID uuid.UUID
	Reason       string
}

// ErrAssigneeBack is returned for a give-back whose technician is Available again: the
// reason (they stayed away) no longer holds, however late the decision is executed.
var ErrAssigneeBack = errors.New("the assignee is Available again")

// GiveBack records the request's return to New with the reason, and meta's Decision; refused
// with ErrAssigneeBack when the technician is Available again (the append checks that their
// stream did not change meanwhile).
func (a *App) GiveBack(ctx context.Context, meta Meta, cmd GiveBack) (Result, error) {
	if err := systemDecision(meta); err != nil {
		return Result{}, err
	}
	return update(ctx, a, meta, a.requests, cmd.RequestID, func(req *request.Request, r *reads) error {
		tech, err := r.technician(cmd.TechnicianID)
		if err != nil {
			return err
		}
		if tech.Availability() == directory.Available {
			return ErrAssigneeBack
		}
		return req.GiveBack(cmd.TechnicianID, cmd.Reason)
	})
}

// ErrNoDecision is returned for a system command without the decision it must record.
var ErrNoDecision = errors.New("an automatic command must say who decided and by which rule")

func systemDecision(meta Meta) error {
	if meta.Actor.Kind != "system" {
		return ErrNotSystem
	}
	if d := meta.Decision; d == nil || (d.By != eventlog.DecisionAutoAssignment && d.By != eventlog.DecisionReassignment) {
		return ErrNoDecision
	}
	return nil
}

// RoutingLoad is a technician's load in a company whose requests are assigned automatically:
// how many of its open requests they hold, and how many they may.
type RoutingLoad struct {
	CompanyID uuid.UUID
	Company   string
	Mode      routing.Mode
	Open      int
	Capacity  int
}

// RoutingLoads returns the technician's load in each of their companies with auto-assignment
// on, in the companies' name order; open counts, by company, the open requests they hold (the
// console's My Support Requests).
func (a *App) RoutingLoads(ctx context.Context, technicianID uuid.UUID, open map[uuid.UUID]int) ([]RoutingLoad, error) {
	t, err := current(ctx, a, a.technicians, technicianID)
	if err != nil {
		return nil, err
	}
	var loads []RoutingLoad
	for _, companyID := range t.Companies() {
		p, err := current(ctx, a, a.policies, companyID)
		if errors.Is(err, ErrNotFound) {
			continue // never set: off
		}
		if err != nil {
			return nil, err
		}
		s := p.Settings()
		if s.Mode == routing.Off {
			continue
		}
		c, err := current(ctx, a, a.companies, companyID)
		if err != nil {
			return nil, err
		}
		loads = append(loads, RoutingLoad{CompanyID: companyID, Company: c.Name(), Mode: s.Mode, Open: open[companyID], Capacity: s.CapacityOf(technicianID)})
	}
	slices.SortFunc(loads, func(x, y RoutingLoad) int { return strings.Compare(x.Company, y.Company) })
	return loads, nil
}
