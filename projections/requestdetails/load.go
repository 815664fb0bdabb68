package requestdetails

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/requestevents"
)

var _ projections.BulkLoader = (*Projection)(nil)

// NewBulkLoad implements projections.BulkLoader: a rebuild writes the chat entries page by
// page, as they never change, and each request's state once, when the request is closed or at
// the end of the log.
func (p *Projection) NewBulkLoad() projections.BulkLoad {
	return &load{p: p, rows: requestevents.NewRows[state]()}
}

// load is a rebuild's fold of the request details.
type load struct {
	p       *Projection
	names   requestevents.PendingNames
	rows    *requestevents.Rows[state]
	entries []entry
}

func (l *load) Held() int { return l.rows.Held() }

func (l *load) Fold(batch []eventlog.RecordedEvent) (projections.BulkWrite, error) {
	err := l.p.Reader.Each(batch, requestevents.Handlers{
		Undecoded:  l.rows.Undecoded,
		Request:    func(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) { l.foldRequest(id, e, rec) },
		Company:    l.names.Company,
		Technician: l.names.Technician,
	})
	if err != nil {
		return nil, err
	}
	return l.write(l.rows.TakeClosed()), nil
}

func (l *load) foldRequest(id uuid.UUID, e eventlog.Event, rec *eventlog.RecordedEvent) {
	s := l.rows.Open(id)
	if sub, ok := e.(*request.Submitted); ok {
		if s != nil {
			return // the request is already there
		}
		s = &state{submittedAt: rec.Metadata.OccurredAt}
		s.State = request.State{
			ID: id, CompanyID: sub.CompanyID, PortalID: sub.PortalID, Customer: sub.Customer,
			Description: sub.Description, Source: sub.Source,
		}
		l.rows.Add(id, s)
	} else if s == nil || s.version >= rec.Version {
		return // a request whose submission this read model never saw, or an event applied already
	}
	Fold(&s.State, e)
	s.lastActivity, s.version, s.position = rec.Metadata.OccurredAt, rec.Version, rec.Position
	l.entries = append(l.entries, entryOf(id, rec, e))
	if s.Closed {
		l.rows.Close(id)
	}
}

func (l *load) Rest() projections.BulkWrite { return l.write(l.rows.TakeAll()) }

// write returns the write of states, the entries and names not written yet and the late
// events. It takes the entries and names now: the write runs while later pages are folded.
func (l *load) write(states []*state, late []eventlog.RecordedEvent) projections.BulkWrite {
	companies, techs := l.names.Take()
	entries := l.entries
	l.entries = nil
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := writeNames(ctx, tx, companies, techs); err != nil {
			return err
		}
		if err := insertStates(ctx, tx, states); err != nil {
			return err
		}
		if err := insertEntries(ctx, tx, entries); err != nil {
			return err
		}
		if len(late) == 0 {
			return nil
		}
		return l.p.Apply(ctx, tx, late)
	}
}

// CopyOnlyTables implements projections.BulkLoader: the states and the entries. The names are
// upserted.
func (*Projection) CopyOnlyTables() []string {
	return []string{"request_details", "request_details_entries"}
}
