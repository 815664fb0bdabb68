package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
)

// CreateCompany is the administrator's command to add a company.
type CreateCompany struct {
	CompanyID uuid.UUID
	Name      string
}

// CreateCompany starts a company's stream.
func (a *App) CreateCompany(ctx context.Context, meta Meta, cmd CreateCompany) (Result, error) {
	stream := directory.CompanyStream(cmd.CompanyID)
	return a.execute(ctx, meta, stream, a.companies, true, func(agg aggregate, _ *reads) (aggregate, error) {
		if agg != nil {
			return agg, &eventlog.ConcurrencyError{StreamID: stream, Expected: eventlog.NoStream(), Actual: 0}
		}
		return created(directory.CreateCompany(cmd.CompanyID, cmd.Name))
	})
}

// CreatePortal adds a customer portal to a company.
type CreatePortal struct {
	CompanyID uuid.UUID
	PortalID  uuid.UUID
	Name      string
}

// CreatePortal records the new portal in its company's stream.
func (a *App) CreatePortal(ctx context.Context, meta Meta, cmd CreatePortal) (Result, error) {
	return a.updateCompany(ctx, meta, cmd.CompanyID, func(c *directory.Company) error {
		return c.AddPortal(cmd.PortalID, cmd.Name)
	})
}

// RegisterTechnician adds a technician, Offline and with no access.
type RegisterTechnician struct {
	TechnicianID uuid.UUID
	Name         string
	Email        string
}

// RegisterTechnician starts a technician's stream.
func (a *App) RegisterTechnician(ctx context.Context, meta Meta, cmd RegisterTechnician) (Result, error) {
	stream := directory.TechnicianStream(cmd.TechnicianID)
	return a.execute(ctx, meta, stream, a.technicians, true, func(agg aggregate, _ *reads) (aggregate, error) {
		if agg != nil {
			return agg, &eventlog.ConcurrencyError{StreamID: stream, Expected: eventlog.NoStream(), Actual: 0}
		}
		return created(directory.RegisterTechnician(cmd.TechnicianID, cmd.Name, cmd.Email))
	})
}

// GrantAccess lets a technician serve a company's requests.
type GrantAccess struct {
	TechnicianID uuid.UUID
	CompanyID    uuid.UUID
}

// GrantAccess checks that the company exists, then records the grant.
func (a *App) GrantAccess(ctx context.Context, meta Meta, cmd GrantAccess) (Result, error) {
	return a.updateTechnician(ctx, meta, cmd.TechnicianID, func(t *directory.Technician, r *reads) error {
		if _, err := r.company(cmd.CompanyID); err != nil {
			return err
		}
		return t.GrantAccess(cmd.CompanyID)
	})
}

// RevokeAccess takes a technician's access to a company away.
type RevokeAccess struct {
	TechnicianID uuid.UUID
	CompanyID    uuid.UUID
}

// RevokeAccess checks that the company exists (an unknown one is ErrNotFound, as in
// GrantAccess), then records the revocation.
func (a *App) RevokeAccess(ctx context.Context, meta Meta, cmd RevokeAccess) (Result, error) {
	return a.updateTechnician(ctx, meta, cmd.TechnicianID, func(t *directory.Technician, r *reads) error {
		if _, err := r.company(cmd.CompanyID); err != nil {
			return err
		}
		return t.RevokeAccess(cmd.CompanyID)
	})
}

// SetAvailability changes a technician's chat status.
type SetAvailability struct {
	TechnicianID uuid.UUID
	Availability directory.Availability
}

// SetAvailability records the new status.
func (a *App) SetAvailability(ctx context.Context, meta Meta, cmd SetAvailability) (Result, error) {
	return a.updateTechnician(ctx, meta, cmd.TechnicianID, func(t *directory.Technician, _ *reads) error {
		return t.SetAvailability(cmd.Availability)
	})
}

// ChangeNotificationSettings replaces how a technician is told of new requests.
type ChangeNotificationSettings struct {
	TechnicianID uuid.UUID
	Settings     directory.NotificationSettings
}

// ChangeNotificationSettings records the new settings.
func (a *App) ChangeNotificationSettings(ctx context.Context, meta Meta, cmd ChangeNotificationSettings) (Result, error) {
	return a.updateTechnician(ctx, meta, cmd.TechnicianID, func(t *directory.Technician, _ *reads) error {
		return t.ChangeNotificationSettings(cmd.Settings)
	})
}

// RecordPasswordChange notes in the technician's stream that their password was set.
func (a *App) RecordPasswordChange(ctx context.Context, meta Meta, technicianID uuid.UUID) (Result, error) {
	return a.updateTechnician(ctx, meta, technicianID, func(t *directory.Technician, _ *reads) error {
		t.RecordPasswordChange()
		return nil
	})
}

// Company returns a company with its portals.
func (a *App) Company(ctx context.Context, id uuid.UUID) (*directory.Company, error) {
	c, _, err := a.loadCompany(ctx, id)
	return c, err
}

// Technician returns a technician.
func (a *App) Technician(ctx context.Context, id uuid.UUID) (*directory.Technician, error) {
	t, _, err := a.loadTechnician(ctx, id)
	return t, err
}

func (a *App) updateCompany(ctx context.Context, meta Meta, id uuid.UUID, decide func(*directory.Company) error) (Result, error) {
	return a.execute(ctx, meta, directory.CompanyStream(id), a.companies, false, func(agg aggregate, _ *reads) (aggregate, error) {
		if agg == nil {
			return nil, fmt.Errorf("company %s: %w", id, ErrNotFound)
		}
		c := agg.(*directory.Company)
		return c, decide(c)
	})
}

func (a *App) updateTechnician(ctx context.Context, meta Meta, id uuid.UUID, decide func(*directory.Technician, *reads) error) (Result, error) {
	return a.execute(ctx, meta, directory.TechnicianStream(id), a.technicians, false, func(agg aggregate, r *reads) (aggregate, error) {
		if agg == nil {
			return nil, fmt.Errorf("technician %s: %w", id, ErrNotFound)
		}
		t := agg.(*directory.Technician)
		return t, decide(t, r)
	})
}
