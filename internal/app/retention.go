package app

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/retention"
)

// SetRetention sets how long a company keeps its customers' personal data (issue 17): the
// retention process manager erases a customer once every request they submitted has been
// closed for longer than EraseAfterDays; 0 keeps the data.
type SetRetention struct {
	CompanyID      uuid.UUID
	EraseAfterDays int
}

// SetRetention records retention.policy_set in the company's retention stream, starting it the
// first time; the retention the company has already records nothing. It is the
// administrators' (the CLI; the HTTP layer authorises its callers). An unknown company is
// ErrNotFound; days out of 0 to retention.MaxDays are retention.ErrInvalidDays (the policy
// decides, so that the rule lives in one place).
func (a *App) SetRetention(ctx context.Context, meta Meta, cmd SetRetention) (Result, error) {
	k := a.retentions
	return a.execute(ctx, meta, k.streamOf(cmd.CompanyID), k.streamKind, false, func(agg aggregate, r *reads) (aggregate, error) {
		if _, err := r.company(cmd.CompanyID); err != nil {
			return nil, err
		}
		if agg == nil {
			return created(retention.New(cmd.CompanyID, cmd.EraseAfterDays))
		}
		p := agg.(*retention.Policy)
		return p, p.Set(cmd.EraseAfterDays)
	})
}

// Retention is a company's retention as an administrator reads it.
type Retention struct {
	CompanyID uuid.UUID
	// EraseAfterDays is how many days after a customer's last request closed their personal
	// data is erased; 0 keeps it.
	EraseAfterDays int
	// Set is false when the company never set a retention: its customers' data is kept.
	Set bool
}

// Retention reads a company's retention from its stream. An unknown company is ErrNotFound; a
// company that never set one answers 0 days (keep), Set false.
func (a *App) Retention(ctx context.Context, companyID uuid.UUID) (Retention, error) {
	if _, _, err := a.companies.load(ctx, a.store, companyID); err != nil {
		return Retention{}, err
	}
	p, _, err := a.retentions.load(ctx, a.store, companyID)
	switch {
	case errors.Is(err, ErrNotFound):
		return Retention{CompanyID: companyID}, nil
	case err != nil:
		return Retention{}, err
	}
	return Retention{CompanyID: companyID, EraseAfterDays: p.EraseAfterDays(), Set: true}, nil
}
