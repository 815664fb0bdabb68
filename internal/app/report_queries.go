package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// AccessReport is an auditor's read of the Reports figures (the console's page, its CSV, the
// API's report): its Params say the period and the company asked for.
const AccessReport AccessKind = "report"

// MaxReportDays bounds the period of one report: a year, leap day included. A report answers a
// row per day, and the page draws a bar per day.
const MaxReportDays = 366

// Errors of a report's period and its reader.
var (
	// ErrReportPeriodReversed is returned when the last day asked for is before the first.
	ErrReportPeriodReversed = errors.New("the report's last day (to) is before its first day (from)")
	// ErrReportPeriodTooLong is returned for a period of more than MaxReportDays days.
	ErrReportPeriodTooLong = fmt.Errorf("a report covers at most %d days", MaxReportDays)
	// ErrReportPeriodMissing is returned when the first or the last day is not given.
	ErrReportPeriodMissing = errors.New("a report needs its first day (from) and its last day (to)")
	// ErrStaffOnly is returned when someone other than a technician or an auditor (a customer)
	// asks for a report.
	ErrStaffOnly = errors.New("reports are for technicians and auditors")
)

// ReportRequest asks for the Reports figures of a period.
type ReportRequest struct {
	// From and To are the first and last day reported, both included; only their dates count
	// (a day is a date in each request's company's time zone).
	From, To time.Time
	// Company, when set, narrows the report to one of the viewer's companies; zero reports all
	// of them.
	Company uuid.UUID
}

// Days is how many days the request's period holds (To − From + 1, by date).
func (q ReportRequest) Days() int {
	return int(dateOnly(q.To).Sub(dateOnly(q.From))/(24*time.Hour)) + 1
}

// Validate checks the period: both days given, To not before From, at most MaxReportDays days.
func (q ReportRequest) Validate() error {
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return ErrReportPeriodMissing
	case dateOnly(q.To).Before(dateOnly(q.From)):
		return ErrReportPeriodReversed
	case q.Days() > MaxReportDays:
		return ErrReportPeriodTooLong
	}
	return nil
}

// params are the report's parameters as the access log keeps them.
func (q ReportRequest) params() map[string]string {
	p := map[string]string{"from": dateOnly(q.From).Format(time.DateOnly), "to": dateOnly(q.To).Format(time.DateOnly)}
	if q.Company != uuid.Nil {
		p["company"] = q.Company.String()
	}
	return p
}

// dateOnly is a time's date at midnight UTC, its clock and location dropped.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Report answers the Reports figures of the companies v may see (R2): a technician's
// companies, an auditor's grants (every company when they hold all). A company v may not see
// does not exist for them (ErrNotFound), as everywhere else. An auditor's report is recorded in
// the access log before it is read; a customer gets ErrStaffOnly. The figures come from the
// analytics job's tables, as of Report.UpTo.
func (qs *Queries) Report(ctx context.Context, v Viewer, q ReportRequest) (Report, error) {
	if err := q.Validate(); err != nil {
		return Report{}, err
	}
	if !v.IsTechnician() && !v.IsAuditor() {
		return Report{}, ErrStaffOnly
	}
	if qs.reports == nil {
		return Report{}, fmt.Errorf("report: %w", ErrNoReadModel)
	}
	companies, err := qs.reportCompanies(ctx, v, q.Company)
	if err != nil {
		return Report{}, err
	}
	if v.IsAuditor() {
		if err := qs.recordAccess(ctx, v, AccessEntry{Kind: AccessReport, Params: q.params()}); err != nil {
			return Report{}, err
		}
	}
	rq := ReportQuery{Companies: companies, From: dateOnly(q.From), To: dateOnly(q.To)}
	report, err := qs.reports.Report(ctx, rq)
	if err != nil {
		return Report{}, fmt.Errorf("report %s to %s: %w", rq.From.Format(time.DateOnly), rq.To.Format(time.DateOnly), err)
	}
	return report, nil
}

// reportCompanies are the companies a report of v's counts: theirs, or the one they asked for
// when it is theirs (ErrNotFound otherwise).
func (qs *Queries) reportCompanies(ctx context.Context, v Viewer, company uuid.UUID) ([]uuid.UUID, error) {
	if v.IsAuditor() {
		au, err := qs.viewerAuditor(ctx, v.AuditorID)
		if err != nil {
			return nil, err
		}
		if company != uuid.Nil && !au.CanRead(company) {
			return nil, fmt.Errorf("report of company %s: %w", company, ErrNotFound)
		}
		return qs.auditorListing(ctx, au, company)
	}
	tech, err := qs.viewerTechnician(ctx, v.TechnicianID)
	if err != nil {
		return nil, err
	}
	switch {
	case company == uuid.Nil:
		return tech.Companies(), nil
	case tech.HasAccess(company):
		return []uuid.UUID{company}, nil
	}
	return nil, fmt.Errorf("report of company %s: %w", company, ErrNotFound)
}
