package requestevents_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	dir "github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/projections"
	"github.com/helpstream/helpstream/projections/requestevents"
)

func record(t *testing.T, stream string, e eventlog.Event) eventlog.RecordedEvent {
	t.Helper()
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return eventlog.RecordedEvent{ID: uuid.New(), StreamID: stream, Type: e.EventType(), Data: data}
}

func TestEach(t *testing.T) {
	req, other, company, tech := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	batch := []eventlog.RecordedEvent{
		record(t, "company-"+company.String(), &dir.CompanyCreated{CompanyID: company, Name: "Acme"}),
		record(t, "technician-"+tech.String(), &dir.TechnicianRegistered{TechnicianID: tech, Name: "Tess"}),
		record(t, "technician-"+tech.String(), &dir.AvailabilityChanged{TechnicianID: tech, Availability: dir.Busy}),
		record(t, request.StreamPrefix+req.String(), &request.Assigned{TechnicianID: tech}),
		record(t, request.StreamPrefix+other.String(), &request.Closed{TechnicianID: tech}),
		record(t, "not-a-request-"+req.String(), &request.Assigned{TechnicianID: tech}),
		record(t, request.StreamPrefix+"not-a-uuid", &request.Assigned{TechnicianID: tech}),
		{ID: uuid.New(), StreamID: "x", Type: "something.else.v1", Data: json.RawMessage(`{}`)},
	}
	var got []string
	err := requestevents.NewReader("test").Each(batch, requestevents.Handlers{
		Undecoded: func(id uuid.UUID, rec *eventlog.RecordedEvent) bool {
			if id == other {
				got = append(got, "undecoded "+rec.Type)
				return true
			}
			return false
		},
		Request: func(id uuid.UUID, rec *eventlog.RecordedEvent, e eventlog.Event) {
			if id != req || e.EventType() != rec.Type {
				t.Errorf("request event %s of %s for %s", e.EventType(), rec.StreamID, id)
			}
			got = append(got, "request "+rec.Type)
		},
		Company:    func(id uuid.UUID, name string) { got = append(got, "company "+name) },
		Technician: func(id uuid.UUID, name string) { got = append(got, "technician "+name) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "company Acme|technician Tess|request request.assigned.v1|undecoded request.closed.v1"
	if strings.Join(got, "|") != want {
		t.Fatalf("handlers saw %q, want %q", strings.Join(got, "|"), want)
	}
	// Nil handlers are skipped.
	if err := requestevents.NewReader("test").Each(batch, requestevents.Handlers{}); err != nil {
		t.Fatal(err)
	}
}

func TestEachDecodeErrorNamesTheReadModel(t *testing.T) {
	good := record(t, "company-"+uuid.NewString(), &dir.CompanyCreated{CompanyID: uuid.New(), Name: "Acme"})
	for _, rec := range []eventlog.RecordedEvent{
		{ID: uuid.New(), StreamID: request.StreamPrefix + uuid.NewString(), Type: "request.assigned.v1", Data: json.RawMessage(`{"technician_id":1}`),
			Position: eventlog.NewPosition(7, 1)},
		{ID: uuid.New(), StreamID: "company-x", Type: "company.created.v1", Data: json.RawMessage(`[]`), Position: eventlog.NewPosition(7, 2)},
	} {
		// The events before the bad one are handed over, none after it, and the error names
		// it: a rebuild parks it and goes on with the rest.
		var seen []string
		err := requestevents.NewReader("request list").Each([]eventlog.RecordedEvent{good, rec, good}, requestevents.Handlers{
			Company: func(_ uuid.UUID, name string) { seen = append(seen, name) },
		})
		if err == nil || !strings.Contains(err.Error(), "request list: decode "+rec.Type) {
			t.Errorf("%s: error %v, want one naming the read model and the type", rec.Type, err)
		}
		var failed *projections.EventError
		if !errors.As(err, &failed) || failed.ID != rec.ID || failed.Position != rec.Position {
			t.Errorf("%s: error %#v does not name the event %s at %s", rec.Type, err, rec.ID, rec.Position)
		}
		if len(seen) != 1 {
			t.Errorf("%s: the handlers saw %d events around the bad one, want the one before it", rec.Type, len(seen))
		}
	}
}

func TestRows(t *testing.T) {
	rows := requestevents.NewRows[string]()
	a, b, c := uuid.New(), uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{a, b, c} {
		row := id.String()
		rows.Add(id, &row)
	}
	rows.Close(b)
	rows.Close(uuid.New()) // not held: nothing happens
	if rows.Held() != 3 || rows.Open(b) != nil || rows.Open(a) == nil {
		t.Fatalf("after closing b: held %d, open b %v, open a %v", rows.Held(), rows.Open(b), rows.Open(a))
	}
	late := eventlog.RecordedEvent{ID: uuid.New()}
	if rows.Undecoded(a, &late) || !rows.Undecoded(b, &late) {
		t.Fatal("Undecoded should keep the events of written rows only")
	}
	closed, lateEvents := rows.TakeClosed()
	if len(closed) != 1 || *closed[0] != b.String() || len(lateEvents) != 1 || rows.Held() != 2 {
		t.Fatalf("TakeClosed: %d rows, %d late, %d held", len(closed), len(lateEvents), rows.Held())
	}
	all, lateEvents := rows.TakeAll()
	if len(all) != 2 || len(lateEvents) != 0 || rows.Held() != 0 || !rows.Undecoded(c, &late) {
		t.Fatalf("TakeAll: %d rows, %d late, %d held", len(all), len(lateEvents), rows.Held())
	}
}
