// Package profiles keeps the companies' mobile profile templates in PostgreSQL (migration 015):
// the application's app.ProfileTemplates port.
package profiles

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
)

// Templates is the template store.
type Templates struct{ pool *pgxpool.Pool }

// New returns the store on pool.
func New(pool *pgxpool.Pool) *Templates { return &Templates{pool: pool} }

var _ app.ProfileTemplates = (*Templates)(nil)

// Put stores content as the next version of the company's template name, and makes it the
// current one (a removed name comes back).
func (s *Templates) Put(ctx context.Context, t app.ProfileTemplate) (int, error) {
	var version int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Two uploads of one name at once: the lock orders them, each gets its own version.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2, 15))`, t.CompanyID, t.Name); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) + 1 FROM mobile_profile_templates WHERE company_id = $1 AND name = $2`,
			t.CompanyID, t.Name).Scan(&version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE mobile_profile_templates SET removed_at = NULL WHERE company_id = $1 AND name = $2`, t.CompanyID, t.Name); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO mobile_profile_templates (company_id, name, version, platform, content) VALUES ($1, $2, $3, $4, $5)`,
			t.CompanyID, t.Name, version, string(t.Platform), t.Content)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store mobile profile template %q: %w", t.Name, err)
	}
	return version, nil
}

// Current lists the company's templates that are not removed, each at its latest version,
// by name.
func (s *Templates) Current(ctx context.Context, companyID uuid.UUID) ([]app.ProfileTemplate, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (name) company_id, name, version, platform, content, created_at
		FROM mobile_profile_templates WHERE company_id = $1 AND removed_at IS NULL
		ORDER BY name, version DESC`, companyID)
	if err != nil {
		return nil, fmt.Errorf("list mobile profile templates: %w", err)
	}
	list, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return nil, fmt.Errorf("list mobile profile templates: %w", err)
	}
	return list, nil
}

// Version returns one version of a template, removed or not; app.ErrNotFound when there is
// none.
func (s *Templates) Version(ctx context.Context, companyID uuid.UUID, name string, version int) (app.ProfileTemplate, error) {
	rows, err := s.pool.Query(ctx, `SELECT company_id, name, version, platform, content, created_at
		FROM mobile_profile_templates WHERE company_id = $1 AND name = $2 AND version = $3`, companyID, name, version)
	if err != nil {
		return app.ProfileTemplate{}, fmt.Errorf("read mobile profile template: %w", err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.ProfileTemplate{}, fmt.Errorf("mobile profile template %q version %d: %w", name, version, app.ErrNotFound)
	}
	if err != nil {
		return app.ProfileTemplate{}, fmt.Errorf("read mobile profile template: %w", err)
	}
	return t, nil
}

// Remove hides the company's template name from the technicians' choice; app.ErrNotFound
// when there is no such current template.
func (s *Templates) Remove(ctx context.Context, companyID uuid.UUID, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE mobile_profile_templates SET removed_at = now()
		WHERE company_id = $1 AND name = $2 AND removed_at IS NULL`, companyID, name)
	if err != nil {
		return fmt.Errorf("remove mobile profile template %q: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mobile profile template %q: %w", name, app.ErrNotFound)
	}
	return nil
}

func scan(row pgx.CollectableRow) (app.ProfileTemplate, error) {
	var t app.ProfileTemplate
	var platform string
	err := row.Scan(&t.CompanyID, &t.Name, &t.Version, &platform, &t.Content, &t.CreatedAt)
	t.Platform, t.CreatedAt = request.Platform(platform), t.CreatedAt.UTC()
	return t, err
}
