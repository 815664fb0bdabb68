package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// CreateCompany is the administrator's command to add a company.
type CreateCompany struct {
	CompanyID uuid.UUID
	Name      string
}

// CreateCompany starts a company's stream.
func (a *App) CreateCompany(ctx context.Context, meta Meta, cmd CreateCompany) (Result, error) {
	return create(ctx, a, meta, a.companies, cmd.CompanyID, func(*reads) (*directory.Company, error) {
		return directory.CreateCompany(cmd.CompanyID, cmd.Name)
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
	return update(ctx, a, meta, a.companies, cmd.CompanyID, func(c *directory.Company, _ *reads) error {
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
	return create(ctx, a, meta, a.technicians, cmd.TechnicianID, func(*reads) (*directory.Technician, error) {
		return directory.RegisterTechnician(cmd.TechnicianID, cmd.Name, cmd.Email)
	})
}

// GrantAccess lets a technician serve a company's requests.
type GrantAccess struct {
	TechnicianID uuid.UUID
	CompanyID    uuid.UUID
}

// GrantAccess checks that the company exists, then records the grant.
func (a *App) GrantAccess(ctx context.Context, meta Meta, cmd GrantAccess) (Result, error) {
	return a.changeAccess(ctx, meta, cmd.TechnicianID, cmd.CompanyID, (*directory.Technician).GrantAccess)
}

// RevokeAccess takes a technician's access to a company away.
type RevokeAccess struct {
	TechnicianID uuid.UUID
	CompanyID    uuid.UUID
}

// RevokeAccess checks that the company exists, then records the revocation.
func (a *App) RevokeAccess(ctx context.Context, meta Meta, cmd RevokeAccess) (Result, error) {
	return a.changeAccess(ctx, meta, cmd.TechnicianID, cmd.CompanyID, (*directory.Technician).RevokeAccess)
}

// changeAccess checks that the company exists (an unknown one is ErrNotFound), then grants or
// revokes the technician's access to it.
func (a *App) changeAccess(ctx context.Context, meta Meta, technicianID, companyID uuid.UUID, change func(*directory.Technician, uuid.UUID) error) (Result, error) {
	return update(ctx, a, meta, a.technicians, technicianID, func(t *directory.Technician, r *reads) error {
		if _, err := r.company(companyID); err != nil {
			return err
		}
		return change(t, companyID)
	})
}

// SetAvailability changes a technician's chat status.
type SetAvailability struct {
	TechnicianID uuid.UUID
	Availability directory.Availability
}

// SetAvailability records the new status.
func (a *App) SetAvailability(ctx context.Context, meta Meta, cmd SetAvailability) (Result, error) {
	return update(ctx, a, meta, a.technicians, cmd.TechnicianID, technicianSetting((*directory.Technician).SetAvailability, cmd.Availability))
}

// technicianSetting decides a command that replaces one setting of a technician's with value,
// through the domain's setter, such as (*directory.Technician).SetAvailability.
func technicianSetting[V any](set func(*directory.Technician, V) error, value V) func(*directory.Technician, *reads) error {
	return func(t *directory.Technician, _ *reads) error { return set(t, value) }
}

// RecordPasswordChange notes in the technician's stream that their password was set.
func (a *App) RecordPasswordChange(ctx context.Context, meta Meta, technicianID uuid.UUID) (Result, error) {
	return update(ctx, a, meta, a.technicians, technicianID, func(t *directory.Technician, _ *reads) error {
		t.RecordPasswordChange()
		return nil
	})
}

// Company returns a company with its portals.
func (a *App) Company(ctx context.Context, id uuid.UUID) (*directory.Company, error) {
	c, _, err := a.companies.load(ctx, a.store, id)
	return c, err
}

// Technician returns a technician.
func (a *App) Technician(ctx context.Context, id uuid.UUID) (*directory.Technician, error) {
	t, _, err := a.technicians.load(ctx, a.store, id)
	return t, err
}
