package request

import (
	"errors"
	"strconv"
	"time"

	"github.com/helpstream/helpstream/domain/eventlog"
	"github.com/helpstream/helpstream/domain/servicelevel"
)

// Errors of RecordBreach.
var (
	ErrAlreadyBreached = errors.New("the request breached that service-level target already")
	ErrInvalidBreach   = errors.New("a breach names its target, when it was due and the target's seconds (1 or more)")
)

// Has reports whether the target (a servicelevel.Target's name) is breached.
func (b Breaches) Has(target string) bool {
	switch servicelevel.Target(target) {
	case servicelevel.TargetAssign:
		return b.Assign
	case servicelevel.TargetFirstReply:
		return b.FirstReply
	case servicelevel.TargetResolution:
		return b.Resolution
	}
	return false
}

// List returns the breached targets' names, in servicelevel.Targets' order.
func (b Breaches) List() []string {
	var list []string
	for _, t := range servicelevel.Targets {
		if b.Has(string(t)) {
			list = append(list, string(t))
		}
	}
	return list
}

// With returns the breaches with the target's (a servicelevel.Target's name); an unknown
// target changes nothing.
func (b Breaches) With(target string) Breaches {
	switch servicelevel.Target(target) {
	case servicelevel.TargetAssign:
		b.Assign = true
	case servicelevel.TargetFirstReply:
		b.FirstReply = true
	case servicelevel.TargetResolution:
		b.Resolution = true
	}
	return b
}

// BreachSortKey is the key a request that breached n targets sorts by in the list: n, one digit
// ("0" to "3").
func BreachSortKey(n int) string { return strconv.Itoa(min(max(n, 0), 9)) }

// Breached returns the service-level targets the request breached.
func (r *Request) Breached() Breaches { return r.state.Breached }

func (r *Request) canRecordBreach(target string, dueAt time.Time, targetSeconds int64) error {
	if _, err := servicelevel.ParseTarget(target); err != nil {
		return err
	}
	if dueAt.IsZero() || targetSeconds < 1 {
		return ErrInvalidBreach
	}
	if r.state.Closed {
		return ErrClosed
	}
	if r.state.Breached.Has(target) {
		return ErrAlreadyBreached
	}
	return nil
}

// RecordBreach records that the open request ran past a service-level target of its company
// (the system's command, issue 16): at most once per target; a closed request records none.
func (r *Request) RecordBreach(target servicelevel.Target, dueAt time.Time, goal time.Duration) error {
	seconds := int64(goal / time.Second)
	return r.decide(r.canRecordBreach(string(target), dueAt, seconds), func() (eventlog.Event, error) {
		return &SLABreached{Target: string(target), DueAt: dueAt.UTC(), TargetSeconds: seconds}, nil
	})
}
