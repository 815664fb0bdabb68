package reports_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/reports"
	"github.com/helpstream/helpstream/internal/app"
)

// row is one analytics_requests row as the job would have written it.
type row struct {
	id, company             uuid.UUID
	submitted               time.Time
	assignAfter, replyAfter time.Duration // 0: never
	closed                  bool
	assignee, last          uuid.UUID // uuid.Nil: none
	// breached are the service-level targets the request breached (issue 16).
	breached app.ReportBreaches // each 0 or 1
}

func insert(t *testing.T, db *pgxpool.Pool, rows ...row) {
	t.Helper()
	for _, r := range rows {
		opt := func(d time.Duration) *time.Time {
			if d == 0 {
				return nil
			}
			at := r.submitted.Add(d)
			return &at
		}
		var closed *time.Time
		if r.closed {
			at := r.submitted.Add(time.Hour)
			closed = &at
		}
		id := func(u uuid.UUID) *uuid.UUID {
			if u == uuid.Nil {
				return nil
			}
			return &u
		}
		_, err := db.Exec(context.Background(), `INSERT INTO analytics_requests
			(request_id, company_id, submitted_at, first_assigned_at, first_reply_at, closed_at, assignee_id, last_technician_id,
			 breached_assign, breached_first_reply, breached_resolution)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			r.id, id(r.company), r.submitted, opt(r.assignAfter), opt(r.replyAfter), closed, id(r.assignee), id(r.last),
			r.breached.Assign > 0, r.breached.FirstReply > 0, r.breached.Resolution > 0)
		if err != nil {
			t.Fatalf("insert %v: %v", r.id, err)
		}
	}
}

func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := db.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	d, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return d
}

func durations(count int, median, p90 time.Duration) app.Durations {
	return app.Durations{Count: count, Median: median, P90: p90}
}

func TestReportGroupsRequestsByDayInTheirCompanysTimeZone(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	acme, beta, other := uuid.New(), uuid.New(), uuid.New()
	alice, bob := uuid.New(), uuid.New()
	exec(t, db, `INSERT INTO analytics_companies (company_id, name, time_zone) VALUES ($1, 'Acme', 'Europe/Paris'), ($2, 'Beta', 'UTC'), ($3, 'Other', 'UTC')`, acme, beta, other)
	exec(t, db, `INSERT INTO analytics_technicians (technician_id, name) VALUES ($1, 'Alice'), ($2, 'Bob')`, alice, bob)
	exec(t, db, `UPDATE analytics_state SET max_occurred_at = $1`, at("2026-03-02T13:00:00Z"))
	insert(t, db,
		// 23:30 UTC is 00:30 the next day in Paris: Acme's request counts on 2 March
		row{id: uuid.New(), company: acme, submitted: at("2026-03-01T23:30:00Z"), assignAfter: time.Minute, replyAfter: 2 * time.Minute, closed: true, last: alice},
		// 22:30 UTC is 23:30 in Paris: still 1 March, waiting
		row{id: uuid.New(), company: acme, submitted: at("2026-03-01T22:30:00Z"), breached: app.ReportBreaches{Assign: 1}},
		// Beta is on UTC: 1 March, open, never answered yet
		row{id: uuid.New(), company: beta, submitted: at("2026-03-01T23:30:00Z"), assignAfter: 30 * time.Second, assignee: bob, last: bob,
			breached: app.ReportBreaches{Assign: 1, FirstReply: 1}},
		row{id: uuid.New(), company: beta, submitted: at("2026-03-02T10:00:00Z"), assignAfter: 90 * time.Second, closed: true, last: bob},
		row{id: uuid.New(), company: acme, submitted: at("2026-03-02T12:00:00Z"), assignAfter: 3 * time.Minute, replyAfter: 5 * time.Minute, closed: true, last: alice,
			breached: app.ReportBreaches{Resolution: 1}},
		// another company's breach counts for nobody here
		row{id: uuid.New(), company: other, submitted: at("2026-03-02T12:30:00Z"), breached: app.ReportBreaches{Assign: 1, FirstReply: 1, Resolution: 1}},
		// another company's request, and one whose submission the job has not seen yet
		row{id: uuid.New(), company: other, submitted: at("2026-03-02T12:00:00Z"), assignAfter: time.Second, last: alice, assignee: alice},
		row{id: uuid.New(), assignAfter: time.Second, last: alice, assignee: alice},
	)

	got, err := rm.Report(ctx, app.ReportQuery{Companies: []uuid.UUID{acme, beta}, From: day("2026-03-01"), To: day("2026-03-03")})
	if err != nil {
		t.Fatal(err)
	}
	wantDays := []app.ReportDay{
		{Day: day("2026-03-01"), Outcomes: app.ReportOutcomes{Waiting: 1, Open: 1}, TimeToAssign: durations(1, 30*time.Second, 30*time.Second),
			Breaches: app.ReportBreaches{Assign: 2, FirstReply: 1}},
		{Day: day("2026-03-02"), Outcomes: app.ReportOutcomes{Answered: 2, Unanswered: 1},
			// 60, 90, 180 s: median 90, p90 90 + 0.8 × 90 = 162; replies 120, 300 s
			TimeToAssign: durations(3, 90*time.Second, 162*time.Second), TimeToFirstReply: durations(2, 210*time.Second, 282*time.Second),
			Breaches: app.ReportBreaches{Resolution: 1}},
		{Day: day("2026-03-03")},
	}
	if len(got.Days) != len(wantDays) {
		t.Fatalf("days = %+v, want %+v", got.Days, wantDays)
	}
	for i := range wantDays {
		if got.Days[i] != wantDays[i] {
			t.Errorf("day %d = %+v, want %+v", i, got.Days[i], wantDays[i])
		}
	}
	wantCompanies := []app.ReportGroup{
		{ID: acme, Name: "Acme", Outcomes: app.ReportOutcomes{Waiting: 1, Answered: 2},
			TimeToAssign: durations(2, 120*time.Second, 168*time.Second), TimeToFirstReply: durations(2, 210*time.Second, 282*time.Second),
			Breaches: app.ReportBreaches{Assign: 1, Resolution: 1}},
		{ID: beta, Name: "Beta", Outcomes: app.ReportOutcomes{Open: 1, Unanswered: 1}, TimeToAssign: durations(2, 60*time.Second, 84*time.Second),
			Breaches: app.ReportBreaches{Assign: 1, FirstReply: 1}},
	}
	assertGroups(t, "companies", got.Companies, wantCompanies)
	wantTechnicians := []app.ReportGroup{
		{ID: alice, Name: "Alice", Outcomes: app.ReportOutcomes{Answered: 2},
			TimeToAssign: durations(2, 120*time.Second, 168*time.Second), TimeToFirstReply: durations(2, 210*time.Second, 282*time.Second),
			Breaches: app.ReportBreaches{Resolution: 1}},
		{ID: bob, Name: "Bob", Outcomes: app.ReportOutcomes{Open: 1, Unanswered: 1}, TimeToAssign: durations(2, 60*time.Second, 84*time.Second),
			Breaches: app.ReportBreaches{Assign: 1, FirstReply: 1}},
	}
	assertGroups(t, "technicians", got.Technicians, wantTechnicians)
	if !got.UpTo.Equal(at("2026-03-02T13:00:00Z")) {
		t.Errorf("up to = %v", got.UpTo)
	}

	// one company, one day: the day boundary follows Acme's time zone
	got, err = rm.Report(ctx, app.ReportQuery{Companies: []uuid.UUID{acme}, From: day("2026-03-01"), To: day("2026-03-01")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Days) != 1 || got.Days[0].Outcomes != (app.ReportOutcomes{Waiting: 1}) || len(got.Technicians) != 0 {
		t.Errorf("Acme on 1 March = %+v", got)
	}
}

func assertGroups(t *testing.T, what string, got, want []app.ReportGroup) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s[%d] = %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

func TestReportWithoutCompaniesHasEmptyDays(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rm.Report(context.Background(), app.ReportQuery{From: day("2026-01-30"), To: day("2026-02-02")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Days) != 4 || got.Days[3].Day != day("2026-02-02") || got.Days[0].Outcomes.Total() != 0 {
		t.Errorf("days = %+v", got.Days)
	}
	if got.Companies == nil || got.Technicians == nil || len(got.Companies)+len(got.Technicians) != 0 || !got.UpTo.IsZero() {
		t.Errorf("report = %+v, want empty groups and no time", got)
	}
}

func TestReportRefusesBadPeriods(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		want     error
	}{
		{"reversed", day("2026-03-02"), day("2026-03-01"), reports.ErrPeriodReversed},
		{"too long", day("2000-01-01"), day("2026-03-01"), reports.ErrPeriodTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rm.Report(context.Background(), app.ReportQuery{Companies: []uuid.UUID{uuid.New()}, From: tc.from, To: tc.to})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReportBeforeTheTablesExistIsNotReady(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	exec(t, db, `DROP TABLE analytics_state`)
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rm.Report(context.Background(), app.ReportQuery{From: day("2026-03-01"), To: day("2026-03-01")})
	if !errors.Is(err, app.ErrReadModelNotReady) {
		t.Errorf("err = %v, want ErrReadModelNotReady", err)
	}
}
