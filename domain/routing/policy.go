// Package routing is a company's routing policy (issue 16): whether and how new requests are
// assigned automatically (off, round-robin, least-busy), how many open requests a technician
// may hold (a default per company, overrides per technician), and how long an assignee may be
// Away or Offline with unanswered requests before they go back (reassignment). It also holds
// the selection rules the routing process manager decides with, as pure functions.
package routing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// Mode is how a company's new requests find a technician.
type Mode string

const (
	// Off: technicians take requests themselves (R6); the default.
	Off Mode = "off"
	// RoundRobin: the next eligible technician after the one chosen last, in a fixed order.
	RoundRobin Mode = "round-robin"
	// LeastBusy: the eligible technician with the fewest open assigned requests.
	LeastBusy Mode = "least-busy"
)

// ErrInvalidMode is returned for a mode other than off, round-robin and least-busy.
var ErrInvalidMode = errors.New("mode must be off, round-robin or least-busy")

// ParseMode reads a mode, case-insensitively.
func ParseMode(s string) (Mode, error) {
	m := Mode(strings.ToLower(strings.TrimSpace(s)))
	switch m {
	case Off, RoundRobin, LeastBusy:
		return m, nil
	}
	return "", fmt.Errorf("%w, not %q", ErrInvalidMode, s)
}

// Bounds of a policy's settings.
const (
	// DefaultCapacity is a company's default capacity until an administrator sets one.
	DefaultCapacity = 5
	// MaxCapacity bounds every capacity.
	MaxCapacity = 1000
	// MinAwayLimit and MaxAwayLimit bound the away limit when it is set (0 turns reassignment off).
	MinAwayLimit = time.Second
	MaxAwayLimit = 7 * 24 * time.Hour
	// MaxOverrides bounds the per-technician capacities of one company.
	MaxOverrides = 10_000
)

// Errors of the policy's settings, each naming what to fix.
var (
	ErrMissingCompany    = errors.New("a company ID is required")
	ErrInvalidCapacity   = errors.New("a capacity must be 1 to 1000 open requests")
	ErrInvalidTechnician = errors.New("a capacity override needs a technician ID")
	ErrTooManyOverrides  = errors.New("at most 10000 capacity overrides per company")
	ErrInvalidAwayLimit  = errors.New("the away limit must be 0 (no reassignment) or whole seconds from 1s to 168h")
)

// Settings are what an administrator sets of a company's routing.
type Settings struct {
	// Mode is how new requests are assigned.
	Mode Mode
	// DefaultCapacity is the most open assigned requests a technician holds, unless overridden.
	DefaultCapacity int
	// Capacities overrides DefaultCapacity per technician.
	Capacities map[uuid.UUID]int
	// AwayLimit is how long an assignee may be Away or Offline with unanswered requests before
	// they are given back; 0 never gives them back.
	AwayLimit time.Duration
}

// DefaultSettings is the policy of a company whose administrator never set one: off, the
// default capacity, no reassignment.
func DefaultSettings() Settings {
	return Settings{Mode: Off, DefaultCapacity: DefaultCapacity}
}

// validate checks every setting and returns them normalised.
func (s Settings) validate() (Settings, error) {
	mode, err := ParseMode(string(s.Mode))
	if err != nil {
		return Settings{}, err
	}
	s.Mode = mode
	if s.DefaultCapacity < 1 || s.DefaultCapacity > MaxCapacity {
		return Settings{}, fmt.Errorf("default capacity %d: %w", s.DefaultCapacity, ErrInvalidCapacity)
	}
	if len(s.Capacities) > MaxOverrides {
		return Settings{}, ErrTooManyOverrides
	}
	for id, c := range s.Capacities {
		if id == uuid.Nil {
			return Settings{}, ErrInvalidTechnician
		}
		if c < 1 || c > MaxCapacity {
			return Settings{}, fmt.Errorf("capacity %d of technician %s: %w", c, id, ErrInvalidCapacity)
		}
	}
	if s.AwayLimit != 0 && (s.AwayLimit < MinAwayLimit || s.AwayLimit > MaxAwayLimit || s.AwayLimit%time.Second != 0) {
		return Settings{}, fmt.Errorf("away limit %s: %w", s.AwayLimit, ErrInvalidAwayLimit)
	}
	s.Capacities = maps.Clone(s.Capacities)
	return s, nil
}

// CapacityOf is the technician's capacity under these settings.
func (s Settings) CapacityOf(technicianID uuid.UUID) int {
	if c, ok := s.Capacities[technicianID]; ok {
		return c
	}
	if s.DefaultCapacity <= 0 {
		return DefaultCapacity
	}
	return s.DefaultCapacity
}

// Equal reports whether two settings say the same.
func (s Settings) Equal(o Settings) bool {
	return s.Mode == o.Mode && s.DefaultCapacity == o.DefaultCapacity && s.AwayLimit == o.AwayLimit && maps.Equal(s.Capacities, o.Capacities)
}

// Policy is one company's routing policy, on the stream routing-<company ID>.
type Policy struct {
	companyID uuid.UUID
	settings  Settings
	eventlog.Recorder
}

// NewPolicy starts a company's routing policy with its first settings.
func NewPolicy(companyID uuid.UUID, s Settings) (*Policy, error) {
	if companyID == uuid.Nil {
		return nil, ErrMissingCompany
	}
	s, err := s.validate()
	if err != nil {
		return nil, err
	}
	p := &Policy{}
	p.record(policySet(companyID, s))
	return p, nil
}

// ErrNotAPolicyStream is returned when a history does not start with PolicySet.
var ErrNotAPolicyStream = errors.New("history does not start with routing.policy_set")

// PolicyFromHistory rebuilds a policy from its stream.
func PolicyFromHistory(history []eventlog.Event) (*Policy, error) {
	return eventlog.Replay[*PolicySet](&Policy{}, history, ErrNotAPolicyStream)
}

// Clone returns a copy without uncommitted changes.
func (p *Policy) Clone() *Policy {
	s := p.settings
	s.Capacities = maps.Clone(s.Capacities)
	return &Policy{companyID: p.companyID, settings: s}
}

// Fold brings the policy up to date with later events.
func (p *Policy) Fold(later []eventlog.Event) {
	for _, e := range later {
		p.apply(e)
	}
}

// CompanyID is the company whose policy this is.
func (p *Policy) CompanyID() uuid.UUID { return p.companyID }

// Settings returns the current settings (a copy).
func (p *Policy) Settings() Settings {
	s := p.settings
	s.Capacities = maps.Clone(s.Capacities)
	return s
}

// Set replaces the settings; the same settings again change nothing.
func (p *Policy) Set(s Settings) error {
	s, err := s.validate()
	if err != nil {
		return err
	}
	if s.Equal(p.settings) {
		return nil
	}
	p.record(policySet(p.companyID, s))
	return nil
}

func (p *Policy) record(e eventlog.Event) { p.Record(p.apply, e) }

func (p *Policy) apply(e eventlog.Event) {
	if e, ok := e.(*PolicySet); ok {
		p.companyID = e.CompanyID
		p.settings = e.Settings()
	}
}

func policySet(companyID uuid.UUID, s Settings) *PolicySet {
	e := &PolicySet{CompanyID: companyID, Mode: s.Mode, DefaultCapacity: s.DefaultCapacity, AwayLimitSeconds: int64(s.AwayLimit / time.Second)}
	for _, id := range slices.SortedFunc(maps.Keys(s.Capacities), func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) }) {
		e.Capacities = append(e.Capacities, CapacityOverride{TechnicianID: id, Capacity: s.Capacities[id]})
	}
	return e
}
