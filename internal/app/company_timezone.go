package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
)

// SetCompanyTimeZone sets the time zone a company's days are counted in (the analytics job's
// daily figures, the Reports page, the CSV export).
type SetCompanyTimeZone struct {
	CompanyID uuid.UUID
	// TimeZone is an IANA name, "Europe/Paris", or "UTC"; anything else is
	// directory.ErrInvalidTimeZone.
	TimeZone string
}

// SetCompanyTimeZone records company.time_zone_set in the company's stream; the zone it has
// already records nothing.
func (a *App) SetCompanyTimeZone(ctx context.Context, meta Meta, cmd SetCompanyTimeZone) (Result, error) {
	return update(ctx, a, meta, a.companies, cmd.CompanyID, func(c *directory.Company, _ *reads) error {
		return c.SetTimeZone(cmd.TimeZone)
	})
}
