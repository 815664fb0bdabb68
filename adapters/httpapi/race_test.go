package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
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
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range techs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			techs[i] = e.technician(t, fmt.Sprintf("Racer %02d", i), company)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	byID := map[string]*client{}
	for _, c := range techs {
		byID[c.id.String()] = c
	}

	id, _ := e.submit(t, portal, uaWindows)
	start := make(chan struct{})
	results := make([]*response, racers)
	for i, c := range techs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = c.post(t, reqPath(id, "assign"), nil)
		}()
	}
	close(start)
	wg.Wait()

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
