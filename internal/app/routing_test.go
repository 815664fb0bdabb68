package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
)

func TestSetRoutingPolicy(t *testing.T) {
	w := newWorld(t, 1)
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	got, err := w.app.RoutingPolicy(ctx, w.companyID)
	if err != nil || !got.Equal(routing.DefaultSettings()) {
		t.Fatalf("never set: %+v %v, want the defaults", got, err)
	}
	want := routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 2, Capacities: map[uuid.UUID]int{w.techs[0]: 4}, AwayLimit: 5 * time.Minute}
	res := must(t, func() (app.Result, error) {
		return w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.companyID, Settings: want})
	})
	if !res.Written || res.StreamID != routing.Stream(w.companyID) || res.Version != 0 {
		t.Fatalf("first set: %+v", res)
	}
	again := must(t, func() (app.Result, error) {
		return w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.companyID, Settings: want})
	})
	if again.Written {
		t.Fatal("the same settings again were written")
	}
	want.Mode = routing.LeastBusy
	if res := must(t, func() (app.Result, error) {
		return w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.companyID, Settings: want})
	}); res.Version != 1 {
		t.Fatalf("second set at version %d", res.Version)
	}
	if got, err := w.app.RoutingPolicy(ctx, w.companyID); err != nil || !got.Equal(want) {
		t.Fatalf("read back %+v %v, want %+v", got, err, want)
	}
	if _, err := w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: uuid.New(), Settings: want}); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown company: %v", err)
	}
	if _, err := w.app.RoutingPolicy(ctx, uuid.New()); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("unknown company's policy: %v", err)
	}
	bad := want
	bad.DefaultCapacity = 0
	if _, err := w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.companyID, Settings: bad}); !errors.Is(err, routing.ErrInvalidCapacity) {
		t.Fatalf("invalid capacity: %v", err)
	}
}

// The system's assignment and give-back carry their decision in the metadata, and are refused
// when the state moved on.
func TestAutoAssignAndGiveBack(t *testing.T) {
	w := newWorld(t, 2)
	ctx := context.Background()
	id := w.submit(t, request.Windows)
	assign := app.Meta{Actor: app.Actor{Kind: "system"}, IdempotencyKey: uuid.NewString(), Command: "routing assign",
		Decision: &eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: "round-robin"}}
	if _, err := w.app.AutoAssign(ctx, app.Meta{Actor: app.Admin, Decision: assign.Decision}, app.AutoAssign{RequestID: id, TechnicianID: w.techs[0]}); !errors.Is(err, app.ErrNotSystem) {
		t.Fatalf("admin: %v", err)
	}
	if _, err := w.app.AutoAssign(ctx, app.Meta{Actor: app.Actor{Kind: "system"}}, app.AutoAssign{RequestID: id, TechnicianID: w.techs[0]}); !errors.Is(err, app.ErrNoDecision) {
		t.Fatalf("no decision: %v", err)
	}
	res := must(t, func() (app.Result, error) {
		return w.app.AutoAssign(ctx, assign, app.AutoAssign{RequestID: id, TechnicianID: w.techs[0]})
	})
	// The same decision again (a retry after a crash) writes nothing more.
	retry := must(t, func() (app.Result, error) {
		return w.app.AutoAssign(ctx, assign, app.AutoAssign{RequestID: id, TechnicianID: w.techs[0]})
	})
	if retry.Version != res.Version {
		t.Fatalf("retry landed at %d, first at %d", retry.Version, res.Version)
	}
	other := assign
	other.IdempotencyKey = uuid.NewString()
	if _, err := w.app.AutoAssign(ctx, other, app.AutoAssign{RequestID: id, TechnicianID: w.techs[1]}); !errors.Is(err, request.ErrAlreadyAssigned) {
		t.Fatalf("already assigned: %v", err)
	}
	give := app.Meta{Actor: app.Actor{Kind: "system"}, IdempotencyKey: uuid.NewString(), Command: "routing give-back",
		Decision: &eventlog.Decision{By: eventlog.DecisionReassignment, Rule: routing.AwayLimitRule, Reason: "away_limit: Tech 00 was Away 1m0s with 1 unanswered request"}}
	if _, err := w.app.GiveBack(ctx, give, app.GiveBack{RequestID: id, TechnicianID: w.techs[0], Reason: give.Decision.Reason}); !errors.Is(err, app.ErrAssigneeBack) {
		t.Fatalf("assignee Available: %v", err)
	}
	for _, tech := range w.techs {
		must(t, func() (app.Result, error) {
			return w.app.SetAvailability(ctx, app.Meta{Actor: app.Actor{Kind: "technician", ID: tech}}, app.SetAvailability{TechnicianID: tech, Availability: "away"})
		})
	}
	if _, err := w.app.GiveBack(ctx, give, app.GiveBack{RequestID: id, TechnicianID: w.techs[1], Reason: give.Decision.Reason}); !errors.Is(err, request.ErrNotAssignee) {
		t.Fatalf("not the assignee: %v", err)
	}
	must(t, func() (app.Result, error) {
		return w.app.GiveBack(ctx, give, app.GiveBack{RequestID: id, TechnicianID: w.techs[0], Reason: give.Decision.Reason})
	})
	events, err := w.store.ReadStream(ctx, request.Stream(id), 0, eventlog.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := eventlog.VerifyChain(events); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	if len(events) != 3 || events[1].Type != "request.assigned.v1" || events[2].Type != "request.unassigned.v1" {
		t.Fatalf("stream %v", types)
	}
	if d := events[1].Metadata.Decision; d == nil || *d != *assign.Decision || events[1].Metadata.Actor != "system" {
		t.Fatalf("assignment metadata %+v", events[1].Metadata)
	}
	if d := events[2].Metadata.Decision; d == nil || *d != *give.Decision {
		t.Fatalf("give-back metadata %+v", events[2].Metadata)
	}
	if events[0].Metadata.Decision != nil {
		t.Fatal("a customer's submission carries a decision")
	}
}
