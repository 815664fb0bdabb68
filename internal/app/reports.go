package app

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// ReportsReadModel answers the console's Reports page (issue 14) from the analytics job's
// tables (`helpstream analytics run`): service-level figures per day, company and technician.
// It knows nothing of viewers: the App scopes every query to the caller's companies first.
type ReportsReadModel interface {
	// Report returns the figures of the requests submitted on the days [q.From, q.To] (dates
	// in each request's company's time zone, both ends included) in q.Companies.
	Report(ctx context.Context, q ReportQuery) (Report, error)
}

// ReportQuery is a Reports query after the App resolved the caller.
type ReportQuery struct {
	// Companies are the companies whose requests count: the caller's access, narrowed to one
	// company when the caller asked for it. Empty reports nothing.
	Companies []uuid.UUID
	// From and To are the first and last day reported, as dates (their clock and location are
	// ignored: a day is a date in each company's time zone).
	From, To time.Time
}

// Report is what the Reports page shows.
type Report struct {
	// Days holds one row per day from From to To, in order, days without requests included.
	Days []ReportDay `json:"days"`
	// Companies holds one row per company of the query that had requests in the period, by name.
	Companies []ReportGroup `json:"companies"`
	// Technicians holds one row per technician who handled a request of the period (the
	// assignee when it closed, or the last one while it is open), by name.
	Technicians []ReportGroup `json:"technicians"`
	// UpTo is the time of the last event the analytics tables include (zero when they hold
	// nothing): figures are as of then.
	UpTo time.Time `json:"up_to"`
}

// ReportDay is one day's requests by outcome and their service-level timers.
type ReportDay struct {
	// Day is the date, at midnight UTC.
	Day time.Time `json:"day"`
	// Outcomes counts the requests submitted that day by where they stand now.
	Outcomes ReportOutcomes `json:"outcomes"`
	// TimeToAssign runs from submission to the first assignment; TimeToFirstReply from
	// submission to the first message a technician sent.
	TimeToAssign     Durations `json:"time_to_assign"`
	TimeToFirstReply Durations `json:"time_to_first_reply"`
	// Breaches counts the requests that breached each service-level target.
	Breaches ReportBreaches `json:"breaches"`
}

// ReportBreaches counts requests that breached each service-level target of their company
// (request.sla_breached, issue 16).
type ReportBreaches struct {
	Assign     int `json:"assign"`
	FirstReply int `json:"first_reply"`
	Resolution int `json:"resolution"`
}

// Total is the number of breaches counted (a request that breached two targets counts twice).
func (b ReportBreaches) Total() int { return b.Assign + b.FirstReply + b.Resolution }

// ReportOutcomes counts requests by where they stand.
type ReportOutcomes struct {
	// Waiting: not assigned yet. Open: assigned and not closed. Answered: closed after a
	// technician replied. Unanswered: closed without any technician reply.
	Waiting    int `json:"waiting"`
	Open       int `json:"open"`
	Answered   int `json:"answered"`
	Unanswered int `json:"unanswered"`
}

// Total is the number of requests counted.
func (o ReportOutcomes) Total() int { return o.Waiting + o.Open + o.Answered + o.Unanswered }

// ReportGroup is the figures of one company's or one technician's requests over the period.
type ReportGroup struct {
	ID               uuid.UUID      `json:"id"`
	Name             string         `json:"name"`
	Outcomes         ReportOutcomes `json:"outcomes"`
	TimeToAssign     Durations      `json:"time_to_assign"`
	TimeToFirstReply Durations      `json:"time_to_first_reply"`
	Breaches         ReportBreaches `json:"breaches"`
}

// Durations summarise a timer over some requests: how many had it, its median and its 90th
// percentile (continuous, as PostgreSQL's percentile_cont). Median and P90 are zero when Count
// is.
type Durations struct {
	Count  int           `json:"count"`
	Median time.Duration `json:"median_ns"`
	P90    time.Duration `json:"p90_ns"`
}
