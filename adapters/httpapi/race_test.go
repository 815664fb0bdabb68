package httpapi_test

import (
	"fmt"
	"net/http"
	"testing"

	"golang.org/x/sync/errgroup"
)

// TestAssignRace is R6 under load: 64 Available technicians with access press "Assign to me"
// on the same request at once. Exactly one wins; every other one gets 409 already_assigned
// naming the winner, and the stream holds exactly one request.assigned event.
func TestAssignRace(t *testing.T) {
	t.Parallel()
	const racers = 64
	e := newEnv(t)
	company := e.createCompany(t, "Acme")
	portal := e.createPortal(t, company, "Acme support")

	techs := make([]*client, racers)
	var signUp errgroup.Group
	signUp.SetLimit(8) // the race is the assignment below, not the sign-ups
	for i := range techs {
		signUp.Go(func() error {
			techs[i] = e.technician(t, fmt.Sprintf("Racer %02d", i), company)
			return nil
		})
	}
	_ = signUp.Wait() // the goroutines fail the test themselves: nothing comes back
	if t.Failed() {
		t.FailNow()
	}
	byID := map[string]*client{}
	for _, c := range techs {
		byID[c.id.String()] = c
	}

	id, _ := e.submit(t, portal, uaWindows)
	results := make([]*response, racers)
	atOnce(racers, func(i int) {
		results[i] = techs[i].post(t, reqPath(id, "assign"), nil)
	})

	var winners []*client
	for i, r := range results {
		if r.Status == http.StatusOK {
			winners = append(winners, techs[i])
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d technicians won the race, want exactly 1", len(winners))
	}
	winner := winners[0]
	for i, r := range results {
		if techs[i] == winner {
			continue
		}
		if r.Status != http.StatusConflict {
			t.Errorf("%s: got %s, want 409 already_assigned", techs[i].name, r)
			continue
		}
		er := r.err(t)
		if er.Code != "already_assigned" || er.Assignee == nil || er.Assignee.ID != winner.id || er.Assignee.Name != winner.name {
			t.Errorf("%s lost but was told %+v, want the winner %s (%s)", techs[i].name, er, winner.name, winner.id)
		}
	}

	h := winner.history(t, id)
	if n := countType(h, "request.assigned.v1"); n != 1 {
		t.Errorf("the stream holds %d request.assigned events, want 1", n)
	}
	if len(h.Events) != 2 || !h.Verified {
		t.Errorf("history: %d events, verified %v", len(h.Events), h.Verified)
	}
	d := winner.details(t, reqPath(id))
	if d.Assignee == nil || d.Assignee.ID != winner.id || d.Status != "active" {
		t.Errorf("details after the race: %+v", d)
	}
}
