package requestevents

import (
	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Rows keeps what a bulk load of a request read model holds: the rows of open requests, folded
// in memory; the rows of requests closed since the last write, to write next; which requests'
// rows are written already, and the events that came for those afterwards (the domain never
// records any), which the load hands to Apply.
type Rows[T any] struct {
	open    map[uuid.UUID]*T
	closed  []*T
	written map[uuid.UUID]struct{}
	late    []eventlog.RecordedEvent
}

// NewRows returns empty Rows.
func NewRows[T any]() *Rows[T] {
	return &Rows[T]{open: map[uuid.UUID]*T{}, written: map[uuid.UUID]struct{}{}}
}

// Open returns the open row of a request, nil when there is none.
func (r *Rows[T]) Open(id uuid.UUID) *T { return r.open[id] }

// Add holds the row of a newly submitted request.
func (r *Rows[T]) Add(id uuid.UUID, row *T) { r.open[id] = row }

// Close moves the row of a closed request to the next write: no later event can change it.
func (r *Rows[T]) Close(id uuid.UUID) {
	if row, ok := r.open[id]; ok {
		delete(r.open, id)
		r.closed = append(r.closed, row)
		r.written[id] = struct{}{}
	}
}

// Undecoded is a Handlers.Undecoded: it keeps the events of requests whose rows are written.
func (r *Rows[T]) Undecoded(id uuid.UUID, rec *eventlog.RecordedEvent) bool {
	if _, ok := r.written[id]; !ok {
		return false
	}
	r.late = append(r.late, *rec)
	return true
}

// Held counts the rows in memory.
func (r *Rows[T]) Held() int { return len(r.open) + len(r.closed) }

// TakeClosed returns the rows to write now and the late events, and forgets them.
func (r *Rows[T]) TakeClosed() ([]*T, []eventlog.RecordedEvent) {
	rows, late := r.closed, r.late
	r.closed, r.late = nil, nil
	return rows, late
}

// TakeAll returns every row held and the late events, and forgets them: the load is done.
func (r *Rows[T]) TakeAll() ([]*T, []eventlog.RecordedEvent) {
	for id, row := range r.open {
		r.closed = append(r.closed, row)
		r.written[id] = struct{}{}
	}
	clear(r.open)
	return r.TakeClosed()
}

// PendingNames are the company and technician names a bulk load has seen and not written yet.
type PendingNames struct {
	companies, techs map[uuid.UUID]string
}

// Company records a company's name, to be written with the next write. It is a
// Handlers.Company.
func (p *PendingNames) Company(id uuid.UUID, name string) {
	p.companies = setName(p.companies, id, name)
}

// Technician records a technician's name, to be written with the next write. It is a
// Handlers.Technician.
func (p *PendingNames) Technician(id uuid.UUID, name string) { p.techs = setName(p.techs, id, name) }

// Take returns the names pending, nil maps when none, and forgets them: the write that gets
// them runs while later pages are folded.
func (p *PendingNames) Take() (companies, techs map[uuid.UUID]string) {
	companies, techs = p.companies, p.techs
	p.companies, p.techs = nil, nil
	return companies, techs
}

func setName(names map[uuid.UUID]string, id uuid.UUID, name string) map[uuid.UUID]string {
	if names == nil {
		names = map[uuid.UUID]string{}
	}
	names[id] = name
	return names
}
