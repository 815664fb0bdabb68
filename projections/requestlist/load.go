package requestlist

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
)

var _ projections.BulkLoader = (*Projection)(nil)

// NewBulkLoad implements projections.BulkLoader: a rebuild folds every request in memory and
// writes its row once, when the request is closed or at the end of the log.
func (p *Projection) NewBulkLoad() projections.BulkLoad {
	return &load{
		p:         p,
		companies: map[uuid.UUID]string{},
		techs:     map[uuid.UUID]string{},
		open:      map[uuid.UUID]*row{},
		written:   map[uuid.UUID]struct{}{},
	}
}

// load is a rebuild's fold of the request list.
type load struct {
	p *Projection
	// companies and techs are every name seen so far; newCompanies and newTechs those not
	// written yet.
	companies, techs       map[uuid.UUID]string
	newCompanies, newTechs map[uuid.UUID]string
	// open are the rows folded but not written; closed those to write at the next Write.
	open   map[uuid.UUID]*row
	closed []*row
	// written are the requests whose rows are in the table; late are the events that came for
	// them afterwards, which Write applies with Apply.
	written map[uuid.UUID]struct{}
	late    []eventlog.RecordedEvent
}

func (l *load) Held() int { return len(l.open) + len(l.closed) }

func (l *load) Fold(batch []eventlog.RecordedEvent) (projections.BulkWrite, error) {
	for i := range batch {
		rec := &batch[i]
		switch {
		case l.p.requests.Knows(rec.Type):
			if !strings.HasPrefix(rec.StreamID, request.StreamPrefix) {
				continue
			}
			id, err := uuid.Parse(rec.StreamID[len(request.StreamPrefix):])
			if err != nil {
				continue
			}
			if _, ok := l.written[id]; ok {
				l.late = append(l.late, *rec)
				continue
			}
			e, err := l.p.requests.Decode(rec.Type, rec.Data)
			if err != nil {
				return nil, fmt.Errorf("request list: decode %s at %s: %w", rec.Type, rec.Position, err)
			}
			l.foldRequest(id, e, rec)
		case rec.Type == (*dir.CompanyCreated)(nil).EventType(), rec.Type == (*dir.TechnicianRegistered)(nil).EventType():
			e, err := l.p.directory.Decode(rec.Type, rec.Data)
			if err != nil {
				return nil, fmt.Errorf("request list: decode %s at %s: %w", rec.Type, rec.Position, err)
			}
			switch e := e.(type) {
			case *dir.CompanyCreated:
				l.companies[e.CompanyID] = e.Name
				l.newCompanies = setName(l.newCompanies, e.CompanyID, e.Name)
			case *dir.TechnicianRegistered:
				l.techs[e.TechnicianID] = e.Name
				l.newTechs = setName(l.newTechs, e.TechnicianID, e.Name)
			}
		}
	}
	rows, late := l.closed, l.late
	l.closed, l.late = nil, nil
	return l.write(rows, late), nil
}

func (l *load) foldRequest(id uuid.UUID, e eventlog.Event, rec *eventlog.RecordedEvent) {
	at := rec.Metadata.OccurredAt
	r := l.open[id]
	if s, ok := e.(*request.Submitted); ok {
		if r == nil {
			l.open[id] = &row{
				id: id, companyID: s.CompanyID, companyName: l.companies[s.CompanyID],
				customerName: s.Customer.Name, customerEmail: s.Customer.Email, description: s.Description,
				status: request.StatusNew, platform: string(s.Source.Platform), submittedAt: at, lastActivity: at,
			}
		}
		return
	}
	if r == nil {
		return // events of a request whose submission this read model never saw
	}
	fold(r, requestEvent{id: id, event: e, at: at}, l.techs)
	if r.status == request.StatusCompleted {
		delete(l.open, id)
		l.closed = append(l.closed, r)
		l.written[id] = struct{}{}
	}
}

func (l *load) Rest() projections.BulkWrite {
	rows := l.closed
	for id, r := range l.open {
		rows = append(rows, r)
		l.written[id] = struct{}{}
	}
	late := l.late
	l.open, l.closed, l.late = nil, nil, nil
	return l.write(rows, late)
}

// write returns the write of rows, the names not written yet and the late events. It takes the
// names now: the write runs while later pages are folded.
func (l *load) write(rows []*row, late []eventlog.RecordedEvent) projections.BulkWrite {
	companies, techs := l.newCompanies, l.newTechs
	l.newCompanies, l.newTechs = nil, nil
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

func setName(names map[uuid.UUID]string, id uuid.UUID, name string) map[uuid.UUID]string {
	if names == nil {
		names = map[uuid.UUID]string{}
	}
	names[id] = name
	return names
}

// CopyOnlyTables implements projections.BulkLoader: the rows and their search text. The names
// and the counts are upserted.
func (*Projection) CopyOnlyTables() []string { return []string{"request_list", "request_list_search"} }
