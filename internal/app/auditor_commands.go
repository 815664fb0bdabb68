package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// The administrator's commands about auditors. Auditors themselves run no command: every
// command route answers them ErrReadOnly.

// ErrReadOnly is what an auditor is told by every route that would change something.
var ErrReadOnly = errors.New("auditors read and never write")

// ErrInvalidGrant is returned by GrantAuditorAccess and RevokeAuditorAccess unless they name
// either one company or every company.
var ErrInvalidGrant = errors.New("name either a company or every company")

// RegisterAuditor is the administrator's command to add an auditor, who reads nothing until
// granted a company.
type RegisterAuditor struct {
	AuditorID uuid.UUID
	Name      string
	Email     string
}

// RegisterAuditor starts an auditor's stream.
func (a *App) RegisterAuditor(ctx context.Context, meta Meta, cmd RegisterAuditor) (Result, error) {
	return create(ctx, a, meta, a.auditors, cmd.AuditorID, func(*reads) (*directory.Auditor, error) {
		return directory.RegisterAuditor(cmd.AuditorID, cmd.Name, cmd.Email)
	})
}

// GrantAuditorAccess lets an auditor read one company's requests, or, with AllCompanies, every
// company's (those created later too).
type GrantAuditorAccess struct {
	AuditorID    uuid.UUID
	CompanyID    uuid.UUID
	AllCompanies bool
}

// GrantAuditorAccess checks that the company exists (an unknown one is ErrNotFound), then
// records the grant; granting what the auditor holds already writes nothing.
func (a *App) GrantAuditorAccess(ctx context.Context, meta Meta, cmd GrantAuditorAccess) (Result, error) {
	if (cmd.CompanyID == uuid.Nil) != cmd.AllCompanies {
		return Result{}, fmt.Errorf("grant auditor %s access: %w", cmd.AuditorID, ErrInvalidGrant)
	}
	return update(ctx, a, meta, a.auditors, cmd.AuditorID, func(au *directory.Auditor, r *reads) error {
		if cmd.AllCompanies {
			au.GrantAllCompanies()
			return nil
		}
		if _, err := r.company(cmd.CompanyID); err != nil {
			return err
		}
		return au.GrantAccess(cmd.CompanyID)
	})
}

// RevokeAuditorAccess takes a grant back: one company's, or, with AllCompanies, that of every
// company (the companies granted one by one stay).
type RevokeAuditorAccess struct {
	AuditorID    uuid.UUID
	CompanyID    uuid.UUID
	AllCompanies bool
}

// RevokeAuditorAccess checks that the company exists (an unknown one is ErrNotFound), then
// records the revocation; a grant the auditor does not hold is directory.ErrAuditorNoAccess.
// The auditor's next read is checked against what is left: every read resolves the auditor
// from their stream.
func (a *App) RevokeAuditorAccess(ctx context.Context, meta Meta, cmd RevokeAuditorAccess) (Result, error) {
	if (cmd.CompanyID == uuid.Nil) != cmd.AllCompanies {
		return Result{}, fmt.Errorf("revoke auditor %s access: %w", cmd.AuditorID, ErrInvalidGrant)
	}
	return update(ctx, a, meta, a.auditors, cmd.AuditorID, func(au *directory.Auditor, r *reads) error {
		if cmd.AllCompanies {
			return au.RevokeAllCompanies()
		}
		if _, err := r.company(cmd.CompanyID); err != nil {
			return err
		}
		return au.RevokeAccess(cmd.CompanyID)
	})
}

// RecordAuditorPasswordChange notes in the auditor's stream that their password was set.
func (a *App) RecordAuditorPasswordChange(ctx context.Context, meta Meta, auditorID uuid.UUID) (Result, error) {
	return update(ctx, a, meta, a.auditors, auditorID, func(au *directory.Auditor, _ *reads) error {
		au.RecordPasswordChange()
		return nil
	})
}

// Auditor returns an auditor, folded from their stream.
func (a *App) Auditor(ctx context.Context, id uuid.UUID) (*directory.Auditor, error) {
	au, _, err := a.auditors.load(ctx, a.store, id)
	return au, err
}

// RegisterAuditorWithPassword reserves the e-mail address (unique across technicians and
// auditors), records the auditor, then sets the password and records that it was set: the
// order of RegisterTechnicianWithPassword, secrets first.
func (s *Accounts) RegisterAuditorWithPassword(ctx context.Context, meta Meta, cmd RegisterAuditor, password string) (Result, error) {
	if _, err := directory.RegisterAuditor(cmd.AuditorID, cmd.Name, cmd.Email); err != nil {
		return Result{}, err
	}
	if len(password) < 8 || len(password) > 72 {
		return Result{}, ErrWeakPassword
	}
	if err := s.creds.ReserveAuditor(ctx, cmd.AuditorID, cmd.Email); err != nil {
		return Result{}, err
	}
	if _, err := s.app.RegisterAuditor(ctx, meta, cmd); err != nil {
		return Result{}, err
	}
	return s.SetAuditorPassword(ctx, meta.Step("password"), cmd.AuditorID, password)
}

// SetAuditorPassword replaces an auditor's password and ends every session of theirs, then
// records the change, as SetPassword does for a technician. An unknown auditor is ErrNotFound.
func (s *Accounts) SetAuditorPassword(ctx context.Context, meta Meta, auditorID uuid.UUID, password string) (Result, error) {
	if _, err := s.app.Auditor(ctx, auditorID); err != nil {
		return Result{}, err
	}
	if err := s.creds.SetPassword(ctx, auditorID, password); err != nil {
		return Result{}, err
	}
	if err := s.endSessions(ctx, auditorID, "password changed"); err != nil {
		return Result{}, err
	}
	return s.app.RecordAuditorPasswordChange(ctx, meta, auditorID)
}

// UnlockAuditor is Unlock for an auditor's e-mail address; an unknown auditor is ErrNotFound.
func (s *Accounts) UnlockAuditor(ctx context.Context, auditorID uuid.UUID) (UnlockResult, error) {
	au, err := s.app.Auditor(ctx, auditorID)
	if err != nil {
		return UnlockResult{}, err
	}
	return s.Unlock(ctx, au.Email())
}
