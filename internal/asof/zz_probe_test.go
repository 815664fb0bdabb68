package asof_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/helpstream/helpstream/adapters/eventjson"
	pgstore "github.com/helpstream/helpstream/adapters/eventstore/postgres"
	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/internal/asof"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestProbeAt(t *testing.T) {
	eventjson.Install()
	ctx := context.Background()
	store, pool := pgtest.NewEventStore(t, pgstore.Config{})
	seedList(t, store, 100_000) // probe
	pool.Exec(ctx, "ANALYZE events")
	for range 4 {
		w, c := time.Now(), cpu()
		n := 0
		for from := eventlog.Start(); ; {
			page, _ := store.ReadAll(ctx, from, eventlog.ReadOptions{Limit: 5000})
			if len(page) == 0 {
				break
			}
			n += len(page)
			from = page[len(page)-1].Position
		}
		t.Logf("readall: wall %v cpu %v (%d)", time.Since(w), cpu()-c, n)
		w, c = time.Now(), cpu()
		s, _ := asof.At(ctx, store, time.Now())
		t.Logf("at: wall %v cpu %v (%d)", time.Since(w), cpu()-c, s.Events())
	}
}
