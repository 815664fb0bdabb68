package asof_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

// The fold at T passes over routing policies' streams, and keeps in the chat entries how the
// automatic moves were decided, as the details projection does.
func TestRoutingEventsAtT(t *testing.T) {
	w := newWriter(t)
	company, ada, bob := uuid.New(), uuid.New(), uuid.New()
	w.add(directory.CompanyStream(company), "admin", &directory.CompanyCreated{CompanyID: company, Name: "Acme"})
	for _, tech := range []uuid.UUID{ada, bob} {
		w.add(directory.TechnicianStream(tech), "admin", &directory.TechnicianRegistered{TechnicianID: tech, Name: "T", Email: tech.String()[:8] + "@example.com"})
		w.add(directory.TechnicianStream(tech), "admin", &directory.AccessGranted{TechnicianID: tech, CompanyID: company})
	}
	decided := func(stream string, codec *eventlog.Codec, e eventlog.Event, d *eventlog.Decision) {
		w.clock = w.clock.Add(1e9)
		typ, data, err := codec.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.store.AppendAt(w.clock, stream, eventlog.Any(), eventlog.EventData{ID: uuid.New(), Type: typ, Data: data,
			Metadata: eventlog.Metadata{Actor: "system", OccurredAt: w.clock, Decision: d}}); err != nil {
			t.Fatal(err)
		}
	}
	decided(routing.Stream(company), routing.Codec(), &routing.PolicySet{CompanyID: company, Mode: routing.RoundRobin, DefaultCapacity: 2, AwayLimitSeconds: 60}, nil)
	id := uuid.New()
	w.add(request.Stream(id), "customer:"+id.String(), &request.Submitted{RequestID: id, CompanyID: company, PortalID: uuid.New(),
		Customer: request.Customer{Name: "Ann", Email: "ann@example.com"}, Description: "printer", Source: request.Source{Platform: request.Windows}})
	auto := &eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: "round-robin"}
	reason := routing.AwayReason("T", "Away", 60e9, 1)
	decided(request.Stream(id), request.Codec(), &request.Assigned{TechnicianID: ada}, auto)
	decided(request.Stream(id), request.Codec(), &request.Unassigned{TechnicianID: ada, Reason: reason},
		&eventlog.Decision{By: eventlog.DecisionReassignment, Rule: routing.AwayLimitRule, Reason: reason})
	decided(request.Stream(id), request.Codec(), &request.Assigned{TechnicianID: bob}, auto)

	past, err := app.New(at(t, w.store, w.clock).AppConfig())
	if err != nil {
		t.Fatal(err)
	}
	d, err := past.Queries().RequestDetails(context.Background(), app.Viewer{TechnicianID: bob}, id)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, e := range d.Entries {
		if e.Event != "request.submitted.v1" {
			bodies = append(bodies, e.Body)
		}
	}
	if want := []string{"auto:round-robin", reason, "auto:round-robin"}; !slices.Equal(bodies, want) || d.Assignee == nil || d.Assignee.ID != bob {
		t.Fatalf("entries %q (assignee %+v), want %q", bodies, d.Assignee, want)
	}
}
