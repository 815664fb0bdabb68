package routing_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/directory"
	"github.com/helpstream/helpstream/domain/routing"
	"github.com/helpstream/helpstream/internal/process"
	routingpm "github.com/helpstream/helpstream/internal/routing"
)

// A decision made stale by someone else's assignment never executes: X is decided for Alice
// (capacity 1); before it is appended Bob takes X, so Alice's next decision is Y; then Bob
// gives X back. Executed, the stale X→Alice would put Alice over her capacity.
func TestStaleDecisionNeverExecutes(t *testing.T) {
	d := newDeployment(t)
	var w *world
	var x atomic.Value // the first request's ID, once submitted
	var took, gaveBack atomic.Bool
	svc, _ := d.start(routingpm.Options{BeforeExecute: func(c process.Command) error {
		id, _ := x.Load().(uuid.UUID)
		if id == uuid.Nil || !strings.Contains(string(c.Payload), id.String()) || gaveBack.Load() {
			return nil
		}
		ctx := context.Background()
		bob := w.techs[1]
		if took.CompareAndSwap(false, true) {
			// Before X→Alice is appended: Bob takes X, and Y arrives (least-busy: Y is Alice's).
			if _, err := w.app.AssignToMe(ctx, tech(bob), id); err != nil {
				t.Error(err)
			}
			w.submitWith(w.app)
			return errors.New("held back until Y is decided")
		}
		if pending, err := (process.Outbox{Owner: routingpm.Name}).Pending(ctx, d.pool, 10); err != nil || len(pending) < 2 {
			return errors.New("held back until Y is decided")
		}
		// Y is decided for Alice: Bob gives X back just before the stale X→Alice executes.
		if _, err := w.app.Unassign(ctx, tech(bob), id); err != nil {
			t.Error(err)
		}
		gaveBack.Store(true)
		return nil
	}})
	w = newWorld(t, d, svc, 2)
	alice, bob := w.techs[0], w.techs[1]
	w.setStatus(alice, directory.Available)
	w.setStatus(bob, directory.Available)
	capacity := func(id uuid.UUID) int {
		if id == alice {
			return 1
		}
		return 5
	}
	w.policy(routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 5, Capacities: map[uuid.UUID]int{alice: 1}})
	first := w.submit()
	x.Store(first)
	// Bob's own, Y's automatic, then X again automatically once Bob gave it back.
	s := w.waitAssigned(3, capacity)
	time.Sleep(20 * tick) // nothing more may come
	s = w.fold(capacity)
	if !gaveBack.Load() {
		t.Fatal("the race was not staged")
	}
	if s.overCapAt != "" {
		t.Fatalf("over capacity: %s", s.overCapAt)
	}
	if len(s.order) != 3 {
		t.Fatalf("%d assignments, want 3 (Bob's, Y to Alice, X again)", len(s.order))
	}
	if s.assignee[first] != bob || s.order[2].meta.Decision == nil {
		t.Fatalf("X is with %s (%+v), want Bob by a new automatic decision", w.names[s.assignee[first]], s.order[2].meta.Decision)
	}
}
