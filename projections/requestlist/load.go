package requestlist

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

// NewBulkLoad implements projections.BulkLoader: a rebuild folds every request in memory and
// writes its row once, when the request is closed or at the end of the log.
func (p *Projection) NewBulkLoad() projections.BulkLoad {
	return &load{
		p:         p,
		companies: map[uuid.UUID]string{},
		techs:     map[uuid.UUID]string{},
		rows:      requestevents.NewRows[row](),
	}
}

// load is a rebuild's fold of the request list.
type load struct {
	p *Projection
	// companies and techs are every name seen so far; pending those not written yet.
	companies, techs map[uuid.UUID]string
	pending          requestevents.PendingNames
	rows             *requestevents.Rows[row]
}

func (l *load) Held() int { return l.rows.Held() }

func (l *load) Fold(batch []eventlog.RecordedEvent) (projections.BulkWrite, error) {
	err := l.p.Reader.Each(batch, requestevents.Handlers{
		Undecoded: l.rows.Undecoded,
		Request:   func(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) { l.foldRequest(id, e, rec) },
		Company: func(id uuid.UUID, name string) {
			l.companies[id] = name
			l.pending.Company(id, name)
		},
		Technician: func(id uuid.UUID, name string) {
			l.techs[id] = name
			l.pending.Technician(id, name)
		},
	})
	if err != nil {
		return nil, err
	}
	return l.write(l.rows.TakeClosed()), nil
}

func (l *load) foldRequest(id uuid.UUID, e eventlog.Event, rec *eventlog.RecordedEvent) {
	at := rec.Metadata.OccurredAt
	r := l.rows.Open(id)
	if s, ok := e.(*request.Submitted); ok {
		if r == nil {
			l.rows.Add(id, &row{
				id: id, companyID: s.CompanyID, companyName: l.companies[s.CompanyID],
				customerName: s.Customer.Name, customerEmail: s.Customer.Email, description: s.Description,
				status: request.StatusNew, platform: string(s.Source.Platform), submittedAt: at, lastActivity: at,
			})
		}
		return
	}
	if r == nil {
		return // events of a request whose submission this read model never saw
	}
	fold(r, e, at, l.techs)
	if r.status == request.StatusCompleted {
		l.rows.Close(id)
	}
}

func (l *load) Rest() projections.BulkWrite { return l.write(l.rows.TakeAll()) }

// write returns the write of rows, the names not written yet and the late events. It takes the
// names now: the write runs while later pages are folded.
func (l *load) write(rows []*row, late []eventlog.RecordedEvent) projections.BulkWrite {
	companies, techs := l.pending.Take()
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := writeNames(ctx, tx, companies, techs); err != nil {
			return err
		}
		counts := map[countKey]int64{}
		for _, r := range rows {
			counts[countKey{r.companyID, r.status}]++
		}
		if err := insertRows(ctx, tx, rows); err != nil {
			return err
		}
		if err := writeCounts(ctx, tx, counts); err != nil {
			return err
		}
		if len(late) == 0 {
			return nil
		}
		return l.p.Apply(ctx, tx, late)
	}
}

// CopyOnlyTables implements projections.BulkLoader: the rows and their search text. The names
// and the counts are upserted.
func (*Projection) CopyOnlyTables() []string { return []string{"request_list", "request_list_search"} }
