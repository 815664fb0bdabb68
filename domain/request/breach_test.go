package request_test

import (
	"errors"
	"testing"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

var dueAt = time.Date(2026, 1, 5, 10, 15, 0, 0, time.UTC)

func breached(target string) *request.SLABreached {
	return &request.SLABreached{Target: target, DueAt: dueAt, TargetSeconds: 900}
}

// The system records a breach once per target on an open request, in any state.
func TestRecordBreach(t *testing.T) {
	tests := []struct {
		name   string
		s      state
		before []eventlog.Event
		target servicelevel.Target
		goal   time.Duration
		err    error
	}{
		{"new request, assign", stNew, nil, servicelevel.TargetAssign, 15 * time.Minute, nil},
		{"assigned, first reply", stAssigned, nil, servicelevel.TargetFirstReply, 15 * time.Minute, nil},
		{"in chat, resolution", stInChat, nil, servicelevel.TargetResolution, 15 * time.Minute, nil},
		{"another target after one", stNew, []eventlog.Event{breached("assign")}, servicelevel.TargetFirstReply, 15 * time.Minute, nil},
		{"the same target twice", stNew, []eventlog.Event{breached("assign")}, servicelevel.TargetAssign, 15 * time.Minute, request.ErrAlreadyBreached},
		{"closed", stClosed, nil, servicelevel.TargetResolution, 15 * time.Minute, request.ErrClosed},
		{"unknown target", stNew, nil, servicelevel.Target("lunch"), 15 * time.Minute, servicelevel.ErrUnknownTarget},
		{"no goal", stNew, nil, servicelevel.TargetAssign, 0, request.ErrInvalidBreach},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := request.FromHistory(append(history(tt.s, request.Windows), tt.before...))
			if err != nil {
				t.Fatal(err)
			}
			err = r.RecordBreach(tt.target, dueAt, tt.goal)
			if !errors.Is(err, tt.err) {
				t.Fatalf("RecordBreach = %v, want %v", err, tt.err)
			}
			if err != nil {
				if len(r.Changes()) != 0 {
					t.Fatalf("a refused breach recorded %v", r.Changes())
				}
				return
			}
			want := &request.SLABreached{Target: string(tt.target), DueAt: dueAt, TargetSeconds: int64(tt.goal / time.Second)}
			if len(r.Changes()) != 1 || *r.Changes()[0].(*request.SLABreached) != *want {
				t.Fatalf("recorded %v, want %v", r.Changes(), want)
			}
			if !r.Breached().Has(string(tt.target)) || (len(tt.before) > 0 && len(r.Breached().List()) != 2) {
				t.Fatalf("Breached = %v", r.Breached())
			}
			// The verifier admits what the command records, and refuses it once more.
			v, err := request.FromHistory(append(history(tt.s, request.Windows), tt.before...))
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Admit(want); err != nil {
				t.Fatalf("Admit: %v", err)
			}
			if err := v.Admit(want); !errors.Is(err, request.ErrImpossibleEvent) {
				t.Fatalf("Admit twice: %v", err)
			}
		})
	}
}
