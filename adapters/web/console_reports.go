package web

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/helpstream/helpstream/adapters/web/chart"
	"github.com/helpstream/helpstream/internal/app"
)

// The Reports page (issue 14): requests per day by outcome and the service-level timers per
// day, company and technician, from the analytics job's tables, for technicians and auditors
// and scoped to their companies by the App. Each chart is inline SVG drawn on the server
// (adapters/web/chart) with its numbers in a table beside it, and the same numbers download
// as CSV.

// defaultReportDays is the period the page shows when the address names none: the last 30
// days, today included.
const defaultReportDays = 30

// reportForm is the period and company a Reports address asks for.
type reportForm struct {
	From, To time.Time
	Company  uuid.UUID
}

// errReportForm is a Reports address whose parameters do not parse; its text says which.
type errReportForm struct{ msg string }

func (e errReportForm) Error() string { return e.msg }

// parseReportForm reads from, to (YYYY-MM-DD) and company (an ID, or empty for all) from the
// address; a missing day takes its default (today; 30 days before the last).
func parseReportForm(q url.Values, today time.Time) (reportForm, error) {
	for _, name := range []string{"from", "to", "company", "part"} {
		if len(q[name]) > 1 {
			return reportForm{}, errReportForm{"The address gives " + name + " more than once."}
		}
	}
	f := reportForm{To: today}
	if s := strings.TrimSpace(q.Get("to")); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return reportForm{}, errReportForm{"The last day (to) must be a date written YYYY-MM-DD, such as " + today.Format(time.DateOnly) + "."}
		}
		f.To = d
	}
	f.From = f.To.AddDate(0, 0, -(defaultReportDays - 1))
	if s := strings.TrimSpace(q.Get("from")); s != "" {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return reportForm{}, errReportForm{"The first day (from) must be a date written YYYY-MM-DD, such as " + f.From.Format(time.DateOnly) + "."}
		}
		f.From = d
	}
	if s := strings.TrimSpace(q.Get("company")); s != "" {
		id, err := uuid.Parse(s)
		if err != nil {
			return reportForm{}, errReportForm{"The company is not one of the list: choose it again from the form."}
		}
		f.Company = id
	}
	return f, nil
}

// query is the form as the App's report query, and values as an address's query string.
func (f reportForm) query() app.ReportRequest {
	return app.ReportRequest{From: f.From, To: f.To, Company: f.Company}
}

func (f reportForm) values() url.Values {
	v := url.Values{"from": {f.From.Format(time.DateOnly)}, "to": {f.To.Format(time.DateOnly)}}
	if f.Company != uuid.Nil {
		v.Set("company", f.Company.String())
	}
	return v
}

// report runs the form's query for s's viewer; what the caller did wrong (a period reversed or
// too long, an address that does not parse) is an errReportForm.
func (h *Handler) report(r *http.Request, s app.Session) (reportForm, app.Report, error) {
	f, err := parseReportForm(r.URL.Query(), time.Now().UTC())
	if err != nil {
		return f, app.Report{}, err
	}
	rep, err := h.queries.Report(r.Context(), h.viewer(r, s), f.query())
	switch {
	case errors.Is(err, app.ErrReportPeriodReversed):
		return f, rep, errReportForm{"The last day (to) is before the first day (from): choose a period that runs forward."}
	case errors.Is(err, app.ErrReportPeriodTooLong):
		return f, rep, errReportForm{fmt.Sprintf("A report covers at most %d days: choose a shorter period.", app.MaxReportDays)}
	case errors.Is(err, app.ErrReportPeriodMissing):
		return f, rep, errReportForm{"A report needs its first and last day."}
	}
	return f, rep, err
}

// reportFailed answers a Reports address that failed: the 400 page for what the caller asked
// wrong, the 404 page for a company they may not see (R2), the failure page otherwise.
func (h *Handler) reportFailed(w http.ResponseWriter, r *http.Request, err error) {
	var bad errReportForm
	if errors.As(err, &bad) {
		h.errorPage(w, r, http.StatusBadRequest, bad.msg)
		return
	}
	h.pageFailed(w, r, err, "There is no such company, or it is not one of yours.")
}

type reportsData struct {
	page
	From, To string
	// Companies are the options of the company selector, "All my companies" first.
	Companies []option
	// Scope says whose requests the report counts, in words.
	Scope string
	Days  int
	UpTo  time.Time
	// Total counts the period's requests; Breaches their service-level breaches.
	Total    int
	Breaches app.ReportBreaches
	// The charts, drawn.
	PerDay, ToAssign, ToReply, PerCompany, PerTechnician template.HTML
	DayRows                                              []reportDayRow
	CompanyRows, TechnicianRows                          []reportGroupRow
	// CSV are the download links: the days, the companies, the technicians.
	CSVDays, CSVCompanies, CSVTechnicians string
}

type reportDayRow struct {
	Day      string
	Outcomes app.ReportOutcomes
	Assign   durationCells
	Reply    durationCells
	Breaches app.ReportBreaches
}

type reportGroupRow struct {
	Name     string
	Outcomes app.ReportOutcomes
	Assign   durationCells
	Reply    durationCells
	Breaches app.ReportBreaches
}

// durationCells are a timer's median and 90th percentile as a table shows them: in words, and
// in seconds for machines (data-seconds), or "—" when no request had the timer.
type durationCells struct {
	Median, P90       string
	MedianSec, P90Sec string
	Count             int
}

func cells(d app.Durations) durationCells {
	if d.Count == 0 {
		return durationCells{Median: "—", P90: "—"}
	}
	return durationCells{Median: chart.Duration(d.Median), P90: chart.Duration(d.P90),
		MedianSec: seconds(d.Median), P90Sec: seconds(d.P90), Count: d.Count}
}

// seconds writes a duration in seconds, to the millisecond, without trailing zeros.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(math.Round(d.Seconds()*1000)/1000, 'f', -1, 64)
}

// reportsPage is the Reports page.
func (h *Handler) reportsPage(w http.ResponseWriter, r *http.Request, s app.Session) {
	ctx := r.Context()
	f, rep, err := h.report(r, s)
	if err != nil {
		h.reportFailed(w, r, err)
		return
	}
	data := reportsData{page: page{Title: "Reports · Support Center", Body: "console", CSRF: s.CSRFToken, ReturnTo: r.URL.RequestURI(), Section: "reports"},
		From: f.From.Format(time.DateOnly), To: f.To.Format(time.DateOnly), Days: len(rep.Days), UpTo: rep.UpTo}
	var mine []uuid.UUID
	all := false
	if s.IsAuditor() {
		p, err := h.queries.AuditorProfile(ctx, s.AuditorID)
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		data.Auditor, mine, all = auditorHeader(p), p.Companies, p.AllCompanies
	} else {
		p, err := h.queries.Profile(ctx, s.TechnicianID)
		if err != nil {
			h.failed(w, r, err, false, "")
			return
		}
		data.Tech, mine = header(p), p.Companies
	}
	names, err := h.queries.Companies(ctx)
	if err != nil {
		h.failed(w, r, err, false, "")
		return
	}
	data.Companies, data.Scope = companyOptions(names, mine, all, f.Company)

	labels := make([]string, len(rep.Days))
	outcomes := make([][]float64, 4)
	timers := make([][]float64, 4)
	for i, d := range rep.Days {
		labels[i] = d.Day.Format("Jan 2")
		o := d.Outcomes
		for j, n := range []int{o.Waiting, o.Open, o.Answered, o.Unanswered} {
			outcomes[j] = append(outcomes[j], float64(n))
		}
		for j, v := range timerValues(d.TimeToAssign, d.TimeToFirstReply) {
			timers[j] = append(timers[j], v)
		}
		data.Total += o.Total()
		data.Breaches.Assign += d.Breaches.Assign
		data.Breaches.FirstReply += d.Breaches.FirstReply
		data.Breaches.Resolution += d.Breaches.Resolution
		data.DayRows = append(data.DayRows, reportDayRow{Day: d.Day.Format(time.DateOnly), Outcomes: o, Assign: cells(d.TimeToAssign), Reply: cells(d.TimeToFirstReply), Breaches: d.Breaches})
	}
	period := fmt.Sprintf("%s to %s", data.From, data.To)
	data.PerDay = chart.StackedBars(chart.Chart{ID: "chart-per-day", Title: "Requests per day by outcome",
		Desc:       fmt.Sprintf("%d requests submitted from %s, stacked by where they stand: waiting, open, answered, unanswered. The table beside it holds the numbers.", data.Total, period),
		Categories: labels, Unit: chart.Count, Series: []chart.Series{
			{Name: "Waiting", Class: "s-waiting", Values: outcomes[0]}, {Name: "Open", Class: "s-open", Values: outcomes[1]},
			{Name: "Answered", Class: "s-answered", Values: outcomes[2]}, {Name: "Unanswered", Class: "s-unanswered", Values: outcomes[3]}}})
	data.ToAssign = chart.Lines(chart.Chart{ID: "chart-to-assign", Title: "Time to assign per day",
		Desc:       "Median and 90th percentile of the time from submission to the first assignment, per day of submission, " + period + ".",
		Categories: labels, Unit: chart.Seconds, Series: []chart.Series{
			{Name: "Median", Class: "s-median", Values: timers[0]}, {Name: "90th percentile", Class: "s-p90", Values: timers[1]}}})
	data.ToReply = chart.Lines(chart.Chart{ID: "chart-to-reply", Title: "Time to first reply per day",
		Desc:       "Median and 90th percentile of the time from submission to a technician's first message, per day of submission, " + period + ".",
		Categories: labels, Unit: chart.Seconds, Series: []chart.Series{
			{Name: "Median", Class: "s-median", Values: timers[2]}, {Name: "90th percentile", Class: "s-p90", Values: timers[3]}}})
	data.CompanyRows, data.PerCompany = groupChart("chart-per-company", "company", rep.Companies, period)
	data.TechnicianRows, data.PerTechnician = groupChart("chart-per-technician", "technician", rep.Technicians, period)
	v := f.values()
	data.CSVDays = "/console/reports.csv?" + v.Encode()
	v.Set("part", "companies")
	data.CSVCompanies = "/console/reports.csv?" + v.Encode()
	v.Set("part", "technicians")
	data.CSVTechnicians = "/console/reports.csv?" + v.Encode()
	h.render(w, r, http.StatusOK, "reports", data)
}

// timerValues are a day's or a group's timers as chart values, in seconds, NaN for none:
// time to assign median and p90, time to first reply median and p90.
func timerValues(assign, reply app.Durations) [4]float64 {
	v := func(d app.Durations, p time.Duration) float64 {
		if d.Count == 0 {
			return math.NaN()
		}
		return p.Seconds()
	}
	return [4]float64{v(assign, assign.Median), v(assign, assign.P90), v(reply, reply.Median), v(reply, reply.P90)}
}

// groupChart draws the timers of the companies or the technicians as bars, and their table rows.
func groupChart(id, what string, groups []app.ReportGroup, period string) ([]reportGroupRow, template.HTML) {
	names := make([]string, len(groups))
	values := make([][]float64, 4)
	rows := make([]reportGroupRow, 0, len(groups))
	for i, g := range groups {
		names[i] = cmp.Or(g.Name, g.ID.String())
		for j, v := range timerValues(g.TimeToAssign, g.TimeToFirstReply) {
			values[j] = append(values[j], v)
		}
		rows = append(rows, reportGroupRow{Name: names[i], Outcomes: g.Outcomes, Assign: cells(g.TimeToAssign), Reply: cells(g.TimeToFirstReply), Breaches: g.Breaches})
	}
	svg := chart.Bars(chart.Chart{ID: id, Title: "Time to assign and to first reply per " + what,
		Desc:       fmt.Sprintf("For each of %d %s rows, the median and 90th percentile of the time to assign and of the time to first reply of the requests submitted %s.", len(groups), what, period),
		Categories: names, Unit: chart.Seconds, Series: []chart.Series{
			{Name: "Assign, median", Class: "s-assign", Values: values[0]}, {Name: "Assign, p90", Class: "s-assign-p90", Values: values[1]},
			{Name: "First reply, median", Class: "s-reply", Values: values[2]}, {Name: "First reply, p90", Class: "s-reply-p90", Values: values[3]}}})
	return rows, svg
}

// companyOptions are the company selector's options, by name, and the report's scope in words.
func companyOptions(names map[uuid.UUID]string, mine []uuid.UUID, all bool, selected uuid.UUID) ([]option, string) {
	if all {
		mine = mine[:0:0]
		for id := range names {
			mine = append(mine, id)
		}
	}
	opts := []option{{Value: "", Label: "All my companies", Selected: selected == uuid.Nil}}
	var companies []option
	scope := "all your companies"
	for _, id := range mine {
		name := cmp.Or(names[id], id.String())
		companies = append(companies, option{Value: id.String(), Label: name, Selected: id == selected})
		if id == selected {
			scope = name
		}
	}
	slices.SortFunc(companies, func(a, b option) int { return cmp.Or(cmp.Compare(a.Label, b.Label), cmp.Compare(a.Value, b.Value)) })
	return append(opts, companies...), scope
}

// reportsCSV downloads the report's numbers: one row per day, or (part=companies,
// part=technicians) one row per company or technician.
func (h *Handler) reportsCSV(w http.ResponseWriter, r *http.Request, s app.Session) {
	part := cmp.Or(r.URL.Query().Get("part"), "days")
	if part != "days" && part != "companies" && part != "technicians" {
		h.errorPage(w, r, http.StatusBadRequest, "The download is of days, companies or technicians (part=days, part=companies or part=technicians).")
		return
	}
	f, rep, err := h.report(r, s)
	if err != nil {
		h.reportFailed(w, r, err)
		return
	}
	var b strings.Builder
	cw := csv.NewWriter(&b)
	timerHeader := []string{"assign_count", "assign_median_s", "assign_p90_s", "first_reply_count", "first_reply_median_s", "first_reply_p90_s"}
	outcomeHeader := []string{"waiting", "open", "answered", "unanswered", "total"}
	breachHeader := []string{"breached_assign", "breached_first_reply", "breached_resolution"}
	switch part {
	case "days":
		_ = cw.Write(slices.Concat([]string{"day"}, outcomeHeader, timerHeader, breachHeader))
		for _, d := range rep.Days {
			_ = cw.Write(slices.Concat([]string{d.Day.Format(time.DateOnly)}, outcomeCells(d.Outcomes), timerCells(d.TimeToAssign, d.TimeToFirstReply), breachCells(d.Breaches)))
		}
	default:
		groups := rep.Companies
		if part == "technicians" {
			groups = rep.Technicians
		}
		_ = cw.Write(slices.Concat([]string{"id", "name"}, outcomeHeader, timerHeader, breachHeader))
		for _, g := range groups {
			_ = cw.Write(slices.Concat([]string{g.ID.String(), csvText(g.Name)}, outcomeCells(g.Outcomes), timerCells(g.TimeToAssign, g.TimeToFirstReply), breachCells(g.Breaches)))
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.failed(w, r, err, false, "")
		return
	}
	name := fmt.Sprintf("helpstream-report-%s-%s-to-%s.csv", part, f.From.Format(time.DateOnly), f.To.Format(time.DateOnly))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write([]byte(b.String()))
}

// breachCells are the service-level breaches per target (issue 16).
func breachCells(b app.ReportBreaches) []string {
	return []string{strconv.Itoa(b.Assign), strconv.Itoa(b.FirstReply), strconv.Itoa(b.Resolution)}
}

func outcomeCells(o app.ReportOutcomes) []string {
	return []string{strconv.Itoa(o.Waiting), strconv.Itoa(o.Open), strconv.Itoa(o.Answered), strconv.Itoa(o.Unanswered), strconv.Itoa(o.Total())}
}

// timerCells are the timers' counts and percentiles in seconds; empty when no request had one.
func timerCells(assign, reply app.Durations) []string {
	var out []string
	for _, d := range []app.Durations{assign, reply} {
		c := cells(d)
		out = append(out, strconv.Itoa(d.Count), c.MedianSec, c.P90Sec)
	}
	return out
}

// csvText guards a name against formula injection: a spreadsheet runs a cell that starts
// with =, +, -, @ (or a tab or carriage return before one), so such a name gets a leading
// apostrophe, which spreadsheets show as text.
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
