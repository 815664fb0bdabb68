package servicelevel

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// OpeningData is one opening as events store it: {"day":"mon","from":"09:00","to":"17:00"}.
type OpeningData struct {
	Day  string `json:"day"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (o OpeningData) opening() (Opening, error) {
	day, err := ParseDay(o.Day)
	if err != nil {
		return Opening{}, err
	}
	from, err := ParseClock(o.From)
	if err != nil {
		return Opening{}, fmt.Errorf("%w: %w", ErrInvalidOpening, err)
	}
	to, err := ParseClock(o.To)
	if err != nil {
		return Opening{}, fmt.Errorf("%w: %w", ErrInvalidOpening, err)
	}
	p := Opening{Day: day, From: from, To: to}
	return p, p.validate()
}

// TargetsSet records a company's service levels, all of them at once: the targets (seconds of
// business time, 0 for none) and the weekly business hours (none: 24/7). It starts the stream
// servicelevel-<company ID> and replaces what an earlier one set.
type TargetsSet struct {
	CompanyID         uuid.UUID     `json:"company_id"`
	AssignSeconds     int64         `json:"assign_seconds"`
	FirstReplySeconds int64         `json:"first_reply_seconds"`
	ResolutionSeconds int64         `json:"resolution_seconds"`
	BusinessHours     []OpeningData `json:"business_hours"`
}

func (*TargetsSet) EventType() string { return "servicelevel.targets_set.v1" }

// Levels returns the goals and hours the event sets, or why it sets none a command could have.
func (e *TargetsSet) Levels() (Goals, Hours, error) {
	return Parse(e.AssignSeconds, e.FirstReplySeconds, e.ResolutionSeconds, e.BusinessHours)
}

// Parse reads targets in seconds (0 for none) and openings as events and the API write them.
func Parse(assignSeconds, firstReplySeconds, resolutionSeconds int64, openings []OpeningData) (Goals, Hours, error) {
	for _, s := range []int64{assignSeconds, firstReplySeconds, resolutionSeconds} {
		if s < 0 || s > int64(MaxTarget/time.Second) {
			return Goals{}, Hours{}, ErrInvalidGoal
		}
	}
	g := Goals{
		Assign:     time.Duration(assignSeconds) * time.Second,
		FirstReply: time.Duration(firstReplySeconds) * time.Second,
		Resolution: time.Duration(resolutionSeconds) * time.Second,
	}
	if err := g.Validate(); err != nil {
		return Goals{}, Hours{}, err
	}
	parsed := make([]Opening, 0, len(openings))
	for _, o := range openings {
		p, err := o.opening()
		if err != nil {
			return Goals{}, Hours{}, err
		}
		parsed = append(parsed, p)
	}
	h, err := NewHours(parsed)
	return g, h, err
}

// Data returns the openings as events and the API write them, Sunday first.
func (h Hours) Data() []OpeningData {
	out := []OpeningData{}
	for _, o := range h.Openings() {
		out = append(out, OpeningData{Day: dayNames[o.Day], From: o.From.String(), To: o.To.String()})
	}
	return out
}

// Codec reads and writes the service-level events.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(func() eventlog.Event { return &TargetsSet{} })
}

// StreamPrefix starts every service-level stream's name.
const StreamPrefix = "servicelevel-"

// Stream is the stream of one company's service levels.
func Stream(companyID uuid.UUID) string { return StreamPrefix + companyID.String() }

// Policy is one company's service levels: the aggregate of its stream.
type Policy struct {
	companyID uuid.UUID
	goals     Goals
	hours     Hours
	// set: the stream has its first event (folded or recorded).
	set bool
	eventlog.Recorder
}

// Errors of the policy's commands and of FromHistory.
var (
	ErrMissingCompany  = errors.New("a company ID is required")
	ErrNotPolicyStream = errors.New("history does not start with servicelevel.targets_set")
)

// New returns the first service levels of a company.
func New(companyID uuid.UUID, goals Goals, hours Hours) (*Policy, error) {
	if companyID == uuid.Nil {
		return nil, ErrMissingCompany
	}
	p := &Policy{companyID: companyID}
	if err := p.Set(goals, hours); err != nil {
		return nil, err
	}
	return p, nil
}

// FromHistory rebuilds a company's service levels from its stream.
func FromHistory(history []eventlog.Event) (*Policy, error) {
	return eventlog.Replay[*TargetsSet](&Policy{}, history, ErrNotPolicyStream)
}

// Clone returns a copy without uncommitted changes.
func (p *Policy) Clone() *Policy {
	return &Policy{companyID: p.companyID, goals: p.goals, hours: p.hours, set: p.set}
}

// Fold brings the policy up to date with later events.
func (p *Policy) Fold(later []eventlog.Event) {
	for _, e := range later {
		p.apply(e)
	}
}

func (p *Policy) CompanyID() uuid.UUID { return p.companyID }
func (p *Policy) Goals() Goals         { return p.goals }
func (p *Policy) Hours() Hours         { return p.hours }

// Set replaces the targets and the business hours. Setting what the policy has records nothing.
func (p *Policy) Set(goals Goals, hours Hours) error {
	if err := goals.Validate(); err != nil {
		return err
	}
	if p.companyID == uuid.Nil {
		return ErrMissingCompany
	}
	if p.set && goals == p.goals && hours.Equal(p.hours) {
		return nil
	}
	p.record(p.event(goals, hours))
	return nil
}

func (p *Policy) event(goals Goals, hours Hours) *TargetsSet {
	e := &TargetsSet{
		CompanyID:         p.companyID,
		AssignSeconds:     int64(goals.Assign / time.Second),
		FirstReplySeconds: int64(goals.FirstReply / time.Second),
		ResolutionSeconds: int64(goals.Resolution / time.Second),
		BusinessHours:     hours.Data(),
	}
	return e
}

func (p *Policy) record(e eventlog.Event) { p.Record(p.apply, e) }

func (p *Policy) apply(e eventlog.Event) {
	if e, ok := e.(*TargetsSet); ok {
		g, h, err := e.Levels()
		if err != nil { // never recorded by Set; Admit refuses it: keep the zero levels
			g, h = Goals{}, Hours{}
		}
		p.companyID, p.goals, p.hours, p.set = e.CompanyID, g, h, true
	}
}

// ErrImpossibleEvent is matched by every refusal of Admit.
var ErrImpossibleEvent = errors.New("no command could have recorded this event")

var (
	errOtherCompany = errors.New("the event names another company than the stream's")
	errNotOurs      = errors.New("it is not a service-level event")
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
	set, ok := e.(*TargetsSet)
	if !ok {
		return errNotOurs
	}
	if set.CompanyID == uuid.Nil {
		return ErrMissingCompany
	}
	if p.set && set.CompanyID != p.companyID {
		return errOtherCompany
	}
	_, _, err := set.Levels()
	return err
}
