package routing

import (
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/domain/eventlog"
)

// CapacityOverride is one technician's capacity, instead of the company's default.
type CapacityOverride struct {
	TechnicianID uuid.UUID `json:"technician_id"`
	Capacity     int       `json:"capacity"`
}

// PolicySet: an administrator set a company's routing policy. The first one starts the stream.
type PolicySet struct {
	CompanyID       uuid.UUID `json:"company_id"`
	Mode            Mode      `json:"mode"`
	DefaultCapacity int       `json:"default_capacity"`
	// Capacities are the per-technician overrides, ordered by technician ID.
	Capacities []CapacityOverride `json:"capacities,omitempty"`
	// AwayLimitSeconds is the away limit in seconds; 0: no reassignment.
	AwayLimitSeconds int64 `json:"away_limit_seconds"`
}

// Settings returns what the event sets.
func (e *PolicySet) Settings() Settings {
	s := Settings{Mode: e.Mode, DefaultCapacity: e.DefaultCapacity, AwayLimit: time.Duration(e.AwayLimitSeconds) * time.Second}
	if len(e.Capacities) > 0 {
		s.Capacities = make(map[uuid.UUID]int, len(e.Capacities))
		for _, c := range e.Capacities {
			s.Capacities[c.TechnicianID] = c.Capacity
		}
	}
	return s
}

func (*PolicySet) EventType() string { return "routing.policy_set.v1" }

// Codec reads and writes every routing event.
func Codec() *eventlog.Codec {
	return eventlog.NewCodec(func() eventlog.Event { return &PolicySet{} })
}

// StreamPrefix starts every routing policy's stream name.
const StreamPrefix = "routing-"

// Stream is the stream of a company's routing policy.
func Stream(companyID uuid.UUID) string { return StreamPrefix + companyID.String() }
