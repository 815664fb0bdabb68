package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/verify"
)

// A company's service levels and the system's breaches verify clean; a breach of a target the
// request breached already is one no command could have recorded.
func TestServiceLevelEventsVerify(t *testing.T) {
	w := newPostgresWorld(t, 3)
	ctx := context.Background()
	hours, err := servicelevel.NewHours([]servicelevel.Opening{{Day: time.Monday, From: 9 * 60, To: 17 * 60}})
	if err != nil {
		t.Fatal(err)
	}
	admin := app.Meta{Actor: app.Admin}
	w.do(w.app.SetServiceLevels(ctx, admin, app.SetServiceLevels{CompanyID: w.company, Goals: servicelevel.Goals{Assign: time.Minute}, Hours: hours}))
	w.do(w.app.SetServiceLevels(ctx, admin, app.SetServiceLevels{CompanyID: w.company, Goals: servicelevel.Goals{Resolution: time.Hour}}))
	id := w.requests[lifeNew]
	system := app.Meta{Actor: app.Actor{Kind: "system"}}
	w.do(w.app.RecordBreach(ctx, system, app.RecordBreach{RequestID: id, Target: servicelevel.TargetAssign, DueAt: time.Now(), Goal: time.Minute}))
	w.waitReadable()
	if rep := w.verifyLog(verify.Config{}); !rep.OK() || len(rep.Unfolded) != 0 {
		t.Fatalf("findings in a clean log with service levels: %+v, unfolded %v", rep.Findings, rep.Unfolded)
	}
	w.appendSealed(request.Stream(id), &request.SLABreached{Target: "assign", DueAt: time.Now().UTC(), TargetSeconds: 60})
	expectFindings(t, w.verifyLog(verify.Config{}), []want{{verify.KindFold, request.Stream(id), anyVersion, "breached that service-level target already"}}, request.Stream(id))
}
