package leader_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/internal/leader"
)

// TestOneLeaderAndFailover: of two campaigns for one key only one leads; the other takes over
// when the first stops. When the lock connection of a leader dies, the lock goes to the other
// and the old leader's work is cancelled at its next check of the connection: for up to one
// Retry both may run, which is why the work itself must not rest on the lock alone (the
// projections and the forwarder lock their checkpoint rows).
func TestOneLeaderAndFailover(t *testing.T) {
	pool, _ := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var leading atomic.Int32
	var maxLeading atomic.Int32
	var leads sync.Map // name → number of times it led
	start := func(name string) (stop func()) {
		runCtx, stopRun := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			leader.Run(runCtx, leader.Campaign{Pool: pool, Key: 4242, Name: name, Retry: 50 * time.Millisecond,
				Logger: slog.New(slog.DiscardHandler)}, func(ctx context.Context) {
				n, _ := leads.LoadOrStore(name, new(atomic.Int32))
				n.(*atomic.Int32).Add(1)
				now := leading.Add(1)
				for m := maxLeading.Load(); now > m && !maxLeading.CompareAndSwap(m, now); m = maxLeading.Load() {
				}
				<-ctx.Done()
				leading.Add(-1)
			})
		}()
		return func() { stopRun(); <-done }
	}
	timesLed := func(name string) int32 {
		n, ok := leads.Load(name)
		if !ok {
			return 0
		}
		return n.(*atomic.Int32).Load()
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	stopA := start("leader-test a")
	waitFor("a to lead", func() bool { return timesLed("leader-test a") == 1 })
	stopB := start("leader-test b")
	defer stopB()
	time.Sleep(300 * time.Millisecond)
	if timesLed("leader-test b") != 0 {
		t.Fatal("b leads while a holds the lock")
	}
	stopA()
	waitFor("b to take over", func() bool { return timesLed("leader-test b") == 1 })

	if maxLeading.Load() != 1 {
		t.Fatalf("%d campaigns led at once", maxLeading.Load())
	}

	stopA = start("leader-test a")
	defer stopA()
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'leader-test b'`); err != nil {
		t.Fatal(err)
	}
	waitFor("a to lead after b's lock connection died", func() bool { return timesLed("leader-test a") == 2 })
	waitFor("b's work to be cancelled", func() bool { return leading.Load() == 1 })
}
