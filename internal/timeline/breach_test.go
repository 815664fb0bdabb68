package timeline_test

import (
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/timeline"
)

// A breach the system recorded is a step of the history, said in words, and the fold admits it.
func TestTimelineOfABreach(t *testing.T) {
	w := newWorld(t)
	w.submit()
	w.add("system", &request.SLABreached{Target: "first_reply", DueAt: time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC), TargetSeconds: 900})
	tl := build(t, w, timeline.End())
	if !tl.Verdict.OK || len(tl.Steps) != 2 {
		t.Fatalf("verdict %+v, %d steps", tl.Verdict, len(tl.Steps))
	}
	step := tl.Steps[1]
	if want := "the first reply service-level target (15m0s of business time) ran out at 2026-03-02T10:15:00Z"; step.Summary != want || step.Actor != "system" {
		t.Fatalf("step: actor %q, summary %q; want the system, %q", step.Actor, step.Summary, want)
	}
	if step.State.Status != request.StatusNew {
		t.Fatalf("a breach changed the status: %+v", step.State)
	}
}
