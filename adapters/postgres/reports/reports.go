// Package reports answers the application's ReportsReadModel port (internal/app/reports.go)
// from the analytics job's tables (migration 013, internal/analytics): requests by outcome and
// their service-level timers per day, company and technician. The job owns the tables and
// writes them; this package only reads them.
//
// A request's day is the date of its submission in its company's time zone, computed when the
// report is asked for: a time zone set later moves the requests of every day, as it should.
// Medians and 90th percentiles are PostgreSQL's percentile_cont over the requests that have the
// timer.
package reports

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/helpstream/helpstream/internal/app"
)

// Querier is what the read model queries: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadModel answers app.ReportsReadModel.
type ReadModel struct {
	db Querier
}

var _ app.ReportsReadModel = (*ReadModel)(nil)

// New returns the read model over db.
func New(db Querier) (*ReadModel, error) {
	if db == nil {
		return nil, errors.New("reports read model: no database")
	}
	return &ReadModel{db: db}, nil
}

// ErrPeriodTooLong is returned for a query of more than MaxDays days.
var ErrPeriodTooLong = fmt.Errorf("a report covers at most %d days", MaxDays)

// ErrPeriodReversed is returned when a query's To is before its From.
var ErrPeriodReversed = errors.New("the last day of a report is before its first")

// MaxDays bounds the days of one report: a row each, and the Days slice is built in full.
const MaxDays = 3660

// requests is the rows of a report: the requests of the companies, each with its day in its
// company's time zone, restricted to the period. $1 companies, $2 first day, $3 last day.
const requests = `WITH r AS (
	SELECT r.*, (r.submitted_at AT TIME ZONE coalesce(c.time_zone, 'UTC'))::date AS day,
		EXTRACT(EPOCH FROM r.first_assigned_at - r.submitted_at) AS to_assign,
		EXTRACT(EPOCH FROM r.first_reply_at - r.submitted_at) AS to_reply
	FROM analytics_requests r LEFT JOIN analytics_companies c ON c.company_id = r.company_id
	WHERE r.company_id = ANY($1)
		-- a day in any zone lies within a day of the UTC date (offsets are at most 14 hours):
		-- this bound lets the index on (company_id, submitted_at) find the period's rows
		AND r.submitted_at >= ($2::date - 1)::timestamp AT TIME ZONE 'UTC'
		AND r.submitted_at < ($3::date + 2)::timestamp AT TIME ZONE 'UTC'
), period AS (SELECT * FROM r WHERE day BETWEEN $2::date AND $3::date) `

// figures are the aggregate columns every group shares, scanned by scanFigures.
const figures = `count(*) FILTER (WHERE closed_at IS NULL AND assignee_id IS NULL),
	count(*) FILTER (WHERE closed_at IS NULL AND assignee_id IS NOT NULL),
	count(*) FILTER (WHERE closed_at IS NOT NULL AND first_reply_at IS NOT NULL),
	count(*) FILTER (WHERE closed_at IS NOT NULL AND first_reply_at IS NULL),
	count(to_assign), percentile_cont(0.5) WITHIN GROUP (ORDER BY to_assign), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_assign),
	count(to_reply), percentile_cont(0.5) WITHIN GROUP (ORDER BY to_reply), percentile_cont(0.9) WITHIN GROUP (ORDER BY to_reply),
	count(*) FILTER (WHERE breached_assign), count(*) FILTER (WHERE breached_first_reply), count(*) FILTER (WHERE breached_resolution)`

// Report answers app.ReportsReadModel.
func (m *ReadModel) Report(ctx context.Context, q app.ReportQuery) (app.Report, error) {
	from := dateOf(q.From)
	to := dateOf(q.To)
	if to.Before(from) {
		return app.Report{}, ErrPeriodReversed
	}
	days := int(to.Sub(from)/(24*time.Hour)) + 1
	if days > MaxDays {
		return app.Report{}, ErrPeriodTooLong
	}
	report := app.Report{Days: make([]app.ReportDay, days), Companies: []app.ReportGroup{}, Technicians: []app.ReportGroup{}}
	for i := range report.Days {
		report.Days[i].Day = from.AddDate(0, 0, i)
	}
	var upTo *time.Time
	if err := m.db.QueryRow(ctx, `SELECT max_occurred_at FROM analytics_state`).Scan(&upTo); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return app.Report{}, fmt.Errorf("reports: read the analytics state: %w", notReady(err))
	}
	if upTo != nil {
		report.UpTo = upTo.UTC()
	}
	if len(q.Companies) == 0 {
		return report, nil
	}
	args := []any{q.Companies, from.Format(time.DateOnly), to.Format(time.DateOnly)}

	rows, err := m.db.Query(ctx, requests+`SELECT day, `+figures+` FROM period GROUP BY day ORDER BY day`, args...)
	if err != nil {
		return app.Report{}, fmt.Errorf("reports: figures per day: %w", notReady(err))
	}
	err = scan(rows, func(row pgx.Rows) error {
		var day time.Time
		var f groupFigures
		if err := row.Scan(append([]any{&day}, f.targets()...)...); err != nil {
			return err
		}
		i := int(dateOf(day).Sub(from) / (24 * time.Hour))
		if i < 0 || i >= days {
			return fmt.Errorf("day %s is outside the period", day.Format(time.DateOnly))
		}
		report.Days[i].Outcomes, report.Days[i].TimeToAssign, report.Days[i].TimeToFirstReply = f.outcomes(), f.assign.durations(), f.reply.durations()
		report.Days[i].Breaches = f.breaches
		return nil
	})
	if err != nil {
		return app.Report{}, fmt.Errorf("reports: figures per day: %w", err)
	}

	report.Companies, err = m.groups(ctx, requests+`SELECT p.company_id, coalesce(c.name, ''), `+figures+`
		FROM period p LEFT JOIN analytics_companies c ON c.company_id = p.company_id
		GROUP BY p.company_id, c.name ORDER BY c.name, p.company_id`, args)
	if err != nil {
		return app.Report{}, fmt.Errorf("reports: figures per company: %w", err)
	}
	report.Technicians, err = m.groups(ctx, requests+`SELECT p.last_technician_id, coalesce(t.name, ''), `+figures+`
		FROM period p LEFT JOIN analytics_technicians t ON t.technician_id = p.last_technician_id
		WHERE p.last_technician_id IS NOT NULL
		GROUP BY p.last_technician_id, t.name ORDER BY t.name, p.last_technician_id`, args)
	if err != nil {
		return app.Report{}, fmt.Errorf("reports: figures per technician: %w", err)
	}
	return report, nil
}

func (m *ReadModel) groups(ctx context.Context, sql string, args []any) ([]app.ReportGroup, error) {
	rows, err := m.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, notReady(err)
	}
	out := []app.ReportGroup{}
	err = scan(rows, func(row pgx.Rows) error {
		var g app.ReportGroup
		var f groupFigures
		if err := row.Scan(append([]any{&g.ID, &g.Name}, f.targets()...)...); err != nil {
			return err
		}
		g.Outcomes, g.TimeToAssign, g.TimeToFirstReply = f.outcomes(), f.assign.durations(), f.reply.durations()
		g.Breaches = f.breaches
		out = append(out, g)
		return nil
	})
	return out, err
}

// groupFigures is one row's figures columns.
type groupFigures struct {
	waiting, open, answered, unanswered int
	assign, reply                       timer
	breaches                            app.ReportBreaches
}

func (f *groupFigures) targets() []any {
	return []any{&f.waiting, &f.open, &f.answered, &f.unanswered,
		&f.assign.count, &f.assign.median, &f.assign.p90,
		&f.reply.count, &f.reply.median, &f.reply.p90,
		&f.breaches.Assign, &f.breaches.FirstReply, &f.breaches.Resolution}
}

func (f *groupFigures) outcomes() app.ReportOutcomes {
	return app.ReportOutcomes{Waiting: f.waiting, Open: f.open, Answered: f.answered, Unanswered: f.unanswered}
}

// timer is a count and two percentiles in seconds, NULL when no request had the timer.
type timer struct {
	count       int
	median, p90 *float64
}

func (t timer) durations() app.Durations {
	d := app.Durations{Count: t.count}
	if t.count > 0 && t.median != nil && t.p90 != nil {
		d.Median, d.P90 = seconds(*t.median), seconds(*t.p90)
	}
	return d
}

// seconds turns PostgreSQL's epoch seconds into a Duration, to the microsecond timestamptz keeps.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1e6)) * time.Microsecond
}

func scan(rows pgx.Rows, each func(pgx.Rows) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return notReady(rows.Err())
}

// dateOf is a time's date, at midnight UTC (its clock and location ignored, as ReportQuery says).
func dateOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// notReady turns "the table does not exist" (the database is not migrated to 013 yet) into
// app.ErrReadModelNotReady; other errors pass through.
func notReady(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
		return fmt.Errorf("%w: %w", app.ErrReadModelNotReady, err)
	}
	return err
}
