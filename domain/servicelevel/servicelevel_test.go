package servicelevel_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/eventlog/codectest"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

func TestParseOpening(t *testing.T) {
	tests := []struct {
		in   string
		want servicelevel.Opening
		err  error
	}{
		{"mon 09:00-17:00", servicelevel.Opening{Day: time.Monday, From: 540, To: 1020}, nil},
		{"Sunday 00:00-24:00", servicelevel.Opening{Day: time.Sunday, From: 0, To: 1440}, nil},
		{" sat 08:30-12:15 ", servicelevel.Opening{Day: time.Saturday, From: 510, To: 735}, nil},
		{"mon 17:00-09:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon 09:00-09:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon 09:00-24:30", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon 9:00-17:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon 09:60-17:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"funday 09:00-17:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"mon 09:00", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
		{"", servicelevel.Opening{}, servicelevel.ErrInvalidOpening},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := servicelevel.ParseOpening(tt.in)
			if !errors.Is(err, tt.err) || (tt.err == nil && got != tt.want) {
				t.Fatalf("ParseOpening(%q) = %+v, %v; want %+v, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestNewHours(t *testing.T) {
	o := func(s string) servicelevel.Opening {
		v, err := servicelevel.ParseOpening(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		openings []servicelevel.Opening
		err      error
		always   bool
	}{
		{"none is 24/7", nil, nil, true},
		{"out of order", []servicelevel.Opening{o("tue 14:00-18:00"), o("tue 09:00-12:00")}, nil, false},
		{"touching", []servicelevel.Opening{o("tue 09:00-12:00"), o("tue 12:00-18:00")}, nil, false},
		{"overlapping", []servicelevel.Opening{o("tue 09:00-12:01"), o("tue 12:00-18:00")}, servicelevel.ErrOverlapping, false},
		{"bad day", []servicelevel.Opening{{Day: 7, From: 0, To: 60}}, servicelevel.ErrInvalidOpening, false},
		{"too many", []servicelevel.Opening{o("wed 00:00-01:00"), o("wed 01:00-02:00"), o("wed 02:00-03:00"), o("wed 03:00-04:00"),
			o("wed 04:00-05:00"), o("wed 05:00-06:00"), o("wed 06:00-07:00"), o("wed 07:00-08:00"), o("wed 08:00-09:00")}, servicelevel.ErrTooManyOpenings, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := servicelevel.NewHours(tt.openings)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && h.AlwaysOpen() != tt.always {
				t.Fatalf("AlwaysOpen = %v", h.AlwaysOpen())
			}
			if err == nil && len(h.Openings()) != len(tt.openings) {
				t.Fatalf("openings %v", h.Openings())
			}
		})
	}
}

func TestGoals(t *testing.T) {
	tests := []struct {
		name string
		g    servicelevel.Goals
		err  error
	}{
		{"none", servicelevel.Goals{}, nil},
		{"all", servicelevel.Goals{Assign: time.Minute, FirstReply: time.Hour, Resolution: 72 * time.Hour}, nil},
		{"seconds", servicelevel.Goals{Assign: 2 * time.Second}, nil},
		{"below a second", servicelevel.Goals{Assign: time.Millisecond}, servicelevel.ErrInvalidGoal},
		{"fractions of seconds", servicelevel.Goals{FirstReply: 1500 * time.Millisecond}, servicelevel.ErrInvalidGoal},
		{"negative", servicelevel.Goals{Resolution: -time.Hour}, servicelevel.ErrInvalidGoal},
		{"over a year", servicelevel.Goals{Resolution: 366 * 24 * time.Hour}, servicelevel.ErrInvalidGoal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.g.Validate(); !errors.Is(err, tt.err) {
				t.Fatalf("Validate = %v, want %v", err, tt.err)
			}
		})
	}
	for _, name := range []string{"assign", "first_reply", "resolution"} {
		if _, err := servicelevel.ParseTarget(name); err != nil {
			t.Fatalf("ParseTarget(%q): %v", name, err)
		}
	}
	if _, err := servicelevel.ParseTarget("close"); !errors.Is(err, servicelevel.ErrUnknownTarget) {
		t.Fatalf("ParseTarget(close) = %v", err)
	}
}

var companyID = uuid.MustParse("00000000-0000-0000-0000-0000000000c1")

func TestPolicy(t *testing.T) {
	office := hours(t, "mon 09:00-17:00", "fri 09:00-12:00")
	goals := servicelevel.Goals{Assign: 15 * time.Minute, Resolution: 8 * time.Hour}
	p, err := servicelevel.New(companyID, goals, office)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes()) != 1 || p.Goals() != goals || !p.Hours().Equal(office) || p.CompanyID() != companyID {
		t.Fatalf("New: %+v %v", p.Goals(), p.Changes())
	}
	again, err := servicelevel.FromHistory(p.Changes())
	if err != nil || again.Goals() != goals || !again.Hours().Equal(office) {
		t.Fatalf("FromHistory: %+v %v", again, err)
	}
	// Setting the same levels records nothing; others record one event.
	if err := again.Set(goals, office); err != nil || len(again.Changes()) != 0 {
		t.Fatalf("unchanged Set: %v %v", err, again.Changes())
	}
	if err := again.Set(servicelevel.Goals{FirstReply: time.Hour}, servicelevel.Hours{}); err != nil || len(again.Changes()) != 1 {
		t.Fatalf("Set: %v %v", err, again.Changes())
	}
	if again.Goals().Assign != 0 || !again.Hours().AlwaysOpen() {
		t.Fatalf("Set replaces everything: %+v", again.Goals())
	}
	if err := again.Set(servicelevel.Goals{Assign: time.Millisecond}, office); !errors.Is(err, servicelevel.ErrInvalidGoal) {
		t.Fatalf("invalid Set: %v", err)
	}
	if _, err := servicelevel.New(uuid.Nil, goals, office); !errors.Is(err, servicelevel.ErrMissingCompany) {
		t.Fatalf("New without company: %v", err)
	}
	// The zero levels are a first event too: a company may set "no targets" explicitly.
	zero, err := servicelevel.New(companyID, servicelevel.Goals{}, servicelevel.Hours{})
	if err != nil || len(zero.Changes()) != 1 {
		t.Fatalf("zero levels: %v %v", err, zero.Changes())
	}
	if _, err := servicelevel.FromHistory(nil); !errors.Is(err, servicelevel.ErrNotPolicyStream) {
		t.Fatalf("empty history: %v", err)
	}
}

func TestAdmit(t *testing.T) {
	ok := &servicelevel.TargetsSet{CompanyID: companyID, AssignSeconds: 60, BusinessHours: []servicelevel.OpeningData{{Day: "mon", From: "09:00", To: "17:00"}}}
	other := uuid.MustParse("00000000-0000-0000-0000-0000000000c2")
	tests := []struct {
		name    string
		history []eventlog.Event
		e       eventlog.Event
		refused bool
	}{
		{"first", nil, ok, false},
		{"again", []eventlog.Event{ok}, &servicelevel.TargetsSet{CompanyID: companyID}, false},
		{"another company", []eventlog.Event{ok}, &servicelevel.TargetsSet{CompanyID: other}, true},
		{"no company", nil, &servicelevel.TargetsSet{}, true},
		{"negative", nil, &servicelevel.TargetsSet{CompanyID: companyID, ResolutionSeconds: -1}, true},
		{"too long", nil, &servicelevel.TargetsSet{CompanyID: companyID, ResolutionSeconds: 1 << 40}, true},
		{"bad hours", nil, &servicelevel.TargetsSet{CompanyID: companyID, BusinessHours: []servicelevel.OpeningData{{Day: "mon", From: "17:00", To: "09:00"}}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := new(servicelevel.Policy)
			for _, e := range tt.history {
				if err := p.Admit(e); err != nil {
					t.Fatal(err)
				}
			}
			err := p.Admit(tt.e)
			if (err != nil) != tt.refused || (err != nil && !errors.Is(err, servicelevel.ErrImpossibleEvent)) {
				t.Fatalf("Admit = %v, refused want %v", err, tt.refused)
			}
		})
	}
}

func TestEventWireFormat(t *testing.T) {
	codectest.CheckWireFormat(t, servicelevel.Codec(), []codectest.Wire{
		{Event: &servicelevel.TargetsSet{CompanyID: companyID, AssignSeconds: 900, FirstReplySeconds: 0, ResolutionSeconds: 28800,
			BusinessHours: []servicelevel.OpeningData{{Day: "mon", From: "09:00", To: "17:00"}}},
			Type: "servicelevel.targets_set.v1",
			JSON: `{"company_id":"00000000-0000-0000-0000-0000000000c1","assign_seconds":900,"first_reply_seconds":0,"resolution_seconds":28800,"business_hours":[{"day":"mon","from":"09:00","to":"17:00"}]}`},
	}, 1)
	codectest.CheckRefuses(t, servicelevel.Codec(), []string{"", "servicelevel.targets_set.v2", "request.submitted.v1"})
}

func TestParseOpenings(t *testing.T) {
	tests := []struct {
		in   string
		days []time.Weekday
		err  error
	}{
		{"mon 09:00-17:00", []time.Weekday{time.Monday}, nil},
		{"mon-fri 09:00-17:00", []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, nil},
		{"sat-mon 10:00-12:00", []time.Weekday{time.Saturday, time.Sunday, time.Monday}, nil},
		{"sun-sun 00:00-24:00", []time.Weekday{time.Sunday}, nil},
		{"mon-xyz 09:00-17:00", nil, servicelevel.ErrInvalidOpening},
		{"mon-fri 17:00-09:00", nil, servicelevel.ErrInvalidOpening},
		{"mon-fri", nil, servicelevel.ErrInvalidOpening},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := servicelevel.ParseOpenings(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if len(got) != len(tt.days) {
				t.Fatalf("%v, want days %v", got, tt.days)
			}
			for i, o := range got {
				if o.Day != tt.days[i] {
					t.Fatalf("%v, want days %v", got, tt.days)
				}
			}
		})
	}
}
