package app_test

import (
	"errors"
	"testing"
	"time"

	"github.com/helpstream/helpstream/internal/app"
)

// A report's period: both days given, the last not before the first, at most MaxReportDays
// days (both ends counted, whatever their clocks and locations).
func TestReportRequestValidate(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	paris, _ := time.LoadLocation("Europe/Paris")
	for name, tc := range map[string]struct {
		q    app.ReportRequest
		days int
		want error
	}{
		"one day":               {app.ReportRequest{From: day(2026, 11, 10), To: day(2026, 11, 10)}, 1, nil},
		"a leap year":           {app.ReportRequest{From: day(2028, 1, 1), To: day(2028, 12, 31)}, 366, nil},
		"one day too many":      {app.ReportRequest{From: day(2027, 1, 1), To: day(2028, 1, 2)}, 367, app.ErrReportPeriodTooLong},
		"reversed":              {app.ReportRequest{From: day(2026, 11, 10), To: day(2026, 11, 9)}, 0, app.ErrReportPeriodReversed},
		"clocks do not count":   {app.ReportRequest{From: time.Date(2026, 11, 10, 23, 59, 0, 0, time.UTC), To: time.Date(2026, 11, 10, 0, 1, 0, 0, paris)}, 1, nil},
		"no first day":          {app.ReportRequest{To: day(2026, 11, 10)}, 0, app.ErrReportPeriodMissing},
		"no last day":           {app.ReportRequest{From: day(2026, 11, 10)}, 0, app.ErrReportPeriodMissing},
		"a year, 365 days back": {app.ReportRequest{From: day(2025, 11, 11), To: day(2026, 11, 10)}, 365, nil},
	} {
		t.Run(name, func(t *testing.T) {
			if err := tc.q.Validate(); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("Validate() = %v, want %v", err, tc.want)
			}
			if tc.want == nil && tc.q.Days() != tc.days {
				t.Fatalf("Days() = %d, want %d", tc.q.Days(), tc.days)
			}
		})
	}
}
