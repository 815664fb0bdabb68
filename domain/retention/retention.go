// Package retention is how long a company keeps its customers' personal data (issue 17, item
// 3): a policy per company, on a stream of its own, that the retention process manager
// (internal/retention) applies by erasing a customer once every request they submitted has been
// closed for longer than the retention of its company.
package retention

import (
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// MaxDays bounds a retention: ten years.
const MaxDays = 3650

// PolicySet records a company's retention: its customers' personal data is erased
// EraseAfterDays days after their last request was closed; 0 keeps it. It starts the stream
// retention-<company ID> and replaces what an earlier one set.
type PolicySet struct {
	CompanyID      uuid.UUID `json:"company_id"`
	EraseAfterDays int       `json:"erase_after_days"`
}

func (*PolicySet) EventType() string { return "retention.policy_set.v1" }

// Codec reads and writes the retention events.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(func() eventlog.Event { return &PolicySet{} })
}

// StreamPrefix starts every retention stream's name.
const StreamPrefix = "retention-"

// Stream is the stream of one company's retention.
func Stream(companyID uuid.UUID) string { return StreamPrefix + companyID.String() }

// Errors of the policy's commands and of FromHistory.
var (
	ErrMissingCompany  = errors.New("a company ID is required")
	ErrInvalidDays     = fmt.Errorf("the retention must be a whole number of days from 0 (keep) to %d", MaxDays)
	ErrNotPolicyStream = errors.New("history does not start with retention.policy_set")
)

// Policy is one company's retention: the aggregate of its stream.
type Policy struct {
	companyID uuid.UUID
	days      int
	// set: the stream has its first event (folded or recorded).
	set bool
	eventlog.Recorder
}

// New returns the first retention of a company.
func New(companyID uuid.UUID, days int) (*Policy, error) {
	if companyID == uuid.Nil {
		return nil, ErrMissingCompany
	}
	p := &Policy{companyID: companyID}
	if err := p.Set(days); err != nil {
		return nil, err
	}
	return p, nil
}

// FromHistory rebuilds a company's retention from its stream.
func FromHistory(history []eventlog.Event) (*Policy, error) {
	return eventlog.Replay[*PolicySet](&Policy{}, history, ErrNotPolicyStream)
}

// Clone returns a copy without uncommitted changes.
func (p *Policy) Clone() *Policy {
	return &Policy{companyID: p.companyID, days: p.days, set: p.set}
}

// Fold brings the policy up to date with later events.
func (p *Policy) Fold(later []eventlog.Event) {
	for _, e := range later {
		p.apply(e)
	}
}

func (p *Policy) CompanyID() uuid.UUID { return p.companyID }

// EraseAfterDays is the retention in days; 0 keeps the data.
func (p *Policy) EraseAfterDays() int { return p.days }

// Set replaces the retention. Setting what the policy has records nothing.
func (p *Policy) Set(days int) error {
	if days < 0 || days > MaxDays {
		return ErrInvalidDays
	}
	if p.companyID == uuid.Nil {
		return ErrMissingCompany
	}
	if p.set && days == p.days {
		return nil
	}
	p.Record(p.apply, &PolicySet{CompanyID: p.companyID, EraseAfterDays: days})
	return nil
}

func (p *Policy) apply(e eventlog.Event) {
	if e, ok := e.(*PolicySet); ok {
		days := e.EraseAfterDays
		if days < 0 || days > MaxDays { // never recorded by Set; Admit refuses it
			days = 0
		}
		p.companyID, p.days, p.set = e.CompanyID, days, true
	}
}

// ErrImpossibleEvent is matched by every refusal of Admit.
var ErrImpossibleEvent = errors.New("no command could have recorded this event")

var (
	errOtherCompany = errors.New("the event names another company than the stream's")
	errNotOurs      = errors.New("it is not a retention event")
)

// Admit checks that e could follow the policy's history (the verifier's fold), then folds it in.
func (p *Policy) Admit(e eventlog.Event) error {
	if err := p.admits(e); err != nil {
		return fmt.Errorf("%w: %s cannot follow: %w", ErrImpossibleEvent, e.EventType(), err)
	}
	p.apply(e)
	return nil
}

func (p *Policy) admits(e eventlog.Event) error {
	set, ok := e.(*PolicySet)
	switch {
	case !ok:
		return errNotOurs
	case set.CompanyID == uuid.Nil:
		return ErrMissingCompany
	case p.set && set.CompanyID != p.companyID:
		return errOtherCompany
	case set.EraseAfterDays < 0 || set.EraseAfterDays > MaxDays:
		return ErrInvalidDays
	}
	return nil
}
