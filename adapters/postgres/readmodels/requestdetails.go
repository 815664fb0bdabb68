package readmodels

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/projections/requestdetails"
)

// ReadDetails returns a request's details as a technician or its customer may see them: it is
// ReadDetailsFor without an auditor. tech is the viewing technician, nil for the customer.
func ReadDetails(ctx context.Context, db Querier, requestID uuid.UUID, viewer app.Viewer, tech *dir.Technician) (app.RequestDetails, error) {
	return ReadDetailsFor(ctx, db, app.RequestDetailsQuery{RequestID: requestID, Viewer: viewer, Technician: tech})
}

// ReadDetailsFor returns a request's details as q.Viewer may see them (R14): private notes and
// assignment moves only for technicians and auditors; the actions the viewer may take now,
// from the domain's own rules on the restored request (none for an auditor). A technician
// without access to the request's company, an auditor who may not read it, or a customer
// holding another request's token, gets app.ErrNotFound (R2).
//
// Its two reads should see one snapshot: run it in a REPEATABLE READ transaction (Details
// does).
func ReadDetailsFor(ctx context.Context, db Querier, q app.RequestDetailsQuery) (app.RequestDetails, error) {
	requestID, viewer, tech := q.RequestID, q.Viewer, q.Technician
	notFound := fmt.Errorf("request %s: %w", requestID, app.ErrNotFound)
	row := db.QueryRow(ctx, `SELECT `+prefixed("d.", requestdetails.Columns)+`, coalesce(c.name, ''), coalesce(t.name, '')
		FROM request_details d
		LEFT JOIN request_details_companies c ON c.id = d.company_id
		LEFT JOIN request_details_technicians t ON t.id = d.assignee_id
		WHERE d.id = $1`, requestID)
	var companyName, assigneeName string
	s, err := requestdetails.ScanRow(row, &companyName, &assigneeName)
	if errors.Is(err, pgx.ErrNoRows) {
		return app.RequestDetails{}, notFound
	}
	if err != nil {
		return app.RequestDetails{}, fmt.Errorf("request details: %w", notReady(err))
	}
	r := request.Restore(s.State)
	var actions []request.Action
	switch {
	case viewer.IsTechnician():
		if tech == nil || tech.ID() != viewer.TechnicianID || !r.VisibleTo(tech) {
			return app.RequestDetails{}, notFound
		}
		actions = r.TechnicianActions(tech)
	case viewer.IsAuditor():
		if q.Auditor == nil || q.Auditor.ID() != viewer.AuditorID || !q.Auditor.CanRead(r.CompanyID()) {
			return app.RequestDetails{}, notFound
		}
		actions = []request.Action{}
	case viewer.CustomerOf == requestID:
		actions = r.CustomerActions()
	default:
		return app.RequestDetails{}, notFound
	}
	d := app.RequestDetails{
		ID:            s.ID,
		CompanyID:     s.CompanyID,
		CompanyName:   companyName,
		PortalID:      s.PortalID,
		Customer:      s.Customer,
		Description:   s.Description,
		Source:        s.Source,
		Status:        r.Status(),
		Chat:          s.Chat,
		ScreenSharing: s.ScreenSharing,
		Session:       app.SessionOf(s.State),
		SubmittedAt:   s.SubmittedAt,
		LastActivity:  s.LastActivity,
		Version:       s.Version,
		Position:      s.Position,
		Entries:       []app.Entry{},
		Actions:       actions,
	}
	if s.Assignee != uuid.Nil {
		d.Assignee = &app.Person{ID: s.Assignee, Name: assigneeName}
	}
	rows, err := db.Query(ctx, `SELECT e.kind, e.entry_id, e.event_type, e.from_side, e.technician_id, coalesce(t.name, ''),
			e.body, e.file_name, e.file_size, e.content_type, e.sha256, e.at
		FROM request_details_entries e LEFT JOIN request_details_technicians t ON t.id = e.technician_id
		WHERE e.request_id = $1 AND (NOT e.technicians_only OR $2)
		ORDER BY e.version`, requestID, viewer.SeesNotes())
	if err != nil {
		return app.RequestDetails{}, fmt.Errorf("request details: entries: %w", notReady(err))
	}
	defer rows.Close()
	for rows.Next() {
		var en app.Entry
		var eventType, from, techName string
		var techID *uuid.UUID
		var fileName, contentType, sha *string
		var fileSize *int64
		if err := rows.Scan(&en.Kind, &en.ID, &eventType, &from, &techID, &techName, &en.Body, &fileName, &fileSize,
			&contentType, &sha, &en.At); err != nil {
			return app.RequestDetails{}, fmt.Errorf("request details: entries: %w", notReady(err))
		}
		en.From, en.At = request.Side(from), en.At.UTC()
		if en.Kind == "event" {
			en.Event = eventType
		}
		if techID != nil {
			en.Technician = &app.Person{ID: *techID, Name: techName}
		}
		if fileName != nil {
			en.File = &app.FileEntry{ID: en.ID, Name: *fileName, Size: deref(fileSize), ContentType: deref(contentType), SHA256: deref(sha)}
		}
		d.Entries = append(d.Entries, en)
	}
	if err := rows.Err(); err != nil {
		return app.RequestDetails{}, fmt.Errorf("request details: entries: %w", notReady(err))
	}
	return d, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func prefixed(prefix, columns string) string {
	var out []byte
	start := true
	for i := 0; i < len(columns); i++ {
		c := columns[i]
		if start && c != ' ' && c != '\n' && c != '\t' {
			out = append(out, prefix...)
			start = false
		}
		out = append(out, c)
		if c == ',' {
			start = true
		}
	}
	return string(out)
}

// Beginner opens transactions: a pool or a connection.
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Details answers the application's RequestDetailsReadModel port, each query in one
// read-only REPEATABLE READ transaction so that the state and the entries agree.
type Details struct {
	db Beginner
}

// NewDetails returns the read model on db (usually the pool).
func NewDetails(db Beginner) *Details { return &Details{db: db} }

var _ app.RequestDetailsReadModel = (*Details)(nil)

// RequestDetails implements app.RequestDetailsReadModel.
func (m *Details) RequestDetails(ctx context.Context, q app.RequestDetailsQuery) (app.RequestDetails, error) {
	tx, err := m.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return app.RequestDetails{}, fmt.Errorf("request details: %w", notReady(err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only
	return ReadDetailsFor(ctx, tx, q)
}
