package analytics_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/reports"
	"github.com/helpstream/helpstream/domain/servicelevel"
	"github.com/helpstream/helpstream/internal/app"
)

// The job folds request.sla_breached into each request's breach columns, in any order and any
// redelivery, and the Reports read model counts them per target, day and company.
func TestBreachesAreCounted(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	base := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	s := newScript("", base)
	a := s.techs[0]
	late := s.at(0).submit()
	s.at(20*time.Minute).do(late, func() error {
		return late.RecordBreach(servicelevel.TargetAssign, base.Add(15*time.Minute), 15*time.Minute)
	})
	s.at(25*time.Minute).do(late, func() error { return late.Assign(a) })
	s.at(70*time.Minute).do(late, func() error {
		return late.RecordBreach(servicelevel.TargetFirstReply, base.Add(time.Hour), time.Hour)
	})
	onTime := s.at(time.Minute).submit()
	s.at(2*time.Minute).do(onTime, func() error { return onTime.Assign(a) })

	events := s.events()
	slices.Reverse(events)                   // a broker may deliver them in any order
	fold(t, ctx, db, events[:len(events)/2]) // in any batches
	fold(t, ctx, db, events)                 // and again: each message once
	var assign, reply, resolution bool
	if err := db.QueryRow(ctx, `SELECT breached_assign, breached_first_reply, breached_resolution FROM analytics_requests WHERE request_id = $1`,
		late.ID()).Scan(&assign, &reply, &resolution); err != nil {
		t.Fatal(err)
	}
	if !assign || !reply || resolution {
		t.Fatalf("the late request's breaches: assign %v, first reply %v, resolution %v", assign, reply, resolution)
	}
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	company := lateCompany(t, ctx, db, late.ID())
	got, err := rm.Report(ctx, app.ReportQuery{Companies: []uuid.UUID{company}, From: base, To: base})
	if err != nil {
		t.Fatal(err)
	}
	want := app.ReportBreaches{Assign: 1, FirstReply: 1}
	if len(got.Days) != 1 || got.Days[0].Breaches != want || got.Days[0].Outcomes.Total() != 2 {
		t.Fatalf("the day's breaches: %+v, want %+v of 2 requests", got.Days, want)
	}
	if len(got.Companies) != 1 || got.Companies[0].Breaches != want || len(got.Technicians) != 1 || got.Technicians[0].Breaches != want {
		t.Fatalf("per company %+v, per technician %+v; want %+v", got.Companies, got.Technicians, want)
	}
}

func lateCompany(t *testing.T, ctx context.Context, db *pgxpool.Pool, id uuid.UUID) uuid.UUID {
	t.Helper()
	var company uuid.UUID
	if err := db.QueryRow(ctx, `SELECT company_id FROM analytics_requests WHERE request_id = $1`, id).Scan(&company); err != nil {
		t.Fatal(err)
	}
	return company
}
