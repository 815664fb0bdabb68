package routing

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Candidate is a technician as the selection rules see them for one company.
type Candidate struct {
	ID uuid.UUID
	// Available: their status is Available.
	Available bool
	// HasAccess: they may serve the company's requests.
	HasAccess bool
	// Open is how many of the company's open requests they hold, those decided for them but
	// not yet appended included.
	Open int
	// Capacity is the most open requests they may hold (Settings.CapacityOf).
	Capacity int
	// LastAssignedAt is when they were last given a request of the company; zero: never.
	LastAssignedAt time.Time
}

// Eligible reports whether the technician may be given one more request: Available, with
// access to the company, and under capacity.
func (c Candidate) Eligible() bool {
	return c.Available && c.HasAccess && c.Open < c.Capacity
}

// Waiting is an open request nobody holds (New), waiting since SubmittedAt.
type Waiting struct {
	RequestID   uuid.UUID
	SubmittedAt time.Time
}

// OldestFirst orders waiting requests oldest first, by ID when submitted at the same instant.
func OldestFirst(waiting []Waiting) []Waiting {
	out := slices.Clone(waiting)
	slices.SortFunc(out, func(a, b Waiting) int {
		if c := a.SubmittedAt.Compare(b.SubmittedAt); c != 0 {
			return c
		}
		return compareIDs(a.RequestID, b.RequestID)
	})
	return out
}

func compareIDs(a, b uuid.UUID) int {
	for i := range a {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// Choose picks the technician to give the next request to under mode, among candidates;
// last is the technician chosen last for the company (round-robin rotates after them). ok is
// false when nobody is eligible or the mode is Off.
//
//   - Round-robin: the eligible technicians in ID order, the first after last, wrapping round.
//   - Least-busy: the fewest open requests; a tie goes to who has waited longest since their last
//     assignment (never assigned first), then to the lower ID.
func Choose(mode Mode, candidates []Candidate, last uuid.UUID) (Candidate, bool) {
	var eligible []Candidate
	for _, c := range candidates {
		if c.Eligible() {
			eligible = append(eligible, c)
		}
	}
	if len(eligible) == 0 {
		return Candidate{}, false
	}
	switch mode {
	case RoundRobin:
		slices.SortFunc(eligible, func(a, b Candidate) int { return compareIDs(a.ID, b.ID) })
		for _, c := range eligible {
			if compareIDs(c.ID, last) > 0 {
				return c, true
			}
		}
		return eligible[0], true
	case LeastBusy:
		return slices.MinFunc(eligible, func(a, b Candidate) int {
			if c := cmp.Compare(a.Open, b.Open); c != 0 {
				return c
			}
			if c := a.LastAssignedAt.Compare(b.LastAssignedAt); c != 0 {
				return c
			}
			return compareIDs(a.ID, b.ID)
		}), true
	}
	return Candidate{}, false
}

// Assignment is one decision of Plan: give RequestID to TechnicianID, by Rule.
type Assignment struct {
	RequestID    uuid.UUID
	TechnicianID uuid.UUID
	Rule         Mode
}

// Plan assigns waiting requests, oldest first, one at a time by Choose, counting each
// assignment in its technician's load (and as their latest, at now) before the next, until no
// request waits or nobody is eligible. It returns the assignments in order, and the technician
// chosen last (last again when none was).
func Plan(mode Mode, waiting []Waiting, candidates []Candidate, last uuid.UUID, now time.Time) ([]Assignment, uuid.UUID) {
	if mode != RoundRobin && mode != LeastBusy {
		return nil, last
	}
	cands := slices.Clone(candidates)
	var out []Assignment
	for _, w := range OldestFirst(waiting) {
		chosen, ok := Choose(mode, cands, last)
		if !ok {
			break
		}
		for i := range cands {
			if cands[i].ID == chosen.ID {
				cands[i].Open++
				cands[i].LastAssignedAt = now
			}
		}
		out = append(out, Assignment{RequestID: w.RequestID, TechnicianID: chosen.ID, Rule: mode})
		last = chosen.ID
	}
	return out, last
}

// Unanswered reports whether a request's customer waits for a technician's reply: no
// technician wrote in its chat, or the customer wrote after the last technician message.
func Unanswered(lastCustomerMessage, lastTechnicianMessage time.Time) bool {
	return lastTechnicianMessage.IsZero() || lastCustomerMessage.After(lastTechnicianMessage)
}

// AwayLimitRule is the rule a reassignment names in its decision.
const AwayLimitRule = "away_limit"

// AwayReason is the reason recorded when a request is given back for its assignee: who, in
// which status, for how long, with how many unanswered requests.
func AwayReason(name, status string, limit time.Duration, unanswered int) string {
	noun := "requests"
	if unanswered == 1 {
		noun = "request"
	}
	return fmt.Sprintf("%s: %s was %s %s with %d unanswered %s", AwayLimitRule, name, status, limit, unanswered, noun)
}

// AutoNotePrefix starts the chat entry's body of an automatic assignment: "auto:round-robin".
const AutoNotePrefix = "auto:"

// AssignmentNote is what the chat entry of an assignment keeps of how it was decided:
// AutoNotePrefix and the rule for the auto-assignment's, "" for a person's.
func AssignmentNote(m eventlog.Metadata) string {
	if d := m.Decision; d != nil && d.By == eventlog.DecisionAutoAssignment {
		return AutoNotePrefix + d.Rule
	}
	return ""
}
