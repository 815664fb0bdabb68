package requestevents

import (
	"slices"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// ReadModel is what every projection of requests has besides its schema and its fold: its
// name, the tables it owns and the Reader of its batches. A projection embeds it for its Name
// and Tables methods.
type ReadModel struct {
	name   string
	tables []string
	// Reader walks the projection's batches.
	Reader *Reader
}

// NewReadModel returns the ReadModel of the projection called name (its checkpoint row,
// advisory lock and metrics label) that owns tables; label names it in errors.
func NewReadModel(name, label string, tables ...string) ReadModel {
	return ReadModel{name: name, tables: tables, Reader: NewReader(label)}
}

// Name implements projections.Projection.
func (m ReadModel) Name() string { return m.name }

// Tables implements projections.Projection.
func (m ReadModel) Tables() []string { return slices.Clone(m.tables) }

// Event is a request event of a batch, decoded, with the request it belongs to.
type Event struct {
	RequestID uuid.UUID
	Rec       *eventlog.RecordedEvent
	Event     eventlog.Event
}

// Batch is what one batch of the log holds for a read model of requests.
type Batch struct {
	// Events are the request events, in log order.
	Events []Event
	// Touched are the requests of Events, each once, in the order of its first event.
	Touched []uuid.UUID
	// Companies and Technicians are the names the batch creates companies and technicians with.
	Companies, Technicians map[uuid.UUID]string
}

// Collect reads batch whole, for a live projection that reads the stored rows of the requests
// the batch touches at once and then folds its events in memory. Its errors are those of Each.
func (r *Reader) Collect(batch []eventlog.RecordedEvent) (Batch, error) {
	b := Batch{Companies: map[uuid.UUID]string{}, Technicians: map[uuid.UUID]string{}}
	touched := map[uuid.UUID]bool{}
	err := r.Each(batch, Handlers{
		Request: func(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) {
			b.Events = append(b.Events, Event{RequestID: id, Rec: rec, Event: e})
			if !touched[id] {
				touched[id] = true
				b.Touched = append(b.Touched, id)
			}
		},
		Company:    func(id uuid.UUID, name string) { b.Companies[id] = name },
		Technician: func(id uuid.UUID, name string) { b.Technicians[id] = name },
	})
	return b, err
}
