package routing_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/routing"
)

func id(n int) uuid.UUID { return uuid.MustParse(fmt.Sprintf("00000000-0000-0000-0000-%012d", n)) }

var company = id(900)

// num is the number id made the UUID from.
func num(u uuid.UUID) string { return strings.TrimLeft(u.String()[24:], "0") }

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    routing.Mode
		wantErr bool
	}{
		{"off", routing.Off, false},
		{" Round-Robin ", routing.RoundRobin, false},
		{"LEAST-BUSY", routing.LeastBusy, false},
		{"", "", true},
		{"random", "", true},
		{"round_robin", "", true},
	}
	for _, tt := range tests {
		got, err := routing.ParseMode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMode(%q) = %q, %v", tt.in, got, err)
		}
		if tt.wantErr && !errors.Is(err, routing.ErrInvalidMode) {
			t.Errorf("ParseMode(%q) error %v is not ErrInvalidMode", tt.in, err)
		}
	}
}

func TestNewPolicyValidates(t *testing.T) {
	ok := routing.Settings{Mode: routing.RoundRobin, DefaultCapacity: 3, Capacities: map[uuid.UUID]int{id(1): 1}, AwayLimit: 10 * time.Minute}
	tests := []struct {
		name    string
		company uuid.UUID
		change  func(s *routing.Settings)
		want    error
	}{
		{"valid", company, func(*routing.Settings) {}, nil},
		{"no company", uuid.Nil, func(*routing.Settings) {}, routing.ErrMissingCompany},
		{"bad mode", company, func(s *routing.Settings) { s.Mode = "fastest" }, routing.ErrInvalidMode},
		{"capacity 0", company, func(s *routing.Settings) { s.DefaultCapacity = 0 }, routing.ErrInvalidCapacity},
		{"capacity 1", company, func(s *routing.Settings) { s.DefaultCapacity = 1 }, nil},
		{"capacity max", company, func(s *routing.Settings) { s.DefaultCapacity = routing.MaxCapacity }, nil},
		{"capacity over max", company, func(s *routing.Settings) { s.DefaultCapacity = routing.MaxCapacity + 1 }, routing.ErrInvalidCapacity},
		{"override 0", company, func(s *routing.Settings) { s.Capacities = map[uuid.UUID]int{id(1): 0} }, routing.ErrInvalidCapacity},
		{"override nil technician", company, func(s *routing.Settings) { s.Capacities = map[uuid.UUID]int{uuid.Nil: 2} }, routing.ErrInvalidTechnician},
		{"no away limit", company, func(s *routing.Settings) { s.AwayLimit = 0 }, nil},
		{"away limit 1s", company, func(s *routing.Settings) { s.AwayLimit = time.Second }, nil},
		{"away limit under 1s", company, func(s *routing.Settings) { s.AwayLimit = 999 * time.Millisecond }, routing.ErrInvalidAwayLimit},
		{"away limit fraction", company, func(s *routing.Settings) { s.AwayLimit = 1500 * time.Millisecond }, routing.ErrInvalidAwayLimit},
		{"away limit max", company, func(s *routing.Settings) { s.AwayLimit = routing.MaxAwayLimit }, nil},
		{"away limit over max", company, func(s *routing.Settings) { s.AwayLimit = routing.MaxAwayLimit + time.Second }, routing.ErrInvalidAwayLimit},
		{"negative away limit", company, func(s *routing.Settings) { s.AwayLimit = -time.Minute }, routing.ErrInvalidAwayLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.change(&s)
			p, err := routing.NewPolicy(tt.company, s)
			if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
				t.Fatalf("NewPolicy = %v, want %v", err, tt.want)
			}
			if err != nil {
				if p != nil {
					t.Fatal("a refused policy was returned")
				}
				return
			}
			if len(p.Changes()) != 1 {
				t.Fatalf("%d events, want 1", len(p.Changes()))
			}
		})
	}
}

func TestPolicySetRoundTripsAndIsIdempotent(t *testing.T) {
	s := routing.Settings{Mode: routing.LeastBusy, DefaultCapacity: 2, Capacities: map[uuid.UUID]int{id(2): 7, id(1): 4}, AwayLimit: 90 * time.Second}
	p, err := routing.NewPolicy(company, s)
	if err != nil {
		t.Fatal(err)
	}
	typ, data, err := routing.Codec().Encode(p.Changes()[0])
	if err != nil || typ != "routing.policy_set.v1" {
		t.Fatalf("encode: %s %v", typ, err)
	}
	want := `{"company_id":"00000000-0000-0000-0000-000000000900","mode":"least-busy","default_capacity":2,"capacities":[{"technician_id":"00000000-0000-0000-0000-000000000001","capacity":4},{"technician_id":"00000000-0000-0000-0000-000000000002","capacity":7}],"away_limit_seconds":90}`
	if string(data) != want {
		t.Fatalf("payload %s\nwant    %s", data, want)
	}
	decoded, err := routing.Codec().Decode(typ, data)
	if err != nil {
		t.Fatal(err)
	}
	back, err := routing.PolicyFromHistory([]eventlog.Event{decoded})
	if err != nil {
		t.Fatal(err)
	}
	if !back.Settings().Equal(s) || back.CompanyID() != company {
		t.Fatalf("folded %+v, want %+v", back.Settings(), s)
	}
	if back.Settings().CapacityOf(id(2)) != 7 || back.Settings().CapacityOf(id(3)) != 2 {
		t.Fatal("CapacityOf does not take the override, then the default")
	}
	if err := back.Set(s); err != nil || len(back.Changes()) != 0 {
		t.Fatalf("the same settings again: %v, %d events", err, len(back.Changes()))
	}
	s.Mode = routing.Off
	if err := back.Set(s); err != nil || len(back.Changes()) != 1 || back.Settings().Mode != routing.Off {
		t.Fatalf("a change: %v, %d events", err, len(back.Changes()))
	}
	if err := back.Set(routing.Settings{Mode: routing.Off}); !errors.Is(err, routing.ErrInvalidCapacity) || len(back.Changes()) != 1 {
		t.Fatalf("an invalid change: %v", err)
	}
	if _, err := routing.PolicyFromHistory(nil); !errors.Is(err, routing.ErrNotAPolicyStream) {
		t.Fatal(err)
	}
	if routing.Stream(company) != "routing-00000000-0000-0000-0000-000000000900" {
		t.Fatal(routing.Stream(company))
	}
}

func TestEligible(t *testing.T) {
	tests := []struct {
		name string
		c    routing.Candidate
		want bool
	}{
		{"available, access, under capacity", routing.Candidate{Available: true, HasAccess: true, Open: 1, Capacity: 2}, true},
		{"at capacity", routing.Candidate{Available: true, HasAccess: true, Open: 2, Capacity: 2}, false},
		{"over capacity", routing.Candidate{Available: true, HasAccess: true, Open: 3, Capacity: 2}, false},
		{"one below capacity 1", routing.Candidate{Available: true, HasAccess: true, Open: 0, Capacity: 1}, true},
		{"not available", routing.Candidate{HasAccess: true, Capacity: 2}, false},
		{"no access", routing.Candidate{Available: true, Capacity: 2}, false},
		{"zero capacity", routing.Candidate{Available: true, HasAccess: true}, false},
	}
	for _, tt := range tests {
		if got := tt.c.Eligible(); got != tt.want {
			t.Errorf("%s: Eligible = %v", tt.name, got)
		}
	}
}

func TestOldestFirst(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	got := routing.OldestFirst([]routing.Waiting{
		{RequestID: id(3), SubmittedAt: t0.Add(time.Minute)},
		{RequestID: id(2), SubmittedAt: t0},
		{RequestID: id(1), SubmittedAt: t0},
		{RequestID: id(4), SubmittedAt: t0.Add(-time.Hour)},
	})
	want := []uuid.UUID{id(4), id(1), id(2), id(3)}
	for i, w := range want {
		if got[i].RequestID != w {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestChoose(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	avail := func(n, open, capacity int, last time.Time) routing.Candidate {
		return routing.Candidate{ID: id(n), Available: true, HasAccess: true, Open: open, Capacity: capacity, LastAssignedAt: last}
	}
	away := avail(4, 0, 5, time.Time{})
	away.Available = false
	noAccess := avail(5, 0, 5, time.Time{})
	noAccess.HasAccess = false
	tests := []struct {
		name   string
		mode   routing.Mode
		cands  []routing.Candidate
		last   uuid.UUID
		want   uuid.UUID
		wantOK bool
	}{
		{"off never chooses", routing.Off, []routing.Candidate{avail(1, 0, 5, time.Time{})}, uuid.Nil, uuid.Nil, false},
		{"nobody", routing.RoundRobin, nil, uuid.Nil, uuid.Nil, false},
		{"nobody eligible", routing.LeastBusy, []routing.Candidate{away, noAccess, avail(6, 2, 2, time.Time{})}, uuid.Nil, uuid.Nil, false},
		{"round-robin starts at the lowest ID", routing.RoundRobin, []routing.Candidate{avail(3, 0, 5, time.Time{}), avail(1, 0, 5, time.Time{}), avail(2, 0, 5, time.Time{})}, uuid.Nil, id(1), true},
		{"round-robin after the last", routing.RoundRobin, []routing.Candidate{avail(3, 0, 5, time.Time{}), avail(1, 0, 5, time.Time{}), avail(2, 0, 5, time.Time{})}, id(1), id(2), true},
		{"round-robin wraps", routing.RoundRobin, []routing.Candidate{avail(3, 0, 5, time.Time{}), avail(1, 0, 5, time.Time{}), avail(2, 0, 5, time.Time{})}, id(3), id(1), true},
		{"round-robin skips the full", routing.RoundRobin, []routing.Candidate{avail(3, 0, 5, time.Time{}), avail(1, 0, 5, time.Time{}), avail(2, 5, 5, time.Time{})}, id(1), id(3), true},
		{"round-robin skips the away and those without access", routing.RoundRobin, []routing.Candidate{away, noAccess, avail(6, 0, 1, time.Time{})}, id(3), id(6), true},
		{"round-robin after a last who left", routing.RoundRobin, []routing.Candidate{avail(1, 0, 5, time.Time{}), avail(3, 0, 5, time.Time{})}, id(2), id(3), true},
		{"least-busy fewest open", routing.LeastBusy, []routing.Candidate{avail(1, 2, 5, time.Time{}), avail(2, 1, 5, t0), avail(3, 3, 5, time.Time{})}, uuid.Nil, id(2), true},
		{"least-busy tie: waited longest", routing.LeastBusy, []routing.Candidate{avail(1, 1, 5, t0.Add(time.Minute)), avail(2, 1, 5, t0), avail(3, 1, 5, t0.Add(2*time.Minute))}, uuid.Nil, id(2), true},
		{"least-busy tie: never assigned first", routing.LeastBusy, []routing.Candidate{avail(1, 0, 5, t0), avail(2, 0, 5, time.Time{})}, uuid.Nil, id(2), true},
		{"least-busy tie: then ID", routing.LeastBusy, []routing.Candidate{avail(3, 0, 5, t0), avail(2, 0, 5, t0)}, uuid.Nil, id(2), true},
		{"least-busy ignores the full", routing.LeastBusy, []routing.Candidate{avail(1, 1, 1, time.Time{}), avail(2, 4, 5, t0)}, uuid.Nil, id(2), true},
		{"least-busy ignores the away with fewer", routing.LeastBusy, []routing.Candidate{away, avail(2, 3, 5, t0)}, uuid.Nil, id(2), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := routing.Choose(tt.mode, tt.cands, tt.last)
			if ok != tt.wantOK || got.ID != tt.want {
				t.Fatalf("Choose = %s, %v; want %s, %v", got.ID, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	waiting := func(n int) []routing.Waiting {
		var w []routing.Waiting
		for i := range n {
			w = append(w, routing.Waiting{RequestID: id(100 + i), SubmittedAt: t0.Add(time.Duration(n-i) * time.Second)}) // newest first
		}
		return w
	}
	tech := func(n, open, capacity int) routing.Candidate {
		return routing.Candidate{ID: id(n), Available: true, HasAccess: true, Open: open, Capacity: capacity}
	}
	tests := []struct {
		name     string
		mode     routing.Mode
		waiting  []routing.Waiting
		cands    []routing.Candidate
		last     uuid.UUID
		want     []string // "request>technician", request and technician numbers
		wantLast uuid.UUID
	}{
		{"off plans nothing", routing.Off, waiting(2), []routing.Candidate{tech(1, 0, 5)}, uuid.Nil, nil, uuid.Nil},
		{"round-robin rotates, oldest first", routing.RoundRobin, waiting(4), []routing.Candidate{tech(1, 0, 5), tech(2, 0, 5), tech(3, 0, 5)}, id(2),
			[]string{"103>3", "102>1", "101>2", "100>3"}, id(3)},
		{"capacity stops the plan", routing.RoundRobin, waiting(5), []routing.Candidate{tech(1, 0, 1), tech(2, 1, 2)}, uuid.Nil,
			[]string{"104>1", "103>2"}, id(2)},
		{"nobody eligible keeps last", routing.RoundRobin, waiting(2), []routing.Candidate{tech(1, 3, 3)}, id(1), nil, id(1)},
		{"least-busy levels the loads", routing.LeastBusy, waiting(4), []routing.Candidate{tech(1, 2, 5), tech(2, 0, 5)}, uuid.Nil,
			[]string{"103>2", "102>2", "101>1", "100>2"}, id(2)},
		{"least-busy to capacity edge", routing.LeastBusy, waiting(3), []routing.Candidate{tech(1, 0, 1), tech(2, 0, 1)}, uuid.Nil,
			[]string{"102>1", "101>2"}, id(2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, last := routing.Plan(tt.mode, tt.waiting, tt.cands, tt.last, t0.Add(time.Hour))
			var s []string
			for _, a := range got {
				s = append(s, num(a.RequestID)+">"+num(a.TechnicianID))
				if a.Rule != tt.mode {
					t.Errorf("rule %s, want %s", a.Rule, tt.mode)
				}
			}
			if fmt.Sprint(s) != fmt.Sprint(tt.want) || last != tt.wantLast {
				t.Fatalf("Plan = %v (last %s), want %v (last %s)", s, last, tt.want, tt.wantLast)
			}
		})
	}
}

func TestUnansweredAndReason(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name                 string
		customer, technician time.Time
		want                 bool
	}{
		{"nobody wrote", time.Time{}, time.Time{}, true},
		{"only the customer wrote", t0, time.Time{}, true},
		{"the technician answered", t0, t0.Add(time.Second), false},
		{"the customer wrote again", t0.Add(2 * time.Second), t0.Add(time.Second), true},
		{"only the technician wrote", time.Time{}, t0, false},
		{"same instant counts as answered", t0, t0, false},
	}
	for _, tt := range tests {
		if got := routing.Unanswered(tt.customer, tt.technician); got != tt.want {
			t.Errorf("%s: Unanswered = %v", tt.name, got)
		}
	}
	if got := routing.AwayReason("Alice", "Away", 10*time.Minute, 2); got != "away_limit: Alice was Away 10m0s with 2 unanswered requests" {
		t.Fatal(got)
	}
	if got := routing.AwayReason("Bob", "Offline", 90*time.Second, 1); got != "away_limit: Bob was Offline 1m30s with 1 unanswered request" {
		t.Fatal(got)
	}
}

func TestAdmit(t *testing.T) {
	set := func(c uuid.UUID, mode routing.Mode, capacity int) *routing.PolicySet {
		return &routing.PolicySet{CompanyID: c, Mode: mode, DefaultCapacity: capacity}
	}
	tests := []struct {
		name    string
		history []eventlog.Event
		next    eventlog.Event
		ok      bool
	}{
		{"first", nil, set(company, routing.RoundRobin, 2), true},
		{"first without company", nil, set(uuid.Nil, routing.RoundRobin, 2), false},
		{"first invalid", nil, set(company, "fastest", 2), false},
		{"a change", []eventlog.Event{set(company, routing.RoundRobin, 2)}, set(company, routing.LeastBusy, 2), true},
		{"no change", []eventlog.Event{set(company, routing.RoundRobin, 2)}, set(company, routing.RoundRobin, 2), false},
		{"another company", []eventlog.Event{set(company, routing.RoundRobin, 2)}, set(id(901), routing.LeastBusy, 2), false},
		{"invalid capacity", []eventlog.Event{set(company, routing.RoundRobin, 2)}, set(company, routing.RoundRobin, 0), false},
		{"bad away limit", []eventlog.Event{set(company, routing.RoundRobin, 2)}, &routing.PolicySet{CompanyID: company, Mode: routing.Off, DefaultCapacity: 2, AwayLimitSeconds: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p routing.Policy
			for _, e := range tt.history {
				if err := p.Admit(e); err != nil {
					t.Fatal(err)
				}
			}
			err := p.Admit(tt.next)
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, routing.ErrImpossibleEvent)) {
				t.Fatalf("Admit = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
