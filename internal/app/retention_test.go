package app_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/retention"
	"github.com/helpstream/helpstream/internal/app"
)

// A company's retention is set, read back, and left alone by the same days again and by every
// refusal: the stream holds one event per change.
func TestSetRetention(t *testing.T) {
	w := newWorld(t, 0)
	ctx := context.Background()
	admin := app.Meta{Actor: app.Admin}
	if got, err := w.app.Retention(ctx, w.companyID); err != nil || got != (app.Retention{CompanyID: w.companyID}) {
		t.Fatalf("never set: %+v %v, want 0 days (keep), not set", got, err)
	}
	unknown := uuid.New()
	steps := []struct {
		name        string
		company     uuid.UUID
		days        int
		wantErr     error
		wantWritten bool
		// wantDays is what the company's retention reads afterwards; wantEvents how many events
		// its stream holds.
		wantDays, wantEvents int
	}{
		{"set", w.companyID, 30, nil, true, 30, 1},
		{"unchanged records nothing", w.companyID, 30, nil, false, 30, 1},
		{"changed", w.companyID, retention.MaxDays, nil, true, retention.MaxDays, 2},
		{"keep", w.companyID, 0, nil, true, 0, 3},
		{"keep again records nothing", w.companyID, 0, nil, false, 0, 3},
		{"negative", w.companyID, -1, retention.ErrInvalidDays, false, 0, 3},
		{"over ten years", w.companyID, retention.MaxDays + 1, retention.ErrInvalidDays, false, 0, 3},
		{"unknown company", unknown, 30, app.ErrNotFound, false, 0, 3},
		{"back to a week", w.companyID, 7, nil, true, 7, 4},
	}
	for _, s := range steps {
		res, err := w.app.SetRetention(ctx, admin, app.SetRetention{CompanyID: s.company, EraseAfterDays: s.days})
		switch {
		case !errors.Is(err, s.wantErr):
			t.Fatalf("%s: %v, want %v", s.name, err, s.wantErr)
		case res.Written != s.wantWritten:
			t.Fatalf("%s: written %v, want %v", s.name, res.Written, s.wantWritten)
		case s.wantWritten && res.StreamID != retention.Stream(s.company):
			t.Fatalf("%s: written to %q", s.name, res.StreamID)
		}
		got, err := w.app.Retention(ctx, w.companyID)
		if err != nil || got != (app.Retention{CompanyID: w.companyID, EraseAfterDays: s.wantDays, Set: true}) {
			t.Fatalf("%s: read back %+v %v, want %d days", s.name, got, err, s.wantDays)
		}
		events, err := w.store.ReadStream(ctx, retention.Stream(w.companyID), 0, eventlog.ReadOptions{})
		if err != nil || len(events) != s.wantEvents {
			t.Fatalf("%s: the stream holds %d events (%v), want %d", s.name, len(events), err, s.wantEvents)
		}
	}
	if _, err := w.app.Retention(ctx, unknown); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("an unknown company's retention: %v", err)
	}
	if events, err := w.store.ReadStream(ctx, retention.Stream(unknown), 0, eventlog.ReadOptions{}); err != nil || len(events) != 0 {
		t.Fatalf("an unknown company's stream holds %d events (%v)", len(events), err)
	}
}
