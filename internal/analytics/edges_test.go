package analytics_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/helpstream/helpstream/adapters/postgres/pgtest"
	"github.com/helpstream/helpstream/adapters/postgres/reports"
	"github.com/helpstream/helpstream/domain/request"
	"github.com/helpstream/helpstream/internal/analytics"
	"github.com/helpstream/helpstream/internal/app"
)

// export runs the CSV export and returns its rows keyed by request ID, each a column → value map.
func export(t *testing.T, ctx context.Context, db *pgxpool.Pool, f analytics.ExportFilter) map[string]map[string]string {
	t.Helper()
	var buf bytes.Buffer
	n, err := analytics.Export(ctx, db, &buf, f)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(records[0], analytics.ExportColumns) {
		t.Fatalf("header %v", records[0])
	}
	if len(records)-1 != n {
		t.Fatalf("%d rows written, Export says %d", len(records)-1, n)
	}
	out := map[string]map[string]string{}
	for _, rec := range records[1:] {
		m := map[string]string{}
		for i, c := range analytics.ExportColumns {
			m[c] = rec[i]
		}
		out[m["request_id"]] = m
	}
	return out
}

// script is a world whose clock the test sets: each step happens at base+offset.
type script struct {
	*world
	base time.Time
}

func newScript(zone string, base time.Time) *script {
	return &script{world: newWorld(42, base, 2, zone), base: base}
}

func (s *script) at(d time.Duration) *script {
	s.clock = s.base.Add(d)
	return s
}

func (s *script) do(r *request.Request, step func() error) {
	if err := step(); err != nil {
		panic(err)
	}
	s.flush(r)
}

func check(t *testing.T, row map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if row[k] != v {
			t.Errorf("%s = %q, want %q (row %v)", k, row[k], v, row)
		}
	}
}

func TestServiceLevelEdgeCases(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	base := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	s := newScript("", base)
	a, b := s.techs[0], s.techs[1]

	// unassigned, then reassigned to someone else: time to assign is the FIRST assignment
	reassigned := s.at(0).submit()
	s.at(5*time.Minute).do(reassigned, func() error { return reassigned.Assign(a) })
	s.at(10*time.Minute).do(reassigned, func() error { return reassigned.Unassign(a) })
	s.at(20*time.Minute).do(reassigned, func() error { return reassigned.Assign(b) })

	// transferred: the transfer is counted, the new assignee is the last technician
	transferred := s.at(0).submit()
	s.at(time.Minute).do(transferred, func() error { return transferred.Assign(a) })
	s.at(2*time.Minute).do(transferred, func() error { return transferred.Transfer(a, b) })
	s.at(3*time.Minute).do(transferred, func() error { return transferred.JoinChat(b) })
	s.at(3*time.Minute).do(transferred, func() error { return transferred.RequestScreenSharing(b) })

	// the customer writes before any technician: the first REPLY is the technician's message
	customerFirst := s.at(0).submit()
	s.at(30*time.Second).do(customerFirst, func() error { return customerFirst.SendCustomerMessage(uuid.New(), "anyone?") })
	s.at(2*time.Minute).do(customerFirst, func() error { return customerFirst.Assign(a) })
	s.at(3*time.Minute).do(customerFirst, func() error { return customerFirst.JoinChat(a) })
	s.at(4*time.Minute).do(customerFirst, func() error { return customerFirst.SendTechnicianMessage(a, uuid.New(), "hello") })
	s.at(9*time.Minute).do(customerFirst, func() error { return customerFirst.Close(a) }) // ends the chat too

	// closed without a reply: unanswered, no time to first reply, handle time to the closing
	silent := s.at(0).submit()
	s.at(time.Minute).do(silent, func() error { return silent.Assign(b) })
	s.at(6*time.Minute).do(silent, func() error { return silent.Close(b) })

	// never assigned: waiting
	waiting := s.at(0).submit()

	fold(t, ctx, db, s.events())
	rows := export(t, ctx, db, analytics.ExportFilter{})
	check(t, rows[reassigned.ID().String()], map[string]string{
		"time_to_assign_s": "300.000000", "outcome": "open", "assignee_id": b.ID().String(), "last_technician_id": b.ID().String(),
		"last_technician": "Tech B", "transfers": "0", "time_to_first_reply_s": "", "handle_time_s": "",
		"first_assigned_at": "2026-05-04T09:05:00Z",
	})
	check(t, rows[transferred.ID().String()], map[string]string{
		"time_to_assign_s": "60.000000", "transfers": "1", "escalations": "1", "assignee_id": b.ID().String(), "outcome": "open",
	})
	check(t, rows[customerFirst.ID().String()], map[string]string{
		"customer_messages": "1", "technician_messages": "1", "time_to_first_reply_s": "240.000000",
		"first_reply_at": "2026-05-04T09:04:00Z", "time_to_assign_s": "120.000000", "outcome": "answered",
		// handle time: the first assignment (09:02) to the end of the chat (09:09, with the closing)
		"chat_ended_at": "2026-05-04T09:09:00Z", "handle_time_s": "420.000000",
	})
	check(t, rows[silent.ID().String()], map[string]string{
		"outcome": "unanswered", "time_to_first_reply_s": "", "first_reply_at": "", "chat_ended_at": "",
		"handle_time_s": "300.000000", "closed_at": "2026-05-04T09:06:00Z", "last_technician_id": b.ID().String(),
	})
	check(t, rows[waiting.ID().String()], map[string]string{
		"outcome": "waiting", "time_to_assign_s": "", "assignee_id": "", "last_technician_id": "", "day": "2026-05-04",
	})
}

// TestDaysAcrossMidnightInTheCompanysTimeZone: a request's day is its submission's date in its
// company's time zone, the time zone set whenever (before or after the requests, delivered in
// any order), and a DST change on the way.
func TestDaysAcrossMidnightInTheCompanysTimeZone(t *testing.T) {
	db, _ := pgtest.NewDatabase(t)
	ctx := context.Background()
	rm, err := reports.New(db)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		zone      string
		submitted time.Time
		day       string
	}{
		{"", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), "2026-03-28"},                   // UTC
		{"Europe/Paris", time.Date(2026, 3, 28, 23, 30, 0, 0, time.UTC), "2026-03-29"},       // 00:30 CET
		{"Europe/Paris", time.Date(2026, 3, 29, 21, 59, 0, 0, time.UTC), "2026-03-29"},       // 23:59 CEST, after the change
		{"Europe/Paris", time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC), "2026-03-30"},        // 00:00 CEST
		{"America/Los_Angeles", time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC), "2026-03-28"},  // 23:00 PDT
		{"Asia/Tokyo", time.Date(2026, 3, 28, 15, 0, 0, 0, time.UTC), "2026-03-29"},          // 00:00 JST
		{"Pacific/Kiritimati", time.Date(2026, 3, 28, 10, 30, 0, 0, time.UTC), "2026-03-29"}, // 00:30 at UTC+14
		{"Etc/GMT+12", time.Date(2026, 3, 29, 11, 59, 0, 0, time.UTC), "2026-03-28"},         // 23:59 at UTC-12
	}
	for _, tc := range cases {
		t.Run(tc.zone+tc.submitted.Format(time.RFC3339), func(t *testing.T) {
			truncate(t, ctx, db)
			s := newScript(tc.zone, tc.submitted.Add(-time.Hour))
			r := s.at(time.Hour).submit()
			s.at(time.Hour+time.Minute).do(r, func() error { return r.Assign(s.techs[0]) })
			events := s.events()
			slices.Reverse(events) // the time zone comes last: the days move all the same
			for _, e := range events {
				fold(t, ctx, db, []analytics.Event{e})
			}
			rows := export(t, ctx, db, analytics.ExportFilter{})
			check(t, rows[r.ID().String()], map[string]string{"day": tc.day, "submitted_at": tc.submitted.Format(time.RFC3339Nano)})

			day, _ := time.Parse(time.DateOnly, tc.day)
			report, err := rm.Report(ctx, app.ReportQuery{Companies: []uuid.UUID{s.company}, From: day.AddDate(0, 0, -1), To: day.AddDate(0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			if got := []int{report.Days[0].Outcomes.Total(), report.Days[1].Outcomes.Total(), report.Days[2].Outcomes.Total()}; !slices.Equal(got, []int{0, 1, 0}) {
				t.Errorf("requests the day before, on and after %s: %v, want [0 1 0]", tc.day, got)
			}
			if d := report.Days[1].TimeToAssign; d.Count != 1 || d.Median != time.Minute {
				t.Errorf("time to assign on %s = %+v", tc.day, d)
			}

			// the export's filter reads the same days
			if got := export(t, ctx, db, analytics.ExportFilter{From: day, To: day, Company: s.company}); len(got) != 1 {
				t.Errorf("export of %s: %d rows, want 1", tc.day, len(got))
			}
			if got := export(t, ctx, db, analytics.ExportFilter{From: day.AddDate(0, 0, 1)}); len(got) != 0 {
				t.Errorf("export from the day after: %d rows, want 0", len(got))
			}
			if got := export(t, ctx, db, analytics.ExportFilter{Company: uuid.New()}); len(got) != 0 {
				t.Errorf("export of another company: %d rows, want 0", len(got))
			}
		})
	}
}
