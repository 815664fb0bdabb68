package routing_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/process"
	routingpm "github.com/helpstream/helpstream/internal/routing"
)

// A give-back decided while the assignee was away is refused when they are Available again
// by the time it executes (a late Flush, such as a new leader's after a crash): the request
// stays theirs and nothing is written.
func TestGiveBackRefusedOnceTheAssigneeIsBack(t *testing.T) {
	d := newDeployment(t)
	var w *world
	var back atomic.Bool
	svc, _ := d.start(routingpm.Options{BeforeExecute: func(c process.Command) error {
		if c.Kind == "give-back" && back.CompareAndSwap(false, true) {
			w.setStatus(w.techs[0], directory.Available)
		}
		return nil
	}})
	w = newWorld(t, d, svc, 1)
	alice := w.techs[0]
	w.setStatus(alice, directory.Available)
	w.policy(routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 5, AwayLimit: time.Second})
	silent := w.submit()
	w.waitAssigned(1, nil)
	w.setStatus(alice, directory.Away)
	waitUntil(t, "the give-back executes", 10*time.Second, back.Load)
	waitUntil(t, "the outbox is empty", 10*time.Second, func() bool {
		pending, err := process.Outbox{Owner: routingpm.Name}.Pending(context.Background(), d.pool, 10)
		return err == nil && len(pending) == 0
	})
	time.Sleep(10 * tick)
	s := w.fold(nil)
	if len(s.unassigned) != 0 || s.assignee[silent] != alice || len(s.order) != 1 {
		t.Fatalf("%d give-backs, %d assignments, request with %s: want it left with Alice", len(s.unassigned), len(s.order), w.names[s.assignee[silent]])
	}
}
