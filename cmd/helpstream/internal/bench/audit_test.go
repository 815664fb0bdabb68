package bench_test

import (
	"io"
	"testing"
	"time"

	"github.com/helpstream/helpstream/cmd/helpstream/internal/bench"
)

// TestRunAudit runs the audit benchmark on a small log: the seed is anchored, every round reads
// and verifies the whole log, and a log written by the domain has no finding.
func TestRunAudit(t *testing.T) {
	s := newScratch(t, "seeds and anchors a log and verifies it", time.Minute, withoutProjectors)
	rep, err := bench.RunAudit(s.ctx, bench.AuditConfig{Pool: s.pool, Store: s.store, Events: 4321, Rounds: 2, PageSize: 500}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Seed.Events < 4321 || rep.Anchors == 0 || len(rep.Read) != 2 || len(rep.Verify) != 2 || len(rep.Findings) != 0 {
		t.Fatalf("report: seed %+v, %d anchors, %d reads, %d verifications, findings %+v", rep.Seed, rep.Anchors, len(rep.Read), len(rep.Verify), rep.Findings)
	}
	for i := range rep.Read {
		// The log holds the seed and its anchors; both sides read all of it.
		if rep.Read[i].Events != rep.Verify[i].Events || rep.Read[i].Events < rep.Seed.Events {
			t.Fatalf("round %d: read %d events, verified %d, seeded %d", i+1, rep.Read[i].Events, rep.Verify[i].Events, rep.Seed.Events)
		}
	}
	if r := rep.Ratio(); r <= 0 {
		t.Fatalf("ratio %v", r)
	}
}
