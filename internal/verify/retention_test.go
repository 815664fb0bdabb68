package verify_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/internal/app"
	"github.com/helpstream/helpstream/internal/verify"
)

// Companies' retentions verify clean with every stream folded; a retention event no command
// could have written is named, on its own stream and nowhere else.
func TestRetentionEventsVerify(t *testing.T) {
	w := newPostgresWorld(t, 0)
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	forgeries := []struct {
		name  string
		event func(company uuid.UUID) eventlog.Event
		says  string
	}{
		{"negative days", func(c uuid.UUID) eventlog.Event { return &retention.PolicySet{CompanyID: c, EraseAfterDays: -1} }, "whole number of days"},
		{"over ten years", func(c uuid.UUID) eventlog.Event {
			return &retention.PolicySet{CompanyID: c, EraseAfterDays: retention.MaxDays + 1}
		}, "whole number of days"},
		{"another company", func(uuid.UUID) eventlog.Event { return &retention.PolicySet{CompanyID: uuid.New(), EraseAfterDays: 7} }, "another company"},
		{"no company", func(uuid.UUID) eventlog.Event { return &retention.PolicySet{EraseAfterDays: 7} }, "company ID is required"},
	}
	// One company per forgery: a stream's fold stops at its first finding.
	companies := make([]uuid.UUID, len(forgeries))
	for i, f := range forgeries {
		companies[i] = uuid.New()
		w.do(w.app.CreateCompany(ctx, admin, app.CreateCompany{CompanyID: companies[i], Name: "Company " + f.name}))
		w.do(w.app.SetRetention(ctx, admin, app.SetRetention{CompanyID: companies[i], EraseAfterDays: 30}))
		w.do(w.app.SetRetention(ctx, admin, app.SetRetention{CompanyID: companies[i], EraseAfterDays: 0}))
	}
	w.waitReadable()
	if rep := w.verifyLog(verify.Config{}); !rep.OK() || len(rep.Unfolded) != 0 {
		t.Fatalf("findings in a clean log with retentions: %+v, unfolded %v", rep.Findings, rep.Unfolded)
	}

	var wants []want
	var streams []string
	for i, f := range forgeries {
		stream := retention.Stream(companies[i])
		w.appendSealed(stream, f.event(companies[i]))
		wants = append(wants, want{verify.KindFold, stream, 2, f.says})
		streams = append(streams, stream)
	}
	expectFindings(t, w.verifyLog(verify.Config{}), wants, streams...)
}
