package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/helpstream/helpstream/internal/app"
)

// defaultReportDays is the period of a report that names none: the last 30 days, today
// included, as the console's Reports page shows.
const defaultReportDays = 30

// report answers the Reports figures (issue 14) of the companies the viewer may see: requests
// per day by outcome and the service-level timers per day, company and technician, from the
// analytics job's tables. An auditor's report is recorded in the access log first.
func (a *API) report(_ http.ResponseWriter, r *http.Request, viewer app.Viewer) (int, any, error) {
	q := r.URL.Query()
	for key, values := range q {
		switch key {
		case "from", "to", "company":
		default:
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("unknown query parameter %q", key))
		}
		if len(values) > 1 {
			return 0, nil, errorf(http.StatusBadRequest, "unknown_parameter", fmt.Sprintf("query parameter %q is given more than once", key))
		}
	}
	rq := app.ReportRequest{To: time.Now().UTC()}
	var err error
	if v := q.Get("to"); v != "" {
		if rq.To, err = dateParam(v, "to"); err != nil {
			return 0, nil, err
		}
	}
	rq.From = rq.To.AddDate(0, 0, -(defaultReportDays - 1))
	if v := q.Get("from"); v != "" {
		if rq.From, err = dateParam(v, "from"); err != nil {
			return 0, nil, err
		}
	}
	if rq.Company, err = idParam(q, "company"); err != nil {
		return 0, nil, err
	}
	return queryAnswer(a.queries.Report(r.Context(), viewer, rq))
}

// dateParam reads a date, YYYY-MM-DD.
func dateParam(v, name string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, errorf(http.StatusUnprocessableEntity, "invalid", name+" must be a date like 2026-01-02")
	}
	return t, nil
}
