package readmodels

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/internal/app"
)

// Portal is a customer portal with its company.
type Portal struct {
	ID          uuid.UUID
	Name        string
	CompanyID   uuid.UUID
	CompanyName string
}

// Company is a company with its portals, ordered by name.
type Company struct {
	ID      uuid.UUID
	Name    string
	Portals []dir.Portal
}

// PortalCompany returns a portal and the company it belongs to; an unknown portal is
// app.ErrUnknownPortal.
func PortalCompany(ctx context.Context, db Querier, portalID uuid.UUID) (Portal, error) {
	p := Portal{ID: portalID}
	err := db.QueryRow(ctx, `SELECT p.name, p.company_id, coalesce(c.name, '')
		FROM directory_portals p LEFT JOIN directory_companies c ON c.id = p.company_id
		WHERE p.id = $1`, portalID).Scan(&p.Name, &p.CompanyID, &p.CompanyName)
	if errors.Is(err, pgx.ErrNoRows) {
		return Portal{}, fmt.Errorf("portal %s: %w", portalID, app.ErrUnknownPortal)
	}
	if err != nil {
		return Portal{}, fmt.Errorf("directory: portal %s: %w", portalID, notReady(err))
	}
	return p, nil
}

const technicianColumns = `t.id, t.name, t.email, t.availability, t.notify_email, t.notify_webhook, t.notify_in_console,
	coalesce((SELECT array_agg(a.company_id ORDER BY a.granted_hi, a.granted_lo) FROM directory_access a WHERE a.technician_id = t.id), '{}')`

func scanTechnicians(rows pgx.Rows) ([]dir.TechnicianState, error) {
	defer rows.Close()
	out := []dir.TechnicianState{}
	for rows.Next() {
		var s dir.TechnicianState
		if err := rows.Scan(&s.ID, &s.Name, &s.Email, &s.Availability, &s.Notifications.Email, &s.Notifications.Webhook, &s.Notifications.InConsole, &s.Companies); err != nil {
			return nil, err
		}
		if len(s.Companies) == 0 {
			s.Companies = nil
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Technician returns a technician's state: name, e-mail, availability, notification settings
// and the companies they have access to, in the order access was granted. An unknown
// technician is app.ErrNotFound.
func Technician(ctx context.Context, db Querier, id uuid.UUID) (dir.TechnicianState, error) {
	rows, err := db.Query(ctx, `SELECT `+technicianColumns+` FROM directory_technicians t WHERE t.id = $1`, id)
	if err != nil {
		return dir.TechnicianState{}, fmt.Errorf("directory: technician %s: %w", id, notReady(err))
	}
	list, err := scanTechnicians(rows)
	if err != nil {
		return dir.TechnicianState{}, fmt.Errorf("directory: technician %s: %w", id, notReady(err))
	}
	if len(list) == 0 {
		return dir.TechnicianState{}, fmt.Errorf("technician %s: %w", id, app.ErrNotFound)
	}
	return list[0], nil
}

// Technicians returns every technician, ordered by name.
func Technicians(ctx context.Context, db Querier) ([]dir.TechnicianState, error) {
	rows, err := db.Query(ctx, `SELECT `+technicianColumns+` FROM directory_technicians t ORDER BY t.name, t.id`)
	if err != nil {
		return nil, fmt.Errorf("directory: technicians: %w", notReady(err))
	}
	list, err := scanTechnicians(rows)
	if err != nil {
		return nil, fmt.Errorf("directory: technicians: %w", notReady(err))
	}
	return list, nil
}

const auditorColumns = `a.id, a.name, a.email, a.all_companies,
	coalesce((SELECT array_agg(g.company_id ORDER BY g.granted_hi, g.granted_lo) FROM directory_auditor_access g WHERE g.auditor_id = a.id), '{}')`

func scanAuditors(rows pgx.Rows) ([]dir.AuditorState, error) {
	defer rows.Close()
	out := []dir.AuditorState{}
	for rows.Next() {
		var s dir.AuditorState
		if err := rows.Scan(&s.ID, &s.Name, &s.Email, &s.AllCompanies, &s.Companies); err != nil {
			return nil, err
		}
		if len(s.Companies) == 0 {
			s.Companies = nil
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Auditor returns an auditor's state: name, e-mail, the companies granted one by one (in the
// order they were granted) and whether they hold every company. An unknown auditor is
// app.ErrNotFound.
func Auditor(ctx context.Context, db Querier, id uuid.UUID) (dir.AuditorState, error) {
	rows, err := db.Query(ctx, `SELECT `+auditorColumns+` FROM directory_auditors a WHERE a.id = $1`, id)
	if err != nil {
		return dir.AuditorState{}, fmt.Errorf("directory: auditor %s: %w", id, notReady(err))
	}
	list, err := scanAuditors(rows)
	if err != nil {
		return dir.AuditorState{}, fmt.Errorf("directory: auditor %s: %w", id, notReady(err))
	}
	if len(list) == 0 {
		return dir.AuditorState{}, fmt.Errorf("auditor %s: %w", id, app.ErrNotFound)
	}
	return list[0], nil
}

// Auditors returns every auditor, ordered by name.
func Auditors(ctx context.Context, db Querier) ([]dir.AuditorState, error) {
	rows, err := db.Query(ctx, `SELECT `+auditorColumns+` FROM directory_auditors a ORDER BY a.name, a.id`)
	if err != nil {
		return nil, fmt.Errorf("directory: auditors: %w", notReady(err))
	}
	list, err := scanAuditors(rows)
	if err != nil {
		return nil, fmt.Errorf("directory: auditors: %w", notReady(err))
	}
	return list, nil
}

// Companies returns every company with its portals, ordered by name.
func Companies(ctx context.Context, db Querier) ([]Company, error) {
	rows, err := db.Query(ctx, `SELECT c.id, c.name,
			coalesce(array_agg(p.id ORDER BY p.name, p.id) FILTER (WHERE p.id IS NOT NULL), '{}'),
			coalesce(array_agg(p.name ORDER BY p.name, p.id) FILTER (WHERE p.id IS NOT NULL), '{}')
		FROM directory_companies c LEFT JOIN directory_portals p ON p.company_id = c.id
		GROUP BY c.id, c.name ORDER BY c.name, c.id`)
	if err != nil {
		return nil, fmt.Errorf("directory: companies: %w", notReady(err))
	}
	defer rows.Close()
	out := []Company{}
	for rows.Next() {
		var c Company
		var ids []uuid.UUID
		var names []string
		if err := rows.Scan(&c.ID, &c.Name, &ids, &names); err != nil {
			return nil, fmt.Errorf("directory: companies: %w", notReady(err))
		}
		for i := range ids {
			c.Portals = append(c.Portals, dir.Portal{ID: ids[i], Name: names[i]})
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: companies: %w", notReady(err))
	}
	return out, nil
}

// Directory answers the application's DirectoryReadModel port from the directory tables.
type Directory struct {
	db Querier
}

// NewDirectory returns the read model on db (usually the pool).
func NewDirectory(db Querier) *Directory { return &Directory{db: db} }

var _ app.DirectoryReadModel = (*Directory)(nil)

// PortalCompany implements app.DirectoryReadModel.
func (m *Directory) PortalCompany(ctx context.Context, portalID uuid.UUID) (uuid.UUID, string, error) {
	p, err := PortalCompany(ctx, m.db, portalID)
	if err != nil {
		return uuid.Nil, "", err
	}
	return p.CompanyID, p.CompanyName, nil
}

// Technician implements app.DirectoryReadModel: the technician is put back together with the
// domain's own constructor, so every rule that takes a technician works on it.
func (m *Directory) Technician(ctx context.Context, id uuid.UUID) (*dir.Technician, error) {
	s, err := Technician(ctx, m.db, id)
	if err != nil {
		return nil, err
	}
	return dir.RestoreTechnician(s), nil
}

// Companies implements app.DirectoryReadModel.
func (m *Directory) Companies(ctx context.Context) (map[uuid.UUID]string, error) {
	rows, err := m.db.Query(ctx, `SELECT id, name FROM directory_companies`)
	if err != nil {
		return nil, fmt.Errorf("directory: companies: %w", notReady(err))
	}
	return scanNames(rows)
}

// Technicians implements app.DirectoryReadModel.
func (m *Directory) Technicians(ctx context.Context) (map[uuid.UUID]string, error) {
	rows, err := m.db.Query(ctx, `SELECT id, name FROM directory_technicians`)
	if err != nil {
		return nil, fmt.Errorf("directory: technicians: %w", notReady(err))
	}
	return scanNames(rows)
}

// Auditors implements app.DirectoryReadModel.
func (m *Directory) Auditors(ctx context.Context) ([]dir.AuditorState, error) {
	return Auditors(ctx, m.db)
}

func scanNames(rows pgx.Rows) (map[uuid.UUID]string, error) {
	defer rows.Close()
	out := map[uuid.UUID]string{}
	for rows.Next() {
		var id uuid.UUID
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("directory: %w", notReady(err))
		}
		out[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: %w", notReady(err))
	}
	return out, nil
}

var _ app.CannedResponsesReadModel = (*Directory)(nil)

// CannedResponses implements app.CannedResponsesReadModel: the company's canned responses, by
// title as the aggregate keeps them.
func (m *Directory) CannedResponses(ctx context.Context, companyID uuid.UUID) ([]dir.CannedResponse, error) {
	rows, err := m.db.Query(ctx, `SELECT response_id, title, body FROM directory_canned_responses WHERE company_id = $1`, companyID)
	if err != nil {
		return nil, fmt.Errorf("directory: canned responses: %w", notReady(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dir.CannedResponse, error) {
		var r dir.CannedResponse
		err := row.Scan(&r.ID, &r.Title, &r.Body)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("directory: canned responses: %w", notReady(err))
	}
	dir.SortCannedResponses(out)
	return out, nil
}
