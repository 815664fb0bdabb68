// Package requestevents reads batches of the log for the read models of requests: the request
// events, decoded, with the request they belong to, and the names of companies and technicians
// that the rows show. Every such read model walks its batches the same way, live and in a
// rebuild; this is that walk, once.
package requestevents

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
)

// Handlers receive what a batch holds, in the batch's order. Nil handlers are skipped.
type Handlers struct {
	// Undecoded, when set, is asked first about each request event; when it returns true the
	// event is left to it undecoded (a bulk load keeps the events of rows it wrote already).
	Undecoded func(requestID uuid.UUID, rec *eventlog.RecordedEvent) bool
	// Request receives each request event, decoded.
	Request func(requestID uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event)
	// Company and Technician receive the names companies and technicians are created with.
	Company, Technician func(id uuid.UUID, name string)
}

// Reader walks batches. It holds the codecs; it is safe for one goroutine at a time.
type Reader struct {
	requests, directory *eventlog.Codec
	// name is the read model's name, for errors.
	name string
}

// NewReader returns a Reader for the read model called name.
func NewReader(name string) *Reader {
	return &Reader{requests: request.Codec(), directory: dir.Codec(), name: name}
}

var (
	companyCreated       = (*dir.CompanyCreated)(nil).EventType()
	technicianRegistered = (*dir.TechnicianRegistered)(nil).EventType()
)

// Each passes the events of batch to h. Events of other types, and request events of streams
// that are not requests', are ignored, as a read model must ignore what it does not know. It
// stops at the first event that does not decode, with an error that wraps a
// *projections.EventError naming it; h has received every event before it.
func (r *Reader) Each(batch []eventlog.RecordedEvent, h Handlers) error {
	for i := range batch {
		rec := &batch[i]
		switch {
		case r.requests.Knows(rec.Type):
			id, ok := requestID(rec.StreamID)
			if !ok || h.Undecoded != nil && h.Undecoded(id, rec) {
				continue
			}
			e, err := r.requests.Decode(rec.Type, rec.Data)
			if err != nil {
				return r.decodeError(rec, err)
			}
			if h.Request != nil {
				h.Request(id, rec, e)
			}
		case rec.Type == companyCreated || rec.Type == technicianRegistered:
			e, err := r.directory.Decode(rec.Type, rec.Data)
			if err != nil {
				return r.decodeError(rec, err)
			}
			switch e := e.(type) {
			case *dir.CompanyCreated:
				if h.Company != nil {
					h.Company(e.CompanyID, e.Name)
				}
			case *dir.TechnicianRegistered:
				if h.Technician != nil {
					h.Technician(e.TechnicianID, e.Name)
				}
			}
		}
	}
	return nil
}

// decodeError names the event that does not decode, so that a rebuild can park it and go on.
func (r *Reader) decodeError(rec *eventlog.RecordedEvent, err error) error {
	return &projections.EventError{ID: rec.ID, Position: rec.Position,
		Err: fmt.Errorf("%s: decode %s at %s: %w", r.name, rec.Type, rec.Position, err)}
}

func requestID(streamID string) (uuid.UUID, bool) {
	rest, ok := strings.CutPrefix(streamID, request.StreamPrefix)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(rest)
	return id, err == nil
}
