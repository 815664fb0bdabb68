package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/verify"
)

// A log with routing policies, automatic assignments and reassignments (decisions in their
// metadata, a reason in the give-back) verifies with every stream folded; a policy event that
// no command could have written is named.
func TestRoutingEventsVerify(t *testing.T) {
	w := newPostgresWorld(t, 0)
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	w.do(w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.company,
		Settings: routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 2, AwayLimit: time.Minute}}))
	w.do(w.app.SetRoutingPolicy(ctx, admin, app.SetRoutingPolicy{CompanyID: w.company,
		Settings: routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 3, Capacities: map[uuid.UUID]int{w.techs[0]: 1}}}))
	id := w.request(0) // submitted, nobody took it
	system := func(d eventlog.Decision) app.Meta {
		return app.Meta{Actor: app.Actor{Kind: "system"}, IdempotencyKey: uuid.NewString(), Command: "routing", Decision: &d}
	}
	w.do(w.app.AutoAssign(ctx, system(eventlog.Decision{By: eventlog.DecisionAutoAssignment, Rule: "least-busy"}), app.AutoAssign{RequestID: id, TechnicianID: w.techs[1]}))
	w.do(w.app.SetAvailability(ctx, app.Meta{Actor: app.Actor{Kind: "technician", ID: w.techs[1]}}, app.SetAvailability{TechnicianID: w.techs[1], Availability: "away"}))
	reason := routing.AwayReason("Alan Turing", "Away", time.Minute, 1)
	w.do(w.app.GiveBack(ctx, system(eventlog.Decision{By: eventlog.DecisionReassignment, Rule: routing.AwayLimitRule, Reason: reason}),
		app.GiveBack{RequestID: id, TechnicianID: w.techs[1], Reason: reason}))
	rep := w.verifyLog(verify.Config{})
	if !rep.OK() || len(rep.Unfolded) != 0 {
		t.Fatalf("report %+v", rep)
	}

	// The same settings again: SetRoutingPolicy never writes that.
	w.appendSealed(routing.Stream(w.company), &routing.PolicySet{CompanyID: w.company, Mode: routing.LeastBusy, DefaultCapacity: 3,
		Capacities: []routing.CapacityOverride{{TechnicianID: w.techs[0], Capacity: 1}}})
	expectFindings(t, w.verifyLog(verify.Config{}), []want{{verify.KindFold, routing.Stream(w.company), 2, "it changes nothing"}}, routing.Stream(w.company))
}
