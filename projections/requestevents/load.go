package requestevents

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/projections"
)

// LoadSteps are what a read model of requests adds to the rebuild's fold that Load shares.
type LoadSteps[T any] struct {
	// Request folds one request event into the rows held.
	Request func(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event)
	// Company and Technician, when set, see each name as well; Load keeps them for the next
	// write either way.
	Company, Technician func(id uuid.UUID, name string)
	// Write returns the write of rows and of the names not written yet. It must take whatever
	// else it writes now: the write runs while later pages are folded.
	Write func(rows []*T, companies, techs map[uuid.UUID]string) projections.BulkWrite
	// Apply applies the late events once the rows they belong to are written: the
	// projection's Apply.
	Apply func(ctx context.Context, tx pgx.Tx, late []eventlog.RecordedEvent) error
}

// Load is a rebuild's fold of a read model of requests, a projections.BulkLoad: it walks each
// page with the Reader, holds the rows in Rows until their request is closed or the log ends,
// and writes them with the names seen since the last write and the late events.
type Load[T any] struct {
	reader *Reader
	rows   *Rows[T]
	names  PendingNames
	steps  LoadSteps[T]
}

// NewLoad returns the Load of a read model whose batches reader walks, holding its rows in rows.
func NewLoad[T any](reader *Reader, rows *Rows[T], steps LoadSteps[T]) *Load[T] {
	return &Load[T]{reader: reader, rows: rows, steps: steps}
}

// Held implements projections.BulkLoad.
func (l *Load[T]) Held() int { return l.rows.Held() }

// Fold implements projections.BulkLoad.
func (l *Load[T]) Fold(batch []eventlog.RecordedEvent) (projections.BulkWrite, error) {
	err := l.reader.Each(batch, Handlers{
		Undecoded:  l.rows.Undecoded,
		Request:    l.steps.Request,
		Company:    alsoTo(l.steps.Company, l.names.Company),
		Technician: alsoTo(l.steps.Technician, l.names.Technician),
	})
	if err != nil {
		return nil, err
	}
	return l.write(l.rows.TakeClosed()), nil
}

// Rest implements projections.BulkLoad.
func (l *Load[T]) Rest() projections.BulkWrite { return l.write(l.rows.TakeAll()) }

func (l *Load[T]) write(rows []*T, late []eventlog.RecordedEvent) projections.BulkWrite {
	companies, techs := l.names.Take()
	write := l.steps.Write(rows, companies, techs)
	return func(ctx context.Context, tx pgx.Tx) error {
		if err := write(ctx, tx); err != nil {
			return err
		}
		if len(late) == 0 {
			return nil
		}
		return l.steps.Apply(ctx, tx, late)
	}
}

// alsoTo returns a name handler that passes each name to first, when set, and then to keep.
func alsoTo(first, keep func(id uuid.UUID, name string)) func(id uuid.UUID, name string) {
	if first == nil {
		return keep
	}
	return func(id uuid.UUID, name string) {
		first(id, name)
		keep(id, name)
	}
}
