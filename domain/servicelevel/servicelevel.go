// Package servicelevel is a company's service levels (issue 16): how soon its requests must be
// assigned, get a technician's first reply and be resolved, counted in its business hours, in
// its time zone. It holds the rules and the calendar, pure; the process manager
// internal/servicelevel runs the clocks on the log.
package servicelevel

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Target is one clock a request runs against a company's targets.
type Target string

const (
	// TargetAssign runs from the submission until a technician is assigned.
	TargetAssign Target = "assign"
	// TargetFirstReply runs from the submission until a technician's first chat message.
	TargetFirstReply Target = "first_reply"
	// TargetResolution runs from the submission until the request is closed.
	TargetResolution Target = "resolution"
)

// Targets are every target, in the order reports and lists show them.
var Targets = []Target{TargetAssign, TargetFirstReply, TargetResolution}

// ErrUnknownTarget is returned for a target name that is none of Targets.
var ErrUnknownTarget = errors.New(`a service-level target is "assign", "first_reply" or "resolution"`)

// ParseTarget reads a target's name.
func ParseTarget(s string) (Target, error) {
	t := Target(s)
	if !slices.Contains(Targets, t) {
		return "", ErrUnknownTarget
	}
	return t, nil
}

// Limits of a target's duration.
const (
	MinTarget = time.Second
	MaxTarget = 365 * 24 * time.Hour
)

// Goals are a company's targets: how much business time each clock may run. A zero goal is no
// target.
type Goals struct {
	Assign     time.Duration
	FirstReply time.Duration
	Resolution time.Duration
}

// ErrInvalidGoal is returned for a target outside MinTarget..MaxTarget or not whole seconds.
var ErrInvalidGoal = errors.New("a service-level target is a whole number of seconds from 1 second to 365 days, or none")

// Validate checks each goal that is set.
func (g Goals) Validate() error {
	for _, t := range Targets {
		d := g.Of(t)
		if d == 0 {
			continue
		}
		if d < MinTarget || d > MaxTarget || d%time.Second != 0 {
			return fmt.Errorf("%s: %w", t, ErrInvalidGoal)
		}
	}
	return nil
}

// Of returns the goal of one target, zero when it has none.
func (g Goals) Of(t Target) time.Duration {
	switch t {
	case TargetAssign:
		return g.Assign
	case TargetFirstReply:
		return g.FirstReply
	case TargetResolution:
		return g.Resolution
	}
	return 0
}

// Clock is a wall-clock time of day, in minutes since midnight: 0 (00:00) to 1440 (24:00).
type Clock int

// Day's bounds as clocks.
const (
	Midnight Clock = 0
	EndOfDay Clock = 24 * 60
)

// ErrInvalidClock is returned for a time of day that is not HH:MM from 00:00 to 24:00.
var ErrInvalidClock = errors.New("a time of day is HH:MM, from 00:00 to 24:00")

// ParseClock reads "HH:MM".
func ParseClock(s string) (Clock, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, ErrInvalidClock
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, ErrInvalidClock
	}
	return Clock(hh*60 + mm), nil
}

func (c Clock) String() string { return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60) }

// Opening is one interval a company is open on a weekday, From (included) to To (excluded),
// wall-clock times in the company's time zone.
type Opening struct {
	Day  time.Weekday
	From Clock
	To   Clock
}

func (o Opening) String() string {
	return fmt.Sprintf("%s %s-%s", strings.ToLower(o.Day.String()[:3]), o.From, o.To)
}

// Hours are a company's weekly business hours. No opening at all means always open (24/7).
type Hours struct {
	// days holds each weekday's openings, sorted, not overlapping.
	days [7][]Opening
}

// Errors of NewHours and ParseOpening.
var (
	ErrInvalidOpening  = errors.New(`business hours are "<day> HH:MM-HH:MM" with day mon..sun and the start before the end`)
	ErrOverlapping     = errors.New("business hours of one day must not overlap")
	ErrTooManyOpenings = errors.New("at most 8 business-hour intervals a day")
)

const maxOpeningsADay = 8

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseDay reads a weekday's three-letter English name, "mon".."sun", or its full name.
func ParseDay(s string) (time.Weekday, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, name := range dayNames {
		if s == name || s == strings.ToLower(time.Weekday(i).String()) {
			return time.Weekday(i), nil
		}
	}
	return 0, ErrInvalidOpening
}

// ParseOpening reads "mon 09:00-17:00".
func ParseOpening(s string) (Opening, error) {
	day, span, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return Opening{}, ErrInvalidOpening
	}
	d, err := ParseDay(day)
	if err != nil {
		return Opening{}, err
	}
	from, to, ok := strings.Cut(strings.TrimSpace(span), "-")
	if !ok {
		return Opening{}, ErrInvalidOpening
	}
	f, err := ParseClock(from)
	if err != nil {
		return Opening{}, fmt.Errorf("%w: %w", ErrInvalidOpening, err)
	}
	t, err := ParseClock(to)
	if err != nil {
		return Opening{}, fmt.Errorf("%w: %w", ErrInvalidOpening, err)
	}
	o := Opening{Day: d, From: f, To: t}
	return o, o.validate()
}

func (o Opening) validate() error {
	if o.Day < time.Sunday || o.Day > time.Saturday || o.From < Midnight || o.To > EndOfDay || o.From >= o.To {
		return ErrInvalidOpening
	}
	return nil
}

// NewHours returns the business hours of the openings, in any order; none is 24/7.
func NewHours(openings []Opening) (Hours, error) {
	var h Hours
	for _, o := range openings {
		if err := o.validate(); err != nil {
			return Hours{}, err
		}
		h.days[o.Day] = append(h.days[o.Day], o)
	}
	for d := range h.days {
		day := h.days[d]
		if len(day) > maxOpeningsADay {
			return Hours{}, ErrTooManyOpenings
		}
		slices.SortFunc(day, func(a, b Opening) int { return int(a.From - b.From) })
		for i := 1; i < len(day); i++ {
			if day[i].From < day[i-1].To {
				return Hours{}, ErrOverlapping
			}
		}
	}
	return h, nil
}

// AlwaysOpen reports whether the hours are 24/7 (no opening set).
func (h Hours) AlwaysOpen() bool {
	for _, d := range h.days {
		if len(d) > 0 {
			return false
		}
	}
	return true
}

// Openings lists the openings, Sunday first, each day's in order.
func (h Hours) Openings() []Opening {
	var all []Opening
	for _, d := range h.days {
		all = append(all, d...)
	}
	return all
}

// Equal reports whether both hours open at the same times.
func (h Hours) Equal(o Hours) bool { return slices.Equal(h.Openings(), o.Openings()) }

// ParseOpenings reads one line of business hours: "mon 09:00-17:00", or a range of days,
// "mon-fri 09:00-17:00" (the days from the first to the last, Monday first: "sat-mon" is
// Saturday, Sunday and Monday).
func ParseOpenings(s string) ([]Opening, error) {
	days, span, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok {
		return nil, ErrInvalidOpening
	}
	first, last, isRange := strings.Cut(days, "-")
	if !isRange {
		o, err := ParseOpening(s)
		if err != nil {
			return nil, err
		}
		return []Opening{o}, nil
	}
	from, err := ParseDay(first)
	if err != nil {
		return nil, err
	}
	to, err := ParseDay(last)
	if err != nil {
		return nil, err
	}
	var out []Opening
	for d := from; ; d = (d + 1) % 7 {
		o, err := ParseOpening(dayNames[d] + " " + strings.TrimSpace(span))
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		if d == to {
			return out, nil
		}
	}
}
